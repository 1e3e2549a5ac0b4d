#!/usr/bin/env bash
# bench:cluster — raftgen vs etcd 3.4 on this machine, same load, same run.
#
#   npm run bench:cluster
#
# 1. Builds the runtime (npm run build) and runs `raftgen cluster examples/placement-center`:
#    the generated placement-center as 3 node processes on 127.0.0.1 (fsync on: every Ready
#    with entries is a synced RocksDB batch), data under /tmp/raftgen-bench.
# 2. Drives them with the shared load generator (../shared/bench/loadgen, through
#    bench/loadgen-adapter.cjs): puts of 100-byte values at 1 / 16 / 64 / 256 clients,
#    linearizable gets at 64 / 256, and a leader kill -9 failover trial — the points of
#    ../shared/bench/etcd-baseline.sh, with the same generator options. The adapter calls the
#    generated PlacementCenterClient (set / get), the client a user of the example gets.
# 3. Runs ../shared/bench/etcd-baseline.sh (unless SKIP_ETCD=1) with the same DUR / REPS.
# 4. Prints both summaries (the generator's summarize.js: medians, ops/s, p50/p99, server
#    cores, ops per server core-second).
#
# Knobs: DUR [10] WARMUP [2] REPS [3] FO_TRIALS [2] SKIP_ETCD [0] BASE_PORT [33379]
#        (gRPC ports BASE_PORT..+2, HTTP ports BASE_PORT+1000..+2) KEEP_RESULTS [] (copy the raw JSONL here)
#        PUT_POINTS ["1 16 64 256"] GET_POINTS ["64 256"] (client counts; " " skips them)
# Bounded: every loadgen run is time-bounded; the script stops only the processes it started.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
SHARED=$(cd "$ROOT/../shared/bench" && pwd)
DUR=${DUR:-10}
WARMUP=${WARMUP:-2}
REPS=${REPS:-3}
FO_TRIALS=${FO_TRIALS:-2}
SKIP_ETCD=${SKIP_ETCD:-0}
BASE_PORT=${BASE_PORT:-33379}
KEEP_RESULTS=${KEEP_RESULTS:-}
WORK=/tmp/raftgen-bench
RESULTS="$WORK/results.jsonl"
ADAPTER="$HERE/loadgen-adapter.cjs"
T_START=$SECONDS
log() { printf '[%4ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }

CLUSTER_PID=""
stop_cluster() { # SIGINT = Ctrl-C: raftgen cluster stops every node cleanly
  if [[ -n "$CLUSTER_PID" ]]; then
    kill -INT "$CLUSTER_PID" 2>/dev/null || true
    wait "$CLUSTER_PID" 2>/dev/null || true
    CLUSTER_PID=""
  fi
}
cleanup() {
  local rc=$?
  stop_cluster
  if [[ -n "$KEEP_RESULTS" && -f "$RESULTS" ]]; then cp "$RESULTS" "$KEEP_RESULTS"; fi
  exit $rc
}
trap cleanup EXIT INT TERM

# ---------------------------------------------------------------- load generator
LG="$SHARED/loadgen"
if [ ! -w "$LG" ]; then
  if [ ! -d /tmp/raftgen-loadgen/node_modules ]; then
    rm -rf /tmp/raftgen-loadgen && cp -r "$LG" /tmp/raftgen-loadgen && chmod -R u+w /tmp/raftgen-loadgen
  fi
  LG=/tmp/raftgen-loadgen
fi
if [ ! -d "$LG/node_modules" ]; then
  log "installing load generator dependencies (npm ci)"
  (cd "$LG" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# ---------------------------------------------------------------- raftgen cluster
log "building the runtime"
(cd "$ROOT" && npm run --silent build)
rm -rf "$WORK" && mkdir -p "$WORK"
EPS="127.0.0.1:$BASE_PORT,127.0.0.1:$((BASE_PORT + 1)),127.0.0.1:$((BASE_PORT + 2))"
start_cluster() { # raftgen cluster in the background; returns once cluster.json is there
  rm -f "$WORK/data/cluster.json"
  node "$ROOT/bin/raftgen.js" cluster "$ROOT/examples/placement-center" --port "$BASE_PORT" --data "$WORK/data" >>"$WORK/cluster.out" 2>&1 &
  CLUSTER_PID=$!
  local deadline=$((SECONDS + 60))
  until [[ -f "$WORK/data/cluster.json" ]]; do
    if ((SECONDS > deadline)) || ! kill -0 "$CLUSTER_PID" 2>/dev/null; then
      echo "raftgen cluster did not start:" >&2
      tail -n 20 "$WORK/cluster.out" >&2
      return 1
    fi
    sleep 0.2
  done
}
node_pid() { # i -> pid of node i, from cluster.json
  node -e 'const c = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(c.find((n) => n.id === Number(process.argv[2])).pid ?? "")' "$WORK/data/cluster.json" "$1"
}
http_of() { echo $((BASE_PORT + 1000 + $1 - 1)); }
leader_index() { # 1..3
  local i
  for i in 1 2 3; do
    curl -s --max-time 1 "127.0.0.1:$(http_of "$i")/status" 2>/dev/null | node -e '
      let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
        try { const j = JSON.parse(s); if (j.softState.raftState === "Leader") console.log(j.id); } catch {}
      });'
  done | head -n 1
}
wait_leader() { # seconds
  local deadline=$((SECONDS + $1)) l
  while ((SECONDS < deadline)); do
    l=$(leader_index)
    if [[ -n "$l" ]]; then echo "$l"; return 0; fi
    sleep 0.2
  done
  echo "no leader within $1 s" >&2
  tail -n 20 "$WORK/cluster.out" >&2 || true
  return 1
}
pids() { local out=() i; for i in 1 2 3; do out+=("$(node_pid "$i")"); done; (IFS=,; echo "${out[*]}"); }

