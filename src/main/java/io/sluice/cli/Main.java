package io.sluice.cli;

/**
 * {@code java -jar sluice.jar [command]}: without a command starts the server with the configuration of conf/, env
 * and -D (as {@code serve}); {@code import}, {@code infer-schema}, {@code schema}, {@code delete} and {@code search}
 * are clients of a running Sluice or Aito. See {@link SluiceCli}.
 */
public final class Main {
  private Main() {
  }

  public static void main(String[] args) {
    SluiceCli cli = new SluiceCli(System.getenv(), System.console() != null);
    int code = SluiceCli.commandLine(cli).execute(args);
    if (!cli.serving()) {
      System.exit(code);
    }
  }
}
