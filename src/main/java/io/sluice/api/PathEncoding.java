package io.sluice.api;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/** Checks that a raw request path's percent-escapes decode as UTF-8, which Vert.x's decoder does not. */
final class PathEncoding {
  private PathEncoding() {
  }

  /** Why {@code rawPath} is not percent-encoded UTF-8, or null if it is. */
  static String problem(String rawPath) {
    int i = rawPath.indexOf('%');
    if (i < 0) {
      return null;
    }
    byte[] bytes = new byte[rawPath.length() * 4];
    int n = 0;
    for (i = 0; i < rawPath.length(); i++) {
      char c = rawPath.charAt(i);
      if (c == '%') {
        int hi = i + 2 < rawPath.length() ? Character.digit(rawPath.charAt(i + 1), 16) : -1;
        int lo = hi < 0 ? -1 : Character.digit(rawPath.charAt(i + 2), 16);
        if (lo < 0) {
          return "'%' at offset " + i + " is not followed by two hex digits";
        }
        bytes[n++] = (byte) (hi * 16 + lo);
        i += 2;
      } else {
        // Characters a client sent unescaped are taken as they arrived (Vert.x has decoded the request line).
        byte[] utf8 = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        System.arraycopy(utf8, 0, bytes, n, utf8.length);
        n += utf8.length;
      }
    }
    try {
      StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes, 0, n));
      return null;
    } catch (CharacterCodingException e) {
      return "its percent-encoded bytes are not UTF-8 (names are UTF-8 text)";
    }
  }
}
