package io.sluice.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.BenchRows;
import io.sluice.ForkedServer;
import io.sluice.ServerTest;
import io.sluice.TestServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's client commands run in-process (picocli's execute) against a real server on a free port. */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class CliTest extends ServerTest {
  @TempDir
  Path files;

  @Override
  protected Map<String, Object> serverConfig() {
    return Map.of("import.batch.rows", 500);
  }

  /** Exit code and captured output of one command; env holds SLUICE_API_KEY = the read-write key. */
  record Run(int code, String out, String err) {
    JsonNode json() {
      try {
        return ApiClient.JSON.readTree(out);
      } catch (IOException e) {
        throw new AssertionError("stdout is not JSON: " + out, e);
      }
    }

    @Override
    public String toString() {
      return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
    }
  }

  Run run(String... args) {
    return runWithEnv(Map.of("SLUICE_API_KEY", TestServer.RW_KEY), args);
  }

  Run runWithEnv(Map<String, String> env, String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var commandLine = SluiceCli.commandLine(new SluiceCli(env, false));
    commandLine.setOut(new PrintWriter(out, true));
    commandLine.setErr(new PrintWriter(err, true));
    int code = commandLine.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  /** A client command with --url pointing at the test server. */
  Run client(String... args) {
    return run(Stream.concat(Arrays.stream(args), Stream.of("--url", url())).toArray(String[]::new));
  }

  String url() {
    return "http://127.0.0.1:" + server.port();
  }

  long count(String table) {
    return server.search(new JsonObject().put("from", table).put("limit", 0)).total();
  }

  Path write(String name, byte[] content) throws IOException {
    return Files.write(files.resolve(name), content);
  }

  @Test
  void importsGzipFileWithProgressAndReportsRejectedLines() throws IOException {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    Path file = write("items.ndjson.gz", BenchRows.gzip(BenchRows.ndjson(7, 3000,
        Map.of(10, "{\"id\": \"ten\"}", 2000, "not json at all"))));

    Run run = client("import", file.toString(), "--table", "items", "--poll-interval", "100");

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.out()).contains("Finished: 2,998 rows stored in table 'items', 2 lines rejected");
    assertThat(count("items")).isEqualTo(2998);
    // the rejected lines, as the server reported them
    assertThat(run.err()).contains("warning: Last 2 failing rows").contains("line 11: ").contains("'id'")
        .contains("line 2001: ").contains("not json at all");
    // progress without a terminal: plain ASCII lines (no carriage returns, no ANSI escapes), the last one at 100%
    assertThat(run.err()).doesNotContain("\r").doesNotContain("\u001b");
    assertThat(run.err().lines().filter(l -> l.startsWith("Upload"))).isNotEmpty();
    assertThat(run.err().lines().filter(l -> l.startsWith("Import")).reduce((a, b) -> b).orElseThrow())
        .contains("100%").contains("3000/3000").contains("rows/s").contains("Finished, 2 rejected")
        .hasSizeLessThanOrEqualTo(ProgressBars.LOG_WIDTH);
  }

  @Test
  void importsPlainFileCreatingTheTableFromTheInferredSchema() throws IOException {
    Path file = write("fresh.ndjson", BenchRows.ndjson(3, 1200, Map.of()));

    Run run = client("import", file.toString(), "--table", "fresh", "--create-schema", "--poll-interval", "100");

    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(run.err()).contains("created table 'fresh'").contains("Gzip");
    assertThat(count("fresh")).isEqualTo(1200);
    JsonObject columns = server.get("/api/v1/schema/fresh").json().getJsonObject("columns");
    assertThat(columns.getJsonObject("id").getString("type")).isEqualTo("Int");
    assertThat(columns.getJsonObject("price").getString("type")).isEqualTo("Decimal");
    assertThat(columns.getJsonObject("active").getString("type")).isEqualTo("Boolean");
    assertThat(columns.getJsonObject("category").getString("type")).isEqualTo("String");
    assertThat(columns.getJsonObject("description").getString("type")).isEqualTo("Text");

    Run again = client("import", file.toString(), "--table", "fresh", "--create-schema", "-q");
    assertThat(again.code()).as(again.toString()).isZero();
    assertThat(again.err()).contains("table 'fresh' exists; keeping its schema").doesNotContain("Import ");
    assertThat(count("fresh")).isEqualTo(2400);
  }

  @Test
  void truncatedGzipEndsFinishedInErrorWithExitCodeOne() throws IOException {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    byte[] gzip = BenchRows.gzip(BenchRows.ndjson(5, 5000, Map.of()));
    Path file = write("cut.ndjson.gz", Arrays.copyOf(gzip, gzip.length / 2));

    Run run = client("import", file.toString(), "--table", "items", "--poll-interval", "100");

    assertThat(run.code()).as(run.toString()).isEqualTo(SluiceCli.FAILED);
    assertThat(run.err()).contains("FinishedInError").contains("truncated");
    assertThat(run.out()).isEmpty();
  }

  @Test
  void importIntoAMissingTableShowsTheServersMessage() throws IOException {
    Path file = write("rows.ndjson", BenchRows.ndjson(1, 10, Map.of()));
    Run run = client("import", file.toString(), "--table", "nosuch");
    assertThat(run.code()).as(run.toString()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(run.err()).contains("sluice: GET /api/v1/schema/nosuch → 404").contains("'nosuch'");
    assertThat(run.err()).as("checked before gzipping the plain file").doesNotContain("Gzip");

    Run gzipped = client("import", write("rows.gz", BenchRows.gzip(BenchRows.ndjson(1, 10, Map.of()))).toString(),
        "--table", "nosuch");
    assertThat(gzipped.code()).as(gzipped.toString()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(gzipped.err()).contains("sluice: POST /api/v1/data/nosuch/file → 404").contains("'nosuch'");
  }

  @Test
  void inferSchemaGuessesTypesNullabilityAndAnalyzers() throws IOException {
    StringBuilder rows = new StringBuilder();
    String[] cities = {"New York", "Los Angeles", "San Francisco"};
    for (int i = 0; i < 60; i++) {
      rows.append(new JsonObject()
          .put("id", i)
          .put("big", 5_000_000_000L + i)
          .put("price", i % 2 == 0 ? i : i + 0.5)
          .put("flag", i % 3 == 0)
          .put("code", "C-" + i)
          .put("city", cities[i % 3])
          .put("bio", "the user number " + i + " is one of the people in the list of test users")
          .put("tags", "tag" + i + " extra" + (i * 7))
          .put("maybe", i % 4 == 0 ? null : "x" + i)
          .put("mixed", i == 5 ? "five" : i)
          .put("nested", new JsonArray().add(i))
          .put("empty", (String) null)
          .encode()).append('\n');
      if (i == 30) {
        rows.append("\n").append("[1, 2]\n");
      }
    }
    rows.append("{\"id\": 60, \"big\": 1, \"price\": 1, \"flag\": true, \"code\": \"x\", \"city\": \"Los Angeles\","
        + " \"bio\": \"a b\", \"tags\": \"t u\", \"mixed\": 1, \"nested\": [], \"empty\": null}\n");
    Path file = write("sample.ndjson.gz", BenchRows.gzip(rows.toString().getBytes()));

    Run run = run("infer-schema", file.toString());

    assertThat(run.code()).as(run.toString()).isZero();
    JsonNode columns = run.json().get("columns");
    assertThat(run.json().get("type").asText()).isEqualTo("table");
    assertThat(columns.get("id").toString()).isEqualTo("{\"type\":\"Int\",\"nullable\":false}");
    assertThat(columns.get("big").get("type").asText()).isEqualTo("Long");
    assertThat(columns.get("price").get("type").asText()).isEqualTo("Decimal");
    assertThat(columns.get("flag").get("type").asText()).isEqualTo("Boolean");
    assertThat(columns.get("code").get("type").asText()).as("no whitespace").isEqualTo("String");
    assertThat(columns.get("city").get("type").asText()).as("categories").isEqualTo("String");
    assertThat(columns.get("bio").toString())
        .isEqualTo("{\"type\":\"Text\",\"nullable\":false,\"analyzer\":\"english\"}");
    assertThat(columns.get("tags").toString())
        .isEqualTo("{\"type\":\"Text\",\"nullable\":false,\"analyzer\":\"standard\"}");
    assertThat(columns.get("maybe").toString()).as("null in some rows, absent in one")
        .isEqualTo("{\"type\":\"String\",\"nullable\":true}");
    assertThat(columns.get("mixed").get("type").asText()).as("most values are numbers").isEqualTo("Int");
    assertThat(columns.get("nested").get("type").asText()).isEqualTo("String");
    assertThat(columns.get("empty").toString()).isEqualTo("{\"type\":\"String\",\"nullable\":true}");
    assertThat(run.err()).contains("1 sampled line(s) are not JSON objects and were skipped (first: line 33)")
        .contains("field 'mixed': mostly numbers, but 1 sampled value(s) of another kind")
        .contains("field 'nested': holds nested objects or arrays")
        .contains("field 'empty': null or missing in every sampled row")
        .contains("inferred from 61 row(s)");

    Run wrapped = run("infer-schema", file.toString(), "--table", "t", "--sample", "10", "--analyzer", "finnish");
    assertThat(wrapped.code()).as(wrapped.toString()).isZero();
    JsonNode table = wrapped.json().get("schema").get("t");
    assertThat(table.get("columns").get("bio").get("analyzer").asText()).isEqualTo("finnish");
    assertThat(wrapped.err()).contains("inferred from 10 row(s)");
  }

  @Test
  void inferredSchemaIsAcceptedByTheServer() throws IOException {
    Path file = write("bench.ndjson", BenchRows.ndjson(11, 500, Map.of()));
    Run run = run("infer-schema", file.toString());
    assertThat(run.code()).as(run.toString()).isZero();
    assertThat(server.put("/api/v1/schema/guessed", new JsonObject(run.out())).status()).isEqualTo(200);
    assertThat(server.post("/api/v1/data/guessed/batch",
        new JsonArray("[" + new String(BenchRows.ndjson(11, 500, Map.of())).strip().replace("\n", ",") + "]"))
        .status()).isEqualTo(200);
  }

  @Test
  void inferSchemaFailuresPrintNothingOnStdout() throws IOException {
    Run missing = run("infer-schema", files.resolve("missing.ndjson").toString());
    assertThat(missing.code()).as(missing.toString()).isEqualTo(SluiceCli.USAGE);
    assertThat(missing.err()).contains("cannot read file");
    assertThat(missing.out()).isEmpty();

    Run directory = run("infer-schema", files.toString());
    assertThat(directory.code()).as(directory.toString()).isEqualTo(SluiceCli.USAGE);
    assertThat(directory.out()).isEmpty();

    Run empty = run("infer-schema", write("empty.ndjson", new byte[0]).toString());
    assertThat(empty.code()).as(empty.toString()).isEqualTo(SluiceCli.FAILED);
    assertThat(empty.err()).contains("sluice: cannot infer a schema: no JSON object rows");
    assertThat(empty.out()).isEmpty();

    Run badJson = run("infer-schema", write("bad.ndjson", "{\"a\": \nnot json\n[1]\n".getBytes()).toString());
    assertThat(badJson.code()).as(badJson.toString()).isEqualTo(SluiceCli.FAILED);
    assertThat(badJson.err()).contains("3 sampled line(s) are not JSON objects").contains("cannot infer a schema");
    assertThat(badJson.out()).isEmpty();
    Run notJson = run("infer-schema", write("text.ndjson", "not json\n".getBytes()).toString());
    assertThat(notJson.err()).as("auto decides by content, as the server does, but says so")
        .contains("warning: ").contains("read as CSV");

    byte[] gzip = BenchRows.gzip(BenchRows.ndjson(1, 10, Map.of()));
    Run corrupt = run("infer-schema", write("corrupt.gz", Arrays.copyOf(gzip, 12)).toString());
    assertThat(corrupt.code()).as(corrupt.toString()).isEqualTo(SluiceCli.FAILED);
    assertThat(corrupt.err()).contains("sluice: cannot read");
    assertThat(corrupt.out()).isEmpty();
  }

  @Test
  void csvAndJsonArrayFilesAreInferredAndImported() throws IOException {
    StringBuilder csv = new StringBuilder("\uFEFFid, big,price,flag,code,note,maybe\r\n");
    for (int i = 0; i < 40; i++) {
      csv.append(i).append(',').append(5_000_000_000L + i).append(',').append(i % 2 == 0 ? "" + i : i + ".5")
          .append(',').append(i % 3 == 0 ? "TRUE" : "false").append(",C-").append(i)
          .append(",\"line one of ").append(i).append(",\nand \"\"two\"\"\",").append(i % 4 == 0 ? "" : "x")
          .append("\r\n");
    }
    csv.append("\n41,1\n"); // a blank record, then one with too few fields (lines 82 and 83)
    Path file = write("rows.csv", csv.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));

    Run run = run("infer-schema", file.toString());

    assertThat(run.code()).as(run.toString()).isZero();
    JsonNode columns = run.json().get("columns");
    assertThat(columns.get("id").toString()).isEqualTo("{\"type\":\"Int\",\"nullable\":false}");
    assertThat(columns.get("big").get("type").asText()).as("header names trimmed").isEqualTo("Long");
    assertThat(columns.get("price").get("type").asText()).isEqualTo("Decimal");
    assertThat(columns.get("flag").get("type").asText()).isEqualTo("Boolean");
    assertThat(columns.get("code").get("type").asText()).isEqualTo("String");
    assertThat(columns.get("note").get("type").asText()).as("quoted newlines kept").isEqualTo("Text");
    assertThat(columns.get("maybe").toString()).as("an empty field is null")
        .isEqualTo("{\"type\":\"String\",\"nullable\":true}");
    assertThat(run.err()).contains("inferred from 40 row(s)")
        .contains("1 sampled line(s) are not CSV records with as many fields as the header and were skipped"
            + " (first: line 83)");

    Run forced = run("infer-schema", file.toString(), "--format", "NDJSON");
    assertThat(forced.code()).as(forced.toString()).isEqualTo(SluiceCli.FAILED);
    assertThat(forced.err()).contains("no JSON object rows");
    assertThat(forced.out()).isEmpty();

    Run imported = client("import", file.toString(), "--table", "fromcsv", "--create-schema", "-q");
    assertThat(imported.code()).as(imported.toString()).isZero();
    assertThat(imported.out()).contains("40 rows stored in table 'fromcsv', 1 lines rejected");
    assertThat(count("fromcsv")).isEqualTo(40);

    Path array = write("rows.json", " [{\"a\": 1, \"b\": \"x\"},\n {\"a\": 2.5, \"b\": null}, 3]".getBytes());
    Run json = run("infer-schema", array.toString(), "--format", "json");
    assertThat(json.code()).as(json.toString()).isZero();
    assertThat(json.json().get("columns").toString())
        .isEqualTo("{\"a\":{\"type\":\"Decimal\",\"nullable\":false},\"b\":{\"type\":\"String\",\"nullable\":true}}");
    assertThat(json.err()).contains("1 sampled line(s) are not JSON objects and were skipped (first: line 3)");
    Run jsonImport = client("import", array.toString(), "--table", "fromjson", "--create-schema", "-q",
        "--format", "json");
    assertThat(jsonImport.code()).as(jsonImport.toString()).isZero();
    assertThat(count("fromjson")).isEqualTo(2);
  }

  @Test
  void maxRejectedAndRejectsFile() throws IOException {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    Path few = write("few.ndjson.gz", BenchRows.gzip(BenchRows.ndjson(3, 600,
        Map.of(4, "{\"id\": \"four\"}", 99, "not json", 500, "[1]"))));
    Path rejects = files.resolve("rejects.ndjson");

    Run tooMany = client("import", few.toString(), "--table", "items", "-q", "--max-rejected", "2",
        "--rejects", rejects.toString());
    assertThat(tooMany.code()).as(tooMany.toString()).isEqualTo(SluiceCli.TOO_MANY_REJECTED);
    assertThat(tooMany.out()).contains("597 rows stored");
    assertThat(tooMany.err()).contains("sluice: 3 lines rejected, more than --max-rejected 2");
    List<JsonNode> lines = readNdjson(rejects);
    assertThat(lines).extracting(l -> l.get("line").asLong()).containsExactly(5L, 100L, 501L);
    assertThat(lines.get(1).get("row").asText()).isEqualTo("not json");
    assertThat(lines).allSatisfy(l -> assertThat(l.get("message").asText()).isNotEmpty());

    Run enough = client("import", few.toString(), "--table", "items", "-q", "--max-rejected", "3",
        "--rejects", rejects.toString());
    assertThat(enough.code()).as(enough.toString()).isZero();
    assertThat(readNdjson(rejects)).hasSize(3);

    Map<Integer, String> bad = new java.util.HashMap<>();
    for (int i = 1; i <= 60; i++) {
      bad.put(i * 10 - 1, "bad " + i);
    }
    Path many = write("many.ndjson.gz", BenchRows.gzip(BenchRows.ndjson(4, 1000, bad)));
    Run truncated = client("import", many.toString(), "--table", "items", "-q", "--rejects", rejects.toString());
    assertThat(truncated.code()).as("no --max-rejected: no limit").isZero();
    assertThat(truncated.err()).contains("holds the last 50 of the 60 rejected lines");
    assertThat(readNdjson(rejects)).extracting(l -> l.get("line").asLong()).hasSize(50).startsWith(110L)
        .endsWith(600L);

    Path clean = write("clean.ndjson.gz", BenchRows.gzip(BenchRows.ndjson(5, 10, Map.of())));
    Run none = client("import", clean.toString(), "--table", "items", "-q", "--max-rejected", "0",
        "--rejects", rejects.toString());
    assertThat(none.code()).as(none.toString()).isZero();
    assertThat(Files.size(rejects)).isZero();

    String help = run("import", "--help").out().replaceAll("\\s+", " ");
    assertThat(help).contains("--max-rejected=N Exit with code 4 when more than N lines were rejected")
        .contains("keeps only the last 50");
  }

  static List<JsonNode> readNdjson(Path file) throws IOException {
    List<JsonNode> rows = new java.util.ArrayList<>();
    for (String line : Files.readAllLines(file)) {
      rows.add(ApiClient.JSON.readTree(line));
    }
    return rows;
  }

  @Test
  void schemaDeleteAndSearchCommands() {
    assertThat(server.put("/api/v1/schema/customers", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"name":{"type":"String"},
         "tags":{"type":"Text","analyzer":"Whitespace"}}}""")).status()).isEqualTo(200);
    JsonArray rows = new JsonArray();
    for (int i = 0; i < 20; i++) {
      rows.add(new JsonObject().put("id", i).put("name", "n" + i).put("tags", i % 2 == 0 ? "london even" : "paris"));
    }
    assertThat(server.post("/api/v1/data/customers/batch", rows).status()).isEqualTo(200);

    Run all = client("schema");
    assertThat(all.code()).as(all.toString()).isZero();
    assertThat(all.json().get("schema").get("customers").get("columns").get("id").get("type").asText())
        .isEqualTo("Int");
    assertThat(all.out()).contains("\n  ");
    Run one = client("schema", "customers");
    assertThat(one.code()).as(one.toString()).isZero();
    assertThat(one.json().get("columns").has("tags")).isTrue();

    Run search = client("search", "--table", "customers", "--where", "{\"tags\": {\"$match\": \"london\"}}",
        "--order-by", "{\"$desc\": \"id\"}", "--limit", "3", "--select", "id,name");
    assertThat(search.code()).as(search.toString()).isZero();
    assertThat(search.json().get("total").asLong()).isEqualTo(10);
    assertThat(search.json().get("hits").toString())
        .isEqualTo("[{\"id\":18,\"name\":\"n18\"},{\"id\":16,\"name\":\"n16\"},{\"id\":14,\"name\":\"n14\"}]");

    Run delete = client("delete", "--table", "customers", "--where", "{\"id\": {\"$lt\": 5}}");
    assertThat(delete.code()).as(delete.toString()).isZero();
    assertThat(delete.json().toString()).isEqualTo("{\"total\":5}");
    assertThat(count("customers")).isEqualTo(15);

    Run rest = client("search", "--table", "customers", "--order-by", "id", "--limit", "1");
    assertThat(rest.json().get("hits").get(0).get("id").asInt()).isEqualTo(5);
    assertThat(rest.json().get("total").asLong()).isEqualTo(15);

    Run everything = client("delete", "--table", "customers", "--where", "{}");
    assertThat(everything.json().get("total").asLong()).isEqualTo(15);
  }

  @Test
  void tablesAndImportsList() throws IOException {
    Run none = client("tables");
    assertThat(none.code()).as(none.toString()).isZero();
    assertThat(none.out()).isEmpty();
    assertThat(none.err()).contains("no tables yet");
    assertThat(client("imports").err()).contains("no import jobs");

    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    assertThat(server.put("/api/v1/schema/empty", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"}}}""")).status()).isEqualTo(200);
    Path file = write("items.ndjson.gz", BenchRows.gzip(BenchRows.ndjson(9, 1500, Map.of(3, "oops"))));
    Run imported = client("import", file.toString(), "--table", "items", "-q", "--poll-interval", "50");
    assertThat(imported.code()).as(imported.toString()).isZero();

    Run tables = client("tables");
    assertThat(tables.code()).as(tables.toString()).isZero();
    List<String> lines = tables.out().lines().toList();
    assertThat(lines).hasSize(3);
    assertThat(lines.get(0)).startsWith("TABLE").contains("ROWS").contains("COLUMNS");
    assertThat(lines.get(1)).startsWith("empty ").contains(" 0 ").endsWith("id:Int");
    assertThat(lines.get(2)).startsWith("items ").contains(" 1,499 ").contains("id:Int");
    Run tablesJson = client("tables", "--json");
    assertThat(tablesJson.json().get("tables").get(1).get("rows").asLong()).isEqualTo(1499);
    assertThat(tablesJson.json().get("tables").get(1).get("columns").has("price")).isTrue();

    String id = imported.err().lines().filter(l -> l.startsWith("import ")).findFirst().orElseThrow().split(" ")[1];
    Run imports = client("imports");
    assertThat(imports.code()).as(imports.toString()).isZero();
    assertThat(imports.out().lines().findFirst().orElseThrow().split("\\s+"))
        .containsExactly("ID", "TABLE", "STATUS", "ROWS", "FAILED", "CREATED");
    assertThat(imports.out().lines().skip(1).findFirst().orElseThrow().split("\\s+"))
        .startsWith(id, "items", "Finished", "1,499", "1");
    assertThat(client("imports", "items").out()).contains(id);
    Run other = client("imports", "empty");
    assertThat(other.out()).isEmpty();
    assertThat(other.err()).contains("no import jobs for table 'empty'");
    assertThat(client("imports", "--json").json().get("imports").get(0).get("status").get("completedCount")
        .asLong()).isEqualTo(1499);
    assertThat(client("imports", "--limit", "0").code()).isEqualTo(SluiceCli.USAGE);
  }

  @Test
  void cancelEndsAnUnfinishedImport() {
    assertThat(server.put("/api/v1/schema/items", BenchRows.SCHEMA).status()).isEqualTo(200);
    String uploaded = server.post("/api/v1/data/items/file", new JsonObject()).json().getString("id");
    JsonObject other = server.post("/api/v1/data/items/file", new JsonObject()).json();
    assertThat(server.upload(other.getString("url"), io.vertx.core.buffer.Buffer.buffer(
        BenchRows.ndjson(2, 10, Map.of()))).status()).isEqualTo(200);

    Run cancel = client("cancel", uploaded);
    assertThat(cancel.code()).as(cancel.toString()).isZero();
    assertThat(cancel.out()).contains("import " + uploaded + " cancelled: 0 rows stored in table 'items'")
        .contains("import cancelled before it ran");
    Run withTable = client("cancel", other.getString("id"), "--table", "items");
    assertThat(withTable.code()).as(withTable.toString()).isZero();
    assertThat(client("imports").out().lines().skip(1)).allMatch(line -> line.contains(" Cancelled "));

    Run again = client("cancel", uploaded);
    assertThat(again.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(again.err()).contains("409").contains("already ended Cancelled");
    Run unknown = client("cancel", "no-such-job");
    assertThat(unknown.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(unknown.err()).contains("import job 'no-such-job' not found");
    assertThat(count("items")).isZero();
  }

  @Test
  void serveFlagsOverrideTheConfigFileAndTheEnvironment() throws IOException {
    Path config = write("sluice.json", """
        {"http.port": 4321, "data.dir": "from-file", "import.max.jobs": 3}""".getBytes());
    Map<String, String> env = Map.of("SLUICE_HTTP_PORT", "1234", "SLUICE_IMPORT_MAX_QUEUED", "7");
    ServeCommand serve = serveCommand(env, "serve", "--port", "5555", "--data-dir", "flag-dir", "--config",
        config.toString());
    io.sluice.config.SluiceConfig settings = serve.config(env);
    assertThat(settings.httpPort()).isEqualTo(5555);
    assertThat(settings.dataDir()).isEqualTo(Path.of("flag-dir"));
    assertThat(settings.importMaxJobs()).as("from the file").isEqualTo(3);
    assertThat(settings.importMaxQueued()).as("from the environment").isEqualTo(7);
    ServeCommand fileOnly = serveCommand(env, "serve", "--config", config.toString());
    assertThat(fileOnly.config(env).httpPort()).as("the environment over the file").isEqualTo(1234);
    assertThat(fileOnly.config(env).dataDir()).isEqualTo(Path.of("from-file"));

    Run missing = run("serve", "--config", files.resolve("nope.json").toString());
    assertThat(missing.code()).isEqualTo(SluiceCli.USAGE);
    assertThat(missing.err()).contains("config file").contains("nope.json").contains("does not exist");
    assertThat(run("serve", "--port", "70000").err()).contains("--port must be from 0 to 65535");
    assertThat(run("serve", "--port", "x").code()).isEqualTo(SluiceCli.USAGE);
    String help = run("serve", "--help").out();
    assertThat(help).contains("--port=N", "--data-dir=DIR", "--config=FILE", "later sources winning");
  }

  @Test
  void serveStartsOnThePortAndDataDirOfItsFlags() throws IOException {
    Path data = files.resolve("served");
    Path config = write("serve.json", new JsonObject().put("http.port", 1).put("data.dir",
        files.resolve("ignored").toString()).encode().getBytes());
    try (ForkedServer forked = new ForkedServer(data, List.of(), Map.of())) {
      forked.withArgs("serve", "--port", Integer.toString(forked.port()), "--data-dir", data.toString(), "--config",
          config.toString()).start();
      assertThat(forked.call("GET", "/api/v1/schema", null).getJsonObject("schema")).isEmpty();
      assertThat(data.resolve("tables")).isDirectory();
      assertThat(files.resolve("ignored")).doesNotExist();
    }
  }

  private static ServeCommand serveCommand(Map<String, String> env, String... args) {
    var parsed = SluiceCli.commandLine(new SluiceCli(env, false)).parseArgs(args);
    return (ServeCommand) parsed.subcommand().commandSpec().userObject();
  }

  @Test
  void serverErrorsArePrintedWithTheirMessageAndExitCodeThree() {
    Run badKey = client("schema", "--key", "wrong-key");
    assertThat(badKey.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(badKey.err()).contains("sluice: GET /api/v1/schema → 403: invalid api key");
    assertThat(badKey.out()).isEmpty();

    Run readOnlyDelete = runWithEnv(Map.of("AITO_API_KEY", TestServer.RO_KEY), "delete", "--table", "t", "--where",
        "{}", "--url", url());
    assertThat(readOnlyDelete.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(readOnlyDelete.err()).contains("403").contains("read-only");

    Run unknownTable = client("search", "--table", "nope");
    assertThat(unknownTable.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(unknownTable.err()).contains("404").contains("'nope'");

    Run down = run("schema", "--url", "http://127.0.0.1:1");
    assertThat(down.code()).isEqualTo(SluiceCli.REQUEST_FAILED);
    assertThat(down.err()).contains("cannot connect to http://127.0.0.1:1");
  }

  @Test
  void usageErrorsExitWithTwo() throws IOException {
    Run noKey = runWithEnv(Map.of(), "schema", "--url", url());
    assertThat(noKey.code()).isEqualTo(SluiceCli.USAGE);
    assertThat(noKey.err()).contains("no API key").contains("Try 'sluice schema --help'");

    Run badWhere = client("delete", "--table", "t", "--where", "{\"id\": ");
    assertThat(badWhere.code()).isEqualTo(SluiceCli.USAGE);
    assertThat(badWhere.err()).contains("--where is not valid JSON");
    Run arrayWhere = client("search", "--table", "t", "--where", "[1]");
    assertThat(arrayWhere.code()).isEqualTo(SluiceCli.USAGE);

    assertThat(client("delete", "--table", "t").code()).as("--where is required").isEqualTo(SluiceCli.USAGE);
    assertThat(client("import", files.resolve("missing.ndjson").toString(), "--table", "t").err())
        .contains("cannot read file");
    assertThat(run("import", write("x.ndjson", new byte[0]).toString()).code()).as("--table is required")
        .isEqualTo(SluiceCli.USAGE);
    assertThat(run("schema", "--url", "ftp://host").code()).isEqualTo(SluiceCli.USAGE);
    Run typo = run("improt");
    assertThat(typo.code()).isEqualTo(SluiceCli.USAGE);
    assertThat(typo.err()).contains("Did you mean").contains("import");
  }

  @Test
  void helpListsTheCommandsAndTheHeuristics() {
    Run help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("serve", "import", "infer-schema", "schema", "delete", "search", "Exit codes");
    Run infer = run("infer-schema", "--help");
    assertThat(infer.out()).contains("Heuristics:").contains("categories: at most 50 distinct values")
        .contains("at least 15% of their words");
    assertThat(run("serve", "--help").code()).isZero();
    assertThat(run("--version").out()).contains("sluice ");
  }

  @Test
  void eachCommandsHelpListsOnlyItsOwnExitCodes() {
    Map<String, List<Integer>> expected = new java.util.HashMap<>(Map.of("sluice", List.of(0, 1, 2, 3, 4),
        "serve", List.of(0, 1, 2), "import", List.of(0, 1, 2, 3, 4), "infer-schema", List.of(0, 1, 2),
        "schema", List.of(0, 2, 3), "delete", List.of(0, 2, 3), "search", List.of(0, 2, 3),
        "tables", List.of(0, 2, 3), "imports", List.of(0, 2, 3), "cancel", List.of(0, 2, 3)));
    expected.put("backup", List.of(0, 2, 3));
    expected.put("restore", List.of(0, 1, 2));
    var commands = new java.util.TreeSet<>(SluiceCli.commandLine(new SluiceCli(Map.of(), false)).getSubcommands()
        .keySet());
    commands.remove("help");
    commands.add("sluice");
    assertThat(expected.keySet()).as("every command lists its exit codes")
        .containsExactlyInAnyOrderElementsOf(commands);
    expected.forEach((command, codes) -> {
      Run help = command.equals("sluice") ? run("--help") : run(command, "--help");
      assertThat(help.code()).isZero();
      String section = help.out().substring(help.out().indexOf("Exit codes:"));
      List<Integer> listed = section.lines().filter(line -> line.matches("\\s+\\d\\s.*"))
          .map(line -> Integer.valueOf(line.strip().substring(0, 1))).toList();
      assertThat(listed).as(command + " --help:\n" + section).isEqualTo(codes);
    });
    assertThat(run("import", "--help").out()).contains("4   more lines were rejected than --max-rejected allows");
  }
}
