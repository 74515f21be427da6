package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice cancel JOB}: DELETE /api/v1/data/{table}/file/{id}. */
@Command(name = "cancel", header = "Cancel an import job that has not finished.", sortOptions = false,
    description = {"Cancels an import job (DELETE /api/v1/data/{table}/file/{id}, a Sluice extension) and waits"
        + " until it has ended. A job not yet running imports nothing; a running one stops, and the rows of the"
        + " batches it had committed stay stored (the summary says how many). The job then shows as"
        + " Cancelled, \"import cancelled\".",
        "Example: sluice cancel 0b7e2c55-8f5a-4d3e-a0a1-52c1f4a0d6b2 (ids: sluice imports)"})
final class CancelCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "JOB",
      description = "The import job's id (printed by import, listed by imports).")
  String id;

  @Option(names = "--table", paramLabel = "T", description = "The job's table. Default: looked up in the import list.")
  String table;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ApiClient client = api.client(spec, root.env);
    String jobTable = table != null ? table : tableOf(client);
    JsonNode answer = client.send("DELETE", "/api/v1/data/" + ApiClient.segment(jobTable) + "/file/"
        + ApiClient.segment(id), null);
    JsonNode status = answer.path("status");
    String phase = status.path("phase").asText("");
    long completed = status.path("completedCount").asLong(0);
    PrintWriter out = spec.commandLine().getOut();
    if (phase.equals("Finished")) {
      out.println(String.format(Locale.ROOT, "import %s finished before the cancel took hold: %,d rows stored in"
          + " table '%s'", id, completed, jobTable));
    } else {
      out.println(String.format(Locale.ROOT, "import %s cancelled: %,d rows stored in table '%s' stay (%s)", id,
          completed, jobTable, answer.path("errors").path("message").asText(phase)));
    }
    out.flush();
    return SluiceCli.OK;
  }

  private String tableOf(ApiClient client) {
    for (JsonNode job : client.get("/api/v1/data/_imports?limit=1000").path("imports")) {
      if (id.equals(job.path("id").asText())) {
        return job.path("table").asText();
      }
    }
    throw new ApiClient.ApiException(404, "import job '" + id + "' not found in the server's import list"
        + " (sluice imports lists them)", null);
  }
}
