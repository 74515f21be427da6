package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice backup}: POST /api/v1/_backup. */
@Command(name = "backup", header = "Back up a running server (every table and the schema) while it serves.",
    sortOptions = false,
    description = {"Asks the server for a consistent point-in-time copy of every table and the schema (POST"
        + " /api/v1/_backup, a Sluice extension), written by the server under its backup.dir while writes go on."
        + " Every write acknowledged before the backup started is in it. Restore it offline with 'sluice"
        + " restore'. API keys and upload secrets generated into the data directory are not copied.",
        "Example: sluice backup --to /var/backups/sluice/nightly-2026-12-03"})
final class BackupCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Option(names = "--to", paramLabel = "DIR", description = "A new directory directly under the server's backup.dir"
      + " (a name, or an absolute path there). Default: sluice-<UTC time>-<random> under backup.dir.")
  String to;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ApiClient client = api.client(spec, root.env);
    ObjectNode body = ApiClient.JSON.createObjectNode();
    if (to != null) {
      // A bare name stays a name (resolved under backup.dir by the server); a path is sent absolute.
      body.put("to", to.contains("/") ? Path.of(to).toAbsolutePath().normalize().toString() : to);
    }
    JsonNode answer = client.post("/api/v1/_backup", body);
    long rows = 0;
    for (JsonNode count : answer.path("tables")) {
      rows += count.asLong();
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(String.format(Locale.ROOT, "backup written to %s: %d tables, %,d rows, %,d bytes",
        answer.path("path").asText(), answer.path("tables").size(), rows, answer.path("bytes").asLong()));
    out.flush();
    return SluiceCli.OK;
  }
}
