package io.sluice.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.engine.Row;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import java.util.Map;

/**
 * The slow path's rows: a validated tree's values typed as {@link Row} holds them, the same values the fast path
 * ({@link RowReader}) reads, so an engine stores both alike.
 */
public final class RowValues {
  private RowValues() {
  }

  /** tree: an object already validated against schema; fields the schema does not name are ignored. */
  public static Row of(TableSchema schema, JsonNode tree, byte[] source) {
    Object[] values = new Object[schema.columns().size()];
    int i = 0;
    for (Map.Entry<String, ColumnSchema> column : schema.columns().entrySet()) {
      JsonNode value = tree.get(column.getKey());
      if (value != null && !value.isNull()) {
        values[i] = switch (column.getValue().type()) {
          case INT, LONG -> value.asLong();
          case DECIMAL -> value.asDouble();
          case STRING, TEXT -> Utf8.of(value.asText());
          case BOOLEAN -> value.asBoolean();
        };
      }
      i++;
    }
    return new Row(values, source);
  }
}
