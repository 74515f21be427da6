package io.sluice.reliability;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.AsynchronousFileChannel;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.SeekableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.nio.file.AccessMode;
import java.nio.file.CopyOption;
import java.nio.file.DirectoryStream;
import java.nio.file.FileStore;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.OpenOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.apache.lucene.tests.mockfile.FilterFileChannel;
import org.apache.lucene.tests.mockfile.FilterFileSystemProvider;

/**
 * A file system that forgets, at {@link #powerOff()}, everything that was not fsynced: one "boot" of a disk
 * rooted at a real directory. It wraps the default file system and keeps a model of what is durable:
 *
 * <ul>
 *   <li>per file (an id given at creation, following renames): its content at the last {@code force} of any
 *       channel on it;
 *   <li>per directory: its entries (name → id) at the last {@code force} of a channel opened on the directory
 *       (what {@code DurableFiles.fsyncDirectory} and Lucene's {@code IOUtils.fsync(dir, true)} do).
 * </ul>
 *
 * Files present when a boot starts are durable. After {@link #powerOff()} every operation throws
 * IOException("power lost") except closing channels (so the abandoned store can release its locks), and
 * {@link #reboot} rewrites the real directory to the durable image and mounts a new boot on it: a store opened
 * on the new boot sees exactly what a machine would after losing power at that moment. Renames, deletes and
 * truncations that were not made durable come back, since the image is rebuilt from the model, not from the
 * real files.
 *
 * <p>The adversary is strict by default (all unsynced bytes lost); with {@code tornTails} a file that grew
 * since its last fsync may keep part of the growth, as real bytes or as zeros (blocks allocated, data never
 * written), as a kernel that wrote back some dirty pages would leave it.
 */
final class PowerLossFileSystem extends FilterFileSystemProvider {
  static final String POWER_LOST = "power lost";

  private final Path realRoot;
  /** Live tree: real absolute path → node id. Guarded by {@code this}. */
  private final Map<Path, Long> live = new HashMap<>();
  private final Map<Long, Path> pathOf = new HashMap<>();
  private final Set<Long> directories = new HashSet<>();
  /** Durable image: file content and directory entries as of their last fsync. */
  private final Map<Long, byte[]> durableContent = new HashMap<>();
  private final Map<Long, Map<String, Long>> durableEntries = new HashMap<>();
  private long nextId;
  private final long rootId;

  private volatile boolean poweredOff;
  private final AtomicLong steps = new AtomicLong();
  private volatile long powerOffAtStep = -1;
  private volatile Predicate<Path> failNextForce;
  private volatile String powerOffReason;
  /** Files that appeared in the tree without being created through this file system. */
  private final List<String> escapes = new ArrayList<>();
  final Path root;

  private PowerLossFileSystem(Path realRoot) throws IOException {
    super("powerloss", FileSystems.getDefault());
    this.realRoot = realRoot.toRealPath();
    this.rootId = mountExisting(this.realRoot);
    this.root = wrapPath(this.realRoot);
  }

  /** Mounts a first boot on {@code realRoot} (an existing directory): what it holds now is durable. */
  static PowerLossFileSystem mount(Path realRoot) throws IOException {
    return new PowerLossFileSystem(realRoot);
  }

  // ------------------------------------------------------------------------------------------ power

  /** From now on every operation fails; the durable image is frozen. */
  void powerOff(String reason) {
    synchronized (this) {
      if (!poweredOff) {
        poweredOff = true;
        powerOffReason = reason;
      }
    }
  }

  boolean poweredOff() {
    return poweredOff;
  }

  String powerOffReason() {
    return powerOffReason;
  }

  /** Powers off when the {@code step}-th write-like operation (write, force, create, rename, delete) starts. */
  void powerOffAtStep(long step) {
    powerOffAtStep = step;
  }

  long steps() {
    return steps.get();
  }

  /** The next {@code force} of a file or directory matching {@code which} fails like a bad disk (EIO). */
  void failNextForce(Predicate<Path> which) {
    failNextForce = which;
  }

  synchronized List<String> escapes() {
    return new ArrayList<>(escapes);
  }

