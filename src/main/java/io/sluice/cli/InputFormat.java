package io.sluice.cli;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.csv.CsvMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The import file formats Sluice reads (README "CSV ... or one JSON array"), and how to feed a sample of each to a
 * {@link SchemaInference}. {@code auto} decides like the server does, so the guess is made from the rows the
 * import will see.
 */
enum InputFormat {
  auto, ndjson, csv, json;

  static final String HELP = "Input format: ndjson, csv (a header row naming the columns) or json (one array"
      + " of row objects). Default: auto, decided like the server does from the first non-blank character"
      + " ('{' NDJSON, '[' JSON array, anything else CSV).";

  /** Reads one CSV record as its field values (the parser the server's CsvRecords uses). */
  private static final ObjectReader CSV_RECORD = new CsvMapper().readerFor(String[].class);
  /** The server types a CSV value as Int/Long only when it matches this (CsvRecords.INTEGER). */
  private static final Pattern INTEGER = Pattern.compile("-?\\d+");

  /** What a row is called in messages. */
  String rows() {
    return switch (this) {
      case csv -> "CSV rows";
      case json -> "JSON object elements";
      default -> "JSON object rows";
    };
  }

  /** auto resolved from the decompressed content: the first non-blank character after a byte order mark. */
  InputFormat resolve(Path file) throws IOException {
    if (this != auto) {
      return this;
    }
    try (BufferedReader in = NdjsonFiles.openLines(file)) {
      return detect(in);
    } catch (IOException e) {
      throw new IOException("cannot read '" + file + "': " + e.getMessage(), e);
    }
  }

  /**
   * A warning when auto detection contradicts the file name (a ".ndjson" file not starting with '{' is CSV to the
   * server, which never sees the name), else null.
   */
  static String autoWarning(Path file, InputFormat requested, InputFormat resolved) {
    String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
    boolean jsonName = name.contains(".json") || name.contains(".ndjson");
    if (requested != auto || resolved != csv || !jsonName) {
      return null;
    }
    return "'" + file + "' does not start with '{' or '[', so it is read as CSV, as the server will read it;"
        + " use --format to choose";
  }

  private static InputFormat detect(BufferedReader in) throws IOException {
    int c;
    while ((c = in.read()) >= 0 && (c == ' ' || c == '\t' || c == '\r' || c == '\n')) {
      // leading whitespace says nothing about the format
    }
    // An empty file counts as NDJSON, as on the server.
    return c < 0 || c == '{' ? ndjson : c == '[' ? json : csv;
  }

  /** Feeds up to sampleRows non-blank records to inference; line: the 1-based number of the record read last. */
  void sample(BufferedReader in, long sampleRows, SchemaInference inference, long[] line) throws IOException {
    switch (this) {
      case csv -> sampleCsv(in, sampleRows, inference, line);
      case json -> sampleJsonArray(in, sampleRows, inference, line);
      default -> sampleNdjson(in, sampleRows, inference, line);
    }
  }

  private static void sampleNdjson(BufferedReader lines, long sampleRows, SchemaInference inference, long[] line)
      throws IOException {
    long sampled = 0;
    String text;
    while (sampled < sampleRows && (text = lines.readLine()) != null) {
      line[0]++;
      if (text.isBlank()) {
        continue;
      }
      sampled++;
      JsonNode row;
      try {
        row = ApiClient.JSON.readTree(text);
      } catch (JsonProcessingException e) {
        inference.addUnparseable(line[0]);
        continue;
      }
      inference.add(row, line[0]);
    }
  }

  /** Elements are numbered from 1, as the server numbers them in its rejected-row reports. */
  private static void sampleJsonArray(BufferedReader in, long sampleRows, SchemaInference inference, long[] line)
      throws IOException {
    try (JsonParser parser = ApiClient.JSON.createParser(in)) {
      if (parser.nextToken() != JsonToken.START_ARRAY) {
        throw new IOException("the file is not a JSON array (use --format to choose another format)");
      }
      while (line[0] < sampleRows && parser.nextToken() != JsonToken.END_ARRAY) {
        line[0]++;
        inference.add(parser.readValueAsTree(), line[0]);
      }
    }
  }

  /**
   * Records are cut at newlines outside quotes, the way the server cuts them, so line numbers match its reports.
   * Values are typed as the server would type them for a column of that type; a value fitting no narrower type
   * is a string.
   */
  private static void sampleCsv(BufferedReader lines, long sampleRows, SchemaInference inference, long[] line)
      throws IOException {
    inference.describeSkipped("are not CSV records with as many fields as the header");
    List<String> header = null;
    long sampled = 0;
    String text;
    while (sampled < sampleRows && (text = lines.readLine()) != null) {
      long recordLine = ++line[0];
      StringBuilder record = new StringBuilder(text);
      String next;
      while (quotes(record) % 2 == 1 && (next = lines.readLine()) != null) {
        line[0]++;
        record.append('\n').append(next);
      }
      if (record.toString().isBlank()) {
        continue;
      }
      String[] values;
      try {
        values = CSV_RECORD.readValue(record.toString());
      } catch (IOException | RuntimeException e) {
        if (header == null) {
          throw new IOException("the CSV header on line " + recordLine + " cannot be read: " + e.getMessage(), e);
        }
        sampled++;
        inference.addUnparseable(recordLine);
        continue;
      }
      if (header == null) {
        header = header(values);
        continue;
      }
      sampled++;
      if (values.length != header.size()) {
        inference.addUnparseable(recordLine);
        continue;
      }
      ObjectNode row = JsonNodeFactory.instance.objectNode();
      for (int i = 0; i < values.length; i++) {
        row.set(header.get(i), csvValue(values[i]));
      }
      inference.add(row, recordLine);
    }
  }

  private static long quotes(CharSequence text) {
    return text.chars().filter(c -> c == '"').count();
  }

  private static List<String> header(String[] names) throws IOException {
    List<String> header = new ArrayList<>();
    for (String name : names) {
      String column = name.trim(); // the server trims header names too
      if (header.contains(column)) {
        throw new IOException("the CSV header names column '" + column + "' twice, which the server refuses");
      }
      header.add(column);
    }
    return header;
  }

  /** Empty is null; the server's Int/Long, Decimal and Boolean parsing decide what a value could be. */
  static JsonNode csvValue(String value) {
    JsonNodeFactory nodes = JsonNodeFactory.instance;
    if (value.isEmpty()) {
      return nodes.nullNode();
    }
    if (INTEGER.matcher(value).matches()) {
      BigInteger integer = new BigInteger(value);
      return integer.bitLength() < 32 ? nodes.numberNode(integer.intValue())
          : integer.bitLength() < 64 ? nodes.numberNode(integer.longValue()) : nodes.numberNode(integer);
    }
    if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
      return nodes.booleanNode(Boolean.parseBoolean(value.toLowerCase(Locale.ROOT)));
    }
    try {
      return nodes.numberNode(new BigDecimal(value.trim()));
    } catch (NumberFormatException e) {
      return nodes.textNode(value);
    }
  }
}
