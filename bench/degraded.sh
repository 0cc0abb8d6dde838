#!/usr/bin/env bash
# Write and read latency of a three-process cluster (N=3 R=2 W=2) with all
# nodes up and then with one killed (kill -9), in the same run:
# redis-benchmark -t set,get against node 1. Runs on 127.0.0.1 and stops by
# itself.
#
#   bench/degraded.sh [-n 100000] [-c 50] [-r 100000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 c=50 r=100000
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    -c) c=$2; shift 2;;
    -r) r=$2; shift 2;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace]" >&2; exit 2;;
  esac
done
command -v redis-benchmark >/dev/null || { echo "redis-benchmark not installed (apt-get install redis-tools)" >&2; exit 1; }
. bench/lib.sh
out=$(mktemp -d)
trap 'kill -9 $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv
common=(--cluster-secret bench --replicas 3 --read-quorum 2 --write-quorum 2 --log-level warn)
"$out/dynakv" server --id n1 --listen 127.0.0.1:16501 --gossip 127.0.0.1:17501 --data "$out/n1" "${common[@]}" 2>"$out/n1.log" &
sleep 1
"$out/dynakv" server --id n2 --listen 127.0.0.1:16502 --gossip 127.0.0.1:17502 --data "$out/n2" "${common[@]}" --join 127.0.0.1:17501 2>"$out/n2.log" &
"$out/dynakv" server --id n3 --listen 127.0.0.1:16503 --gossip 127.0.0.1:17503 --data "$out/n3" "${common[@]}" --join 127.0.0.1:17501 2>"$out/n3.log" &
n3=$!
for _ in $(seq 300); do
  [ "$(redis-cli -p 16501 INFO cluster 2>/dev/null | tr -d '\r' | grep '^nodes_alive:' | cut -d: -f2)" = 3 ] && break
  sleep 0.1
done
echo "redis-benchmark -t set,get -n $n -c $c -r $r against n1 of 3 (N=3 R=2 W=2)"
bench "all up" 16501
kill -9 $n3
for _ in $(seq 300); do
  [ "$(redis-cli -p 16501 INFO cluster 2>/dev/null | tr -d '\r' | grep '^nodes_alive:' | cut -d: -f2)" = 2 ] && break
  sleep 0.1
done
bench "n3 killed" 16501
echo "hints pending on n1: $(redis-cli -p 16501 INFO replication | tr -d '\r' | grep '^hints_pending:' | cut -d: -f2)"
