package io.sluice.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.sluice.engine.Predicate;
import io.sluice.engine.StorageException;
import io.sluice.errors.ApiError;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.TextTokens;
import io.sluice.engine.lucene.DocumentBuilder;
import io.sluice.engine.lucene.Fields;
import io.sluice.engine.lucene.LuceneQueries;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.Sort;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class PropositionCompilerTest {
  static final ObjectMapper MAPPER = new ObjectMapper();

  static final TableSchema ITEMS = schema(
      "id", col(ColumnType.INT, false, null),
      "name", col(ColumnType.STRING, false, null),
      "title", new ColumnSchema(ColumnType.TEXT, false, null, "standard"),
      "price", col(ColumnType.DECIMAL, false, null),
      "big", col(ColumnType.LONG, false, null),
      "active", col(ColumnType.BOOLEAN, false, null),
      "note", col(ColumnType.STRING, true, null),
      "user", col(ColumnType.INT, true, "users.id"),
      "rank", col(ColumnType.INT, true, null),
      "ghost", col(ColumnType.INT, true, "ghosts.id"),
      "owner", col(ColumnType.STRING, true, "users.name"));

  static final TableSchema USERS = schema(
      "id", col(ColumnType.INT, false, null),
      "name", col(ColumnType.STRING, false, null),
      "tags", new ColumnSchema(ColumnType.TEXT, false, null, "whitespace"));

  static final String[] ITEM_ROWS = {
      "{'id':0,'name':'apple','title':'Red Apple pie','price':1.5,'big':10000000000,'active':true,'note':'x','user':0,'rank':3,'owner':'anne'}",
      "{'id':1,'name':'banana','title':'Yellow banana bread','price':0.25,'big':-5,'active':false,'note':null,'user':1,'rank':null}",
      "{'id':2,'name':'cherry','title':'Cherry pie','price':3.0,'big':9223372036854775807,'active':true,'note':'y','user':2,'rank':1}",
      "{'id':3,'name':'date','title':'Sweet dates','price':2.5,'big':-9223372036854775808,'active':false,'rank':2}",
      "{'id':4,'name':'elderberry','title':'Elderberry wine','price':-1.0,'big':0,'active':true,'note':'x','user':0}",
      "{'id':5,'name':'fig','title':'Fig jam','price':0.0,'big':7,'active':false,'note':'z','user':3,'rank':5,'owner':'dan'}",
      "{'id':6,'name':'grape','title':'Grape juice red','price':2,'big':2,'active':true,'note':null,'user':1,'rank':4}",
      "{'id':7,'name':'Apple','title':'green apple','price':10.0,'big':3,'active':false,'note':'x','user':2,'rank':0}",
      "{'id':8,'name':'apricot','title':'Apricot jam','price':-0.0,'big':100,'active':true,'note':'w','user':3,'rank':6}",
      "{'id':9,'name':'banana split','title':'banana split dessert','price':5.25,'big':-100,'active':false,'user':0,'rank':7}",
  };

  static final String[] USER_ROWS = {
      "{'id':0,'name':'anne','tags':'london 20s'}",
      "{'id':1,'name':'bob','tags':'helsinki 30s'}",
      "{'id':2,'name':'cecil','tags':'london 30s'}",
      "{'id':3,'name':'dan','tags':'paris test'}",
  };

  static Directory itemsDir;
  static Directory usersDir;
  static IndexSearcher items;
  static IndexSearcher users;
  static Compiler compiler;

  @BeforeAll
  static void index() throws IOException {
    itemsDir = new ByteBuffersDirectory();
    usersDir = new ByteBuffersDirectory();
    items = new IndexSearcher(write(itemsDir, ITEMS, ITEM_ROWS));
    users = new IndexSearcher(write(usersDir, USERS, USER_ROWS));
    compiler = compilerFor("items", ITEMS);
  }

  @AfterAll
  static void close() throws IOException {
    items.getIndexReader().close();
    users.getIndexReader().close();
    itemsDir.close();
    usersDir.close();
  }

  // ---------------------------------------------------------------------------------------------------------
  // equality

  @Test
  void emptyAndNullMatchEverything() {
    assertThat(ids((Object) null)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{}")).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
  }

  @Test
  void equalityOnEveryType() {
    assertThat(ids("{'id':3}")).containsExactly(3);
    assertThat(ids("{'id':2.0}")).containsExactly(2);
    assertThat(ids("{'id':3000000000}")).isEmpty();
    assertThat(ids("{'id':1e30}")).isEmpty();
    assertThat(ids("{'name':'apple'}")).containsExactly(0);
    assertThat(ids("{'title':'Cherry pie'}")).containsExactly(2);
    assertThat(ids("{'title':'cherry'}")).isEmpty();
    assertThat(ids("{'price':2.5}")).containsExactly(3);
    assertThat(ids("{'price':2}")).containsExactly(6);
    assertThat(ids("{'price':0}")).containsExactly(5, 8);
    assertThat(ids("{'big':9223372036854775807}")).containsExactly(2);
    assertThat(ids("{'big':-9223372036854775808}")).containsExactly(3);
    assertThat(ids("{'active':true}")).containsExactly(0, 2, 4, 6, 8);
    assertThat(ids("{'active':false}")).containsExactly(1, 3, 5, 7, 9);
    assertThat(ids("{'active':true,'note':'x'}")).containsExactly(0, 4);
    assertThat(ids("{'user':0}")).containsExactly(0, 4, 9);
  }

  @Test
  void isAndNull() {
    assertThat(ids("{'name':{'$is':'fig'}}")).containsExactly(5);
    assertThat(ids("{'note':null}")).containsExactly(1, 3, 6, 9);
    assertThat(ids("{'note':{'$is':null}}")).containsExactly(1, 3, 6, 9);
    assertThat(ids("{'rank':null}")).containsExactly(1, 4);
  }

  @Test
  void acceptsPlainMaps() {
    assertThat(ids(Map.of("id", 4))).containsExactly(4);
    assertThat(ids(Map.of("id", Map.of("$lt", 2)))).containsExactly(0, 1);
  }

  // ---------------------------------------------------------------------------------------------------------
  // ranges

  @Test
  void integralRangesWithFractionalBounds() {
    assertThat(ids("{'id':{'$gt':2.5}}")).containsExactly(3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'id':{'$gte':2.5}}")).containsExactly(3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'id':{'$lt':2.5}}")).containsExactly(0, 1, 2);
    assertThat(ids("{'id':{'$lte':2.5}}")).containsExactly(0, 1, 2);
    assertThat(ids("{'id':{'$gt':-0.5,'$lt':0.5}}")).containsExactly(0);
    assertThat(ids("{'id':{'$gte':2.5,'$lte':5}}")).containsExactly(3, 4, 5);
    assertThat(ids("{'id':{'$gt':3,'$lt':4}}")).isEmpty();
    assertThat(ids("{'id':{'$gte':-2.5,'$lt':-0.1}}")).isEmpty();
    assertThat(ids("{'id':{'$gt':-1.5,'$lte':0.9}}")).containsExactly(0);
  }

  @Test
  void longRangesAtTheEdges() {
    assertThat(ids("{'big':{'$gt':9223372036854775806}}")).containsExactly(2);
    assertThat(ids("{'big':{'$gte':9223372036854775807}}")).containsExactly(2);
    assertThat(ids("{'big':{'$gt':9223372036854775807}}")).isEmpty();
    assertThat(ids("{'big':{'$gte':1e19}}")).isEmpty();
    assertThat(ids("{'big':{'$lte':-1e19}}")).isEmpty();
    assertThat(ids("{'big':{'$lt':-9223372036854775808}}")).isEmpty();
    assertThat(ids("{'big':{'$lte':-9223372036854775808}}")).containsExactly(3);
    assertThat(ids("{'big':{'$lt':1e19}}")).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'big':{'$gt':-9223372036854775809}}")).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'big':{'$lt':99999999999999999999999,'$gt':99.5}}")).containsExactly(0, 2, 8);
    assertThat(ids("{'id':{'$lt':3000000000}}")).hasSize(10);
  }

  @Test
  void decimalRanges() {
    assertThat(ids("{'price':{'$gt':2.0}}")).containsExactly(2, 3, 7, 9);
    assertThat(ids("{'price':{'$gte':2}}")).containsExactly(2, 3, 6, 7, 9);
    assertThat(ids("{'price':{'$gte':0}}")).containsExactly(0, 1, 2, 3, 5, 6, 7, 8, 9);
    assertThat(ids("{'price':{'$gt':0}}")).containsExactly(0, 1, 2, 3, 6, 7, 9);
    assertThat(ids("{'price':{'$lt':0}}")).containsExactly(4);
    assertThat(ids("{'price':{'$lte':-0.0}}")).containsExactly(4, 5, 8);
    assertThat(ids("{'price':{'$gt':0.25,'$lt':2.5}}")).containsExactly(0, 6);
    assertThat(ids("{'price':{'$lt':1e308}}")).hasSize(10);
  }

  @Test
  void stringRanges() {
    assertThat(ids("{'name':{'$gte':'b','$lt':'d'}}")).containsExactly(1, 2, 9);
    assertThat(ids("{'name':{'$gt':'banana'}}")).containsExactly(2, 3, 4, 5, 6, 9);
    assertThat(ids("{'name':{'$lte':'apple'}}")).containsExactly(0, 7);
    assertThat(ids("{'title':{'$lt':'C'}}")).containsExactly(8);
    assertThat(ids("{'note':{'$gte':'x'}}")).containsExactly(0, 2, 4, 5, 7);
  }

  // ---------------------------------------------------------------------------------------------------------
  // text

  @Test
  void matchAnyToken() {
    assertThat(ids("{'title':{'$match':'apple jam'}}")).containsExactly(0, 5, 7, 8);
    assertThat(ids("{'title':{'$match':'APPLE'}}")).containsExactly(0, 7);
    assertThat(ids("{'title':{'$match':'!!!'}}")).isEmpty();
    assertThat(ids("{'title':{'$match':'kiwi'}}")).isEmpty();
    assertThat(ids("{'name':{'$match':'apple'}}")).containsExactly(0);
    assertThat(ids("{'name':{'$match':'banana'}}")).containsExactly(1);
  }

  @Test
  void hasAllTokens() {
    assertThat(ids("{'title':{'$has':'red'}}")).containsExactly(0, 6);
    assertThat(ids("{'title':{'$has':'red pie'}}")).containsExactly(0);
    assertThat(ids("{'name':{'$has':'fig'}}")).containsExactly(5);
  }

  @Test
  void startsWith() {
    assertThat(ids("{'name':{'$startsWith':'ap'}}")).containsExactly(0, 8);
    assertThat(ids("{'name':{'$startsWith':'banana'}}")).containsExactly(1, 9);
    assertThat(ids("{'title':{'$startsWith':'Apri'}}")).containsExactly(8);
    assertThat(ids("{'title':{'$startsWith':'apri'}}")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------------------
  // existence

  @Test
  void definedAndExists() {
    assertThat(ids("{'note':{'$defined':true}}")).containsExactly(0, 2, 4, 5, 7, 8);
    assertThat(ids("{'note':{'$defined':false}}")).containsExactly(1, 3, 6, 9);
    assertThat(ids("{'$exists':'note'}")).containsExactly(0, 2, 4, 5, 7, 8);
    assertThat(ids("{'$exists':'rank'}")).containsExactly(0, 2, 3, 5, 6, 7, 8, 9);
    assertThat(ids("{'$exists':'user'}")).containsExactly(0, 1, 2, 4, 5, 6, 7, 8, 9);
    for (String column : List.of("id", "name", "title", "price", "big", "active")) {
      assertThat(ids("{'$exists':'" + column + "'}")).as(column).hasSize(10);
    }
    assertThat(ids("{'$not':{'$exists':'note'}}")).containsExactly(1, 3, 6, 9);
  }

  // ---------------------------------------------------------------------------------------------------------
  // logic

  @Test
  void topLevelLogic() {
    assertThat(ids("{'$and':[{'active':true},{'id':{'$lt':5}}]}")).containsExactly(0, 2, 4);
    assertThat(ids("{'$or':[{'id':1},{'name':'fig'}]}")).containsExactly(1, 5);
    assertThat(ids("{'$not':{'active':true}}")).containsExactly(1, 3, 5, 7, 9);
    assertThat(ids("{'$or':[{'$and':[{'active':true},{'price':{'$gt':2}}]},{'$not':{'id':{'$gt':0}}}]}"))
        .containsExactly(0, 2);
    assertThat(ids("{'$and':[]}")).hasSize(10);
    assertThat(ids("{'$or':[]}")).isEmpty();
    assertThat(ids("{'$not':{}}")).isEmpty();
    assertThat(ids("{'$or':[{'id':1},{}]}")).hasSize(10);
    assertThat(ids("{'$not':{'$not':{'id':4}}}")).containsExactly(4);
    assertThat(ids("{'active':false,'$or':[{'id':1},{'id':2},{'id':3}]}")).containsExactly(1, 3);
  }

  @Test
  void columnLevelLogic() {
    assertThat(ids("{'id':{'$or':[1,{'$gt':7}]}}")).containsExactly(1, 8, 9);
    assertThat(ids("{'id':{'$not':3}}")).containsExactly(0, 1, 2, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'id':{'$and':[{'$gte':1},{'$lt':5}]}}")).containsExactly(1, 2, 3, 4);
    assertThat(ids("{'id':{'$not':{'$or':[0,1,2]}}}")).containsExactly(3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'note':{'$not':null}}")).containsExactly(0, 2, 4, 5, 7, 8);
    assertThat(ids("{'note':{'$or':[null,'x']}}")).containsExactly(0, 1, 3, 4, 6, 7, 9);
    assertThat(ids("{'title':{'$or':[{'$match':'pie'},{'$startsWith':'Fig'}]}}")).containsExactly(0, 2, 5);
    assertThat(ids("{'price':{'$gte':1,'$not':2.5,'$lt':4}}")).containsExactly(0, 2, 6);
  }

  // ---------------------------------------------------------------------------------------------------------
  // links

  @Test
  void linkPaths() {
    assertThat(ids("{'user.name':'anne'}")).containsExactly(0, 4, 9);
    assertThat(ids("{'user.tags':{'$match':'london'}}")).containsExactly(0, 2, 4, 7, 9);
    assertThat(ids("{'user.tags':{'$match':'nowhere'}}")).isEmpty();
    assertThat(ids("{'user.id':{'$gte':2}}")).containsExactly(2, 5, 7, 8);
    assertThat(ids("{'user.name':{'$or':['bob','dan']},'active':true}")).containsExactly(6, 8);
    assertThat(ids("{'$not':{'user.name':'anne'}}")).containsExactly(1, 2, 3, 5, 6, 7, 8);
    assertThat(ids("{'$exists':'user.name'}")).containsExactly(0, 1, 2, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'owner.tags':{'$match':'paris'}}")).containsExactly(5);
    assertThat(ids("{'owner.id':{'$lt':3}}")).containsExactly(0);
    assertThat(ids("{'owner.id':{'$gt':3}}")).isEmpty();
  }

  // ---------------------------------------------------------------------------------------------------------
  // ordering

  @Test
  void defaultOrderIsInsertionOrder() {
    assertThat(ids("{}", null)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
    assertThat(ids("{'active':true}", null)).containsExactly(0, 2, 4, 6, 8);
  }

  @Test
  void orderByEachType() {
    assertThat(ids("{}", "big")).containsExactly(3, 9, 1, 4, 6, 7, 5, 8, 0, 2);
    assertThat(ids("{}", new JsonObject().put("$desc", "big"))).containsExactly(2, 0, 8, 5, 7, 6, 4, 1, 9, 3);
    assertThat(ids("{}", new JsonObject().put("$desc", "price"))).containsExactly(7, 9, 2, 3, 6, 0, 1, 5, 8, 4);
    assertThat(ids("{}", new JsonObject().put("$asc", "price"))).containsExactly(4, 8, 5, 1, 0, 6, 3, 2, 9, 7);
    assertThat(ids("{}", "name")).containsExactly(7, 0, 8, 1, 9, 2, 3, 4, 5, 6);
    assertThat(ids("{}", new JsonObject().put("$desc", "name"))).containsExactly(6, 5, 4, 3, 2, 9, 1, 8, 0, 7);
    assertThat(ids("{}", "title")).containsExactly(8, 2, 4, 5, 6, 0, 3, 1, 9, 7);
    assertThat(ids("{}", "active")).containsExactly(1, 3, 5, 7, 9, 0, 2, 4, 6, 8);
    assertThat(ids("{}", new JsonObject().put("$desc", "active"))).containsExactly(0, 2, 4, 6, 8, 1, 3, 5, 7, 9);
    assertThat(ids("{'active':true}", new JsonObject().put("$desc", "id"))).containsExactly(8, 6, 4, 2, 0);
    assertThat(ids("{}", Map.of("$desc", "id"))).containsExactly(9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
  }

  @Test
  void nullsComeLastBothWays() {
    assertThat(ids("{}", "rank")).containsExactly(7, 2, 3, 0, 6, 5, 8, 9, 1, 4);
    assertThat(ids("{}", new JsonObject().put("$desc", "rank"))).containsExactly(9, 8, 5, 6, 0, 3, 2, 7, 1, 4);
    assertThat(ids("{}", "note")).containsExactly(8, 0, 4, 7, 2, 5, 1, 3, 6, 9);
    assertThat(ids("{}", new JsonObject().put("$desc", "note"))).containsExactly(5, 2, 0, 4, 7, 8, 1, 3, 6, 9);
  }

  // ---------------------------------------------------------------------------------------------------------
  // errors

  @Test
  void errorsNameTableColumnOperatorAndType() {
    assertBad("{'foo':1}", "unknown column 'foo' in table 'items'");
    assertBad("{'id':'x'}", "'$is' on column 'id' (Int) of table 'items' needs an integer, got \"x\"");
    assertBad("{'id':{'$gt':'x'}}", "'$gt' on column 'id' (Int) of table 'items' needs a number, got \"x\"");
    assertBad("{'id':{'$foo':1}}", "unknown operator '$foo' on column 'id' (Int) of table 'items'");
    assertBad("{'$foo':1}", "unknown operator '$foo' in a proposition on table 'items'");
    assertBad("{'id':2.5}", "'$is' on column 'id' (Int) of table 'items' needs an integer, got 2.5");
    assertBad("{'id':true}", "needs an integer, got true");
    assertBad("{'big':9223372036854775808}", "'$is' on column 'big' (Long) of table 'items' needs a 64-bit integer");
    assertBad("{'active':1}", "'$is' on column 'active' (Boolean) of table 'items' needs true or false, got 1");
    assertBad("{'active':'true'}", "needs true or false, got \"true\"");
    assertBad("{'price':'1'}", "'$is' on column 'price' (Decimal) of table 'items' needs a number, got \"1\"");
    assertBad("{'price':{'$lt':null}}", "'$lt' on column 'price' (Decimal) of table 'items' needs a number, got null");
    assertBad("{'name':5}", "'$is' on column 'name' (String) of table 'items' needs a string, got 5");
    assertBad("{'title':5}", "'$is' on column 'title' (Text) of table 'items' needs a string, got 5");
    assertBad("{'active':{'$gt':true}}", "'$gt' on column 'active' (Boolean) of table 'items' is not supported");
    assertBad("{'name':{'$gt':1}}", "'$gt' on column 'name' (String) of table 'items' needs a string, got 1");
    assertBad("{'id':{'$match':'x'}}", "'$match' on column 'id' (Int) of table 'items' is not supported");
    assertBad("{'title':{'$match':5}}", "'$match' on column 'title' (Text) of table 'items' needs a string, got 5");
    assertBad("{'active':{'$has':'x'}}", "'$has' on column 'active' (Boolean) of table 'items' is not supported");
    assertBad("{'id':{'$startsWith':'1'}}", "'$startsWith' on column 'id' (Int) of table 'items' is not supported");
    assertBad("{'note':{'$defined':'yes'}}", "'$defined' on column 'note' (String) of table 'items' needs true or false");
    assertBad("{'$exists':5}", "'$exists' on table 'items' needs a column name, got 5");
    assertBad("{'$exists':'nope'}", "unknown column 'nope' in table 'items'");
    assertBad("{'name.x':1}", "column 'name' of table 'items' is not a link");
    assertBad("{'nope.x':1}", "unknown column 'nope' in table 'items'");
    assertBad("{'user.nope':1}", "unknown column 'nope' in table 'users'");
    assertBad("{'user.name.x':1}", "one level");
    assertBad("{'ghost.id':1}", "table 'ghosts' linked from column 'ghost' of table 'items' does not exist");
    assertBad("{'user.name':5}", "'$is' on column 'name' (String) of table 'users' needs a string, got 5");
    assertBad("{'$and':{'id':1}}", "'$and' in a proposition on table 'items' needs an array");
    assertBad("{'id':{'$or':3}}", "'$or' on column 'id' (Int) of table 'items' needs an array");
    assertBad("{'$or':[1]}", "a proposition on table 'items' must be a JSON object, got 1");
    assertBad("{'id':[1,2]}", "'$is' on column 'id' (Int) of table 'items' needs an integer, got [1,2]");
    assertBad("{'id':{}}", "column 'id' of table 'items' is an empty object");
    assertBad("{'id':{'foo':1}}", "'foo' in the proposition on column 'id' of table 'items' is not an operator");
    assertBad("{'id':{'$is':{'$gt':1}}}", "'$is' on column 'id' (Int) of table 'items' needs an integer");
    assertBad("{'id':{'$not':{'$match':'x'}}}", "'$match' on column 'id' (Int)");
    assertThatThrownBy(() -> compiler.compile("oops")).isInstanceOf(ApiError.class)
        .hasMessageContaining("must be a JSON object, got \"oops\"");
  }

  @Test
  void tooManyClausesIsABadRequest() {
    JsonArray many = new JsonArray();
    for (int i = 0; i < IndexSearcher.getMaxClauseCount() + 5; i++) {
      many.add(new JsonObject().put("id", i));
    }
    assertThatThrownBy(() -> compiler.compile(new JsonObject().put("$or", many)))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("too large");
  }

  @Test
  void depthSizeAndLinkPathsAreBounded() {
    String atLimit = "{'id':1}";
    for (int i = 1; i < PropositionParser.MAX_DEPTH; i++) {
      atLimit = "{'$not':" + atLimit + "}";
    }
    assertThat(ids(atLimit)).hasSize(9); // 31 negations of id = 1
    assertBad("{'$not':" + atLimit + "}", "nested too deeply: at most " + PropositionParser.MAX_DEPTH);
    String deep = "1";
    for (int i = 0; i < 400; i++) {
      deep = "{'$or':[" + deep + "]}";
    }
    assertBad("{'id':" + deep + "}", "nested too deeply");
    JsonArray wide = new JsonArray();
    for (int i = 0; i < PropositionParser.MAX_NODES; i++) {
      wide.add(i);
    }
    assertThatThrownBy(() -> compiler.compile(new JsonObject().put("id", new JsonObject().put("$or", wide))))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("too large: it holds more than " + PropositionParser.MAX_NODES + " values");
    JsonArray links = new JsonArray();
    for (int i = 0; i <= PropositionParser.MAX_LINK_PATHS; i++) {
      links.add(i % 2 == 0 ? new JsonObject().put("user.name", "x") : new JsonObject().put("$exists", "user.tags"));
    }
    assertThatThrownBy(() -> compiler.compile(new JsonObject().put("$or", links)))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining("more than " + PropositionParser.MAX_LINK_PATHS + " link paths");
  }

  @Test
  void numbersBeyondADoubleAreBadRequests() {
    // Jackson reads 1e400 as Infinity; JSON itself has no infinity, so it can only be an overflow.
    assertBad("{'price':{'$gt':1e400}}", "'$gt' on column 'price' (Decimal) of table 'items' needs a number within");
    assertBad("{'price':-1e400}", "out of range");
    assertBad("{'id':{'$lt':1e400}}", "'$lt' on column 'id' (Int)");
    assertBad("{'big':{'$is':1" + "0".repeat(320) + "}}", "'$is' on column 'big' (Long)");
    assertThat(ids("{'price':{'$lt':1.7976931348623157e308}}")).hasSize(10);
  }

  @Test
  void orderByErrors() {
    assertBadSort("nope", "unknown column 'nope' in table 'items'");
    assertBadSort(new JsonObject().put("$asc", 5), "'$asc' on table 'items' needs a column name, got 5");
    assertBadSort(new JsonObject().put("$up", "id"), "orderBy on table 'items' must be a column name");
    assertBadSort(new JsonObject().put("$asc", "id").put("$desc", "id"), "must be a column name");
    assertBadSort(5, "must be a column name");
    assertBadSort("user.name", "link path 'user.name' is not supported");
  }

  // ---------------------------------------------------------------------------------------------------------
  // helpers

  static void assertBad(String where, String message) {
    assertThatThrownBy(() -> compiler.compile(json(where)))
        .as(where)
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining(message);
  }

  static void assertBadSort(Object orderBy, String message) {
    assertThatThrownBy(() -> compiler.sort(orderBy))
        .isInstanceOfSatisfying(ApiError.class, e -> assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining(message);
  }

  static JsonObject json(String singleQuoted) {
    return new JsonObject(singleQuoted.replace('\'', '"'));
  }

  static List<Integer> ids(String where) {
    return ids(json(where), null);
  }

  static List<Integer> ids(Object where) {
    return ids(where, null);
  }

  static List<Integer> ids(String where, Object orderBy) {
    return ids(json(where), orderBy);
  }

  static List<Integer> ids(Object where, Object orderBy) {
    Query query = compiler.compile(where);
    Sort sort = compiler.sort(orderBy);
    List<Integer> ids = new ArrayList<>();
    for (JsonNode row : search(items, query, sort)) {
      ids.add(row.get("id").asInt());
    }
    return ids;
  }

  static List<JsonNode> search(IndexSearcher searcher, Query query, Sort sort) {
    try {
      List<JsonNode> rows = new ArrayList<>();
      for (ScoreDoc hit : searcher.search(query, 100, sort).scoreDocs) {
        byte[] source = searcher.storedFields().document(hit.doc).getBinaryValue(Fields.SOURCE).bytes;
        rows.add(MAPPER.readTree(source));
      }
      return rows;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static Compiler compilerFor(String table, TableSchema schema) {
    return new Compiler(table, schema);
  }

  /** What the store does with a where-clause and an orderBy: parse, resolve link paths, translate. */
  record Compiler(String table, TableSchema schema) {
    Query compile(Object where) {
      Predicate parsed = new PropositionParser(table, schema, PropositionCompilerTest::lookup).where(where);
      try {
        return LuceneQueries.translate(PropositionParser.resolveLinks(parsed, PropositionCompilerTest::resolve),
            table, schema);
      } catch (StorageException e) { // the core answers a query too large for the engine with a 400
        throw ApiError.badRequest("too large: " + e.getMessage());
      }
    }

    Sort sort(Object orderBy) {
      return LuceneQueries.sort(new PropositionParser(table, schema, PropositionCompilerTest::lookup)
          .orderBy(orderBy), schema);
    }
  }

  static TableSchema lookup(String table) {
    return switch (table) {
      case "items" -> ITEMS;
      case "users" -> USERS;
      default -> null;
    };
  }

  /** The test's link resolution: only "users" is linked to, and its links are never followed. */
  static Set<Object> resolve(Predicate.LinkPath link) {
    assertThat(link.targetTable()).isEqualTo("users");
    Query inner = LuceneQueries.translate(PropositionParser.resolveLinks(link.inner(), nested -> {
      throw new AssertionError("nested link");
    }), "users", USERS);
    Set<Object> values = new LinkedHashSet<>();
    ColumnType type = USERS.column(link.targetColumn()).type();
    for (JsonNode row : search(users, inner, LuceneQueries.sort(List.of(), USERS))) {
      JsonNode value = row.get(link.targetColumn());
      if (value != null && !value.isNull()) {
        values.add(switch (type) {
          case INT, LONG -> value.asLong();
          case DECIMAL -> value.asDouble();
          case BOOLEAN -> value.asBoolean();
          case STRING, TEXT -> value.asText();
        });
      }
    }
    return values;
  }

  static DirectoryReader write(Directory dir, TableSchema schema, String[] rows) throws IOException {
    Map<String, Analyzer> perField = new LinkedHashMap<>();
    schema.columns().forEach((name, column) -> {
      if (column.type() == ColumnType.TEXT) {
        perField.put(name, TextTokens.analyzer(column));
      }
    });
    IndexWriterConfig config = new IndexWriterConfig(new PerFieldAnalyzerWrapper(new KeywordAnalyzer(), perField));
    try (IndexWriter writer = new IndexWriter(dir, config)) {
      long seq = 0;
      for (String row : rows) {
        String json = row.replace('\'', '"');
        JsonNode node = MAPPER.readTree(json);
        writer.addDocument(io.sluice.TestDocs.document(schema, node, json.getBytes(StandardCharsets.UTF_8), seq++));
        if (seq == 5) {
          writer.commit(); // two segments, so ordering crosses segments
        }
      }
    }
    return DirectoryReader.open(dir);
  }

  static ColumnSchema col(ColumnType type, boolean nullable, String link) {
    return new ColumnSchema(type, nullable, link, null);
  }

  static TableSchema schema(Object... namesAndColumns) {
    Map<String, ColumnSchema> columns = new LinkedHashMap<>();
    for (int i = 0; i < namesAndColumns.length; i += 2) {
      columns.put((String) namesAndColumns[i], (ColumnSchema) namesAndColumns[i + 1]);
    }
    return new TableSchema(columns);
  }
}
