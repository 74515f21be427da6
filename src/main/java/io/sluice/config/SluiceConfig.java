package io.sluice.config;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * Every setting, parsed once. Sources, later ones winning: built-in defaults, the config file
 * ({@code conf/sluice.json}, or the file named by {@code SLUICE_CONFIG} / {@code -Dsluice.config}),
 * environment variables, system properties ({@code -Dsluice.http.port=...}), and explicit overrides
 * (tests). Every key is listed in {@link #KEYS} with its environment variable.
 */
public record SluiceConfig(
    String httpHost,
    int httpPort,
    Path dataDir,
    String apiKeyRw,
    String apiKeyRo,
    String publicUrl,
    long maxBatchBytes,
    int httpInstances,
    int storeInstances,
    int maxResultLimit) {

  /** A setting: its key in the config file, its environment variable, its default (null: none). */
  public record Key(String name, String env, Object defaultValue, String description) {
    public String sysProp() {
      return "sluice." + name;
    }
  }

  public static final Key HTTP_HOST = new Key("http.host", "SLUICE_HTTP_HOST", "127.0.0.1", "interface to bind");
  public static final Key HTTP_PORT = new Key("http.port", "SLUICE_HTTP_PORT", 8080, "HTTP port (0: any free port)");
  public static final Key DATA_DIR = new Key("data.dir", "SLUICE_DATA_DIR", "./data", "where tables, schema and keys live");
  public static final Key API_KEY_RW = new Key("api.key.rw", "SLUICE_API_KEY_RW", null,
      "read-write API key; generated at first start when unset");
  public static final Key API_KEY_RO = new Key("api.key.ro", "SLUICE_API_KEY_RO", null,
      "read-only API key; generated at first start when unset");
  public static final Key PUBLIC_URL = new Key("public.url", "SLUICE_PUBLIC_URL", null,
      "base of URLs handed to clients (default http://host:port)");
  public static final Key MAX_BATCH_BYTES = new Key("max.batch.bytes", "SLUICE_MAX_BATCH_BYTES", 10L * 1024 * 1024,
      "largest JSON body accepted by the row and batch endpoints");
  public static final Key HTTP_INSTANCES = new Key("http.instances", "SLUICE_HTTP_INSTANCES", 0,
      "HTTP verticle instances (0: one per core)");
  public static final Key STORE_INSTANCES = new Key("store.instances", "SLUICE_STORE_INSTANCES", 0,
      "store worker verticle instances (0: one per core, at least 2)");
  public static final Key MAX_RESULT_LIMIT = new Key("max.result.limit", "SLUICE_MAX_RESULT_LIMIT", 10_000,
      "largest 'limit' a search accepts");

  public static final List<Key> KEYS = List.of(HTTP_HOST, HTTP_PORT, DATA_DIR, API_KEY_RW, API_KEY_RO, PUBLIC_URL,
      MAX_BATCH_BYTES, HTTP_INSTANCES, STORE_INSTANCES, MAX_RESULT_LIMIT);

  public static SluiceConfig load(Map<String, String> env, Map<String, ?> overrides) {
    Map<String, Object> values = new LinkedHashMap<>();
    KEYS.forEach(k -> values.put(k.name(), k.defaultValue()));
    Path file = configFile(env);
    if (file != null) {
      values.putAll(readFile(file).getMap());
    }
    for (Key key : KEYS) {
      if (env.get(key.env()) != null) {
        values.put(key.name(), env.get(key.env()));
      }
      if (System.getProperty(key.sysProp()) != null) {
        values.put(key.name(), System.getProperty(key.sysProp()));
      }
    }
    values.putAll(overrides);
    return fromMap(values);
  }

  public static SluiceConfig defaults() {
    return load(Map.of(), Map.of());
  }

  private static Path configFile(Map<String, String> env) {
    String explicit = System.getProperty("sluice.config", env.get("SLUICE_CONFIG"));
    if (explicit != null) {
      Path path = Path.of(explicit);
      if (!Files.isRegularFile(path)) {
        throw new IllegalArgumentException("config file " + path + " (from SLUICE_CONFIG) does not exist");
      }
      return path;
    }
    Path conventional = Path.of("conf", "sluice.json");
    return Files.isRegularFile(conventional) ? conventional : null;
  }

  private static JsonObject readFile(Path file) {
    try {
      return new JsonObject(Files.readString(file));
    } catch (IOException | DecodeException e) {
      throw new IllegalArgumentException("cannot read config file " + file + ": " + e.getMessage(), e);
    }
  }

  private static SluiceConfig fromMap(Map<String, Object> values) {
    for (String name : values.keySet()) {
      if (KEYS.stream().noneMatch(k -> k.name().equals(name))) {
        throw new IllegalArgumentException("unknown config key '" + name + "'; known keys: "
            + KEYS.stream().map(Key::name).toList());
      }
    }
    int cores = Runtime.getRuntime().availableProcessors();
    int httpInstances = get(values, HTTP_INSTANCES, Integer::parseInt);
    int storeInstances = get(values, STORE_INSTANCES, Integer::parseInt);
    return new SluiceConfig(
        get(values, HTTP_HOST, s -> s),
        get(values, HTTP_PORT, Integer::parseInt),
        Path.of(SluiceConfig.<String>get(values, DATA_DIR, s -> s)),
        get(values, API_KEY_RW, s -> s),
        get(values, API_KEY_RO, s -> s),
        get(values, PUBLIC_URL, SluiceConfig::stripTrailingSlash),
        get(values, MAX_BATCH_BYTES, Long::parseLong),
        httpInstances > 0 ? httpInstances : cores,
        storeInstances > 0 ? storeInstances : Math.max(2, cores),
        get(values, MAX_RESULT_LIMIT, Integer::parseInt));
  }

  private static <T> T get(Map<String, Object> values, Key key, Function<String, T> parse) {
    Object raw = values.get(key.name());
    if (raw == null || raw.toString().isBlank()) {
      return null;
    }
    try {
      return parse.apply(raw.toString().trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("config '" + key.name() + "' (env " + key.env() + ") has invalid value '"
          + raw + "': " + key.description());
    }
  }

  private static String stripTrailingSlash(String url) {
    return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
  }

  /** The base URL clients should use to reach this server. */
  public String publicBaseUrl(int actualPort) {
    return publicUrl != null ? publicUrl : "http://" + httpHost + ":" + actualPort;
  }
}
