package io.sluice.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice delete --table T --where JSON}: POST /api/v1/data/_delete. */
@Command(name = "delete", header = "Delete the rows that match a where-clause.", sortOptions = false,
    description = {"Deletes the rows of a table that match a where-clause (POST /api/v1/data/_delete) and prints"
        + " {\"total\": n}. --where '{}' deletes every row.",
        "Example: sluice delete --table users --where '{\"id\": 4}'"})
final class DeleteCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Option(names = "--table", required = true, paramLabel = "T", description = "Table to delete from.")
  String table;

  @Option(names = "--where", required = true, paramLabel = "JSON",
      description = "Where-clause (docs/api.md §4), e.g. '{\"timestamp\": {\"$lte\": 1510444800}}'; '{}' for all rows.")
  String where;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ObjectNode body = ApiClient.JSON.createObjectNode().put("from", table);
    body.set("where", JsonOptions.parseObject(spec, "--where", where));
    ApiClient client = api.client(spec, root.env);
    PrintWriter out = spec.commandLine().getOut();
    out.println(SluiceCli.pretty(client.post("/api/v1/data/_delete", body)));
    out.flush();
    return SluiceCli.OK;
  }
}
