package io.sluice.schema;

import io.vertx.core.json.JsonObject;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** An immutable table schema; column order is the order the user declared. */
public record TableSchema(Map<String, ColumnSchema> columns) {

  public TableSchema {
    columns = Collections.unmodifiableMap(new LinkedHashMap<>(columns));
  }

  public ColumnSchema column(String name) {
    return columns.get(name);
  }

  public TableSchema withColumn(String name, ColumnSchema column) {
    Map<String, ColumnSchema> copy = new LinkedHashMap<>(columns);
    copy.put(name, column);
    return new TableSchema(copy);
  }

  public TableSchema withoutColumn(String name) {
    Map<String, ColumnSchema> copy = new LinkedHashMap<>(columns);
    copy.remove(name);
    return new TableSchema(copy);
  }

  public JsonObject toJson() {
    JsonObject cols = new JsonObject();
    columns.forEach((name, col) -> cols.put(name, col.toJson()));
    return new JsonObject().put("type", "table").put("columns", cols);
  }
}
