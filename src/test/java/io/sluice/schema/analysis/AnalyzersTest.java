package io.sluice.schema.analysis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.sluice.errors.ApiError;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.analysis.fi.FinnishAnalyzer;
import org.apache.lucene.analysis.th.ThaiAnalyzer;
import org.apache.lucene.analysis.tokenattributes.CharTermAttribute;
import org.apache.lucene.analysis.tokenattributes.OffsetAttribute;
import org.junit.jupiter.api.Test;

class AnalyzersTest {

  private static final String WHERE = "column 'tags' of table 'customers'";

  static List<String> tokens(Analyzer analyzer, String text) {
    List<String> out = new ArrayList<>();
    try (TokenStream ts = analyzer.tokenStream("f", text)) {
      CharTermAttribute term = ts.addAttribute(CharTermAttribute.class);
      ts.reset();
      while (ts.incrementToken()) {
        out.add(term.toString());
      }
      ts.end();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static List<String> tokens(Object spec, String text) {
    return tokens(Analyzers.build(spec), text);
  }

  static ApiError invalid(Object spec) {
    ApiError error = catchThrowableOfType(ApiError.class, () -> Analyzers.validate(WHERE, spec));
    assertThat(error).as("expected ApiError for %s", spec).isNotNull();
    assertThat(error.status()).isEqualTo(400);
    assertThat(error.getMessage()).contains(WHERE);
    return error;
  }

  static JsonObject language(String language) {
    return new JsonObject().put("type", "language").put("language", language);
  }

  // --- aliases ---------------------------------------------------------------------------------------------

  @Test
  void defaultIsStandard() {
    assertThat(Analyzers.DEFAULT).isEqualTo("standard");
    assertThatCode(() -> Analyzers.validate(WHERE, Analyzers.DEFAULT)).doesNotThrowAnyException();
  }

  @Test
  void standardLowercasesAndKeepsStopWords() {
    assertThat(tokens("standard", "The Quick-Brown fox, and THE dog!"))
        .containsExactly("the", "quick", "brown", "fox", "and", "the", "dog");
  }

  @Test
  void whitespaceSplitsOnWhitespaceAndLowercases() {
    assertThat(tokens("whitespace", "Hello, World!  foo-Bar\tX"))
        .containsExactly("hello,", "world!", "foo-bar", "x");
  }

  @Test
  void aliasesAreCaseInsensitive() {
    assertThat(tokens("STANDARD", "A b")).containsExactly("a", "b");
    assertThat(tokens("WhiteSpace", "A-b C")).containsExactly("a-b", "c");
    assertThat(tokens("English", "running")).containsExactly("run");
    assertThat(tokens("EN", "running")).containsExactly("run");
    assertThat(Analyzers.build("English")).isSameAs(Analyzers.build("english"));
  }

  @Test
  void canonicalSpellingIsWhatAitosPythonClientReadsBack() {
    assertThat(Analyzers.canonical("Whitespace")).isEqualTo("whitespace");
    assertThat(Analyzers.canonical("STANDARD")).isEqualTo("standard");
    assertThat(Analyzers.canonical("English")).isEqualTo("english");
    assertThat(Analyzers.canonical("FI")).isEqualTo("fi");
    assertThat(Analyzers.canonical("pt-br")).isEqualTo("brazilian");
    assertThat(Analyzers.canonical("cjk")).isEqualTo("cjk");
    assertThat(Analyzers.canonical(new JsonObject().put("type", "Standard"))).isEqualTo("standard");
    assertThat(Analyzers.canonical(new JsonObject().put("type", "LANGUAGE").put("language", "Finnish")
        .put("useDefaultStopWords", true))).isEqualTo(new JsonObject().put("type", "language")
        .put("language", "finnish").put("useDefaultStopWords", true));
    assertThat(Analyzers.canonical(new JsonObject().put("type", "token-ngram").put("source", "EN")
        .put("minGram", 1).put("maxGram", 2))).isEqualTo(new JsonObject().put("type", "token-ngram")
        .put("source", "en").put("minGram", 1).put("maxGram", 2));
    JsonObject delimiter = new JsonObject().put("type", "delimiter").put("delimiter", ",");
    assertThat(Analyzers.canonical(delimiter)).isEqualTo(delimiter);
    assertThat(tokens("FI", "taloissa")).isEqualTo(tokens((String) Analyzers.canonical("FI"), "taloissa"));
  }

  @Test
  void everyDocumentedLanguageNameAndCodeBuilds() {
    String[][] documented = {
        {"arabic", "ar"}, {"armenian", "hy"}, {"basque", "eu"}, {"brazilian", "pt-br", "pt_br"},
        {"bulgarian", "bg"}, {"catalan", "ca"}, {"cjk"}, {"czech", "cs"}, {"danish", "da"}, {"dutch", "nl"},
        {"english", "en"}, {"finnish", "fi"}, {"french", "fr"}, {"galician", "gl"}, {"german", "de"},
        {"greek", "el"}, {"hindi", "hi"}, {"hungarian", "hu"}, {"indonesian", "id"}, {"irish", "ga"},
        {"italian", "it"}, {"latvian", "lv"}, {"norwegian", "no"}, {"persian", "fa"}, {"portuguese", "pt"},
        {"romanian", "ro"}, {"russian", "ru"}, {"spanish", "es"}, {"swedish", "sv"}, {"thai", "th"},
        {"turkish", "tr"},
        // extensions
        {"bengali", "bn"}, {"estonian", "et"}, {"lithuanian", "lt"}, {"nepali", "ne"}, {"serbian", "sr"},
        {"sorani", "ckb"}, {"tamil", "ta"}, {"telugu", "te"},
    };
    for (String[] names : documented) {
      for (String name : names) {
        Analyzers.validate(WHERE, name);
        Analyzers.validate(WHERE, name.toUpperCase());
        assertThat(tokens(name, "Hello World")).as(name).isNotEmpty();
        assertThat(tokens(language(name).put("useDefaultStopWords", true)
            .put("customStopWords", new JsonArray().add("zzz")).put("customKeyWords", new JsonArray().add("x")),
            "Hello World zzz")).as(name).isNotEmpty();
      }
    }
    assertThat(Analyzers.languages()).hasSize(39).contains("english/en", "cjk", "brazilian/pt-br/pt_br");
  }

  @Test
  void languageAliasesUseTheirDefaultAnalyzer() {
    assertThat(tokens("fi", "koirat juoksevat")).isEqualTo(tokens(new FinnishAnalyzer(), "koirat juoksevat"));
    assertThat(tokens("pt-br", "As meninas")).containsExactly("menin");
    assertThat(tokens("cjk", "東京都")).containsExactly("東京", "京都");
    assertThat(tokens("th", "การที่ได้ต้องแสดงว่างานดี"))
        .isEqualTo(tokens(new ThaiAnalyzer(), "การที่ได้ต้องแสดงว่างานดี"));
  }

  // --- language objects ------------------------------------------------------------------------------------

  @Test
  void languageAliasHasDefaultStopWordsButObjectDefaultsToNone() {
    String text = "the dogs are running";
    assertThat(tokens("english", text)).containsExactly("dog", "run");
    assertThat(tokens(language("english"), text)).containsExactly("the", "dog", "ar", "run");
    assertThat(tokens(language("en").put("useDefaultStopWords", true), text)).containsExactly("dog", "run");
    assertThat(tokens(language("en").put("useDefaultStopWords", false), text))
        .containsExactly("the", "dog", "ar", "run");
  }

  @Test
  void customStopWordsAddToDefaultsAndAreCaseInsensitive() {
    String text = "The dogs are running Fast";
    assertThat(tokens(language("english").put("customStopWords", new JsonArray().add("FAST")), text))
        .containsExactly("the", "dog", "ar", "run");
    assertThat(tokens(language("english").put("useDefaultStopWords", true)
        .put("customStopWords", new JsonArray().add("fast")), text)).containsExactly("dog", "run");
    assertThat(EnglishAnalyzer.getDefaultStopSet()).doesNotContain("zzz"); // defaults untouched
  }

  @Test
  void customKeyWordsAreNotStemmed() {
    assertThat(tokens(language("english"), "running jumping")).containsExactly("run", "jump");
    assertThat(tokens(language("english").put("customKeyWords", new JsonArray().add("Running")),
        "Running jumping")).containsExactly("running", "jump");
    List<String> plain = tokens(language("fi"), "koirat kissat");
    assertThat(plain.get(0)).isNotEqualTo("koirat");
    assertThat(tokens(language("fi").put("customKeyWords", new JsonArray().add("koirat")), "koirat kissat"))
        .containsExactly("koirat", plain.get(1));
  }

  @Test
  void keywordsAreIgnoredForStopOnlyLanguages() {
    JsonObject greek = language("greek").put("customKeyWords", new JsonArray().add("σπίτια"))
        .put("customStopWords", new JsonArray().add("και"));
    assertThat(tokens(greek, "σπίτια και")).isEqualTo(tokens(language("el"), "σπίτια"));
  }

  @Test
  void objectTypeAndLanguageAreCaseInsensitive() {
    assertThat(tokens(new JsonObject().put("type", "LANGUAGE").put("language", "English"), "running"))
        .containsExactly("run");
    assertThat(tokens(new JsonObject().put("type", "Standard"), "The Fox")).containsExactly("the", "fox");
    assertThat(tokens(new JsonObject().put("type", "whitespace"), "The Fox")).containsExactly("the", "fox");
  }

  // --- delimiter -------------------------------------------------------------------------------------------

  @Test
  void delimiterTrimsByDefaultDropsEmptiesAndKeepsCase() {
    JsonObject spec = new JsonObject().put("type", "delimiter").put("delimiter", ",");
    assertThat(tokens(spec, " Red ,Green,, ,Blue Sky,")).containsExactly("Red", "Green", "Blue Sky");
    assertThat(tokens(spec, "")).isEmpty();
    assertThat(tokens(spec, ",,,")).isEmpty();
  }

  @Test
  void delimiterWithoutTrim() {
    JsonObject spec = new JsonObject().put("type", "delimiter").put("delimiter", ",").put("trimWhitespace", false);
    assertThat(tokens(spec, " Red ,Green,, ,Blue")).containsExactly(" Red ", "Green", " ", "Blue");
  }

  @Test
  void delimiterIsLiteralNotRegexAndMayBeLong() {
    assertThat(tokens(new JsonObject().put("type", "delimiter").put("delimiter", "."), "a.b|c.d"))
        .containsExactly("a", "b|c", "d");
    assertThat(tokens(new JsonObject().put("type", "delimiter").put("delimiter", "||"), "a||b|c|| d"))
        .containsExactly("a", "b|c", "d");
  }

  @Test
  void delimiterOffsetsPointAtTrimmedTokensAndStreamIsReusable() throws IOException {
    Analyzer analyzer = Analyzers.build(new JsonObject().put("type", "delimiter").put("delimiter", ";"));
    try (TokenStream ts = analyzer.tokenStream("f", " ab ; cd")) {
      OffsetAttribute offsets = ts.addAttribute(OffsetAttribute.class);
      ts.reset();
      assertThat(ts.incrementToken()).isTrue();
      assertThat(offsets.startOffset()).isEqualTo(1);
      assertThat(offsets.endOffset()).isEqualTo(3);
      assertThat(ts.incrementToken()).isTrue();
      assertThat(offsets.startOffset()).isEqualTo(6);
      assertThat(offsets.endOffset()).isEqualTo(8);
      assertThat(ts.incrementToken()).isFalse();
      ts.end();
      assertThat(offsets.endOffset()).isEqualTo(8);
    }
    assertThat(tokens(analyzer, "x;y")).containsExactly("x", "y");
  }

  // --- n-grams ---------------------------------------------------------------------------------------------

  @Test
  void charNgramLowercases() {
    JsonObject spec = new JsonObject().put("type", "char-ngram").put("minGram", 2).put("maxGram", 3);
    assertThat(tokens(spec, "AbCd")).containsExactly("ab", "abc", "bc", "bcd", "cd");
    assertThat(tokens(new JsonObject().put("type", "Char-Ngram").put("minGram", 1).put("maxGram", 1), "Ab"))
        .containsExactly("a", "b");
  }

  @Test
  void tokenNgramWithUnigrams() {
    JsonObject spec = new JsonObject().put("type", "token-ngram").put("source", "standard")
        .put("minGram", 1).put("maxGram", 2);
    assertThat(tokens(spec, "Quick Brown Fox"))
        .containsExactly("quick", "quick brown", "brown", "brown fox", "fox");
  }

  @Test
  void tokenNgramWithSeparatorAndWithoutUnigrams() {
    JsonObject spec = new JsonObject().put("type", "token-ngram").put("source", "whitespace")
        .put("minGram", 2).put("maxGram", 3).put("tokenSeparator", "_");
    assertThat(tokens(spec, "a B c")).containsExactly("a_b", "a_b_c", "b_c");
    assertThat(tokens(spec, "single")).isEmpty();
  }

  @Test
  void tokenNgramMaxGramOneIsJustTheSource() {
    JsonObject spec = new JsonObject().put("type", "token-ngram").put("source", "english")
        .put("minGram", 1).put("maxGram", 1);
    assertThat(Analyzers.build(spec)).isSameAs(Analyzers.build("english"));
  }

  @Test
  void tokenNgramOverObjectSourceJoinsAcrossRemovedStopWords() {
    JsonObject spec = new JsonObject().put("type", "token-ngram")
        .put("source", language("english").put("useDefaultStopWords", true))
        .put("minGram", 2).put("maxGram", 2);
    assertThat(tokens(spec, "the dogs are running away is")).containsExactly("dog run", "run awai");
  }

  @Test
  void tokenNgramNests() {
    JsonObject inner = new JsonObject().put("type", "token-ngram").put("source", "whitespace")
        .put("minGram", 2).put("maxGram", 2).put("tokenSeparator", "+");
    JsonObject outer = new JsonObject().put("type", "token-ngram").put("source", inner)
        .put("minGram", 2).put("maxGram", 2).put("tokenSeparator", " ");
    assertThat(tokens(outer, "a b c")).containsExactly("a+b b+c");
  }

  // --- caching ---------------------------------------------------------------------------------------------

  @Test
  void equalSpecsShareAnAnalyzer() {
    JsonObject a = new JsonObject().put("type", "char-ngram").put("minGram", 2).put("maxGram", 4);
    JsonObject b = new JsonObject().put("type", "char-ngram").put("minGram", 2).put("maxGram", 4);
    assertThat(Analyzers.build(a)).isSameAs(Analyzers.build(b));
    assertThat(Analyzers.build(Map.of("type", "standard"))).isSameAs(
        Analyzers.build(new JsonObject().put("type", "standard")));
    assertThat(Analyzers.build("standard")).isNotSameAs(Analyzers.build("whitespace"));
  }

  // --- invalid specs ---------------------------------------------------------------------------------------

  @Test
  void unknownAliasListsWhatIsAccepted() {
    assertThat(invalid("klingon").getMessage())
        .contains("unknown analyzer 'klingon'", "'standard'", "'whitespace'", "english/en", "'char-ngram'");
    invalid("");
    invalid(" standard");
  }

  @Test
  void wrongSpecTypes() {
    assertThat(invalid(42).getMessage()).contains("string alias or an object", "42");
    invalid(null);
    invalid(true);
    invalid(new JsonArray().add("standard"));
  }

  @Test
  void unknownOrMissingType() {
    assertThat(invalid(new JsonObject()).getMessage()).contains("'type'");
    assertThat(invalid(new JsonObject().put("type", "english")).getMessage())
        .contains("unknown analyzer type 'english'", "'language'", "'token-ngram'");
    assertThat(invalid(new JsonObject().put("type", 3)).getMessage()).contains("'type' must be a string");
  }

  @Test
  void unknownFieldIsRejected() {
    assertThat(invalid(language("en").put("stopWords", new JsonArray())).getMessage())
        .contains("unknown field 'stopWords'", "'customStopWords'");
    assertThat(invalid(new JsonObject().put("type", "standard").put("language", "en")).getMessage())
        .contains("unknown field 'language'");
  }

  @Test
  void invalidLanguageObjects() {
    assertThat(invalid(new JsonObject().put("type", "language")).getMessage()).contains("'language'");
    assertThat(invalid(language("xx")).getMessage()).contains("unknown language 'xx'", "finnish/fi");
    assertThat(invalid(language("en").put("useDefaultStopWords", "yes")).getMessage())
        .contains("'useDefaultStopWords'", "boolean");
    assertThat(invalid(language("en").put("customStopWords", "a")).getMessage())
        .contains("'customStopWords'", "array of strings");
    assertThat(invalid(language("en").put("customKeyWords", new JsonArray().add("a").add(1))).getMessage())
        .contains("'customKeyWords'", "item 1");
    invalid(language("en").putNull("customStopWords"));
  }

  @Test
  void invalidDelimiterObjects() {
    assertThat(invalid(new JsonObject().put("type", "delimiter")).getMessage()).contains("'delimiter'");
    assertThat(invalid(new JsonObject().put("type", "delimiter").put("delimiter", "")).getMessage())
        .contains("non-empty");
    invalid(new JsonObject().put("type", "delimiter").put("delimiter", 1));
    invalid(new JsonObject().put("type", "delimiter").put("delimiter", ",").put("trimWhitespace", 1));
  }

  @Test
  void invalidGramRanges() {
    JsonObject base = new JsonObject().put("type", "char-ngram");
    assertThat(invalid(base.copy().put("minGram", 0).put("maxGram", 2)).getMessage())
        .contains("'minGram'", "at least 1");
    assertThat(invalid(base.copy().put("minGram", 3).put("maxGram", 2)).getMessage())
        .contains("'maxGram'", "at least minGram");
    assertThat(invalid(base.copy().put("minGram", 1)).getMessage()).contains("'maxGram'");
    assertThat(invalid(base.copy().put("minGram", 1.5).put("maxGram", 2)).getMessage()).contains("integer");
    invalid(base.copy().put("minGram", "1").put("maxGram", 2));
    invalid(base.copy().put("minGram", 1).put("maxGram", 100_000));
    assertThatCode(() -> Analyzers.validate(WHERE, base.copy().put("minGram", 1.0).put("maxGram", 2L)))
        .doesNotThrowAnyException();
  }

  @Test
  void invalidTokenNgramObjects() {
    JsonObject base = new JsonObject().put("type", "token-ngram").put("minGram", 1).put("maxGram", 2);
    assertThat(invalid(base.copy()).getMessage()).contains("'source'");
    assertThat(invalid(base.copy().put("source", "nope")).getMessage())
        .contains("'source'", "unknown analyzer 'nope'");
    assertThat(invalid(base.copy().put("source", language("zz"))).getMessage()).contains("unknown language 'zz'");
    invalid(base.copy().put("source", "standard").put("tokenSeparator", 1));
    invalid(base.copy().put("source", "standard").put("minGram", 0));
  }

  @Test
  void buildRejectsInvalidSpecsToo() {
    ApiError error = catchThrowableOfType(ApiError.class, () -> Analyzers.build("nope"));
    assertThat(error.status()).isEqualTo(400);
  }
}
