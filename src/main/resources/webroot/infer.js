// Guesses a table schema from the first rows of an NDJSON, JSON array or CSV file, the way the CLI's
// `sluice infer-schema` does (cli/SchemaInference and cli/InputFormat): per field, from its non-null values,
// Boolean, Int (-2^31..2^31-1), Long (64 bits), Decimal (not integers, or wider), String (no whitespace, or a
// category: at most 50 distinct values seen 5 times on average) or Text (analyzer "english" when 15% of 20 or
// more words are English stop words, else "standard"); nullable when missing or null in a sampled row.
// CSV values are typed as the server types them (empty is null). Plain script, no dependencies; exposes
// globalThis.SluiceInfer.
(function () {
  'use strict';

  const CATEGORY_MAX_DISTINCT = 50;
  const CATEGORY_MIN_REPEATS = 5;
  const ENGLISH_MIN_STOP_WORD_SHARE = 0.15;
  const ENGLISH_MIN_WORDS = 20;
  const STOP_WORDS = new Set(['a', 'an', 'and', 'are', 'as', 'at', 'be', 'but', 'by', 'for', 'if', 'in', 'into',
    'is', 'it', 'no', 'not', 'of', 'on', 'or', 'such', 'that', 'the', 'their', 'then', 'there', 'these', 'they',
    'this', 'to', 'was', 'will', 'with', 'i', 'you', 'he', 'she', 'we', 'my', 'have', 'has', 'had', 'from', 'were',
    'been', 'which', 'what', 'all', 'can', 'do', 'so', 'our', 'your']);
  const INT_MIN = -(2 ** 31), INT_MAX = 2 ** 31 - 1;
  const LONG_MIN = -(2n ** 63n), LONG_MAX = 2n ** 63n - 1n;

  /** A number with its source text, so 1.0 is a Decimal (as Jackson reads it) although JavaScript makes it 1. */
  class Num {
    constructor(source) { this.source = source; }
  }

  function numberKind(source) {
    if (!/^-?\d+$/.test(source)) return 'decimal';
    const n = BigInt(source);
    if (n >= INT_MIN && n <= INT_MAX) return 'int';
    return n >= LONG_MIN && n <= LONG_MAX ? 'long' : 'decimal';
  }

  /** JSON.parse keeping each number's source text where the browser gives it (else its value). */
  function parseJson(text) {
    return JSON.parse(text, function (key, value, context) {
      if (typeof value !== 'number') return value;
      return new Num(context && typeof context.source === 'string' ? context.source : String(value));
    });
  }

  class FieldStats {
    constructor() {
      Object.assign(this, { present: 0, nulls: 0, booleans: 0, ints: 0, longs: 0, decimals: 0, strings: 0,
        nested: 0, withWhitespace: 0, words: 0, stopWords: 0, distinct: new Set(), distinctOverflow: false });
    }

    add(value) {
      this.present++;
      if (value === null) this.nulls++;
      else if (typeof value === 'boolean') this.booleans++;
      else if (value instanceof Num) {
        const kind = numberKind(value.source);
        if (kind === 'int') this.ints++; else if (kind === 'long') this.longs++; else this.decimals++;
      } else if (typeof value === 'string') this.addString(value);
      else this.nested++;
    }

    addString(s) {
      this.strings++;
      if (!this.distinctOverflow) {
        this.distinct.add(s);
        if (this.distinct.size > CATEGORY_MAX_DISTINCT) {
          this.distinctOverflow = true;
          this.distinct.clear();
        }
      }
      for (const word of s.split(/\s+/)) {
        if (!word) continue;
        this.words++;
        if (STOP_WORDS.has(word.toLowerCase().replace(/[^\p{L}]/gu, ''))) this.stopWords++;
      }
      if (/\s/.test(s)) this.withWhitespace++;
    }

    majority() {
      const numbers = this.ints + this.longs + this.decimals;
      const best = Math.max(this.booleans, numbers, this.strings, this.nested);
      if (best === 0) return null;
      return this.strings === best ? 'string' : numbers === best ? 'number' : this.booleans === best ? 'boolean' : 'nested';
    }

    type() {
      const kind = this.majority();
      if (kind === null || kind === 'nested') return 'String';
      if (kind === 'boolean') return 'Boolean';
      if (kind === 'number') return this.decimals > 0 ? 'Decimal' : this.longs > 0 ? 'Long' : 'Int';
      const category = !this.distinctOverflow && this.distinct.size * CATEGORY_MIN_REPEATS <= this.strings;
      return this.withWhitespace === 0 || category ? 'String' : 'Text';
    }

    column(rows) {
      const type = this.type();
      const column = { type, nullable: this.present < rows || this.nulls > 0 };
      if (type === 'Text') {
        column.analyzer = this.words >= ENGLISH_MIN_WORDS && this.stopWords >= ENGLISH_MIN_STOP_WORD_SHARE * this.words
          ? 'english' : 'standard';
      }
      return column;
    }

    warning() {
      const kind = this.majority();
      if (kind === null) return 'null or missing in every sampled row; guessed String';
      if (kind === 'nested') return 'holds nested objects or arrays, which Aito columns cannot; guessed String (flatten the field)';
      const numbers = this.ints + this.longs + this.decimals;
      const majority = { string: this.strings, number: numbers, boolean: this.booleans }[kind];
      const others = this.present - this.nulls - majority;
      if (others <= 0) return null;
      const kinds = [];
      if (this.booleans) kinds.push('booleans');
      if (numbers) kinds.push('numbers');
      if (this.strings) kinds.push('strings');
      if (this.nested) kinds.push('objects/arrays');
      return 'mostly ' + kind + 's, but ' + others + ' sampled value(s) of another kind (' + kinds.join(', ')
        + '); guessed ' + this.type() + ': rows with such values will be rejected';
    }
  }

  class Inference {
    constructor() {
      this.fields = new Map();
      this.rows = 0;
      this.skipped = 0;
      this.firstSkippedLine = 0;
      this.skippedWhat = 'are not JSON objects';
    }

    add(row, line) {
      if (row === null || typeof row !== 'object' || Array.isArray(row) || row instanceof Num) {
        if (this.skipped++ === 0) this.firstSkippedLine = line;
        return;
      }
      this.rows++;
      for (const [name, value] of Object.entries(row)) {
        if (!this.fields.has(name)) this.fields.set(name, new FieldStats());
        this.fields.get(name).add(value);
      }
    }

    schema() {
      const columns = {};
      for (const [name, stats] of this.fields) columns[name] = stats.column(this.rows);
      return { type: 'table', columns };
    }

    warnings() {
      const warnings = [];
      if (this.skipped > 0) {
        warnings.push(this.skipped + ' sampled line(s) ' + this.skippedWhat + ' and were skipped (first: line '
          + this.firstSkippedLine + ')');
      }
      for (const [name, stats] of this.fields) {
        const warning = stats.warning();
        if (warning) warnings.push("field '" + name + "': " + warning);
      }
      return warnings;
    }
  }

  /** auto: the first non-blank character decides, as the server does ('{' NDJSON, '[' JSON array, else CSV). */
  function detect(text) {
    const c = text.replace(/^\uFEFF/, '').trimStart().charAt(0);
    return c === '' || c === '{' ? 'ndjson' : c === '[' ? 'json' : 'csv';
  }

  /** A CSV value typed the way the server would type it; empty is null. */
  function csvValue(value) {
    if (value === '') return null;
    if (/^-?\d+$/.test(value)) return new Num(value);
    if (/^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
    const trimmed = value.trim();
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return new Num(trimmed.includes('.') || /e/i.test(trimmed) ? trimmed : trimmed + '.0');
    return value;
  }

  /** RFC 4180 records of text (quotes may hold commas and newlines), with the line each starts on. */
  function csvRecords(text, max) {
    const records = [];
    let fields = [], field = '', quoted = false, line = 1, startLine = 1, atStart = true, i = 0, broken = false;
    const endRecord = () => {
      fields.push(field);
      if (!(fields.length === 1 && fields[0].trim() === '' && !broken)) records.push({ line: startLine, fields, broken });
      fields = [];
      field = '';
      broken = false;
      atStart = true;
    };
    for (; i < text.length && records.length < max; i++) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; i++; } else if (c === '"') quoted = false;
        else { if (c === '\n') line++; field += c; }
        continue;
      }
      if (atStart) { startLine = line; atStart = false; }
      if (c === '"' && field === '') quoted = true;
      else if (c === '"') broken = true;
      else if (c === ',') { fields.push(field); field = ''; }
      else if (c === '\n') { if (field.endsWith('\r')) field = field.slice(0, -1); endRecord(); line++; }
      else field += c;
    }
    if (!atStart && records.length < max && i >= text.length && (field !== '' || fields.length)) {
      if (quoted) broken = true;
      endRecord();
    }
    return records;
  }

  /**
   * The schema guessed from up to `sample` rows of `text` (a file's beginning: a cut last line is left out).
   * Returns {schema, format, rows, warnings}; throws an Error naming the problem when nothing can be guessed.
   */
  function inferSchema(text, options) {
    const opts = options || {};
    const sample = opts.sample || 10000;
    const complete = opts.complete !== false;
    const format = !opts.format || opts.format === 'auto' ? detect(text) : opts.format;
    const inference = new Inference();
    if (!complete) {
      const cut = text.lastIndexOf('\n');
      text = cut >= 0 ? text.slice(0, cut + 1) : text;
    }
    if (format === 'ndjson') {
      const lines = text.split('\n');
      let sampled = 0;
      for (let i = 0; i < lines.length && sampled < sample; i++) {
        if (!lines[i].trim()) continue;
        sampled++;
        try {
          inference.add(parseJson(lines[i]), i + 1);
        } catch (e) {
          inference.add(undefined, i + 1);
        }
      }
    } else if (format === 'json') {
      let rows;
      try {
        rows = parseJson(text);
      } catch (e) {
        throw new Error(complete ? 'the file is not one JSON array: ' + e.message
          : 'a JSON array file is only read whole; this one is too large to sample here (use the CLI)');
      }
      if (!Array.isArray(rows)) throw new Error('the file is not one JSON array of rows');
      rows.slice(0, sample).forEach((row, i) => inference.add(row, i + 1));
    } else if (format === 'csv') {
      inference.skippedWhat = 'are not CSV records with as many fields as the header';
      const records = csvRecords(text.replace(/^\uFEFF/, ''), sample + 1);
      if (!records.length) throw new Error('no CSV header row');
      const header = records[0].fields.map((name) => name.trim());
      const seen = new Set();
      for (const name of header) {
        if (seen.has(name)) throw new Error("the CSV header names column '" + name + "' twice, which the server refuses");
        seen.add(name);
      }
      for (const record of records.slice(1)) {
        if (record.broken || record.fields.length !== header.length) {
          inference.add(undefined, record.line);
          continue;
        }
        const row = {};
        header.forEach((name, i) => { row[name] = csvValue(record.fields[i]); });
        inference.add(row, record.line);
      }
    } else {
      throw new Error('unknown format ' + format + ' (ndjson, csv, json or auto)');
    }
    if (inference.rows === 0) {
      throw new Error('no rows to guess from: none of the sampled ' + (format === 'csv' ? 'records' : 'lines')
        + ' is a ' + (format === 'csv' ? 'CSV record matching the header' : 'JSON object'));
    }
    return { schema: inference.schema(), format, rows: inference.rows, warnings: inference.warnings() };
  }

  globalThis.SluiceInfer = { inferSchema, detect };
})();
