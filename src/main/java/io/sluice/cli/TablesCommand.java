package io.sluice.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice tables}: every table with its row count and columns. */
@Command(name = "tables", header = "List the tables with their row counts and columns.", sortOptions = false,
    description = {"Lists every table (GET /api/v1/schema) with its row count (a _search with limit 0) and its"
        + " columns as name:Type, one table per line.",
        "Example: sluice tables --json"})
final class TablesCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Option(names = "--json", description = "Print {\"tables\": [{\"table\", \"rows\", \"columns\"}]} instead of text.")
  boolean json;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ApiClient client = api.client(spec, root.env);
    JsonNode schema = client.get("/api/v1/schema").path("schema");
    ArrayNode tables = ApiClient.JSON.createArrayNode();
    List<String> names = new ArrayList<>();
    schema.fieldNames().forEachRemaining(names::add);
    names.sort(null);
    for (String name : names) {
      ObjectNode search = ApiClient.JSON.createObjectNode().put("from", name).put("limit", 0);
      long rows = client.post("/api/v1/_search", search).path("total").asLong();
      tables.addObject().put("table", name).put("rows", rows)
          .set("columns", schema.get(name).path("columns"));
    }
    PrintWriter out = spec.commandLine().getOut();
    if (json) {
      out.println(SluiceCli.pretty(ApiClient.JSON.createObjectNode().set("tables", tables)));
      out.flush();
      return SluiceCli.OK;
    }
    TextTable text = new TextTable("TABLE", "ROWS", "COLUMNS");
    for (JsonNode table : tables) {
      List<String> columns = new ArrayList<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = table.get("columns").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> column = it.next();
        columns.add(column.getKey() + ":" + column.getValue().path("type").asText("?"));
      }
      text.add(table.get("table").asText(), String.format(Locale.ROOT, "%,d", table.get("rows").asLong()),
          String.join(" ", columns));
    }
    if (tables.isEmpty()) {
      spec.commandLine().getErr().println("no tables yet");
      spec.commandLine().getErr().flush();
      return SluiceCli.OK;
    }
    text.print(out);
    return SluiceCli.OK;
  }
}
