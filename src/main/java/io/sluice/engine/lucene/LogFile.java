package io.sluice.engine.lucene;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/** An append-only file of the write-ahead log; tests substitute one that fails like a full disk. */
public interface LogFile extends Closeable {
  /** Appends all of {@code bytes}. */
  void write(ByteBuffer bytes) throws IOException;

  /** Makes everything written so far durable (fsync of the data). */
  void force() throws IOException;

  /** Creates {@code path} (it must not exist) for appending. */
  static LogFile create(Path path) throws IOException {
    FileChannel channel = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
        StandardOpenOption.APPEND);
    return new LogFile() {
      @Override
      public void write(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
          channel.write(bytes);
        }
      }

      @Override
      public void force() throws IOException {
        channel.force(false);
      }

      @Override
      public void close() throws IOException {
        channel.close();
      }
    };
  }
}
