package io.sluice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code ```bash} block of README.md runs as written, in order, against a fresh server: each block with
 * {@code bash} under {@code set -euo pipefail}, in one scratch directory, with {@code SLUICE} and {@code KEY}
 * pointing at an in-process server. The README's set-up commands ({@link #SET_UP}: build and start, run the
 * tests, export SLUICE and KEY) are what this test does itself, so they are skipped; {@code java -jar
 * target/sluice.jar} runs the CLI from the test classpath instead (the jar does not exist yet when
 * {@code mvn verify} runs the tests). {@code curl} gets {@code --fail-with-body}, so an HTTP error fails the
 * command. Skipped (an assumption) when bash, curl, gzip, sed, grep, seq or python3 is missing.
 */
@ExtendWith(VertxExtension.class)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class ReadmeTest {
  /** Lines of the README that set up what this test provides; each must be found exactly once. */
  static final List<String> SET_UP = List.of(
      "mvn -B -DskipTests package && java -jar target/sluice.jar",
      "mvn -B verify",
      "export SLUICE=http://127.0.0.1:8080 KEY=<the read-write key>");
  static final String JAR_COMMAND = "java -jar target/sluice.jar";
  /** What runs instead: the CLI from the test classpath, in a JVM tuned to start fast. */
  static final String CLI_COMMAND =
      "\"$SLUICE_TEST_JAVA\" -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -cp \"$SLUICE_TEST_CP\" io.sluice.cli.Main";

  static final Pattern FAILED = Pattern.compile("README\\.md line (\\d+) failed");

  record Block(int line, List<String> lines) {
  }

  private List<String> readme;

  @TempDir
  Path dataDir;
  @TempDir
  Path work;

  @Test
  void everyBashBlockRunsInOrderAgainstAFreshServer(Vertx vertx) throws Exception {
    for (String tool : List.of("bash", "curl", "gzip", "sed", "grep", "seq", "python3")) {
      assumeTrue(onPath(tool), tool + " is not installed: README blocks not run");
    }
    readme = Files.readAllLines(Path.of("README.md"), StandardCharsets.UTF_8);
    List<Block> blocks = bashBlocks(readme);
    assertThat(blocks).as("```bash blocks in README.md").isNotEmpty();
    for (String setUp : SET_UP) {
      long found = blocks.stream().flatMap(b -> b.lines().stream()).filter(l -> l.strip().startsWith(setUp)).count();
      assertThat(found).as("README.md set-up command '%s' (ReadmeTest.SET_UP replaces it)", setUp).isEqualTo(1);
    }
    String curlFail = exit(List.of("curl", "--fail-with-body", "--version")) == 0 ? "--fail-with-body" : "--fail";
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    // Blocks run "from the repository root": they may read the repo's own files (the benchmark generator).
    Files.createSymbolicLink(work.resolve("load-tests"), Path.of("load-tests").toAbsolutePath());
    TestServer server = new TestServer(vertx, dataDir).start();
    try {
      for (Block block : blocks) {
        run(block, server.port(), curlFail, java);
      }
    } finally {
      server.stop();
    }
  }

  /** Runs one block; fails naming its README line, the failing command and the output. */
  private void run(Block block, int port, String curlFail, String java) throws Exception {
    List<String> script = new ArrayList<>(List.of(
        "set -eEuo pipefail",
        "curl() { command curl -sS " + curlFail + " \"$@\"; }",
        // in a function (the README's own, or curl above), name the line that called it
        "trap 'rc=$?; l=$LINENO; [ -z \"${FUNCNAME[0]:-}\" ] || l=${BASH_LINENO[0]}; "
            + "echo \"README.md line $((l + OFFSET)) failed with exit code $rc: $BASH_COMMAND\" >&2' ERR"));
    int offset = block.line() + 1 - (script.size() + 1); // script line k holds README line k + offset
    script.set(2, script.get(2).replace("OFFSET", Integer.toString(offset)));
    boolean runs = false;
    for (String line : block.lines()) {
      String stripped = line.strip();
      if (SET_UP.stream().anyMatch(stripped::startsWith)) {
        script.add("# (set up by ReadmeTest) " + line);
        continue;
      }
      runs |= !stripped.isEmpty() && !stripped.startsWith("#");
      script.add(line.replace(JAR_COMMAND, CLI_COMMAND));
    }
    if (!runs) {
      return;
    }
    Path file = work.resolve("readme-block-" + block.line() + ".sh");
    Files.write(file, script, StandardCharsets.UTF_8);
    Path output = work.resolve("readme-block-" + block.line() + ".out");
    ProcessBuilder builder = new ProcessBuilder("bash", file.toString()).directory(work.toFile())
        .redirectErrorStream(true).redirectOutput(output.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("SLUICE") || k.startsWith("AITO"));
    env.put("SLUICE", "http://127.0.0.1:" + port);
    env.put("KEY", TestServer.RW_KEY);
    env.put("SLUICE_TEST_JAVA", java);
    env.put("SLUICE_TEST_CP", System.getProperty("java.class.path"));
    env.put("ROWS", "3000"); // the million-row walk-through, small enough for CI
    Process process = builder.start();
    if (!process.waitFor(120, TimeUnit.SECONDS)) {
      process.destroyForcibly().waitFor();
      fail("README.md block at line " + block.line() + " did not finish within 120 s; output:\n" + tail(output));
    }
    if (process.exitValue() != 0) {
      String out = tail(output);
      Matcher failed = FAILED.matcher(out);
      String command = "";
      if (failed.find()) {
        int line = Integer.parseInt(failed.group(1));
        command = " at line " + line + ": " + (line >= 1 && line <= readme.size() ? readme.get(line - 1).strip() : "?");
      }
      fail("README.md block at line " + block.line() + " failed" + command + " (exit " + process.exitValue()
          + "); output:\n" + out);
    }
  }

  static List<Block> bashBlocks(List<String> readme) {
    List<Block> blocks = new ArrayList<>();
    List<String> current = null;
    int start = 0;
    for (int i = 0; i < readme.size(); i++) {
      String line = readme.get(i);
      if (current == null && line.strip().equals("```bash")) {
        current = new ArrayList<>();
        start = i + 1; // 1-based line of the fence
      } else if (current != null && line.strip().equals("```")) {
        blocks.add(new Block(start, current));
        current = null;
      } else if (current != null) {
        current.add(line);
      }
    }
    assertThat(current).as("README.md: the ```bash block at line %d is not closed", start).isNull();
    return blocks;
  }

  private static String tail(Path output) throws IOException {
    String text = Files.readString(output, StandardCharsets.UTF_8);
    return text.length() <= 6000 ? text : "…" + text.substring(text.length() - 6000);
  }

  private static boolean onPath(String tool) {
    return exit(List.of("bash", "-c", "command -v " + tool)) == 0;
  }

  private static int exit(List<String> command) {
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return -1;
      }
      return process.exitValue();
    } catch (IOException e) {
      return -1; // not installed (bash itself missing)
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }
}
