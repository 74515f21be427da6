package io.sluice.store;

import com.fasterxml.jackson.databind.JsonNode;
import io.sluice.ingest.ParsedRow;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import java.util.Map;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.util.BytesRef;
import org.apache.lucene.util.NumericUtils;

/**
 * Turns one validated row into a Lucene document laid out as {@link Fields} describes. Stateless and
 * thread-safe; it is on the ingestion hot path, so it allocates only the fields themselves.
 */
public final class DocumentBuilder {
  /**
   * An analyzed Text column: which rows hold each token, nothing more. No query of Sluice scores rows or
   * matches phrases, so term frequencies, positions and norms would be indexing work (a fifth of it, for
   * the benchmark table) that nothing reads.
   */
  public static final FieldType TEXT = textType();

  private static FieldType textType() {
    FieldType type = new FieldType();
    type.setTokenized(true);
    type.setIndexOptions(IndexOptions.DOCS);
    type.setOmitNorms(true);
    type.freeze();
    return type;
  }

  private DocumentBuilder() {
  }

  /** A parsed row as a document: from its typed values when the fast path read it, else from its tree. */
  public static Document build(TableSchema schema, ParsedRow row, long seq) {
    return row.values() != null ? build(schema, row.values(), row.source(), seq)
        : build(schema, row.row(), row.source(), seq);
  }

  /**
   * values: the row's typed values in schema column order, as {@link io.sluice.ingest.RowReader} reads them
   * (already valid; null for a missing or null value). Builds the same document as the tree variant.
   */
  public static Document build(TableSchema schema, Object[] values, byte[] source, long seq) {
    Document doc = new Document();
    doc.add(new StoredField(Fields.SOURCE, source));
    doc.add(new NumericDocValuesField(Fields.SEQ, seq));
    Column[] columns = layout(schema);
    for (int i = 0; i < columns.length; i++) {
      Object value = values[i];
      if (value == null) {
        continue;
      }
      Column column = columns[i];
      switch (column.type()) {
        case INT, LONG -> {
          long l = (Long) value;
          doc.add(new LongPoint(column.name(), l));
          doc.add(new NumericDocValuesField(column.name(), l));
        }
        case DECIMAL -> {
          double d = (Double) value;
          doc.add(new DoublePoint(column.name(), d));
          doc.add(new NumericDocValuesField(column.name(), NumericUtils.doubleToSortableLong(d)));
        }
        case STRING -> addKeyword(doc, column.name(), (String) value);
        case TEXT -> {
          String text = (String) value;
          doc.add(new Field(column.name(), text, TEXT));
          doc.add(new BinaryDocValuesField(column.raw(), keyword(text)));
        }
        case BOOLEAN -> {
          boolean b = (Boolean) value;
          doc.add(new StringField(column.name(), b ? "true" : "false", Field.Store.NO));
          doc.add(new NumericDocValuesField(column.name(), b ? 1L : 0L));
        }
        default -> throw new IllegalStateException("unhandled column type " + column.type());
      }
    }
    return doc;
  }

  /** A column as the hot path needs it: names computed once, not per row (Lucene hashes each field name). */
  private record Column(String name, String raw, ColumnType type) {
  }

  /** The last schema each indexing thread built documents for, with its columns (schemas are immutable). */
  private static final ThreadLocal<Object[]> LAST_LAYOUT = ThreadLocal.withInitial(() -> new Object[2]);

  private static Column[] layout(TableSchema schema) {
    Object[] last = LAST_LAYOUT.get();
    if (last[0] != schema) {
      last[1] = schema.columns().entrySet().stream()
          .map(e -> new Column(e.getKey(), e.getKey() + Fields.RAW_SUFFIX, e.getValue().type()))
          .toArray(Column[]::new);
      last[0] = schema;
    }
    return (Column[]) last[1];
  }

  /**
   * row: a Jackson ObjectNode already validated against schema (types correct; nullable columns may be
   * absent or NullNode). Fields of the row that the schema does not name are ignored.
   */
  public static Document build(TableSchema schema, JsonNode row, byte[] source, long seq) {
    Document doc = new Document();
    doc.add(new StoredField(Fields.SOURCE, source));
    doc.add(new NumericDocValuesField(Fields.SEQ, seq));
    for (Map.Entry<String, ColumnSchema> entry : schema.columns().entrySet()) {
      JsonNode value = row.get(entry.getKey());
      if (value == null || value.isNull()) {
        continue;
      }
      String column = entry.getKey();
      switch (entry.getValue().type()) {
        case INT, LONG -> {
          long l = value.asLong();
          doc.add(new LongPoint(column, l));
          doc.add(new NumericDocValuesField(column, l));
        }
        case DECIMAL -> {
          double d = value.asDouble();
          doc.add(new DoublePoint(column, d));
          doc.add(new NumericDocValuesField(column, NumericUtils.doubleToSortableLong(d)));
        }
        case STRING -> addKeyword(doc, column, value.asText());
        case TEXT -> {
          String text = value.asText();
          doc.add(new Field(column, text, TEXT));
          addRaw(doc, column, text);
        }
        case BOOLEAN -> {
          boolean b = value.asBoolean();
          doc.add(new StringField(column, b ? "true" : "false", Field.Store.NO));
          doc.add(new NumericDocValuesField(column, b ? 1L : 0L));
        }
        default -> throw new IllegalStateException("unhandled column type " + entry.getValue().type());
      }
    }
    return doc;
  }

  private static void addKeyword(Document doc, String field, String value) {
    BytesRef term = keyword(value);
    doc.add(new StringField(field, term, Field.Store.NO));
    doc.add(new SortedDocValuesField(field, term));
  }

  /** A Text column's exact value: doc values only, neither an indexed term nor a sorted dictionary. */
  private static void addRaw(Document doc, String column, String value) {
    doc.add(new BinaryDocValuesField(column + Fields.RAW_SUFFIX, keyword(value)));
  }

  /**
   * The UTF-8 bytes of a keyword value, truncated to at most {@link Fields#MAX_TERM_BYTES} on a code point
   * boundary. Queries use the same function so that equality and prefixes of long values still match.
   */
  public static BytesRef keyword(String value) {
    BytesRef bytes = new BytesRef(value);
    if (bytes.length > Fields.MAX_TERM_BYTES) {
      int cut = Fields.MAX_TERM_BYTES;
      // bytes[cut] is the first byte dropped: step back while it is a continuation byte (10xxxxxx),
      // so the kept prefix ends with a whole code point.
      while (cut > 0 && (bytes.bytes[bytes.offset + cut] & 0xC0) == 0x80) {
        cut--;
      }
      bytes.length = cut;
    }
    return bytes;
  }
}
