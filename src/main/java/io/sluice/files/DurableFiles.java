package io.sluice.files;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/** Small files written so that after a crash they are whole: old or new, never torn. */
public final class DurableFiles {
  private DurableFiles() {
  }

  /** Durably replaces {@code dir/name} with {@code bytes}: write a temp file, fsync, rename, fsync the dir. */
  public static void writeAtomically(Path dir, String name, byte[] bytes) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(name + ".tmp");
    try (FileChannel channel = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      channel.write(ByteBuffer.wrap(bytes));
      channel.force(true);
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(dir);
  }

  private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");

  /**
   * {@link #writeAtomically} for a secret: the file is created readable and writable by its owner only (0600 on
   * POSIX file systems) before anything is written to it, so the secret is never readable by others, not even
   * for a moment, and the rename keeps those permissions.
   */
  public static void writeSecretAtomically(Path dir, String name, byte[] bytes) throws IOException {
    Files.createDirectories(dir);
    Path tmp = dir.resolve(name + ".tmp");
    Files.deleteIfExists(tmp); // a leftover could have wider permissions, which CREATE would keep
    boolean posix = Files.getFileStore(dir).supportsFileAttributeView("posix");
    FileAttribute<?>[] attributes = posix
        ? new FileAttribute<?>[] {PosixFilePermissions.asFileAttribute(OWNER_ONLY)} : new FileAttribute<?>[0];
    try (FileChannel channel = FileChannel.open(tmp, Set.of(StandardOpenOption.CREATE_NEW,
        StandardOpenOption.WRITE), attributes)) {
      channel.write(ByteBuffer.wrap(bytes));
      channel.force(true);
    }
    if (posix) {
      Files.setPosixFilePermissions(tmp, OWNER_ONLY); // the umask may have narrowed, never widened, them
    }
    Files.move(tmp, dir.resolve(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    fsyncDirectory(dir);
  }

  /** Makes an existing secret file readable and writable by its owner only (0600) where the file system is POSIX. */
  public static void restrictToOwner(Path file) throws IOException {
    if (Files.getFileStore(file).supportsFileAttributeView("posix")
        && !Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
      Files.setPosixFilePermissions(file, OWNER_ONLY);
    }
  }

  public static void fsync(Path file) throws IOException {
    try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
      channel.force(true);
    }
  }

  public static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }
}
