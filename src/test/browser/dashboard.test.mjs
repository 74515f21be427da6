// Browser test of the Sluice dashboard: a real Sluice jar, Debian's Chromium, Playwright (playwright-core only,
// no downloaded browser). Run it through run.sh. It drives every feature of the page: the key, tables and counts,
// browsing rows, a where clause's hits and the delete they preview, a table created from a schema guessed from a
// dropped CSV file (and that file imported), a failing import, an import cancelled, a large file dropped on the
// page and imported with upload progress and the job's throughput chart, that chart again after a reload.
// Options (arguments or environment):
//   --port N     PORT          the port Sluice listens on (default: 0, a free one)
//   SLUICE_JAR   the jar to start (default: target/sluice.jar of the project)
//   CHROMIUM     the browser (default: /usr/bin/chromium)
//   ROWS         rows of the generated import (default: 400000, long enough for a throughput curve)
//   SCREENSHOT   where to save the screenshot (default: docs/dashboard.png of the project; "" for none)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const project = resolve(here, '../../..');
const JAR = process.env.SLUICE_JAR || join(project, 'target/sluice.jar');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const ROWS = Number(process.env.ROWS || 400000);
const portArg = process.argv.indexOf('--port');
const PORT = portArg >= 0 ? process.argv[portArg + 1] : process.env.PORT || '0';
if (!/^\d+$/.test(PORT) || Number(PORT) > 65535) {
  console.error('--port takes a port number (0 for a free one), not ' + JSON.stringify(PORT));
  process.exit(2);
}
const SCREENSHOT = process.env.SCREENSHOT ?? join(project, 'docs/dashboard.png');
const RW_KEY = 'browser-test-rw-' + Math.random().toString(36).slice(2);
const RO_KEY = 'browser-test-ro-' + Math.random().toString(36).slice(2);
const BAD_LINES = new Map([[Math.floor(ROWS / 7), '{"id": "not a number"}'], [Math.floor(ROWS / 2), 'this is not json'],
  [ROWS - 10, '{"id": 1, "extra": true}']]);
const WORDS = ['river', 'stone', 'cloud', 'engine', 'garden', 'market', 'quiet', 'bright', 'window', 'lake', 'data', 'index'];
const CITIES = ['Helsinki', 'Tampere', 'Oulu', 'Turku', 'Espoo', 'Vaasa'];
const PEOPLE = {
  type: 'table',
  columns: {
    id: { type: 'Int' }, name: { type: 'String' }, city: { type: 'String' }, score: { type: 'Decimal' },
    active: { type: 'Boolean' }, bio: { type: 'Text', analyzer: 'english' }, manager: { type: 'Int', nullable: true },
  },
};
const EVENTS = { type: 'table', columns: { at: { type: 'Long' }, kind: { type: 'String' } } };

const started = Date.now();
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s]`, ...args);
const work = mkdtempSync(join(tmpdir(), 'sluice-browser-'));
let server;
let context;

function person(i) {
  const bio = Array.from({ length: 8 }, (_, k) => WORDS[(i * 7 + k * 3) % WORDS.length]).join(' ');
  return JSON.stringify({ id: i, name: 'user' + i, city: CITIES[i % CITIES.length], score: (i % 1000) / 10,
    active: i % 3 !== 0, bio, manager: i % 5 === 0 ? null : i % 97 });
}

function ndjson(from, count, bad = new Map()) {
  const lines = [];
  for (let i = from; i < from + count; i++) lines.push(bad.has(i) ? bad.get(i) : person(i));
  return lines.join('\n') + '\n';
}

/** Starts the jar on PORT (0: a free one, read back from its log) with a fresh data dir and known keys. */
async function startServer() {
  const out = createWriteStream(join(work, 'sluice.log'));
  const child = spawn('java', ['-jar', JAR], {
    cwd: work, // no conf/sluice.json here: defaults plus the environment below
    env: { ...process.env, SLUICE_HTTP_HOST: '127.0.0.1', SLUICE_HTTP_PORT: PORT, SLUICE_DATA_DIR: join(work, 'data'),
      SLUICE_API_KEY_RW: RW_KEY, SLUICE_API_KEY_RO: RO_KEY, SLUICE_HTTP_INSTANCES: '2', SLUICE_STORE_INSTANCES: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stderr.pipe(out);
  const base = await new Promise((resolveBase, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error('Sluice did not start within 60 s')), 60000);
    child.on('exit', (code) => reject(new Error('Sluice exited with ' + code + ' before listening')));
    child.stdout.on('data', (chunk) => {
      out.write(chunk);
      buffered += chunk;
      const m = /listening on (http:\/\/[^\s]+)/.exec(buffered);
      if (m) {
        clearTimeout(timer);
        resolveBase(m[1].replace(/\/$/, ''));
      }
    });
  });
  child.stdout.on('data', (chunk) => out.write(chunk));
  return { child, base };
}

async function call(base, method, path, body, key = RW_KEY) {
  const headers = { 'x-api-key': key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const json = await response.json();
  assert.equal(response.status, 200, `${method} ${path} → ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** docs/api.md §3 through the API: initiate, PUT the file to the signed URL, trigger. */
