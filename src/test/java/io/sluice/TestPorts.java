package io.sluice;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for servers a test starts later (forked nodes, PostgreSQL). Not from {@code new ServerSocket(0)}: that
 * hands out the kernel's ephemeral ports, which any outgoing connection (to PostgreSQL, between cluster members)
 * may take as its local port before the server binds it. These lie below the ephemeral range, were free when
 * chosen and are never handed out twice in one JVM.
 */
public final class TestPorts {
  private static final int LOWEST = 10_000;
  private static final Set<Integer> GIVEN = ConcurrentHashMap.newKeySet();

  private TestPorts() {
  }

  public static int free() {
    int below = ephemeralStart();
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(LOWEST, below);
      if (GIVEN.add(port) && bindable(port)) {
        return port;
      }
    }
    throw new AssertionError("no free port between " + LOWEST + " and " + below);
  }

  private static boolean bindable(int port) {
    try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException taken) {
      return false;
    }
  }

  /** The first port of Linux's ephemeral range (32768 by default and elsewhere). */
  private static int ephemeralStart() {
    try {
      String range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim();
      int start = Integer.parseInt(range.split("\\s+")[0]);
      return start > LOWEST + 1_000 ? start : 32_768;
    } catch (IOException | RuntimeException notLinux) {
      return 32_768;
    }
  }
}
