package io.sluice;

import io.sluice.config.SluiceConfig;
import io.sluice.core.Database;
import io.sluice.engine.FileNodeState;
import io.sluice.engine.NodeState;
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

  /** The opened store and the node state that goes with its engine. */
  public record Opened(TableStore store, NodeState state) {
  }

  /**
   * {@code store.type}: the embedded Lucene engine under data.dir with node state in files beside it, or
   * PostgreSQL ({@code store.postgres.*}) with node state in the same database, shared by every node using it.
   */
  public static Opened open(Vertx vertx, SluiceConfig config, DirectoryFactory directories, Metrics metrics) {
    if (SluiceConfig.STORE_POSTGRES.equals(config.storeType())) {
      PgEngine engine = PgEngine.create(vertx, config.postgres(), config.cluster() != null,
          config.cluster() == null ? 0 : config.cluster().leaseTimeoutMs());
      // the core opens the engine (schema and internal tables, node state's among them) before state is read;
      // in a cluster the other nodes change the catalog too: the engine then versions and locks it
      Database database = new Database(engine, config.maxResultLimit(), metrics,
          config.idempotencyRetentionSeconds(), task -> vertx.executeBlocking(() -> {
            task.run();
            return null;
          }, false));
      return new Opened(database, engine.nodeState());
    }
    return new Opened(lucene(config.dataDir(), config.maxResultLimit(), directories, metrics,
        new LuceneEngine.Options(config.storeCommitIntervalMs(), config.storeWalMaxBytes()),
        config.idempotencyRetentionSeconds()), new FileNodeState(config.dataDir()));
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
