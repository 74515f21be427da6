package io.sluice.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

/** The one Jackson setup for row input: duplicate keys rejected, bounded nesting and value sizes. */
public final class Json {
  public static final ObjectMapper MAPPER = createMapper();

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
    ObjectMapper mapper = new ObjectMapper(factory);
    mapper.enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);
    mapper.enable(DeserializationFeature.USE_BIG_INTEGER_FOR_INTS);
    mapper.disable(JsonParser.Feature.AUTO_CLOSE_SOURCE);
    return mapper;
  }
}
