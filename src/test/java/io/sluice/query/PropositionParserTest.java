package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.sluice.FuzzSchemas;
import io.sluice.engine.Order;
import io.sluice.engine.Predicate;
import io.sluice.errors.ApiError;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.analysis.TextTokens;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.tokenattributes.TermToBytesRefAttribute;
import org.apache.lucene.util.BytesRef;
import org.junit.jupiter.api.Test;

/** The trees the parser makes: what every engine is handed, so what every engine must agree on. */
class PropositionParserTest {
  private static final PropositionParser ITEMS =
      new PropositionParser(FuzzSchemas.ITEMS, FuzzSchemas.ITEMS_SCHEMA, FuzzSchemas::lookup);

  private static Predicate where(String json) {
    return ITEMS.where(new JsonObject(json.replace('\'', '"')));
  }

  @Test
  void integralBoundsRoundInwardsAndMerge() {
    assertThat(where("{'id':{'$gt':2.5,'$lt':7}}")).isEqualTo(new Predicate.LongRange("id", 3, 6));
    assertThat(where("{'id':{'$gte':2.5,'$lte':-2.5}}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'id':{'$gte':-2.5,'$lte':2.5}}")).isEqualTo(new Predicate.LongRange("id", -2, 2));
    assertThat(where("{'big':{'$gt':2,'$gt':5}}")).isEqualTo(new Predicate.LongRange("big", 6, Long.MAX_VALUE));
    assertThat(where("{'big':{'$gt':5,'$lt':6}}")).isInstanceOf(Predicate.None.class);
    // Beyond 64 bits: exact arithmetic, not double rounding.
    assertThat(where("{'big':{'$gt':9223372036854775807}}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'big':{'$gte':9223372036854775807}}"))
        .isEqualTo(new Predicate.LongRange("big", Long.MAX_VALUE, Long.MAX_VALUE));
    assertThat(where("{'big':{'$lt':-9223372036854775808}}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'big':{'$gte':-1e30,'$lte':1e30}}"))
        .isEqualTo(new Predicate.LongRange("big", Long.MIN_VALUE, Long.MAX_VALUE));
  }

  @Test
  void decimalBoundsAreTheNearestDoublesAndZerosAreOne() {
    assertThat(where("{'price':{'$gt':2}}"))
        .isEqualTo(new Predicate.DoubleRange("price", Math.nextUp(2.0), Double.POSITIVE_INFINITY));
    assertThat(where("{'price':{'$lt':2}}"))
        .isEqualTo(new Predicate.DoubleRange("price", Double.NEGATIVE_INFINITY, Math.nextDown(2.0)));
    // Records compare doubles as Double.compare does, so these tell -0.0 from 0.0.
    assertThat(where("{'price':{'$gte':0.0,'$lte':-0.0}}")).isEqualTo(new Predicate.DoubleRange("price", -0.0, 0.0));
    assertThat(where("{'price':-0.0}")).isEqualTo(new Predicate.DoubleRange("price", -0.0, 0.0));
    assertThat(where("{'price':0}")).isEqualTo(new Predicate.DoubleRange("price", -0.0, 0.0));
    assertThat(where("{'price':{'$gt':0,'$lt':0}}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'price':1.5}")).isEqualTo(new Predicate.DoubleRange("price", 1.5, 1.5));
  }

  @Test
  void equalityOnEveryType() {
    assertThat(where("{'id':2.0}")).isEqualTo(new Predicate.LongRange("id", 2, 2));
    assertThat(where("{'id':3000000000}")).isEqualTo(new Predicate.LongRange("id", 3000000000L, 3000000000L));
    assertThat(where("{'id':1e30}")).isInstanceOf(Predicate.None.class);
    assertThatThrownBy(() -> where("{'big':1e30}")).isInstanceOf(ApiError.class)
        .hasMessage("'$is' on column 'big' (Long) of table 'items' needs a 64-bit integer, got 1.0E30");
    assertThat(where("{'active':false}")).isEqualTo(new Predicate.BooleanEquals("active", false));
    assertThat(where("{'name':'apple'}")).isEqualTo(new Predicate.StringEquals("name", "apple"));
    assertThat(where("{'title':'Red Apple'}")).isEqualTo(new Predicate.StringEquals("title", "Red Apple"));
    assertThat(where("{'note':null}")).isEqualTo(new Predicate.Not(new Predicate.Defined("note")));
    assertThat(where("{'note':{'$defined':true}}")).isEqualTo(new Predicate.Defined("note"));
  }

  @Test
  void matchAndHasAreTheColumnsTokens() {
    assertThat(where("{'words':{'$match':'Running APPLES, running'}}"))
        .isEqualTo(new Predicate.Tokens("words", List.of("run", "appl"), false));
    assertThat(where("{'tags':{'$has':'Red  fruit'}}"))
        .isEqualTo(new Predicate.Tokens("tags", List.of("red", "fruit"), true));
    assertThat(where("{'words':{'$match':'the of'}}")).isInstanceOf(Predicate.None.class);
    // On a String column $match is equality.
    assertThat(where("{'name':{'$match':'Red Apple'}}")).isEqualTo(new Predicate.StringEquals("name", "Red Apple"));
  }

  @Test
  void stringRangesKeepTheirOpenSideInclusive() {
    assertThat(where("{'name':{'$gt':'b','$lte':'d'}}")).isEqualTo(new Predicate.And(List.of(
        new Predicate.StringRange("name", "b", false, null, true),
        new Predicate.StringRange("name", null, true, "d", true))));
    assertThat(where("{'title':{'$startsWith':'Re'}}")).isEqualTo(new Predicate.StartsWith("title", "Re"));
  }

