#!/usr/bin/env bash
# bench/profile.sh: where a dynakv node's CPU goes under one redis-benchmark
# workload. Builds dynakv, starts `dynakv dev --nodes N --pprof`, prefills
# the keys, then runs `redis-benchmark -c C -r R -t TEST -P P` for the
# profile's duration while taking a CPU profile (and, after it, a heap
# allocation profile) of the process, and prints pprof's top functions
# (flat and cumulative) with the requests per second the run made.
#
#   bench/profile.sh [--nodes 1] [-t set] [-P 1] [-c 50] [-r 100000]
#                    [--seconds 15] [--prefill 100000] [--base 29379] [--out DIR]
#
# Ports: B (dynakv's RESP, B..B+N-1), B+100 (gossip), B+200 (pprof).
# Everything listens on 127.0.0.1 and is stopped when the script ends; the
# profiles are kept in --out (default a temporary directory, printed) for
# `go tool pprof -http`.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh

nodes=1 test=set pipe=1 c=50 r=100000 seconds=15 prefill=100000 base=29379 out=""
while [ $# -gt 0 ]; do
  case $1 in
  --nodes) nodes=$2; shift 2 ;;
  -t) test=$2; shift 2 ;;
  -P) pipe=$2; shift 2 ;;
  -c) c=$2; shift 2 ;;
  -r) r=$2; shift 2 ;;
  --seconds) seconds=$2; shift 2 ;;
  --prefill) prefill=$2; shift 2 ;;
  --base) base=$2; shift 2 ;;
  --out) out=$2; shift 2 ;;
  *) echo "usage: $0 [--nodes N] [-t TEST] [-P P] [-c C] [-r R] [--seconds S] [--prefill K] [--base B] [--out DIR]" >&2; exit 2 ;;
  esac
done
require_tools
command -v curl >/dev/null || { echo "curl not installed (apt-get install curl)" >&2; exit 1; }
[ -n "$out" ] || out=$(mktemp -d /tmp/dynakv-profile.XXXXXX)
mkdir -p "$out"
work=$(mktemp -d /tmp/dynakv-profile-run.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/dynakv" ./cmd/dynakv
pprof=127.0.0.1:$((base + 200))
"$work/dynakv" dev --nodes "$nodes" --port "$base" --gossip-port $((base + 100)) --data "$work/data" \
  --log-level warn --pprof "$pprof" >"$work/dev.log" 2>&1 &
pids+=($!)
await_servers "$work" "$base"
if [ "$prefill" -gt 0 ]; then
  redis-benchmark -p "$base" -t set -n "$prefill" -r "$prefill" -c 50 -q >/dev/null 2>&1 || true
fi

# The load runs longer than the profile, so the profile sees it throughout.
args=(-p "$base" -t "$test" -c "$c" -P "$pipe" -n 100000000 --csv)
[ -n "$r" ] && args+=(-r "$r")
timeout $((seconds + 4)) redis-benchmark "${args[@]}" >"$work/load.csv" 2>/dev/null &
load=$!
sleep 2
before=$(redis-cli -p "$base" INFO stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ {print $2}')
curl -s -o "$out/cpu.pprof" "http://$pprof/debug/pprof/profile?seconds=$seconds"
after=$(redis-cli -p "$base" INFO stats | tr -d '\r' | awk -F: '/^total_commands_processed:/ {print $2}')
curl -s -o "$out/allocs.pprof" "http://$pprof/debug/pprof/allocs"
wait $load 2>/dev/null || true
cp "$work/dynakv" "$out/dynakv"

echo "# dynakv dev --nodes $nodes, redis-benchmark -t $test -c $c -P $pipe ${r:+-r $r}, ${seconds} s CPU profile"
echo "# commands processed by the node the benchmark talks to: $(( (after - before) / seconds ))/s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# profiles: $out (go tool pprof -http :0 $out/dynakv $out/cpu.pprof)"
echo
echo "## CPU, flat"
go tool pprof -top -nodecount 25 "$out/dynakv" "$out/cpu.pprof" 2>/dev/null | sed -n '1,35p'
echo
echo "## CPU, cumulative"
go tool pprof -top -cum -nodecount 40 "$out/dynakv" "$out/cpu.pprof" 2>/dev/null | sed -n '6,50p'
echo
echo "## allocated bytes since start, cumulative"
go tool pprof -sample_index=alloc_space -top -cum -nodecount 25 "$out/dynakv" "$out/allocs.pprof" 2>/dev/null | sed -n '6,35p'
