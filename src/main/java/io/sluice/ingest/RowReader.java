package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
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
 * {@code Long} (Int, Long), {@code Double} (Decimal), {@code String} (String, Text), {@code Boolean}, or null.
 */
public final class RowReader {
  private final String[] names;
  private final ColumnType[] types;
  private final boolean[] nullable;
  private final Map<String, Integer> positions;

  public RowReader(TableSchema schema) {
    int n = schema.columns().size();
    names = new String[n];
    types = new ColumnType[n];
    nullable = new boolean[n];
    positions = new HashMap<>(n * 2);
    int i = 0;
    for (Map.Entry<String, ColumnSchema> entry : schema.columns().entrySet()) {
      names[i] = entry.getKey();
      types[i] = entry.getValue().type();
      nullable[i] = entry.getValue().nullable();
      positions.put(entry.getKey(), i);
      i++;
    }
  }

  /** The values of a row whose START_OBJECT is the parser's current token; null if the row needs the slow path. */
  public Object[] read(JsonParser parser) throws IOException {
    if (parser.currentToken() != JsonToken.START_OBJECT) {
      return null;
    }
    Object[] values = new Object[names.length];
    int seen = 0;
    JsonToken token;
    while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
      Integer position = positions.get(parser.currentName());
      if (position == null) {
        return null;
      }
      int i = position;
      token = parser.nextToken();
      if (token == JsonToken.VALUE_NULL) {
        if (!nullable[i]) {
          return null;
        }
        continue;
      }
      Object value = value(types[i], token, parser);
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

  private static Object value(ColumnType type, JsonToken token, JsonParser parser) throws IOException {
    switch (type) {
      case INT:
        return token == JsonToken.VALUE_NUMBER_INT && parser.getNumberType() == JsonParser.NumberType.INT
            ? Long.valueOf(parser.getIntValue()) : null;
      case LONG:
        if (token != JsonToken.VALUE_NUMBER_INT) {
          return null;
        }
        JsonParser.NumberType kind = parser.getNumberType();
        return kind == JsonParser.NumberType.INT || kind == JsonParser.NumberType.LONG
            ? Long.valueOf(parser.getLongValue()) : null;
      case DECIMAL:
        if (token != JsonToken.VALUE_NUMBER_INT && token != JsonToken.VALUE_NUMBER_FLOAT) {
          return null;
        }
        if (parser.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
          return null;
        }
        double d = parser.getDoubleValue();
        return Double.isFinite(d) ? Double.valueOf(d) : null;
      case STRING:
      case TEXT:
        return token == JsonToken.VALUE_STRING ? parser.getText() : null;
      case BOOLEAN:
        return token == JsonToken.VALUE_TRUE ? Boolean.TRUE : token == JsonToken.VALUE_FALSE ? Boolean.FALSE : null;
      default:
        return null;
    }
  }
}
