package io.sluice.engine.lucene;

import io.sluice.schema.ColumnSchema;
import io.sluice.schema.ColumnType;
import io.sluice.schema.TableSchema;
import io.sluice.schema.analysis.Analyzers;
import java.util.HashMap;
import java.util.Map;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.DelegatingAnalyzerWrapper;
import org.apache.lucene.analysis.core.KeywordAnalyzer;

/**
 * The per-column analyzer of one table. A writer's analyzer is fixed when it opens, so this one delegates to
 * a map that follows schema changes (a column added with its own analyzer).
 */
final class TableAnalyzer extends DelegatingAnalyzerWrapper {
  private static final Analyzer KEYWORD = new KeywordAnalyzer();
  private volatile Map<String, Analyzer> byField = Map.of();

  TableAnalyzer(TableSchema schema) {
    super(PER_FIELD_REUSE_STRATEGY);
    update(schema);
  }

  void update(TableSchema schema) {
    Map<String, Analyzer> map = new HashMap<>();
    schema.columns().forEach((name, column) -> {
      if (column.type() == ColumnType.TEXT) {
        map.put(name, forColumn(column));
      }
    });
    byField = map;
  }

  static Analyzer forColumn(ColumnSchema column) {
    return Analyzers.build(column.analyzer() == null ? Analyzers.DEFAULT : column.analyzer());
  }

  @Override
  protected Analyzer getWrappedAnalyzer(String fieldName) {
    return byField.getOrDefault(fieldName, KEYWORD);
  }
}
