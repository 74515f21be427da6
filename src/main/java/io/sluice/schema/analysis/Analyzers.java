package io.sluice.schema.analysis;

import io.sluice.errors.ApiError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.AnalyzerWrapper;
import org.apache.lucene.analysis.CharArraySet;
import org.apache.lucene.analysis.LowerCaseFilter;
import org.apache.lucene.analysis.TokenFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.Tokenizer;
import org.apache.lucene.analysis.ar.ArabicAnalyzer;
import org.apache.lucene.analysis.bg.BulgarianAnalyzer;
import org.apache.lucene.analysis.bn.BengaliAnalyzer;
import org.apache.lucene.analysis.br.BrazilianAnalyzer;
import org.apache.lucene.analysis.ca.CatalanAnalyzer;
import org.apache.lucene.analysis.cjk.CJKAnalyzer;
import org.apache.lucene.analysis.ckb.SoraniAnalyzer;
import org.apache.lucene.analysis.core.WhitespaceTokenizer;
import org.apache.lucene.analysis.cz.CzechAnalyzer;
import org.apache.lucene.analysis.da.DanishAnalyzer;
import org.apache.lucene.analysis.de.GermanAnalyzer;
import org.apache.lucene.analysis.el.GreekAnalyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.es.SpanishAnalyzer;
import org.apache.lucene.analysis.et.EstonianAnalyzer;
import org.apache.lucene.analysis.eu.BasqueAnalyzer;
import org.apache.lucene.analysis.fa.PersianAnalyzer;
import org.apache.lucene.analysis.fi.FinnishAnalyzer;
import org.apache.lucene.analysis.fr.FrenchAnalyzer;
import org.apache.lucene.analysis.ga.IrishAnalyzer;
import org.apache.lucene.analysis.gl.GalicianAnalyzer;
import org.apache.lucene.analysis.hi.HindiAnalyzer;
import org.apache.lucene.analysis.hu.HungarianAnalyzer;
import org.apache.lucene.analysis.hy.ArmenianAnalyzer;
import org.apache.lucene.analysis.id.IndonesianAnalyzer;
import org.apache.lucene.analysis.it.ItalianAnalyzer;
import org.apache.lucene.analysis.lt.LithuanianAnalyzer;
import org.apache.lucene.analysis.lv.LatvianAnalyzer;
import org.apache.lucene.analysis.ne.NepaliAnalyzer;
import org.apache.lucene.analysis.ngram.NGramTokenizer;
import org.apache.lucene.analysis.nl.DutchAnalyzer;
import org.apache.lucene.analysis.no.NorwegianAnalyzer;
import org.apache.lucene.analysis.pt.PortugueseAnalyzer;
import org.apache.lucene.analysis.ro.RomanianAnalyzer;
import org.apache.lucene.analysis.ru.RussianAnalyzer;
import org.apache.lucene.analysis.shingle.ShingleFilter;
import org.apache.lucene.analysis.sr.SerbianAnalyzer;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.analysis.sv.SwedishAnalyzer;
import org.apache.lucene.analysis.ta.TamilAnalyzer;
import org.apache.lucene.analysis.te.TeluguAnalyzer;
import org.apache.lucene.analysis.th.ThaiAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.apache.lucene.analysis.tokenattributes.PositionIncrementAttribute;
import org.apache.lucene.analysis.tr.TurkishAnalyzer;

/**
 * Aito analyzer specs (docs/api.md §1) to Lucene {@link Analyzer}s.
 *
 * <p>A spec is either a case-insensitive string alias ({@code standard}, {@code whitespace}, or a language
 * name / ISO code) or a {@link JsonObject} whose {@code type} is one of {@code language}, {@code delimiter},
 * {@code char-ngram}, {@code token-ngram} (plus {@code standard} / {@code whitespace} for leniency).
 * {@link #validate} reports problems as 400s; {@link #build} returns a cached, thread-safe analyzer.
 */
public final class Analyzers {

  /** The analyzer used when a Text column has no analyzer given. */
  public static final String DEFAULT = "standard";

  /**
   * Upper bound for {@code maxGram} of both n-gram analyzers. Aito documents no limit, but Lucene's
   * NGramTokenizer allocates a buffer of {@code maxGram + 1024} code points per stream, so an unbounded value
   * lets one schema request exhaust the heap; no sensible n-gram configuration comes near this.
   */
  static final int MAX_GRAM = 256;

  private static final Map<String, Analyzer> CACHE = new ConcurrentHashMap<>();

