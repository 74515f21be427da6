// Browser test of the Sluice dashboard: a real Sluice jar, Debian's Chromium, Playwright (playwright-core only,
// no downloaded browser). Run it through run.sh. Environment:
//   SLUICE_JAR   the jar to start (default: target/sluice.jar of the project)
//   CHROMIUM     the browser (default: /usr/bin/chromium)
//   ROWS         rows of the generated import (default: 100000)
//   SCREENSHOT   where to save the screenshot (default: docs/dashboard.png of the project; "" for none)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, createWriteStream, readFileSync } from 'node:fs';
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
const ROWS = Number(process.env.ROWS || 100000);
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

/** Starts the jar on a free port (port 0, read back from its log) with a fresh data dir and known keys. */
async function startServer() {
  const out = createWriteStream(join(work, 'sluice.log'));
  const child = spawn('java', ['-jar', JAR], {
    cwd: work, // no conf/sluice.json here: defaults plus the environment below
    env: { ...process.env, SLUICE_HTTP_HOST: '127.0.0.1', SLUICE_HTTP_PORT: '0', SLUICE_DATA_DIR: join(work, 'data'),
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

async function main() {
  const sluice = await startServer();
  server = sluice.child;
  const base = sluice.base;
  log('Sluice at', base);

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
    // A refused key is answered 403 on purpose below; the browser logs that request as an error.
    if (m.type() === 'error' && !/status of 403/.test(m.text())) problems.push('console: ' + m.text());
  });
  page.on('request', (r) => {
    if (!r.url().startsWith(base + '/')) problems.push('request outside Sluice: ' + r.url());
  });
  log('browser', context.browser()?.version() ?? '(persistent context)');

  // 1. The page asks for a key; a wrong one is refused, the read-only one is enough.
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
  await people.locator('summary').click();
  const columns = await people.locator('table.columns tbody tr').allInnerTexts();
  assert.equal(columns.length, 7, columns.join(' | '));

  // The store lanes' meters, from /metrics: one row per lane, rates once two polls were taken.
  await page.locator('#lanes tr').nth(1).waitFor();
  assert.deepEqual(await page.locator('#lanes tr td:first-child').allInnerTexts(), ['read', 'write']);
  await page.locator('#lanes tr td:nth-child(3)').filter({ hasNotText: '–' }).first().waitFor();
  assert.ok(columns.some((c) => /bio\s+Text\s+no\s+english/.test(c)), columns.join(' | '));
  assert.ok(columns.some((c) => /manager\s+Int\s+yes/.test(c)), columns.join(' | '));
  log('tables and schemas shown');

  // 3. A failing import first (not gzip, not NDJSON): the page shows it ended in error.
  const brokenId = await startImport(base, 'events', Buffer.from('PK\u0003\u0004 a zip file is not NDJSON'));
  const broken = page.locator(`#imports li[data-id="${brokenId}"]`);
  await broken.and(page.locator('[data-phase="FinishedInError"]')).waitFor({ timeout: 30000 });
  assert.match(await broken.locator('.import-message').innerText(), /import failed: .*not gzip/);
  assert.equal(await broken.locator('.pct').innerText(), 'failed');
  log('failed import shown as FinishedInError');

  // 4. The real import: a generated gzip NDJSON file with three bad lines.
  const gz = gzipSync(Buffer.from(ndjson(25, ROWS, new Map([...BAD_LINES].map(([line, text]) => [line + 25, text])))));
  log(`generated ${ROWS} rows, ${(gz.length / 1048576).toFixed(1)} MiB gzip`);
  const importStarted = Date.now();
  const id = await startImport(base, 'people', gz);
  log('import', id, 'triggered');
  const job = page.locator(`#imports li[data-id="${id}"]`);
  await job.waitFor({ timeout: 10000 });

  // Watch it: every phase and progress value the page shows, until Finished.
  const seen = [];
  for (;;) {
    const phase = await job.getAttribute('data-phase');
    const pct = await job.locator('.pct').innerText();
    const stored = await job.locator('.completed').innerText();
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
  // An import that takes seconds must have been shown running, with progress moving; a very fast one may
  // go from Started to Finished between two polls of the page.
  if (tookMs > 4000) {
    assert.ok(runningShown >= 2, 'the page did not show the job Running and progressing: ' + JSON.stringify(seen));
  } else {
    log(`note: the import took only ${tookMs} ms; raise ROWS to watch it run`);
  }
  log(`Finished shown ${(tookMs / 1000).toFixed(1)} s after the trigger`);

  // The row count follows, the job is selected, its failing rows and throughput chart are shown.
  await people.locator('.table-rows', { hasText: (25 + good).toLocaleString('en-US') + ' rows' }).waitFor({ timeout: 15000 });
  await job.locator('button').click();
  await page.locator('#detail-id', { hasText: id }).waitFor();
  const errorRows = await page.locator('#errors tbody tr').allInnerTexts();
  assert.equal(errorRows.length, BAD_LINES.size, errorRows.join('\n'));
  const lines = errorRows.map((r) => Number(r.split('\t')[0].replace(/,/g, ''))).sort((a, b) => a - b);
  assert.deepEqual(lines, [...BAD_LINES.keys()].map((k) => k + 1).sort((a, b) => a - b));
  assert.ok(errorRows.some((r) => r.includes('this is not json')), errorRows.join('\n'));
  if (tookMs > 4000) {
    const chartPoints = await page.locator('#chart polyline.rate').getAttribute('points');
    assert.ok(chartPoints && chartPoints.trim().split(/\s+/).length >= 3, 'throughput chart: ' + chartPoints);
    log(`failing rows and a throughput chart of ${chartPoints.trim().split(/\s+/).length} points shown`);
  }

  if (SCREENSHOT) {
    await page.mouse.move(0, 0);
    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    log('screenshot', SCREENSHOT);
  }

  // 5. The key is remembered across a reload; "Forget key" asks again.
  await page.reload();
  await page.locator(`#imports li[data-id="${id}"][data-phase="Finished"]`).waitFor();
  assert.equal(await page.locator('#key-card').isVisible(), false);
  await page.click('#forget-key');
  await page.locator('#key-card').waitFor({ state: 'visible' });
  assert.equal(await page.evaluate(() => localStorage.getItem('sluice.apiKey')), null);

  assert.deepEqual(problems, [], problems.join('\n'));
  log('passed');
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
