package io.sluice.schema;

import io.sluice.errors.ApiError;
import io.sluice.schema.analysis.Analyzers;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** Turns Aito schema JSON into schema records, rejecting anything malformed with a 400 that names it. */
public final class SchemaParser {
  private static final Set<String> TABLE_KEYS = Set.of("type", "columns");
  private static final Set<String> COLUMN_KEYS = Set.of("type", "nullable", "link", "analyzer");

  private SchemaParser() {
  }

  /** {@code {"schema": {"t": {...}}}} or, leniently, the inner {@code {"t": {...}}}. */
  public static Map<String, TableSchema> parseDatabase(JsonObject body) {
    if (body == null) {
      throw ApiError.badRequest("expected a JSON object {\"schema\": {\"<table>\": {...}}}");
    }
    Object inner = body.containsKey("schema") && body.size() == 1 ? body.getValue("schema") : body;
    if (!(inner instanceof JsonObject tables)) {
      throw ApiError.badRequest("'schema' must be an object of tables");
    }
    Map<String, TableSchema> result = new LinkedHashMap<>();
    for (String table : tables.fieldNames()) {
      Names.requireTable(table);
      Object tableJson = tables.getValue(table);
      if (!(tableJson instanceof JsonObject obj)) {
        throw ApiError.badRequest("schema of table '" + table + "' must be an object");
      }
      result.put(table, parseTable(table, obj));
    }
    return result;
  }

  public static TableSchema parseTable(String table, JsonObject json) {
    Names.requireTable(table);
    if (json == null) {
      throw ApiError.badRequest("expected a table schema {\"type\": \"table\", \"columns\": {...}} for table '"
          + table + "'");
    }
    for (String key : json.fieldNames()) {
      if (!TABLE_KEYS.contains(key)) {
        throw ApiError.badRequest("unknown field '" + key + "' in schema of table '" + table
            + "'; expected 'type' and 'columns'");
      }
    }
    Object type = json.getValue("type");
    if (type != null && !"table".equals(type)) {
      throw ApiError.badRequest("schema of table '" + table + "' has type " + type + "; expected \"table\"");
    }
    if (!(json.getValue("columns") instanceof JsonObject columns)) {
      throw ApiError.badRequest("schema of table '" + table + "' needs 'columns', an object of column schemas");
    }
    if (columns.isEmpty()) {
      throw ApiError.badRequest("table '" + table + "' needs at least one column");
    }
    Map<String, ColumnSchema> parsed = new LinkedHashMap<>();
    for (String column : columns.fieldNames()) {
      Names.requireColumn(table, column);
      Object columnJson = columns.getValue(column);
      if (!(columnJson instanceof JsonObject obj)) {
        throw ApiError.badRequest("schema of column '" + column + "' in table '" + table + "' must be an object");
      }
      ColumnSchema parsedColumn = parseColumn(table, column, obj);
      if (parsedColumn.link() != null && "this".equals(parsedColumn.linkTable())) {
        // Stored and returned with the table's own name: Aito's clients look the linked table up by name.
        parsedColumn = new ColumnSchema(parsedColumn.type(), parsedColumn.nullable(),
            table + "." + parsedColumn.linkColumn(), parsedColumn.analyzer());
      }
      parsed.put(column, parsedColumn);
    }
    return new TableSchema(parsed);
  }

  public static ColumnSchema parseColumn(String table, String column, JsonObject json) {
    Names.requireColumn(table, column);
    String where = "column '" + column + "' of table '" + table + "'";
    if (json == null) {
      throw ApiError.badRequest("expected a column schema {\"type\": ...} for " + where);
    }
    for (String key : json.fieldNames()) {
      if (!COLUMN_KEYS.contains(key)) {
        throw ApiError.badRequest("unknown field '" + key + "' in " + where + "; expected " + COLUMN_KEYS);
      }
    }
    Object typeName = json.getValue("type");
    ColumnType type = typeName instanceof String s ? ColumnType.parse(s) : null;
    if (type == null) {
      throw ApiError.badRequest(where + " has type " + (typeName == null ? "missing" : "'" + typeName + "'")
          + "; expected one of Int, Long, Decimal, String, Text, Boolean");
    }
    Object nullable = json.getValue("nullable", false);
    if (!(nullable instanceof Boolean)) {
      throw ApiError.badRequest("'nullable' of " + where + " must be true or false");
    }
    Object link = json.getValue("link");
    if (link != null) {
      if (!(link instanceof String s) || s.indexOf('.') <= 0 || s.indexOf('.') != s.lastIndexOf('.')
          || s.endsWith(".")) {
        throw ApiError.badRequest("'link' of " + where + " must be \"<table>.<column>\", got "
          + (link instanceof String text ? Names.quote(text) : link));
      }
      if (type == ColumnType.TEXT) {
        throw ApiError.badRequest(where + " is Text and cannot be a link; use String");
      }
      String target = (String) link;
      String linkTable = target.substring(0, target.indexOf('.'));
      String linkColumn = target.substring(target.indexOf('.') + 1);
      if ((!"this".equals(linkTable) && !Names.isValid(linkTable)) || !Names.isValid(linkColumn)) {
        throw ApiError.badRequest("'link' of " + where + " names " + Names.quote(target)
            + ", which is not a valid table and column name: names are 1-" + Names.MAX_LENGTH
            + " characters without '/', '\"', '.', '$', whitespace or control characters");
      }
    }
    Object analyzer = json.getValue("analyzer");
    if (analyzer != null) {
      if (type != ColumnType.TEXT) {
        throw ApiError.badRequest(where + " has an analyzer but is " + type.aitoName() + "; only Text columns are analyzed");
      }
      Analyzers.validate(where, analyzer);
      analyzer = Analyzers.canonical(analyzer);
    }
    return new ColumnSchema(type, (Boolean) nullable, (String) link, analyzer);
  }
}
