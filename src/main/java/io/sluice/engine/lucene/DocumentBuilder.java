package io.sluice.engine.lucene;

import io.sluice.engine.Row;
import io.sluice.engine.Utf8;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.document.BinaryDocValuesField;
import org.apache.lucene.document.DoublePoint;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.LongPoint;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.SortedDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.FieldType;
import org.apache.lucene.index.IndexOptions;
import org.apache.lucene.index.IndexableField;
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

  /** A row's fields. The list has room for {@link #SPARE_FIELDS} more (the import marker) without growing. */
  public static List<IndexableField> build(TableSchema schema, Row row, long seq) {
    return build(layout(schema), row, seq);
  }

  /** Fields a caller may add to a built row's list without it growing. */
  public static final int SPARE_FIELDS = 2;

  /** As {@link #build(TableSchema, Row, long)}, with the schema's layout computed once for many rows. */
  public static List<IndexableField> build(Layout layout, Row row, long seq) {
    Object[] values = row.values();
    // Sized once: a Document's list would grow (and copy) twice for a row of eight columns.
    List<IndexableField> doc = new ArrayList<>(layout.maxFields);
    doc.add(new StoredField(Fields.SOURCE, row.sourceBytes(), row.sourceOffset(), row.sourceLength()));
    doc.add(new NumericDocValuesField(Fields.SEQ, seq));
    Column[] columns = layout.columns;
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
        case STRING -> addKeyword(doc, column.name(), keyword(layout.bytes[i], (Utf8) value));
        case TEXT -> {
          Utf8 text = (Utf8) value;
          doc.add(new Field(column.name(), text.toString(), TEXT));
          addRaw(doc, column.raw(), keyword(layout.bytes[i], text));
        }
        case BOOLEAN -> addBoolean(doc, column.name(), (Boolean) value);
      }
    }
    return doc;
  }

  /** A column as the hot path needs it: names computed once, not per row (Lucene hashes each field name). */
  private record Column(String name, String raw, ColumnType type) {
  }

  /**
   * A schema's columns as documents are built from them; compute it once per batch, not per row. Not
   * thread-safe: its documents share one {@link BytesRef} per column, pointed at each row's value in turn. That is
   * safe because the writer consumes a document before the next is built (documents are built lazily as
   * {@code IndexWriter.addDocuments} iterates, or added one by one), and terms and doc values copy their bytes;
   * it saves an object per String or Text value on the ingestion path.
   */
  public static final class Layout {
    private final Column[] columns;
    private final int maxFields;
    private final BytesRef[] bytes;

    private Layout(TableSchema schema) {
      this.columns = schema.columns().entrySet().stream()
          .map(e -> new Column(e.getKey(), e.getKey() + Fields.RAW_SUFFIX, e.getValue().type()))
          .toArray(Column[]::new);
      this.maxFields = 2 + 2 * columns.length + SPARE_FIELDS; // source, seq; at most two a column
      this.bytes = new BytesRef[columns.length];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = new BytesRef();
      }
    }
  }

  public static Layout layout(TableSchema schema) {
    return new Layout(schema);
  }

  private static void addKeyword(List<IndexableField> doc, String field, BytesRef term) {
    doc.add(new StringField(field, term, Field.Store.NO));
    doc.add(new SortedDocValuesField(field, term));
  }

  // Shared by every document: the indexing chain only reads a field's bytes.
  private static final BytesRef TRUE = new BytesRef("true");
  private static final BytesRef FALSE = new BytesRef("false");

  private static void addBoolean(List<IndexableField> doc, String field, boolean value) {
    doc.add(new StringField(field, value ? TRUE : FALSE, Field.Store.NO));
    doc.add(new NumericDocValuesField(field, value ? 1L : 0L));
  }

  /** A Text column's exact value: doc values only, neither an indexed term nor a sorted dictionary. */
  private static void addRaw(List<IndexableField> doc, String rawField, BytesRef value) {
    doc.add(new BinaryDocValuesField(rawField, value));
  }

  /** The keyword of a value, in the column's shared {@code scratch} (see {@link Layout}). */
  private static BytesRef keyword(BytesRef scratch, Utf8 value) {
    scratch.bytes = value.bytes();
    scratch.offset = value.offset();
    scratch.length = value.length();
    return keyword(scratch);
  }

  /**
   * The UTF-8 bytes of a keyword value, truncated to at most {@link Fields#MAX_TERM_BYTES} on a code point
   * boundary. Queries use the same function so that equality and prefixes of long values still match.
   */
  public static BytesRef keyword(String value) {
    return keyword(new BytesRef(value));
  }

  /**
   * As {@link #keyword(String)}, for a value that is already UTF-8; a longer value is answered as a shorter view
   * of the same bytes ({@code bytes} itself is left as it is: parsed rows keep their values).
   */
  public static BytesRef keyword(BytesRef bytes) {
    if (bytes.length > Fields.MAX_TERM_BYTES) {
      int cut = Fields.MAX_TERM_BYTES;
      // bytes[cut] is the first byte dropped: step back while it is a continuation byte (10xxxxxx),
      // so the kept prefix ends with a whole code point.
      while (cut > 0 && (bytes.bytes[bytes.offset + cut] & 0xC0) == 0x80) {
        cut--;
      }
      return new BytesRef(bytes.bytes, bytes.offset, cut);
    }
    return bytes;
  }
}