  private static final String STANDARD = "standard";
  private static final String WHITESPACE = "whitespace";
  private static final String LANGUAGE = "language";
  private static final String DELIMITER = "delimiter";
  private static final String CHAR_NGRAM = "char-ngram";
  private static final String TOKEN_NGRAM = "token-ngram";
  private static final List<String> OBJECT_TYPES =
      List.of(LANGUAGE, DELIMITER, CHAR_NGRAM, TOKEN_NGRAM, STANDARD, WHITESPACE);

  /**
   * One Lucene language analyzer. {@code withDefaults} is the no-arg constructor (its default stop words and,
   * for Dutch, its default stem overrides); {@code custom} takes (stop words, stem exclusions).
   */
  private record Language(
      String name,
      List<String> codes,
      Supplier<Analyzer> withDefaults,
      Supplier<CharArraySet> defaultStopWords,
      BiFunction<CharArraySet, CharArraySet, Analyzer> custom,
      boolean supportsKeywords) {}

  /** Canonical name → language, in the order listed in error messages. */
  private static final Map<String, Language> LANGUAGES = new LinkedHashMap<>();
  /** Every accepted lowercase name or code → language. */
  private static final Map<String, Language> LANGUAGE_ALIASES = new ConcurrentHashMap<>();

  static {
    // Languages Aito documents (31 + cjk) ...
    stemming("arabic", List.of("ar"), ArabicAnalyzer::new, ArabicAnalyzer::getDefaultStopSet, ArabicAnalyzer::new);
    stemming("armenian", List.of("hy"), ArmenianAnalyzer::new, ArmenianAnalyzer::getDefaultStopSet,
        ArmenianAnalyzer::new);
    stemming("basque", List.of("eu"), BasqueAnalyzer::new, BasqueAnalyzer::getDefaultStopSet, BasqueAnalyzer::new);
    stemming("brazilian", List.of("pt-br", "pt_br"), BrazilianAnalyzer::new, BrazilianAnalyzer::getDefaultStopSet,
        BrazilianAnalyzer::new);
    stemming("bulgarian", List.of("bg"), BulgarianAnalyzer::new, BulgarianAnalyzer::getDefaultStopSet,
        BulgarianAnalyzer::new);
    stemming("catalan", List.of("ca"), CatalanAnalyzer::new, CatalanAnalyzer::getDefaultStopSet,
        CatalanAnalyzer::new);
    // CJK: bigrams of Han/Hiragana/Katakana/Hangul, no stemmer, so there is nothing to protect from stemming.
    stopOnly("cjk", List.of(), CJKAnalyzer::new, CJKAnalyzer::getDefaultStopSet, CJKAnalyzer::new);
    stemming("czech", List.of("cs"), CzechAnalyzer::new, CzechAnalyzer::getDefaultStopSet, CzechAnalyzer::new);
    stemming("danish", List.of("da"), DanishAnalyzer::new, DanishAnalyzer::getDefaultStopSet, DanishAnalyzer::new);
    stemming("dutch", List.of("nl"), DutchAnalyzer::new, DutchAnalyzer::getDefaultStopSet, DutchAnalyzer::new);
    stemming("english", List.of("en"), EnglishAnalyzer::new, EnglishAnalyzer::getDefaultStopSet,
        EnglishAnalyzer::new);
    stemming("finnish", List.of("fi"), FinnishAnalyzer::new, FinnishAnalyzer::getDefaultStopSet,
        FinnishAnalyzer::new);
    stemming("french", List.of("fr"), FrenchAnalyzer::new, FrenchAnalyzer::getDefaultStopSet, FrenchAnalyzer::new);
    stemming("galician", List.of("gl"), GalicianAnalyzer::new, GalicianAnalyzer::getDefaultStopSet,
        GalicianAnalyzer::new);
    stemming("german", List.of("de"), GermanAnalyzer::new, GermanAnalyzer::getDefaultStopSet, GermanAnalyzer::new);
    // Greek: GreekAnalyzer has only a (stopwords) constructor; it builds its own chain without a
    // SetKeywordMarkerFilter, so customKeyWords cannot be honoured and are ignored.
    stopOnly("greek", List.of("el"), GreekAnalyzer::new, GreekAnalyzer::getDefaultStopSet, GreekAnalyzer::new);
    stemming("hindi", List.of("hi"), HindiAnalyzer::new, HindiAnalyzer::getDefaultStopSet, HindiAnalyzer::new);
    stemming("hungarian", List.of("hu"), HungarianAnalyzer::new, HungarianAnalyzer::getDefaultStopSet,
        HungarianAnalyzer::new);
    stemming("indonesian", List.of("id"), IndonesianAnalyzer::new, IndonesianAnalyzer::getDefaultStopSet,
        IndonesianAnalyzer::new);
    stemming("irish", List.of("ga"), IrishAnalyzer::new, IrishAnalyzer::getDefaultStopSet, IrishAnalyzer::new);
    stemming("italian", List.of("it"), ItalianAnalyzer::new, ItalianAnalyzer::getDefaultStopSet,
        ItalianAnalyzer::new);
    stemming("latvian", List.of("lv"), LatvianAnalyzer::new, LatvianAnalyzer::getDefaultStopSet,
        LatvianAnalyzer::new);
    stemming("norwegian", List.of("no"), NorwegianAnalyzer::new, NorwegianAnalyzer::getDefaultStopSet,
        NorwegianAnalyzer::new);
    // Persian: only a (stopwords) constructor, no keyword-marker hook, so customKeyWords are ignored.
    stopOnly("persian", List.of("fa"), PersianAnalyzer::new, PersianAnalyzer::getDefaultStopSet,
        PersianAnalyzer::new);
    stemming("portuguese", List.of("pt"), PortugueseAnalyzer::new, PortugueseAnalyzer::getDefaultStopSet,
        PortugueseAnalyzer::new);
    stemming("romanian", List.of("ro"), RomanianAnalyzer::new, RomanianAnalyzer::getDefaultStopSet,
        RomanianAnalyzer::new);
    stemming("russian", List.of("ru"), RussianAnalyzer::new, RussianAnalyzer::getDefaultStopSet,
        RussianAnalyzer::new);
    stemming("spanish", List.of("es"), SpanishAnalyzer::new, SpanishAnalyzer::getDefaultStopSet,
        SpanishAnalyzer::new);
    stemming("swedish", List.of("sv"), SwedishAnalyzer::new, SwedishAnalyzer::getDefaultStopSet,
        SwedishAnalyzer::new);
    // Thai: dictionary word segmentation, no stemmer, so customKeyWords have no effect and are ignored.
    stopOnly("thai", List.of("th"), ThaiAnalyzer::new, ThaiAnalyzer::getDefaultStopSet, ThaiAnalyzer::new);
    stemming("turkish", List.of("tr"), TurkishAnalyzer::new, TurkishAnalyzer::getDefaultStopSet,
        TurkishAnalyzer::new);
    // ... plus the other plain language analyzers Lucene 9.12 analysis-common ships (Sluice extensions).
    stemming("bengali", List.of("bn"), BengaliAnalyzer::new, BengaliAnalyzer::getDefaultStopSet,
        BengaliAnalyzer::new);
    stemming("estonian", List.of("et"), EstonianAnalyzer::new, EstonianAnalyzer::getDefaultStopSet,
        EstonianAnalyzer::new);
    stemming("lithuanian", List.of("lt"), LithuanianAnalyzer::new, LithuanianAnalyzer::getDefaultStopSet,
        LithuanianAnalyzer::new);
    stemming("nepali", List.of("ne"), NepaliAnalyzer::new, NepaliAnalyzer::getDefaultStopSet, NepaliAnalyzer::new);
    stemming("serbian", List.of("sr"), SerbianAnalyzer::new, SerbianAnalyzer::getDefaultStopSet,
        SerbianAnalyzer::new);
    stemming("sorani", List.of("ckb"), SoraniAnalyzer::new, SoraniAnalyzer::getDefaultStopSet, SoraniAnalyzer::new);
    stemming("tamil", List.of("ta"), TamilAnalyzer::new, TamilAnalyzer::getDefaultStopSet, TamilAnalyzer::new);
    stemming("telugu", List.of("te"), TeluguAnalyzer::new, TeluguAnalyzer::getDefaultStopSet, TeluguAnalyzer::new);
  }

