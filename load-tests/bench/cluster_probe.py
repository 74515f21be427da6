#!/usr/bin/env python3
"""CPU and import-batch counters around one measurement of bench.sh --cluster. Standard library only; Linux /proc.

  cluster_probe.py snapshot OUT.json POSTMASTER_PID PG_DATABASE PID=URL [PID=URL ...]
      the CPU ticks so far of each node (utime + stime of /proc/PID/stat), of PostgreSQL (the postmaster with its
      reaped children's cutime + cstime, plus every live child: so backends that ended meanwhile still count) and
      of the live backends connected to PG_DATABASE, the machine's /proc/stat, and each node's import counters
      from GET URL/metrics
  cluster_probe.py result CLIENT.json BEFORE.json AFTER.json WAITS.txt
      the client's JSON with, from the two snapshots: per node its CPU-seconds and CPU-seconds per 1M rows, its
      import batches and rows stored (local / remote) and batches resent; PostgreSQL's CPU-seconds (all of it, and
      the bench database's backends), per 1M rows and as cores used over the wall time; how busy the whole machine
      was; and from WAITS.txt (pg_stat_activity samples, see bench.sh) the mean backends by state and wait event
"""
import json
import os
import re
import sys
import time
import urllib.request

TICK = os.sysconf("SC_CLK_TCK")
COUNTERS = ("sluice_import_batches_stored_total", "sluice_import_batch_rows_stored_total",
            "sluice_import_batches_resent_total")


def stat(pid):
    """(ppid, utime + stime, cutime + cstime) in ticks, or None when the process is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14])


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except (FileNotFoundError, ProcessLookupError):
        return ""


def metrics(url):
    """The import counters of one node, {name: {origin or "": value}}."""
    with urllib.request.urlopen(url + "/metrics", timeout=30) as r:
        text = r.read().decode()
    out = {name: {} for name in COUNTERS}
    for line in text.splitlines():
        m = re.match(r'^(\w+)(\{([^}]*)\})?\s+(\S+)', line)
        if not m or m.group(1) not in out:
            continue
        origin = re.search(r'origin="([^"]*)"', m.group(3) or "")
        out[m.group(1)][origin.group(1) if origin else ""] = float(m.group(4))
    return out


def snapshot(out, postmaster, database, nodes):
    pm = stat(postmaster)
    if pm is None:
        sys.exit(f"cluster_probe: no PostgreSQL postmaster with pid {postmaster}")
    pg_total = pm[1] + pm[2]
    backends = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        s = stat(entry)
        if s is None or s[0] != postmaster:
            continue
        pg_total += s[1]
        if f" {database} " in cmdline(entry):
            backends[entry] = s[1]
    with open("/proc/stat") as f:
        cpu = [int(v) for v in f.readline().split()[1:]]
    snap = {"time": time.monotonic(), "pgTicks": pg_total, "backends": backends,
            "machine": {"busy": sum(cpu) - cpu[3] - cpu[4], "total": sum(cpu)}, "nodes": []}
    for node in nodes:
        pid, url = node.split("=", 1)
        s = stat(pid)
        snap["nodes"].append({"pid": int(pid), "url": url, "ticks": s[1] if s else None, "metrics": metrics(url)})
    with open(out, "w") as f:
        json.dump(snap, f)


def waits(path):
    """Mean backends per (state, wait) over the samples: each sample is lines 'sample|state|wait|count'."""
    samples, totals = set(), {}
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                parts = line.strip().split("|")
                if len(parts) != 4:
                    continue
                samples.add(parts[0])  # every sample has a row '-|-|0', so one with no busy backend counts too
                if parts[1] == "-":
                    continue
                key = f"{parts[1]}: {parts[2]}"
                totals[key] = totals.get(key, 0) + int(parts[3])
    n = len(samples)
    return {"samples": n, "meanBackends": {k: round(v / n, 2) for k, v in
                                           sorted(totals.items(), key=lambda kv: -kv[1])} if n else {}}


def result(client_path, before_path, after_path, waits_path):
    client = json.load(open(client_path))
    before, after = json.load(open(before_path)), json.load(open(after_path))
    rows = client.get("completedCount", client.get("stored")) or 0
    wall = after["time"] - before["time"]

    def per_million(seconds):
        return round(seconds * 1e6 / rows, 2) if rows else None

    nodes = []
    for b, a in zip(before["nodes"], after["nodes"]):
        cpu = None if a["ticks"] is None or b["ticks"] is None else (a["ticks"] - b["ticks"]) / TICK
        node = {"url": a["url"], "cpuSeconds": round(cpu, 2) if cpu is not None else None,
                "cpuSecondsPer1MRows": per_million(cpu) if cpu is not None else None}
        for name, label in zip(COUNTERS, ("importBatchesStored", "importRowsStored", "importBatchesResent")):
            delta = {k: v - b["metrics"][name].get(k, 0.0) for k, v in a["metrics"][name].items()}
            node[label] = {k or "all": int(v) for k, v in delta.items()}
        nodes.append(node)
    pg_cpu = (after["pgTicks"] - before["pgTicks"]) / TICK
    backend_cpu = sum(t - before["backends"].get(pid, 0) for pid, t in after["backends"].items()) / TICK
    busy = after["machine"]["busy"] - before["machine"]["busy"]
    total = after["machine"]["total"] - before["machine"]["total"]
    node_cpu = sum(n["cpuSeconds"] or 0 for n in nodes)
    client["cluster"] = {
        "nodes": nodes, "wallSeconds": round(wall, 2), "rowsMeasured": rows,
        "nodesCpuSeconds": round(node_cpu, 2), "nodesCpuSecondsPer1MRows": per_million(node_cpu),
        "pgCpuSeconds": round(pg_cpu, 2), "pgCpuSecondsPer1MRows": per_million(pg_cpu),
        "pgBackendCpuSeconds": round(backend_cpu, 2), "pgCoresUsed": round(pg_cpu / wall, 2) if wall else None,
        "nodesCoresUsed": round(node_cpu / wall, 2) if wall else None,
        "machineBusyPercent": round(100.0 * busy / total, 1) if total else None,
        "pgActivity": waits(waits_path)}
    print(json.dumps(client))


if __name__ == "__main__":
    if len(sys.argv) >= 6 and sys.argv[1] == "snapshot":
        snapshot(sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:])
    elif len(sys.argv) == 6 and sys.argv[1] == "result":
        result(*sys.argv[2:])
    else:
        sys.exit(__doc__)
