package io.sluice.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** conf/sluice.service keeps what the operations guide relies on. */
class SystemdUnitTest {
  @Test
  void theUnitDrainsWithinItsStopTimeoutAndWritesOnlyItsDirectories() throws IOException {
    List<String> lines = Files.readAllLines(Path.of("conf/sluice.service")).stream()
        .map(String::strip).filter(line -> !line.isEmpty() && !line.startsWith("#")).toList();
    Map<String, String> settings = new HashMap<>();
    Map<String, String> env = new HashMap<>();
    for (String line : lines) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        String key = line.substring(0, eq);
        String value = line.substring(eq + 1);
        if (key.equals("Environment")) {
          String assignment = value.replace("\"", "");
          env.put(assignment.substring(0, assignment.indexOf('=')), assignment.substring(assignment.indexOf('=') + 1));
        }
        settings.put(key, value);
      }
    }
    int drain = (Integer) SluiceConfig.SHUTDOWN_TIMEOUT_SECONDS.defaultValue();
    assertThat(Integer.parseInt(settings.get("TimeoutStopSec"))).isGreaterThan(drain);
    assertThat(settings).containsEntry("KillSignal", "SIGTERM").containsEntry("NoNewPrivileges", "yes")
        .containsEntry("ProtectSystem", "strict").containsEntry("PrivateTmp", "yes")
        .containsEntry("ProtectHome", "yes").containsKey("RestrictAddressFamilies").containsKey("LimitNOFILE")
        .doesNotContainKey("MemoryDenyWriteExecute"); // the JIT writes code it then runs
    List<String> writable = List.of(settings.get("ReadWritePaths").split("\\s+"));
    for (String dir : new String[] {env.get("SLUICE_DATA_DIR"), env.get("SLUICE_BACKUP_DIR")}) {
      assertThat(writable).as(dir + " is writable").anyMatch(root -> dir.startsWith(root));
    }
  }
}
