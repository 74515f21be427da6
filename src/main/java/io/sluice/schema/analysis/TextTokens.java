package io.sluice.schema.analysis;

import io.sluice.schema.ColumnSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;

/**
 * The tokens Sluice's analyzer for a Text column makes of a text: the same for every engine, so that
 * {@code $match} and {@code $has} find the same rows on Lucene and PostgreSQL.
 */
public final class TextTokens {
  /** Analyzers are thread-safe and costly to build: one per distinct analyzer spelling. */
  private static final Map<Object, Analyzer> ANALYZERS = new ConcurrentHashMap<>();

  private TextTokens() {
  }

  public static Analyzer analyzer(ColumnSchema column) {
    Object spec = column.analyzer() == null ? Analyzers.DEFAULT : column.analyzer();
    return ANALYZERS.computeIfAbsent(spec instanceof io.vertx.core.json.JsonObject json ? json.encode() : spec,
        key -> Analyzers.build(spec));
  }

  /** The distinct non-empty tokens of text, in the order they first occur. */
  public static List<String> of(ColumnSchema column, String text) {
    Set<String> tokens = new LinkedHashSet<>();
    try (TokenStream stream = analyzer(column).tokenStream("text", text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        if (term.length() > 0) {
          tokens.add(term.toString());
        }
      }
      stream.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new ArrayList<>(tokens);
  }
}
