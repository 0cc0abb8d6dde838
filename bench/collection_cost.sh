#!/usr/bin/env bash
# The cost of one SADD and one HSET on a collection of fixed size (10,
# 1,000 and 10,000 elements), on a lone dynakv node and on redis-server in
# the same run: each collection is filled in one command, then
# redis-benchmark -c 1 re-adds existing elements (-r size), so the size
# stays fixed while every write stores a new version. Everything runs on
# 127.0.0.1 (ports 16379 and 16479-16480) and stops by itself.
#
#   bench/collection_cost.sh [-n 500]
set -euo pipefail
cd "$(dirname "$0")/.."
n=500
[ "${1:-}" = -n ] && n=$2
for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv
redis-server --port 16379 --save "" --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
"$out/dynakv" server --id c1 --listen 127.0.0.1:16479 --gossip 127.0.0.1:16480 --data "$out/data" --log-level warn >"$out/dyna.log" 2>&1 &
for p in 16379 16479; do
  for _ in $(seq 300); do redis-cli -p $p PING >/dev/null 2>&1 && break; sleep 0.1; done
done
echo "one client, $n commands each, re-adding existing elements"
for size in 10 1000 10000; do
  members=$(seq -f "m:%012g" 0 $((size - 1)) | tr '\n' ' ')
  fields=$(seq -f "f:%012g v" 0 $((size - 1)) | tr '\n' ' ')
  for p in 16379 16479; do
    redis-cli -p $p SADD "s$size" $members >/dev/null
    redis-cli -p $p HSET "h$size" $fields >/dev/null
  done
  for p in 16379 16479; do
    who=$([ $p = 16379 ] && echo redis-server || echo dynakv/1)
    for cmd in "SADD s$size m:__rand_int__" "HSET h$size f:__rand_int__ v"; do
      printf '%-12s %-5s size=%-6s ' "$who" "${cmd%% *}" "$size"
      redis-benchmark -p $p -c 1 -n "$n" -r "$size" -q $cmd 2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -1 | sed 's/^[^:]*: //'
    done
  done
done
