package io.sluice.ingest;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** {@link TextCheck} against the JDK's strict UTF-8 decoder, and its surrogate-escape rule. */
class TextCheckTest {

  private static boolean jdkAccepts(byte[] bytes) {
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes));
      return true;
    } catch (CharacterCodingException e) {
      return false;
    }
  }

  @Test
  void agreesWithTheJdkDecoderOnRandomBytes() {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    byte[] alphabet = {'a', ' ', '"', (byte) 0x80, (byte) 0xBF, (byte) 0xC0, (byte) 0xC2, (byte) 0xDF, (byte) 0xE0,
        (byte) 0xED, (byte) 0xEF, (byte) 0xF0, (byte) 0xF4, (byte) 0xF5, (byte) 0x9F, (byte) 0xA0, (byte) 0x90,
        (byte) 0x8F, (byte) 0xFF};
    for (int n = 0; n < 200_000; n++) {
      byte[] bytes = new byte[random.nextInt(24)];
      for (int i = 0; i < bytes.length; i++) {
        bytes[i] = random.nextInt(3) == 0 ? (byte) random.nextInt(256) : alphabet[random.nextInt(alphabet.length)];
        if (bytes[i] == '\\') {
          bytes[i] = 'b';
        }
      }
      assertThat(TextCheck.check(bytes, 0, bytes.length) == null).as("seed " + seed + ": " + java.util.HexFormat.of()
          .formatHex(bytes)).isEqualTo(jdkAccepts(bytes));
    }
  }

  @Test
  void surrogateEscapesMustPair() {
    assertThat(check("\"\\uD83D\\uDE00\"")).isNull();
    assertThat(check("\"\\ud83d\\ude00 \\u00e9 \\n \\\\uD800\"")).isNull();
    assertThat(check("\"\\uD800\"").message()).contains("unpaired surrogate escape \\uD800");
    assertThat(check("\"\\uDE00\\uD83D\"").message()).contains("low surrogate");
    assertThat(check("\"\\uD800\\n\"").offset()).isEqualTo(1);
    assertThat(TextCheck.checkUtf8(bytes("\\uD800"), 0, 6)).as("CSV: a backslash is a character").isNull();
  }

  @Test
  void saysWhere() {
    byte[] body = bytes("[{\"a\":1},\n {\"a\":\"x\u0000\"}]");
    body[18] = (byte) 0xC0;
    TextCheck.Problem problem = TextCheck.check(body, 0, body.length);
    assertThat(problem.offset()).isEqualTo(18);
    assertThat(problem.describe(body, 0, 1)).contains("overlong").endsWith("at line 2, column 9");
    // Long ASCII runs are skipped in words: a problem right after one is still found, at its exact offset.
    byte[] ascii = bytes("x".repeat(1000) + "\u00e9" + "y".repeat(17));
    ascii[1001] = 'z';
    assertThat(TextCheck.check(ascii, 0, ascii.length).offset()).isEqualTo(1000);
    assertThat(TextCheck.check(ascii, 0, 1000)).isNull();
  }

  private static TextCheck.Problem check(String text) {
    byte[] bytes = bytes(text);
    return TextCheck.check(bytes, 0, bytes.length);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