log "raftgen cluster examples/placement-center ($EPS), data under $WORK/data"
start_cluster
L=$(wait_leader 30)
log "leader: node $L"

run_point() { # label loadgen-args...
  local label=$1 rep
  shift
  for rep in $(seq "$REPS"); do
    node "$LG/src/cli.js" --target "$ADAPTER" --endpoints "$EPS" --server-pids "$(pids)" \
      --warmup "$WARMUP" --duration "$DUR" --label "$label" "$@" >"$WORK/run.json"
    node -e '
      const j = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
      j.rep = Number(process.argv[2]);
      console.log(JSON.stringify(j));
      const L = j.latency_ms;
      console.error(`        ${j.label} #${j.rep}: ${Math.round(j.ops_per_s)} ops/s  p50 ${L.p50} p99 ${L.p99} ms  ` +
        `errors ${j.errors}  busy ${j.cpu.machine_busy_pct}%  loadgen ${j.cpu.loadgen_cores} raftgen ${j.cpu.server_cores} cores`);
    ' "$WORK/run.json" "$rep" >>"$RESULTS"
  done
}

log "puts, 100-byte values, key space 10000"
for c in ${PUT_POINTS:-1 16 64 256}; do
  run_point "raftgen 3-node put c=$c" --op put --clients "$c" --value-size 100 --key-space 10000
done
log "linearizable gets"
for c in ${GET_POINTS:-64 256}; do
  run_point "raftgen 3-node get c=$c" --op get --clients "$c" --value-size 100 --key-space 10000
done

log "failover: puts at 16 clients (1 s deadline) + a put probe every 20 ms, kill -9 the leader"
for t in $(seq "$FO_TRIALS"); do
  L=$(wait_leader 30)
  sleep 1
  node "$LG/src/cli.js" --target "$ADAPTER" --endpoints "$EPS" --server-pids "$(pids)" --op put --clients 16 \
    --value-size 100 --key-space 10000 --warmup 1 --duration 10 --timeout-ms 1000 --timeline \
    --probe-interval-ms 20 --label "raftgen failover-$t" >"$WORK/fo-$t.json" &
  LGPID=$!
  VICTIM=$(node_pid "$L")
  sleep 4
  KILL_MS=$(date +%s%3N)
  kill -KILL "$VICTIM"
  wait "$LGPID"
  node "$LG/src/failover-record.js" "$WORK/fo-$t.json" "$KILL_MS" "$t" "n$L" >>"$RESULTS"
  tail -n 1 "$RESULTS" >&2
  # raftgen cluster reports the killed node and does not restart it: restart the cluster on
  # the same data directory (the killed node catches up).
  stop_cluster
  start_cluster
done

log "raftgen summary"
node "$LG/src/summarize.js" "$RESULTS"
stop_cluster

if [[ "$SKIP_ETCD" != "1" ]]; then
  log "etcd baseline (same machine, same generator, same points)"
  DUR=$DUR WARMUP=$WARMUP REPS=$REPS FO_TRIALS=$FO_TRIALS bash "$SHARED/etcd-baseline.sh"
fi
log "done"
