package io.sluice.query;

import com.code_intelligence.jazzer.junit.DictionaryEntries;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.FuzzSchemas;
import io.sluice.engine.Predicate;
import io.sluice.engine.StorageException;
import io.sluice.errors.ApiError;
import io.sluice.ingest.Json;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import io.sluice.engine.lucene.DocumentBuilder;
import io.sluice.engine.lucene.Fields;
import io.sluice.engine.lucene.LuceneQueries;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Fuzzes the where-clause and orderBy parser and their Lucene translation with JSON decoded from the fuzzer's bytes by Vert.x's own decoder
 * ({@code Json.decodeValue}): more permissive than the HTTP layer's {@code Json.decodeRequest} (1000 levels of
 * nesting, duplicate keys kept), so that the compiler's own bounds (depth, size, link paths) are exercised rather
 * than the parser's. The only acceptable outcomes are a Lucene
 * query that a searcher can run, or an {@link ApiError} 400/404: any other exception is a bug. Link paths are
 * resolved like the store does, by translating the inner predicate for the linked table and running it.
 *
 * <p>Without {@code JAZZER_FUZZ} the inputs under
 * {@code src/test/resources/io/sluice/query/PropositionCompilerFuzzTestInputs/<method>/} are replayed as a
 * regression test; see docs/fuzzing.md for fuzzing longer.
 */
class PropositionCompilerFuzzTest {
  private static ByteBuffersDirectory itemsDir;
  private static ByteBuffersDirectory usersDir;
  private static IndexSearcher items;
  private static IndexSearcher users;

  @BeforeAll
  static void index() throws IOException {
    itemsDir = new ByteBuffersDirectory();
    usersDir = new ByteBuffersDirectory();
    items = new IndexSearcher(write(itemsDir, FuzzSchemas.ITEMS_SCHEMA, FuzzSchemas.ITEM_ROWS));
    users = new IndexSearcher(write(usersDir, FuzzSchemas.USERS_SCHEMA, FuzzSchemas.USER_ROWS));
  }

  @AfterAll
  static void close() throws IOException {
    items.getIndexReader().close();
    users.getIndexReader().close();
    itemsDir.close();
    usersDir.close();
  }

  @FuzzTest(maxDuration = "2m")
  @DictionaryEntries({"\"$and\"", "\"$or\"", "\"$not\"", "\"$exists\"", "\"$defined\"", "\"$is\"",
      "\"$gt\"", "\"$gte\"", "\"$lt\"", "\"$lte\"", "\"$match\"", "\"$has\"", "\"$startsWith\"",
      "\"id\"", "\"big\"", "\"price\"", "\"name\"", "\"title\"", "\"tags\"", "\"words\"", "\"csv\"",
      "\"grams\"", "\"shingle\"", "\"active\"", "\"note\"", "\"rank\"", "\"score\"", "\"flag\"",
      "\"user.tags\"", "\"user.vip\"", "\"owner.score\"", "\"parent.title\"", "\"ghost.id\"", "\"user\"",
      "true", "false", "null", "1e308", "-0.0", "9223372036854775808", "2147483648", "[{", "}]", "\":{\""})
  void compile(byte[] input) throws IOException {
    Object where = decode(input);
    if (where == DecodeFailed.INSTANCE) {
      return;
    }
    Query query;
    try {
      query = compile(FuzzSchemas.ITEMS, FuzzSchemas.ITEMS_SCHEMA, where);
    } catch (ApiError e) {
      requireClientError(e, input);
      return;
    }
    if (query == null) {
      throw new AssertionError("compile returned null for " + show(input));
    }
    items.search(query, 20, LuceneQueries.sort(List.of(), FuzzSchemas.ITEMS_SCHEMA));
    items.count(query);
  }

