#!/usr/bin/env bash
# Sluice's benchmark: one command, one table, everything measured in the same run on this machine.
#
#   load-tests/bench.sh [ROWS] [--scaling] [--mixed] [--cluster] [--cluster-gatling] [--skip-build] [--skip-pg]
#                       [--data-only]
#
# ROWS (default 1000000): rows of the benchmark table (load-tests/bench/gen_ndjson.py, seed 42; TABLE.md).
#   --scaling     also import 10,000,000 rows (or BENCH_SCALING_ROWS) and report rows/s at 10M / rows/s at ROWS
#   --mixed       also import 10,000,000 rows (or BENCH_MIXED_ROWS) while a reader (_search every 0.5 s on the
#                 importing table and on a small one) and a writer (100-row batch every 0.5 s) run beside it:
#                 their p50/p99 idle and during, and the import's rows/s against the import alone (on each engine
#                 also on BENCH_BASELINE_JAR's build, first)
#   --cluster     also run Sluice as a cluster (serve --cluster) on the same PostgreSQL: 1 node, then 3 nodes on
#                 127.0.0.1 (HTTP on BENCH_PORT.., Hazelcast on BENCH_CLUSTER_PORT.., the event bus 10 above): the
#                 file import triggered on the first node (fresh JVMs, then again warm) and the batch endpoint with
#                 4 clients spread round-robin over the nodes (twice), then 15 s idle; per node CPU-seconds per 1M rows and
#                 import batches stored, PostgreSQL's CPU-seconds and what its backends were doing; the same on one
#                 server without --cluster first (needs PostgreSQL)
#   --cluster-gatling  start 3 nodes as --cluster does and run the Gatling ClusterSimulation against them
#                 (load-tests/README.md; BENCH_GATLING_OPTS adds -Dsluice.* settings), its summary in the table
#   --skip-build  use the target/sluice.jar already built
#   --skip-pg     leave PostgreSQL out (no install, no start)
#   --data-only   only generate the data of ROWS rows into load-tests/target/bench/data/ and stop
# Environment: SLUICE_JAVA_OPTS (options of the server JVM, e.g. "-Xmx256m -Dsluice.import.window=8"; the
#   server otherwise runs on its built-in defaults, not conf/sluice.json), BENCH_PORT (default 18181),
#   BENCH_BATCH_ROWS (rows posted to the batch endpoint, default min(ROWS, 1000000)),
#   BENCH_CEILING_PASSES (default 5), BENCH_STORE_PASSES (default 5), BENCH_WAIT_QUIET (seconds to wait, at most, for the 1-minute load average
#   to fall below half the core count before measuring; default 0),
#   BENCH_BASELINE_JAR (another build of Sluice, e.g. of an older commit: each Sluice file import and the batch
#   endpoint with 4 clients also run on it, just before the same measurement of this build, and the table adds
#   the ratio this build / baseline — same run, same file, same machine),
#   BENCH_SKIP (space-separated parts to leave out for a shorter run: ceiling store capped batch1 lucene pgraw
#   pgengine; "lucene" leaves out every Lucene-engine server measurement, "pgraw" raw PostgreSQL's COPY loads,
#   "pgengine" the single server on the PostgreSQL engine), BENCH_CLUSTER_PORT (first Hazelcast port of --cluster,
#   default 18281; the event bus uses the ports 10 above).
#
# Measures: the ceiling (gunzip + line split + Jackson parse + validation in one thread, Sluice's own classes),
# the store alone in process (first pass on a fresh JVM against the steady state: what the JIT warm-up costs),
# Sluice's file import end to end with its peak heap and RSS, Sluice's batch endpoint with 1 and 4 clients,
# PostgreSQL COPY into jsonb and COPY staging → typed + indexed, Sluice on the PostgreSQL engine (store.type=postgres
# against that PostgreSQL: the file import and the batch endpoint with 4 clients), and the ratios. The table is printed at the end
# and written as JSON to load-tests/results/. Every server runs on 127.0.0.1 and is stopped at the end (also on
# failure or Ctrl-C); PostgreSQL is installed with apt-get if absent and stopped again if this script started it.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BENCH_SRC="$HERE/bench"

ROWS=1000000
SCALING=0
MIXED=0
CLUSTER=0
CLUSTER_GATLING=0
BUILD=1
PG=1
DATA_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --scaling) SCALING=1 ;;
    --mixed) MIXED=1 ;;
    --skip-build) BUILD=0 ;;
    --skip-pg) PG=0 ;;
    --data-only) DATA_ONLY=1 ;;
    --cluster) CLUSTER=1 ;;
    --cluster-gatling) CLUSTER_GATLING=1 ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    ''|*[!0-9]*) echo "bench.sh: unknown argument '$arg' (usage: bench.sh [ROWS] [--scaling] [--mixed] [--cluster] [--cluster-gatling] [--skip-build] [--skip-pg] [--data-only])" >&2; exit 2 ;;
    *) ROWS="$arg" ;;
  esac
done
if { [ "$CLUSTER" = 1 ] || [ "$CLUSTER_GATLING" = 1 ]; } && [ "$PG" = 0 ]; then
  echo "bench.sh: --cluster and --cluster-gatling need PostgreSQL (the nodes share it): leave out --skip-pg" >&2
  exit 2
fi
if [ "$ROWS" -lt 1000 ]; then
  echo "bench.sh: ROWS must be at least 1000" >&2
  exit 2
fi
SCALING_ROWS="${BENCH_SCALING_ROWS:-10000000}"
MIXED_ROWS="${BENCH_MIXED_ROWS:-10000000}"
BATCH_ROWS="${BENCH_BATCH_ROWS:-$(( ROWS < 1000000 ? ROWS : 1000000 ))}"
CEILING_PASSES="${BENCH_CEILING_PASSES:-5}"
STORE_PASSES="${BENCH_STORE_PASSES:-5}"
BASELINE_JAR_SRC="${BENCH_BASELINE_JAR:-}"
SKIP=" ${BENCH_SKIP:-} "
skipped() { [[ "$SKIP" == *" $1 "* ]]; }
for part in ${BENCH_SKIP:-}; do
  case "$part" in ceiling|store|capped|batch1|lucene|pgraw|pgengine) ;; *) echo "bench.sh: unknown BENCH_SKIP part '$part' (ceiling store capped batch1 lucene pgraw pgengine)" >&2; exit 2 ;; esac