  /**
   * Rewrites the real directory to the durable image (power must be off) and mounts the next boot on it.
   * {@code random} (seeded) picks torn tails when {@code tornTails}.
   */
  PowerLossFileSystem reboot(Random random, boolean tornTails) throws IOException {
    if (!poweredOff) {
      throw new IllegalStateException("reboot without power loss");
    }
    TreeMap<Path, byte[]> image = new TreeMap<>(); // relative path → content, null for a directory
    synchronized (this) {
      collectImage(rootId, realRoot.relativize(realRoot), image, random, tornTails);
    }
    // Straggling threads of the old boot only see "power lost"; the real tree is rewritten underneath.
    try (Stream<Path> walk = Files.walk(realRoot)) {
      for (Path path : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
        if (!path.equals(realRoot)) {
          Files.delete(path);
        }
      }
    }
    for (Map.Entry<Path, byte[]> entry : image.entrySet()) {
      Path real = realRoot.resolve(entry.getKey());
      if (entry.getValue() == null) {
        Files.createDirectories(real);
      } else {
        Files.write(real, entry.getValue());
      }
    }
    return new PowerLossFileSystem(realRoot);
  }

  private void collectImage(long dirId, Path dir, Map<Path, byte[]> image, Random random, boolean tornTails)
      throws IOException {
    for (Map.Entry<String, Long> entry : durableEntries.getOrDefault(dirId, Map.of()).entrySet()) {
      Path path = dir.resolve(entry.getKey());
      long id = entry.getValue();
      if (directories.contains(id)) {
        image.put(path, null);
        collectImage(id, path, image, random, tornTails);
      } else {
        byte[] durable = durableContent.getOrDefault(id, new byte[0]);
        image.put(path, tornTails ? tornTail(id, durable, random) : durable);
      }
    }
  }

  /** The durable bytes plus, maybe, part of what was written after them (or zeros in its place). */
  private byte[] tornTail(long id, byte[] durable, Random random) throws IOException {
    Path current = pathOf.get(id);
    if (current == null || random.nextInt(3) == 0) {
      return durable;
    }
    byte[] now = Files.readAllBytes(current);
    if (now.length <= durable.length || !java.util.Arrays.equals(now, 0, durable.length, durable, 0,
        durable.length)) {
      return durable;
    }
    int keep = 1 + random.nextInt(now.length - durable.length);
    byte[] torn = java.util.Arrays.copyOf(now, durable.length + keep);
    if (random.nextInt(3) == 0) {
      java.util.Arrays.fill(torn, durable.length, torn.length, (byte) 0);
    }
    return torn;
  }

  // ------------------------------------------------------------------------------------------ model

  private synchronized long mountExisting(Path realRoot) throws IOException {
    long id = register(realRoot, true);
    Map<String, Long> entries = new LinkedHashMap<>();
    try (Stream<Path> children = Files.list(realRoot)) {
      for (Path child : (Iterable<Path>) children::iterator) {
        long childId;
        if (Files.isDirectory(child)) {
          childId = mountExisting(child);
        } else {
          childId = register(child, false);
          durableContent.put(childId, Files.readAllBytes(child));
        }
        entries.put(child.getFileName().toString(), childId);
      }
    }
    durableEntries.put(id, entries);
    return id;
  }

  private long register(Path real, boolean directory) {
    long id = nextId++;
    Long old = live.put(real, id);
    if (old != null) {
      pathOf.remove(old);
    }
    pathOf.put(id, real);
    if (directory) {
      directories.add(id);
    }
    return id;
  }

  private boolean tracked(Path real) {
    return real.startsWith(realRoot);
  }

  /**
   * The id of a live path, adopting (and reporting) files that appeared without passing through here (e.g. written
   * by Vert.x by their {@code String} name). An adopted file has no durable bytes until a {@code force} through
   * here, and no durable entry until its directory is forced through here.
   */
  private synchronized Long idOf(Path real) {
    Long id = live.get(real);
    if (id == null && tracked(real) && Files.exists(real)) {
      escapes.add(realRoot.relativize(real).toString());
      id = register(real, Files.isDirectory(real));
    }
    return id;
  }

  private synchronized void forgetTree(Path real) {
    live.keySet().removeIf(path -> {
      if (path.startsWith(real)) {
        pathOf.remove(live.get(path));
        return true;
      }
      return false;
    });
  }

