// Sluice dashboard: plain JavaScript, no dependencies, no build step. It polls
//   GET /version, GET /health, GET /api/v1/schema, POST /api/v1/_search {"from": t, "limit": 0},
//   GET /api/v1/data/_imports (every second) and the selected job's GET /api/v1/data/{t}/file/{id} (its
//   throughput history, "progress"), GET /metrics (the store lanes' meters, every 2 s);
// and, when the user asks: browses rows (_search with where, offset, limit), deletes what a where matches
// (_delete, after showing the count), creates a table (PUT /api/v1/schema/{t}) from a schema guessed in the
// browser (infer.js), imports a dropped file (POST …/file, PUT to the signed URL, POST …/file/{id}),
// cancels an import (DELETE …/file/{id}).
// All server data is put on the page with textContent, never parsed as HTML.
(function () {
  'use strict';

  const KEY_STORAGE = 'sluice.apiKey';
  const IMPORTS_EVERY_MS = 1000;
  const TABLES_EVERY_MS = 5000;
  const HEALTH_EVERY_MS = 10000;
  const LANES_EVERY_MS = 2000;
  const PAGE_ROWS = 20;
  /** Bytes of a file read to guess its schema: its first rows are enough. */
  const SAMPLE_BYTES = 4 * 1024 * 1024;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  const numberFormat = new Intl.NumberFormat('en-US');
  const fmt = (n) => (n === null || n === undefined ? '–' : numberFormat.format(n));

  const state = {
    key: null,
    running: false,
    timers: [],
    tables: new Map(),       // name -> {li, rowsEl, colsEl, tbody, schemaKey}
    imports: new Map(),      // id -> {li, button, els...}
    jobs: [],                // last list from the server
    selected: null,          // selected import id
    selectedByUser: false,
    progress: new Map(),     // id -> {points: [{at, rows}], finished} from the job's status
    phases: new Map(),       // id -> last phase seen
    tablesDirty: false,
    schema: {},              // table -> its schema, from the last poll
    browse: null,            // {table, where, offset, total}
    sample: null,            // {file, format} the create form guessed from
  };

  // ---------------------------------------------------------------- HTTP

  class AuthError extends Error {}

  /** An error answer of the API: its status and the message of its JSON body. */
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  /** A write the user asked for: a refused key is reported where they clicked, not by asking for a key again. */
  async function write(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (e) {
      if (e instanceof AuthError) {
        throw new ApiError(403, /read-only/.test(e.message)
          ? 'this key is read-only; connect with the read-write key to change data (' + e.message + ')' : e.message);
      }
      throw e;
    }
  }

  async function api(method, path, body) {
    const headers = { 'x-api-key': state.key };
    const init = { method, headers, cache: 'no-store' };
    if (body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const response = await fetch(path, init);
    let json = null;
    try {
      json = await response.json();
    } catch (e) {
      json = null;
    }
    if (response.status === 403) {
      throw new AuthError((json && json.message) || 'the API key was refused');
    }
    if (!response.ok) {
      throw new ApiError(response.status, (json && json.message) ? json.message
        : method + ' ' + path + ' answered HTTP ' + response.status);
    }
    return json;
  }

  async function plainGet(path) {
    const response = await fetch(path, { cache: 'no-store' });
    return { status: response.status, json: await response.json().catch(() => null) };
  }

  // ---------------------------------------------------------------- key handling

  function showKeyForm(message) {
    stop();
    $('dashboard').hidden = true;
    $('forget-key').hidden = true;
    $('key-card').hidden = false;
    $('key-error').hidden = !message;
    $('key-error').textContent = message || '';
    $('api-key').value = '';
    $('api-key').focus();
  }

  async function connect(key) {
    state.key = key;
    try {
      await api('GET', '/api/v1/schema');
    } catch (e) {
      if (e instanceof AuthError) {
        localStorage.removeItem(KEY_STORAGE);
        showKeyForm('That key was refused: ' + e.message + '.');
        return;
      }
      banner('Cannot reach Sluice: ' + e.message + '. Retrying…');
    }
    localStorage.setItem(KEY_STORAGE, key);
    $('key-card').hidden = true;
    $('dashboard').hidden = false;
    $('forget-key').hidden = false;
    start();
  }

  function start() {
    if (state.running) return;
    state.running = true;
    loop(pollImports, IMPORTS_EVERY_MS);
    loop(pollTables, TABLES_EVERY_MS);
    loop(pollLanes, LANES_EVERY_MS);
  }

  function stop() {
    state.running = false;
    state.timers.forEach(clearTimeout);
    state.timers = [];
  }

  /** Runs fn now and then every ms after it completes (never two at once). */
  function loop(fn, ms) {
    const tick = async () => {
      if (!state.running) return;
      try {
        await fn();
        banner(null);
      } catch (e) {
        if (e instanceof AuthError) {
          localStorage.removeItem(KEY_STORAGE);
          showKeyForm('The server refused the key: ' + e.message + '.');
          return;
        }
        banner('Cannot reach Sluice: ' + e.message + '. Retrying…');
      }
      if (state.running) state.timers.push(setTimeout(tick, ms));
    };
    tick();
  }

  function banner(message) {
    $('banner').hidden = !message;
    $('banner').textContent = message || '';
  }

  // ---------------------------------------------------------------- header

  async function pollHealth() {
    try {
      const version = await plainGet('/version');
      if (version.json && version.json.version) $('version').textContent = 'v' + version.json.version;
      const health = await plainGet('/health');
      const status = (health.json && health.json.status) || 'unknown';
      $('health').dataset.state = health.status === 200 ? 'ok' : 'degraded';
      $('health-text').textContent = health.status === 200 ? 'healthy' : status;
    } catch (e) {
      $('health').dataset.state = 'down';
      $('health-text').textContent = 'unreachable';
    }
    setTimeout(pollHealth, HEALTH_EVERY_MS);
  }

  // ---------------------------------------------------------------- store lanes

  const LANE_METER = /^sluice_lane_(queued|wait_seconds_sum|wait_seconds_count|service_seconds_sum|service_seconds_count)\{[^}]*lane="(\w+)"[^}]*\}\s+(\S+)/;
  // Histogram buckets: the wait for a thread and the queue length a task found (itself included).
  const LANE_BUCKET = /^sluice_lane_(wait_seconds|queue_length)_bucket\{[^}]*lane="(\w+)"[^}]*le="([^"]+)"[^}]*\}\s+(\S+)/;
  const lanesBefore = new Map(); // lane -> {t, meters, buckets} of the previous poll

  /**
   * Queue length now; rate, mean and p99 wait, mean service time and p99 queue length since the previous poll
   * (p99 as the bound of the histogram bucket it falls in). Hidden without /metrics.
   */
  async function pollLanes() {
    const response = await fetch('/metrics', { cache: 'no-store' });
    if (!response.ok) {
      $('lanes-card').hidden = true;
      return;
    }
    const now = Date.now();
    const lanes = new Map();
    const lane = (name) => {
      if (!lanes.has(name)) lanes.set(name, { meters: {}, buckets: { wait_seconds: new Map(), queue_length: new Map() } });
      return lanes.get(name);
    };
    for (const line of (await response.text()).split('\n')) {
      const m = LANE_METER.exec(line);
      if (m) {
        lane(m[2]).meters[m[1]] = Number(m[3]);
        continue;
      }
      const b = LANE_BUCKET.exec(line);
      if (b) lane(b[2]).buckets[b[1]].set(b[3], Number(b[4]));
    }
    $('lanes-card').hidden = lanes.size === 0;
    const tbody = $('lanes');
    tbody.textContent = '';
    for (const name of [...lanes.keys()].sort()) {
      const { meters, buckets } = lanes.get(name);
      const before = lanesBefore.get(name);
      lanesBefore.set(name, { t: now, meters, buckets });
      let rate = null, wait = null, service = null, waitP99 = null, queueP99 = null;
      if (before) {
        const tasks = meters.wait_seconds_count - before.meters.wait_seconds_count;
        const served = meters.service_seconds_count - before.meters.service_seconds_count;
        rate = tasks / ((now - before.t) / 1000);
        wait = tasks > 0 ? (meters.wait_seconds_sum - before.meters.wait_seconds_sum) / tasks * 1000 : 0;
        service = served > 0 ? (meters.service_seconds_sum - before.meters.service_seconds_sum) / served * 1000 : 0;
        waitP99 = p99(buckets.wait_seconds, before.buckets.wait_seconds);
        queueP99 = p99(buckets.queue_length, before.buckets.queue_length);
      }
      const row = el('tr');
      [name, fmt(meters.queued), rate === null ? '–' : fmt(Math.round(rate)), millis(wait),
        waitP99 === null ? '–' : bound(waitP99, (v) => millis(v * 1000)), millis(service),
        queueP99 === null ? '–' : bound(queueP99, fmt)]
        .forEach((value) => row.appendChild(el('td', { textContent: value })));
      tbody.appendChild(row);
    }
  }

  /** The upper bound of the bucket holding the 99th percentile of what was recorded between two polls. */
  function p99(now, before) {
    const bounds = [...now.keys()].sort((a, b) => Number(a) - Number(b)); // "+Inf" sorts last
    const total = (now.get('+Inf') || 0) - (before.get('+Inf') || 0);
    if (!(total > 0)) return undefined;
    for (const le of bounds) {
      if ((now.get(le) || 0) - (before.get(le) || 0) >= 0.99 * total) return Number(le);
    }
    return Infinity;
  }

  function bound(value, format) {
    if (value === undefined) return '–';
    return value === Infinity ? 'over the last bucket' : '≤ ' + format(value);
  }

  function millis(ms) {
    if (ms === null) return '–';
    return (ms < 10 ? ms.toFixed(2) : fmt(Math.round(ms))) + ' ms';
  }

  // ---------------------------------------------------------------- tables

  async function pollTables() {
    state.tablesDirty = false;
    const schema = (await api('GET', '/api/v1/schema')).schema || {};
    state.schema = schema;
    const names = Object.keys(schema).sort();
    const counts = await Promise.all(names.map((name) =>
      api('POST', '/api/v1/_search', { from: name, limit: 0 }).then((r) => r.total, () => null)));
    const list = $('tables');
    for (const [name, view] of state.tables) {
      if (!(name in schema)) {
        view.li.remove();
        state.tables.delete(name);
      }
    }
    let totalRows = 0;
    names.forEach((name, i) => {
      let view = state.tables.get(name);
      if (!view) {
        view = tableView(name);
        state.tables.set(name, view);
      }
      list.appendChild(view.li); // keeps sorted order
      const columns = (schema[name] && schema[name].columns) || {};
      const count = counts[i];
      totalRows += count || 0;
      view.rowsEl.textContent = count === null ? '? rows' : fmt(count) + (count === 1 ? ' row' : ' rows');
      view.li.dataset.rows = count === null ? '' : String(count);
      const columnNames = Object.keys(columns);
      view.colsEl.textContent = columnNames.length + (columnNames.length === 1 ? ' column' : ' columns');
      const schemaKey = JSON.stringify(columns);
      if (schemaKey !== view.schemaKey) {
        view.schemaKey = schemaKey;
        renderColumns(view.tbody, columns);
      }
    });
    if (state.browse && !(state.browse.table in schema)) closeBrowse();
    $('tables-empty').hidden = names.length > 0;
    $('tables-summary').textContent = names.length
      ? names.length + (names.length === 1 ? ' table · ' : ' tables · ') + fmt(totalRows) + ' rows'
      : '';
  }

  function tableView(name) {
    const li = el('li', { className: 'table', dataset: { table: name } });
    const details = el('details');
    const summary = el('summary');
    const nameEl = el('span', { className: 'table-name', textContent: name });
    const colsEl = el('span', { className: 'table-cols' });
    const rowsEl = el('span', { className: 'table-rows' });
    const browse = el('button', { type: 'button', className: 'small-button browse-button', textContent: 'Rows' });
    browse.title = 'Browse, search and delete the rows of ' + name + ', import a file into it';
    browse.addEventListener('click', (event) => {
      event.preventDefault(); // not a click on the summary: the schema stays folded or open
      openBrowse(name);
    });
    summary.append(nameEl, colsEl, rowsEl, browse);
    const table = el('table', { className: 'columns' });
    const head = el('thead');
    const headRow = el('tr');
    ['column', 'type', 'nullable', 'link', 'analyzer'].forEach((h) => headRow.appendChild(el('th', { textContent: h })));
    head.appendChild(headRow);
    const tbody = el('tbody');
    table.append(head, tbody);
    details.append(summary, table);
    li.appendChild(details);
    return { li, rowsEl, colsEl, tbody, schemaKey: null };
  }

  function renderColumns(tbody, columns) {
    tbody.replaceChildren();
    for (const [column, spec] of Object.entries(columns)) {
      const tr = el('tr');
      tr.appendChild(el('td', { textContent: column }));
      const typeCell = el('td');
      typeCell.appendChild(el('span', { className: 'type', textContent: spec.type || '?' }));
      tr.appendChild(typeCell);
      tr.appendChild(el('td', { textContent: spec.nullable ? 'yes' : 'no' }));
      tr.appendChild(el('td', { textContent: spec.link || '' }));
      const analyzer = spec.analyzer === undefined ? '' : typeof spec.analyzer === 'string'
        ? spec.analyzer : JSON.stringify(spec.analyzer);
      tr.appendChild(el('td', { textContent: analyzer }));
      tbody.appendChild(tr);
    }
  }

  // ---------------------------------------------------------------- imports

  async function pollImports() {
    const listing = await api('GET', '/api/v1/data/_imports');
    const jobs = listing.imports || [];
    state.jobs = jobs;
    const list = $('imports');
    const ids = new Set(jobs.map((j) => j.id));
    for (const [id, view] of state.imports) {
      if (!ids.has(id)) {
        view.li.remove();
        state.imports.delete(id);
        state.progress.delete(id);
        state.phases.delete(id);
      }
    }
    let active = 0;
    jobs.forEach((job) => {
      const status = job.status || {};
      const previous = state.phases.get(job.id);
      if (previous !== status.phase) {
        state.phases.set(job.id, status.phase);
        if (previous !== undefined) state.tablesDirty = true; // counts change when a job moves on
      }
      if (!status.finished && status.phase !== 'Initiated' && status.phase !== 'Uploaded') active++;
      let view = state.imports.get(job.id);
      if (!view) {
        view = importView(job);
        state.imports.set(job.id, view);
      }
      list.appendChild(view.li); // newest first, as the server lists them
      renderImport(view, job);
    });
    $('imports-empty').hidden = jobs.length > 0;
    $('imports-summary').textContent = (jobs.length
      ? jobs.length + (jobs.length === 1 ? ' job' : ' jobs') + (active ? ' · ' + active + ' running' : '')
      : '') + (listing.dropped ? ' · ' + listing.dropped + ' older dropped (import.max.history '
        + listing.maxHistory + ')' : '');

    if (!state.selectedByUser || !ids.has(state.selected)) {
      // Follow the newest job that has started, else the newest one.
      const pick = jobs.find((j) => j.status && j.status.startedAt) || jobs[0];
      state.selected = pick ? pick.id : null;
      state.selectedByUser = false;
    }
    await fetchProgress();
    renderDetail();
    if (state.tablesDirty || active > 0) {
      await pollTables();
      if (state.browse && state.browse.offset === 0 && !state.browse.where) await browseRows(false);
    }
  }

  /** The selected job's throughput history (its status's "progress"), fetched until the job has finished. */
  async function fetchProgress() {
    const job = state.jobs.find((j) => j.id === state.selected);
    if (!job || !job.status || !job.status.startedAt) return;
    const known = state.progress.get(job.id);
    if (known && known.finished) return;
    try {
      const status = await api('GET', '/api/v1/data/' + encodeURIComponent(job.table) + '/file/' + encodeURIComponent(job.id));
      state.progress.set(job.id, { points: Array.isArray(status.progress) ? status.progress : [],
        finished: !!(status.status && status.status.finished) });
    } catch (e) {
      if (e instanceof AuthError) throw e;
      // Gone between the listing and now (dropped, or its table renamed): the next poll catches up.
    }
  }

  function importView(job) {
    const li = el('li', { dataset: { id: job.id } });
    const button = el('button', { type: 'button', className: 'import' });
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => select(job.id));
    const line = el('div', { className: 'import-line' });
    const tableEl = el('span', { className: 'import-table', textContent: job.table });
    const phaseEl = el('span', { className: 'phase' });
    const idEl = el('span', { className: 'import-id', textContent: job.id.slice(0, 8), title: job.id });
    const whenEl = el('span', { className: 'import-when' });
    line.append(tableEl, phaseEl, idEl, whenEl);
    const progress = el('div', { className: 'progress' });
    const bar = el('div', { className: 'bar' });
    bar.setAttribute('role', 'progressbar');
    bar.setAttribute('aria-valuemin', '0');
    bar.setAttribute('aria-valuemax', '100');
    const fill = el('div', { className: 'fill' });
    bar.appendChild(fill);
    const pctEl = el('span', { className: 'pct' });
    progress.append(bar, pctEl);
    const stats = el('div', { className: 'import-stats' });
    const completedEl = el('span', { className: 'completed' });
    const failedEl = el('span', { className: 'failed' });
    const throughputEl = el('span', { className: 'throughput' });
    stats.append(completedEl, failedEl, throughputEl);
    const messageEl = el('div', { className: 'import-message' });
    button.append(line, progress, stats, messageEl);
    li.appendChild(button);
    return { li, button, phaseEl, whenEl, bar, fill, pctEl, completedEl, failedEl, throughputEl, messageEl };
  }

  /** 0..1 from the bytes read of the file, 1 when finished; null when unknown (a pull import). */
  function fraction(job) {
    const status = job.status || {};
    if (status.phase === 'Finished') return 1;
    if (job.bytes > 0 && job.bytesRead >= 0) {
      const f = Math.min(1, job.bytesRead / job.bytes);
      return status.finished ? f : Math.min(f, 0.99); // read is not yet stored
    }
    if (status.phase === 'Initiated' || status.phase === 'Uploaded' || status.phase === 'Started') return 0;
    return status.finished ? 1 : null;
  }

  function renderImport(view, job) {
    const status = job.status || {};
    view.li.dataset.phase = status.phase || '';
    view.phaseEl.textContent = status.phase || '?';
    view.phaseEl.dataset.phase = status.phase || '';
    view.whenEl.textContent = when(job);
    const f = fraction(job);
    view.bar.dataset.phase = status.phase || '';
    view.bar.dataset.indeterminate = String(f === null);
    view.fill.style.width = f === null ? '' : (f * 100).toFixed(1) + '%';
    view.pctEl.textContent = status.phase === 'FinishedInError' ? 'failed' : status.phase === 'Cancelled' ? 'cancelled' : f === null ? '' : Math.floor(f * 100) + '%';
    if (f !== null) view.bar.setAttribute('aria-valuenow', String(Math.floor(f * 100)));
    view.completedEl.textContent = fmt(status.completedCount) + ' stored';
    view.failedEl.textContent = status.failedCount ? fmt(status.failedCount) + ' failed' : '';
    view.throughputEl.textContent = status.startedAt ? fmt(status.throughput) + ' rows/s' : '';
    // Why a job ended in error ("import failed: …; Last k failing rows"), without the row summary.
    const message = (status.phase === 'FinishedInError' || status.phase === 'Cancelled') && job.errors && job.errors.message
      ? job.errors.message.replace(/; Last \d+ failing rows$/, '') : '';
    view.messageEl.textContent = message;
    view.messageEl.hidden = !message;
    view.button.setAttribute('aria-pressed', String(job.id === state.selected));
  }

  function when(job) {
    const status = job.status || {};
    if (status.finished && status.totalDuration !== undefined) {
      return 'took ' + duration(status.totalDuration) + ' · ' + clock(status.finishedAt);
    }
    if (status.startedAt) return 'running ' + duration(Date.now() - Date.parse(status.startedAt));
    return 'created ' + clock(job.createdAt);
  }

  function duration(ms) {
    if (ms < 1000) return ms + ' ms';
    const s = ms / 1000;
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    const m = Math.floor(s / 60);
    if (m < 60) return m + ' min ' + Math.round(s - m * 60) + ' s';
    return Math.floor(m / 60) + ' h ' + (m % 60) + ' min';
  }

  function clock(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  // ---------------------------------------------------------------- selected import

  async function select(id) {
    state.selected = id;
    state.selectedByUser = true;
    state.imports.forEach((v, jobId) => v.button.setAttribute('aria-pressed', String(jobId === state.selected)));
    await fetchProgress().catch(() => {});
    renderDetail();
  }

  function renderDetail() {
    const job = state.jobs.find((j) => j.id === state.selected);
    $('detail-card').hidden = !job;
    if (!job) return;
    const status = job.status || {};
    const errors = job.errors || {};
    $('detail-title').textContent = 'Import into ' + job.table;
    $('detail-id').textContent = job.id;
    const facts = [
      ['phase', status.phase],
      ['stored rows', fmt(status.completedCount)],
      ['failed rows', fmt(status.failedCount)],
      ['throughput (avg)', status.startedAt ? fmt(status.throughput) + ' rows/s' : '–'],
      ['file', job.bytes > 0 ? bytes(job.bytesRead) + ' of ' + bytes(job.bytes) + ' read' : (job.bytesRead ? bytes(job.bytesRead) + ' read' : '–')],
      ['started', status.startedAt ? clock(status.startedAt) : '–'],
      ['duration', status.totalDuration !== undefined ? duration(status.totalDuration)
        : status.startedAt ? duration(Date.now() - Date.parse(status.startedAt)) : '–'],
    ];
    const dl = $('detail-facts');
    dl.replaceChildren();
    facts.forEach(([name, value]) => {
      const div = el('div', { dataset: { fact: name } });
      div.append(el('dt', { textContent: name }), el('dd', { textContent: value === undefined ? '–' : value }));
      dl.appendChild(div);
    });
    drawChart(job);
    renderErrors(errors);
    const cancel = $('cancel-import');
    if (cancel.dataset.job !== job.id) disarmCancel();
    cancel.dataset.job = job.id;
    cancel.hidden = !!status.finished;
  }

  function bytes(n) {
    if (!n) return '0 B';
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    const i = Math.min(units.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
    return (n / Math.pow(1024, i)).toFixed(i ? 1 : 0) + ' ' + units[i];
  }

  function renderErrors(errors) {
    const rows = Array.isArray(errors.rows) ? errors.rows : [];
    $('errors-message').textContent = errors.message ? '· ' + errors.message : '';
    $('errors-empty').hidden = rows.length > 0;
    const table = $('errors');
    table.hidden = rows.length === 0;
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    // Newest (highest line) first.
    rows.slice().reverse().forEach((row) => {
      const tr = el('tr');
      tr.append(el('td', { textContent: fmt(row.line) }), el('td', { textContent: row.message || '' }),
        el('td', { textContent: row.row === undefined || row.row === null ? '' : String(row.row) }));
      tbody.appendChild(tr);
    });
  }

  // ---------------------------------------------------------------- chart

  /** Rate (rows/s) between the job's points, smoothed over about three seconds; and the average since its start. */
  function rates(points) {
    const rates = [];
    for (let i = 1; i < points.length; i++) {
      let j = i - 1;
      while (j > 0 && points[i].at - points[j].at < 3000) j--;
      const dt = (points[i].at - points[j].at) / 1000;
      if (dt <= 0) continue;
      const sinceStart = (points[i].at - points[0].at) / 1000;
      rates.push({ t: points[i].at, rate: Math.max(0, (points[i].rows - points[j].rows) / dt),
        avg: sinceStart > 0 ? points[i].rows / sinceStart : 0 });
    }
    return rates;
  }

  /** What the chart says when it has no line to draw yet. */
  function chartWaiting(job) {
    const status = job.status || {};
    if (status.finished && !status.startedAt) return 'It ended before it ran';
    if (status.finished) return 'No throughput history kept for this job — average ' + fmt(status.throughput) + ' rows/s';
    if (status.phase === 'Initiated') return 'Waiting for the file to be uploaded and the import triggered';
    if (status.phase === 'Uploaded') return 'Uploaded; waiting for the import to be triggered';
    if (status.phase === 'Started') return 'Queued behind other imports';
    return 'Running: ' + fmt(status.completedCount) + ' rows stored so far; the rate follows within a second';
  }

  function drawChart(job) {
    const box = $('chart');
    const W = Math.max(320, box.clientWidth - 18), H = 190, L = 56, R = 12, T = 12, B = 26;
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const history = state.progress.get(job.id);
    const samples = history ? history.points : [];
    const points = rates(samples);
    box.dataset.points = String(samples.length);
    if (points.length < 1) {
      const text = chartWaiting(job);
      svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'no-data' }, text));
      svg.setAttribute('aria-label', text);
      box.replaceChildren(svg);
      $('chart-legend').textContent = '';
      return;
    }
    const t0 = samples[0].at;
    const t1 = Math.max(points[points.length - 1].t, t0 + 1000);
    const maxRate = niceMax(Math.max(1, ...points.map((p) => Math.max(p.rate, p.avg))));
    const x = (t) => L + (W - L - R) * (t - t0) / (t1 - t0);
    const y = (v) => T + (H - T - B) * (1 - v / maxRate);
    for (let i = 0; i <= 4; i++) {
      const v = maxRate * i / 4;
      svg.appendChild(svgEl('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), class: 'grid-line' }));
      svg.appendChild(svgEl('text', { x: L - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis-label' }, short(v)));
    }
    const span = (t1 - t0) / 1000;
    for (let i = 0; i <= 4; i++) {
      const t = t0 + (t1 - t0) * i / 4;
      svg.appendChild(svgEl('text', { x: x(t), y: H - 6, 'text-anchor': i === 0 ? 'start' : i === 4 ? 'end' : 'middle', class: 'axis-label' },
        (span * i / 4).toFixed(span < 20 ? 1 : 0) + ' s'));
    }
    const first = { t: t0, rate: points[0].rate, avg: 0 };
    const line = [first].concat(points).map((p) => x(p.t).toFixed(1) + ',' + y(p.rate).toFixed(1));
    svg.appendChild(svgEl('polygon', { class: 'area', points: x(t0) + ',' + y(0) + ' ' + line.join(' ') + ' ' + x(points[points.length - 1].t) + ',' + y(0) }));
    svg.appendChild(svgEl('polyline', { class: 'avg', points: points.map((p) => x(p.t).toFixed(1) + ',' + y(p.avg).toFixed(1)).join(' ') }));
    svg.appendChild(svgEl('polyline', { class: 'rate', points: line.join(' ') }));
    const last = points[points.length - 1];
    svg.setAttribute('aria-label', 'throughput over ' + span.toFixed(0) + ' s, last ' + Math.round(last.rate) + ' rows/s');
    box.replaceChildren(svg);
    const legend = $('chart-legend');
    legend.replaceChildren(el('span', { className: 'legend-swatch' }), text('rows/s (from the job\'s history on the server)'),
      el('span', { className: 'legend-swatch avg' }), text('average since start'));
  }

  function niceMax(v) {
    const p = Math.pow(10, Math.floor(Math.log10(v)));
    for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
    return 10 * p;
  }

  function short(v) {
    if (v >= 1e6) return (v / 1e6).toFixed(v % 1e6 ? 1 : 0) + 'M';
    if (v >= 1e3) return (v / 1e3).toFixed(v % 1e3 ? 1 : 0) + 'k';
    return String(Math.round(v));
  }

  // ---------------------------------------------------------------- rows of a table: browse, where, delete

  function openBrowse(table) {
    state.browse = { table, where: null, offset: 0, total: null };
    $('browse-card').hidden = false;
    $('browse-title').textContent = 'Rows of ' + table;
    $('import-table').textContent = table;
    $('where').value = '';
    $('import-format').value = 'auto';
    hideMessages('where-error', 'delete-result', 'import-error');
    $('delete-confirm').hidden = true;
    state.tables.forEach((view, name) => view.li.classList.toggle('browsing', name === table));
    browseRows(true);
    $('browse-card').scrollIntoView({ block: 'nearest' });
  }

  function closeBrowse() {
    state.browse = null;
    $('browse-card').hidden = true;
    state.tables.forEach((view) => view.li.classList.remove('browsing'));
  }

  /** The where box's clause: null when empty; throws when it is not a JSON object. */
  function whereClause() {
    const text = $('where').value.trim();
    if (!text) return null;
    let where;
    try {
      where = JSON.parse(text);
    } catch (e) {
      throw new Error('The where clause is not JSON: ' + e.message);
    }
    if (where === null || typeof where !== 'object' || Array.isArray(where)) {
      throw new Error('The where clause must be a JSON object, like {"city": "Oulu"}');
    }
    return where;
  }

  /** One page of the table's rows matching the where clause; with fromBox, the clause is read from the box. */
  async function browseRows(fromBox) {
    const browse = state.browse;
    if (!browse) return;
    if (fromBox) {
      try {
        browse.where = whereClause();
      } catch (e) {
        showMessage('where-error', e.message);
        return;
      }
      browse.offset = 0;
    }
    const query = { from: browse.table, offset: browse.offset, limit: PAGE_ROWS };
    if (browse.where) query.where = browse.where;
    let result;
    try {
      result = await api('POST', '/api/v1/_search', query);
    } catch (e) {
      if (e instanceof AuthError) throw e;
      showMessage('where-error', 'Search refused (' + (e.status || 'no answer') + '): ' + e.message);
      return;
    }
    if (state.browse !== browse) return;
    hideMessages('where-error');
    browse.total = result.total;
    renderRows(browse, result.hits || []);
  }

  function renderRows(browse, hits) {
    const columns = Object.keys(((state.schema[browse.table] || {}).columns) || {});
    // Fields a row has beyond the schema's (there should be none) still show.
    hits.forEach((row) => Object.keys(row).forEach((k) => { if (!columns.includes(k)) columns.push(k); }));
    $('browse-columns').textContent = columns.length + (columns.length === 1 ? ' column' : ' columns');
    const table = $('rows');
    const headRow = el('tr');
    columns.forEach((c) => headRow.appendChild(el('th', { textContent: c })));
    table.tHead.replaceChildren(headRow);
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    hits.forEach((row) => {
      const tr = el('tr');
      columns.forEach((c) => {
        const value = row[c];
        const td = el('td', { textContent: value === undefined || value === null ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value) });
        if (value === undefined || value === null) td.className = 'null';
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    const total = browse.total;
    const count = $('hits-count');
    count.dataset.total = String(total);
    count.textContent = browse.where
      ? fmt(total) + (total === 1 ? ' row matches' : ' rows match')
      : fmt(total) + (total === 1 ? ' row' : ' rows');
    $('page-info').textContent = total === 0 ? '' : fmt(browse.offset + 1) + '–' + fmt(browse.offset + hits.length) + ' of ' + fmt(total);
    $('page-prev').disabled = browse.offset === 0;
    $('page-next').disabled = browse.offset + hits.length >= total;
  }

  /** Counts what the clause matches now, then asks before deleting it. */
  async function askDelete() {
    const browse = state.browse;
    if (!browse) return;
    hideMessages('delete-result');
    let where;
    try {
      where = whereClause();
    } catch (e) {
      showMessage('where-error', e.message);
      return;
    }
    const query = { from: browse.table, limit: 0 };
    if (where) query.where = where;
    let total;
    try {
      total = (await api('POST', '/api/v1/_search', query)).total;
    } catch (e) {
      if (e instanceof AuthError) throw e;
      showMessage('where-error', 'Search refused (' + (e.status || 'no answer') + '): ' + e.message);
      return;
    }
    hideMessages('where-error');
    browse.pendingDelete = { where, total };
    $('delete-question').textContent = total === 0
      ? 'No row of ' + browse.table + ' matches ' + (where ? JSON.stringify(where) : '') + ': nothing to delete.'
      : 'Delete ' + (where ? fmt(total) + (total === 1 ? ' row' : ' rows') + ' of ' + browse.table + ' matching '
        + JSON.stringify(where) : 'ALL ' + fmt(total) + ' rows of ' + browse.table) + '? This cannot be undone.';
    $('delete-yes').hidden = total === 0;
    $('delete-confirm').hidden = false;
    $('delete-confirm').dataset.total = String(total);
    (total === 0 ? $('delete-no') : $('delete-yes')).focus();
  }

  async function confirmDelete() {
    const browse = state.browse;
    const pending = browse && browse.pendingDelete;
    $('delete-confirm').hidden = true;
    if (!pending) return;
    browse.pendingDelete = null;
    const body = { from: browse.table };
    if (pending.where) body.where = pending.where;
    try {
      const result = await write('POST', '/api/v1/data/_delete', body);
      $('delete-result').dataset.deleted = String(result.total);
      showMessage('delete-result', 'Deleted ' + fmt(result.total) + (result.total === 1 ? ' row' : ' rows') + ' of '
        + browse.table + '.');
    } catch (e) {
      showMessage('where-error', 'Delete refused (' + (e.status || 'no answer') + '): ' + e.message);
      return;
    }
    await browseRows(false);
    await pollTables().catch(() => {});
  }

  // ---------------------------------------------------------------- import a file

  /**
   * docs/api.md §3 from the browser: initiate, PUT the file to the signed URL (on this origin, with upload
   * progress), trigger; the job is then selected and followed in Imports.
   */
  async function importFile(table, file, format) {
    hideMessages('import-error');
    const upload = $('upload');
    upload.hidden = false;
    setUpload(0, 'Starting an import of ' + file.name + ' (' + bytes(file.size) + ') into ' + table + '…');
    try {
      const initiated = await write('POST', '/api/v1/data/' + encodeURIComponent(table) + '/file',
        format && format !== 'auto' ? { format } : {});
      const target = new URL(initiated.url, location.href); // the same origin, whatever host the server named
      await put(target.pathname + target.search, file);
      setUpload(1, 'Uploaded ' + bytes(file.size) + '; triggering the import…');
      await write('POST', '/api/v1/data/' + encodeURIComponent(table) + '/file/' + encodeURIComponent(initiated.id), {});
      setUpload(1, 'Uploaded ' + file.name + ' (' + bytes(file.size) + '); import ' + initiated.id.slice(0, 8) + ' started, followed below.');
      upload.dataset.id = initiated.id;
      state.selected = initiated.id;
      state.selectedByUser = true;
      await pollImports().catch(() => {});
      return initiated.id;
    } catch (e) {
      upload.hidden = true;
      showMessage('import-error', 'Import of ' + file.name + ' failed (' + (e.status || 'no answer') + '): ' + e.message);
      return null;
    }
  }

  function setUpload(f, message) {
    $('upload-fill').style.width = (f * 100).toFixed(1) + '%';
    $('upload-bar').setAttribute('aria-valuenow', String(Math.floor(f * 100)));
    $('upload-pct').textContent = Math.floor(f * 100) + '%';
    $('upload-text').textContent = message;
  }

  /** PUT with XMLHttpRequest, the one browser API that reports upload progress. */
  function put(url, file) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const started = Date.now();
      xhr.open('PUT', url);
      xhr.upload.onprogress = (event) => {
        if (!event.lengthComputable) return;
        const seconds = (Date.now() - started) / 1000;
        const rate = seconds > 0.2 ? ' · ' + bytes(event.loaded / seconds) + '/s' : '';
        setUpload(event.loaded / event.total, 'Uploading ' + file.name + ': ' + bytes(event.loaded) + ' of '
          + bytes(event.total) + rate);
      };
      xhr.onload = () => {
        let json = null;
        try {
          json = JSON.parse(xhr.responseText);
        } catch (e) {
          json = null;
        }
        if (xhr.status === 200) resolve(json);
        else reject(new ApiError(xhr.status, (json && json.message) || 'the upload answered HTTP ' + xhr.status));
      };
      xhr.onerror = () => reject(new ApiError(0, 'the upload was cut off'));
      xhr.send(file);
    });
  }

  // ---------------------------------------------------------------- create a table from a sample

  function openCreate() {
    $('create-card').hidden = false;
    hideMessages('create-error', 'create-result');
    $('create-card').scrollIntoView({ block: 'nearest' });
    $('create-name').focus();
  }

  /** Up to SAMPLE_BYTES of the file's text, gunzipped in the browser when it is gzip; complete if that is all. */
  async function readSample(file) {
    const head = new Uint8Array(await file.slice(0, 2).arrayBuffer());
    const gzip = head.length === 2 && head[0] === 0x1f && head[1] === 0x8b;
    if (!gzip) {
      const text = await file.slice(0, SAMPLE_BYTES).text();
      return { text, complete: file.size <= SAMPLE_BYTES, gzip };
    }
    const reader = file.stream().pipeThrough(new DecompressionStream('gzip')).pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    let complete = false;
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) {
          complete = true;
          break;
        }
        text += value;
        if (text.length >= SAMPLE_BYTES) break;
      }
    } catch (e) {
      if (!text) throw new Error('the file is not readable gzip: ' + e.message);
    } finally {
      reader.cancel().catch(() => {});
    }
    return { text, complete, gzip };
  }

  async function inferFrom(file) {
    openCreate();
    hideMessages('create-error', 'create-result');
    state.sample = { file };
    if (!$('create-name').value.trim()) {
      $('create-name').value = file.name.replace(/\.gz$/i, '').replace(/\.[^.]*$/, '').replace(/[^A-Za-z0-9_]/g, '_');
    }
    $('infer-info').textContent = 'Reading ' + file.name + '…';
    $('infer-warnings').replaceChildren();
    try {
      const sample = await readSample(file);
      const format = $('sample-format').value;
      const guess = SluiceInfer.inferSchema(sample.text, { format, complete: sample.complete });
      state.sample.format = guess.format;
      $('schema-json').value = schemaText(guess.schema);
      $('infer-info').textContent = 'Guessed from ' + fmt(guess.rows) + (guess.rows === 1 ? ' row' : ' rows') + ' of '
        + file.name + ' (' + guess.format + (sample.gzip ? ', gzip' : '') + (sample.complete ? '' : ', its first '
        + bytes(SAMPLE_BYTES)) + '). Check it, edit it, then create the table.';
      $('infer-warnings').replaceChildren(...guess.warnings.map((w) => el('li', { textContent: w })));
      $('create-import').disabled = false;
      $('create-import').checked = true;
    } catch (e) {
      state.sample = null;
      $('create-import').disabled = true;
      $('create-import').checked = false;
      $('infer-info').textContent = '';
      showMessage('create-error', 'Cannot guess a schema from ' + file.name + ': ' + e.message);
    }
  }

  /** A table schema with one column a line: short enough to read and edit at a glance. */
  function schemaText(schema) {
    const columns = Object.entries(schema.columns).map(([name, spec]) => '    ' + JSON.stringify(name) + ': '
      + JSON.stringify(spec).replace(/":/g, '": ').replace(/,"/g, ', "'));
    return '{\n  "type": "table",\n  "columns": {\n' + columns.join(',\n') + '\n  }\n}';
  }

  async function createTable() {
    hideMessages('create-error', 'create-result');
    const name = $('create-name').value.trim();
    if (!name) {
      showMessage('create-error', 'Name the table first.');
      return;
    }
    let schema;
    try {
      schema = JSON.parse($('schema-json').value);
    } catch (e) {
      showMessage('create-error', 'The schema is not JSON: ' + e.message);
      return;
    }
    const button = $('create-submit');
    button.disabled = true;
    try {
      await write('PUT', '/api/v1/schema/' + encodeURIComponent(name), schema);
    } catch (e) {
      showMessage('create-error', 'Table ' + name + ' was not created (' + (e.status || 'no answer') + '): ' + e.message);
      return;
    } finally {
      button.disabled = false;
    }
    showMessage('create-result', 'Created table ' + name + '.');
    await pollTables().catch(() => {});
    openBrowse(name);
    const sample = state.sample;
    if ($('create-import').checked && sample) {
      $('create-import').checked = false;
      $('create-import').disabled = true;
      state.sample = null;
      await importFile(name, sample.file, sample.format);
    }
  }

  // ---------------------------------------------------------------- cancel an import

  /** The first click arms the button, the second cancels: a stray click stops no import. */
  async function cancelSelected() {
    const job = state.jobs.find((j) => j.id === state.selected);
    if (!job) return;
    const button = $('cancel-import');
    if (button.dataset.armed !== 'true') {
      button.dataset.armed = 'true';
      button.textContent = 'Really cancel? Rows committed so far stay';
      state.disarm = setTimeout(disarmCancel, 6000);
      return;
    }
    disarmCancel();
    hideMessages('cancel-error');
    try {
      await write('DELETE', '/api/v1/data/' + encodeURIComponent(job.table) + '/file/' + encodeURIComponent(job.id));
    } catch (e) {
      showMessage('cancel-error', 'Cancel refused (' + (e.status || 'no answer') + '): ' + e.message);
    }
    await pollImports().catch(() => {});
  }

  function disarmCancel() {
    clearTimeout(state.disarm);
    const button = $('cancel-import');
    button.dataset.armed = 'false';
    button.textContent = 'Cancel import';
  }

  // ---------------------------------------------------------------- files dropped on the page

  /** A file dropped on a zone goes there; dropped elsewhere, it is imported into the open table, else guessed from. */
  function setUpDrops() {
    const zones = [$('sample-zone'), $('import-zone')];
    document.addEventListener('dragover', (event) => {
      event.preventDefault(); // else the browser opens the file in place of the dashboard
      document.body.classList.add('dragging');
    });
    document.addEventListener('dragleave', (event) => {
      if (!event.relatedTarget) document.body.classList.remove('dragging');
    });
    document.addEventListener('drop', (event) => {
      event.preventDefault();
      document.body.classList.remove('dragging');
      const file = event.dataTransfer && event.dataTransfer.files[0];
      if (!file || $('dashboard').hidden) return;
      const zone = zones.find((z) => z.contains(event.target));
      if (zone === $('sample-zone') || (!zone && !state.browse)) inferFrom(file);
      else importFile(state.browse.table, file, $('import-format').value);
    });
    $('sample-file').addEventListener('change', () => {
      if ($('sample-file').files[0]) inferFrom($('sample-file').files[0]);
      $('sample-file').value = '';
    });
    $('import-file').addEventListener('change', () => {
      const file = $('import-file').files[0];
      if (file && state.browse) importFile(state.browse.table, file, $('import-format').value);
      $('import-file').value = '';
    });
  }

  function showMessage(id, message) {
    $(id).textContent = message;
    $(id).hidden = false;
  }

  function hideMessages(...ids) {
    ids.forEach((id) => {
      $(id).hidden = true;
      $(id).textContent = '';
    });
  }

  // ---------------------------------------------------------------- DOM helpers

  function el(tag, props) {
    const node = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (k === 'dataset') Object.assign(node.dataset, v);
        else node[k] = v;
      }
    }
    return node;
  }

  function text(s) {
    return document.createTextNode(s);
  }

  function svgEl(tag, attrs, content) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, String(v));
    if (content !== undefined) node.textContent = content;
    return node;
  }

  // ---------------------------------------------------------------- start

  $('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('api-key').value.trim();
    if (key) connect(key);
  });
  $('forget-key').addEventListener('click', () => {
    localStorage.removeItem(KEY_STORAGE);
    state.key = null;
    showKeyForm(null);
  });

  $('new-table').addEventListener('click', openCreate);
  $('create-cancel').addEventListener('click', () => { $('create-card').hidden = true; });
  $('create-submit').addEventListener('click', createTable);
  $('sample-format').addEventListener('change', () => { if (state.sample) inferFrom(state.sample.file); });
  $('browse-close').addEventListener('click', closeBrowse);
  $('where-form').addEventListener('submit', (event) => {
    event.preventDefault();
    $('delete-confirm').hidden = true;
    browseRows(true);
  });
  $('delete-open').addEventListener('click', askDelete);
  $('delete-yes').addEventListener('click', confirmDelete);
  $('delete-no').addEventListener('click', () => { $('delete-confirm').hidden = true; });
  $('page-prev').addEventListener('click', () => {
    if (!state.browse) return;
    state.browse.offset = Math.max(0, state.browse.offset - PAGE_ROWS);
    browseRows(false);
  });
  $('page-next').addEventListener('click', () => {
    if (!state.browse) return;
    state.browse.offset += PAGE_ROWS;
    browseRows(false);
  });
  $('cancel-import').addEventListener('click', cancelSelected);
  setUpDrops();

  pollHealth();
  const saved = localStorage.getItem(KEY_STORAGE);
  if (saved) connect(saved);
  else showKeyForm(null);
})();