done
if [ -n "$BASELINE_JAR_SRC" ] && [ ! -f "$BASELINE_JAR_SRC" ]; then
  echo "bench.sh: BENCH_BASELINE_JAR=$BASELINE_JAR_SRC is not a file" >&2
  exit 2
fi
PORT="${BENCH_PORT:-18181}"
BASE="http://127.0.0.1:$PORT"
KEY="bench-$$-$RANDOM$RANDOM"
SERVER_JAVA_OPTS="${SLUICE_JAVA_OPTS:-}"

log() { printf '\n[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf '\nbench.sh: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# ------------------------------------------------------------------------------------------------ prerequisites
[ -f "$BENCH_SRC/gen_ndjson.py" ] && [ -f "$BENCH_SRC/schema.json" ] || die "the benchmark table is missing:
  expected $BENCH_SRC/gen_ndjson.py and schema.json (they are part of the repository: restore them with git)"
for tool in java javac mvn python3 gzip curl ps awk; do
  command -v "$tool" >/dev/null 2>&1 || die "'$tool' is not installed (needed: Java 17 JDK, Maven, Python 3, gzip, curl, procps)"
done
JAVA_MAJOR="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
[ "${JAVA_MAJOR%%.*}" -ge 17 ] 2>/dev/null || die "Java 17 or newer is needed (found '$JAVA_MAJOR')"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is in use; choose another with BENCH_PORT=..."
fi
CLUSTER_NODES_MAX=3
CLUSTER_HZ_PORT="${BENCH_CLUSTER_PORT:-18281}"
CLUSTER_BUS_PORT=$(( CLUSTER_HZ_PORT + 10 ))
CLUSTER_IDLE_SECONDS=15
if [ "$CLUSTER" = 1 ] || [ "$CLUSTER_GATLING" = 1 ]; then
  for p in $(seq "$(( PORT + 1 ))" "$(( PORT + CLUSTER_NODES_MAX - 1 ))") \
      $(seq "$CLUSTER_HZ_PORT" "$(( CLUSTER_HZ_PORT + CLUSTER_NODES_MAX - 1 ))") \
      $(seq "$CLUSTER_BUS_PORT" "$(( CLUSTER_BUS_PORT + CLUSTER_NODES_MAX - 1 ))"); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      die "port $p on 127.0.0.1 (a cluster node's) is in use; choose others with BENCH_PORT=... or BENCH_CLUSTER_PORT=..."
    fi
  done
fi

QUIET_WAIT="${BENCH_WAIT_QUIET:-0}"
quiet() { awk -v n="$(nproc)" '{ exit !($1 < n / 2) }' /proc/loadavg; }
if [ "$QUIET_WAIT" -gt 0 ] && ! quiet; then
  log "waiting up to $QUIET_WAIT s for a quiet machine (load average $(cut -d' ' -f1 /proc/loadavg))"
  for _ in $(seq 1 $(( QUIET_WAIT / 5 ))); do quiet && break; sleep 5; done
fi
[ "$DATA_ONLY" = 1 ] || quiet || log "warning: load average $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) cores: other work competes with the measurement"
RUN_ID_EPOCH="$(date +%s)"
RUN_ID="$(date -u -d "@$RUN_ID_EPOCH" +%Y%m%dT%H%M%SZ)"
WORK="$HERE/target/bench"
DATA="$WORK/data"
RUN="$WORK/run-$RUN_ID"
RESULTS="$HERE/results"
mkdir -p "$DATA" "$RUN" "$RESULTS"
LOAD_START="$(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------------------------------------------ cleanup
SERVER_PID=""
SAMPLER_PID=""
PG_STARTED=0
PG_VER=""
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
PSQL=()
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
CLUSTER_PIDS=()
CLUSTER_URLS=()
WAITS_PID=""
WAITS_STOP=""
stop_cluster() { # every node at once (a graceful stop each), then waits for all
  local pid
  for pid in "${CLUSTER_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${CLUSTER_PIDS[@]}"; do
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  CLUSTER_PIDS=()
  CLUSTER_URLS=()
}
stop_waits() { # the pg_stat_activity sampler of a cluster measurement
  [ -n "$WAITS_PID" ] || return 0
  touch "$WAITS_STOP"
  for _ in $(seq 1 20); do kill -0 "$WAITS_PID" 2>/dev/null || break; sleep 0.25; done
  kill "$WAITS_PID" 2>/dev/null || true
  wait "$WAITS_PID" 2>/dev/null || true
  WAITS_PID=""
}
cleanup() {
  local rc=$?
  if [ -n "$SAMPLER_PID" ]; then kill "$SAMPLER_PID" 2>/dev/null || true; fi
  stop_waits
  stop_server
  stop_cluster
  if [ "${#PSQL[@]}" -gt 0 ]; then
    "${PSQL[@]}" -d postgres -c "DROP DATABASE IF EXISTS sluice_bench" -c "DROP DATABASE IF EXISTS sluice_bench_engine" \
      -c "DROP DATABASE IF EXISTS sluice_bench_cluster" -c "DROP ROLE IF EXISTS sluice_bench" >/dev/null 2>&1 || true
  fi
  if [ "$PG_STARTED" = 1 ]; then
    log "stopping PostgreSQL $PG_VER (started by this script)"
    $SUDO pg_ctlcluster "$PG_VER" main stop >/dev/null 2>&1 || true
  fi
  if [ "$rc" != 0 ]; then
    echo "bench.sh failed (exit $rc); logs in $RUN" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ------------------------------------------------------------------------------------------------ data
gen_data() { # ROWS → $DATA/bench-ROWS.ndjson(.gz); deterministic, so kept between runs
  local rows="$1" keep_raw="$2" base="$DATA/bench-$1"
  if [ -f "$base.done" ] && [ -f "$base.ndjson.gz" ] && { [ "$keep_raw" = 0 ] || [ -f "$base.ndjson" ]; }; then
    return
  fi
  log "generating $rows rows with gen_ndjson.py"
  rm -f "$base.done"
  if [ "$keep_raw" = 1 ]; then
    python3 "$BENCH_SRC/gen_ndjson.py" "$rows" "$base.ndjson"
    gzip -6 -c "$base.ndjson" > "$base.ndjson.gz"
  else
    python3 "$BENCH_SRC/gen_ndjson.py" "$rows" /dev/stdout | gzip -6 -c > "$base.ndjson.gz"
  fi
  touch "$base.done"
}
gen_data "$ROWS" 1
NDJSON="$DATA/bench-$ROWS.ndjson"
GZ="$DATA/bench-$ROWS.ndjson.gz"
SCHEMA="$BENCH_SRC/schema.json"
if [ "$DATA_ONLY" = 1 ]; then
  log "data only: $GZ and $NDJSON"
  exit 0
fi

# ------------------------------------------------------------------------------------------------ build
JAR="$ROOT/target/sluice.jar"
if [ "$BUILD" = 1 ]; then
  log "building Sluice (mvn -DskipTests package)"
  (cd "$ROOT" && mvn -q -B -DskipTests package) > "$RUN/build.log" 2>&1 || { tail -40 "$RUN/build.log" >&2; die "the build failed (log: $RUN/build.log)"; }
fi
[ -f "$JAR" ] || die "no $JAR: build Sluice first (cd $ROOT && mvn -DskipTests package)"
cp "$JAR" "$RUN/sluice.jar" # a copy, so a rebuild during the run does not change the server under test
JAR="$RUN/sluice.jar"
SERVER_JAR="$JAR"
BASELINE_JAR=""
if [ -n "$BASELINE_JAR_SRC" ]; then
  cp "$BASELINE_JAR_SRC" "$RUN/baseline.jar"
  BASELINE_JAR="$RUN/baseline.jar"
fi
CLASSES="$RUN/classes"
mkdir -p "$CLASSES"
TOOLS=("$HERE/bench/BenchClient.java") # only the tools this run uses (an older build may lack what the others need)
skipped ceiling || TOOLS+=("$HERE/bench/Ceiling.java")
skipped store || TOOLS+=("$HERE/bench/StoreOnly.java")
javac -nowarn -cp "$JAR" -d "$CLASSES" "${TOOLS[@]}" 2> "$RUN/javac.log" \
  || { cat "$RUN/javac.log" >&2; die "the benchmark tools do not compile against this Sluice (see above)"; }
CP="$JAR:$CLASSES"

# ------------------------------------------------------------------------------------------------ server
start_server() { # NAME: a fresh server on an empty data dir, GC log and output in $RUN
  local name="$1"
  rm -rf "$RUN/data-$name"
  # shellcheck disable=SC2086
  # from the run directory: no conf/sluice.json there, so the server runs on the jar's defaults (change a
  # setting with SLUICE_JAVA_OPTS="-Dsluice.<key>=...")
  (cd "$RUN" && exec env SLUICE_HTTP_HOST=127.0.0.1 SLUICE_HTTP_PORT="$PORT" SLUICE_PUBLIC_URL="$BASE" \
      SLUICE_DATA_DIR="$RUN/data-$name" SLUICE_API_KEY_RW="$KEY" SLUICE_API_KEY_RO="$KEY-ro" \
      java $SERVER_JAVA_OPTS -Xlog:gc:file="$RUN/gc-$name.log" -jar "$SERVER_JAR") > "$RUN/server-$name.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 120); do
    if curl -fsS "$BASE/api/v1/health" >/dev/null 2>&1; then
      return
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -30 "$RUN/server-$name.log" >&2; die "Sluice did not start"; }
    sleep 0.5
  done
  die "Sluice did not answer on $BASE within 60 s"
}

server_cpu() { # the server process's CPU time so far (user + system), in clock ticks
  awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$SERVER_PID/stat"
}

with_cpu() { # CLIENT.json TICKS0 TICKS1 → the JSON with the server's CPU seconds meanwhile
  python3 -c 'import json, os, sys; r = json.load(open(sys.argv[1])); r["serverCpuSeconds"] = round((int(sys.argv[3]) - int(sys.argv[2])) / os.sysconf("SC_CLK_TCK"), 2); print(json.dumps(r))' "$@"
}

measure_import() { # NAME ROWS GZ → $RUN/NAME.json: the import with its peak heap and RSS
  local name="$1" rows="$2" gz="$3" timeout
  timeout=$(( rows / 2000 + 300 )) # bounded: at least 2,000 rows/s, or the run counts as failed
  start_server "$name"
  local samples="$RUN/rss-$name.txt" stop="$RUN/stop-$name"
  : > "$samples"
  ( for _ in $(seq 1 $(( timeout * 2 + 600 ))); do
      [ -e "$stop" ] && break
      ps -o rss= -p "$SERVER_PID" >> "$samples" 2>/dev/null || break
      sleep 0.5
    done ) &
  SAMPLER_PID=$!
  log "Sluice file import of $rows rows"
  local cpu0 cpu1
  cpu0="$(server_cpu)"
  java -cp "$CP" BenchClient import "$BASE" "$KEY" bench_import "$SCHEMA" "$gz" "$rows" "$timeout" \
    > "$RUN/$name-client.json" 2> "$RUN/$name-client.err" \
    || { cat "$RUN/$name-client.err" >&2; die "the file import failed"; }
  cpu1="$(server_cpu)"
  if [ "$name" = import ]; then
    # The same file again on the same server: the first import also pays for the JVM's JIT warm-up (a few
    # seconds of both cores at 1M rows); the second shows the steady state at the same size.
    log "Sluice file import of $rows rows again, same server (warm JVM)"
    local warm0
    warm0="$(server_cpu)"
    java -cp "$CP" BenchClient import "$BASE" "$KEY" bench_import_warm "$SCHEMA" "$gz" "$rows" "$timeout" \
      > "$RUN/import-warm-client.json" 2> "$RUN/import-warm-client.err" \
      || { cat "$RUN/import-warm-client.err" >&2; die "the second file import failed"; }
    with_cpu "$RUN/import-warm-client.json" "$warm0" "$(server_cpu)" > "$RUN/import-warm.json"
  fi
  touch "$stop"
  wait "$SAMPLER_PID" 2>/dev/null || true
  SAMPLER_PID=""
  local hwm peak_rss
  hwm="$(awk '/VmHWM/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || true)"
  peak_rss="$(sort -n "$samples" | tail -1)"
  jcmd "$SERVER_PID" GC.heap_info > "$RUN/heapinfo-$name.txt" 2>/dev/null || true
  stop_server
  rm -rf "$RUN/data-$name" # the imported index: not needed any more, and large at 10M rows
  with_cpu "$RUN/$name-client.json" "$cpu0" "$cpu1" > "$RUN/$name-client-cpu.json"
  python3 - "$RUN/$name-client-cpu.json" "${peak_rss:-0}" "${hwm:-0}" "$(python3 "$HERE/bench/gclog.py" "$RUN/gc-$name.log" "$RUN/heapinfo-$name.txt")" "$samples" > "$RUN/$name.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
sampled, hwm = int(sys.argv[2]) / 1024, int(sys.argv[3]) / 1024
r["sampledPeakRssMb"] = round(sampled, 1)
r["vmHwmMb"] = round(hwm, 1) if hwm else None
r["peakRssMb"] = round(max(sampled, hwm), 1)
r["rssSamples"] = sum(1 for _ in open(sys.argv[5]))
r["heap"] = json.loads(sys.argv[4])
print(json.dumps(r))
EOF
}

on_baseline() { # NAME ARGS...: runs "NAME ARGS..." on the baseline jar first (its files named *-base), when one is given
  [ -n "$BASELINE_JAR" ] || return 0
  log "(baseline jar) $1"
  SERVER_JAR="$BASELINE_JAR" SUFFIX=-base "$@"
  SERVER_JAR="$JAR"
}
SUFFIX=""

batch4() { # PREFIX TABLE: the batch endpoint with 4 clients on a fresh server → $RUN/PREFIX-batch4$SUFFIX.json
  local prefix="$1" table="$2"
  start_server "$prefix-batch$SUFFIX"
  log "Sluice ($prefix) batch endpoint, 4 clients, $BATCH_ROWS rows in batches of 1,000"
  java -Xmx2g -cp "$CP" BenchClient batch "$BASE" "$KEY" "$table" "$SCHEMA" "$NDJSON" "$BATCH_ROWS" \
    4 1000 $(( BATCH_ROWS / 500 + 300 )) > "$RUN/$prefix-batch4$SUFFIX.json" 2> "$RUN/$prefix-batch4$SUFFIX.err" \
    || { cat "$RUN/$prefix-batch4$SUFFIX.err" >&2; die "the batch measurement ($prefix) failed"; }
  if [ -z "$SUFFIX" ]; then
    VERSION="$(curl -fsS "$BASE/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])' || echo unknown)"
  fi
  stop_server
  rm -rf "$RUN/data-$prefix-batch$SUFFIX"
}
import_named() { measure_import "$1$SUFFIX" "$2" "$3"; }