  private static void stemming(String name, List<String> codes, Supplier<Analyzer> withDefaults,
      Supplier<CharArraySet> defaultStops, BiFunction<CharArraySet, CharArraySet, Analyzer> custom) {
    register(new Language(name, codes, withDefaults, defaultStops, custom, true));
  }

  private static void stopOnly(String name, List<String> codes, Supplier<Analyzer> withDefaults,
      Supplier<CharArraySet> defaultStops, java.util.function.Function<CharArraySet, Analyzer> custom) {
    register(new Language(name, codes, withDefaults, defaultStops, (stops, keywords) -> custom.apply(stops), false));
  }

  private static void register(Language language) {
    LANGUAGES.put(language.name(), language);
    LANGUAGE_ALIASES.put(language.name(), language);
    for (String code : language.codes()) {
      LANGUAGE_ALIASES.put(code, language);
    }
  }

  private Analyzers() {}

  /**
   * Checks an analyzer spec; throws {@code ApiError.badRequest} with a message naming {@code where} (e.g.
   * "column 'tags' of table 'customers'") and what is wrong/expected.
   */
  public static void validate(String where, Object spec) {
    parse(where, spec);
  }

  /**
   * Builds (or returns the cached) Lucene Analyzer for a spec: a {@link String} alias or a {@link JsonObject}
   * (a {@link Map} is accepted as an object too). An invalid spec throws the same 400 as {@link #validate}.
   */
  public static Analyzer build(Object spec) {
    String key = cacheKey(spec);
    Analyzer cached = key == null ? null : CACHE.get(key);
    if (cached != null) {
      return cached;
    }
    // Not computeIfAbsent: token-ngram builds its source recursively, which would re-enter the map.
    Analyzer created = parse("the given spec", spec).create();
    // token-ngram with maxGram 1 is its (already built and limited) source
    Analyzer built = created instanceof TermLimitWrapper ? created : new TermLimitWrapper(created);
    if (key == null) {
      return built;
    }
    Analyzer raced = CACHE.putIfAbsent(key, built);
    return raced != null ? raced : built;
  }