async function startImport(base, table, file) {
  const initiated = await call(base, 'POST', `/api/v1/data/${table}/file`, {});
  const put = await fetch(initiated.url, { method: 'PUT', body: file });
  assert.equal(put.status, 200, 'upload → ' + put.status + ' ' + await put.text());
  await call(base, 'POST', `/api/v1/data/${table}/file/${initiated.id}`, {});
  return initiated.id;
}

/** A CSV file for the "New table" flow: typed columns, an empty (null) note, a quoted comma. */
function visitsCsv(count) {
  const lines = ['id,visitor,city,minutes,paid,note'];
  for (let i = 0; i < count; i++) {
    const note = i % 4 === 0 ? '' : i % 4 === 1 ? '"came back, stayed late"' : 'short visit';
    lines.push([i, 'v' + (i % 37), CITIES[i % CITIES.length], (i % 90) + 0.5, i % 2 === 0, note].join(','));
  }
  return lines.join('\n') + '\n';
}

/** Drops a file on an element of the page the way a user's drag and drop does (a DataTransfer with a File). */
async function dropFile(page, selector, name, bytes) {
  await page.evaluate(async ({ selector, name, base64 }) => {
    const data = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], name));
    const target = document.querySelector(selector);
    target.dispatchEvent(new DragEvent('dragover', { bubbles: true, cancelable: true, dataTransfer: transfer }));
    target.dispatchEvent(new DragEvent('drop', { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }, { selector, name, base64: Buffer.from(bytes).toString('base64') });
}

/** The page's guess (infer.js) is the CLI's (`sluice infer-schema` of the same jar) for the same file. */
async function sameGuessAsCli(page, name, content) {
  const file = join(work, name);
  writeFileSync(file, content);
  const cli = JSON.parse(execFileSync('java', ['-jar', JAR, 'infer-schema', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }));
  const guess = await page.evaluate((sample) => globalThis.SluiceInfer.inferSchema(sample).schema, content);
  assert.deepEqual(guess, cli, 'the page and the CLI guess ' + name + ' alike');
}

/** Values of every kind the guess tells apart: 1.0 is a Decimal, 2^31 a Long, 2^63 a Decimal, nested is a String. */
function mixedNdjson() {
  const lines = [];
  for (let i = 0; i < 60; i++) {
    lines.push(`{"i": ${i}, "l": ${i % 2 ? 2147483648 : 1}, "d": ${i % 3 ? '1.0' : '2'}, "w": ${i % 2 ? '9223372036854775808' : '3'}, `
      + `"b": ${i % 2 === 0}, "code": "c${i}", "cat": "${CITIES[i % 3]} city", "n": null, "o": {"x": 1}, `
      + `"t": "${i % 5 ? 'the end of the road and the start of it' : 'word'}", "m": ${i % 10 ? i : '"ten"'}`
      + (i % 7 ? ', "sometimes": 1' : '') + '}');
  }
  return lines.join('\n') + '\nnot json\n';
}

const text = (locator) => locator.innerText();
const rowsShown = (page) => page.locator('#rows tbody tr').count();

async function connectWith(page, key) {
  if (await page.locator('#forget-key').isVisible()) await page.click('#forget-key');
  await page.locator('#key-card').waitFor({ state: 'visible' });
  await page.fill('#api-key', key);
  await page.click('#connect');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
}

