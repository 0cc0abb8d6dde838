#!/usr/bin/env bash
# Measures dynakv against redis-server on this machine, in the same run:
# redis-benchmark -t set,get against each, printing requests per second and
# latency percentiles. Everything runs on 127.0.0.1 and stops by itself.
#
#   bench/compare.sh [-n 200000] [-c 50] [-r keyspace] [--nosync] [--nodes 1]
#
# Without -r every request hits one key (redis-benchmark's default), which
# is the command the issues quote; -r 100000 spreads the keys.
set -euo pipefail
cd "$(dirname "$0")/.."
benchdir=bench
n=200000 c=50 r="" nodes=3 extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    -c) c=$2; shift 2;;
    -r) r=$2; shift 2;;
    --nodes) nodes=$2; shift 2;;
    --nosync) extra+=(--nosync); shift;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace] [--nosync]" >&2; exit 2;;
  esac
done
for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv

redis_port=16379 dyna_port=16479
redis-server --port $redis_port --save "" --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
"$out/dynakv" dev --nodes "$nodes" --port $dyna_port --data "$out/dyna" --log-level warn "${extra[@]}" >"$out/dyna.log" 2>&1 &
for p in $redis_port $dyna_port; do
  for _ in $(seq 300); do redis-cli -p $p PING >/dev/null 2>&1 && break; sleep 0.1; done
done

. "$benchdir/lib.sh"
echo "redis-benchmark -t set,get -n $n -c $c${r:+ -r $r} (same machine, same run; dynakv dev --nodes $nodes ${extra[*]})"
bench redis-server $redis_port
bench "dynakv/$nodes" $dyna_port
