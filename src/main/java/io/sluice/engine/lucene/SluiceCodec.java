package io.sluice.engine.lucene;

import org.apache.lucene.codecs.FilterCodec;
import org.apache.lucene.codecs.StoredFieldsFormat;
import org.apache.lucene.codecs.compressing.CompressionMode;
import org.apache.lucene.codecs.lucene90.compressing.Lucene90CompressingStoredFieldsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;

/**
 * Lucene's default codec with plain LZ4 for stored fields. The default (LZ4 with a preset dictionary)
 * re-hashes its dictionary for every sub-block: profiling a 1M-row import showed it at ~12 % of all CPU,
 * for the one stored field Sluice has (the row's source). Plain LZ4 over 16 KB chunks (Lucene 8's
 * BEST_SPEED layout) costs a fraction of that, for a somewhat larger index.
 *
 * <p>Registered in {@code META-INF/services/org.apache.lucene.codecs.Codec}: segments name their codec and
 * are read back through that registry. Segments written by the default codec stay readable.
 */
public final class SluiceCodec extends FilterCodec {
  public static final String NAME = "Sluice912";

  private final StoredFieldsFormat storedFields =
      new Lucene90CompressingStoredFieldsFormat("SluiceStoredFieldsFast", CompressionMode.FAST, 16 * 1024, 128, 10);

  public SluiceCodec() {
    super(NAME, new Lucene912Codec());
  }

  @Override
  public StoredFieldsFormat storedFieldsFormat() {
    return storedFields;
  }
}
