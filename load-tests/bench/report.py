#!/usr/bin/env python3
"""Merges the measurements of one bench.sh run into one table (stdout) and one JSON file.

Usage: report.py RUN_DIR OUT.json
RUN_DIR holds the pieces bench.sh wrote: machine.json, ceiling.json, store.json, import.json, batch1.json, batch4.json,
pg.json, pg-import.json, pg-batch4.json (Sluice on the PostgreSQL engine), scaling.json, clusterN-import.json,
clusterN-import-warm.json, clusterN-batch4.json (--cluster, N nodes; each optional except machine.json). Standard
library only.
"""
import json
import os
import sys

run_dir, out_path = sys.argv[1], sys.argv[2]


def load(name):
    path = os.path.join(run_dir, name)
    if not os.path.exists(path):
        return None
    with open(path) as f:
        text = f.read().strip()
    return json.loads(text) if text else None


machine = load("machine.json") or {}
ceiling = load("ceiling.json")
store = load("store.json")
imp = load("import.json")
imp_capped = load("import256.json")
imp_warm = load("import-warm.json")
batch1 = load("batch1.json")
batch4 = load("batch4.json")
pg = load("pg.json")
pg_imp = load("pg-import.json")
pg_batch4 = load("pg-batch4.json")
scaling = load("scaling.json")
mixed = load("mixed.json")
mixed_base = load("mixed-base.json")
mixed_pg = load("mixed-pg.json")
mixed_peer = load("mixed-peer.json")
# BENCH_BASELINE_JAR: the same measurements on another build, each run just before this build's
imp_base = load("import-base.json")
batch4_base = load("lucene-batch4-base.json")
pg_imp_base = load("pg-import-base.json")
pg_batch4_base = load("pg-batch4-base.json")
mixed_pg_base = load("mixed-pg-base.json")

rows = machine.get("rows", 0)
raw_bytes = machine.get("ndjsonBytes", 0)
gz_bytes = machine.get("gzipBytes", 0)


def n(v):
    return "" if v is None else f"{v:,.0f}"


def mb(v):
    return "" if v is None else f"{v:,.1f}"


def ms(v):
    return "" if v is None else f"{v:,.0f}"


def ratio(a, b):
    if a is None or not b:
        return None
    return a / b


def mbps(rows_per_sec):
    if rows_per_sec is None or not rows:
        return None
    return rows_per_sec * raw_bytes / rows / 1e6


def check(value, ok, text):
    if value is None:
        return text
    return f"{text}: {'met' if ok(value) else 'missed'}"


table = []  # (measurement, rows/s or ratio, MB/s, p50, p99, memory, target, notes)

if ceiling:
    table.append(("ceiling: gunzip + line split + Jackson parse + validation, 1 thread, warm",
                  n(ceiling["rowsPerSec"]), mb(ceiling["mbPerSec"]), "", "", "", "",
                  f"median of {len(ceiling['passes'])} passes (best {n(ceiling['rowsPerSecBest'])}); "
                  "Sluice's own StreamingGunzip, LineSplitter, LineBatchParser"))
else:
    table.append(("ceiling", "not run", "", "", "", "", "", ""))

if store:
    first, steady = store["first"], store["steady"]
    table.append((f"Sluice store alone, in process, {store['threads']} threads: first pass on a fresh JVM",
                  n(first["rowsPerSec"]), mb(mbps(first["rowsPerSec"])), "", "", "", "",
                  f"{first['seconds']:.1f} s, {first['cpuSeconds']:.1f} CPU-s; appendLines + a commit a second, "
                  "no HTTP, gunzip or event bus"))
    table.append((f"Sluice store alone, in process, {store['threads']} threads: steady state",
                  n(steady["rowsPerSec"]), mb(mbps(steady["rowsPerSec"])), "", "", "", "",
                  f"pass {steady['pass']} (median CPU of passes 3..{len(store['passes'])}): {steady['seconds']:.1f} s, "
                  f"{steady['cpuSeconds']:.1f} CPU-s; the first pass used {store['firstOverSteadyCpu']:.1f}× the CPU "
                  "(JIT compilation, and code not yet compiled)"))


