package io.sluice.ingest;

import io.vertx.core.json.JsonObject;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every rejected line of a file import, one NDJSON object a line ({@code line}, {@code message}, {@code row}),
 * in {@code <data>/imports/<id>.errors.ndjson} beside the job's status, up to {@code import.errors.max} lines.
 * The status keeps Aito's "last 50" shape; this is what {@code GET …/file/{id}/errors} serves. Written by the
 * import verticle's one worker thread; {@link #completeBytes} (whole lines flushed so far) may be read by
 * others, so a running job's list is served up to its last whole line. Not fsynced: a crash loses at most the
 * tail, and a resumed job rewrites the list from the start of the file anyway.
 */
final class ImportErrorLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ImportErrorLog.class);

  private final Path file;
  private final long max;
  private OutputStream out;
  private long lines;
  private long bytes;
  private volatile long completeBytes;

  /** Starts the list afresh (a resumed job re-reports the lines of its batches from the file's start). */
  ImportErrorLog(Path file, long max) {
    this.file = file;
    this.max = max;
    try {
      this.out = new BufferedOutputStream(Files.newOutputStream(file, StandardOpenOption.CREATE,
          StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE));
    } catch (IOException e) {
      LOG.warn("cannot write the rejected lines of an import to {}: {}", file, e.toString());
    }
  }

  void add(List<JsonObject> failures) {
    if (out == null) {
      return;
    }
    try {
      for (JsonObject failure : failures) {
        if (lines >= max) {
          break;
        }
        byte[] line = (new JsonObject().put("line", failure.getValue("line"))
            .put("message", failure.getString("message")).put("row", failure.getString("row")).encode() + "\n")
            .getBytes(StandardCharsets.UTF_8);
        out.write(line);
        bytes += line.length;
        lines++;
      }
      out.flush();
      completeBytes = bytes;
    } catch (IOException e) {
      LOG.warn("cannot write the rejected lines of an import to {}: {}", file, e.toString());
      close();
    }
  }

  long completeBytes() {
    return completeBytes;
  }

  @Override
  public void close() {
    if (out != null) {
      try {
        out.close();
      } catch (IOException e) {
        LOG.warn("cannot close {}: {}", file, e.toString());
      }
      out = null;
    }
  }
}
