package io.sluice;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.ingest.RowValues;
import io.sluice.schema.TableSchema;
import io.sluice.engine.lucene.DocumentBuilder;
import org.apache.lucene.document.Document;

/** The Lucene document of a row given as a validated tree, for tests that index rows by hand. */
public final class TestDocs {
  private TestDocs() {
  }

  public static Document document(TableSchema schema, JsonNode row, byte[] source, long seq) {
    Document doc = new Document();
    DocumentBuilder.build(schema, RowValues.of(schema, row, source), seq).forEach(doc::add);
    return doc;
  }
}