def cpu_note(r):
    return f", {r['serverCpuSeconds']:.1f} server CPU-s" if r and r.get("serverCpuSeconds") is not None else ""


imp_rps = imp["rowsPerSec"] if imp and imp.get("ok") else None
if imp:
    heap = imp.get("heap") or {}
    mem = []
    if heap.get("peakUsedMb") is not None:
        mem.append(f"heap peak {heap['peakUsedMb']:,.0f} MB used / {heap['peakCommittedMb']:,.0f} MB committed")
    if heap.get("peakLiveMb"):
        mem.append(f"largest heap left after a GC {heap['peakLiveMb']:,.0f} MB")
    if imp.get("peakRssMb") is not None:
        mem.append(f"RSS peak {imp['peakRssMb']:,.0f} MB")
    status = "" if imp.get("ok") else f"FAILED: phase {imp.get('phase')}, {n(imp.get('completedCount'))} rows; "
    table.append(("Sluice file import, trigger → finished", n(imp["rowsPerSec"]), mb(mbps(imp["rowsPerSec"])),
                  "", "", "; ".join(mem),
                  check(imp_rps, lambda v: v >= 150_000, "≥ 150,000 rows/s")
                  + ("" if imp_capped else "; " + check(heap.get("peakUsedMb"), lambda v: v < 256, "heap < 256 MB")),
                  f"{status}{imp['seconds']:.1f} s (server: {imp.get('serverSeconds')} s{cpu_note(imp)}); upload {imp['uploadSeconds']:.1f} s "
                  f"not counted; server JVM options: {machine.get('serverJavaOpts') or '(defaults)'}"))
else:
    table.append(("Sluice file import", "not run", "", "", "", "", "", ""))

if imp_warm:
    warm_rps = imp_warm["rowsPerSec"] if imp_warm.get("ok") else None
    table.append(("Sluice file import, the same file again on the same server (JIT-warm JVM)",
                  n(imp_warm["rowsPerSec"]), mb(mbps(imp_warm["rowsPerSec"])), "", "", "",
                  check(warm_rps, lambda v: v >= 150_000, "≥ 150,000 rows/s"),
                  ("" if imp_warm.get("ok") else f"FAILED: phase {imp_warm.get('phase')}; ")
                  + f"{imp_warm['seconds']:.1f} s (server: {imp_warm.get('serverSeconds')} s{cpu_note(imp_warm)}); "
                  "into a second table; "
                  "the row above includes the JIT warm-up of a fresh JVM"))

if imp_capped:
    heap = imp_capped.get("heap") or {}
    status = "" if imp_capped.get("ok") else \
        f"FAILED: phase {imp_capped.get('phase')}, {n(imp_capped.get('completedCount'))} rows; "
    capped_ok = imp_capped.get("ok") and heap.get("peakUsedMb") is not None
    table.append(("Sluice file import, server heap capped at 256 MB (-Xmx256m)", n(imp_capped["rowsPerSec"]),
                  mb(mbps(imp_capped["rowsPerSec"])), "", "",
                  f"heap peak {heap.get('peakUsedMb', 0):,.0f} MB used; RSS peak {imp_capped.get('peakRssMb', 0):,.0f} MB",
                  check(heap.get("peakUsedMb") if capped_ok else None, lambda v: v < 256, "import heap < 256 MB"),
                  f"{status}{imp_capped['seconds']:.1f} s; the same import in a heap it cannot exceed"))

