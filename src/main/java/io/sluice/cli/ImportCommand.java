package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import me.tongfei.progressbar.ProgressBar;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code sluice import FILE --table T}: the file upload flow of docs/api.md §3 (initiate, PUT to the signed URL, trigger,
 * poll) with progress bars, against Sluice or Aito.
 */
@Command(name = "import", header = "Import an NDJSON, CSV or JSON array file (gzip or plain) with a progress bar.",
    sortOptions = false,
    description = {"Imports an NDJSON, CSV or JSON array file (gzipped or plain) into a table through the file API: initiate, PUT the"
        + " file to the signed URL, trigger, then poll until the job finishes, with a progress bar of rows, rows/s"
        + " and ETA on stderr.",
        "A plain file is gzipped to a temporary file first (Aito accepts only gzip; Sluice accepts both).",
        "The row total behind the ETA is estimated from the lines in the first --sample rows and the bytes they"
            + " take, so it is marked '≈' unless the whole file fit in the sample. Rates show '?' until they are"
            + " known.",
        "Rejected lines do not stop the import: they are reported at the end (the server keeps the last 50);"
            + " --max-rejected turns too many into exit code " + SluiceCli.TOO_MANY_REJECTED + ", --rejects saves them."
            + " Interrupting the command does not stop a triggered import: 'sluice imports' shows it, 'sluice"
            + " cancel ID' stops it (the id is printed first)."})