  @Test
  void allAndNoneFoldAway() {
    assertThat(ITEMS.where(null)).isInstanceOf(Predicate.All.class);
    assertThat(where("{}")).isInstanceOf(Predicate.All.class);
    assertThat(where("{'$not':{}}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'$or':[]}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'$and':[]}")).isInstanceOf(Predicate.All.class);
    assertThat(where("{'$or':[{'id':1e30},{'id':1}]}")).isEqualTo(new Predicate.LongRange("id", 1, 1));
    assertThat(where("{'$and':[{'id':1e30},{'id':1}]}")).isInstanceOf(Predicate.None.class);
    assertThat(where("{'$not':{'id':1e30}}")).isInstanceOf(Predicate.All.class);
  }

  @Test
  void linkPathsCarryTheirInnerPredicateParsedOnTheLinkedTable() {
    assertThat(where("{'user.tags':{'$match':'London'}}")).isEqualTo(new Predicate.LinkPath("user", "users", "id",
        new Predicate.Tokens("tags", List.of("london"), false)));
    assertThat(where("{'owner.vip':true}")).isEqualTo(new Predicate.LinkPath("owner", "users", "name",
        new Predicate.BooleanEquals("vip", true)));
    assertThat(where("{'$exists':'user.score'}")).isEqualTo(new Predicate.LinkPath("user", "users", "id",
        new Predicate.Defined("score")));
    // "this.id" links the table to itself.
    assertThat(where("{'parent.id':3}")).isEqualTo(new Predicate.LinkPath("parent", "items", "id",
        new Predicate.LongRange("id", 3, 3)));
    assertThatThrownBy(() -> where("{'ghost.id':1}")).isInstanceOf(ApiError.class)
        .hasMessage("table 'ghosts' linked from column 'ghost' of table 'items' does not exist");
    assertThatThrownBy(() -> where("{'user.tags':{'$gt':1}}")).isInstanceOf(ApiError.class)
        .hasMessage("'$gt' on column 'tags' (Text) of table 'users' needs a string, got 1");
  }

  @Test
  void resolvingLinksGivesInOrNoneAndFoldsAgain() {
    Predicate where = where("{'$or':[{'user.name':'anne'},{'owner.name':'nobody'}],'id':{'$gte':0}}");
    List<Predicate.LinkPath> asked = new ArrayList<>();
    Predicate resolved = PropositionParser.resolveLinks(where, link -> {
      asked.add(link);
      return "user".equals(link.column()) ? Set.of(0L, 2L) : Set.of();
    });
    assertThat(asked).extracting(Predicate.LinkPath::column).containsExactly("user", "owner");
    assertThat(resolved).isEqualTo(new Predicate.And(List.of(
        new Predicate.In("user", Set.of(0L, 2L)), new Predicate.LongRange("id", 0, Long.MAX_VALUE))));
    assertThat(PropositionParser.resolveLinks(where("{'$not':{'user.name':'x'}}"), link -> Set.of()))
        .isInstanceOf(Predicate.All.class);
  }

  @Test
  void orderByIsAColumnAndADirection() {
    assertThat(ITEMS.orderBy(null)).isEmpty();
    assertThat(ITEMS.orderBy("price")).containsExactly(new Order("price", false));
    assertThat(ITEMS.orderBy(new JsonObject().put("$desc", "name"))).containsExactly(new Order("name", true));
    assertThatThrownBy(() -> ITEMS.orderBy("user.name")).isInstanceOf(ApiError.class)
        .hasMessage("orderBy on table 'items': ordering by the link path 'user.name' is not supported");
  }

  /**
   * The parser's tokens (TextTokens, as strings) are the terms the index holds for the same text (the analyzer's
   * bytes, as the writer takes them), for every kind of analyzer and text that is hard to tokenize.
   */
  @Test
  void tokensAreTheTermsTheIndexHolds() throws IOException {
    List<String> texts = List.of("The Cat, the Hat!", "the cat the hat", "The. The? The!", "", "Émile", "Zebra crossing",
        "running apples a,b,,c", "naïve café ﬁne Straße İstanbul", "emoji 😀 and 🇫🇮 flags", "x\uD800y lone surrogate",
        "中文分词 日本語のテキスト 한국어", "tab\tnew\nline  spaces", "ÅÄÖ åäö", "O'Neil's e-mail: a.b@c.d 3.14");
    int compared = 0;
    for (Map.Entry<String, ColumnSchema> e : FuzzSchemas.ITEMS_SCHEMA.columns().entrySet()) {
      if (e.getValue().type() != ColumnType.TEXT) {
        continue;
      }
      Analyzer indexing = FuzzSchemas.analyzer(e.getValue());
      for (String text : texts) {
        Set<BytesRef> terms = new LinkedHashSet<>();
        try (TokenStream stream = indexing.tokenStream(e.getKey(), text)) {
          TermToBytesRefAttribute term = stream.addAttribute(TermToBytesRefAttribute.class);
          stream.reset();
          while (stream.incrementToken()) {
            if (term.getBytesRef().length > 0) {
              terms.add(BytesRef.deepCopyOf(term.getBytesRef()));
            }
          }
          stream.end();
        }
        Set<BytesRef> tokens = new LinkedHashSet<>();
        TextTokens.of(e.getValue(), text).forEach(t -> tokens.add(new BytesRef(t)));
        assertThat(tokens).as("column %s, text %s", e.getKey(), text).containsExactlyElementsOf(terms);
        compared++;
      }
    }
    assertThat(compared).isGreaterThan(50);
  }
}