for b, target in ((batch1, None), (batch4, "≥ 100,000 rows/s, p99 < 250 ms")):
    if not b:
        continue
    status = "" if b.get("ok") else f"FAILED: {b.get('errors')} errors {b.get('firstErrors')}; "
    tgt = ""
    if target:
        tgt = f"{target}: {'met' if b['rowsPerSec'] >= 100_000 and (b['p99Ms'] or 1e9) < 250 else 'missed'}"
    table.append((f"Sluice batch endpoint, {b['clients']} client{'s' if b['clients'] > 1 else ''}",
                  n(b["rowsPerSec"]), mb(mbps(b["rowsPerSec"])), ms(b["p50Ms"]), ms(b["p99Ms"]), "", tgt,
                  f"{status}{b['requests']:,} requests of {b['batchRows']:,} rows, {b['seconds']:.1f} s"))

pg_jsonb = pg_typed = None
if pg and pg.get("skipped"):
    table.append(("PostgreSQL", "not run", "", "", "", "", "", pg.get("skipped")))
elif pg:
    pg_jsonb = pg["jsonb"]["rowsPerSec"]
    pg_typed = pg["typed"]["rowsPerSec"]
    t = pg["typed"]
    table.append((f"PostgreSQL {pg['version']} COPY → one jsonb column (no index)", n(pg_jsonb), mb(mbps(pg_jsonb)),
                  "", "", "", "", f"{pg['jsonb']['seconds']:.1f} s"))
    table.append((f"PostgreSQL {pg['version']} COPY → staging → typed table + btree(age), btree(category), "
                  "GIN to_tsvector('english', description)", n(pg_typed), mb(mbps(pg_typed)), "", "", "", "",
                  f"{t['seconds']:.1f} s: COPY {t['copySeconds']:.1f} s, typed insert {t['insertSeconds']:.1f} s, "
                  f"indexes {t['indexSeconds']:.1f} s (maintenance_work_mem {pg.get('maintenanceWorkMem')})"))

pg_imp_rps = None
if pg_imp:
    pg_imp_rps = pg_imp["rowsPerSec"] if pg_imp.get("ok") else None
    status = "" if pg_imp.get("ok") else \
        f"FAILED: phase {pg_imp.get('phase')}, {n(pg_imp.get('completedCount'))} rows; "
    table.append(("Sluice on PostgreSQL (store.type=postgres, same PostgreSQL): file import, trigger → finished",
                  n(pg_imp["rowsPerSec"]), mb(mbps(pg_imp["rowsPerSec"])), "", "",
                  f"RSS peak {pg_imp.get('peakRssMb', 0):,.0f} MB (Sluice only)", "",
                  f"{status}{pg_imp['seconds']:.1f} s (server: {pg_imp.get('serverSeconds')} s{cpu_note(pg_imp)})"))
if pg_batch4:
    b = pg_batch4
    status = "" if b.get("ok") else f"FAILED: {b.get('errors')} errors {b.get('firstErrors')}; "
    table.append(("Sluice on PostgreSQL: batch endpoint, 4 clients", n(b["rowsPerSec"]), mb(mbps(b["rowsPerSec"])),
                  ms(b["p50Ms"]), ms(b["p99Ms"]), "", "",
                  f"{status}{b['requests']:,} requests of {b['batchRows']:,} rows, {b['seconds']:.1f} s"))

r_ceiling = ratio(imp_rps, ceiling["rowsPerSec"] if ceiling else None)
r_pg_engine = ratio(pg_imp_rps, pg_typed)
r_typed = ratio(imp_rps, pg_typed)
r_jsonb = ratio(imp_rps, pg_jsonb)


def rfmt(v):
    return "n/a" if v is None else f"{v:.2f}"


table.append(("ratio: Sluice import / ceiling", rfmt(r_ceiling), "", "", "", "", "", ""))
table.append(("ratio: Sluice import / PostgreSQL typed+indexed", rfmt(r_typed), "", "", "", "",
              check(r_typed, lambda v: v >= 2.0, "≥ 2"), ""))
table.append(("ratio: Sluice import / PostgreSQL jsonb", rfmt(r_jsonb), "", "", "", "", "", ""))
if pg_imp:
    table.append(("ratio: Sluice-on-PostgreSQL import / PostgreSQL COPY → staging → typed+indexed", rfmt(r_pg_engine),
                  "", "", "", "", check(r_pg_engine, lambda v: v >= 1.0, "≥ 1.0"), ""))
