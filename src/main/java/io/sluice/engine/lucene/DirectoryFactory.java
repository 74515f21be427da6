package io.sluice.engine.lucene;

import java.io.IOException;
import java.nio.file.Path;
import org.apache.lucene.store.Directory;
import org.apache.lucene.store.FSDirectory;

/**
 * Opens a table's Lucene directory and creates its write-ahead log files; tests wrap both to inject I/O
 * failures such as a full disk.
 */
@FunctionalInterface
public interface DirectoryFactory {
  DirectoryFactory FILE_SYSTEM = FSDirectory::open;

  Directory open(Path path) throws IOException;

  default LogFile createLog(Path path) throws IOException {
    return LogFile.create(path);
  }
}
