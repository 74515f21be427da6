package io.sluice.schema;

import io.vertx.core.json.JsonObject;

/**
 * One column. {@code link} is "table.column" or null; {@code analyzer} is the analyzer in its canonical
 * spelling ({@link io.sluice.schema.analysis.Analyzers#canonical}: a lower-case String alias or a JsonObject),
 * only for Text columns, null otherwise.
 */
public record ColumnSchema(ColumnType type, boolean nullable, String link, Object analyzer) {

  public JsonObject toJson() {
    JsonObject json = new JsonObject().put("type", type.aitoName()).put("nullable", nullable);
    if (link != null) {
      json.put("link", link);
    }
    if (analyzer != null) {
      json.put("analyzer", analyzer instanceof JsonObject obj ? obj.copy() : analyzer);
    }
    return json;
  }

  public String linkTable() {
    return link == null ? null : link.substring(0, link.indexOf('.'));
  }

  public String linkColumn() {
    return link == null ? null : link.substring(link.indexOf('.') + 1);
  }
}