  /**
   * A valid spec (one {@link #validate} accepted) in the spelling Aito's clients read back: the Python client
   * checks GET /api/v1/schema against exact-case enums of aliases (standard, whitespace, language names and
   * two-letter codes) and of object types. Aliases are lower case ("Whitespace", "EN" become "whitespace",
   * "en"), a longer language code becomes the language's name ("pt-br" becomes "brazilian"), object types are
   * lower case, {"type":"standard"} / {"type":"whitespace"} become the alias, a language object's language and
   * a token-ngram's source are canonical too. It builds the same analyzer as the spec.
   */
  public static Object canonical(Object spec) {
    if (spec instanceof String alias) {
      String key = alias.toLowerCase(Locale.ROOT);
      Language language = LANGUAGE_ALIASES.get(key);
      return language != null && key.length() > 2 ? language.name() : key;
    }
    JsonObject obj = spec instanceof Map<?, ?> map ? asJsonObject(map) : (JsonObject) spec;
    String type = obj.getString("type").toLowerCase(Locale.ROOT);
    if (type.equals(STANDARD) || type.equals(WHITESPACE)) {
      return type;
    }
    JsonObject out = obj.copy().put("type", type);
    if (type.equals(LANGUAGE)) {
      out.put("language", canonical(obj.getString("language")));
    } else if (type.equals(TOKEN_NGRAM)) {
      out.put("source", canonical(obj.getValue("source")));
    }
    return out;
  }

  /** The accepted language names with their codes, e.g. "english/en", for messages and docs. */
  public static List<String> languages() {
    List<String> out = new ArrayList<>();
    for (Language language : LANGUAGES.values()) {
      out.add(language.codes().isEmpty() ? language.name()
          : language.name() + "/" + String.join("/", language.codes()));
    }
    return Collections.unmodifiableList(out);
  }

  private static String cacheKey(Object spec) {
    if (spec instanceof String s) {
      return "s:" + s.toLowerCase(Locale.ROOT);
    }
    try {
      if (spec instanceof JsonObject obj) {
        return "o:" + obj.encode();
      }
      if (spec instanceof Map<?, ?> map) {
        return "o:" + asJsonObject(map).encode();
      }
    } catch (RuntimeException notJson) {
      return null; // holds a non-JSON value; parse() reports it
    }
    return null; // invalid; parse() will throw
  }

