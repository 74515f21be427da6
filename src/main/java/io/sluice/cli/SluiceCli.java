package io.sluice.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.Version;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

/**
 * The {@code sluice} command line: without a subcommand (or with {@code serve}) it starts the server; the other
 * subcommands are clients of a running Sluice, or of Aito, over HTTP. Build one with {@link #commandLine}.
 */
@Command(name = "sluice", mixinStandardHelpOptions = true, scope = ScopeType.INHERIT,
    versionProvider = SluiceCli.VersionProvider.class,
    description = {"Sluice: an ingestion server that speaks Aito's data API, and a client for it.",
        "Without a command, starts the server (like 'serve')."},
    subcommands = {ServeCommand.class, ImportCommand.class, InferSchemaCommand.class, SchemaCommand.class,
        DeleteCommand.class, SearchCommand.class, TablesCommand.class, ImportsCommand.class,
        CancelCommand.class, BackupCommand.class, RestoreCommand.class, CommandLine.HelpCommand.class})
public final class SluiceCli implements Callable<Integer> {
  // The exit codes, the same for every command; EXIT_CODES says which each command returns and when.
  public static final int OK = 0;
  public static final int FAILED = 1;
  public static final int USAGE = 2;
  public static final int REQUEST_FAILED = 3;
  public static final int TOO_MANY_REJECTED = 4;

  private static final String USAGE_TEXT = "usage error: an unknown or bad option, or a missing argument";
  private static final String CLIENT_USAGE_TEXT = USAGE_TEXT + " or API key";
  private static final String REFUSED_TEXT = "the server refused a request (its message is printed) or could not be"
      + " reached";
  /** Per command (the root under its own name), the exit codes its help lists: only those it can return. */
  static final Map<String, Map<Integer, String>> EXIT_CODES = Map.ofEntries(
      Map.entry("sluice", codes(OK, "success (without a command: the server started)",
          FAILED, "an import ended FinishedInError, a file could not be read, or the server failed to start",
          USAGE, CLIENT_USAGE_TEXT, REQUEST_FAILED, REFUSED_TEXT,
          TOO_MANY_REJECTED, "an import rejected more lines than --max-rejected allows")),
      Map.entry("serve", codes(OK, "the server started; it runs until stopped",
          FAILED, "the server failed to start (e.g. the port is taken or the data directory unusable; the log says"
              + " why)",
          USAGE, "usage error: bad option, or a configuration that cannot be read or is invalid")),
      Map.entry("import", codes(OK, "the import finished (rejected lines, if any, are reported)",
          FAILED, "the import ended FinishedInError (e.g. a truncated gzip; its message is printed) or Cancelled,"
              + " or the file could not be read",
          USAGE, CLIENT_USAGE_TEXT + ", an unreadable FILE", REQUEST_FAILED, REFUSED_TEXT,
          TOO_MANY_REJECTED, "more lines were rejected than --max-rejected allows (the other rows stay stored)")),
      Map.entry("infer-schema", codes(OK, "the schema was printed on stdout",
          FAILED, "no schema could be guessed (no rows in the sample, or the file could not be read); nothing is"
              + " printed on stdout",
          USAGE, USAGE_TEXT + ", an unreadable FILE")),
      Map.entry("schema", clientCodes()),
      Map.entry("delete", codes(OK, "success", USAGE, CLIENT_USAGE_TEXT + ", a --where that is not a JSON object",
          REQUEST_FAILED, REFUSED_TEXT)),
      Map.entry("search", codes(OK, "success", USAGE, CLIENT_USAGE_TEXT + ", a --where that is not a JSON object",
          REQUEST_FAILED, REFUSED_TEXT)),
      Map.entry("tables", clientCodes()),
      Map.entry("imports", clientCodes()),
      Map.entry("cancel", codes(OK, "the import ended (its final state is printed)", USAGE, CLIENT_USAGE_TEXT,
          REQUEST_FAILED, REFUSED_TEXT + "; also an unknown job, or one that had already finished")),
      Map.entry("backup", codes(OK, "the backup was written (its directory is printed)", USAGE, CLIENT_USAGE_TEXT,
          REQUEST_FAILED, REFUSED_TEXT + "; also backups not configured (backup.dir), a directory that exists or"
              + " is not under backup.dir, or a PostgreSQL store (back it up with PostgreSQL's tools)")),
      Map.entry("restore", codes(OK, "the backup was copied into the data directory", USAGE, USAGE_TEXT,
          FAILED, "the backup is incomplete or unreadable, or the data directory is not empty")));

  final Map<String, String> env;
  final boolean interactive;
  private volatile boolean serving;

  @Spec
  CommandSpec spec;

  /**
   * env: environment variables (for URL and key defaults); interactive: stderr is a terminal, so progress bars
   * redraw in place (else they print a line now and then).
   */
  public SluiceCli(Map<String, String> env, boolean interactive) {
    this.env = Map.copyOf(env);
    this.interactive = interactive;
  }

