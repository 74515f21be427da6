package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * The fast path of row parsing: reads one JSON object straight from a streaming parser into typed values, one per
 * schema column, with no tree. It accepts exactly the plainly valid rows and gives up (returns null) on anything
 * else — an unknown column, a wrong type, a missing value, malformed JSON — so that the caller re-reads the row
 * the slow way ({@link Json#TREE} + {@link RowValidator}), which reports the exact problem. Values are
 * {@code Long} (Int, Long), {@code Double} (Decimal), {@code Boolean}, or null, as {@link io.sluice.engine.Row}
 * holds them; a String or Text value is a {@link Utf8}: a slice of the input when the JSON string is plain ASCII
 * (a String's is then never decoded, a Text's carries the text the parser decoded for analysis), else the
 * decoded string's own bytes.
 *
 * <p>Duplicate keys are detected here rather than by Jackson (whose detection keeps a hash set per object): read
 * with a parser from {@link Json#FAST_ROWS}. Not thread-safe: one reader per thread.
 */
public final class RowReader {
  private final String[] names;
  private final ColumnType[] types;
  private final boolean[] nullable;
  private final Map<String, Integer> positions;
  /** Per column, the number of the last row that named it: a second mention in the same row is a duplicate. */
  private final long[] namedInRow;
  private long rowNumber;

  public RowReader(TableSchema schema) {
    int n = schema.columns().size();
    names = new String[n];
    types = new ColumnType[n];
    nullable = new boolean[n];
    positions = new HashMap<>(n * 2);
    namedInRow = new long[n];
    int i = 0;
    for (Map.Entry<String, ColumnSchema> entry : schema.columns().entrySet()) {
      names[i] = entry.getKey();
      types[i] = entry.getValue().type();
      nullable[i] = entry.getValue().nullable();
      positions.put(entry.getKey(), i);
      i++;
    }
  }

  /**
   * The values of a row whose START_OBJECT is the parser's current token; null if the row needs the slow path.
   * input, base: the bytes the parser reads and where its offset 0 is in them (values may be slices of input).
   */
  public Object[] read(JsonParser parser, byte[] input, int base) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      return null;
    }
    Object[] values = new Object[names.length];
    long row = ++rowNumber;
    int seen = 0;
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      Integer position = positions.get(parser.currentName());
      if (position == null || namedInRow[position] == row) {
        return null;
      }
      int i = position;
      namedInRow[i] = row;
      token = parser.nextToken();
      if (token == JsonToken.VALUE_NULL) {
        if (!nullable[i]) {
          return null;
        }
        continue;
      }
      Object value = value(types[i], token, parser, input, base);
      if (value == null) {
        return null;
      }
      values[i] = value;
      seen++;
    }
    if (token != JsonToken.END_OBJECT) {
      return null;
    }
    if (seen < names.length) {
      for (int i = 0; i < names.length; i++) {
        if (values[i] == null && !nullable[i]) {
          return null;
        }
      }
    }
    return values;
  }

  private static Object value(ColumnType type, JsonToken token, JsonParser parser, byte[] input, int base)
      throws IOException {
    return switch (type) {
      case INT -> token == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT
          ? Long.valueOf(parser.getIntValue()) : null;
      case LONG -> {
        if (token != JsonToken.VALUE_NUMBER_INT) {
          yield null;
        }
        JsonParser.NumberType kind = parser.getNumberType();
        yield kind == JsonParser.NumberType.INT || kind == JsonParser.NumberType.LONG
            ? Long.valueOf(parser.getLongValue()) : null;
      }
      case DECIMAL -> {
        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT
            || parser.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
          yield null;
        }
        double d = parser.getDoubleValue();
        yield Double.isFinite(d) ? Double.valueOf(d) : null;
      }
      case STRING, TEXT -> token == JsonToken.VALUE_STRING
          ? asciiSlice(parser, input, base, type == ColumnType.TEXT) : null;
      case BOOLEAN -> token == JsonToken.VALUE_TRUE ? Boolean.TRUE
          : token == JsonToken.VALUE_FALSE ? Boolean.FALSE : null;
    };
  }

  /**
   * The current string token's value: a slice of the input if its content is printable ASCII without escapes
   * (then it is its UTF-8 encoding as it stands, and the exact value needs no decoding and re-encoding), else
   * the decoded text's bytes. decode: also decode a slice now (a Text column's value is analyzed as text).
   */
  private static Utf8 asciiSlice(JsonParser parser, byte[] input, int base, boolean decode) throws IOException {
    int open = base + (int) parser.currentTokenLocation().getByteOffset();
    if (open >= 0 && open < input.length && input[open] == '"') {
      for (int i = open + 1; i < input.length; i++) {
        byte b = input[i];
        if (b == '"') {
          return new Utf8(input, open + 1, i - open - 1, decode ? parser.getText() : null);
        }
        if (b == '\\' || b < 0x20) { // an escape, a control character (Jackson refuses it) or a non-ASCII byte
          break;
        }
      }
    }
    return Utf8.of(parser.getText());
  }
}
