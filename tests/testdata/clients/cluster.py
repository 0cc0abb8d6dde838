# redis-py's RedisCluster (cluster-aware: it reads CLUSTER SLOTS and sends
# each command to its key's node) seeded with the node at argv[1]
# (host:port), on keys spread over the slots: sorted sets, lists with
# their blocking pops, HyperLogLog, bitmaps, SORT STORE on one slot, and a
# pipeline (RedisCluster's pipelines have no MULTI) across slots. Every
# expectation is what a redis-server in cluster mode answers. Prints one
# JSON object: version, checks, failures, skipped.
import json, sys
import redis
from redis.cluster import RedisCluster
host, port = sys.argv[1].rsplit(":", 1)
out = {"version": redis.__version__, "checks": 0, "failures": [], "skipped": []}

def check(what, got, want):
    out["checks"] += 1
    if got != want:
        out["failures"].append("%s = %r, want %r" % (what, got, want))

r = RedisCluster(host=host, port=int(port), decode_responses=True)
for i in range(8):
    z, l, h, b = "rcz%d" % i, "rcl%d" % i, "rch%d" % i, "rcb%d" % i
    r.delete(z, l, h, b)
    check(z + " zadd", r.zadd(z, {"a": 1, "b": 2.5}), 2)
    check(z + " zincrby", r.zincrby(z, i, "a"), 1.0 + i)
    check(z + " zrange withscores", r.zrange(z, 0, 0, withscores=True), [("a", 1.0 + i)] if i < 2 else [("b", 2.5)])
    check(z + " bzpopmax", r.bzpopmax(z, timeout=1), (z, "a", 1.0 + i) if i >= 2 else (z, "b", 2.5))
    check(l + " rpush", r.rpush(l, "x", "y", "z"), 3)
    check(l + " lpop count", r.lpop(l, 2), ["x", "y"])
    check(l + " blpop", r.blpop(l, timeout=1), (l, "z"))
    check(l + " blpop timeout", r.blpop(l, timeout=0.1), None)
    check(h + " pfadd", r.pfadd(h, "a", "b", str(i)), 1)
    check(h + " pfcount", r.pfcount(h), 3)
    check(b + " setbit", r.setbit(b, i, 1), 0)
    check(b + " bitpos", r.bitpos(b, 1), i)
r.delete("{rc}s", "{rc}d")
r.rpush("{rc}s", "1", "2")
check("sort store", r.sort("{rc}s", desc=True, store="{rc}d"), 2)
check("sorted", r.lrange("{rc}d", 0, -1), ["2", "1"])
pipe = r.pipeline()
for i in range(8):
    pipe.zadd("rcpz%d" % i, {"m": i})
    pipe.zscore("rcpz%d" % i, "m")
    pipe.rpush("rcpl%d" % i, "v")
    pipe.lrange("rcpl%d" % i, 0, -1)
    pipe.delete("rcpz%d" % i, )
    pipe.delete("rcpl%d" % i)
check("pipeline across slots", pipe.execute(), sum(([1, float(i), 1, ["v"], 1, 1] for i in range(8)), []))
print(json.dumps(out))