  public static CommandLine commandLine(SluiceCli cli) {
    CommandLine commandLine = new CommandLine(cli);
    commandLine.setCaseInsensitiveEnumValuesAllowed(true); // --format CSV as well as csv
    commandLine.setExecutionExceptionHandler(SluiceCli::handle);
    commandLine.setParameterExceptionHandler(SluiceCli::usageError);
    commandLine.getSubcommands().get("infer-schema").getCommandSpec().usageMessage()
        .footerHeading("%nHeuristics:%n").footer(helpLines(SchemaInference.HEURISTICS));
    listExitCodes(commandLine.getCommandSpec(), EXIT_CODES.get("sluice"));
    EXIT_CODES.forEach((name, codes) -> {
      CommandLine sub = commandLine.getSubcommands().get(name);
      if (sub != null) {
        listExitCodes(sub.getCommandSpec(), codes);
      }
    });
    return commandLine;
  }

  private static void listExitCodes(CommandSpec spec, Map<Integer, String> codes) {
    Map<String, String> list = new LinkedHashMap<>();
    codes.forEach((code, meaning) -> list.put(" " + code, meaning.replace("%", "%%")));
    spec.usageMessage().exitCodeListHeading("%nExit codes:%n").exitCodeList(list);
  }

  private static Map<Integer, String> codes(Object... codeThenMeaning) {
    Map<Integer, String> codes = new TreeMap<>();
    for (int i = 0; i < codeThenMeaning.length; i += 2) {
      codes.put((Integer) codeThenMeaning[i], (String) codeThenMeaning[i + 1]);
    }
    return codes;
  }

  /** A client command that only sends requests and prints the answer. */
  private static Map<Integer, String> clientCodes() {
    return codes(OK, "success", USAGE, CLIENT_USAGE_TEXT, REQUEST_FAILED, REFUSED_TEXT);
  }

  /** True once the server was started (the JVM must then keep running). */
  public boolean serving() {
    return serving;
  }

  void markServing() {
    serving = true;
  }

  @Override
  public Integer call() {
    return ServeCommand.serve(this, spec.commandLine().getErr());
  }

  /** A usage error: the message, the synopsis and a pointer to --help (not the whole help), exit code 2. */
  private static int usageError(CommandLine.ParameterException e, String[] args) {
    CommandLine commandLine = e.getCommandLine();
    PrintWriter err = commandLine.getErr();
    err.println("sluice: " + e.getMessage());
    CommandLine.UnmatchedArgumentException.printSuggestions(e, err);
    err.print(commandLine.getHelp().fullSynopsis());
    err.println("Try '" + commandLine.getCommandSpec().qualifiedName() + " --help' for more information.");
    err.flush();
    return USAGE;
  }

  private static int handle(Exception e, CommandLine commandLine, CommandLine.ParseResult parseResult) {
    PrintWriter err = commandLine.getErr();
    if (e instanceof ApiClient.ApiException api) {
      err.println("sluice: " + api.getMessage());
      printErrors(err, api.errors());
      err.flush();
      return REQUEST_FAILED;
    }
    if (e instanceof IOException || e instanceof UncheckedIOException) {
      err.println("sluice: " + e.getMessage());
      err.flush();
      return FAILED;
    }
    throw asRuntime(e);
  }

  private static RuntimeException asRuntime(Exception e) {
    return e instanceof RuntimeException r ? r : new IllegalStateException(e);
  }

  /** Prints the server's "errors" list (rows of a batch, lines of an import): one line each. */
  static void printErrors(PrintWriter err, JsonNode errors) {
    if (errors == null || !errors.isArray()) {
      return;
    }
    for (JsonNode error : errors) {
      StringBuilder line = new StringBuilder("  ");
      if (error.has("line")) {
        line.append("line ").append(error.get("line").asText()).append(": ");
      } else if (error.has("row")) {
        line.append("row ").append(error.get("row").asText()).append(": ");
      }
      if (error.has("column")) {
        line.append("column '").append(error.get("column").asText()).append("': ");
      }
      line.append(error.path("message").asText(error.toString()));
      if (error.has("line") && error.hasNonNull("row")) {
        String row = error.get("row").isTextual() ? error.get("row").asText() : error.get("row").toString();
        line.append(" — ").append(row.length() > 200 ? row.substring(0, 200) + "…" : row);
      }
      err.println(line);
    }
  }

  static String pretty(JsonNode json) {
    try {
      return ApiClient.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Help text given as plain lines: picocli treats help strings as format strings, so '%' is escaped. */
  static String[] helpLines(String text) {
    return text.replace("%", "%%").split("\n");
  }

  static final class VersionProvider implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"sluice " + Version.VERSION};
    }
  }
}
