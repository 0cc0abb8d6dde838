#!/usr/bin/env bash
# Issue 13's table: dynakv against an in-memory redis-server and a durable
# one (appendonly yes, appendfsync always: like dynakv, it fsyncs before it
# replies), all started by this script in one run on this machine.
#
#   bench/perf.sh [-n 20000] [-c 50] [-r 100000] [--cn 2000] [--prefill 100000] [--timeout 300]
#                 [--only REGEX] [--base 27379]
#
# Every workload is `redis-benchmark -c C -r R -t TEST [-P 16]`, run five
# times in a row: in-memory redis, durable redis, dynakv, durable redis,
# in-memory redis. Each dynakv rate is divided by the mean of the two
# in-memory runs around it and by the mean of the two durable runs, so a
# busy machine (the figures are only comparable within one run) moves both
# sides. Workloads: a lone node (`dynakv dev --nodes 1`) and the 3-node dev
# cluster (one process, N=3 R=2 W=2, every write fsynced on the replicas
# and every read asking them) for SET, GET, INCR, HSET, SADD, LPUSH and
# ZADD, and the lone node's SET and GET pipelined (-P 16).
#
# -n is the requests of each run (the pipelined runs make 4×n, the HSET,
# SADD, LPUSH and ZADD runs --cn: redis-benchmark grows one hash, set, list
# and sorted set under a single key each, whose every dynakv write costs
# O(its size) today). Before the runs,
# keys key:000000000000 .. key:<prefill-1> (redis-benchmark's -r names) are
# set to "xxx" on every server, so GETs hit and SETs overwrite. Each
# redis-benchmark run is cut off after --timeout seconds (its row then shows
# "cut off"). --only runs just the workloads whose label matches the
# extended regular expression (e.g. --only cluster), and starts and
# prefills only the servers they use. Everything listens on 127.0.0.1,
# ports from --base B: B and B+1 (redis), B+100 (lone node), B+200..B+202
# (cluster, whose cluster-client ports are 10000 above), gossip B+300 and
# B+310..B+312; the servers and their data are removed when the script
# ends. DYNAKV_DEV_FLAGS adds flags to the cluster's `dynakv dev` (e.g.
# "--pprof 127.0.0.1:6060" to profile it during the runs).
#
# The table (stdout) is markdown for the README; progress goes to stderr.
set -euo pipefail
cd "$(dirname "$0")/.."
n=20000 c=50 r=100000 cn=2000 prefill="" limit=300 only="" base=27379
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    -c) c=$2; shift 2;;
    -r) r=$2; shift 2;;
    --cn) cn=$2; shift 2;;
    --prefill) prefill=$2; shift 2;;
    --timeout) limit=$2; shift 2;;
    --only) only=$2; shift 2;;
    --base) base=$2; shift 2;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace] [--cn collection requests] [--prefill keys] [--timeout s] [--only regex] [--base port]" >&2; exit 2;;
  esac
done
prefill=${prefill:-$r}
. bench/lib.sh # require_tools, await_servers, measure
require_tools
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv

mem=$base durable=$((base + 1)) lone=$((base + 100)) cluster=$((base + 200))
# workload label | dynakv port | test | pipeline | requests
workloads=(
  "lone node SET|$lone|set|1|$n"
  "lone node GET|$lone|get|1|$n"
  "3-node cluster (N=3 R=2 W=2) SET|$cluster|set|1|$n"
  "3-node cluster GET|$cluster|get|1|$n"
  "lone node SET, pipelined -P 16|$lone|set|16|$((4 * n))"
  "lone node GET, pipelined -P 16|$lone|get|16|$((4 * n))"
  "lone node INCR|$lone|incr|1|$n"
  "3-node cluster INCR|$cluster|incr|1|$n"
  "lone node HSET|$lone|hset|1|$cn"
  "3-node cluster HSET|$cluster|hset|1|$cn"
  "lone node SADD|$lone|sadd|1|$cn"
  "3-node cluster SADD|$cluster|sadd|1|$cn"
  "lone node LPUSH|$lone|lpush|1|$cn"
  "3-node cluster LPUSH|$cluster|lpush|1|$cn"
  "lone node ZADD|$lone|zadd|1|$cn"
  "3-node cluster ZADD|$cluster|zadd|1|$cn"
)
if [ -n "$only" ]; then
  kept=()
  for w in "${workloads[@]}"; do [[ ${w%%|*} =~ $only ]] && kept+=("$w"); done
  workloads=("${kept[@]}")
