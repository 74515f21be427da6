package io.sluice.cli;

import io.sluice.files.DurableFiles;
import io.sluice.store.TableStore;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code sluice restore}: copies a backup into a new data directory, offline. */
@Command(name = "restore", header = "Restore a backup into a new data directory (offline).", sortOptions = false,
    description = {"Copies a backup made by 'sluice backup' (or POST /api/v1/_backup) into --data-dir, which must"
        + " not exist or be empty: a restore never overwrites a data directory, least of all a live one. Then"
        + " start the server on it (data.dir). The server must not be running on that directory.",
        "Example: sluice restore --from /var/backups/sluice/nightly --data-dir /var/lib/sluice/data"})
final class RestoreCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--from", paramLabel = "DIR", required = true, description = "The backup directory.")
  Path from;

  @Option(names = "--data-dir", paramLabel = "DIR", required = true,
      description = "The data directory to create (or an empty one).")
  Path dataDir;

  @Override
  public Integer call() throws IOException {
    restore(from, dataDir);
    PrintWriter out = spec.commandLine().getOut();
    out.println("restored " + from + " into " + dataDir + "; start the server with data.dir=" + dataDir);
    out.flush();
    return SluiceCli.OK;
  }

  /** The backup's files into dataDir (new or empty), the catalog last, everything fsynced. */
  static void restore(Path from, Path dataDir) throws IOException {
    if (!Files.isRegularFile(from.resolve(TableStore.BACKUP_MANIFEST))) {
      throw new IOException(from + " is not a complete backup: it has no " + TableStore.BACKUP_MANIFEST
          + " (a backup that failed midway, or another directory)");
    }
    if (Files.exists(dataDir)) {
      if (!Files.isDirectory(dataDir)) {
        throw new IOException(dataDir + " exists and is not a directory");
      }
      try (Stream<Path> entries = Files.list(dataDir)) {
        if (entries.findAny().isPresent()) {
          throw new IOException("refusing to restore into " + dataDir + ": it is not empty (a live or old data"
              + " directory is never overwritten; restore into a new directory and point data.dir at it)");
        }
      }
    }
    Files.createDirectories(dataDir);
    List<Path> files = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(from)) {
      walk.forEach(files::add);
    }
    Path catalog = null;
    for (Path source : files) {
      Path relative = from.relativize(source);
      Path target = dataDir.resolve(relative.toString());
      if (Files.isDirectory(source)) {
        Files.createDirectories(target);
      } else if (relative.toString().equals(TableStore.BACKUP_MANIFEST)) {
        continue;
      } else if (relative.toString().equals("catalog.json")) {
        catalog = source;
      } else {
        Files.copy(source, target);
        DurableFiles.fsync(target);
      }
    }
    for (Path source : files) {
      if (Files.isDirectory(source)) {
        DurableFiles.fsyncDirectory(dataDir.resolve(from.relativize(source).toString()));
      }
    }
    // Last: until the catalog is there, the directory names no table (and is not empty, so a rerun refuses).
    if (catalog != null) {
      DurableFiles.writeAtomically(dataDir, "catalog.json", Files.readAllBytes(catalog));
    }
    DurableFiles.fsyncDirectory(dataDir);
  }
}
