#!/usr/bin/env bash
# Measures what keeping the anti-entropy Merkle trees current costs writes:
# redis-benchmark SET/GET against a dynakv dev cluster with anti-entropy on
# (the default) and off (--ae-interval -1: no trees, no exchanges), the two
# runs alternating (on, off, on, off) so the machine's drift hits both.
# Everything runs on 127.0.0.1 and stops by itself.
#
#   bench/antientropy.sh [-n 100000] [-c 50] [-r 100000] [--nodes 3] [--rounds 2]
set -euo pipefail
cd "$(dirname "$0")/.."
n=100000 c=50 r=100000 nodes=3 rounds=2
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n=$2; shift 2;;
    -c) c=$2; shift 2;;
    -r) r=$2; shift 2;;
    --nodes) nodes=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    *) echo "usage: $0 [-n requests] [-c clients] [-r keyspace] [--nodes N] [--rounds R]" >&2; exit 2;;
  esac
done
for tool in redis-benchmark redis-cli; do
  command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-tools)" >&2; exit 1; }
done
out=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$out"' EXIT
CGO_ENABLED=0 go build -o "$out/dynakv" ./cmd/dynakv
. bench/lib.sh
port=16579
run() { # name flags...
  local name=$1; shift
  rm -rf "$out/dyna"
  "$out/dynakv" dev --nodes "$nodes" --port $port --data "$out/dyna" --log-level warn "$@" >"$out/dyna.log" 2>&1 &
  local pid=$!
  for _ in $(seq 300); do redis-cli -p $port PING >/dev/null 2>&1 && break; sleep 0.1; done
  bench "$name" $port
  kill $pid; wait $pid 2>/dev/null || true
}
echo "redis-benchmark -t set,get -n $n -c $c -r $r against dynakv dev --nodes $nodes, anti-entropy on and off, $rounds rounds"
for i in $(seq "$rounds"); do
  run "ae-on/$i"
  run "ae-off/$i" --ae-interval -1
done
