#!/usr/bin/env bash
# Sluice's soak: one server, mixed load for MINUTES, sampled every 30 s; fails when something grows without bound.
#
#   load-tests/soak.sh [MINUTES]          (default 30; needs Java 17 JDK and, to build the jar, Maven)
#
# It builds target/sluice.jar if missing (mvn -B -q -DskipTests package), starts it on 127.0.0.1:$SOAK_PORT with
# a fresh temporary data directory and generated keys, and runs the load driver load-tests/soak/Soak.java (Java
# source launcher, JDK HTTP client; all traffic to 127.0.0.1 only) until the deadline:
#   - 1 importer: a gzipped NDJSON file of $SOAK_IMPORT_ROWS rows (generated once), imported again and again
#     (initiate → PUT to the signed URL → trigger → poll), alternating two tables, each dropped and recreated
#     before its import;
#   - $SOAK_WRITERS batch writers: 500–5,000-row batches into soak_batch;
#   - 1 deleter: a _delete with a where-clause on soak_batch every 3 s, and the table dropped and recreated
#     every $SOAK_DROP_SECONDS s;
#   - $SOAK_READERS readers: _search on all tables (text match, $and with ranges, ordering, select, counts);
#   - 1 read-your-writes probe: a 10-row batch to soak_probe with a name of its own, then at once a _search
#     for that name; fewer hits than rows acknowledged is a miss (searched again 1 s later: late or lost).
# Every $SOAK_SAMPLE_SECONDS s (default 30) it samples the server: RSS (/proc/PID/status VmRSS); open files
# (/proc/PID/fd) and those on deleted files (links ending " (deleted)"), counted before the GC below; heap
# used after GC (`jcmd PID GC.run`, then the sum of jvm_memory_used_bytes{area="heap"} from GET /metrics;
# SOAK_FORCE_GC=false reads jvm_gc_live_data_size_bytes instead, with no forced GC); threads (/proc/PID/status);
# data directory bytes (regular files, as du -sb) per live row (sum of _search limit 0 totals); import jobs
# (entries of GET /api/v1/data/_imports?limit=1000, and its "dropped" field when the server has one); and the
# reader (_search) and writer (batch POST) latency p50/p99 over the interval, measured by the driver. When the
# load has stopped (an import in flight is awaited) and the server has been idle 7 s, one last "quiesced"
# sample is taken.
#
# The server keeps finished import jobs for import.keep.seconds; the soak sets it to MINUTES*10 s, within
# 30–300 s (SOAK_IMPORT_KEEP_SECONDS overrides), so the job list must level off during the run.
#
# FAILURE RULE (exit 1, "FAIL: <what>" lines; exit 0 and PASS otherwise; exit 2 when the soak could not run):
#   - a metric grows without bound: with F, M, L the medians of the first, middle and last third of the
#     samples taken under load after the warm-up (the first 10 % of the run, at least 60 s: heap sizing, JIT,
#     thread pools filling), L > 1.5 × F  AND  L − F > the metric's floor  AND  F ≤ M ≤ L  AND  every sample
#     of the last third > F (a rise, not a spike). Floors: RSS 128 MB, heap after GC 32 MB, open files 16, open
#     files on deleted files 2, threads 8, data bytes per live row 200, import jobs listed 10, reader p99
#     250 ms, writer p99 500 ms. Judged only with at least 6 samples after the warm-up (a run of 4 minutes
#     at 30 s); p50s, live rows and data size are shown, not judged;
#   - any open file on a deleted file in the quiesced end sample;
#   - any read-your-writes miss;
#   - any request error (non-2xx answer, transport failure, an import not Finished with every row);
#   - the server process gone before the end.
#
# Output: the table (Markdown) on stdout and in target/soak/soak-<UTC time>.md, the raw samples in
# target/soak/soak-<UTC time>.csv; the server's log in target/soak/run-<UTC time>/; the import file (seed 42, so
# the same every time) in target/soak/, kept for the next run. The data directory is deleted at the end unless
# SOAK_KEEP_DATA=1.
# Environment: SOAK_PORT (default 18191), SLUICE_JAVA_OPTS (server JVM options, e.g. -Xmx1g), SOAK_IMPORT_ROWS
#   (300000), SOAK_WRITERS (2), SOAK_READERS (4), SOAK_SAMPLE_SECONDS (30), SOAK_DROP_SECONDS (120),
#   SOAK_FORCE_GC (true), SOAK_IMPORT_KEEP_SECONDS, SOAK_KEEP_DATA (0), SOAK_DATA_PARENT (where the temporary
#   data directory is made; default $TMPDIR or /tmp), SOAK_JAR (soak this jar instead of target/sluice.jar,
#   never built by the script).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

MINUTES="${1:-30}"
case "$MINUTES" in
  -h|--help) sed -n '2,52p' "$0"; exit 0 ;;
  ''|*[!0-9]*|0) echo "soak.sh: MINUTES must be a whole number ≥ 1 (usage: soak.sh [MINUTES])" >&2; exit 2 ;;