# ------------------------------------------------------------------------------------------------ 1. ceiling
if ! skipped ceiling; then
  log "ceiling: gunzip + split + parse + validate, 1 thread ($CEILING_PASSES passes after a warm-up)"
  java -cp "$CP" Ceiling "$SCHEMA" "$GZ" "$CEILING_PASSES" > "$RUN/ceiling.json" 2> "$RUN/ceiling.err" \
    || { cat "$RUN/ceiling.err" >&2; die "the ceiling measurement failed"; }
fi

# ------------------------------------------------------------------------------------------------ 1b. store alone
if ! skipped store; then
  log "store alone, in process: $STORE_PASSES passes of $ROWS rows into new tables of one fresh JVM"
  java -Xmx2g -cp "$CP" StoreOnly "$SCHEMA" "$NDJSON" "$STORE_PASSES" > "$RUN/store.out" 2> "$RUN/store.err" \
    || { cat "$RUN/store.err" >&2; die "the store-alone measurement failed"; }
  tail -n 1 "$RUN/store.out" > "$RUN/store.json" # the store's log lines go to standard output before it
fi

VERSION=unknown # asked of this build's server by the batch measurement
if ! skipped lucene; then
  # ---------------------------------------------------------------------------------------------- 2. file import
  on_baseline import_named import "$ROWS" "$GZ"
  measure_import import "$ROWS" "$GZ"
  # The same import in a 256 MB heap: whether it needs more than that (the row above shows what it takes
  # when the JVM may grow its heap as it likes).
  if ! skipped capped; then
    SERVER_JAVA_OPTS_SAVED="$SERVER_JAVA_OPTS"
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS -Xmx256m"
    measure_import import256 "$ROWS" "$GZ"
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS_SAVED"
  fi

  # ---------------------------------------------------------------------------------------------- 3. batch endpoint
  if ! skipped batch1; then
    start_server batch
    log "Sluice batch endpoint, 1 client, $BATCH_ROWS rows in batches of 1,000"
    java -Xmx2g -cp "$CP" BenchClient batch "$BASE" "$KEY" bench_batch1 "$SCHEMA" "$NDJSON" "$BATCH_ROWS" \
      1 1000 $(( BATCH_ROWS / 500 + 300 )) > "$RUN/batch1.json" 2> "$RUN/batch1.err" \
      || { cat "$RUN/batch1.err" >&2; die "the batch measurement failed"; }
    stop_server
    rm -rf "$RUN/data-batch"
  fi
  on_baseline batch4 lucene bench_batch4
  batch4 lucene bench_batch4
  cp "$RUN/lucene-batch4.json" "$RUN/batch4.json"
