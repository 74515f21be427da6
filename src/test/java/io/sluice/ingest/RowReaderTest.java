package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.engine.Row;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.engine.lucene.DocumentBuilder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.IndexableField;
import org.junit.jupiter.api.Test;

/** The fast row path must accept exactly what the tree path accepts, and build the same documents. */
public class RowReaderTest {
  /** Every column type once; DocumentBuilderTest builds documents of it too. */
  public static final TableSchema SCHEMA;

  static {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    columns.put("i", new ColumnSchema(ColumnType.INT, false, null, null));
    columns.put("l", new ColumnSchema(ColumnType.LONG, true, null, null));
    columns.put("d", new ColumnSchema(ColumnType.DECIMAL, true, null, null));
    columns.put("s", new ColumnSchema(ColumnType.STRING, true, null, null));
    columns.put("t", new ColumnSchema(ColumnType.TEXT, true, null, "standard"));
    columns.put("b", new ColumnSchema(ColumnType.BOOLEAN, true, null, null));
    SCHEMA = new TableSchema(columns);
  }

  static final List<String> VALID = List.of(
      "{\"i\":1}",
      "{\"i\":1,\"l\":null,\"d\":null,\"s\":null,\"t\":null,\"b\":null}",
      "{\"i\":2147483647,\"l\":-9223372036854775808,\"d\":1e308,\"s\":\"\\u00e9x\",\"t\":\"A b\",\"b\":false}",
      "{\"b\":true,\"t\":\"x y\",\"i\":-0,\"d\":-0.0,\"l\":0}",
      "{\"i\":1,\"d\":5}",
      "{\"i\":1,\"d\":123456789012345678901234567890}",
      // exact values read as ASCII slices of the input, decoded from escapes, and with other characters
      "{\"i\":3,\"s\":\"plain ascii\",\"t\":\"Plain Text\"}",
      "{\"i\":4,\"s\":\"tab\\tand \\\"quote\\\"\",\"t\":\"caf\\u00e9 \\\\ au lait\"}",
      "{\"i\":5,\"s\":\"\u00e4\u00f6 \u20ac\",\"t\":\"\u00c4iti \ud83d\ude00 ja \u00e4\"}",
      "{\"i\":6,\"s\":\"\",\"t\":\"\"}");

  static final List<String> INVALID = List.of(
      "{\"i\":2147483648}", "{\"i\":1.0}", "{\"i\":1,\"l\":9223372036854775808}", "{\"i\":1,\"d\":1e400}",
      "{\"i\":1,\"x\":1}", "{\"i\":1,\"i\":2}", "{\"i\":1,\"l\":null,\"l\":2}",
      "{\"i\":1,\"s\":\"a\",\"t\":\"b\",\"s\":\"a\"}", "[1]", "{\"i\":null}", "{}", "{\"i\":1,\"s\":5}",
      "{\"i\":1,\"b\":\"true\"}", "{\"i\":1,\"t\":{\"a\":1}}", "{\"i\":1,\"l\":[1]}", "{\"i\":1", "nope",
      "{\"i\":1} trailing text is malformed on both paths");

  @Test
  void fastPathMatchesTreePath() throws Exception {
    byte[] payload = String.join("\n", VALID).getBytes(StandardCharsets.UTF_8);
    LineBatchParser.Result result = LineBatchParser.parse("t", SCHEMA, payload, 1);
    assertThat(result.failedCount()).isZero();
    assertThat(result.rows()).hasSize(VALID.size());
    for (Row row : result.rows()) {
      Row tree = RowValues.of(SCHEMA, Json.MAPPER.readTree(row.source()), row.source());
      assertThat(dump(DocumentBuilder.build(SCHEMA, row, 7))).isEqualTo(dump(DocumentBuilder.build(SCHEMA, tree, 7)));
    }
  }

  @Test
  void invalidRowsGoToTheTreePathAndAreReported() {
    byte[] payload = String.join("\n", INVALID).getBytes(StandardCharsets.UTF_8);
    LineBatchParser.Result result = LineBatchParser.parse("t", SCHEMA, payload, 1);
    assertThat(result.rows()).isEmpty();
    assertThat(result.failedCount()).isEqualTo(INVALID.size());
  }

  @Test
  void batchBodiesUseTheFastPathWhenAllRowsAreValid() throws Exception {
    String text = "[" + String.join(",", VALID.subList(0, VALID.size() - 1)) + "]";
    byte[] body = text.getBytes(StandardCharsets.UTF_8);
    assertThat(BatchParser.plainCount(SCHEMA, body)).isEqualTo(VALID.size() - 1);
    List<Row> rows = new ArrayList<>();
    BatchParser.plainRows(SCHEMA, body).forEach(rows::add);
    List<Row> trees = new ArrayList<>();
    BatchParser.rows(SCHEMA, body).forEach(trees::add);
    assertThat(rows).hasSize(VALID.size() - 1).allSatisfy(row -> assertThat(row.values()).isNotNull());
    assertThat(new String(rows.get(0).source(), StandardCharsets.UTF_8)).isEqualTo(VALID.get(0));
    for (int i = 0; i < rows.size(); i++) {
      assertThat(rows.get(i).source()).isEqualTo(trees.get(i).source());
      assertThat(dump(DocumentBuilder.build(SCHEMA, rows.get(i), 7)))
          .isEqualTo(dump(DocumentBuilder.build(SCHEMA, trees.get(i), 7)));
    }
  }

  @Test
  void batchBodiesWithAnyInvalidRowGoToTheTreePath() {
    for (String bad : INVALID) {
      byte[] body = ("[" + VALID.get(0) + "," + bad + "]").getBytes(StandardCharsets.UTF_8);
      assertThat(BatchParser.plainCount(SCHEMA, body)).as(bad).isEqualTo(-1);
      assertThatThrownBy(() -> BatchParser.validateArray("t", SCHEMA, body)).as(bad)
          .isInstanceOf(io.sluice.errors.ApiError.class);
    }
    assertThat(BatchParser.plainCount(SCHEMA, ("[" + VALID.get(0) + "] x").getBytes(StandardCharsets.UTF_8)))
        .isEqualTo(-1);
    assertThat(BatchParser.plainCount(SCHEMA, "[]".getBytes(StandardCharsets.UTF_8))).isZero();
  }

  private static String dump(List<IndexableField> doc) {
    StringBuilder text = new StringBuilder();
    for (IndexableField field : doc) {
      text.append(field.getClass().getSimpleName()).append(' ').append(field.name()).append('=')
          .append(field.binaryValue() != null ? field.binaryValue().toString()
              : field.stringValue() != null ? field.stringValue() : String.valueOf(field.numericValue()))
          .append(' ').append(field.fieldType().docValuesType()).append(' ').append(field.fieldType().indexOptions())
          .append(' ').append(field.fieldType().pointDimensionCount()).append('\n');
    }
    return text.toString();
  }
}
