package io.sluice.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;

/** Parses a JSON option value (a where-clause, an orderBy) into a tree, or fails as a usage error. */
final class JsonOptions {
  private JsonOptions() {
  }

  static JsonNode parseObject(CommandSpec spec, String option, String value) {
    JsonNode json = parse(spec, option, value);
    if (!json.isObject()) {
      throw new ParameterException(spec.commandLine(), option + " must be a JSON object, like '{\"id\": 4}'");
    }
    return json;
  }

  static JsonNode parse(CommandSpec spec, String option, String value) {
    try {
      JsonNode json = ApiClient.JSON.readTree(value);
      if (json == null || json.isMissingNode()) {
        throw new ParameterException(spec.commandLine(), option + " is empty; give a JSON value");
      }
      return json;
    } catch (JsonProcessingException e) {
      String reason = e.getOriginalMessage().replaceAll("\\s*\\(start marker at .*$", "").replace('\n', ' ');
      throw new ParameterException(spec.commandLine(), option + " is not valid JSON (" + reason + "); quote it for"
          + " the shell, like --where '{\"id\": 4}'");
    }
  }
}