  private synchronized void moved(Path from, Path to) {
    forgetTree(to);
    Map<Path, Long> movedEntries = new HashMap<>();
    live.entrySet().removeIf(entry -> {
      if (entry.getKey().startsWith(from)) {
        movedEntries.put(to.resolve(from.relativize(entry.getKey())), entry.getValue());
        return true;
      }
      return false;
    });
    movedEntries.forEach((path, id) -> {
      live.put(path, id);
      pathOf.put(id, path);
    });
  }

  /** A force succeeded: the file's bytes, or the directory's entries, as they are now are durable. */
  private synchronized void forced(long id) throws IOException {
    Path real = pathOf.get(id);
    if (real == null) {
      return; // unlinked meanwhile: no durable entry can reach it through a later image
    }
    if (directories.contains(id)) {
      Map<String, Long> entries = new LinkedHashMap<>();
      try (Stream<Path> children = Files.list(real)) {
        for (Path child : (Iterable<Path>) children::iterator) {
          Long childId = idOf(child);
          if (childId != null) {
            entries.put(child.getFileName().toString(), childId);
          }
        }
      }
      durableEntries.put(id, entries);
    } else {
      durableContent.put(id, Files.readAllBytes(real));
    }
  }

  // ------------------------------------------------------------------------------------------ checks

  private void check() throws IOException {
    if (poweredOff) {
      throw new IOException(POWER_LOST);
    }
  }

  /** A write-like operation: counts a step, and powers off when the scheduled step is reached. */
  private void step(String what, Path path) throws IOException {
    check();
    long step = steps.incrementAndGet();
    if (step == powerOffAtStep) {
      powerOff("at step " + step + " (" + what + " " + realRoot.relativize(path) + ")");
      throw new IOException(POWER_LOST);
    }
  }

  private Path real(Path path) {
    return toDelegate(path).toAbsolutePath().normalize();
  }

  // ------------------------------------------------------------------------------------------ provider

