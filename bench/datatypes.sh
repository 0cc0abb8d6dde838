#!/usr/bin/env bash
# Issue 11's measurement: redis-benchmark over the data types against
# redis-server, a lone dynakv node and the 3-node dev cluster (N=3 R=2
# W=2), all started by this script in the same run on this machine, so
# the ratios (not the rates) are what count. Everything runs on 127.0.0.1
# (ports 16379, 16479, 16579 and up) and stops by itself.
#
#   bench/datatypes.sh [-n 100000] [-c 50] [-r 100000] [-t set,get,incr,hset,sadd]
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 c=50 r=100000 tests=set,get,incr,hset,sadd
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    -c) c=$2; shift 2;;
    -r) r=$2; shift 2;;
    -t) tests=$2; shift 2;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace] [-t tests]" >&2; exit 2;;
  esac
done
for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv

redis_port=16379 lone_port=16479 cluster_port=16579
redis-server --port $redis_port --save "" --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
"$out/dynakv" dev --nodes 1 --port $lone_port --data "$out/lone" --log-level warn >"$out/lone.log" 2>&1 &
"$out/dynakv" dev --nodes 3 --port $cluster_port --data "$out/cluster" --log-level warn >"$out/cluster.log" 2>&1 &
for p in $redis_port $lone_port $cluster_port; do
  for _ in $(seq 300); do redis-cli -p $p PING >/dev/null 2>&1 && break; sleep 0.1; done
done

. bench/lib.sh
echo "redis-benchmark -t $tests -n $n -c $c -r $r (same machine, same run)"
bench redis-server $redis_port | tee "$out/redis.txt"
bench "dynakv/1" $lone_port | tee "$out/lone.txt"
bench "dynakv/3" $cluster_port | tee "$out/cluster.txt"
echo
echo "ratio to redis-server (requests/s):"
for f in lone cluster; do
  awk -v who="dynakv/$([ $f = lone ] && echo 1 || echo 3)" 'NR==FNR { rps[$2]=$3; next } { printf "%-9s %-6s %6.3f\n", who, $2, $3/rps[$2] }' "$out/redis.txt" "$out/$f.txt"
done
