package io.sluice.engine.lucene;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.lucene.analysis.standard.StandardAnalyzer;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.IndexableField;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.FieldExistsQuery;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.PrefixQuery;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.ByteBuffersDirectory;
import org.apache.lucene.store.Directory;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.NumericUtils;
import org.junit.jupiter.api.Test;

class DocumentBuilderTest {
  static final ObjectMapper MAPPER = new ObjectMapper();

  static final TableSchema SCHEMA = io.sluice.ingest.RowReaderTest.SCHEMA;

  @Test
  void fieldsOfEveryType() throws IOException {
    JsonNode row = MAPPER.readTree(
        "{\"i\":7,\"l\":-9223372036854775808,\"d\":2.5,\"s\":\"abc\",\"t\":\"Hello World\",\"b\":true}");
    byte[] source = "{}".getBytes(StandardCharsets.UTF_8);
    Document doc = io.sluice.TestDocs.document(SCHEMA, row, source, 42);

    assertThat(doc.getBinaryValue(Fields.SOURCE).bytes).isEqualTo(source);
    assertThat(doc.getField(Fields.SEQ).numericValue()).isEqualTo(42L);
    assertThat(doc.getFields("i")).hasSize(2);
    assertThat(doc.getFields("i")[0]).isInstanceOf(LongPoint.class);
    assertThat(doc.getFields("i")[1].numericValue()).isEqualTo(7L);
    assertThat(doc.getFields("l")[1].numericValue()).isEqualTo(Long.MIN_VALUE);
    assertThat(doc.getFields("d")[0]).isInstanceOf(DoublePoint.class);
    assertThat(doc.getFields("d")[1].numericValue()).isEqualTo(NumericUtils.doubleToSortableLong(2.5));
    assertThat(doc.getFields("s")).hasSize(2);
    assertThat(doc.getFields("s")[0].binaryValue().utf8ToString()).isEqualTo("abc");
    assertThat(doc.getFields("t")).hasSize(1);
    assertThat(doc.getFields("t")[0].stringValue()).isEqualTo("Hello World");
    assertThat(doc.getFields("t" + Fields.RAW_SUFFIX)).hasSize(1);
    IndexableField raw = doc.getField("t" + Fields.RAW_SUFFIX);
    assertThat(raw).isInstanceOf(BinaryDocValuesField.class);
    assertThat(raw.fieldType().indexOptions()).isEqualTo(IndexOptions.NONE);
    assertThat(raw.binaryValue().utf8ToString()).isEqualTo("Hello World");
    assertThat(doc.getFields("b")[0].binaryValue().utf8ToString()).isEqualTo("true");
    assertThat(doc.getFields("b")[1].numericValue()).isEqualTo(1L);
  }

  @Test
  void nullAndAbsentColumnsHaveNoFields() throws IOException {
    ObjectNode row = (ObjectNode) MAPPER.readTree("{\"i\":1,\"l\":null,\"s\":null,\"t\":null,\"b\":null}");
    Document doc = io.sluice.TestDocs.document(SCHEMA, row, new byte[0], 0);
    for (String field : new String[] {"l", "d", "s", "t", "t$raw", "b"}) {
      assertThat(doc.getFields(field)).as(field).isEmpty();
    }
    assertThat(doc.getFields()).extracting(IndexableField::name)
        .containsExactlyInAnyOrder(Fields.SOURCE, Fields.SEQ, "i", "i");

    try (Directory dir = new ByteBuffersDirectory()) {
      try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(new StandardAnalyzer()))) {
        writer.addDocument(doc);
        writer.addDocument(io.sluice.TestDocs.document(SCHEMA,
            MAPPER.readTree("{\"i\":2,\"l\":3,\"d\":0.5,\"s\":\"x\",\"t\":\"y\",\"b\":false}"), new byte[0], 1));
      }
      try (DirectoryReader reader = DirectoryReader.open(dir)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        for (String column : new String[] {"l", "d", "s", "t", "b"}) {
          ColumnSchema schema = SCHEMA.column(column);
          assertThat(searcher.count(new FieldExistsQuery(Fields.existsField(column, schema)))).as(column)
              .isEqualTo(1);
        }
        assertThat(searcher.count(new FieldExistsQuery(Fields.existsField("i", SCHEMA.column("i"))))).isEqualTo(2);
      }
    }
  }

  @Test
  void longKeywordsAreTruncatedOnACodePointBoundary() throws IOException {
    String euros = "a" + "€".repeat(20_000); // 1 + 60,000 UTF-8 bytes
    String emoji = "😀".repeat(10_000); // 40,000 UTF-8 bytes, surrogate pairs in Java

    BytesRef cut = DocumentBuilder.keyword(euros);
    assertThat(cut.length).isEqualTo(1 + 3 * 10_921).isLessThanOrEqualTo(Fields.MAX_TERM_BYTES);
    assertThat(cut.utf8ToString()).isEqualTo("a" + "€".repeat(10_921));
    BytesRef cutEmoji = DocumentBuilder.keyword(emoji);
    assertThat(cutEmoji.length).isEqualTo(4 * 8191);
    assertThat(cutEmoji.utf8ToString()).isEqualTo("😀".repeat(8191));
    String exact = "x".repeat(Fields.MAX_TERM_BYTES);
    assertThat(DocumentBuilder.keyword(exact).length).isEqualTo(Fields.MAX_TERM_BYTES);
    assertThat(DocumentBuilder.keyword("short").utf8ToString()).isEqualTo("short");

    ObjectNode row = MAPPER.createObjectNode().put("i", 1).put("s", euros).put("t", emoji);
    try (Directory dir = new ByteBuffersDirectory()) {
      try (IndexWriter writer = new IndexWriter(dir, new IndexWriterConfig(new StandardAnalyzer()))) {
        writer.addDocument(io.sluice.TestDocs.document(SCHEMA, row, new byte[0], 0)); // no "immense term" failure
      }
      try (DirectoryReader reader = DirectoryReader.open(dir)) {
        IndexSearcher searcher = new IndexSearcher(reader);
        assertThat(searcher.count(new TermQuery(new Term("s", DocumentBuilder.keyword(euros))))).isEqualTo(1);
        assertThat(searcher.count(new PrefixQuery(new Term("s", "a€€")))).isEqualTo(1);
        assertThat(searcher.count(BinaryValueQuery.exact("t$raw", DocumentBuilder.keyword(emoji)))).isEqualTo(1);
        assertThat(searcher.count(BinaryValueQuery.exact("t$raw", DocumentBuilder.keyword(emoji + "x"))))
            .isEqualTo(1);
        assertThat(searcher.count(BinaryValueQuery.exact("t$raw", new BytesRef("😀")))).isZero();
      }
    }
  }
}