fi

# ------------------------------------------------------------------------------------------------ 4. PostgreSQL
as_postgres() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else (cd / && sudo -n -u postgres "$@"); fi; }
pg_prepare() {
  local installed=0
  if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    [ "$(id -u)" = 0 ] || command -v sudo >/dev/null || die "PostgreSQL is not installed: run as root (apt-get) or use --skip-pg"
    log "installing PostgreSQL with apt-get"
    installed=1
    $SUDO apt-get update -q > "$RUN/apt.log" 2>&1 || { tail -20 "$RUN/apt.log" >&2; die "apt-get update failed"; }
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q postgresql >> "$RUN/apt.log" 2>&1 \
      || { tail -20 "$RUN/apt.log" >&2; die "apt-get install postgresql failed"; }
  fi
  PG_VER="$(ls /usr/lib/postgresql | sort -n | tail -1)"
  [ "$PG_VER" = 15 ] || log "note: PostgreSQL $PG_VER, not 15, is what this machine has"
  if ! pg_lsclusters -h | awk -v v="$PG_VER" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
    $SUDO pg_createcluster "$PG_VER" main > "$RUN/pg-create.log" 2>&1 || die "pg_createcluster $PG_VER main failed"
  fi
  if ! pg_lsclusters -h | awk -v v="$PG_VER" '$1 == v && $2 == "main" && $4 == "online" {on=1} END {exit !on}'; then
    log "starting PostgreSQL $PG_VER on 127.0.0.1"
    $SUDO pg_ctlcluster "$PG_VER" main start -- -o "-c listen_addresses=127.0.0.1" > "$RUN/pg-start.log" 2>&1 \
      || { cat "$RUN/pg-start.log" >&2; die "PostgreSQL did not start"; }
    PG_STARTED=1
  fi
  [ "$installed" = 0 ] || PG_STARTED=1 # installed (and perhaps started by the package) here: stopped at the end
  local port
  port="$(pg_lsclusters -h | awk -v v="$PG_VER" '$1 == v && $2 == "main" {print $3}')"
  PSQL=(as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$port")
  for _ in $(seq 1 60); do
    "${PSQL[@]}" -d postgres -c "select 1" >/dev/null 2>&1 && return
    sleep 0.5
  done
  die "PostgreSQL $PG_VER does not accept connections"
}
# ------------------------------------------------------------------------------------------------ 4b. cluster
# serve --cluster on the same PostgreSQL (a database of its own): N nodes on 127.0.0.1 with distinct HTTP,
# Hazelcast and event-bus ports, the same keys and upload secret, every node listed in cluster.members.
UPLOAD_SECRET="bench-$$-$RANDOM$RANDOM$RANDOM"
start_cluster() { # N NAME: N fresh nodes, the first one first, returning once every node sees N members; N = 0:
  # one server on the same database without --cluster, measured the same way (what cluster mode itself costs)
  local n="$1" name="$2" members="" i command=(serve --cluster)
  if [ "$n" = 0 ]; then command=(serve); fi
  for i in $(seq 0 $(( n - 1 ))); do members+="${members:+,}127.0.0.1:$(( CLUSTER_HZ_PORT + i ))"; done
  for i in $(seq 0 $(( n > 0 ? n - 1 : 0 ))); do
    local port=$(( PORT + i ))
    rm -rf "$RUN/data-$name-node$i"
    # shellcheck disable=SC2086
    (cd "$RUN" && exec env SLUICE_HTTP_HOST=127.0.0.1 SLUICE_HTTP_PORT="$port" SLUICE_PUBLIC_URL="http://127.0.0.1:$port" \
        SLUICE_DATA_DIR="$RUN/data-$name-node$i" SLUICE_API_KEY_RW="$KEY" SLUICE_API_KEY_RO="$KEY-ro" \
        SLUICE_UPLOAD_SECRET="$UPLOAD_SECRET" SLUICE_CLUSTER_MEMBERS="$members" \
        SLUICE_CLUSTER_PORT="$(( CLUSTER_HZ_PORT + i ))" SLUICE_CLUSTER_BUS_PORT="$(( CLUSTER_BUS_PORT + i ))" \
        java $SERVER_JAVA_OPTS $CLUSTER_ENGINE_OPTS -Xlog:gc:file="$RUN/gc-$name-node$i.log" -jar "$SERVER_JAR" \
        "${command[@]}") > "$RUN/server-$name-node$i.log" 2>&1 &
    CLUSTER_PIDS+=("$!")
    CLUSTER_URLS+=("http://127.0.0.1:$port")
    # nodes started together may each find no member up and form clusters of their own (docs/cluster.md)
    if [ "$i" = 0 ] && [ "$n" -gt 1 ]; then await_nodes 1; fi
  done
  await_nodes "$n"
}
await_nodes() { # N: every started node healthy and seeing N members (N = 0: healthy, not a cluster), within 120 s
  local want="$1" i seen
  for i in "${!CLUSTER_URLS[@]}"; do
    for _ in $(seq 1 240); do
      seen="$(curl -fsS "${CLUSTER_URLS[$i]}/health" 2>/dev/null \
        | python3 -c 'import json,sys; print(json.load(sys.stdin).get("cluster", {}).get("nodes", 0))' 2>/dev/null || echo -1)"
      [ "$seen" -ge "$want" ] && break
      kill -0 "${CLUSTER_PIDS[$i]}" 2>/dev/null || { tail -30 "$RUN"/server-*-node"$i".log >&2; die "cluster node $i exited"; }
      sleep 0.5
    done
    [ "$seen" -ge "$want" ] || die "cluster node $i sees $seen of $want members after 120 s"
  done
}
PG_POSTMASTER=""
probed() { # OUT CLIENT ARGS...: the client between two snapshots of the nodes and PostgreSQL → $RUN/OUT.json
  local out="$1" i nodes=()
  shift
  for i in "${!CLUSTER_PIDS[@]}"; do nodes+=("${CLUSTER_PIDS[$i]}=${CLUSTER_URLS[$i]}"); done
  # the previous step's rows vacuumed and its dirty pages written out before the window, not during it
  "${PSQL[@]}" -d sluice_bench_cluster -c "SET client_min_messages = warning" -c "VACUUM (ANALYZE)" -c "CHECKPOINT" > /dev/null
  python3 "$BENCH_SRC/cluster_probe.py" snapshot "$RUN/$out-before.json" "$PG_POSTMASTER" sluice_bench_cluster "${nodes[@]}"
  # what the cluster's backends are doing, every 0.5 s, from one psql session (one backend, idle between samples)
  WAITS_STOP="$RUN/$out-waits.stop"
  rm -f "$WAITS_STOP"
  ( s=0; while [ ! -e "$WAITS_STOP" ]; do s=$(( s + 1 ))
      echo "SELECT $s, '-', '-', 0 UNION ALL
            SELECT $s, state, coalesce(wait_event_type || ':' || wait_event, 'CPU'), count(*) FROM pg_stat_activity
            WHERE datname = 'sluice_bench_cluster' AND pid <> pg_backend_pid() AND state <> 'idle' GROUP BY 2, 3;"
      sleep 0.5; done ) | as_postgres psql -X -q -At -F'|' -p "$PG_PORT" -d sluice_bench_cluster > "$RUN/$out-waits.txt" 2>&1 &
  WAITS_PID=$!
  "$@" > "$RUN/$out-client.json" 2> "$RUN/$out-client.err" || { stop_waits; cat "$RUN/$out-client.err" >&2; die "$out failed"; }
  stop_waits
  python3 "$BENCH_SRC/cluster_probe.py" snapshot "$RUN/$out-after.json" "$PG_POSTMASTER" sluice_bench_cluster "${nodes[@]}"
  python3 "$BENCH_SRC/cluster_probe.py" result "$RUN/$out-client.json" "$RUN/$out-before.json" "$RUN/$out-after.json" \
    "$RUN/$out-waits.txt" > "$RUN/$out.json"
}
measure_cluster() { # N: N nodes on an empty database; the import (fresh JVMs), again (warm), the batch endpoint
  local n="$1" name="cluster$1" urls timeout=$(( ROWS / 2000 + 300 ))
  if [ "$n" = 0 ]; then name=cluster-single; fi
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sluice_bench_cluster" \
    -c "CREATE DATABASE sluice_bench_cluster OWNER sluice_bench" > /dev/null
  log "cluster of $n node(s) (0: one server without --cluster): starting"
  start_cluster "$n" "$name"
  urls="$(IFS=,; echo "${CLUSTER_URLS[*]}")"
  [ "$VERSION" != unknown ] || VERSION="$(curl -fsS "${CLUSTER_URLS[0]}/version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])' || echo unknown)"
  log "cluster of $n: file import of $ROWS rows, triggered and polled on node 0"
  probed "$name-import" java -cp "$CP" BenchClient import "${CLUSTER_URLS[0]}" "$KEY" bench_import "$SCHEMA" "$GZ" "$ROWS" "$timeout"
  log "cluster of $n: the same file import again (JIT-warm nodes)"
  probed "$name-import-warm" java -cp "$CP" BenchClient import "${CLUSTER_URLS[0]}" "$KEY" bench_import_warm "$SCHEMA" "$GZ" "$ROWS" "$timeout"
  log "cluster of $n: batch endpoint, 4 clients, $BATCH_ROWS rows in batches of 1,000, round-robin over the nodes"
  probed "$name-batch4" java -Xmx2g -cp "$CP" BenchClient batch "$urls" "$KEY" bench_batch4 "$SCHEMA" "$NDJSON" \
    "$BATCH_ROWS" 4 1000 $(( BATCH_ROWS / 500 + 300 ))
  # again into a second table: with N nodes the first run also pays N JVMs' JIT of the HTTP batch path
  log "cluster of $n: batch endpoint again (JIT-warm nodes)"
  probed "$name-batch4-warm" java -Xmx2g -cp "$CP" BenchClient batch "$urls" "$KEY" bench_batch4_warm "$SCHEMA" "$NDJSON" \
    "$BATCH_ROWS" 4 1000 $(( BATCH_ROWS / 500 + 300 ))
  # what the nodes and PostgreSQL spend with no request at all (heartbeats, leases, gauges, GC): the fixed part
  log "cluster of $n: ${CLUSTER_IDLE_SECONDS} s idle"
  probed "$name-idle" python3 -c 'import json, sys, time; time.sleep(int(sys.argv[1])); print(json.dumps({"ok": True, "idleSeconds": int(sys.argv[1])}))' "$CLUSTER_IDLE_SECONDS"
  stop_cluster
  rm -rf "$RUN"/data-"$name"-node*
  "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench_cluster" > /dev/null
}
cluster_settings() {
  local data
  data="$(pg_lsclusters -h | awk -v v="$PG_VER" '$1 == v && $2 == "main" {print $6}')"
  PG_POSTMASTER="$($SUDO head -1 "$data/postmaster.pid")"
  CLUSTER_ENGINE_OPTS="-Dsluice.store.type=postgres \
    -Dsluice.store.postgres.url=postgresql://127.0.0.1:$PG_PORT/sluice_bench_cluster \
    -Dsluice.store.postgres.user=sluice_bench -Dsluice.store.postgres.password.file=$PG_PASSWORD_FILE"
}
measure_clusters() {
  cluster_settings
  measure_cluster 0
  measure_cluster 1
  measure_cluster "$CLUSTER_NODES_MAX"
}
gatling_cluster() { # ClusterSimulation against 3 fresh nodes → $RUN/cluster-gatling.json (its summary) and .log
  local urls rc=0
  cluster_settings
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sluice_bench_cluster" \
    -c "CREATE DATABASE sluice_bench_cluster OWNER sluice_bench" > /dev/null
  log "Gatling ClusterSimulation against $CLUSTER_NODES_MAX nodes: starting them"
  start_cluster "$CLUSTER_NODES_MAX" gatling
  urls="$(IFS=,; echo "${CLUSTER_URLS[*]}")"
  log "Gatling ClusterSimulation against $urls (log: $RUN/cluster-gatling.log)"
  # shellcheck disable=SC2086
  (cd "$HERE" && mvn -B -o gatling:test -Dgatling.simulationClass=io.sluice.loadtest.ClusterSimulation \
      -Dsluice.urls="$urls" -Dsluice.key="$KEY" ${BENCH_GATLING_OPTS:-}) > "$RUN/cluster-gatling.log" 2>&1 || rc=$?
  stop_cluster
  rm -rf "$RUN"/data-gatling-node*
  "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench_cluster" > /dev/null
  python3 "$BENCH_SRC/gatling_summary.py" "$RUN/cluster-gatling.log" "$rc" "${BENCH_GATLING_OPTS:-}" \
    > "$RUN/cluster-gatling.json"
  [ "$rc" = 0 ] || log "the Gatling ClusterSimulation failed (exit $rc): see $RUN/cluster-gatling.log"
}

