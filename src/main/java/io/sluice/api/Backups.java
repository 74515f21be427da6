package io.sluice.api;

import io.sluice.config.SluiceConfig;
import io.sluice.errors.ApiError;
import io.vertx.core.json.JsonObject;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * Where {@code POST /api/v1/_backup} may write: only a new directory directly under {@code backup.dir}, so an API
 * key never lets a caller write anywhere else on the server's disk (no {@code ..}, no nested path; the store
 * creates the directory itself, so an existing entry, a symbolic link included, is refused).
 */
final class Backups {
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'");
  private static final Set<String> FIELDS = Set.of("to");

  private Backups() {
  }

  /** The backup's directory: {@code to} (a name, or an absolute path directly under backup.dir), or a new name. */
  static Path target(Path backupDir, JsonObject body) {
    if (backupDir == null) {
      throw new ApiError(409, "online backups are off: set " + SluiceConfig.BACKUP_DIR.name() + " (env "
          + SluiceConfig.BACKUP_DIR.env() + ") to the directory backups are written under", null, "BackupNotConfigured");
    }
    for (String field : body.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw ApiError.badRequest("unknown field '" + field + "' in the backup request; only 'to' is accepted");
      }
    }
    Object to = body.getValue("to");
    if (to == null) {
      return backupDir.resolve("sluice-" + ZonedDateTime.now(ZoneOffset.UTC).format(STAMP) + "-"
          + UUID.randomUUID().toString().substring(0, 8));
    }
    if (!(to instanceof String requested)) {
      throw ApiError.badRequest("'to' must be a string: a new directory's name under backup.dir");
    }
    String name = requested;
    try {
      Path path = Path.of(requested);
      if (path.isAbsolute()) {
        if (!backupDir.equals(path.normalize().getParent())) {
          throw ApiError.badRequest("'to' must be a new directory directly under backup.dir (" + backupDir
              + "); got " + requested);
        }
        name = path.normalize().getFileName().toString();
      }
    } catch (InvalidPathException e) {
      throw ApiError.badRequest("'to' is not a valid path: " + requested);
    }
    if (!NAME.matcher(name).matches()) {
      throw ApiError.badRequest("'to' must be a directory name of 1-128 letters, digits, '.', '_' or '-' (not"
          + " starting with '.', '_' or '-'), or an absolute path directly under backup.dir; got " + requested);
    }
    return backupDir.resolve(name);
  }
}