r_scaling = None
if scaling:
    big = scaling.get("import") or {}
    big_rps = big.get("rowsPerSec") if big.get("ok") else None
    r_scaling = ratio(big_rps, imp_rps)
    table.append((f"scaling: import rows/s at {scaling['rows']:,} rows / at {rows:,} rows", rfmt(r_scaling), "", "",
                  "", "", check(r_scaling, lambda v: v >= 0.9, "≥ 0.9"),
                  f"{n(big.get('rowsPerSec'))} rows/s, {big.get('seconds')} s"
                  + ("" if big.get("ok") else f"; FAILED: phase {big.get('phase')}")))
else:
    table.append(("scaling: import rows/s at 10M rows / at 1M rows", "not run", "", "", "", "", "≥ 0.9",
                  "bench.sh --scaling"))

def baseline_rows(label, current, base, what):
    """A row for the baseline build's figure and one for this build / baseline (same run)."""
    if not base:
        return
    ok = base.get("ok")
    note = f"{base.get('seconds', 0):.1f} s" if what == "import" else \
        f"p50 {ms(base.get('p50Ms'))} ms, p99 {ms(base.get('p99Ms'))} ms"
    table.append((f"baseline jar: {label}", n(base.get("rowsPerSec")), "", ms(base.get("p50Ms")) if what != "import"
                  else "", ms(base.get("p99Ms")) if what != "import" else "", "", "",
                  ("" if ok else "FAILED; ") + note + "; BENCH_BASELINE_JAR, run just before this build's"))
    r = ratio(current.get("rowsPerSec") if current and current.get("ok") else None, base.get("rowsPerSec") if ok else None)
    table.append((f"ratio: this build / baseline jar, {label}", rfmt(r), "", "", "", "", "", "same run, interleaved"))


targets = {"search_import": ("≤ 50", 50), "search_small": ("≤ 50", 50), "batch100": ("≤ 250", 250)}
names = {"search_import": "_search on the importing table", "search_small": "_search on a small table",
         "batch100": "100-row batch into another table"}

baseline_rows("Lucene engine file import (fresh JVM)", imp, imp_base, "import")
baseline_rows("Lucene engine batch endpoint, 4 clients", batch4, batch4_base, "batch")
baseline_rows("PostgreSQL engine file import", pg_imp, pg_imp_base, "import")
baseline_rows("PostgreSQL engine batch endpoint, 4 clients", pg_batch4, pg_batch4_base, "batch")

if mixed:
    imp_m = mixed.get("import") or {}
    # The import alone of as many rows: the main import row, or the scaling row (--scaling) for 10M.
    alone = imp_rps if imp_m.get("rows") == rows else None
    if scaling and scaling.get("rows") == imp_m.get("rows") and (scaling.get("import") or {}).get("ok"):
        alone = scaling["import"].get("rowsPerSec")
    r_mixed = ratio(imp_m.get("rowsPerSec") if imp_m.get("ok") else None, alone)
    table.append((f"mixed: file import of {n(imp_m.get('rows'))} rows with a reader and a writer beside it",
                  n(imp_m.get("rowsPerSec")), "", "", "", "", "",
                  (f"{rfmt(r_mixed)}× the import alone; " if r_mixed is not None else "")
                  + f"{imp_m.get('seconds')} s" + ("" if imp_m.get("ok") else f"; FAILED: phase {imp_m.get('phase')}")))
    for key, label in names.items():
        idle = (mixed.get("idle") or {}).get(key) or {}
        during = (mixed.get("during") or {}).get(key) or {}
        goal, limit = targets[key]
        p99 = during.get("p99Ms")
        table.append((f"mixed: {label}, during the import (idle)", "", "",
                      f"{during.get('p50Ms')} ({idle.get('p50Ms')})", f"{p99} ({idle.get('p99Ms')})", "",
                      check(p99, lambda v: v <= limit, f"p99 {goal} ms"),
                      f"{during.get('n')} requests, {during.get('errors')} errors"))
