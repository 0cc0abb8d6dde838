# Shared by the bench scripts: bench NAME PORT runs redis-benchmark -t
# ${tests:-set,get} with $n requests, $c clients (and -r $r when set) and prints one
# line per test: requests per second, median and 99.9th percentile latency
# read from redis-benchmark's own percentile distribution.
bench() { # name port
  local args=(-p "$2" -t "${tests:-set,get}" -n "$n" -c "$c")
  [ -n "$r" ] && args+=(-r "$r")
  redis-benchmark "${args[@]}" 2>/dev/null | tr '\r' '\n' | awk -v name="$1" '
    /^====== / { test=$2; p50=""; p999=""; next }
    /^Latency by percentile distribution/ { inpct=1; next }
    inpct && /%/ { pct=$1; sub("%","",pct); v=$3
      if (p50=="" && pct+0 >= 50) p50=v
      if (p999=="" && pct+0 >= 99.9) p999=v }
    /^Cumulative distribution/ { inpct=0 }
    /^  throughput summary:/ { rps=$3 }
    /^  latency summary/ { getline; getline; printf "%-13s %-4s %9.0f rps   p50 %7.3f ms   p99.9 %7.3f ms\n", name, test, rps, p50, p999 }'
}

# measure PORT TEST REQUESTS PIPELINE runs redis-benchmark -t TEST once
# with $c clients (and -r $r when set), cut off after ${limit:-300}
# seconds, and prints "rps p50 p99 p99.9" (ms): the rate and p50/p99 from
# its summary, p99.9 from its percentile distribution; "0 - - -" if it
# did not finish (cut off, or no server: a caller under set -e goes on).
measure() {
  local args=(-p "$1" -t "$2" -n "$3" -P "$4" -c "$c")
  [ -n "${r:-}" ] && args+=(-r "$r")
  { timeout "${limit:-300}" redis-benchmark "${args[@]}" 2>/dev/null || true; } | tr '\r' '\n' | awk '
    /^Latency by percentile distribution/ { inpct=1; next }
    inpct && /%/ { pct=$1; sub("%", "", pct); if (p999 == "" && pct+0 >= 99.9) p999=$3 }
    /^Cumulative distribution/ { inpct=0 }
    /^  throughput summary:/ { rps=$3 }
    /^  latency summary/ { getline; getline; p50=$3; p99=$5 }
    END { if (rps == "") print "0 - - -"; else printf "%s %s %s %s\n", rps, p50, p99, p999 }'
}

# require_tools exits with an install hint unless redis-server,
# redis-benchmark, redis-cli and timeout are on PATH.
require_tools() {
  local tool
  for tool in redis-server redis-benchmark redis-cli timeout; do
    command -v $tool >/dev/null || { echo "$tool not installed (apt-get install redis-server redis-tools)" >&2; exit 1; }
  done
}

# await_servers LOGDIR PORT...: waits up to 30 s for each port to answer
# PING; if one does not, prints the tails of LOGDIR/*.log and exits.
await_servers() {
  local logs=$1 p
  shift
  for p in "$@"; do
    for _ in $(seq 300); do redis-cli -p $p PING >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p $p PING >/dev/null || { echo "server on port $p did not start" >&2; tail "$logs"/*.log >&2; exit 1; }
  done
}
