package io.sluice.engine;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Background work (an import's batches, Lucene's commits and merges) runs at a lower OS priority than requests.
 * On two cores an import's threads kept both busy, and a search during it got an equal share with each of them:
 * p50 16 → 59 ms, with compute to spare for no one (docs/performance.md, "Reads beside an import"). The kernel
 * gives a niced thread's core to a waiting request at once, and the whole machine to the import when nothing
 * else runs, so the import loses only what the requests use.
 *
 * <p>Linux only: a thread finds its id in {@code /proc/thread-self} and {@code renice}s itself; making one's own
 * thread nicer needs no privilege, but it cannot be undone, so only threads that do nothing else are lowered.
 * Threads they start inherit it: Lucene's merge threads, started by the import's and the commits' threads.
 * Elsewhere, or when that fails, threads keep the server's priority (logged once).
 */
public final class BackgroundPriority {
  private static final Logger LOG = LoggerFactory.getLogger(BackgroundPriority.class);
  private static final Path THREAD_SELF = Path.of("/proc/thread-self");
  private static final File NULL_DEVICE = new File("/dev/null");
  private static final ThreadLocal<Boolean> LOWERED = new ThreadLocal<>();
  private static final AtomicBoolean UNAVAILABLE_LOGGED = new AtomicBoolean();
  /** Process-wide, as niceness is: servers in one JVM (tests) share it. */
  private static volatile int niceness = 10;

  private BackgroundPriority() {
  }

  /** Niceness of background threads lowered from now on (0: none are). */
  public static void configure(int value) {
    niceness = value;
  }

  /** Lowers the calling thread's priority, once; a thread that must serve requests later must not call it. */
  public static void lower() {
    int value = niceness;
    if (value <= 0 || LOWERED.get() != null) {
      return;
    }
    LOWERED.set(Boolean.TRUE);
    try {
      String tid = Files.readSymbolicLink(THREAD_SELF).getFileName().toString(); // "<pid>/task/<tid>"
      // Every stream redirected: the server keeps no pipe to the child (a pipe per lowered thread showed up
      // as leaked handles).
      Process renice = new ProcessBuilder("renice", "-n", Integer.toString(value), "-p", tid)
          .redirectInput(ProcessBuilder.Redirect.from(NULL_DEVICE))
          .redirectOutput(ProcessBuilder.Redirect.DISCARD)
          .redirectError(ProcessBuilder.Redirect.DISCARD)
          .start();
      if (!renice.waitFor(5, TimeUnit.SECONDS)) {
        renice.destroyForcibly();
        unavailable("renice did not finish within 5 s");
      } else if (renice.exitValue() != 0) {
        unavailable("renice exited with " + renice.exitValue());
      }
    } catch (IOException | UnsupportedOperationException e) {
      unavailable(e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A thread factory's body for threads of background work only. */
  public static Runnable lowered(Runnable body) {
    return () -> {
      lower();
      body.run();
    };
  }

  private static void unavailable(String why) {
    if (UNAVAILABLE_LOGGED.compareAndSet(false, true)) {
      LOG.info("background work runs at the server's own priority ({}): searches during an import share the CPU"
          + " with it evenly", why);
    }
  }
}