async function main() {
  const sluice = await startServer();
  server = sluice.child;
  const base = sluice.base;
  log('Sluice at', base);
  if (PORT !== '0') assert.equal(new URL(base).port, PORT, 'Sluice listens on the chosen port');

  await call(base, 'PUT', '/api/v1/schema/people', PEOPLE);
  await call(base, 'PUT', '/api/v1/schema/events', EVENTS);
  const seedRows = ndjson(0, 25).trim().split('\n').map((line) => JSON.parse(line));
  await call(base, 'POST', '/api/v1/data/people/batch', seedRows);

  context = await chromium.launchPersistentContext(join(work, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1360, height: 940 },
    deviceScaleFactor: 1,
  });
  const page = context.pages()[0] || await context.newPage();
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  page.on('console', (m) => {
    // Refusals are answered on purpose below (a wrong key, a write with the read-only key, a duplicate table);
    // the browser logs those requests as errors.
    if (m.type() === 'error' && !/status of (400|403|409)/.test(m.text())) problems.push('console: ' + m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base + '/')) problems.push('request outside Sluice: ' + r.url());
  });
  log('browser', context.browser()?.version() ?? '(persistent context)');

  // 1. The page asks for a key; a wrong one is refused, the read-only one is enough to look.
  await page.goto(base + '/');
  await page.locator('#key-card').waitFor({ state: 'visible' });
  await page.fill('#api-key', 'not-a-key');
  await page.click('#connect');
  await page.locator('#key-error').filter({ hasText: 'refused' }).waitFor();
  await page.fill('#api-key', RO_KEY);
  await page.click('#connect');
  await page.locator('#dashboard').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => localStorage.getItem('sluice.apiKey')), RO_KEY);
  log('connected with the read-only key');

  // 2. The tables with their row counts and schemas.
  const people = page.locator('#tables li[data-table="people"]');
  await people.locator('.table-rows', { hasText: '25 rows' }).waitFor();
  await page.locator('#tables li[data-table="events"] .table-rows', { hasText: '0 rows' }).waitFor();
  await people.locator('summary .table-name').click();
  const columns = await people.locator('table.columns tbody tr').allInnerTexts();
  assert.equal(columns.length, 7, columns.join(' | '));
  assert.ok(columns.some((c) => /bio\s+Text\s+no\s+english/.test(c)), columns.join(' | '));
  assert.ok(columns.some((c) => /manager\s+Int\s+yes/.test(c)), columns.join(' | '));

  // The store lanes' meters, from /metrics: one row per lane, rates once two polls were taken.
  await page.locator('#lanes tr').nth(1).waitFor();
  assert.deepEqual(await page.locator('#lanes tr td:first-child').allInnerTexts(), ['read', 'write']);
  await page.locator('#lanes tr td:nth-child(3)').filter({ hasNotText: '–' }).first().waitFor();
  // p99 wait and p99 queue length from the lanes' histograms, between two polls: a bound, or '–' with no task.
  assert.equal(await page.locator('#lanes tr').first().locator('td').count(), 7);
  for (const cell of await page.locator('#lanes tr td:nth-child(5), #lanes tr td:nth-child(7)').allInnerTexts()) {
    assert.match(cell, /^(–|≤ .+|over the last bucket)$/);
  }
  log('tables, schemas and lanes shown');

  // 3. Browse a table's rows, a page at a time.
  await people.locator('.browse-button').click();
  await page.locator('#browse-card').waitFor({ state: 'visible' });
  await page.locator('#hits-count', { hasText: '25 rows' }).waitFor();
  assert.equal(await rowsShown(page), 20);
  assert.deepEqual(await page.locator('#rows thead th').allInnerTexts(),
    ['id', 'name', 'city', 'score', 'active', 'bio', 'manager']);
  assert.equal(await text(page.locator('#page-info')), '1–20 of 25');
  await page.click('#page-next');
  await page.locator('#page-info', { hasText: '21–25 of 25' }).waitFor();
  assert.equal(await rowsShown(page), 5);
  assert.equal(await text(page.locator('#rows tbody tr').first().locator('td').first()), '20');
  await page.click('#page-prev');
  await page.locator('#page-info', { hasText: '1–20 of 25' }).waitFor();

  // A where clause shows its hits and their count: the preview of a delete.
  await page.fill('#where', '{"city": "Oulu"}'); // ids 2, 8, 14, 20
  await page.click('#run-where');
  await page.locator('#hits-count', { hasText: '4 rows match' }).waitFor();
  assert.deepEqual(await page.locator('#rows tbody tr td:first-child').allInnerTexts(), ['2', '8', '14', '20']);
  await page.fill('#where', '{"city": ');
  await page.click('#run-where');
  await page.locator('#where-error', { hasText: 'not JSON' }).waitFor();
  await page.fill('#where', '{"nope": 1}');
  await page.click('#run-where');
  await page.locator('#where-error', { hasText: 'Search refused (400)' }).waitFor();
  log('where error shown:', await text(page.locator('#where-error')));

  // The read-only key cannot delete: the page says so and stays connected.
  await page.fill('#where', '{"city": "Oulu"}');
  await page.click('#run-where');
  await page.locator('#hits-count', { hasText: '4 rows match' }).waitFor();
  await page.click('#delete-open');
  await page.locator('#delete-confirm').waitFor({ state: 'visible' });
  await page.click('#delete-yes');
  await page.locator('#where-error', { hasText: 'read-only' }).waitFor();
  assert.equal(await page.locator('#dashboard').isVisible(), true);
  log('read-only key: browse and preview, a delete refused');

  // 4. With the read-write key: the delete asks first, then says how many rows went.
  await connectWith(page, RW_KEY);
  await people.locator('.browse-button').click();
  await page.fill('#where', '{"city": "Oulu"}');
  await page.click('#run-where');
  await page.locator('#hits-count', { hasText: '4 rows match' }).waitFor();
  await page.click('#delete-open');
  await page.locator('#delete-question', { hasText: 'Delete 4 rows of people matching {"city":"Oulu"}?' }).waitFor();
  await page.click('#delete-no');
  assert.equal(await page.locator('#delete-confirm').isVisible(), false);
  assert.equal((await call(base, 'POST', '/api/v1/_search', { from: 'people', limit: 0 })).total, 25, 'cancel kept them');
  await page.click('#delete-open');
  await page.click('#delete-yes');
  await page.locator('#delete-result', { hasText: 'Deleted 4 rows of people.' }).waitFor();
  await page.locator('#hits-count', { hasText: '0 rows match' }).waitFor();
  await people.locator('.table-rows', { hasText: '21 rows' }).waitFor();
  assert.equal((await call(base, 'POST', '/api/v1/_search', { from: 'people', limit: 0 })).total, 21);
  log('delete previewed, confirmed, 4 rows gone');

  // 5. A new table from a schema guessed from a dropped CSV file, edited, created, the file imported into it.
  // The guess is the CLI's, for CSV, NDJSON and values of every kind.
  const VISITS = 500;
  await sameGuessAsCli(page, 'visits.csv', visitsCsv(VISITS));
  await sameGuessAsCli(page, 'people.ndjson', ndjson(0, 300));
  await sameGuessAsCli(page, 'mixed.ndjson', mixedNdjson());
  log('the page guesses schemas as the CLI does (CSV, NDJSON, every kind of value)');
  await page.click('#new-table');
  await page.locator('#create-card').waitFor({ state: 'visible' });
  await dropFile(page, '#sample-zone', 'visits.csv', Buffer.from(visitsCsv(VISITS)));
  await page.locator('#infer-info', { hasText: 'Guessed from 500 rows of visits.csv (csv)' }).waitFor();
  assert.equal(await page.inputValue('#create-name'), 'visits');
  const guessed = JSON.parse(await page.inputValue('#schema-json'));
  assert.deepEqual(guessed, { type: 'table', columns: {
    id: { type: 'Int', nullable: false }, visitor: { type: 'String', nullable: false },
    city: { type: 'String', nullable: false }, minutes: { type: 'Decimal', nullable: false },
    paid: { type: 'Boolean', nullable: false }, note: { type: 'String', nullable: true } } });
  guessed.columns.note = { type: 'Text', analyzer: 'english', nullable: true }; // the user's edit
  await page.fill('#schema-json', JSON.stringify(guessed, null, 2));
  assert.equal(await page.isChecked('#create-import'), true);
  await page.click('#create-submit');
  await page.locator('#create-result', { hasText: 'Created table visits.' }).waitFor();
  assert.deepEqual((await call(base, 'GET', '/api/v1/schema/visits')).columns.note,
    { type: 'Text', analyzer: 'english', nullable: true });
  await page.locator('#browse-title', { hasText: 'Rows of visits' }).waitFor();
  await page.locator('#upload[data-id]').or(page.locator('#import-error:visible')).waitFor({ timeout: 15000 });
  assert.equal(await page.locator('#import-error').isVisible(), false, await text(page.locator('#import-error')));
  const visitsJob = await page.locator('#upload').getAttribute('data-id');
  await page.locator(`#imports li[data-id="${visitsJob}"][data-phase="Finished"]`).waitFor({ timeout: 30000 });
  await page.locator('#tables li[data-table="visits"] .table-rows', { hasText: '500 rows' }).waitFor({ timeout: 15000 });
  // Changing the schema of a table that has rows is refused, with the API's message.
  guessed.columns.note = { type: 'String', nullable: true };
  await page.fill('#schema-json', JSON.stringify(guessed, null, 2));
  await page.click('#create-submit');
  await page.locator('#create-error', { hasText: 'was not created (409)' }).waitFor();
  await page.click('#create-cancel');
  log('table created from a dropped CSV sample (edited schema), its 500 rows imported');

  // 6. A failing import (not gzip, not NDJSON), started through the API: the page shows it ended in error.
  const brokenId = await startImport(base, 'events', Buffer.from('PK\u0003\u0004 a zip file is not NDJSON'));
  const broken = page.locator(`#imports li[data-id="${brokenId}"]`);
  await broken.and(page.locator('[data-phase="FinishedInError"]')).waitFor({ timeout: 30000 });
  assert.match(await broken.locator('.import-message').innerText(), /import failed: .*not gzip/);
  assert.equal(await broken.locator('.pct').innerText(), 'failed');
  log('failed import shown as FinishedInError');

  // 7. Cancel an import from its detail (two clicks): one uploaded and not yet triggered.
  const initiated = await call(base, 'POST', '/api/v1/data/events/file', {});
  const uploaded = await fetch(initiated.url, { method: 'PUT', body: '{"at": 1, "kind": "click"}\n' });
  assert.equal(uploaded.status, 200);
  const waiting = page.locator(`#imports li[data-id="${initiated.id}"]`);
  await waiting.and(page.locator('[data-phase="Uploaded"]')).waitFor({ timeout: 10000 });
  await waiting.locator('button').click();
  await page.locator('#detail-id', { hasText: initiated.id }).waitFor();
  await page.locator('#chart', { hasText: 'waiting for the import to be triggered' }).waitFor();
  await page.click('#cancel-import');
  await page.locator('#cancel-import', { hasText: 'Really cancel?' }).waitFor();
  await page.click('#cancel-import');
  await waiting.and(page.locator('[data-phase="Cancelled"]')).waitFor({ timeout: 10000 });
  assert.match(await waiting.locator('.import-message').innerText(), /^import cancelled before it ran/);
  await page.locator('#cancel-import').waitFor({ state: 'hidden' });
  await page.locator('#chart', { hasText: 'It ended before it ran' }).waitFor();
  log('an uploaded import cancelled from the page');

  // 8. The large import: a gzip NDJSON file with three bad lines, dropped on the page while people is open.
  await people.locator('.browse-button').click();
  await page.locator('#browse-title', { hasText: 'Rows of people' }).waitFor();
  const gz = gzipSync(Buffer.from(ndjson(25, ROWS, new Map([...BAD_LINES].map(([line, text]) => [line + 25, text])))));
  log(`generated ${ROWS} rows, ${(gz.length / 1048576).toFixed(1)} MiB gzip`);
  // A local upload is over at once: Chromium's network emulation makes it take about 3 s, so its progress shows.
  const cdp = await context.newCDPSession(page);
  const throttle = (uploadThroughput) => cdp.send('Network.emulateNetworkConditions',
    { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput });
  await throttle(Math.ceil(gz.length / 3));
  const importStarted = Date.now();
  const uploadSeen = [];
  await dropFile(page, 'main', 'people.ndjson.gz', gz);
  for (;;) { // the upload's progress, until the job is triggered
    const pct = await page.locator('#upload-pct').innerText().catch(() => '');
    if (pct && uploadSeen[uploadSeen.length - 1] !== pct) {
      uploadSeen.push(pct);
      if (pct !== '0%' && pct !== '100%') assert.match(await text(page.locator('#upload-text')), /^Uploading people\.ndjson\.gz: [\d.]+ (KiB|MiB) of [\d.]+ MiB/);
    }
    if (await page.locator('#upload').getAttribute('data-id')  !== visitsJob) break;
    if (await page.locator('#import-error').isVisible()) throw new Error(await text(page.locator('#import-error')));
    if (Date.now() - importStarted > 60000) throw new Error('the upload did not finish: ' + uploadSeen.join(' '));
    await page.waitForTimeout(50);
  }
  await throttle(-1);
  const id = await page.locator('#upload').getAttribute('data-id');
  assert.equal(uploadSeen[uploadSeen.length - 1], '100%', 'upload progress: ' + uploadSeen.join(' '));
  assert.ok(uploadSeen.some((pct) => pct !== '0%' && pct !== '100%'), 'upload progress between: ' + uploadSeen.join(' '));
  assert.match(await text(page.locator('#upload-text')), new RegExp('import ' + id.slice(0, 8) + ' started'));
  log(`upload progress shown in ${uploadSeen.length} steps (${uploadSeen.slice(0, 3).join(', ')} … 100%); import ${id} triggered`);
  const job = page.locator(`#imports li[data-id="${id}"]`);
  await job.waitFor({ timeout: 10000 });
  await page.locator('#detail-id', { hasText: id }).waitFor();

  // Watch it: every phase, progress value and what the chart says, until Finished.
  const seen = [];
  let chartWhileRunning = 0;
  for (;;) {
    const phase = await job.getAttribute('data-phase');
    const pct = await job.locator('.pct').innerText();
    const stored = await job.locator('.completed').innerText();
    const chart = await page.locator('#chart').innerText();
    assert.doesNotMatch(chart, /Waiting for the job to run/);
    if (phase === 'Running') {
      assert.doesNotMatch(chart, /Waiting|Queued/, 'the chart of a running job: ' + chart);
      chartWhileRunning = Math.max(chartWhileRunning, await page.locator('#chart polyline.rate').count());
    }
    const last = seen[seen.length - 1];
    if (!last || last.phase !== phase || last.pct !== pct) seen.push({ t: Date.now() - importStarted, phase, pct, stored });
    if (phase === 'Finished' || phase === 'FinishedInError') break;
    if (Date.now() - importStarted > 180000) throw new Error('the page did not show the import finish: ' + JSON.stringify(seen));
    await page.waitForTimeout(150);
  }
  log('page showed:', seen.map((s) => `${(s.t / 1000).toFixed(1)}s ${s.phase} ${s.pct} ${s.stored}`).join(' → '));
  const good = ROWS - BAD_LINES.size;
  assert.equal(await job.getAttribute('data-phase'), 'Finished');
  assert.equal(await job.locator('.completed').innerText(), good.toLocaleString('en-US') + ' stored');
  assert.equal(await job.locator('.failed').innerText(), BAD_LINES.size + ' failed');
  assert.equal(await job.locator('.pct').innerText(), '100%');
  assert.match(await job.locator('.throughput').innerText(), /^[\d,]+ rows\/s$/);
  const tookMs = Date.now() - importStarted;
  const runningShown = seen.filter((s) => s.phase === 'Running').length;
  // An import that takes seconds must have been shown running, with progress moving and its chart drawn; a
  // very fast one may go from Started to Finished between two polls of the page.
  if (tookMs > 6000) {
    assert.ok(runningShown >= 2, 'the page did not show the job Running and progressing: ' + JSON.stringify(seen));
    assert.ok(chartWhileRunning > 0, 'no throughput line while the job ran');
  } else {
    log(`note: the import took only ${tookMs} ms; raise ROWS to watch it run`);
  }
  log(`Finished shown ${(tookMs / 1000).toFixed(1)} s after the drop`);

  // The row count follows; the job's failing rows and throughput chart are shown.
  await people.locator('.table-rows', { hasText: (21 + good).toLocaleString('en-US') + ' rows' }).waitFor({ timeout: 15000 });
  await page.locator('#hits-count', { hasText: (21 + good).toLocaleString('en-US') + ' rows' }).waitFor({ timeout: 15000 });
  const errorRows = await page.locator('#errors tbody tr').allInnerTexts();
  assert.equal(errorRows.length, BAD_LINES.size, errorRows.join('\n'));
  const lines = errorRows.map((r) => Number(r.split('\t')[0].replace(/,/g, ''))).sort((a, b) => a - b);
  assert.deepEqual(lines, [...BAD_LINES.keys()].map((k) => k + 1).sort((a, b) => a - b));
  assert.ok(errorRows.some((r) => r.includes('this is not json')), errorRows.join('\n'));
  const serverPoints = (await call(base, 'GET', `/api/v1/data/people/file/${id}`)).progress.length;
  assert.ok(serverPoints >= 2, 'the job\'s progress history: ' + serverPoints + ' points');
  const chartPoints = async () => (await page.locator('#chart polyline.rate').getAttribute('points')).trim().split(/\s+/).length;
  assert.ok(await chartPoints() >= serverPoints, 'the chart draws the job\'s history');
  log(`failing rows and a throughput chart of ${await chartPoints()} points (${serverPoints} in the job's history) shown`);

  // The screenshot: the tables, the imports, a where clause's preview of people and the import's chart.
  await page.fill('#where', '{"city": "Tampere", "score": {"$gte": 90}}');
  await page.click('#run-where');
  await page.locator('#hits-count', { hasText: 'rows match' }).waitFor();
  const previewTotal = Number(await page.locator('#hits-count').getAttribute('data-total'));
  assert.equal(previewTotal, (await call(base, 'POST', '/api/v1/_search',
    { from: 'people', where: { city: 'Tampere', score: { $gte: 90 } }, limit: 0 })).total);
  await page.click('#delete-open');
  await page.locator('#delete-question', { hasText: `Delete ${previewTotal.toLocaleString('en-US')} rows` }).waitFor();
  await select(page, id);
  if (SCREENSHOT) {
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    log('screenshot', SCREENSHOT);
  }
  await page.click('#delete-no');

  // 9. Opened late: after a reload the finished job's chart is its whole history, from the server.
  await page.reload();
  await page.locator(`#imports li[data-id="${id}"][data-phase="Finished"]`).waitFor();
  assert.equal(await page.locator('#key-card').isVisible(), false);
  await select(page, id);
  assert.ok(await chartPoints() >= serverPoints, 'the chart after a reload draws the job\'s whole history');
  log('after a reload, the finished job\'s chart still has', await chartPoints(), 'points');

  // 10. "Forget key" asks again.
  await page.click('#forget-key');
  await page.locator('#key-card').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => localStorage.getItem('sluice.apiKey')), null);

  assert.deepEqual(problems, [], problems.join('\n'));
  log('passed');
}

/** Selects an import in the list and waits for its detail. */
async function select(page, id) {
  await page.locator(`#imports li[data-id="${id}"] button`).click();
  await page.locator('#detail-id', { hasText: id }).waitFor();
  await page.locator('#chart polyline.rate').waitFor();
}

async function cleanup() {
  if (context) await context.close().catch(() => {});
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15000))]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
}

try {
  await main();
  await cleanup();
  rmSync(work, { recursive: true, force: true });
  console.log(`1 passed, 0 failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
} catch (e) {
  console.error(e);
  await cleanup();
  try {
    console.error('--- last lines of the Sluice log (' + join(work, 'sluice.log') + ')');
    console.error(readFileSync(join(work, 'sluice.log'), 'utf8').split('\n').slice(-40).join('\n'));
  } catch (ignored) { /* no log */ }
  console.log('0 passed, 1 failed');
  process.exitCode = 1;
}
