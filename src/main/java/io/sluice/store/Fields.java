package io.sluice.store;

import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;

/**
 * How a row is laid out in a Lucene document; the one place that names index fields.
 *
 * <ul>
 *   <li>{@value #SOURCE}: stored bytes of the row's JSON, returned by search as is.</li>
 *   <li>{@value #SEQ}: numeric doc values, the insertion sequence number (default order).</li>
 *   <li>Int, Long: {@code LongPoint(c)} + {@code NumericDocValuesField(c)}.</li>
 *   <li>Decimal: {@code DoublePoint(c)} + {@code NumericDocValuesField(c, NumericUtils.doubleToSortableLong)}.</li>
 *   <li>String: {@code StringField(c)} + {@code SortedDocValuesField(c)}.</li>
 *   <li>Text: analyzed {@code Field(c, DocumentBuilder.TEXT)} (documents only: no frequencies, positions or
 *       norms); the raw value as {@code BinaryDocValuesField(c$raw)} only (no
 *       indexed term, no sorted dictionary: free text is mostly unique, so both would be pure indexing cost).
 *       Exact equality, prefix and ranges scan it with {@link BinaryValueQuery} (equality
 *       first narrows by the analyzed tokens of {@code c}); order is {@code SortField.Type.STRING_VAL};
 *       existence is {@code FieldExistsQuery(c$raw)}.</li>
 *   <li>Boolean: {@code StringField(c, "true"|"false")} + {@code NumericDocValuesField(c, 0|1)}.</li>
 *   <li>null: no field at all, so "defined" is an exists query on {@link #existsField}.</li>
 * </ul>
 * Keyword terms, sorted and binary doc values longer than {@link #MAX_TERM_BYTES} are truncated to it (by
 * {@code DocumentBuilder.keyword}, which queries apply to their values too). Decimal doc
 * values are sortable longs: sort them as {@code SortField.Type.LONG} and decode with
 * {@code NumericUtils.sortableLongToDouble}.
 */
public final class Fields {
  public static final String SOURCE = "_src";
  public static final String SEQ = "_seq";
  public static final String RAW_SUFFIX = "$raw";
  /**
   * Rows written by a file import carry their job id (keyword) and batch number (doc values): the import's
   * checkpoint lives in the very documents it covers, so a commit holds a batch's rows and its progress
   * together, and a resumed job skips exactly the batches that are already in the index.
   */
  public static final String IMPORT_JOB = "_job";
  public static final String IMPORT_BATCH = "_batch";
  public static final int MAX_TERM_BYTES = 32766;

  private Fields() {
  }

  /**
   * The field holding a String or Text column's exact value: for a String column an indexed keyword with
   * sorted doc values, for a Text column ({@link #hasBinaryRaw}) binary doc values only.
   */
  public static String keywordField(String column, ColumnSchema schema) {
    return schema.type() == ColumnType.TEXT ? column + RAW_SUFFIX : column;
  }

  /** Whether the column's exact value is kept as binary doc values (not indexed): Text columns. */
  public static boolean hasBinaryRaw(ColumnSchema schema) {
    return schema.type() == ColumnType.TEXT;
  }

  /** The doc-values field used for ordering and existence. */
  public static String existsField(String column, ColumnSchema schema) {
    return keywordField(column, schema);
  }

  public static String sortField(String column, ColumnSchema schema) {
    return keywordField(column, schema);
  }
}
