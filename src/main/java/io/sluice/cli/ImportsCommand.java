package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice imports [TABLE]}: the server's import jobs, newest first. */
@Command(name = "imports", header = "List the import jobs, newest first.", sortOptions = false,
    description = {"Lists the import jobs the server holds (GET /api/v1/data/_imports), newest first: id, table,"
        + " status, rows stored, lines rejected, and when it was created (UTC). Finished jobs are kept for"
        + " import.keep.seconds.",
        "Example: sluice imports customers"})
final class ImportsCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", arity = "0..1", paramLabel = "TABLE", description = "Only this table's jobs.")
  String table;

  @Option(names = "--limit", paramLabel = "N", defaultValue = "100",
      description = "Most jobs to fetch, 1 to 1000 (default: ${DEFAULT-VALUE}); TABLE filters them.")
  int limit;

  @Option(names = "--json", description = "Print the server's answer, filtered by TABLE, instead of text.")
  boolean json;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    if (limit < 1 || limit > 1000) {
      throw new ParameterException(spec.commandLine(), "--limit must be from 1 to 1000");
    }
    ApiClient client = api.client(spec, root.env);
    JsonNode answer = client.get("/api/v1/data/_imports?limit=" + limit);
    ArrayNode imports = ApiClient.JSON.createArrayNode();
    for (JsonNode job : answer.path("imports")) {
      if (table == null || table.equals(job.path("table").asText())) {
        imports.add(job);
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(SluiceCli.pretty(ApiClient.JSON.createObjectNode().set("imports", imports)));
      out.flush();
      return SluiceCli.OK;
    }
    if (imports.isEmpty()) {
      spec.commandLine().getErr()
          .println(table == null ? "no import jobs" : "no import jobs for table '" + table + "'");
      spec.commandLine().getErr().flush();
      return SluiceCli.OK;
    }
    TextTable text = new TextTable("ID", "TABLE", "STATUS", "ROWS", "FAILED", "CREATED");
    for (JsonNode job : imports) {
      JsonNode status = job.path("status");
      text.add(job.path("id").asText(), job.path("table").asText(), status.path("phase").asText("?"),
          String.format(Locale.ROOT, "%,d", status.path("completedCount").asLong()),
          String.format(Locale.ROOT, "%,d", status.path("failedCount").asLong()),
          when(job.path("createdAt").asText("")));
    }
    text.print(out);
    return SluiceCli.OK;
  }

  /** 2026-01-02T03:04:05.678Z → 2026-01-02 03:04:05 (UTC, to the second). */
  static String when(String instant) {
    String text = instant.replace('T', ' ');
    int dot = text.indexOf('.');
    return dot > 0 ? text.substring(0, dot) : text.replace("Z", "");
  }
}
