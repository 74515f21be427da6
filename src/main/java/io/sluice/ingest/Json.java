package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.jackson.JacksonCodec;
import java.io.IOException;

/** The one Jackson setup for row input: duplicate keys rejected, bounded nesting and value sizes. */
public final class Json {
  /** Deepest nesting of arrays and objects in any JSON input, rows and request bodies alike. */
  public static final int MAX_NESTING = 64;
  public static final ObjectMapper MAPPER = createMapper(true);
  /**
   * For {@link RowReader} only, which detects duplicate keys itself: the same limits without Jackson's duplicate
   * detection (a hash set per object, a twentieth of an import's CPU).
   */
  public static final JsonFactory FAST_ROWS = createMapper(false).getFactory();
  /**
   * Reads exactly one JSON value as a tree (content after it is malformed JSON, as for an NDJSON line);
   * cheaper per call than {@code MAPPER.readTree}, which ignores what follows the value.
   */
  public static final ObjectReader TREE = MAPPER.readerFor(JsonNode.class)
      .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private Json() {
  }

  /**
   * Decodes a JSON request body (queries, deletes, schemas, import options) into Vert.x's JsonObject/JsonArray
   * tree with the limits of row input: duplicate keys rejected, nesting at most {@link #MAX_NESTING} deep, bounded
   * numbers, names and strings. Vert.x's own decoder allows 1000 levels, deep enough for a where-clause to
   * overflow the stack of whatever walks it recursively.
   *
   * @throws DecodeException naming the problem (malformed JSON, a limit exceeded)
   */
  public static Object decodeRequest(Buffer body) {
    JsonParser parser;
    try {
      parser = MAPPER.getFactory().createParser(body.getBytes());
    } catch (IOException e) {
      throw new DecodeException("Failed to decode: " + e.getMessage());
    }
    return JacksonCodec.fromParser(parser, Object.class);
  }

  /**
   * Row input must be UTF-8. Jackson would detect UTF-16 or UTF-32 from a byte order mark or zero bytes at the
   * start and decode it (or fail with an I/O error rather than a parse error), while rows keep their input
   * bytes as the stored source, which search reads as UTF-8. A zero byte never occurs in UTF-8 JSON.
   *
   * @return why {@code bytes[off..off+len)} cannot be UTF-8 JSON, or null if it may be
   */
  public static String notUtf8(byte[] bytes, int off, int len) {
    if (len >= 2 && ((bytes[off] == (byte) 0xFE && bytes[off + 1] == (byte) 0xFF)
        || (bytes[off] == (byte) 0xFF && bytes[off + 1] == (byte) 0xFE))) {
      return "the JSON must be UTF-8; it starts with a UTF-16 byte order mark";
    }
    for (int i = off; i < off + Math.min(len, 4); i++) {
      if (bytes[i] == 0) {
        return "the JSON must be UTF-8; it has a zero byte at offset " + (i - off) + " (UTF-16 or UTF-32?)";
      }
    }
    return null;
  }

  private static ObjectMapper createMapper(boolean detectDuplicates) {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING)
            .maxNumberLength(400)
            .maxStringLength(16 * 1024 * 1024)
            .maxNameLength(1024)
            .build())
        .configure(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION, detectDuplicates)
        .build();
    // Numbers parse as int, long or BigInteger by size and as double: rows keep their original text as
    // the stored source, so the tree is only for validation and indexing, where doubles are what Lucene uses.
    ObjectMapper mapper = new ObjectMapper(factory);
    mapper.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    return mapper;
  }
}
