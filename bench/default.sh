#!/usr/bin/env bash
# redis-benchmark's own default run (`redis-benchmark -q -n N`: its whole
# default test list, 50 clients, one key per test as redis-benchmark names
# them without -r) against an in-memory redis-server, a lone dynakv node
# (`dynakv dev --nodes 1`) and the 3-node dev cluster (N=3 R=2 W=2), one
# after the other in one run on this machine. Prints a markdown table of
# requests per second with dynakv's ratio to redis-server, and the error
# replies each run printed (issue 14: the run must finish without one).
#
#   bench/default.sh [-n 20000] [--timeout 900] [--base 28379]
#
# Ports (127.0.0.1): B (redis-server), B+100 (lone), B+200..B+202
# (cluster), gossip B+300 and B+310..B+312. Each run is cut off after
# --timeout seconds; the servers and their data are removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
n=20000 limit=900 base=28379
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    --timeout) limit=$2; shift 2;;
    --base) base=$2; shift 2;;
    *) echo "usage: $0 [-n requests] [--timeout s] [--base port]" >&2; exit 2;;
  esac
done
. bench/lib.sh # require_tools, await_servers, measure
require_tools
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv

mem=$base lone=$((base + 100)) cluster=$((base + 200))
redis-server --port $mem --save "" --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
"$out/dynakv" dev --nodes 1 --port $lone --gossip-port $((base + 300)) --data "$out/lone" --log-level warn >"$out/lone.log" 2>&1 &
"$out/dynakv" dev --nodes 3 --port $cluster --gossip-port $((base + 310)) --data "$out/cluster" --log-level warn >"$out/cluster.log" 2>&1 &
await_servers "$out" $mem $lone $cluster

echo "redis-benchmark -q -n $n (default tests, -c 50); $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
# run NAME PORT: the default run, its CSV rows in $out/NAME.csv and every
# other line it printed (errors) in $out/NAME.err.
run() {
  local began=$(date +%s)
  { timeout "$limit" redis-benchmark -p "$2" -n "$n" --csv 2>&1 || true; } | tr '\r' '\n' >"$out/$1.raw"
  grep '^"' "$out/$1.raw" | grep -v '^"test"' >"$out/$1.csv" || true
  grep -v '^"' "$out/$1.raw" | grep -v '^ *$' >"$out/$1.err" || true
  echo "$1: $(wc -l <"$out/$1.csv") tests in $(($(date +%s) - began)) s, $(wc -l <"$out/$1.err") other lines" >&2
}
run redis $mem
run lone $lone
run cluster $cluster

echo "| test | redis-server | dynakv lone | ratio | dynakv cluster | ratio |"
echo "|---|---:|---:|---:|---:|---:|"
awk -F'","' '
  function rps(s) { gsub(/"/, "", s); return s + 0 }
  function name(s) { gsub(/"/, "", s); return s }
  FILENAME ~ /redis.csv$/ { t = name($1); order[++k] = t; red[t] = rps($2) }
  FILENAME ~ /lone.csv$/ { lone[name($1)] = rps($2) }
  FILENAME ~ /cluster.csv$/ { clu[name($1)] = rps($2) }
  function cell(v) { return v > 0 ? sprintf("%.0f", v) : "—" }
  function ratio(v, ref) { return v > 0 && ref > 0 ? sprintf("%.2f×", v / ref) : "—" }
  END { for (i = 1; i <= k; i++) { t = order[i]
    printf "| %s | %s | %s | %s | %s | %s |\n", t, cell(red[t]), cell(lone[t]), ratio(lone[t], red[t]), cell(clu[t]), ratio(clu[t], red[t]) } }
' "$out/redis.csv" "$out/lone.csv" "$out/cluster.csv"
for s in redis lone cluster; do
  if [ -s "$out/$s.err" ]; then
    echo
    echo "$s printed $(wc -l <"$out/$s.err") other lines, the first 5:"
    head -5 "$out/$s.err" | sed 's/^/    /'
  fi
done
