package io.sluice.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/** {@code sluice search --table T [--where JSON] [--limit N]}: POST /api/v1/_search. */
@Command(name = "search", header = "Search a table.", sortOptions = false,
    description = {"Searches a table (POST /api/v1/_search) and prints the result {\"offset\", \"total\", \"hits\"}.",
        "Example: sluice search --table customers --where '{\"tags\": {\"$match\": \"london\"}}' --order-by"
            + " '{\"$desc\": \"id\"}' --limit 5"})
final class SearchCommand implements Callable<Integer> {
  @ParentCommand
  SluiceCli root;

  @Spec
  CommandSpec spec;

  @Option(names = "--table", required = true, paramLabel = "T", description = "Table to search.")
  String table;

  @Option(names = "--where", paramLabel = "JSON", description = "Where-clause (docs/api.md §4). Default: every row.")
  String where;

  @Option(names = "--limit", paramLabel = "N", description = "Most hits to return (server default: 10).")
  Integer limit;

  @Option(names = "--offset", paramLabel = "N", description = "Hits to skip.")
  Integer offset;

  @Option(names = "--select", paramLabel = "FIELD", split = ",",
      description = "Fields to return, comma-separated (link paths like user.name allowed).")
  List<String> select;

  @Option(names = "--order-by", paramLabel = "ORDER",
      description = "A column name, or JSON like '{\"$desc\": \"id\"}'. Default: insertion order.")
  String orderBy;

  @Mixin
  ApiOptions api;

  @Override
  public Integer call() {
    ObjectNode body = ApiClient.JSON.createObjectNode().put("from", table);
    if (where != null) {
      body.set("where", JsonOptions.parseObject(spec, "--where", where));
    }
    if (select != null) {
      ArrayNode fields = body.putArray("select");
      select.forEach(fields::add);
    }
    if (orderBy != null) {
      String order = orderBy.strip();
      if (order.startsWith("{") || order.startsWith("\"")) {
        body.set("orderBy", JsonOptions.parse(spec, "--order-by", order));
      } else {
        body.put("orderBy", order);
      }
    }
    if (offset != null) {
      if (offset < 0) {
        throw new ParameterException(spec.commandLine(), "--offset must not be negative");
      }
      body.put("offset", offset);
    }
    if (limit != null) {
      if (limit < 0) {
        throw new ParameterException(spec.commandLine(), "--limit must not be negative");
      }
      body.put("limit", limit);
    }
    ApiClient client = api.client(spec, root.env);
    PrintWriter out = spec.commandLine().getOut();
    out.println(SluiceCli.pretty(client.post("/api/v1/_search", body)));
    out.flush();
    return SluiceCli.OK;
  }
}
