package io.sluice.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;

/**
 * Checks one row against its table schema. Returns the first problem as a {@link RowProblem} (no exception,
 * no stack trace: this runs per row on the ingestion hot path), or null when the row is valid.
 */
public final class RowValidator {
  private static final BigInteger LONG_MIN = BigInteger.valueOf(Long.MIN_VALUE);
  private static final BigInteger LONG_MAX = BigInteger.valueOf(Long.MAX_VALUE);

  private RowValidator() {
  }

  /** A problem with one row: which column (null for the row as a whole) and what was expected. */
  public record RowProblem(String column, String message) {
  }

  public static RowProblem validate(String table, TableSchema schema, JsonNode row) {
    if (row == null || !row.isObject()) {
      return new RowProblem(null, "row must be a JSON object, got " + describe(row));
    }
    Iterator<String> names = row.fieldNames();
    while (names.hasNext()) {
      String name = names.next();
      if (schema.column(name) == null) {
        return new RowProblem(name, "unknown column '" + name + "' in table '" + table + "'; columns are "
            + schema.columns().keySet());
      }
    }
    for (Map.Entry<String, ColumnSchema> entry : schema.columns().entrySet()) {
      String column = entry.getKey();
      ColumnSchema col = entry.getValue();
      JsonNode value = row.get(column);
      if (value == null || value.isNull()) {
        if (!col.nullable()) {
          return new RowProblem(column, "column '" + column + "' (" + col.type().aitoName()
              + ") is not nullable but is " + (value == null ? "missing" : "null"));
        }
        continue;
      }
      String problem = checkType(col, value);
      if (problem != null) {
        return new RowProblem(column, "column '" + column + "' " + problem);
      }
    }
    return null;
  }

  private static String checkType(ColumnSchema col, JsonNode value) {
    return switch (col.type()) {
      case INT -> !value.isIntegralNumber() || !value.canConvertToInt()
          ? value.isIntegralNumber()
              ? "(Int) value " + value + " is out of range -2147483648..2147483647; use Long"
              : "expects an Int, got " + describe(value)
          : null;
      case LONG -> {
        if (!value.isIntegralNumber()) {
          yield "expects a Long, got " + describe(value);
        }
        BigInteger big = value.bigIntegerValue();
        yield big.compareTo(LONG_MIN) < 0 || big.compareTo(LONG_MAX) > 0
            ? "(Long) value " + value + " is out of the 64-bit range" : null;
      }
      case DECIMAL -> {
        if (!value.isNumber()) {
          yield "expects a Decimal, got " + describe(value);
        }
        yield Double.isFinite(value.doubleValue()) ? null : "(Decimal) value " + value + " is out of range";
      }
      case STRING, TEXT -> value.isTextual() ? null
          : "expects a " + col.type().aitoName() + " (JSON string), got " + describe(value);
      case BOOLEAN -> value.isBoolean() ? null : "expects a Boolean (true or false), got " + describe(value);
    };
  }

  static String describe(JsonNode value) {
    if (value == null) {
      return "nothing";
    }
    String text = value.toString();
    if (text.length() > 60) {
      text = text.substring(0, 57) + "...";
    }
    return switch (value.getNodeType()) {
      case STRING -> "string " + text;
      case NUMBER -> "number " + text;
      case BOOLEAN -> "boolean " + text;
      case ARRAY -> "array " + text;
      case OBJECT -> "object " + text;
      case NULL -> "null";
      default -> text;
    };
  }
}
