#!/usr/bin/env python3
"""The raw PostgreSQL peer beside its own load, for bench.sh --mixed: what a reader and a small writer of
PostgreSQL see while it loads the benchmark file as bench.sh's peer does (COPY → staging → typed table + the
same indexes). A read on another table (the mixed search's `where`: category = 'books' AND age >= 30, limit 10)
and a 100-row INSERT into another table, each every 0.5 s on a session of its own; first idle, then during the
load. Latency is measured here, around each statement sent to a long-lived psql session.

Usage: pg_mixed.py DATA.ndjson.gz ROWS IDLE_SECONDS PSQL_COMMAND...   (JSON on standard output)
PSQL_COMMAND opens psql on the bench database (e.g. runuser -u postgres -- psql -X -p 5432 -d sluice_bench).
"""
import gzip
import json
import subprocess
import sys
import threading
import time

gz, rows, idle_seconds, psql = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
COLUMNS = "id int NOT NULL, name text NOT NULL, tags text NOT NULL, age int NOT NULL, price numeric NOT NULL," \
          " active boolean NOT NULL, category text NOT NULL, description text NOT NULL"
TYPED = "(doc->>'id')::int, doc->>'name', doc->>'tags', (doc->>'age')::int, (doc->>'price')::numeric," \
        " (doc->>'active')::boolean, doc->>'category', doc->>'description'"


def run(sql, stdin=None):
    """One psql run: the statements on its standard input, or with -c when stdin carries COPY's data."""
    if stdin is None:
        subprocess.run(psql + ["-q", "-v", "ON_ERROR_STOP=1"], input=sql, text=True, check=True, cwd="/",
                       stdout=subprocess.DEVNULL)
    else:
        subprocess.run(psql + ["-q", "-v", "ON_ERROR_STOP=1", "-c", sql], stdin=stdin, check=True, cwd="/",
                       stdout=subprocess.DEVNULL)


def literal(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    return "'" + str(v).replace("'", "''") + "'"


class Session:
    """One psql process; each statement is timed from its sending to the marker echoed after it."""

    def __init__(self):
        self.p = subprocess.Popen(psql + ["-q", "-A", "-t", "-v", "ON_ERROR_STOP=0"], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd="/", bufsize=1)
        self.timed("SELECT 1;")  # connected before anything is counted

    def timed(self, sql):
        t0 = time.perf_counter()
        self.p.stdin.write(sql + "\n\\echo __done__\n")
        self.p.stdin.flush()
        error = None
        for line in self.p.stdout:
            if line.strip() == "__done__":
                break
            if "ERROR" in line:
                error = line.strip()
        return time.perf_counter() - t0, error

    def close(self):
        self.p.stdin.close()
        self.p.wait()


class Samples:
    def __init__(self):
        self.ms, self.errors, self.first_error = [], 0, None

    def summary(self):
        s = sorted(self.ms)

        def pct(p):
            return round(s[min(len(s) - 1, max(0, -(-len(s) * p // 100) - 1))], 3) if s else None
        return {"n": len(s), "p50Ms": pct(50), "p99Ms": pct(99), "maxMs": round(s[-1], 3) if s else None,
                "errors": self.errors, "firstError": self.first_error}


def sample(statements, stop):
    """Every 0.5 s until stop is set: each statement kind on its own session and thread."""
    out = {}
    threads = []
    for name, make in statements.items():
        samples = out[name] = Samples()

        def loop(make=make, samples=samples):
            session = Session()
            i = 0
            while not stop.is_set():
                started = time.perf_counter()
                seconds, error = session.timed(make(i))
                samples.ms.append(seconds * 1000)
                if error:
                    samples.errors += 1
                    samples.first_error = samples.first_error or error[:300]
                i += 1
                rest = 0.5 - (time.perf_counter() - started)
                if rest > 0:
                    stop.wait(rest)
            session.close()
        t = threading.Thread(target=loop)
        t.start()
        threads.append(t)
    return out, threads


# Tables of the reader and the writer, and 100-row INSERT statements from the file's first 10,000 rows.
docs = []
with gzip.open(gz, "rt", encoding="utf-8") as f:
    for line in f:
        docs.append(json.loads(line))
        if len(docs) == 10_000:
            break
names = ["id", "name", "tags", "age", "price", "active", "category", "description"]
inserts = ["INSERT INTO mixed_writes VALUES " + ", ".join(
    "(" + ", ".join(literal(d[c]) for c in names) + ")" for d in docs[i:i + 100]) for i in range(0, len(docs), 100)]
run("SET client_min_messages = warning; DROP TABLE IF EXISTS mixed_small, mixed_writes, mixed_stage, mixed_typed")
run(f"CREATE TABLE mixed_small ({COLUMNS}); CREATE TABLE mixed_writes ({COLUMNS})")
run(f"INSERT INTO mixed_small SELECT {TYPED} FROM jsonb_array_elements('{json.dumps(docs[:1000]).replace(chr(39), chr(39) * 2)}'::jsonb) AS doc;"
    " CREATE INDEX ON mixed_small (category); CREATE INDEX ON mixed_small (age); ANALYZE mixed_small")
statements = {
    "read_small": lambda i: "SELECT id FROM mixed_small WHERE category = 'books' AND age >= 30 LIMIT 10;",
    "insert100": lambda i: inserts[i % len(inserts)] + ";",
}

stop = threading.Event()
idle, threads = sample(statements, stop)
time.sleep(idle_seconds)
stop.set()
for t in threads:
    t.join()

run(f"CREATE UNLOGGED TABLE mixed_stage (doc jsonb); CREATE TABLE mixed_typed ({COLUMNS})")
stop = threading.Event()
during, threads = sample(statements, stop)
t0 = time.perf_counter()
try:
    unzip = subprocess.Popen(["gzip", "-dc", gz], stdout=subprocess.PIPE)
    run("COPY mixed_stage (doc) FROM STDIN WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')", stdin=unzip.stdout)
    unzip.wait()
    run(f"INSERT INTO mixed_typed SELECT {TYPED} FROM mixed_stage")
    run("SET maintenance_work_mem = '256MB'; CREATE INDEX ON mixed_typed (age); CREATE INDEX ON mixed_typed (category);"
        " CREATE INDEX ON mixed_typed USING gin (to_tsvector('english', description))")
    load_seconds = time.perf_counter() - t0
finally:
    stop.set()
    for t in threads:
        t.join()
    run("DROP TABLE IF EXISTS mixed_small, mixed_writes, mixed_stage, mixed_typed")

print(json.dumps({"rows": rows, "loadSeconds": round(load_seconds, 3), "rowsPerSec": round(rows / load_seconds),
                  "idle": {k: v.summary() for k, v in idle.items()},
                  "during": {k: v.summary() for k, v in during.items()}}))
