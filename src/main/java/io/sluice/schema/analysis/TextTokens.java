package io.sluice.schema.analysis;

import io.sluice.schema.ColumnSchema;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashSet;
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

  /** Receives each token of a text as the analyzer's own buffer: valid only during the call. */
  @FunctionalInterface
  public interface Terms {
    void term(char[] buffer, int length);
  }

  /**
   * Every non-empty token of text, in order, duplicates included: what {@link #of} is made of, for a caller that
   * encodes tokens itself (no String per token).
   */
  public static void forEach(ColumnSchema column, String text, Terms terms) {
    try (TokenStream stream = analyzer(column).tokenStream("text", text)) {
      CharTermAttribute term = stream.addAttribute(CharTermAttribute.class);
      stream.reset();
      while (stream.incrementToken()) {
        int length = term.length();
        if (length > 0) {
          terms.term(term.buffer(), length);
        }
      }
      stream.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The distinct non-empty tokens of text, in the order they first occur. */
  public static List<String> of(ColumnSchema column, String text) {
    // A text has a few dozen tokens: comparing a new token with those kept spares a String hash and a set node
    // per token (LinkedHashSet.add led a PostgreSQL import's Java samples); a set only for long texts.
    List<String> tokens = new ArrayList<>();
    forEach(column, text, new Terms() {
      private Set<String> seen;

      @Override
      public void term(char[] buffer, int length) {
        if (seen != null) {
          String token = new String(buffer, 0, length);
          if (seen.add(token)) {
            tokens.add(token);
          }
        } else if (!contains(tokens, buffer, length)) {
          tokens.add(new String(buffer, 0, length));
          if (tokens.size() == LINEAR_LIMIT) {
            seen = new HashSet<>(tokens);
          }
        }
      }
    });
    return tokens;
  }

  /** Up to this many distinct tokens, duplicates are found by comparing with each; beyond, by a hash set. */
  private static final int LINEAR_LIMIT = 64;

  private static boolean contains(List<String> tokens, char[] term, int length) {
    for (int i = 0, n = tokens.size(); i < n; i++) {
      String token = tokens.get(i);
      if (token.length() == length && equals(token, term, length)) {
        return true;
      }
    }
    return false;
  }

  private static boolean equals(String token, char[] term, int length) {
    for (int j = 0; j < length; j++) {
      if (token.charAt(j) != term[j]) {
        return false;
      }
    }
    return true;
  }
}