COPY_OPTS="WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" # one JSON document per line, taken as is
PG_MWM="256MB"
if [ "$PG" = 1 ]; then
  pg_prepare
  PG_FULL_VERSION="$("${PSQL[@]}" -d postgres -tAc "show server_version" | awk '{print $1}')"
fi
if [ "$PG" = 1 ] && ! skipped pgraw; then
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sluice_bench" \
    -c "CREATE DATABASE sluice_bench" > /dev/null
  PGDB=("${PSQL[@]}" -d sluice_bench)

  log "PostgreSQL $PG_FULL_VERSION: COPY into one jsonb column"
  "${PGDB[@]}" -c "CREATE TABLE bench_jsonb (doc jsonb)"
  t0="$(now)"
  "${PGDB[@]}" -c "COPY bench_jsonb (doc) FROM STDIN $COPY_OPTS" < "$NDJSON"
  t1="$(now)"
  JSONB_S="$(elapsed "$t0" "$t1")"
  [ "$("${PGDB[@]}" -tAc "select count(*) from bench_jsonb")" = "$ROWS" ] || die "COPY into jsonb stored a wrong row count"
  "${PGDB[@]}" -c "DROP TABLE bench_jsonb"

  log "PostgreSQL $PG_FULL_VERSION: COPY into staging, then typed table and indexes"
  "${PGDB[@]}" -c "CREATE UNLOGGED TABLE bench_stage (doc jsonb)" \
    -c "CREATE TABLE bench_typed (id int NOT NULL, name text NOT NULL, tags text NOT NULL, age int NOT NULL,
          price numeric NOT NULL, active boolean NOT NULL, category text NOT NULL, description text NOT NULL)"
  t0="$(now)"
  "${PGDB[@]}" -c "COPY bench_stage (doc) FROM STDIN $COPY_OPTS" < "$NDJSON"
  t1="$(now)"
  "${PGDB[@]}" -c "INSERT INTO bench_typed SELECT (doc->>'id')::int, doc->>'name', doc->>'tags', (doc->>'age')::int,
          (doc->>'price')::numeric, (doc->>'active')::boolean, doc->>'category', doc->>'description' FROM bench_stage"
  t2="$(now)"
  "${PGDB[@]}" -c "SET maintenance_work_mem = '$PG_MWM'" \
    -c "CREATE INDEX bench_typed_age ON bench_typed (age)" \
    -c "CREATE INDEX bench_typed_category ON bench_typed (category)" \
    -c "CREATE INDEX bench_typed_description ON bench_typed USING gin (to_tsvector('english', description))"
  t3="$(now)"
  [ "$("${PGDB[@]}" -tAc "select count(*) from bench_typed")" = "$ROWS" ] || die "the typed load stored a wrong row count"
  python3 - "$PG_FULL_VERSION" "$ROWS" "$JSONB_S" "$(elapsed "$t0" "$t1")" "$(elapsed "$t1" "$t2")" \
      "$(elapsed "$t2" "$t3")" "$(elapsed "$t0" "$t3")" "$PG_MWM" > "$RUN/pg.json" <<'EOF'
