package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.engine.RowCheck;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link LineBatchParser#parse} reads a batch with one parser when every line is a plain row, else line by
 * line: the edges where the single parser could see rows the lines do not hold must fall back, and both
 * paths must answer the same.
 */
class LineBatchParserTest {
  private static final TableSchema SCHEMA = SchemaParser.parseTable("t", new JsonObject(
      "{\"type\":\"table\",\"columns\":{\"id\":{\"type\":\"Int\"},\"s\":{\"type\":\"String\",\"nullable\":true}}}"));

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "plain lines|{\"id\":1}\\n{\"id\":2,\"s\":\"x\"}\\n|2|0",
      "blank lines, CRLF, trailing blanks|\\n{\"id\":1}\\r\\n  \\n\\t{\"id\":2}  \\n\\n|2|0",
      "no final newline|{\"id\":1}\\n{\"id\":2}|2|0",
      "two rows on one line|{\"id\":1} {\"id\":2}\\n{\"id\":3}|1|1",
      "a row over two lines|{\"id\":\\n1}\\n{\"id\":3}|1|2",
      "byte order mark on the second line|{\"id\":1}\\n\\uFEFF{\"id\":2}|2|0",
      "a bad row between good ones|{\"id\":1}\\n{\"id\":\"one\"}\\n{\"id\":3}|2|1",
      "garbage after the last row|{\"id\":1}\\n{\"id\":2}\\nnope|2|1",
      "an array line|{\"id\":1}\\n[{\"id\":2}]|1|1",
  })
  void answersAsLineByLine(String name, String escaped, int rows, int failed) {
    byte[] payload = unescape(escaped).getBytes(StandardCharsets.UTF_8);
    LineBatchParser.Result result = LineBatchParser.parse("t", SCHEMA, payload, 1);
    RowParsersFuzzTest.sameAsLineByLine(result, LineBatchParser.lineByLine("t", SCHEMA, payload, 1), payload);
    assertThat(result.rows()).as(name).hasSize(rows);
    assertThat(result.failedCount()).as(name).isEqualTo(failed);
  }

  /** A store's refusal of a valid row (PostgreSQL and U+0000) fails just that line, on either path. */
  @Test
  void aRowTheStoreRefusesFailsItsLine() {
    RowCheck refuseX = (schema, row) -> row.values()[1] != null && row.values()[1].toString().equals("x")
        ? new RowCheck.Refusal("s", "column 's': no x here") : null;
    for (String text : new String[] {"{\"id\":1}\n\n{\"id\":2,\"s\":\"x\"}\n{\"id\":3}",
        "{\"id\":1}\n\n{\"id\":2,\"s\":\"x\"}\n{\"id\":\"bad\"}\n{\"id\":3}"}) {
      LineBatchParser.Result result = LineBatchParser.parse("t", SCHEMA, text.getBytes(StandardCharsets.UTF_8), 5,
          refuseX);
      assertThat(result.rows()).as(text).hasSize(2);
      assertThat(result.rows().get(1).values()[0]).as(text).isEqualTo(3L);
      JsonObject refused = result.failures().getJsonObject(0);
      assertThat(refused.getLong("line")).as(text).isEqualTo(7);
      assertThat(refused.getString("message")).isEqualTo("column 's': no x here");
      assertThat(refused.getString("row")).isEqualTo("{\"id\":2,\"s\":\"x\"}");
    }
  }

  private static String unescape(String s) {
    return s.replace("\\n", "\n").replace("\\r", "\r").replace("\\t", "\t").replace("\\uFEFF", "\uFEFF");
  }
}
