package io.sluice.ingest;

import io.vertx.core.buffer.Buffer;

/**
 * Streams the elements of one top-level JSON array (a "JSON file") as records, numbered from 1, without
 * parsing them: a byte scanner tracks strings, escapes and nesting, and hands each element's bytes on. An
 * element longer than the limit is skipped and reported like an over-long line.
 */
public final class JsonArrayElements implements RecordSplitter {
  private final int maxElementBytes;
  private final LineSplitter.LineHandler handler;
  private Buffer element = Buffer.buffer();
  private long elementLength;
  private long number;
  private int depth; // 0: before '[', 1: inside the array, >1: inside an element
  private boolean started;
  private boolean closed;
  private boolean inString;
  private boolean escaped;
  private boolean inElement;

  public JsonArrayElements(int maxElementBytes, LineSplitter.LineHandler handler) {
    this.maxElementBytes = maxElementBytes;
    this.handler = handler;
  }

  @Override
  public void feed(Buffer chunk) {
    int length = chunk.length();
    int elementStart = inElement ? 0 : -1;
    for (int i = 0; i < length; i++) {
      byte b = chunk.getByte(i);
      if (closed) {
        if (!isWhitespace(b)) {
          throw new ImportFormatException("unexpected content after the end of the JSON array");
        }
        continue;
      }
      if (!started) {
        if (isWhitespace(b)) {
          continue;
        }
        if (b != '[') {
          throw new ImportFormatException("a JSON file must be one array of rows; it starts with '" + (char) b + "'");
        }
        started = true;
        depth = 1;
        continue;
      }
      if (inString) {
        if (escaped) {
          escaped = false;
        } else if (b == '\\') {
          escaped = true;
        } else if (b == '"') {
          inString = false;
        }
        continue;
      }
      if (depth == 1 && !inElement) {
        if (isWhitespace(b) || b == ',') {
          continue;
        }
        if (b == ']') {
          closed = true;
          continue;
        }
        inElement = true;
        elementStart = i;
      }
      if (b == '"') {
        inString = true;
      } else if (b == '{' || b == '[') {
        depth++;
      } else if (b == '}' || b == ']') {
        if (depth == 1) { // a scalar element ended by the array's closing bracket
          append(chunk, elementStart, i);
          emit();
          closed = true;
          elementStart = -1;
          continue;
        }
        depth--;
        if (depth == 1) {
          append(chunk, elementStart, i + 1);
          emit();
          elementStart = -1;
        }
      } else if (b == ',' && depth == 1) {
        append(chunk, elementStart, i);
        emit();
        elementStart = -1;
      }
    }
    if (inElement && elementStart >= 0) {
      append(chunk, elementStart, length);
    }
  }

  @Override
  public void finish() {
    if (!started) {
      return; // empty input: no rows
    }
    if (!closed) {
      throw new ImportFormatException("the JSON array ends before it is closed (truncated file?) after element "
          + number);
    }
  }

  private void append(Buffer chunk, int from, int to) {
    elementLength += to - from;
    if (elementLength <= maxElementBytes) {
      element.appendBuffer(chunk.slice(from, to).copy());
    }
  }

  private void emit() {
    number++;
    if (elementLength > maxElementBytes) {
      handler.tooLong(number, elementLength, element.slice(0, Math.min(element.length(), LineSplitter.PREFIX_BYTES)));
    } else {
      handler.line(number, element);
    }
    element = Buffer.buffer();
    elementLength = 0;
    inElement = false;
  }

  private static boolean isWhitespace(byte b) {
    return b == ' ' || b == '\n' || b == '\r' || b == '\t';
  }
}