esac
[ $# -le 1 ] || { echo "soak.sh: one argument at most (usage: soak.sh [MINUTES])" >&2; exit 2; }
PORT="${SOAK_PORT:-18191}"
BASE="http://127.0.0.1:$PORT"
SAMPLE_SECONDS="${SOAK_SAMPLE_SECONDS:-30}"
KEEP_SECONDS="${SOAK_IMPORT_KEEP_SECONDS:-$(( MINUTES * 10 < 30 ? 30 : (MINUTES * 10 > 300 ? 300 : MINUTES * 10) ))}"

log() { printf '[soak.sh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'soak.sh: %s\n' "$*" >&2; exit 2; }

command -v java >/dev/null 2>&1 || die "'java' is not installed (needed: a Java 17 JDK)"
JAVA_MAJOR="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/ {print $2}')"
[ "${JAVA_MAJOR%%.*}" -ge 17 ] 2>/dev/null || die "Java 17 or newer is needed (found '$JAVA_MAJOR')"
[ -d "/proc/$$" ] || die "/proc is needed (Linux) to sample the server"
if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
  die "port $PORT on 127.0.0.1 is in use; choose another with SOAK_PORT=..."
fi

# ------------------------------------------------------------------------------------------------ build
JAR="${SOAK_JAR:-$ROOT/target/sluice.jar}"
if [ -n "${SOAK_JAR:-}" ]; then
  [ -f "$JAR" ] || die "SOAK_JAR=$JAR: no such file"
elif [ ! -f "$JAR" ]; then
  command -v mvn >/dev/null 2>&1 || die "no $JAR and no 'mvn' to build it"
  log "building Sluice (mvn -B -q -DskipTests package)"
  (cd "$ROOT" && mvn -B -q -DskipTests package) >&2 || die "the build failed"
fi
RUN_ID="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$ROOT/target/soak"
RUN="$OUT/run-$RUN_ID"
mkdir -p "$RUN"
cp "$JAR" "$RUN/sluice.jar" # a copy, so a rebuild during the soak does not change the server under test
JAR="$RUN/sluice.jar"
COMMIT="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ "$COMMIT" != unknown ] && [ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  COMMIT="$COMMIT+changes"
fi
[ -z "${SOAK_JAR:-}" ] || COMMIT="jar $SOAK_JAR" # not built from this tree
DATA="$(mktemp -d "${SOAK_DATA_PARENT:-${TMPDIR:-/tmp}}/sluice-soak-data.XXXXXX")"
KEY="soak-$$-$RANDOM$RANDOM$RANDOM"

# ------------------------------------------------------------------------------------------------ server
SERVER_PID=""
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 60); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=""
}
cleanup() {
  local rc=$?
  stop_server
  if [ "${SOAK_KEEP_DATA:-0}" = 1 ]; then
    log "data directory kept: $DATA"
  else
    rm -rf "$DATA"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# from the run directory: no conf/sluice.json there, so the server runs on the jar's defaults
# shellcheck disable=SC2086
(cd "$RUN" && exec env SLUICE_HTTP_HOST=127.0.0.1 SLUICE_HTTP_PORT="$PORT" SLUICE_PUBLIC_URL="$BASE" \
    SLUICE_DATA_DIR="$DATA" SLUICE_API_KEY_RW="$KEY" SLUICE_API_KEY_RO="$KEY-ro" \
    SLUICE_IMPORT_KEEP_SECONDS="$KEEP_SECONDS" \
    java ${SLUICE_JAVA_OPTS:-} -jar "$JAR") > "$RUN/server.log" 2>&1 &
SERVER_PID=$!
log "Sluice $COMMIT started (pid $SERVER_PID) on $BASE, data in $DATA, import.keep.seconds=$KEEP_SECONDS; soak of $MINUTES min"

# ------------------------------------------------------------------------------------------------ the soak
# The driver waits for readiness itself (GET /ready, at most 120 s); the key reaches it by environment only.
set +e
SOAK_KEY="$KEY" java -Xmx512m -cp "$JAR" "$HERE/soak/Soak.java" --url "$BASE" --pid "$SERVER_PID" \
  --data "$DATA" --minutes "$MINUTES" --out "$OUT/soak-$RUN_ID" --commit "$COMMIT" \
  --import-rows "${SOAK_IMPORT_ROWS:-300000}" --readers "${SOAK_READERS:-4}" --writers "${SOAK_WRITERS:-2}" \
  --sample-seconds "$SAMPLE_SECONDS" --drop-seconds "${SOAK_DROP_SECONDS:-120}" \
  --force-gc "${SOAK_FORCE_GC:-true}"
RC=$?
set -e
if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  log "the server exited during the soak; its log: $RUN/server.log"
  tail -20 "$RUN/server.log" >&2 || true
fi
case "$RC" in
  0) log "PASS" ;;
  1) log "FAIL (see the FAIL lines above)" ;;
  *) log "the soak could not run (exit $RC); server log: $RUN/server.log" ;;
esac
exit "$RC"
