package io.sluice.engine.lucene;

import io.sluice.Stores;
import io.sluice.core.Database;
import static org.assertj.core.api.Assertions.assertThat;

import io.sluice.schema.analysis.Analyzers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.lucene.analysis.core.KeywordAnalyzer;
import org.apache.lucene.analysis.miscellaneous.PerFieldAnalyzerWrapper;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.DocValuesType;
import org.apache.lucene.index.FieldInfo;
import org.apache.lucene.index.FieldInfos;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A table written when Text columns kept their exact value as an indexed {@code c$raw} term with sorted doc
 * values is rebuilt at start into the binary doc-values layout: its rows, order and import markers stay, and
 * it takes new rows (Lucene refuses another doc-values type for a field in the same index).
 */
class TextLayoutUpgradeTest {
  @TempDir
  Path dataDir;

  @Test
  void anOldLayoutIndexIsRebuiltOnceAtStart() throws Exception {
    Database store = Stores.lucene(dataDir, 100);
    store.putTable("notes", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},
          "body":{"type":"Text","analyzer":"english","nullable":true}}}"""));
    store.close();
    String oldId = tableId();
    Path oldDir = dataDir.resolve(Catalog.TABLES_DIR).resolve(oldId);

    String[] rows = {
        "{\"id\":1, \"body\":\"The Cat, the Hat!\"}", // spacing kept: rows are returned as written
        "{\"id\":2,\"body\":\"the cat the hat\"}",
        "{\"id\":3}",
        "{\"id\":4,\"body\":\"gone\"}",
        "{\"id\":5,\"body\":\"Apple\"}",
    };
    PerFieldAnalyzerWrapper analyzer =
        new PerFieldAnalyzerWrapper(new KeywordAnalyzer(), Map.of("body", Analyzers.build("english")));
    try (Directory dir = FSDirectory.open(oldDir);
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(analyzer))) {
      String[] bodies = {"The Cat, the Hat!", "the cat the hat", null, "gone", "Apple"};
      for (int i = 0; i < rows.length; i++) {
        Document doc = new Document();
        doc.add(new StoredField(Fields.SOURCE, rows[i].getBytes(StandardCharsets.UTF_8)));
        doc.add(new NumericDocValuesField(Fields.SEQ, 10 + i));
        doc.add(new LongPoint("id", i + 1));
        doc.add(new NumericDocValuesField("id", i + 1));
        if (bodies[i] != null) {
          doc.add(new TextField("body", bodies[i], Field.Store.NO));
          doc.add(new StringField("body$raw", DocumentBuilder.keyword(bodies[i]), Field.Store.NO));
          doc.add(new SortedDocValuesField("body$raw", DocumentBuilder.keyword(bodies[i])));
        }
        if (i == 1 || i == 4) {
          doc.add(new StringField(Fields.IMPORT_JOB, "job-a", Field.Store.NO));
          doc.add(new NumericDocValuesField(Fields.IMPORT_BATCH, 7 + i));
        }
        writer.addDocument(doc);
        if (i == 2) {
          writer.commit(); // two segments
        }
      }
      writer.deleteDocuments(LongPoint.newExactQuery("id", 4));
      writer.commit();
    }

    store = Stores.lucene(dataDir, 100);
    try {
      String newId = tableId();
      assertThat(newId).isNotEqualTo(oldId);
      assertThat(oldDir).doesNotExist();
      assertThat(rawFieldInfos(newId)).allSatisfy(info -> {
        assertThat(info.getDocValuesType()).isEqualTo(DocValuesType.BINARY);
        assertThat(info.getIndexOptions()).isEqualTo(IndexOptions.NONE);
      });
      assertThat(fieldInfo(newId, "body").getIndexOptions()).isEqualTo(IndexOptions.DOCS);
      assertThat(fieldInfo(newId, "body").hasNorms()).isFalse();

      assertThat(ids(store, new JsonObject(), null)).containsExactly(1, 2, 3, 5);
      assertThat(hits(store, new JsonObject().put("id", 1)).getJsonObject(0))
          .isEqualTo(new JsonObject(rows[0]));
      assertThat(ids(store, new JsonObject().put("body", "the cat the hat"), null)).containsExactly(2);
      assertThat(ids(store, new JsonObject("{\"body\":{\"$startsWith\":\"The\"}}"), null)).containsExactly(1);
      assertThat(ids(store, new JsonObject("{\"body\":{\"$lt\":\"B\"}}"), null)).containsExactly(5);
      assertThat(ids(store, new JsonObject("{\"body\":{\"$defined\":false}}"), null)).containsExactly(3);
      assertThat(ids(store, new JsonObject(), new JsonObject().put("$desc", "body"))).containsExactly(2, 1, 5, 3);
      assertThat(store.importedBatches("notes", "job-a").getJsonArray("batches"))
          .isEqualTo(new JsonArray().add(8).add(11));

      // New rows go in, after the old ones.
      store.insertOne("notes", "{\"id\":6,\"body\":\"The Cat\"}".getBytes(StandardCharsets.UTF_8))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(ids(store, new JsonObject(), null)).containsExactly(1, 2, 3, 5, 6);
      assertThat(ids(store, new JsonObject("{\"body\":{\"$startsWith\":\"The\"}}"), "body")).containsExactly(6, 1);
    } finally {
      store.close();
    }

    // Already in the current layout: opened as it is.
    String upgradedId = tableId();
    store = Stores.lucene(dataDir, 100);
    try {
      assertThat(tableId()).isEqualTo(upgradedId);
      assertThat(ids(store, new JsonObject().put("body", "The Cat"), null)).containsExactly(6);
    } finally {
      store.close();
    }
  }

  /** The layout between the two changes: binary {@code $raw} already, but positions and norms on the text. */
  @Test
  void aTextFieldWithPositionsIsRebuiltToo() throws Exception {
    Database store = Stores.lucene(dataDir, 100);
    store.putTable("notes", new JsonObject("""
        {"type":"table","columns":{"id":{"type":"Int"},"body":{"type":"Text","analyzer":"english"}}}"""));
    store.close();
    String oldId = tableId();
    try (Directory dir = FSDirectory.open(dataDir.resolve(Catalog.TABLES_DIR).resolve(oldId));
        IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(Analyzers.build("english")))) {
      Document doc = new Document();
      doc.add(new StoredField(Fields.SOURCE, "{\"id\":1,\"body\":\"Cats and hats\"}".getBytes(StandardCharsets.UTF_8)));
      doc.add(new NumericDocValuesField(Fields.SEQ, 0));
      doc.add(new LongPoint("id", 1));
      doc.add(new NumericDocValuesField("id", 1));
      doc.add(new TextField("body", "Cats and hats", Field.Store.NO));
      doc.add(new org.apache.lucene.document.BinaryDocValuesField("body$raw", DocumentBuilder.keyword("Cats and hats")));
      writer.addDocument(doc);
      writer.commit();
    }
    store = Stores.lucene(dataDir, 100);
    try {
      assertThat(tableId()).isNotEqualTo(oldId);
      assertThat(fieldInfo(tableId(), "body").getIndexOptions()).isEqualTo(IndexOptions.DOCS);
      store.insertOne("notes", "{\"id\":2,\"body\":\"a hat\"}".getBytes(StandardCharsets.UTF_8))
          .toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertThat(ids(store, new JsonObject("{\"body\":{\"$match\":\"hat\"}}"), "id")).containsExactly(1, 2);
    } finally {
      store.close();
    }
  }

  private FieldInfo fieldInfo(String id, String field) throws Exception {
    try (Directory dir = FSDirectory.open(dataDir.resolve(Catalog.TABLES_DIR).resolve(id));
        DirectoryReader reader = DirectoryReader.open(dir)) {
      return FieldInfos.getMergedFieldInfos(reader).fieldInfo(field);
    }
  }

  private String tableId() throws Exception {
    return new JsonObject(Files.readString(dataDir.resolve(Catalog.FILE)))
        .getJsonObject("tables").getJsonObject("notes").getString("id");
  }

  private List<FieldInfo> rawFieldInfos(String id) throws Exception {
    try (Directory dir = FSDirectory.open(dataDir.resolve(Catalog.TABLES_DIR).resolve(id));
        DirectoryReader reader = DirectoryReader.open(dir)) {
      FieldInfo info = FieldInfos.getMergedFieldInfos(reader).fieldInfo("body$raw");
      assertThat(info).isNotNull();
      return List.of(info);
    }
  }

  private static JsonArray hits(Database store, JsonObject where) {
    return store.search(new JsonObject().put("from", "notes").put("where", where).put("limit", 50))
        .getJsonArray("hits");
  }

  private static List<Object> ids(Database store, JsonObject where, Object orderBy) {
    JsonObject query = new JsonObject().put("from", "notes").put("where", where).put("limit", 50);
    if (orderBy != null) {
      query.put("orderBy", orderBy);
    }
    return store.search(query).getJsonArray("hits").stream().map(h -> ((JsonObject) h).getValue("id")).toList();
  }
}