import json, sys
v, rows, jsonb, copy_s, insert_s, index_s, total, mwm = sys.argv[1:]
rows = int(rows)
print(json.dumps({"version": v, "maintenanceWorkMem": mwm,
                  "jsonb": {"seconds": float(jsonb), "rowsPerSec": round(rows / float(jsonb))},
                  "typed": {"seconds": float(total), "copySeconds": float(copy_s), "insertSeconds": float(insert_s),
                            "indexSeconds": float(index_s), "rowsPerSec": round(rows / float(total)),
                            "staging": "UNLOGGED jsonb table"}}))
EOF
  "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench" > /dev/null
elif [ "$PG" = 1 ]; then
  echo '{"skipped": "BENCH_SKIP pgraw"}' > "$RUN/pg.json"
else
  echo '{"skipped": "--skip-pg"}' > "$RUN/pg.json"
fi

if [ "$PG" = 1 ]; then
  # Sluice on the PostgreSQL engine, against the same PostgreSQL (a database and role of its own, over TCP
  # with a password as an operator would run it): the same file import and the batch endpoint with 4 clients.
  PG_PORT="$(pg_lsclusters -h | awk -v v="$PG_VER" '$1 == v && $2 == "main" {print $3}')"
  PG_PASSWORD_FILE="$RUN/pg-password"
  ( umask 077; printf 'bench-%s-%s' "$$" "$RANDOM$RANDOM" > "$PG_PASSWORD_FILE" )
  "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS sluice_bench_engine" \
    -c "DROP ROLE IF EXISTS sluice_bench" \
    -c "CREATE ROLE sluice_bench LOGIN PASSWORD '$(cat "$PG_PASSWORD_FILE")'" \
    -c "CREATE DATABASE sluice_bench_engine OWNER sluice_bench" > /dev/null
  PG_ENGINE_OPTS="-Dsluice.store.type=postgres \
    -Dsluice.store.postgres.url=postgresql://127.0.0.1:$PG_PORT/sluice_bench_engine \
    -Dsluice.store.postgres.user=sluice_bench -Dsluice.store.postgres.password.file=$PG_PASSWORD_FILE"
  if ! skipped pgengine; then
    SERVER_JAVA_OPTS_SAVED="$SERVER_JAVA_OPTS"
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS $PG_ENGINE_OPTS"
    drop_engine_schema() { "${PSQL[@]}" -d sluice_bench_engine -c "SET client_min_messages = warning" \
      -c "DROP SCHEMA IF EXISTS sluice CASCADE" > /dev/null; }
    pg_import() { import_named pg-import "$ROWS" "$GZ"; drop_engine_schema; }
    pg_batch() { batch4 pg bench_batch4; drop_engine_schema; }
    on_baseline pg_import
    pg_import
    on_baseline pg_batch
    pg_batch
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS_SAVED"
  fi
  "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench_engine" > /dev/null
  if [ "$CLUSTER" = 1 ]; then measure_clusters; fi
  if [ "$CLUSTER_GATLING" = 1 ]; then gatling_cluster; fi
  [ "$MIXED" = 1 ] || "${PSQL[@]}" -d postgres -c "DROP ROLE sluice_bench" > /dev/null # the mixed rows use it