  @Override
  public FileChannel newFileChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    Path real = real(path);
    boolean creates = options.contains(StandardOpenOption.CREATE) || options.contains(StandardOpenOption.CREATE_NEW);
    boolean writes = options.contains(StandardOpenOption.WRITE) || options.contains(StandardOpenOption.APPEND);
    if (creates || writes) {
      step("open", real);
    } else {
      check();
    }
    FileChannel channel;
    Long id;
    synchronized (this) {
      boolean existed = live.containsKey(real);
      channel = delegate.newFileChannel(real, options, attrs);
      if (!existed && creates && tracked(real)) {
        id = register(real, false);
      } else {
        id = idOf(real);
      }
    }
    return new PowerLossChannel(channel, id, real);
  }

  @Override
  public SeekableByteChannel newByteChannel(Path path, Set<? extends OpenOption> options, FileAttribute<?>... attrs)
      throws IOException {
    return newFileChannel(path, options, attrs);
  }

  @Override
  public OutputStream newOutputStream(Path path, OpenOption... options) throws IOException {
    Set<OpenOption> opts = new HashSet<>(List.of(options));
    if (opts.isEmpty()) {
      opts.add(StandardOpenOption.CREATE);
      opts.add(StandardOpenOption.TRUNCATE_EXISTING);
    }
    opts.add(StandardOpenOption.WRITE);
    return Channels.newOutputStream(newFileChannel(path, opts));
  }

  @Override
  public InputStream newInputStream(Path path, OpenOption... options) throws IOException {
    return Channels.newInputStream(newFileChannel(path, Set.of(StandardOpenOption.READ)));
  }

  @Override
  public AsynchronousFileChannel newAsynchronousFileChannel(Path path, Set<? extends OpenOption> options,
      ExecutorService executor, FileAttribute<?>... attrs) {
    throw new UnsupportedOperationException("not modelled: asynchronous channels");
  }

  @Override
  public void createDirectory(Path dir, FileAttribute<?>... attrs) throws IOException {
    Path real = real(dir);
    step("mkdir", real);
    synchronized (this) {
      delegate.createDirectory(real, attrs);
      if (tracked(real)) {
        register(real, true);
      }
    }
  }

  @Override
  public void delete(Path path) throws IOException {
    Path real = real(path);
    step("delete", real);
    synchronized (this) {
      delegate.delete(real);
      forgetTree(real);
    }
  }

  @Override
  public boolean deleteIfExists(Path path) throws IOException {
    Path real = real(path);
    step("delete", real);
    synchronized (this) {
      boolean deleted = delegate.deleteIfExists(real);
      forgetTree(real);
      return deleted;
    }
  }

  @Override
  public void move(Path source, Path target, CopyOption... options) throws IOException {
    Path from = real(source);
    Path to = real(target);
    step("rename", to);
    synchronized (this) {
      delegate.move(from, to, options);
      moved(from, to);
    }
  }

  @Override
  public void copy(Path source, Path target, CopyOption... options) throws IOException {
    Path to = real(target);
    step("copy", to);
    synchronized (this) {
      delegate.copy(real(source), to, options);
      forgetTree(to);
      register(to, Files.isDirectory(to));
    }
  }

  @Override
  public void createSymbolicLink(Path link, Path target, FileAttribute<?>... attrs) {
    throw new UnsupportedOperationException("not modelled: links");
  }

  @Override
  public void createLink(Path link, Path existing) {
    throw new UnsupportedOperationException("not modelled: links");
  }

  @Override
  public DirectoryStream<Path> newDirectoryStream(Path dir, DirectoryStream.Filter<? super Path> filter)
      throws IOException {
    check();
    return super.newDirectoryStream(dir, filter);
  }

  @Override
  public void checkAccess(Path path, AccessMode... modes) throws IOException {
    check();
    super.checkAccess(path, modes);
  }

  @Override
  public <A extends BasicFileAttributes> A readAttributes(Path path, Class<A> type, LinkOption... options)
      throws IOException {
    check();
    return super.readAttributes(path, type, options);
  }

  @Override
  public Map<String, Object> readAttributes(Path path, String attributes, LinkOption... options) throws IOException {
    check();
    return super.readAttributes(path, attributes, options);
  }

  @Override
  public void setAttribute(Path path, String attribute, Object value, LinkOption... options) throws IOException {
    step("setAttribute", real(path));
    super.setAttribute(path, attribute, value, options);
  }

  @Override
  public FileStore getFileStore(Path path) throws IOException {
    check();
    return super.getFileStore(path);
  }

  @Override
  public boolean isSameFile(Path path, Path path2) throws IOException {
    check();
    return super.isSameFile(path, path2);
  }

  /** A channel whose writes and forces fail after power off; a successful force updates the durable image. */
  private final class PowerLossChannel extends FilterFileChannel {
    private final Long id;
    private final Path real;

    PowerLossChannel(FileChannel delegate, Long id, Path real) {
      super(delegate);
      this.id = id;
      this.real = real;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      check();
      return super.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
      check();
      return super.read(dsts, offset, length);
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
      check();
      return super.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      step("write", real);
      return super.write(src);
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
      step("write", real);
      return super.write(srcs, offset, length);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
      step("write", real);
      return super.write(src, position);
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
      step("truncate", real);
      return super.truncate(size);
    }

    @Override
    public long size() throws IOException {
      check();
      return super.size();
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
      check();
      return super.transferTo(position, count, target);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
      step("write", real);
      return super.transferFrom(src, position, count);
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
      check();
      if (mode != MapMode.READ_ONLY) {
        throw new UnsupportedOperationException("not modelled: writable mappings");
      }
      return super.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
      check();
      return super.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
      check();
      return super.tryLock(position, size, shared);
    }

    @Override
    public void force(boolean metaData) throws IOException {
      step("fsync", real);
      Predicate<Path> failing = failNextForce;
      if (failing != null && failing.test(root.resolve(realRoot.relativize(real).toString()))) {
        failNextForce = null;
        throw new IOException("Input/output error");
      }
      super.force(metaData);
      synchronized (PowerLossFileSystem.this) {
        // A force the power cut off made nothing durable, and must not return: a real process would be gone.
        check();
        if (id != null) {
          forced(id);
        }
      }
    }
  }

  /** For messages: the durable entries of the tree, as paths relative to the root. */
  synchronized List<String> durableTree() {
    Map<Path, byte[]> image = new TreeMap<>();
    try {
      collectImage(rootId, realRoot.relativize(realRoot), image, new Random(0), false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<String> paths = new ArrayList<>();
    image.forEach((path, bytes) -> paths.add(path + (bytes == null ? "/" : " (" + bytes.length + " B)")));
    return paths;
  }
}
