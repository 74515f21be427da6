package io.sluice.cli;

import java.util.Map;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** --url and --key of the client commands, with their environment defaults. */
final class ApiOptions {
  static final String DEFAULT_URL = "http://127.0.0.1:8080";

  @Option(names = "--url", paramLabel = "URL",
      description = "Server root URL. Default: $SLUICE_URL, else $AITO_INSTANCE_URL, else " + DEFAULT_URL + ".")
  String url;

  @Option(names = "--key", paramLabel = "KEY",
      description = "API key (read-write for writes). Default: $SLUICE_API_KEY, else $AITO_API_KEY."
          + " Prefer the variables: a --key is visible to other users in the process list.")
  String key;

  ApiClient client(CommandSpec spec, Map<String, String> env) {
    String resolvedKey = firstNonBlank(key, env.get("SLUICE_API_KEY"), env.get("AITO_API_KEY"));
    if (resolvedKey == null) {
      throw new ParameterException(spec.commandLine(),
          "no API key: pass --key or set SLUICE_API_KEY (the server prints its keys on first start)");
    }
    String resolvedUrl = firstNonBlank(url, env.get("SLUICE_URL"), env.get("AITO_INSTANCE_URL"), DEFAULT_URL);
    try {
      return new ApiClient(resolvedUrl, resolvedKey);
    } catch (IllegalArgumentException e) {
      throw new ParameterException(spec.commandLine(), "--url: " + e.getMessage());
    }
  }

  private static String firstNonBlank(String... values) {
    for (String value : values) {
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return null;
  }
}