fi

# ------------------------------------------------------------------------------------------------ 5. scaling
if [ "$SCALING" = 1 ]; then
  gen_data "$SCALING_ROWS" 0
  measure_import scaling-import "$SCALING_ROWS" "$DATA/bench-$SCALING_ROWS.ndjson.gz"
  python3 -c 'import json,sys; print(json.dumps({"rows": int(sys.argv[1]), "import": json.load(open(sys.argv[2]))}))' \
    "$SCALING_ROWS" "$RUN/scaling-import.json" > "$RUN/scaling.json"
fi

# ------------------------------------------------------------------------------------------------ 6. mixed
if [ "$MIXED" = 1 ]; then
  gen_data "$MIXED_ROWS" 0
  mixed_server() { # NAME ENGINE → $RUN/NAME$SUFFIX.json: a fresh server's import with a reader and a writer beside it
    local name="$1$SUFFIX" engine="$2"
    start_server "$name"
    log "mixed$engine: import of $MIXED_ROWS rows with a reader and a writer beside it"
    java -Xmx1g -cp "$CP" BenchClient mixed "$BASE" "$KEY" "$SCHEMA" "$NDJSON" "$DATA/bench-$MIXED_ROWS.ndjson.gz" \
      "$MIXED_ROWS" $(( MIXED_ROWS / 2000 + 300 )) > "$RUN/$name.json" 2> "$RUN/$name.err" \
      || { cat "$RUN/$name.err" >&2; die "the mixed measurement$engine failed"; }
    # the lanes' wait and service histograms, to tell a slow search's queueing from its store time
    curl -fsS "$BASE/metrics" > "$RUN/metrics-$name.txt" 2>/dev/null || true
    stop_server
    rm -rf "$RUN/data-$name"
  }
  mixed_lucene() { mixed_server mixed ""; }
  if ! skipped lucene; then
    on_baseline mixed_lucene
    mixed_lucene
  fi
  if [ "$PG" = 1 ]; then
    # The same on the PostgreSQL engine (the baseline jar first, when given), then the raw peer beside its own
    # load of the same file.
    mixed_pg() {
      "${PSQL[@]}" -d postgres -c "SET client_min_messages = warning" \
        -c "DROP DATABASE IF EXISTS sluice_bench_engine" -c "CREATE DATABASE sluice_bench_engine OWNER sluice_bench" \
        > /dev/null
      mixed_server mixed-pg " on the PostgreSQL engine"
      "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench_engine" > /dev/null
    }
    SERVER_JAVA_OPTS_SAVED="$SERVER_JAVA_OPTS"
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS $PG_ENGINE_OPTS"
    on_baseline mixed_pg
    mixed_pg
    SERVER_JAVA_OPTS="$SERVER_JAVA_OPTS_SAVED"
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE sluice_bench" > /dev/null
    log "mixed on raw PostgreSQL: its own load of $MIXED_ROWS rows with a reader and a writer beside it"
    if [ "$(id -u)" = 0 ]; then PG_AS=(runuser -u postgres --); else PG_AS=(sudo -n -u postgres); fi
    python3 "$HERE/bench/pg_mixed.py" "$DATA/bench-$MIXED_ROWS.ndjson.gz" "$MIXED_ROWS" 10 \
      "${PG_AS[@]}" psql -X -p "$PG_PORT" -d sluice_bench > "$RUN/mixed-peer.json" 2> "$RUN/mixed-peer.err" \
      || { cat "$RUN/mixed-peer.err" >&2; die "the mixed measurement on raw PostgreSQL failed"; }
    "${PSQL[@]}" -d postgres -c "DROP DATABASE sluice_bench" -c "DROP ROLE sluice_bench" > /dev/null
  fi
