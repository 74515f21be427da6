package io.sluice;

import io.sluice.config.SluiceConfig;
import io.sluice.core.Database;
import io.sluice.engine.lucene.DirectoryFactory;
import io.sluice.engine.lucene.LuceneEngine;
import io.sluice.engine.postgres.PgEngine;
import io.sluice.ingest.BatchParser;
import io.sluice.metrics.Metrics;
import io.sluice.store.TableStore;
import io.vertx.core.Vertx;
import java.nio.file.Path;

/** Opens the configured store: the core ({@link Database}) on its engine. Blocking: call it on a worker. */
public final class Stores {
  private Stores() {
  }

  /** {@code store.type}: the embedded Lucene engine under data.dir, or PostgreSQL ({@code store.postgres.*}). */
  public static TableStore open(Vertx vertx, SluiceConfig config, DirectoryFactory directories, Metrics metrics) {
    if (SluiceConfig.STORE_POSTGRES.equals(config.storeType())) {
      // In a cluster the other nodes change the catalog too: the engine then versions and locks it.
      boolean shared = config.cluster() != null;
      return new Database(PgEngine.create(vertx, config.postgres(), shared), config.maxResultLimit(), metrics,
          config.idempotencyRetentionSeconds(), task -> vertx.executeBlocking(() -> {
            task.run();
            return null;
          }, false));
    }
    return lucene(config.dataDir(), config.maxResultLimit(), directories, metrics,
        new LuceneEngine.Options(config.storeCommitIntervalMs(), config.storeWalMaxBytes()),
        config.idempotencyRetentionSeconds());
  }

  /** The embedded Lucene store under dataDir. */
  public static Database lucene(Path dataDir, int maxResultLimit, DirectoryFactory directories, Metrics metrics,
      LuceneEngine.Options options) {
    return lucene(dataDir, maxResultLimit, directories, metrics, options, 86_400);
  }

  public static Database lucene(Path dataDir, int maxResultLimit, DirectoryFactory directories, Metrics metrics,
      LuceneEngine.Options options, long idempotencyRetentionSeconds) {
    return new Database(new LuceneEngine(dataDir, directories, options, metrics.commitLatency(), BatchParser::redo),
        maxResultLimit, metrics, idempotencyRetentionSeconds);
  }

  /** The embedded Lucene store with default settings (tests, benchmarks). */
  public static Database lucene(Path dataDir, int maxResultLimit) {
    return lucene(dataDir, maxResultLimit, DirectoryFactory.FILE_SYSTEM, Metrics.noop(), LuceneEngine.Options.DEFAULTS);
  }
}
