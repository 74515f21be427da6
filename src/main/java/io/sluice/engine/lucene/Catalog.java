package io.sluice.engine.lucene;

import io.sluice.files.DurableFiles;
import io.sluice.engine.TableDef;
import io.sluice.schema.SchemaParser;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The durable list of tables: name → internal id (its directory under {@code tables/}) and schema, in
 * {@code catalog.json}. Replaced atomically (write, fsync, rename, fsync directory), so after a crash it is
 * either the old or the new version. Table names never become paths; internal ids do.
 */
final class Catalog {
  static final String FILE = "catalog.json";
  static final String TABLES_DIR = "tables";

  private final Path dataDir;
  /** The schema operations' key records as last read or written, kept by a save that does not replace them. */
  private Map<String, String> keys = Map.of();

  Catalog(Path dataDir) {
    this.dataDir = dataDir;
  }

  Path tablePath(String id) {
    return dataDir.resolve(TABLES_DIR).resolve(id);
  }

  Map<String, TableDef> load() {
    Path file = dataDir.resolve(FILE);
    Map<String, TableDef> tables = new LinkedHashMap<>();
    if (!Files.exists(file)) {
      return tables;
    }
    try {
      JsonObject json = new JsonObject(Files.readString(file));
      JsonObject entries = json.getJsonObject("tables", new JsonObject());
      Map<String, String> stored = new LinkedHashMap<>();
      json.getJsonObject("keys", new JsonObject()).forEach(key -> stored.put(key.getKey(), (String) key.getValue()));
      keys = stored;
      for (String name : entries.fieldNames()) {
        JsonObject entry = entries.getJsonObject(name);
        tables.put(name, new TableDef(entry.getString("id"),
            SchemaParser.parseTable(name, entry.getJsonObject("schema"))));
      }
      return tables;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  Map<String, String> keys() {
    return keys;
  }

  /** keys: the schema operations' Idempotency-Key records, in the same file (null: keep those stored). */
  void save(Map<String, TableDef> tables, Map<String, String> newKeys) {
    JsonObject entries = new JsonObject();
    tables.forEach((name, entry) -> entries.put(name,
        new JsonObject().put("id", entry.id()).put("schema", entry.schema().toJson())));
    Map<String, String> saved = newKeys == null ? keys : Map.copyOf(newKeys);
    JsonObject json = new JsonObject().put("version", 1).put("tables", entries);
    if (!saved.isEmpty()) {
      JsonObject keyJson = new JsonObject();
      saved.forEach(keyJson::put);
      json.put("keys", keyJson);
    }
    byte[] bytes = json.encodePrettily().getBytes(StandardCharsets.UTF_8);
    try {
      DurableFiles.writeAtomically(dataDir, FILE, bytes);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + dataDir.resolve(FILE), e);
    }
    keys = saved;
  }
}
