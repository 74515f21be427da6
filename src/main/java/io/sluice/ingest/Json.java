package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The one Jackson setup for row input: duplicate keys rejected, bounded nesting and value sizes. */
public final class Json {
  public static final ObjectMapper MAPPER = createMapper();
  /** Reads one JSON value as a tree; cheaper per call than {@code MAPPER.readTree}. */
  public static final ObjectReader TREE = MAPPER.readerFor(JsonNode.class);

  private Json() {
  }

  private static ObjectMapper createMapper() {
    JsonFactory factory = JsonFactory.builder()
        .streamReadConstraints(StreamReadConstraints.builder()
            .maxNestingDepth(64)
            .maxNumberLength(400)
            .maxStringLength(16 * 1024 * 1024)
            .maxNameLength(1024)
            .build())
        .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
        .build();
    // Numbers parse as int, long or BigInteger by size and as double: rows keep their original text as
    // the stored source, so the tree is only for validation and indexing, where doubles are what Lucene uses.
    ObjectMapper mapper = new ObjectMapper(factory);
    mapper.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    return mapper;
  }
}
