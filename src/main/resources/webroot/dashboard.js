// Sluice dashboard: plain JavaScript, no dependencies, no build step. It only reads:
//   GET /version, GET /health, GET /api/v1/schema, POST /api/v1/_search {"from": t, "limit": 0},
//   GET /api/v1/data/_imports (polled every second), GET /metrics (the store lanes' meters, every 2 s).
// All server data is put on the page with textContent, never parsed as HTML.
(function () {
  'use strict';

  const KEY_STORAGE = 'sluice.apiKey';
  const IMPORTS_EVERY_MS = 1000;
  const TABLES_EVERY_MS = 5000;
  const HEALTH_EVERY_MS = 10000;
  const LANES_EVERY_MS = 2000;
  const MAX_SAMPLES = 600;
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
    samples: new Map(),      // id -> [{t, completed, avg}]
    phases: new Map(),       // id -> last phase seen
    tablesDirty: false,
  };

  // ---------------------------------------------------------------- HTTP

  class AuthError extends Error {}

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
      throw new Error(method + ' ' + path + ' → ' + response.status + ((json && json.message) ? ': ' + json.message : ''));
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
  const lanesBefore = new Map(); // lane -> {t, meters} of the previous poll

  /** Queue length now; rate, mean wait and mean service time since the previous poll. Hidden without /metrics. */
  async function pollLanes() {
    const response = await fetch('/metrics', { cache: 'no-store' });
    if (!response.ok) {
      $('lanes-card').hidden = true;
      return;
    }
    const now = Date.now();
    const lanes = new Map();
    for (const line of (await response.text()).split('\n')) {
      const m = LANE_METER.exec(line);
      if (!m) continue;
      if (!lanes.has(m[2])) lanes.set(m[2], {});
      lanes.get(m[2])[m[1]] = Number(m[3]);
    }
    $('lanes-card').hidden = lanes.size === 0;
    const tbody = $('lanes');
    tbody.textContent = '';
    for (const name of [...lanes.keys()].sort()) {
      const meters = lanes.get(name);
      const before = lanesBefore.get(name);
      lanesBefore.set(name, { t: now, meters });
      let rate = null, wait = null, service = null;
      if (before) {
        const tasks = meters.wait_seconds_count - before.meters.wait_seconds_count;
        const served = meters.service_seconds_count - before.meters.service_seconds_count;
        rate = tasks / ((now - before.t) / 1000);
        wait = tasks > 0 ? (meters.wait_seconds_sum - before.meters.wait_seconds_sum) / tasks * 1000 : 0;
        service = served > 0 ? (meters.service_seconds_sum - before.meters.service_seconds_sum) / served * 1000 : 0;
      }
      const row = el('tr');
      [name, fmt(meters.queued), rate === null ? '–' : fmt(Math.round(rate)), millis(wait), millis(service)]
        .forEach((value) => row.appendChild(el('td', { textContent: value })));
      tbody.appendChild(row);
    }
  }

  function millis(ms) {
    if (ms === null) return '–';
    return (ms < 10 ? ms.toFixed(2) : fmt(Math.round(ms))) + ' ms';
  }

  // ---------------------------------------------------------------- tables

  async function pollTables() {
    state.tablesDirty = false;
    const schema = (await api('GET', '/api/v1/schema')).schema || {};
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
    summary.append(nameEl, colsEl, rowsEl);
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
    const now = Date.now();
    state.jobs = jobs;
    const list = $('imports');
    const ids = new Set(jobs.map((j) => j.id));
    for (const [id, view] of state.imports) {
      if (!ids.has(id)) {
        view.li.remove();
        state.imports.delete(id);
        state.samples.delete(id);
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
      record(job, now);
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
    renderDetail();
    if (state.tablesDirty || active > 0) {
      await pollTables();
    }
  }

  /** Samples of completedCount over time, to plot the rate the page saw (and the server's average). */
  function record(job, now) {
    const status = job.status || {};
    let samples = state.samples.get(job.id);
    if (!samples) {
      samples = [];
      state.samples.set(job.id, samples);
    }
    const last = samples[samples.length - 1];
    const watching = status.phase === 'Running' || status.phase === 'Started';
    const justFinished = status.finished && last && !last.finished;
    if (!watching && !justFinished) return;
    const started = Date.parse(status.startedAt);
    if (samples.length === 0 && started <= now && now - started < 10000) {
      // A job that started just now: its start is the first point, so the first interval has a rate too.
      samples.push({ t: started, completed: 0, avg: 0, finished: false });
    }
    samples.push({ t: now, completed: status.completedCount || 0, avg: status.throughput || 0, finished: !!status.finished });
    if (samples.length > MAX_SAMPLES) samples.splice(1, samples.length - MAX_SAMPLES);
  }

  function importView(job) {
    const li = el('li', { dataset: { id: job.id } });
    const button = el('button', { type: 'button', className: 'import' });
    button.setAttribute('aria-pressed', 'false');
    button.addEventListener('click', () => {
      state.selected = job.id;
      state.selectedByUser = true;
      renderDetail();
      state.imports.forEach((v, id) => v.button.setAttribute('aria-pressed', String(id === state.selected)));
    });
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
    view.pctEl.textContent = status.phase === 'FinishedInError' ? 'failed' : f === null ? '' : Math.floor(f * 100) + '%';
    if (f !== null) view.bar.setAttribute('aria-valuenow', String(Math.floor(f * 100)));
    view.completedEl.textContent = fmt(status.completedCount) + ' stored';
    view.failedEl.textContent = status.failedCount ? fmt(status.failedCount) + ' failed' : '';
    view.throughputEl.textContent = status.startedAt ? fmt(status.throughput) + ' rows/s' : '';
    // Why a job ended in error ("import failed: …; Last k failing rows"), without the row summary.
    const message = status.phase === 'FinishedInError' && job.errors && job.errors.message
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

  /** Rate (rows/s) between samples, smoothed over about three seconds. */
  function rates(samples) {
    const points = [];
    for (let i = 1; i < samples.length; i++) {
      let j = i - 1;
      while (j > 0 && samples[i].t - samples[j].t < 3000) j--;
      const dt = (samples[i].t - samples[j].t) / 1000;
      if (dt <= 0) continue;
      points.push({ t: samples[i].t, rate: Math.max(0, (samples[i].completed - samples[j].completed) / dt), avg: samples[i].avg });
    }
    return points;
  }

  function drawChart(job) {
    const box = $('chart');
    const W = Math.max(320, box.clientWidth - 18), H = 190, L = 56, R = 12, T = 12, B = 26;
    const svg = svgEl('svg', { viewBox: '0 0 ' + W + ' ' + H, role: 'img' });
    const samples = state.samples.get(job.id) || [];
    const points = rates(samples);
    const status = job.status || {};
    if (points.length < 1) {
      const text = status.finished
        ? 'Not watched while running — average ' + fmt(status.throughput) + ' rows/s'
        : 'Waiting for the job to run…';
      svg.appendChild(svgEl('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'no-data' }, text));
      svg.setAttribute('aria-label', text);
      box.replaceChildren(svg);
      $('chart-legend').textContent = '';
      return;
    }
    const t0 = samples[0].t;
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
    legend.replaceChildren(el('span', { className: 'legend-swatch' }), text('rows/s (as seen by this page)'),
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

  pollHealth();
  const saved = localStorage.getItem(KEY_STORAGE);
  if (saved) connect(saved);
  else showKeyForm(null);
})();
