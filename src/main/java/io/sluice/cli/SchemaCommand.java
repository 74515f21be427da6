package io.sluice.cli;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice schema [TABLE]}: prints the database schema, or one table's. */
@Command(name = "schema", header = "Print the schema of the database or of one table.", sortOptions = false,
    description = "Prints GET /api/v1/schema (every table), or GET /api/v1/schema/{TABLE}, as indented JSON.")
final class SchemaCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "TABLE", description = "One table (default: all).")
  String table;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ApiClient client = api.client(spec, root.env);
    String path = table == null ? "/api/v1/schema" : "/api/v1/schema/" + ApiClient.segment(table);
    PrintWriter out = spec.commandLine().getOut();
    out.println(SluiceCli.pretty(client.get(path)));
    out.flush();
    return SluiceCli.OK;
  }
}
