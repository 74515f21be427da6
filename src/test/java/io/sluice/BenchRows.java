package io.sluice;

import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import java.util.zip.GZIPOutputStream;

/**
 * Rows with the schema of the benchmark table ({@code load-tests/bench/schema.json}), deterministic for a seed;
 * its own vocabularies and random numbers, not those of {@code load-tests/bench/gen_ndjson.py}.
 */
public final class BenchRows {
  public static final JsonObject SCHEMA = new JsonObject("""
      {"type": "table", "columns": {
        "id": {"type": "Int"}, "name": {"type": "String"},
        "tags": {"type": "Text", "analyzer": "whitespace"}, "age": {"type": "Int"},
        "price": {"type": "Decimal"}, "active": {"type": "Boolean"},
        "category": {"type": "String"}, "description": {"type": "Text", "analyzer": "english"}}}""");

  private static final String[] WORDS = {"red", "green", "blue", "fast", "slow", "data", "lake", "river", "stone",
      "cloud", "engine", "import", "table", "index", "search", "quiet", "bright", "market", "garden", "window"};
  private static final String[] CATEGORIES = {"books", "tools", "games", "food", "music", "sports", "garden"};

  private BenchRows() {
  }

  public static String row(Random random, int id) {
    StringBuilder tags = new StringBuilder();
    for (int i = 0; i < 3; i++) {
      tags.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    }
    StringBuilder description = new StringBuilder();
    for (int i = 0; i < 12; i++) {
      description.append(i == 0 ? "" : " ").append(WORDS[random.nextInt(WORDS.length)]);
    }
    return "{\"id\":" + id + ",\"name\":\"user" + id + "\",\"tags\":\"" + tags + "\",\"age\":" + (18 + random.nextInt(70))
        + ",\"price\":" + (random.nextInt(100000) / 100.0) + ",\"active\":" + random.nextBoolean()
        + ",\"category\":\"" + CATEGORIES[random.nextInt(CATEGORIES.length)] + "\",\"description\":\"" + description
        + "\"}";
  }

  /** Writes rows [0, count) as NDJSON to out; lines listed in {@code bad} are replaced by the given text. */
  public static void write(OutputStream out, long seed, int count, java.util.Map<Integer, String> bad) {
    Random random = new Random(seed);
    try {
      StringBuilder chunk = new StringBuilder();
      for (int id = 0; id < count; id++) {
        String line = row(random, id);
        chunk.append(bad.getOrDefault(id, line)).append('\n');
        if (chunk.length() > 1 << 16) {
          out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
          chunk.setLength(0);
        }
      }
      out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public static byte[] gzip(byte[] plain) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (GZIPOutputStream gzip = new GZIPOutputStream(bytes, 1 << 16)) {
      gzip.write(plain);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static byte[] ndjson(long seed, int count, java.util.Map<Integer, String> bad) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    write(bytes, seed, count, bad);
    return bytes.toByteArray();
  }
}
