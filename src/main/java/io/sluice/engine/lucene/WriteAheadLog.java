package io.sluice.engine.lucene;

import io.sluice.files.DurableFiles;
import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A table's write-ahead log: the request bodies of acknowledged row writes and the row ids of deletes, so that
 * an acknowledgement costs one append and one shared fsync instead of a Lucene commit. Lucene commits then
 * happen in the background by time and size; each records in its commit data the first generation it may not
 * hold, and the generations before it are deleted once it is durable.
 *
 * <p>Layout: {@code wal/NNNNNNNNNNNNNNNNNNNN.log}, one file per generation, each a sequence of frames
 * {@code [int length][int crc32c][payload]}. A frame torn by a crash fails its length or checksum and ends
 * its file: it was never acknowledged, since acknowledgement waits for the fsync that covers the whole frame.
 *
 * <p>Thread-safety: appends are serialised; {@link #force} may run beside appends; {@link #roll} runs while
 * the table's writers are excluded (see {@link TableIndex}).
 */
final class WriteAheadLog implements Closeable {
  private static final Logger LOG = LoggerFactory.getLogger(WriteAheadLog.class);
  static final String DIR = "wal";
  private static final String SUFFIX = ".log";
  /** Larger frames are corrupt: no request body gets near this (max.batch.bytes is far smaller). */
  private static final int MAX_FRAME = 1 << 30;

  private final Path dir;
  private final DirectoryFactory files;
  private final Object forceLock = new Object();
  private LogFile current;
  private long generation;
  private long currentBytes;
  private final AtomicLong bytesSinceRoll = new AtomicLong();

  /** Opens the log in {@code tableDir}; new appends go to a fresh generation after every existing one. */
  WriteAheadLog(Path tableDir, DirectoryFactory files) throws IOException {
    this.dir = tableDir.resolve(DIR);
    this.files = files;
    if (!Files.isDirectory(dir)) {
      Files.createDirectories(dir);
      // the table directory's entry for the log directory: durable before any frame is acknowledged
      DurableFiles.fsyncDirectory(tableDir);
    }
    List<Long> existing = generations();
    this.generation = existing.isEmpty() ? 1 : existing.get(existing.size() - 1) + 1;
    this.current = files.createLog(file(generation));
    DurableFiles.fsyncDirectory(dir);
  }

  long generation() {
    synchronized (this) {
      return generation;
    }
  }

  /** Bytes appended since the last {@link #roll}: how much a crash would replay. */
  long bytesSinceRoll() {
    return bytesSinceRoll.get();
  }

  synchronized void append(byte[] payload) throws IOException {
    CRC32C crc = new CRC32C();
    crc.update(payload);
    ByteBuffer frame = ByteBuffer.allocate(8 + payload.length);
    frame.putInt(payload.length).putInt((int) crc.getValue()).put(payload).flip();
    current.write(frame);
    currentBytes += frame.capacity();
    bytesSinceRoll.addAndGet(frame.capacity());
  }

  /** Makes every frame appended before the call durable. */
  void force() throws IOException {
    synchronized (forceLock) {
      LogFile file;
      synchronized (this) {
        file = current;
      }
      file.force();
    }
  }

  /**
   * Starts a new generation unless the current one is still empty, and returns the current generation: every
   * frame of older generations was appended before the call. The old file is made durable before it is left.
   */
  long roll() throws IOException {
    synchronized (forceLock) {
      synchronized (this) {
        if (currentBytes > 0) {
          current.force();
          current.close();
          generation++;
          current = files.createLog(file(generation));
          currentBytes = 0;
          DurableFiles.fsyncDirectory(dir);
        }
        bytesSinceRoll.set(0);
        return generation;
      }
    }
  }

  /** Deletes the generations before {@code generation}: a durable Lucene commit holds all they recorded. */
  void deleteBefore(long generation) throws IOException {
    for (long old : generations()) {
      if (old < generation) {
        Files.deleteIfExists(file(old));
      }
    }
  }

  /** Calls {@code reader} with every whole frame of generations {@code from} and later, in order. */
  void replay(long from, FrameReader reader) throws IOException {
    for (long gen : generations()) {
      if (gen < from || gen == generation()) {
        continue;
      }
      Path path = file(gen);
      try (InputStream in = new BufferedInputStream(Files.newInputStream(path), 1 << 16);
          DataInputStream data = new DataInputStream(in)) {
        while (true) {
          byte[] payload = readFrame(data, path);
          if (payload == null) {
            break;
          }
          reader.frame(payload);
        }
      }
    }
  }

  interface FrameReader {
    void frame(byte[] payload) throws IOException;
  }

  private static byte[] readFrame(DataInputStream data, Path path) throws IOException {
    int length;
    try {
      length = data.readInt();
    } catch (EOFException end) {
      return null;
    }
    try {
      int expected = data.readInt();
      // Every record has a header, so an empty frame is never written: a length of 0 (with a checksum of 0, the
      // CRC of nothing) is a tail of zeros, blocks a power loss left allocated but never written.
      if (length <= 0 || length > MAX_FRAME) {
        LOG.warn("{}: frame of impossible length {}, ignoring the rest of the file (torn by a crash)", path, length);
        return null;
      }
      byte[] payload = data.readNBytes(length);
      CRC32C crc = new CRC32C();
      crc.update(payload);
      if (payload.length < length || (int) crc.getValue() != expected) {
        LOG.warn("{}: torn last frame ignored (it was never acknowledged)", path);
        return null;
      }
      return payload;
    } catch (EOFException torn) {
      LOG.warn("{}: torn last frame ignored (it was never acknowledged)", path);
      return null;
    }
  }

  private List<Long> generations() throws IOException {
    List<Long> found = new ArrayList<>();
    try (Stream<Path> paths = Files.list(dir)) {
      paths.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(SUFFIX)).forEach(name -> {
        try {
          found.add(Long.parseLong(name.substring(0, name.length() - SUFFIX.length())));
        } catch (NumberFormatException ignored) {
          // not ours
        }
      });
    }
    found.sort(null);
    return found;
  }

  private Path file(long gen) {
    return dir.resolve(String.format("%020d%s", gen, SUFFIX));
  }

  @Override
  public void close() throws IOException {
    synchronized (forceLock) {
      synchronized (this) {
        current.close();
      }
    }
  }
}