  @SuppressWarnings("unchecked")
  private static JsonObject asJsonObject(Map<?, ?> map) {
    return new JsonObject((Map<String, Object>) map);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Parsing: one pass that validates and yields a recipe, so validate() and build() cannot disagree.

  @FunctionalInterface
  private interface Recipe {
    Analyzer create();
  }

  private static Recipe parse(String where, Object spec) {
    if (spec instanceof String alias) {
      return parseAlias(where, alias);
    }
    if (spec instanceof JsonObject obj) {
      return parseObject(where, obj);
    }
    if (spec instanceof Map<?, ?> map) {
      return parseObject(where, asJsonObject(map));
    }
    throw bad(where, "expected a string alias or an object, got " + describe(spec) + ". " + accepted());
  }

  private static Recipe parseAlias(String where, String alias) {
    String key = alias.toLowerCase(Locale.ROOT);
    if (key.equals(STANDARD)) {
      return Analyzers::standard;
    }
    if (key.equals(WHITESPACE)) {
      return Analyzers::whitespace;
    }
    Language language = LANGUAGE_ALIASES.get(key);
    if (language != null) {
      return language.withDefaults()::get;
    }
    throw bad(where, "unknown analyzer '" + alias + "'. " + accepted());
  }

  private static Recipe parseObject(String where, JsonObject obj) {
    Object typeValue = obj.getValue("type");
    if (typeValue == null) {
      throw bad(where, "an analyzer object needs a string field 'type', one of " + quoted(OBJECT_TYPES));
    }
    if (!(typeValue instanceof String typeString)) {
      throw bad(where, "field 'type' must be a string, got " + describe(typeValue));
    }
    String type = typeString.toLowerCase(Locale.ROOT);
    switch (type) {
      case STANDARD:
        allowOnly(where, type, obj, Set.of("type"));
        return Analyzers::standard;
      case WHITESPACE:
        allowOnly(where, type, obj, Set.of("type"));
        return Analyzers::whitespace;
      case LANGUAGE:
        return parseLanguage(where, obj);
      case DELIMITER:
        return parseDelimiter(where, obj);
      case CHAR_NGRAM:
        return parseCharNgram(where, obj);
      case TOKEN_NGRAM:
        return parseTokenNgram(where, obj);
      default:
        throw bad(where, "unknown analyzer type '" + typeString + "'; expected one of " + quoted(OBJECT_TYPES));
    }
  }

  private static Recipe parseLanguage(String where, JsonObject obj) {
    allowOnly(where, LANGUAGE, obj,
        Set.of("type", "language", "useDefaultStopWords", "customStopWords", "customKeyWords"));
    String name = requiredString(where, LANGUAGE, obj, "language");
    Language language = LANGUAGE_ALIASES.get(name.toLowerCase(Locale.ROOT));
    if (language == null) {
      throw bad(where, "unknown language '" + name + "'; expected a language name or ISO code: "
          + String.join(", ", languages()));
    }
    boolean useDefaults = optionalBoolean(where, LANGUAGE, obj, "useDefaultStopWords", false);
    List<String> customStops = optionalStrings(where, LANGUAGE, obj, "customStopWords");
    List<String> keywords = optionalStrings(where, LANGUAGE, obj, "customKeyWords");
    return () -> {
      // ignoreCase=true: every language chain lowercases before its stop and keyword-marker filters.
      CharArraySet stops = new CharArraySet(customStops.size() + 16, true);
      if (useDefaults) {
        stops.addAll(language.defaultStopWords().get());
      }
      stops.addAll(customStops);
      CharArraySet exclusions = new CharArraySet(keywords, true);
      // For stop-only languages the stem exclusions are dropped by the table entry (see comments there).
      return language.custom().apply(CharArraySet.unmodifiableSet(stops),
          CharArraySet.unmodifiableSet(exclusions));
    };
  }

  private static Recipe parseDelimiter(String where, JsonObject obj) {
    allowOnly(where, DELIMITER, obj, Set.of("type", "delimiter", "trimWhitespace"));
    String delimiter = requiredString(where, DELIMITER, obj, "delimiter");
    if (delimiter.isEmpty()) {
      throw bad(where, "field 'delimiter' of a 'delimiter' analyzer must be a non-empty string");
    }
    boolean trim = optionalBoolean(where, DELIMITER, obj, "trimWhitespace", true);
    return () -> new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String fieldName) {
        return new TokenStreamComponents(new DelimiterTokenizer(delimiter, trim));
      }
    };
  }

  private static Recipe parseCharNgram(String where, JsonObject obj) {
    allowOnly(where, CHAR_NGRAM, obj, Set.of("type", "minGram", "maxGram"));
    int[] grams = gramRange(where, CHAR_NGRAM, obj);
    int min = grams[0];
    int max = grams[1];
    return () -> new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String fieldName) {
        // Grams of the whole text, whitespace included, like Aito; lowercasing per gram is equivalent.
        Tokenizer source = new NGramTokenizer(min, max);
        return new TokenStreamComponents(source, new LowerCaseFilter(source));
      }

      @Override
      protected TokenStream normalize(String fieldName, TokenStream in) {
        return new LowerCaseFilter(in);
      }
    };
  }

  private static Recipe parseTokenNgram(String where, JsonObject obj) {
    allowOnly(where, TOKEN_NGRAM, obj, Set.of("type", "source", "minGram", "maxGram", "tokenSeparator"));
    Object sourceSpec = obj.getValue("source");
    if (sourceSpec == null) {
      throw bad(where, "a 'token-ngram' analyzer needs a field 'source' holding an analyzer (alias or object)");
    }
    parse(where + " (in 'source' of its token-ngram analyzer)", sourceSpec);
    int[] grams = gramRange(where, TOKEN_NGRAM, obj);
    int min = grams[0];
    int max = grams[1];
    String separator = obj.containsKey("tokenSeparator")
        ? requiredString(where, TOKEN_NGRAM, obj, "tokenSeparator")
        : ShingleFilter.DEFAULT_TOKEN_SEPARATOR;
    return () -> {
      Analyzer source = build(sourceSpec);
      return max == 1 ? source : new ShingleWrapper(source, min, max, separator);
    };
  }

  // ---------------------------------------------------------------------------------------------------------
  // Field helpers

  private static void allowOnly(String where, String type, JsonObject obj, Set<String> allowed) {
    for (String field : obj.fieldNames()) {
      if (!allowed.contains(field)) {
        List<String> sorted = new ArrayList<>(allowed);
        Collections.sort(sorted);
        throw bad(where, "unknown field '" + field + "' for a '" + type + "' analyzer; allowed fields are "
            + quoted(sorted));
      }
    }
  }

  private static String requiredString(String where, String type, JsonObject obj, String field) {
    Object value = obj.getValue(field);
    if (value == null) {
      throw bad(where, "a '" + type + "' analyzer needs a string field '" + field + "'");
    }
    if (!(value instanceof String s)) {
      throw bad(where, "field '" + field + "' of a '" + type + "' analyzer must be a string, got " + describe(value));
    }
    return s;
  }

  private static boolean optionalBoolean(String where, String type, JsonObject obj, String field, boolean dflt) {
    if (!obj.containsKey(field)) {
      return dflt;
    }
    Object value = obj.getValue(field);
    if (!(value instanceof Boolean b)) {
      throw bad(where, "field '" + field + "' of a '" + type + "' analyzer must be a boolean, got "
          + describe(value));
    }
    return b;
  }

  private static List<String> optionalStrings(String where, String type, JsonObject obj, String field) {
    if (!obj.containsKey(field)) {
      return List.of();
    }
    Object value = obj.getValue(field);
    if (!(value instanceof JsonArray array)) {
      throw bad(where, "field '" + field + "' of a '" + type + "' analyzer must be an array of strings, got "
          + describe(value));
    }
    Set<String> out = new LinkedHashSet<>();
    for (int i = 0; i < array.size(); i++) {
      Object item = array.getValue(i);
      if (!(item instanceof String s)) {
        throw bad(where, "field '" + field + "' of a '" + type + "' analyzer must be an array of strings, but item "
            + i + " is " + describe(item));
      }
      out.add(s);
    }
    return List.copyOf(out);
  }

  private static int[] gramRange(String where, String type, JsonObject obj) {
    int min = requiredInt(where, type, obj, "minGram");
    int max = requiredInt(where, type, obj, "maxGram");
    if (min < 1) {
      throw bad(where, "field 'minGram' of a '" + type + "' analyzer must be at least 1, got " + min);
    }
    if (max < min) {
      throw bad(where, "field 'maxGram' of a '" + type + "' analyzer must be at least minGram (" + min + "), got "
          + max);
    }
    if (max > MAX_GRAM) {
      throw bad(where, "field 'maxGram' of a '" + type + "' analyzer must be at most " + MAX_GRAM + ", got " + max);
    }
    return new int[] {min, max};
  }

  private static int requiredInt(String where, String type, JsonObject obj, String field) {
    Object value = obj.getValue(field);
    if (value == null) {
      throw bad(where, "a '" + type + "' analyzer needs an integer field '" + field + "'");
    }
    Integer i = asInt(value);
    if (i == null) {
      throw bad(where, "field '" + field + "' of a '" + type + "' analyzer must be an integer, got "
          + describe(value));
    }
    return i;
  }

  /** An integral JSON number that fits an int (2 and 2.0 both count), else null. */
  private static Integer asInt(Object value) {
    if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      return ((Number) value).intValue();
    }
    if (value instanceof Long l) {
      return l >= Integer.MIN_VALUE && l <= Integer.MAX_VALUE ? (int) (long) l : null;
    }
    if (value instanceof BigInteger b) {
      return b.bitLength() < 32 ? b.intValue() : null;
    }
    if (value instanceof Number n) {
      try {
        return new BigDecimal(n.toString()).intValueExact();
      } catch (ArithmeticException | NumberFormatException e) {
        return null;
      }
    }
    return null;
  }

  private static String describe(Object value) {
    if (value == null) {
      return "null";
    }
    if (value instanceof String s) {
      return "the string \"" + s + "\"";
    }
    if (value instanceof Boolean || value instanceof Number) {
      return value.toString();
    }
    if (value instanceof JsonArray || value instanceof List) {
      return "an array";
    }
    if (value instanceof JsonObject || value instanceof Map) {
      return "an object";
    }
    return "a " + value.getClass().getSimpleName();
  }

  private static String quoted(List<String> values) {
    List<String> out = new ArrayList<>(values.size());
    for (String v : values) {
      out.add("'" + v + "'");
    }
    return String.join(", ", out);
  }

  private static String accepted() {
    return "Accepted: 'standard', 'whitespace', a language name or ISO code (" + String.join(", ", languages())
        + "), or an object with 'type' one of " + quoted(OBJECT_TYPES.subList(0, 4)) + ".";
  }

  private static ApiError bad(String where, String problem) {
    return ApiError.badRequest("Invalid analyzer for " + where + ": " + problem);
  }

  // ---------------------------------------------------------------------------------------------------------
  // Analyzers

  /** Aito's standard analyzer: Unicode word segmentation and lowercasing, no stop words. */
  private static Analyzer standard() {
    return new StandardAnalyzer(CharArraySet.EMPTY_SET);
  }

  /**
   * Splits on whitespace and lowercases. Aito documents "whitespace" as plain whitespace splitting, but in
   * practice its whitespace-analyzed fields match case-insensitively, so Sluice lowercases too (in both the
   * token chain and query-time normalization).
   */
  private static Analyzer whitespace() {
    return new Analyzer() {
      @Override
      protected TokenStreamComponents createComponents(String fieldName) {
        Tokenizer source = new WhitespaceTokenizer();
        return new TokenStreamComponents(source, new LowerCaseFilter(source));
      }

      @Override
      protected TokenStream normalize(String fieldName, TokenStream in) {
        return new LowerCaseFilter(in);
      }
    };
  }

  /**
   * Shingles of a source analyzer's tokens. Position gaps (e.g. left by removed stop words) are closed before
   * shingling so that shingles join the surviving adjacent tokens instead of containing ShingleFilter's "_"
   * filler. With minGram 1 the source tokens are emitted too; with minGram >= 2 only shingles are.
   */
  private static final class ShingleWrapper extends AnalyzerWrapper {
    private final Analyzer source;
    private final int min;
    private final int max;
    private final String separator;

    ShingleWrapper(Analyzer source, int min, int max, String separator) {
      super(source.getReuseStrategy());
      this.source = source;
      this.min = min;
      this.max = max;
      this.separator = separator;
    }

    @Override
    protected Analyzer getWrappedAnalyzer(String fieldName) {
      return source;
    }

    @Override
    protected TokenStreamComponents wrapComponents(String fieldName, TokenStreamComponents components) {
      ShingleFilter shingles =
          new ShingleFilter(new CloseGapsFilter(components.getTokenStream()), Math.max(2, min), max);
      shingles.setOutputUnigrams(min == 1);
      shingles.setOutputUnigramsIfNoShingles(false);
      shingles.setTokenSeparator(separator);
      shingles.setFillerToken("");
      return new TokenStreamComponents(components.getSource(), shingles);
    }
  }

  /**
   * Lucene refuses a whole document when one of its terms is over {@value #MAX_TERM_BYTES} UTF-8 bytes (an
   * IllegalArgumentException from the writer). The delimiter analyzer (one piece can be a whole value) and
   * token-ngram shingles can produce such terms from a valid row, so every analyzer truncates its terms to that
   * many bytes on a code point boundary, at index and at query time alike (as String keywords are), and a long
   * token still matches itself. Terms that Lucene accepted before are unchanged.
   */
  static final int MAX_TERM_BYTES = 32766;

  private static final class TermLimitWrapper extends AnalyzerWrapper {
    private final Analyzer wrapped;

    TermLimitWrapper(Analyzer wrapped) {
      super(wrapped.getReuseStrategy());
      this.wrapped = wrapped;
    }

    @Override
    protected Analyzer getWrappedAnalyzer(String fieldName) {
      return wrapped;
    }

    @Override
    protected TokenStreamComponents wrapComponents(String fieldName, TokenStreamComponents components) {
      return new TokenStreamComponents(components.getSource(), new TermLimitFilter(components.getTokenStream()));
    }
  }

  /** Truncates terms longer than {@link #MAX_TERM_BYTES} UTF-8 bytes to a whole code point within the limit. */
  private static final class TermLimitFilter extends TokenFilter {
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);

    TermLimitFilter(TokenStream in) {
      super(in);
    }

    @Override
    public boolean incrementToken() throws IOException {
      if (!input.incrementToken()) {
        return false;
      }
      int length = term.length();
      if (length > MAX_TERM_BYTES / 3) { // shorter terms fit: a UTF-16 unit is at most 3 UTF-8 bytes
        char[] chars = term.buffer();
        int bytes = 0;
        for (int i = 0; i < length; i++) {
          char c = chars[i];
          int n;
          int units = 1;
          if (c < 0x80) {
            n = 1;
          } else if (c < 0x800) {
            n = 2;
          } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(chars[i + 1])) {
            n = 4;
            units = 2;
          } else {
            n = 3; // a BMP char, or a lone surrogate (written as U+FFFD)
          }
          if (bytes + n > MAX_TERM_BYTES) {
            term.setLength(i);
            break;
          }
          bytes += n;
          i += units - 1;
        }
      }
      return true;
    }
  }

  /** Clamps position increments above 1 to 1. */
  private static final class CloseGapsFilter extends TokenFilter {
    private final PositionIncrementAttribute posInc = addAttribute(PositionIncrementAttribute.class);

    CloseGapsFilter(TokenStream in) {
      super(in);
    }

    @Override
    public boolean incrementToken() throws IOException {
      if (!input.incrementToken()) {
        return false;
      }
      if (posInc.getPositionIncrement() > 1) {
        posInc.setPositionIncrement(1);
      }
      return true;
    }

    @Override
    public void end() throws IOException {
      super.end();
      // Trailing holes (stop words at the end) would make ShingleFilter emit filler shingles.
      posInc.setPositionIncrement(0);
    }
  }

  /**
   * Splits the whole input on a literal delimiter string (no regex), optionally trims whitespace from each
   * piece, drops empty pieces and keeps case. Offsets point at the (trimmed) piece in the original text.
   */
  static final class DelimiterTokenizer extends Tokenizer {
    private final String delimiter;
    private final boolean trim;
    private final CharTermAttribute term = addAttribute(CharTermAttribute.class);
    private final OffsetAttribute offsets = addAttribute(OffsetAttribute.class);
    private final StringBuilder text = new StringBuilder();
    private boolean loaded;
    private int pos;
    private int finalOffset;

    DelimiterTokenizer(String delimiter, boolean trim) {
      this.delimiter = delimiter;
      this.trim = trim;
    }

    @Override
    public boolean incrementToken() throws IOException {
      clearAttributes();
      if (!loaded) {
        char[] buf = new char[4096];
        int n;
        while ((n = input.read(buf)) != -1) {
          text.append(buf, 0, n);
        }
        loaded = true;
        finalOffset = correctOffset(text.length());
      }
      while (pos <= text.length()) {
        int end = text.indexOf(delimiter, pos);
        if (end < 0) {
          end = text.length();
        }
        int start = pos;
        pos = end + delimiter.length();
        int tokenEnd = end;
        if (trim) {
          while (start < tokenEnd && isSpace(text.charAt(start))) {
            start++;
          }
          while (tokenEnd > start && isSpace(text.charAt(tokenEnd - 1))) {
            tokenEnd--;
          }
        }
        if (tokenEnd > start) {
          term.setEmpty().append(text, start, tokenEnd);
          offsets.setOffset(correctOffset(start), correctOffset(tokenEnd));
          return true;
        }
      }
      return false;
    }

    private static boolean isSpace(char c) {
      return Character.isWhitespace(c) || Character.isSpaceChar(c);
    }

    @Override
    public void end() throws IOException {
      super.end();
      offsets.setOffset(finalOffset, finalOffset);
    }

    @Override
    public void reset() throws IOException {
      super.reset();
      text.setLength(0);
      loaded = false;
      pos = 0;
      finalOffset = 0;
    }
  }
}