fi

# ------------------------------------------------------------------------------------------------ report
python3 - "$ROWS" "$(stat -c %s "$NDJSON")" "$(stat -c %s "$GZ")" "$LOAD_START" "$(cut -d' ' -f1-3 /proc/loadavg)" \
    "$(nproc)" "$(awk '/MemTotal/ {printf "%.1f", $2 / 1048576}' /proc/meminfo)" \
    "$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)" "$(java -version 2>&1 | head -1)" \
    "$VERSION" "$SERVER_JAVA_OPTS" "$(date -u -d "@${RUN_ID_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)" "${PG_FULL_VERSION:-}" \
    > "$RUN/machine.json" <<'EOF'
import json, sys
a = sys.argv[1:]
print(json.dumps({"rows": int(a[0]), "ndjsonBytes": int(a[1]), "gzipBytes": int(a[2]), "loadStart": a[3],
                  "loadEnd": a[4], "nproc": int(a[5]), "memGiB": float(a[6]), "cpu": a[7], "java": a[8],
                  "sluiceVersion": a[9], "serverJavaOpts": a[10], "date": a[11], "pgVersion": a[12] or None}))
EOF
python3 "$HERE/bench/report.py" "$RUN" "$RESULTS/bench-$RUN_ID.json" | tee "$RUN/table.md"
cp "$RESULTS/bench-$RUN_ID.json" "$RESULTS/latest.json"
