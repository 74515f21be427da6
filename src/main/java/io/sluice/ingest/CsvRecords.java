package io.sluice.ingest;

import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import io.sluice.schema.ColumnSchema;
import io.sluice.schema.TableSchema;
import io.vertx.core.buffer.Buffer;
import java.io.IOException;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * CSV (RFC 4180) with a header row, typed by the table schema, turned into JSON rows so the rest of the
 * pipeline is the NDJSON one. Records are cut with a quote-aware scan (a quoted field may hold newlines) and
 * each record is parsed by Jackson's CSV module. Values are typed by their column: Int/Long/Decimal from
 * numbers, Boolean from true/false, an empty field is null; a value that does not fit its type is passed on
 * as a string, so the row validator reports it with its line number.
 */
public final class CsvRecords implements RecordSplitter {
  /** Reads one record (the first of its input) as its field values. */
  private static final ObjectReader RECORD = new CsvMapper().readerFor(String[].class);
  private static final Pattern INTEGER = Pattern.compile("-?\\d+");

  private final String table;
  private final TableSchema schema;
  private final int maxRecordBytes;
  private final LineSplitter.LineHandler handler;
  private Buffer record = Buffer.buffer();
  private long recordLength;
  private long line = 1;
  private long recordLine = 1;
  private boolean inQuotes;
  private List<String> header;

  public CsvRecords(String table, TableSchema schema, int maxRecordBytes, LineSplitter.LineHandler handler) {
    this.table = table;
    this.schema = schema;
    this.maxRecordBytes = maxRecordBytes;
    this.handler = handler;
  }

  @Override
  public void feed(Buffer chunk) {
    int start = 0;
    int length = chunk.length();
    for (int i = 0; i < length; i++) {
      byte b = chunk.getByte(i);
      if (b == '"') {
        inQuotes = !inQuotes;
      } else if (b == '\n') {
        line++;
        if (!inQuotes) {
          append(chunk, start, i);
          endRecord();
          start = i + 1;
        }
      }
    }
    append(chunk, start, length);
  }

  @Override
  public void finish() {
    if (inQuotes) {
      throw new ImportFormatException("the CSV ends inside a quoted field that starts on line " + recordLine);
    }
    if (recordLength > 0) {
      endRecord();
    }
  }

  private void append(Buffer chunk, int from, int to) {
    recordLength += to - from;
    if (recordLength <= maxRecordBytes && to > from) {
      record.appendBuffer(chunk.slice(from, to).copy());
    }
  }

  private void endRecord() {
    long number = recordLine;
    recordLine = line;
    long length = recordLength;
    Buffer bytes = record;
    record = Buffer.buffer();
    recordLength = 0;
    if (length > maxRecordBytes) {
      handler.tooLong(number, length, bytes.slice(0, Math.min(bytes.length(), LineSplitter.PREFIX_BYTES)));
      return;
    }
    // Decoding would silently turn malformed UTF-8 into U+FFFD, which would then be stored as if sent.
    byte[] raw = bytes.getBytes();
    TextCheck.Problem problem = TextCheck.checkUtf8(raw, 0, raw.length);
    if (problem != null) {
      String where = problem.describe(raw, 0, number);
      if (header == null) {
        throw new ImportFormatException("the CSV header: " + where);
      }
      handler.invalid(number, where, bytes.toString());
      return;
    }
    String text = bytes.toString();
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isBlank()) {
      handler.line(number, Buffer.buffer());
      return;
    }
    String[] values;
    try {
      values = RECORD.readValue(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      handler.invalid(number, "invalid CSV record: " + e.getOriginalMessage(), text);
      return;
    } catch (IOException e) {
      handler.invalid(number, "invalid CSV record: " + e.getMessage(), text);
      return;
    } catch (RuntimeException e) {
      handler.invalid(number, "invalid CSV record: " + e.getMessage(), text);
      return;
    }
    if (header == null) {
      readHeader(values);
      handler.line(number, Buffer.buffer()); // the header is no row, but keeps line numbers aligned
      return;
    }
    if (values.length != header.size()) {
      handler.invalid(number, "the record has " + values.length + " fields but the header has " + header.size(),
          text);
      return;
    }
    handler.line(number, Buffer.buffer(toJson(values)));
  }

  private void readHeader(String[] names) {
    header = new ArrayList<>();
    for (String name : names) {
      String column = name.trim();
      if (schema.column(column) == null) {
        throw new ImportFormatException("the CSV header names column '" + column + "', which table '" + table
            + "' does not have; its columns are " + schema.columns().keySet());
      }
      if (header.contains(column)) {
        // Each record would name the column twice; JSON rows with a duplicate key are refused too.
        throw new ImportFormatException("the CSV header names column '" + column + "' twice (fields "
            + (header.indexOf(column) + 1) + " and " + (header.size() + 1) + ")");
      }
      header.add(column);
    }
  }

  private String toJson(String[] values) {
    ObjectNode row = JsonNodeFactory.instance.objectNode();
    for (int i = 0; i < values.length; i++) {
      String column = header.get(i);
      String value = values[i];
      if (value.isEmpty()) {
        row.putNull(column);
        continue;
      }
      ColumnSchema col = schema.column(column);
      switch (col.type()) {
        case INT, LONG -> {
          if (INTEGER.matcher(value).matches()) {
            row.put(column, new java.math.BigInteger(value));
          } else {
            row.put(column, value);
          }
        }
        case DECIMAL -> {
          try {
            row.put(column, new BigDecimal(value.trim()));
          } catch (NumberFormatException e) {
            row.put(column, value);
          }
        }
        case BOOLEAN -> {
          if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
            row.put(column, Boolean.parseBoolean(value.toLowerCase(java.util.Locale.ROOT)));
          } else {
            row.put(column, value);
          }
        }
        case STRING, TEXT -> row.put(column, value);
      }
    }
    return row.toString();
  }
}