else:
    table.append(("mixed: import with a reader and a writer beside it", "not run", "", "", "", "", "",
                  "bench.sh --mixed"))
if mixed_base:
    imp_b = mixed_base.get("import") or {}
    table.append((f"mixed, baseline jar: file import of {n(imp_b.get('rows'))} rows with a reader and a writer",
                  n(imp_b.get("rowsPerSec")), "", "", "", "", "", f"{imp_b.get('seconds')} s"))
    for key, label in names.items():
        idle = (mixed_base.get("idle") or {}).get(key) or {}
        during = (mixed_base.get("during") or {}).get(key) or {}
        table.append((f"mixed, baseline jar: {label}, during the import (idle)", "", "",
                      f"{during.get('p50Ms')} ({idle.get('p50Ms')})", f"{during.get('p99Ms')} ({idle.get('p99Ms')})",
                      "", "", f"{during.get('n')} requests, {during.get('errors')} errors"))

for mixed_run, which in ((mixed_pg_base, "baseline build"), (mixed_pg, None)):
    if not mixed_run:
        continue
    engine = "mixed, PostgreSQL engine" + (f" ({which})" if which else "")
    imp_m = mixed_run.get("import") or {}
    alone = (pg_imp_base.get("rowsPerSec") if which and pg_imp_base else pg_imp_rps) \
        if imp_m.get("rows") == rows else None
    r_mixed_pg = ratio(imp_m.get("rowsPerSec") if imp_m.get("ok") else None, alone)
    base_imp = (mixed_pg_base or {}).get("import") or {}
    r_base = None if which or not mixed_pg_base else ratio(
        imp_m.get("rowsPerSec") if imp_m.get("ok") else None,
        base_imp.get("rowsPerSec") if base_imp.get("ok") else None)
    table.append((f"{engine}: file import of {n(imp_m.get('rows'))} rows with a reader and a writer",
                  n(imp_m.get("rowsPerSec")), "", "", "", "", "",
                  (f"{rfmt(r_mixed_pg)}× the import alone; " if r_mixed_pg is not None else "")
                  + (f"{rfmt(r_base)}× the baseline's; " if r_base is not None else "")
                  + f"{imp_m.get('seconds')} s" + ("" if imp_m.get("ok") else f"; FAILED: phase {imp_m.get('phase')}")))
    for key, label in names.items():
        idle = (mixed_run.get("idle") or {}).get(key) or {}
        during = (mixed_run.get("during") or {}).get(key) or {}
        goal, limit = targets[key]
        p99 = during.get("p99Ms")
        table.append((f"{engine}: {label}, during the import (idle)", "", "",
                      f"{during.get('p50Ms')} ({idle.get('p50Ms')})", f"{p99} ({idle.get('p99Ms')})", "",
                      check(p99, lambda v: v <= limit, f"p99 {goal} ms"),
                      f"{during.get('n')} requests, {during.get('errors')} errors"))
if mixed_peer:
    table.append((f"mixed, raw PostgreSQL: its own load of {n(mixed_peer.get('rows'))} rows (COPY → staging → typed"
                  " + indexes)", n(mixed_peer.get("rowsPerSec")), "", "", "", "", "",
                  f"{mixed_peer.get('loadSeconds')} s"))
    for key, label in (("read_small", "read on another table (category, age, limit 10)"),
                       ("insert100", "100-row INSERT into another table")):
        idle = (mixed_peer.get("idle") or {}).get(key) or {}
        during = (mixed_peer.get("during") or {}).get(key) or {}
        table.append((f"mixed, raw PostgreSQL: {label}, during its load (idle)", "", "",
                      f"{during.get('p50Ms')} ({idle.get('p50Ms')})", f"{during.get('p99Ms')} ({idle.get('p99Ms')})",
                      "", "", f"{during.get('n')} requests, {during.get('errors')} errors; psql, one session each"))

