#!/usr/bin/env bash
# The cost of one SADD and one HSET on a collection of fixed size (10,
# 1,000 and 10,000 elements), on a lone dynakv node and on redis-server in
# the same run, with SET on one key as the reference row (the issue asks
# the data types at SET's ratio): each collection is filled in one
# command, then redis-benchmark re-adds existing elements (-r size), so the
# size stays fixed while every write stores a new version. Each row prints
# both rates and dynakv's ratio to redis-server. Everything runs on
# 127.0.0.1 (ports PORT for redis-server, PORT+100 and PORT+101 for
# dynakv; PORT is $BENCH_PORT, default 16379) and stops by itself.
#
# --grow N adds perf.sh's collection rows: N HSETs and N SADDs of
# redis-benchmark -c 50 -r 100000 on one key each, starting empty, so the
# key grows (to about N elements), with SET -c 50 -r 100000 as their
# reference. DYNAKV_BIN names a dynakv binary to run instead of building
# this tree's (to measure another commit in the same conditions).
#
#   bench/collection_cost.sh [-n 500] [-c 1] [--grow 2000]
set -euo pipefail
cd "$(dirname "$0")/.."
n=500
c=1
grow=0
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift 2 ;;
    -c) c=$2; shift 2 ;;
    --grow) grow=$2; shift 2 ;;
    *) echo "usage: $0 [-n requests] [-c clients] [--grow requests]" >&2; exit 2 ;;
  esac
done
rp=${BENCH_PORT:-16379}
dp=$((rp + 100))
for tool in redis-server redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
if [ -n "${DYNAKV_BIN:-}" ]; then
  cp "$DYNAKV_BIN" "$out/dynakv"
else
  CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv
fi
redis-server --port $rp --save "" --appendonly no --daemonize no --dir "$out" >"$out/redis.log" 2>&1 &
"$out/dynakv" server --id c1 --listen 127.0.0.1:$dp --gossip 127.0.0.1:$((dp + 1)) --data "$out/data" --log-level warn >"$out/dyna.log" 2>&1 &
for p in $rp $dp; do
  for _ in $(seq 300); do redis-cli -p $p PING >/dev/null 2>&1 && break; sleep 0.1; done
done
# rate PORT SIZE CMD...: requests per second of redis-benchmark on CMD
# (-r SIZE, or $range if set).
rate() {
  local p=$1 size=$2
  shift 2
  redis-benchmark -p "$p" -c "$c" -n "$n" -r "${range:-$size}" -q "$@" 2>/dev/null | tr '\r' '\n' | grep -v '^$' | tail -1 | sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p'
}
# row NAME SIZE CMD...: both rates and the ratio.
row() {
  local name=$1 size=$2
  shift 2
  local r d
  r=$(rate $rp "$size" "$@")
  d=$(rate $dp "$size" "$@")
  awk -v name="$name" -v size="$size" -v r="$r" -v d="$d" \
    'BEGIN { printf "%-5s size=%-6s redis-server %9.0f/s   dynakv/1 %9.0f/s   ratio %5.2fx\n", name, size, r, d, (r > 0 ? d / r : 0) }'
}
echo "$c client(s), $n commands each, re-adding existing elements"
row SET 1 SET key:__rand_int__ xxx
for size in 10 1000 10000; do
  members=$(seq -f "m:%012g" 0 $((size - 1)) | tr '\n' ' ')
  fields=$(seq -f "f:%012g v" 0 $((size - 1)) | tr '\n' ' ')
  for p in $rp $dp; do
    redis-cli -p $p SADD "s$size" $members >/dev/null
    redis-cli -p $p HSET "h$size" $fields >/dev/null
  done
  row SADD $size SADD "s$size" m:__rand_int__
  row HSET $size HSET "h$size" f:__rand_int__ v
done
if [ "$grow" -gt 0 ]; then
  echo "50 clients, -r 100000: SET on random keys ($n), HSET and SADD on one growing key ($grow each)"
  n0=$n c0=$c
  c=50 range=100000
  row SET 100000 SET key:__rand_int__ xxx
  n=$grow
  row HSET grow HSET grow:h f:__rand_int__ v
  row SADD grow SADD grow:s m:__rand_int__
  n=$n0 c=$c0 range=""
fi
