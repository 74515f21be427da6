package io.sluice.engine;

import io.sluice.files.DurableFiles;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Node state in files under the data directory, where earlier versions kept it (a data directory they wrote
 * opens as it is): {@code keys.json}, {@code upload-secret}, {@code imports/<id>.json} and
 * {@code jobs/<id>.json}. Each file is replaced atomically (write, fsync, rename, fsync the directory); secrets
 * are owner-only (0600). One node owns a data directory, so first-writer-wins needs only this object's lock.
 */
public final class FileNodeState implements NodeState {
  /** Ids become file names: no separators, no leading dot. */
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}");
  private static final String JSON = ".json";

  private final Path dataDir;

  public FileNodeState(Path dataDir) {
    this.dataDir = dataDir;
  }

  /** The directory holding a kind's documents, and the file name of a document in it. */
  private record Place(Path dir, String name) {
  }

  private Place place(Kind kind, String id) {
    return switch (kind) {
      case API_KEYS -> single(id, "keys.json");
      case UPLOAD_SECRET -> single(id, "upload-secret");
      case IMPORT_JOBS -> new Place(dir(kind), checked(id) + JSON);
      case API_JOBS -> new Place(dir(kind), checked(id) + JSON);
    };
  }

  private Path dir(Kind kind) {
    return switch (kind) {
      case API_KEYS, UPLOAD_SECRET -> dataDir;
      case IMPORT_JOBS -> dataDir.resolve("imports");
      case API_JOBS -> dataDir.resolve("jobs");
    };
  }

  private Place single(String id, String file) {
    if (!SINGLE.equals(id)) {
      throw new IllegalArgumentException("this kind has one document, '" + SINGLE + "'; not '" + id + "'");
    }
    return new Place(dataDir, file);
  }

  private static String checked(String id) {
    if (id == null || !ID.matcher(id).matches()) {
      throw new IllegalArgumentException("not a node state id: '" + id + "'");
    }
    return id;
  }

  @Override
  public synchronized Map<String, String> list(Kind kind) {
    Map<String, String> documents = new HashMap<>();
    Path dir = dir(kind);
    if (dir.equals(dataDir)) {
      String body = get(kind, SINGLE);
      if (body != null) {
        documents.put(SINGLE, body);
      }
      return documents;
    }
    if (!Files.isDirectory(dir)) {
      return documents;
    }
    try (Stream<Path> files = Files.list(dir)) {
      for (Path file : (Iterable<Path>) files::iterator) {
        String name = file.getFileName().toString();
        if (name.endsWith(JSON) && ID.matcher(name.substring(0, name.length() - JSON.length())).matches()) {
          String body = read(file, kind);
          if (body != null) {
            documents.put(name.substring(0, name.length() - JSON.length()), body);
          }
        }
      }
    } catch (IOException e) {
      throw failure("cannot list " + dir, e);
    }
    return documents;
  }

  @Override
  public synchronized String get(Kind kind, String id) {
    Place place = place(kind, id);
    return read(place.dir().resolve(place.name()), kind);
  }

  private static String read(Path file, Kind kind) {
    try {
      if (kind.secret()) {
        DurableFiles.restrictToOwner(file); // files written by older versions were world-readable
      }
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return null;
    } catch (IOException e) {
      throw failure("cannot read " + file, e);
    }
  }

  @Override
  public synchronized void put(Kind kind, String id, String body) {
    Place place = place(kind, id);
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    try {
      if (!Files.isDirectory(place.dir())) {
        // its entry in the data directory too: a file fsynced in a directory lost at power-off is lost with it
        Files.createDirectories(place.dir());
        DurableFiles.fsyncDirectory(dataDir);
      }
      if (kind.secret()) {
        DurableFiles.writeSecretAtomically(place.dir(), place.name(), bytes);
      } else {
        DurableFiles.writeAtomically(place.dir(), place.name(), bytes);
      }
    } catch (IOException e) {
      throw failure("cannot write " + place.dir().resolve(place.name()), e);
    }
  }

  @Override
  public synchronized String putIfAbsent(Kind kind, String id, String body) {
    String stored = get(kind, id);
    if (stored != null) {
      return stored;
    }
    put(kind, id, body);
    return body;
  }

  @Override
  public synchronized void delete(Kind kind, String id) {
    Place place = place(kind, id);
    try {
      Files.deleteIfExists(place.dir().resolve(place.name()));
    } catch (IOException e) {
      throw failure("cannot delete " + place.dir().resolve(place.name()), e);
    }
  }

  @Override
  public String where(Kind kind, String id) {
    Place place = place(kind, id);
    return place.dir().resolve(place.name()).toString();
  }

  private static StorageException failure(String what, IOException e) {
    boolean full = e.getMessage() != null && e.getMessage().contains("No space left");
    return new StorageException(full ? StorageException.Kind.DISK_FULL : StorageException.Kind.FAILED,
        what + ": " + e, new UncheckedIOException(e));
  }
}