header = ("measurement", "rows/s (ratio)", "MB/s", "p50 ms", "p99 ms", "peak memory", "target", "notes")
print()
print(f"Sluice benchmark, {rows:,} rows ({raw_bytes / 1e6:,.1f} MB NDJSON, {gz_bytes / 1e6:,.1f} MB gzip -6), "
      f"{machine.get('date')}")
print(f"machine: {machine.get('nproc')} cores ({machine.get('cpu')}), {machine.get('memGiB')} GiB, "
      f"{machine.get('java')}; Sluice {machine.get('sluiceVersion')}; load average at start "
      f"{machine.get('loadStart')}, at end {machine.get('loadEnd')}")
print()
print("| " + " | ".join(header) + " |")
print("|---|--:|--:|--:|--:|---|---|---|")
for line in table:
    print("| " + " | ".join(str(c) for c in line) + " |")
print()

result = {
    "machine": machine,
    "ceiling": ceiling,
    "storeAlone": store,
    "import": imp,
    "importHeapCapped": imp_capped,
    "importWarm": imp_warm,
    "batch1": batch1,
    "batch4": batch4,
    "postgresql": pg,
    "postgresEngineImport": pg_imp,
    "postgresEngineBatch4": pg_batch4,
    "scaling": scaling,
    "mixed": mixed,
    "mixedBaseline": mixed_base,
    "mixedPostgresEngine": mixed_pg,
    "mixedRawPostgres": mixed_peer,
    "baseline": {"import": imp_base, "batch4": batch4_base, "postgresEngineImport": pg_imp_base,
                 "postgresEngineBatch4": pg_batch4_base, "mixedPostgresEngine": mixed_pg_base},
    "ratios": {"importOverCeiling": r_ceiling, "importOverPgTyped": r_typed, "importOverPgJsonb": r_jsonb,
               "pgEngineImportOverPgTyped": r_pg_engine,
               "scaling": r_scaling},
    "table": [dict(zip(header, line)) for line in table],
}
with open(out_path, "w") as f:
    json.dump(result, f, indent=2)
    f.write("\n")

# --cluster: 1 node, then N nodes, on the same PostgreSQL; a table of its own (its columns differ)
cluster = {}
for size in (0, 1, 2, 3, 4, 5):  # 0: one server on the same database without --cluster
    for kind in ("import", "import-warm", "batch4", "batch4-warm", "idle"):
        r = load(f"cluster{'-single' if size == 0 else size}-{kind}.json")
        if r:
            cluster.setdefault(size, {})[kind] = r