final class ImportCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE",
      description = "NDJSON, CSV or JSON array file, plain or gzip (detected by content).")
  Path file;

  @Option(names = "--format", paramLabel = "F", defaultValue = "auto",
      description = InputFormat.HELP + " Sent to the server unless auto (Aito knows only NDJSON).")
  InputFormat format;

  @Option(names = "--table", required = true, paramLabel = "T", description = "Table to import into.")
  String table;

  @Mixin
  ApiOptions api;

  @Option(names = "--create-schema",
      description = "If the table does not exist, create it with the schema infer-schema guesses from the file.")
  boolean createSchema;

  @Option(names = "--sample", paramLabel = "N", defaultValue = "" + InferSchemaCommand.DEFAULT_SAMPLE,
      description = "Rows read for --create-schema and for the row estimate (default: ${DEFAULT-VALUE}).")
  int sample;

  @Option(names = "--analyzer", paramLabel = "A",
      description = "With --create-schema: analyzer of every Text column. Default: guessed.")
  String analyzer;

  @Option(names = "--max-rejected", paramLabel = "N",
      description = {"Exit with code " + SluiceCli.TOO_MANY_REJECTED + " when more than N lines were rejected (the"
          + " status's failedCount). The import is not undone: the other rows stay stored. Default: no limit."})
  Long maxRejected;

  @Option(names = "--rejects", paramLabel = "FILE",
      description = {"Write the rejected lines the final status reports to FILE as NDJSON, one"
          + " {\"line\": n, \"message\": …, \"row\": …} per line (empty if none). The server keeps only the last 50"
          + " failing lines, so with more rejections FILE holds the last 50 (a warning says so)."})
  Path rejects;

  @Option(names = {"-q", "--quiet"}, description = "No progress bars.")
  boolean quiet;

  @Option(names = "--poll-interval", paramLabel = "MILLIS", defaultValue = "500",
      description = "Milliseconds between status polls (default: ${DEFAULT-VALUE}).")
  long pollMillis;

  /** Columns of an import line kept for its phase and rejected count ("Finished, 1234 rejected"). */
  private static final int IMPORT_EXTRA_WIDTH = 23;

  private PrintWriter out;
  private PrintWriter err;

  @Override
  public Integer call() throws IOException, InterruptedException {
    InferSchemaCommand.requireReadable(spec, file);
    if (sample < 1 || pollMillis < 1) {
      throw new ParameterException(spec.commandLine(), "--sample and --poll-interval must be at least 1");
    }
    if (maxRejected != null && maxRejected < 0) {
      throw new ParameterException(spec.commandLine(), "--max-rejected must be at least 0");
    }
    ApiClient client = api.client(spec, root.env);
    out = spec.commandLine().getOut();
    err = spec.commandLine().getErr();
    String tablePath = "/api/v1/data/" + ApiClient.segment(table) + "/file";

    if (createSchema) {
      createTableIfMissing(client);
    }
    NdjsonFiles.RowEstimate estimate = NdjsonFiles.estimateRows(file, sample);
    Path upload = file;
    Path temporary = null;
    try {
      if (!NdjsonFiles.isGzip(file)) {
        if (!createSchema) {
          client.get("/api/v1/schema/" + ApiClient.segment(table)); // an unknown table fails before the gzip work
        }
        temporary = Files.createTempFile("sluice-import-", ".ndjson.gz");
        temporary.toFile().deleteOnExit();
        try (ProgressBar bar = byteBar("Gzip", Files.size(file))) {
          NdjsonFiles.gzip(file, temporary, bar::stepTo);
        }
        upload = temporary;
      }
      ObjectNode initiate = ApiClient.JSON.createObjectNode();
      if (format != InputFormat.auto) {
        initiate.put("format", format.name()); // auto: no field, so the body stays the one Aito accepts
      }
      JsonNode initiated = client.post(tablePath, initiate);
      String id = initiated.path("id").asText();
      String url = initiated.path("url").asText(null);
      if (id.isEmpty() || url == null) {
        throw new ApiClient.ApiException(0, "the server's answer to POST " + tablePath + " has no id and url: "
            + initiated, null);
      }
      info("import " + id + " into table '" + table + "' from " + file);
      try (ProgressBar bar = byteBar("Upload", Files.size(upload))) {
        client.upload(url, upload, bar::stepTo);
        bar.stepTo(Files.size(upload));
      }
      client.post(tablePath + "/" + ApiClient.segment(id), ApiClient.JSON.createObjectNode());
      JsonNode status = poll(client, tablePath + "/" + ApiClient.segment(id), estimate);
      return report(id, status);
    } finally {
      if (temporary != null) {
        Files.deleteIfExists(temporary);
      }
    }
  }

  private void createTableIfMissing(ApiClient client) throws IOException {
    String schemaPath = "/api/v1/schema/" + ApiClient.segment(table);
    try {
      client.get(schemaPath);
      info("table '" + table + "' exists; keeping its schema");
      return;
    } catch (ApiClient.ApiException e) {
      if (e.status() != 404) {
        throw e;
      }
    }
    InputFormat resolved = format.resolve(file);
    String formatWarning = InputFormat.autoWarning(file, format, resolved);
    if (formatWarning != null) {
      info("warning: " + formatWarning);
    }
    SchemaInference inference = InferSchemaCommand.infer(file, resolved, sample);
    inference.warnings().forEach(w -> info("warning: " + w));
    if (inference.rows() == 0) {
      throw new ParameterException(spec.commandLine(), "cannot infer a schema: no " + resolved.rows()
          + " in the first " + sample + " lines of '" + file + "'");
    }
    ObjectNode schema = inference.tableSchema(analyzer);
    client.put(schemaPath, schema);
    info("created table '" + table + "' with the schema inferred from " + inference.rows() + " row(s): " + schema);
  }

  /** Polls the job status until finished, driving a progress bar of lines processed (stored + rejected). */
  private JsonNode poll(ApiClient client, String statusPath, NdjsonFiles.RowEstimate estimate)
      throws InterruptedException {
    int transientFailures = 0;
    ProgressLine line = new ProgressLine("rows", 1, IMPORT_EXTRA_WIDTH);
    line.estimated(!estimate.exact());
    try (ProgressBar bar = bar("Import", estimate.rows(), line)) {
      while (true) {
        JsonNode status;
        try {
          status = client.get(statusPath);
          transientFailures = 0;
        } catch (ApiClient.ApiException e) {
          if ((e.status() == 0 || e.status() >= 500 || e.status() == 429) && ++transientFailures <= 5) {
            Thread.sleep(Math.min(10_000, pollMillis * (1L << transientFailures)));
            continue;
          }
          throw e;
        }
        JsonNode s = status.path("status");
        long completed = s.path("completedCount").asLong(0);
        long failed = s.path("failedCount").asLong(0);
        long processed = completed + failed;
        String phaseNow = s.path("phase").asText("");
        boolean finished = s.path("finished").asBoolean(false) || phaseNow.startsWith("Finished")
            || phaseNow.equals("Cancelled");
        if (finished && s.path("phase").asText("").equals("Finished")) {
          bar.maxHint(processed);
        } else if (estimate.rows() > 0 && processed > bar.getMax()) {
          bar.maxHint(processed);
        }
        if (finished) {
          line.estimated(false);
        }
        bar.stepTo(processed);
        String phase = s.path("phase").asText("");
        bar.setExtraMessage((phase.equals("Running") ? "" : phase + ", ") + failed + " rejected");
        if (finished) {
          return status;
        }
        Thread.sleep(pollMillis);
      }
    }
  }

  private int report(String id, JsonNode status) throws IOException {
    JsonNode s = status.path("status");
    JsonNode errors = status.path("errors");
    String phase = s.path("phase").asText("");
    long completed = s.path("completedCount").asLong(0);
    long failed = s.path("failedCount").asLong(0);
    String duration = s.has("totalDuration")
        ? String.format(Locale.ROOT, " in %.1f s", s.get("totalDuration").asLong() / 1000.0) : "";
    String throughput = s.has("throughput") ? " (" + s.get("throughput").asLong() + " rows/s)" : "";
    String summary = String.format(Locale.ROOT, "%s: %,d rows stored in table '%s', %,d lines rejected%s%s",
        phase, completed, table, failed, duration, throughput);
    boolean ok = phase.equals("Finished");
    if (ok) {
      out.println(summary);
      out.flush();
    } else {
      err.println("sluice: import " + id + " " + summary);
    }
    if (!ok || failed > 0) {
      err.println((ok ? "warning: " : "sluice: ") + errors.path("message").asText("(no message)"));
      SluiceCli.printErrors(err, errors.path("rows"));
    }
    if (rejects != null) {
      writeRejects(errors.path("rows"), failed);
    }
    err.flush();
    if (!ok) {
      return SluiceCli.FAILED;
    }
    if (maxRejected != null && failed > maxRejected) {
      err.println(String.format(Locale.ROOT, "sluice: %,d lines rejected, more than --max-rejected %,d", failed,
          maxRejected));
      err.flush();
      return SluiceCli.TOO_MANY_REJECTED;
    }
    return SluiceCli.OK;
  }

  /** The rejected lines the status lists, as the server reported them, one JSON object per line. */
  private void writeRejects(JsonNode rows, long failed) throws IOException {
    long written = 0;
    try (var writer = Files.newBufferedWriter(rejects, java.nio.charset.StandardCharsets.UTF_8)) {
      if (rows.isArray()) {
        for (JsonNode row : rows) {
          writer.write(row.toString());
          writer.write('\n');
          written++;
        }
      }
    }
    if (written < failed) {
      err.println(String.format(Locale.ROOT, "warning: %s holds the last %,d of the %,d rejected lines (the server"
          + " keeps only the last 50)", rejects, written, failed));
    }
  }

  private ProgressBar byteBar(String task, long bytes) {
    return bar(task, bytes, bytes >= 1 << 20 ? new ProgressLine("MiB", 1 << 20, 0)
        : new ProgressLine("KiB", 1 << 10, 0));
  }

  private ProgressBar bar(String task, long max, ProgressLine line) {
    err.flush();
    return ProgressBars.create(root, err, quiet, task, max, line);
  }

  private void info(String message) {
    err.println(message);
    err.flush();
  }
}