  @FuzzTest(maxDuration = "2m")
  void orderBy(byte[] input) throws IOException {
    Object orderBy = decode(input);
    if (orderBy == DecodeFailed.INSTANCE) {
      return;
    }
    Sort sort;
    try {
      sort = LuceneQueries.sort(parser(FuzzSchemas.ITEMS, FuzzSchemas.ITEMS_SCHEMA).orderBy(orderBy),
          FuzzSchemas.ITEMS_SCHEMA);
    } catch (ApiError e) {
      requireClientError(e, input);
      return;
    }
    items.search(new org.apache.lucene.search.MatchAllDocsQuery(), 20, sort);
  }

  // ---------------------------------------------------------------------------------------------------------

  private enum DecodeFailed { INSTANCE }

  /** A decoded JSON value (a superset of what the HTTP layer hands on), or DecodeFailed when it answers 400 itself. */
  private static Object decode(byte[] input) {
    try {
      return io.vertx.core.json.Json.decodeValue(Buffer.buffer(input));
    } catch (DecodeException e) {
      return DecodeFailed.INSTANCE;
    }
  }

  private static void requireClientError(ApiError e, byte[] input) {
    if (e.status() != 400 && e.status() != 404) {
      throw new AssertionError("status " + e.status() + " (" + e.getMessage() + ") for " + show(input), e);
    }
    if (e.getMessage() == null || e.getMessage().isBlank()) {
      throw new AssertionError("an error without a message for " + show(input), e);
    }
  }

  private static String show(byte[] input) {
    String s = new String(input, StandardCharsets.UTF_8);
    return s.length() > 300 ? s.substring(0, 300) + "…" : s;
  }

  private static PropositionParser parser(String table, TableSchema schema) {
    return new PropositionParser(table, schema, FuzzSchemas::lookup);
  }

  /** As the store does: parse, resolve the link paths on the linked table's index, translate. */
  private static Query compile(String table, TableSchema schema, Object where) {
    Predicate parsed = parser(table, schema).where(where);
    try {
      return LuceneQueries.translate(PropositionParser.resolveLinks(parsed, PropositionCompilerFuzzTest::resolve),
          table, schema);
    } catch (StorageException e) { // the core answers a query too large for the engine with a 400
      throw ApiError.badRequest("too large: " + e.getMessage());
    }
  }

  /** Like the core's link resolution: run the inner predicate on the linked table, collect its key values. */
  private static Set<Object> resolve(Predicate.LinkPath link) {
    String target = link.targetTable();
    TableSchema schema = FuzzSchemas.lookup(target);
    if (schema == null) {
      throw new AssertionError("the parser let through a link to missing table '" + target + "'");
    }
    ColumnSchema key = schema.column(link.targetColumn());
    if (key == null) {
      throw ApiError.badRequest("unknown column '" + link.targetColumn() + "' in table '" + target + "'");
    }
    Query query = LuceneQueries.translate(
        PropositionParser.resolveLinks(link.inner(), PropositionCompilerFuzzTest::resolve), target, schema);
    IndexSearcher searcher = FuzzSchemas.ITEMS.equals(target) ? items : users;
    Set<Object> values = new HashSet<>();
    try {
      StoredFields stored = searcher.storedFields();
      for (ScoreDoc hit : searcher.search(query, 100).scoreDocs) {
        JsonNode row = Json.MAPPER.readTree(stored.document(hit.doc).getBinaryValue(Fields.SOURCE).bytes);
        JsonNode value = row.get(link.targetColumn());
        if (value != null && !value.isNull()) {
          values.add(switch (key.type()) {
            case INT, LONG -> value.asLong();
            case DECIMAL -> value.asDouble();
            case BOOLEAN -> value.asBoolean();
            case STRING, TEXT -> value.asText();
          });
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return values;
  }

  private static DirectoryReader write(ByteBuffersDirectory dir, TableSchema schema, String[] rows)
      throws IOException {
    try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(FuzzSchemas.indexAnalyzer(schema)))) {
      long seq = 0;
      for (String row : rows) {
        byte[] source = row.getBytes(StandardCharsets.UTF_8);
        writer.addDocument(io.sluice.TestDocs.document(schema, Json.MAPPER.readTree(source), source, seq++));
        if (seq == 2) {
          writer.commit(); // two segments
        }
      }
    }
    return DirectoryReader.open(dir);
  }
}