fi
servers=($mem $durable)
redis-server --port $mem --save "" --appendonly no --daemonize no --dir "$out" >"$out/mem.log" 2>&1 &
mkdir "$out/durable"
redis-server --port $durable --save "" --appendonly yes --appendfsync always --daemonize no --dir "$out/durable" >"$out/durable.log" 2>&1 &
if [[ " ${workloads[*]} " == *"|$lone|"* ]]; then
  "$out/dynakv" dev --nodes 1 --port $lone --gossip-port $((base + 300)) --data "$out/lone" --log-level warn >"$out/lone.log" 2>&1 &
  servers+=($lone)
fi
if [[ " ${workloads[*]} " == *"|$cluster|"* ]]; then
  "$out/dynakv" dev --nodes 3 --port $cluster --gossip-port $((base + 310)) --data "$out/cluster" --log-level warn ${DYNAKV_DEV_FLAGS:-} >"$out/cluster.log" 2>&1 &
  servers+=($cluster)
fi
await_servers "$out" "${servers[@]}"

# prefill PORT: SET key:%012d xxx for every key below $prefill, over 50
# connections at once (dynakv runs one connection's commands in turn).
prefill() {
  local slices=50 s pids=()
  for s in $(seq 0 $((slices - 1))); do
    awk -v from=$s -v step=$slices -v to="$prefill" 'BEGIN {
      for (i = from; i < to; i += step) { k = sprintf("key:%012d", i)
        printf "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n", length(k), k } }' |
      redis-cli -p "$1" --pipe >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
}
if [ "$prefill" -gt 0 ]; then
  for p in "${servers[@]}"; do
    start=$(date +%s)
    prefill $p
    echo "prefilled $prefill keys on port $p in $(($(date +%s) - start)) s; DBSIZE $(redis-cli -p $p DBSIZE)" >&2
  done
fi

echo "redis-benchmark -c $c -r $r, -n $n (pipelined 4×n, HSET/SADD/LPUSH/ZADD $cn), prefill $prefill keys; $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start, $(date -u '+%Y-%m-%d %H:%M UTC')" >&2
rows=()
began=$(date +%s)
for w in "${workloads[@]}"; do
  IFS='|' read -r label port test pipe reqs <<<"$w"
  case "$only:$label" in lone:3-node* | cluster:lone*) continue;; esac
  m1=$(measure $mem "$test" "$reqs" "$pipe")
  d1=$(measure $durable "$test" "$reqs" "$pipe")
  dk=$(measure "$port" "$test" "$reqs" "$pipe")
  d2=$(measure $durable "$test" "$reqs" "$pipe")
  m2=$(measure $mem "$test" "$reqs" "$pipe")
  echo "$label: redis $m1 | durable $d1 | dynakv $dk | durable $d2 | redis $m2" >&2
  rows+=("$(awk -v label="$label" -v dk="$dk" -v m="$m1 $m2" -v d="$d1 $d2" '
    function group(v,   s) { s = sprintf("%.0f", v); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); return s }
    function mean(a, b) { return (a > 0 && b > 0) ? (a + b) / 2 : a + b } # one run cut off: the other
    function ratio(v, ref) { return ref > 0 ? sprintf("%.2f×", v / ref) : "—" }
    BEGIN {
      split(dk, x, " "); split(m, mm, " "); split(d, dd, " ")
      mr = mean(mm[1], mm[5]); dr = mean(dd[1], dd[5])
      rate = x[1] > 0 ? group(x[1]) "/s" : "cut off"
      printf "| %s | %s | %s | %s | %s | %s/s | %s | %s/s | %s |\n", label, rate, x[2], x[3], x[4], group(mr), ratio(x[1], mr), group(dr), ratio(x[1], dr) }')")
done
echo "all runs took $(($(date +%s) - began)) s; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" >&2

echo "| workload | dynakv | p50 ms | p99 ms | p99.9 ms | redis-server | ratio | durable redis | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
