package io.sluice.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code sluice infer-schema FILE}: guesses a table schema from a sample of an NDJSON, CSV or JSON array file. */
@Command(name = "infer-schema", header = "Guess a table schema from an NDJSON, CSV or JSON array file.",
    sortOptions = false,
    description = {"Reads up to --sample rows of an NDJSON, CSV or JSON array file (gzipped or not) and prints a"
        + " guessed Aito table"
        + " schema as JSON on stdout (warnings on stderr). Needs no server.",
        "If no schema can be guessed (unreadable file, no row objects in the sample), nothing is printed on"
            + " stdout and the exit code is non-zero, so a redirect never leaves an empty schema behind.",
        "Example: sluice infer-schema data.ndjson.gz > schema.json && curl -X PUT $SLUICE/api/v1/schema/t"
            + " -H \"x-api-key: $KEY\" -d @schema.json"})
final class InferSchemaCommand implements Callable<Integer> {
  static final int DEFAULT_SAMPLE = 10_000;

  @Spec
  CommandSpec spec;

  @Parameters(index = "0", paramLabel = "FILE",
      description = "NDJSON, CSV or JSON array file, plain or gzip (detected by content).")
  Path file;

  @Option(names = "--format", paramLabel = "F", defaultValue = "auto", description = InputFormat.HELP)
  InputFormat format;

  @Option(names = "--table", paramLabel = "T",
      description = "Print {\"schema\": {T: …}} (the shape of GET /api/v1/schema) instead of the table schema alone.")
  String table;

  @Option(names = "--sample", paramLabel = "N", defaultValue = "" + DEFAULT_SAMPLE,
      description = "Rows to read from the start of the file (default: ${DEFAULT-VALUE}).")
  int sample;

  @Option(names = "--analyzer", paramLabel = "A",
      description = "Analyzer of every Text column (e.g. standard, english, whitespace). Default: guessed.")
  String analyzer;

  @Override
  public Integer call() throws IOException {
    requireReadable(spec, file);
    if (sample < 1) {
      throw new ParameterException(spec.commandLine(), "--sample must be at least 1");
    }
    InputFormat resolved = format.resolve(file);
    SchemaInference inference = infer(file, resolved, sample);
    PrintWriter err = spec.commandLine().getErr();
    String formatWarning = InputFormat.autoWarning(file, format, resolved);
    if (formatWarning != null) {
      err.println("warning: " + formatWarning);
    }
    inference.warnings().forEach(w -> err.println("warning: " + w));
    if (inference.rows() == 0) {
      // Nothing on stdout: `infer-schema f > schema.json` must not leave a valid-looking empty schema behind.
      err.println("sluice: cannot infer a schema: no " + resolved.rows() + " in the first " + sample
          + " lines of '" + file + "'");
      err.flush();
      return SluiceCli.FAILED;
    }
    err.println("inferred from " + inference.rows() + " row(s) of " + file);
    err.flush();
    ObjectNode schema = inference.tableSchema(analyzer);
    if (table != null) {
      ObjectNode wrapped = ApiClient.JSON.createObjectNode();
      wrapped.putObject("schema").set(table, schema);
      schema = wrapped;
    }
    PrintWriter out = spec.commandLine().getOut();
    out.println(SluiceCli.pretty(schema));
    out.flush();
    return SluiceCli.OK;
  }

  /**
   * Feeds the first {@code sampleRows} non-blank records of the file (read as {@code format}, not auto) to a
   * {@link SchemaInference}; a file damaged after some rows gives a guess from those rows, with a warning.
   */
  static SchemaInference infer(Path file, InputFormat format, long sampleRows) throws IOException {
    SchemaInference inference = new SchemaInference();
    long[] line = {0};
    try (BufferedReader in = NdjsonFiles.openLines(file)) {
      format.sample(in, sampleRows, inference, line);
    } catch (IOException e) {
      if (inference.rows() == 0) {
        throw new IOException("cannot read '" + file + "': " + e.getMessage(), e);
      }
      inference.damaged(line[0] + 1, e.getMessage());
    }
    return inference;
  }

  static void requireReadable(CommandSpec spec, Path file) {
    if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
      throw new ParameterException(spec.commandLine(), "cannot read file '" + file + "'");
    }
  }
}
