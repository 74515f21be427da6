package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schema.SchemaParser;
import io.sluice.schema.TableSchema;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * Row validation and the UTF-8 guard on their own (fast, for mutation testing); RowsApiTest and BadInputTest
 * check the same through the API. A problem names the column and what was expected.
 */
class RowValidatorTest {
  static final TableSchema SCHEMA = SchemaParser.parseTable("t", new JsonObject("""
      {"columns":{"i":{"type":"Int"},"l":{"type":"Long","nullable":true},"d":{"type":"Decimal","nullable":true},
       "s":{"type":"String","nullable":true},"x":{"type":"Text","nullable":true},
       "b":{"type":"Boolean","nullable":true}}}"""));

  private static RowValidator.RowProblem validate(String row) throws Exception {
    JsonNode node = Json.MAPPER.readTree(row);
    return RowValidator.validate("t", SCHEMA, node);
  }

  private static void problem(String row, String column, String... fragments) throws Exception {
    RowValidator.RowProblem problem = validate(row);
    assertThat(problem).as(row).isNotNull();
    assertThat(problem.column()).as(row).isEqualTo(column);
    assertThat(problem.message()).as(row).contains(fragments);
  }

  @Test
  void validRowsPass() throws Exception {
    assertThat(validate("{\"i\":1}")).isNull();
    assertThat(validate("{\"i\":-2147483648,\"l\":9223372036854775807,\"d\":1.5e300,\"s\":\"a\",\"x\":\"b c\","
        + "\"b\":false}")).isNull();
    assertThat(validate("{\"i\":2147483647,\"l\":-9223372036854775808,\"d\":3,\"s\":null}")).isNull();
  }

  @Test
  void eachTypeRefusesWhatItCannotHold() throws Exception {
    problem("[1]", null, "row must be a JSON object, got array [1]");
    problem("\"row\"", null, "got string \"row\"");
    problem("{\"i\":1,\"zz\":2}", "zz", "unknown column 'zz' in table 't'", "[i, l, d, s, x, b]");
    problem("{}", "i", "column 'i' (Int) is not nullable but is missing");
    problem("{\"i\":null}", "i", "is not nullable but is null");
    problem("{\"i\":2147483648}", "i", "(Int) value 2147483648 is out of range", "use Long");
    problem("{\"i\":-2147483649}", "i", "out of range");
    problem("{\"i\":1.0}", "i", "expects an Int, got number 1.0");
    problem("{\"i\":\"1\"}", "i", "expects an Int, got string \"1\"");
    problem("{\"i\":1,\"l\":9223372036854775808}", "l", "(Long) value 9223372036854775808 is out of the 64-bit range");
    problem("{\"i\":1,\"l\":-9223372036854775809}", "l", "out of the 64-bit range");
    problem("{\"i\":1,\"l\":true}", "l", "expects a Long, got boolean true");
    problem("{\"i\":1,\"d\":\"x\"}", "d", "expects a Decimal, got string");
    problem("{\"i\":1,\"d\":1e400}", "d", "(Decimal) value", "is out of range");
    problem("{\"i\":1,\"s\":5}", "s", "expects a String (JSON string), got number 5");
    problem("{\"i\":1,\"x\":{}}", "x", "expects a Text (JSON string), got object {}");
    problem("{\"i\":1,\"b\":0}", "b", "expects a Boolean (true or false), got number 0");
  }

  @Test
  void longValuesAreShortenedInMessages() throws Exception {
    String long60 = "y".repeat(58); // quoted: exactly 60 characters, shown whole
    problem("{\"i\":\"" + long60 + "\"}", "i", "got string \"" + long60 + "\"");
    String long61 = "y".repeat(59);
    RowValidator.RowProblem cut = validate("{\"i\":\"" + long61 + "\"}");
    assertThat(cut.message()).endsWith("got string \"" + "y".repeat(56) + "...");
    assertThat(RowValidator.validate("t", SCHEMA, null).message()).endsWith("got nothing");
    problem("null", null, "row must be a JSON object, got null");
    problem("[]", null, "got array []");
    problem("true", null, "got boolean true");
  }

  @Test
  void notUtf8SpotsByteOrderMarksAndZeroBytesAtTheStart() {
    assertThat(Json.notUtf8(bytes("{\"a\":1}"), 0, 7)).isNull();
    assertThat(Json.notUtf8(new byte[] {(byte) 0xFE, (byte) 0xFF, 0, '{'}, 0, 4)).contains("UTF-16 byte order mark");
    assertThat(Json.notUtf8(new byte[] {(byte) 0xFF, (byte) 0xFE, '{', 0}, 0, 4)).contains("UTF-16 byte order mark");
    assertThat(Json.notUtf8(new byte[] {(byte) 0xFE, 'x'}, 0, 2)).isNull();
    assertThat(Json.notUtf8(new byte[] {(byte) 0xFF, 'x'}, 0, 2)).isNull();
    assertThat(Json.notUtf8(new byte[] {(byte) 0xFE}, 0, 1)).as("one byte is no mark").isNull();
    assertThat(Json.notUtf8(new byte[] {'{', 0, '}', ' '}, 0, 4)).contains("zero byte at offset 1");
    assertThat(Json.notUtf8(new byte[] {'{', ' ', ' ', 0}, 0, 4)).contains("zero byte at offset 3");
    assertThat(Json.notUtf8(new byte[] {'{', ' ', ' ', ' ', 0}, 0, 5)).as("only the first four bytes").isNull();
    // an offset into a larger buffer: the mark and the zero are looked for from there, and only within len
    assertThat(Json.notUtf8(new byte[] {0, 0, (byte) 0xFF, (byte) 0xFE}, 2, 2)).contains("byte order mark");
    assertThat(Json.notUtf8(new byte[] {0, '{', '}', 0}, 1, 2)).isNull();
    assertThat(Json.notUtf8(new byte[] {'x', '{', 0, '}'}, 1, 3)).contains("zero byte at offset 1");
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