if cluster:
    labels = {"import": "file import, trigger → finished (fresh JVMs)", "import-warm": "file import again (warm JVMs)",
              "batch4": "batch endpoint, 4 clients round-robin over the nodes",
              "batch4-warm": "batch endpoint again (warm JVMs)",
              "idle": "idle (no request): CPU-seconds per minute, not per 1M rows"}

    def f2(v):
        return "" if v is None else f"{v:,.1f}"

    print(f"Cluster (serve --cluster, PostgreSQL {machine.get('pgVersion') or ''}"
          f" on the same machine), {rows:,} rows. CPU-seconds per 1M rows from /proc/PID/stat around each client run"
          " (the import's also include its upload; the batch run's its warm-up of 10 batches per node);"
          " PostgreSQL's are all its processes.")
    print()
    cheader = ("cluster run", "rows/s", "× 1 node", "p50 / p99 ms", "wall s", "CPU-s per 1M rows, each node",
               "nodes, sum", "PostgreSQL", "cores used: nodes / PostgreSQL", "machine busy",
               "import batches stored per node (local + remote)", "PostgreSQL backends, mean (state: wait)")
    print("| " + " | ".join(cheader) + " |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|---|")
    crows = []
    for size in sorted(cluster):
        for kind in ("import", "import-warm", "batch4", "batch4-warm", "idle"):
            r = cluster[size].get(kind)
            if not r:
                continue
            c = r.get("cluster") or {}
            one = (cluster.get(1) or {}).get(kind) or {}
            x1 = ratio(r.get("rowsPerSec") if r.get("ok") else None, one.get("rowsPerSec") if one.get("ok") else None)
            lat = f"{ms(r.get('p50Ms'))} / {ms(r.get('p99Ms'))}" if kind.startswith("batch4") else ""
            shares = []
            for node in c.get("nodes") or []:
                b = node.get("importBatchesStored") or {}
                shares.append(f"{b.get('local', 0)} + {b.get('remote', 0)}")
            resent = sum(sum((node.get("importBatchesResent") or {}).values()) for node in c.get("nodes") or [])
            act = (c.get("pgActivity") or {}).get("meanBackends") or {}
            activity = ", ".join(f"{k} {v}" for k, v in list(act.items())[:4])
            status = "" if r.get("ok") else "FAILED: " + str(r.get("phase") or r.get("firstErrors")) + "; "
            who = "no --cluster, 1 server" if size == 0 else f"{size} node{'s' if size > 1 else ''}"
            if kind == "idle":
                wall = c.get("wallSeconds") or 1
                per_min = [60 * (node.get("cpuSeconds") or 0) / wall for node in c.get("nodes") or []]
                line = (f"{who}: {labels[kind]}", "", "", "", f2(c.get("wallSeconds")),
                        " / ".join(f2(v) for v in per_min), f2(sum(per_min)),
                        f2(60 * (c.get("pgCpuSeconds") or 0) / wall),
                        f"{f2(c.get('nodesCoresUsed'))} / {f2(c.get('pgCoresUsed'))}",
                        "" if c.get("machineBusyPercent") is None else f"{c['machineBusyPercent']:.0f} %", "",
                        ", ".join(f"{k} {v}" for k, v in list(((c.get("pgActivity") or {}).get("meanBackends")
                                                                 or {}).items())[:4]))
                crows.append(line)
                print("| " + " | ".join(str(v) for v in line) + " |")
                continue
            line = (f"{who}: {labels[kind]}", n(r.get("rowsPerSec")),
                    rfmt(x1) if size != 1 else "", lat, f2(c.get("wallSeconds")),
                    " / ".join(f2(node.get("cpuSecondsPer1MRows")) for node in c.get("nodes") or []),
                    f2(c.get("nodesCpuSecondsPer1MRows")), f2(c.get("pgCpuSecondsPer1MRows")),
                    f"{f2(c.get('nodesCoresUsed'))} / {f2(c.get('pgCoresUsed'))}",
                    "" if c.get("machineBusyPercent") is None else f"{c['machineBusyPercent']:.0f} %",
                    (status + " / ".join(shares) + (f"; {resent} resent" if resent else ""))
                    if not kind.startswith("batch4") and size > 0 else status.rstrip("; "),
                    activity)
            crows.append(line)
            print("| " + " | ".join(str(v) for v in line) + " |")
    print()
    print(f"machine: {machine.get('nproc')} cores; load average at start {machine.get('loadStart')}, at end "
          f"{machine.get('loadEnd')}. On one machine the nodes share its cores: more nodes cannot add throughput "
          "here, only show the cost per row of each node and of PostgreSQL.")
    print()
    result["cluster"] = {str(k): v for k, v in cluster.items()}
    result["clusterTable"] = [dict(zip(cheader, line)) for line in crows]
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
gatling = load("cluster-gatling.json")
if gatling:
    print(f"Gatling ClusterSimulation against 3 nodes: {'passed' if gatling.get('ok') else 'FAILED'} "
          f"(options: {gatling.get('options') or 'defaults'})")
    print()
    print("```")
    for line in (gatling.get("printed") or []) + (gatling.get("statistics") or []) + (gatling.get("assertions") or []) \
            + (gatling.get("failures") or []):
        print(line)
    print("```")
    print()
    result["clusterGatling"] = gatling
    with open(out_path, "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
print(f"results: {out_path}")
