package io.sluice;

import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import net.jqwik.api.FixedSeedMode;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.opentest4j.TestAbortedException;

/**
 * The one seed of a test run: {@code -Dsluice.test.seed=N} (surefire passes it through), or a fresh one. Every
 * randomized test draws from {@link #random(String)} with its own scope, so a test replays the same values
 * whether it runs alone ({@code -Dtest=...}) or in the whole suite, in any order.
 *
 * <p>As a JUnit 5 extension ({@code @ExtendWith(TestSeeds.class)}) it prints the seed before the class runs
 * and attaches the replay line to any failure; {@link Jqwik} does the same for jqwik properties.
 */
public final class TestSeeds implements BeforeAllCallback, TestExecutionExceptionHandler {
  public static final String PROPERTY = "sluice.test.seed";
  private static final long SEED = parse(System.getProperty(PROPERTY));
  private static final AtomicBoolean ANNOUNCED = new AtomicBoolean();

  /**
   * The run's seed. Unset, blank, or the unresolved {@code ${sluice.test.seed}} that Maven passes when the
   * property is not defined: a fresh seed.
   */
  public static long seed() {
    return SEED;
  }

  /** A generator for one scope (the test class and what it randomizes), derived from the run's seed. */
  public static Random random(String scope) {
    return new Random(seed(scope));
  }

  /** The seed of one scope: the run's seed mixed with the scope's name, stable across runs and test order. */
  public static long seed(String scope) {
    long h = SEED ^ 0x9E3779B97F4A7C15L;
    for (int i = 0; i < scope.length(); i++) {
      h = (h ^ scope.charAt(i)) * 0x100000001B3L;
    }
    return h ^ (h >>> 29);
  }

  /** What to print and to paste to replay. */
  public static String replay() {
    return "seed=" + SEED + " (replay: -D" + PROPERTY + "=" + SEED + ")";
  }

  static long parse(String raw) {
    if (raw == null || raw.isBlank() || raw.startsWith("${")) {
      // both halves vary, so two JVMs started in the same nanosecond still differ
      return System.nanoTime() ^ Double.doubleToLongBits(Math.random());
    }
    try {
      return Long.parseLong(raw.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(PROPERTY + " must be a long, got '" + raw + "'", e);
    }
  }

  /** Passes the run's seed to a forked JVM (see {@link ForkedServer}). */
  public static String jvmArg() {
    return "-D" + PROPERTY + "=" + SEED;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    System.out.println(context.getDisplayName() + " " + replay());
    if (ANNOUNCED.compareAndSet(false, true)) {
      System.err.println("[sluice] randomized tests use " + replay());
    }
  }

  @Override
  public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
    if (!(failure instanceof TestAbortedException)) {
      System.err.println(context.getDisplayName() + " failed with " + replay());
      failure.addSuppressed(new SeedInfo(replay()));
    }
    throw failure;
  }

  /** Shown under a failure's stack trace: how to replay it. */
  static final class SeedInfo extends Exception {
    SeedInfo(String message) {
      super(message, null, false, false);
    }
  }

  /**
   * jqwik's hook ({@code @AddLifecycleHook(TestSeeds.Jqwik.class)}): the property's generation seed comes from
   * the run's seed too, so {@code -Dsluice.test.seed} replays it. jqwik prints its own seed in its report.
   */
  public static final class Jqwik implements AroundPropertyHook {
    @Override
    public PropagationMode propagateTo() {
      return PropagationMode.ALL_DESCENDANTS; // added on the class, it must reach the class's properties
    }

    @Override
    public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
      context.attributes().setSeed(Long.toString(seed(context.label())));
      context.attributes().setWhenFixedSeed(FixedSeedMode.ALLOW);
      System.out.println(context.label() + " " + replay());
      PropertyExecutionResult result = property.execute();
      if (result.status() == PropertyExecutionResult.Status.FAILED) {
        System.err.println(context.label() + " failed with " + replay());
      }
      return result;
    }
  }
}
