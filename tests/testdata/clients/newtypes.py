# redis-py (Debian's python3-redis) against the dynakv node at argv[1]
# (host:port): sorted sets, lists with their blocking pops, HyperLogLog,
# bitmaps and SORT, pipelines with and without MULTI mixing them, and
# RESP3 when this redis-py has it. The pushes that wake a blocked pop go
# through argv[2] (default argv[1]): another node of a cluster. Every
# expectation is what redis-server 7.0 answers (tests/clients_test.go runs
# this against one with DYNAKV_VALIDATE_REDIS=1). Prints one JSON object:
# version, checks (how many), failures (what differed), skipped.
import inspect, json, sys, threading, time
import redis
host, port = sys.argv[1].rsplit(":", 1)
port = int(port)
push_host, push_port = (sys.argv[2] if len(sys.argv) > 2 else sys.argv[1]).rsplit(":", 1)
push_port = int(push_port)
out = {"version": redis.__version__, "checks": 0, "failures": [], "skipped": []}

def plain(v):
    """v with tuples as lists: redis-py's RESP2 replies use tuples where
    its RESP3 ones may use lists."""
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v

def check(what, got, want):
    out["checks"] += 1
    if plain(got) != plain(want):
        out["failures"].append("%s = %r, want %r" % (what, got, want))

def blocked_clients(c):
    return int(c.info("clients")["blocked_clients"])

def woken(what, pop, watcher, push):
    """Runs pop (a blocking pop) in a thread, waits until watcher's node
    reports it blocked, runs push and returns (push's reply, pop's reply)."""
    res = {}
    th = threading.Thread(target=lambda: res.update(v=pop()))
    th.start()
    deadline = time.time() + 10
    while blocked_clients(watcher) < 1 and time.time() < deadline:
        time.sleep(0.01)
    check(what + " blocked (INFO blocked_clients)", blocked_clients(watcher) >= 1, True)
    pushed = push()
    th.join(25)
    return pushed, res.get("v")

def run(proto):
    kw = {"protocol": 3} if proto == 3 else {}
    r = redis.Redis(host=host, port=port, decode_responses=True, socket_timeout=30, **kw)
    other = redis.Redis(host=host, port=port, decode_responses=True, socket_timeout=30, **kw)
    pusher = redis.Redis(host=push_host, port=push_port, decode_responses=True, socket_timeout=30, **kw)
    p = "{py%d}" % proto
    k = lambda s: p + s
    r.delete(*[k(s) for s in ("z", "z2", "l", "q", "h1", "h2", "h3", "b", "s", "dst", "bf", "pz", "pl")])
    r.delete(*[k(s) for s in ("w_1", "w_2", "w_3", "o_1", "o_2", "o_3", "s2", "set", "nol", "noz", "ph", "pb")])

    # Sorted sets.
    check("zadd", r.zadd(k("z"), {"a": 1, "b": 2, "c": 3.5}), 3)
    check("zadd nx existing", r.zadd(k("z"), {"a": 9}, nx=True), 0)
    check("zadd ch gt", r.zadd(k("z"), {"a": 5, "b": 0}, gt=True, ch=True), 1)
    check("zrange", r.zrange(k("z"), 0, -1), ["b", "c", "a"])
    check("zrange withscores", r.zrange(k("z"), 0, -1, withscores=True), [("b", 2.0), ("c", 3.5), ("a", 5.0)])
    check("zrange desc withscores", r.zrange(k("z"), 0, 0, desc=True, withscores=True), [("a", 5.0)])
    check("zrangebyscore", r.zrangebyscore(k("z"), 2, 4), ["b", "c"])
    check("zrangebyscore withscores limit", r.zrangebyscore(k("z"), "(2", "+inf", start=0, num=1, withscores=True), [("c", 3.5)])
    check("zrange byscore", r.zrange(k("z"), 3, 10, byscore=True), ["c", "a"])
    check("zincrby", r.zincrby(k("z"), 1.25, "c"), 4.75)
    check("zincrby new", r.zincrby(k("z"), -2, "n"), -2.0)
    check("zscore", r.zscore(k("z"), "c"), 4.75)
    check("zscore missing", r.zscore(k("z"), "nope"), None)
    check("zmscore", r.zmscore(k("z"), ["a", "nope"]), [5.0, None])
    check("zrank", r.zrank(k("z"), "a"), 3)
    check("zcard", r.zcard(k("z")), 4)
    check("zcount", r.zcount(k("z"), "-inf", "(5"), 3)
    check("zrem", r.zrem(k("z"), "n", "nope"), 1)
    check("zpopmin", r.zpopmin(k("z")), [("b", 2.0)])
    check("zpopmin count", r.zpopmin(k("z"), 5), [("c", 4.75), ("a", 5.0)])
    check("zpopmin empty", r.zpopmin(k("z")), [])
    check("exists after popping all", r.exists(k("z")), 0)
    check("bzpopmin timeout", r.bzpopmin([k("z")], timeout=0.1), None)
    r.zadd(k("z"), {"x": 1, "y": 2})
    check("bzpopmin", r.bzpopmin([k("z2"), k("z")], timeout=1), (k("z"), "x", 1.0))
    check("bzpopmax", r.bzpopmax([k("z")], timeout=1), (k("z"), "y", 2.0))
    r.zadd(k("z"), {"m": 1, "n": 2, "o": 3})
    check("zmpop", r.zmpop(2, [k("z2"), k("z")], max=True, count=2), [k("z"), [["o", "3"], ["n", "2"]]] if proto == 2 else [k("z"), [["o", 3.0], ["n", 2.0]]])
    check("bzmpop", r.bzmpop(1, 1, [k("z")], min=True), [k("z"), [["m", "1"]]] if proto == 2 else [k("z"), [["m", 1.0]]])
    check("bzmpop timeout", r.bzmpop(0.1, 1, [k("z")], min=True), None)
    r.zadd(k("z2"), {"a": 1, "b": 2})
    r.zadd(k("z"), {"b": 10, "c": 20})
    check("zunion withscores", r.zunion([k("z"), k("z2")], withscores=True), [("a", 1.0), ("b", 12.0), ("c", 20.0)])
    check("zinter", r.zinter([k("z"), k("z2")]), ["b"])
    check("zrandmember all", sorted(r.zrandmember(k("z2"), 2)), ["a", "b"])
    # A BZPOPMIN woken by a ZADD from another connection.
    pushed, got = woken("bzpopmin", lambda: r.bzpopmin([k("pz")], timeout=20), other, lambda: pusher.zadd(k("pz"), {"woke": 7}))
    check("zadd to the blocked", pushed, 1)
    check("bzpopmin woken by zadd", got, (k("pz"), "woke", 7.0))

    # Lists.
    check("rpush", r.rpush(k("l"), "a", "b", "c"), 3)
    check("lpush", r.lpush(k("l"), "y", "x"), 5)
    check("lrange", r.lrange(k("l"), 0, -1), ["x", "y", "a", "b", "c"])
    check("lpop", r.lpop(k("l")), "x")
    check("lpop count", r.lpop(k("l"), 2), ["y", "a"])
    check("rpop count", r.rpop(k("l"), 5), ["c", "b"])
    check("lpop count missing", r.lpop(k("l"), 2), None)
    check("blpop timeout", r.blpop([k("l")], timeout=0.1), None)
    r.rpush(k("l"), "1", "2", "3", "2")
    check("blpop", r.blpop([k("q"), k("l")], timeout=1), (k("l"), "1"))
    check("brpop", r.brpop([k("l")], timeout=1), (k("l"), "2"))
    check("linsert before", r.linsert(k("l"), "BEFORE", "3", "2.5"), 3)
    check("linsert missing pivot", r.linsert(k("l"), "AFTER", "nope", "x"), -1)
    check("lset", r.lset(k("l"), 0, "two"), True)
    check("lrange after lset", r.lrange(k("l"), 0, -1), ["two", "2.5", "3"])
    try:
        r.lset(k("l"), 10, "x")
        check("lset out of range raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check("lset out of range", str(e), "index out of range")
    r.rpush(k("l"), "a", "b", "a", "c", "a")
    check("lpos", r.lpos(k("l"), "a"), 3)
    check("lpos rank", r.lpos(k("l"), "a", rank=-1), 7)
    check("lpos count", r.lpos(k("l"), "a", count=0), [3, 5, 7])
    check("lpos missing", r.lpos(k("l"), "zz"), None)
    check("lrem", r.lrem(k("l"), 2, "a"), 2)
    check("lrem negative", r.lrem(k("l"), -1, "c"), 1)
    check("lrange after lrem", r.lrange(k("l"), 0, -1), ["two", "2.5", "3", "b", "a"])
    check("lindex", r.lindex(k("l"), -1), "a")
    check("llen", r.llen(k("l")), 5)
    check("lmove", r.lmove(k("l"), k("q"), "RIGHT", "LEFT"), "a")
    check("blmove", r.blmove(k("l"), k("q"), 1, "LEFT", "RIGHT"), "two")
    check("blmove timeout", r.blmove(k("nol"), k("q"), 0.1), None)
    check("lrange q", r.lrange(k("q"), 0, -1), ["a", "two"])
    check("lmpop", r.lmpop(2, k("nol"), k("q"), direction="RIGHT", count=5), [k("q"), ["two", "a"]])
    check("blmpop timeout", r.blmpop(0.1, 1, k("q"), direction="LEFT"), None)
    # A BLPOP woken by an RPUSH from another connection.
    pushed, got = woken("blpop", lambda: r.blpop([k("pl")], timeout=20), other, lambda: pusher.rpush(k("pl"), "job1", "job2"))
    check("rpush to the blocked", pushed, 2)
    check("blpop woken by rpush", got, (k("pl"), "job1"))
    check("rest after the woken blpop", other.lrange(k("pl"), 0, -1), ["job2"])

    # HyperLogLog.
    check("pfadd", r.pfadd(k("h1"), "a", "b", "c", "d"), 1)
    check("pfadd again", r.pfadd(k("h1"), "a"), 0)
    check("pfadd other", r.pfadd(k("h2"), "c", "d", "e"), 1)
    check("pfcount", r.pfcount(k("h1")), 4)
    check("pfcount union", r.pfcount(k("h1"), k("h2")), 5)
    check("pfmerge", r.pfmerge(k("h3"), k("h1"), k("h2")), True)
    check("pfcount merged", r.pfcount(k("h3")), 5)
    check("pfadd 1000", r.pfadd(k("h2"), *["e%d" % i for i in range(1000)]), 1)
    n = r.pfcount(k("h2"))
    check("pfcount 1003 within 2%", abs(n - 1003) <= 20, True)
    try:
        r.set(k("s"), "plain")
        r.pfadd(k("s"), "x")
        check("pfadd on a string raises", "no error", "ResponseError")
    except redis.ResponseError as e:
        check("pfadd on a string", str(e), "WRONGTYPE Key is not a valid HyperLogLog string value.")

    # Bitmaps.
    check("setbit", r.setbit(k("b"), 7, 1), 0)
    check("setbit again", r.setbit(k("b"), 7, 1), 1)
    r.setbit(k("b"), 9, 1)
    r.setbit(k("b"), 30, 1)
    check("getbit", r.getbit(k("b"), 7), 1)
    check("getbit unset", r.getbit(k("b"), 8), 0)
    check("getbit beyond", r.getbit(k("b"), 10000), 0)
    check("bitcount", r.bitcount(k("b")), 3)
    check("bitcount range", r.bitcount(k("b"), 1, 1), 1)
    check("bitcount bit range", r.bitcount(k("b"), 0, 9, mode="BIT"), 2)
    check("bitpos 1", r.bitpos(k("b"), 1), 7)
    check("bitpos 0", r.bitpos(k("b"), 0), 0)
    check("bitpos 1 from byte 2", r.bitpos(k("b"), 1, 2), 30)
    check("get bitmap", r.get(k("b")), "\x01\x40\x00\x02")
    bf = r.bitfield(k("bf"))
    check("bitfield", bf.set("u8", 0, 200).get("u8", 0).incrby("u8", 0, 100).overflow("SAT").incrby("u8", 0, 100).get("i4", "#1").execute(), [0, 200, 44, 144, 0])
    check("bitfield fail overflow", r.bitfield(k("bf")).overflow("FAIL").incrby("u8", 0, 200).execute(), [None])

    # SORT.
    r.rpush(k("s2"), "3", "1", "2")
    check("sort", r.sort(k("s2")), ["1", "2", "3"])
    check("sort desc limit", r.sort(k("s2"), start=0, num=2, desc=True), ["3", "2"])
    r.mset({k("w_1"): 30, k("w_2"): 10, k("w_3"): 20, k("o_1"): "one", k("o_2"): "two", k("o_3"): "three"})
    check("sort by", r.sort(k("s2"), by=k("w_*")), ["2", "3", "1"])
    check("sort by get", r.sort(k("s2"), by=k("w_*"), get=[k("o_*"), "#"]), ["two", "2", "three", "3", "one", "1"])
    check("sort by get groups", r.sort(k("s2"), by=k("w_*"), get=[k("o_*"), "#"], groups=True), [("two", "2"), ("three", "3"), ("one", "1")])
    check("sort store", r.sort(k("s2"), by=k("w_*"), get=k("o_*"), store=k("dst")), 3)
    check("sort stored", r.lrange(k("dst"), 0, -1), ["two", "three", "one"])
    r.sadd(k("set"), "b", "c", "a")
    check("sort alpha set", r.sort(k("set"), alpha=True), ["a", "b", "c"])
    r.delete(k("set"), k("s2"))

    # Pipelines mixing the types.
    r.delete(k("pz"), k("pl"), k("ph"), k("pb"))
    for tx in (True, False):
        pipe = r.pipeline(transaction=tx)
        pipe.zadd(k("pz"), {"a": 1, "b": 2})
        pipe.zincrby(k("pz"), 2, "a")
        pipe.zrange(k("pz"), 0, -1, withscores=True)
        pipe.rpush(k("pl"), "x", "y")
        pipe.lpop(k("pl"), 2)
        pipe.blpop([k("pl")], timeout=0.1) if not tx else pipe.lpop(k("pl"))
        pipe.pfadd(k("ph"), "u", "v")
        pipe.pfcount(k("ph"))
        pipe.setbit(k("pb"), 3, 1)
        pipe.bitcount(k("pb"))
        pipe.zpopmin(k("pz"))
        pipe.bzpopmin([k("pz")], timeout=1)
        pipe.type(k("pz"))
        got = pipe.execute()
        check("pipeline transaction=%s" % tx, got,
              [2, 3.0, [("b", 2.0), ("a", 3.0)], 2, ["x", "y"], None, 1, 2, 0, 1, [("b", 2.0)], (k("pz"), "a", 3.0), "none"])
        r.delete(k("pz"), k("pl"), k("ph"), k("pb"))
    # A blocking pop inside MULTI does not block: it answers nil at once.
    pipe = r.pipeline(transaction=True)
    pipe.blpop([k("nol")], timeout=0)
    pipe.bzpopmin([k("noz")], timeout=0)
    pipe.rpush(k("pl"), "v")
    pipe.blpop([k("pl")], timeout=0)
    check("blocking pops in MULTI", pipe.execute(), [None, None, 1, (k("pl"), "v")])
    # A wrong-type error inside a pipeline comes back in place.
    pipe = r.pipeline(transaction=False)
    pipe.set(k("s"), "str")
    pipe.zadd(k("s"), {"a": 1})
    pipe.lpush(k("s"), "a")
    pipe.get(k("s"))
    got = pipe.execute(raise_on_error=False)
    check("pipeline wrongtype", [g if not isinstance(g, Exception) else str(g) for g in got],
          [True, "WRONGTYPE Operation against a key holding the wrong kind of value", "WRONGTYPE Operation against a key holding the wrong kind of value", "str"])
    r.close()
    other.close()
    pusher.close()

run(2)
if "protocol" in inspect.signature(redis.Redis.__init__).parameters or "protocol" in inspect.signature(redis.Connection.__init__).parameters:
    run(3)
else:
    out["skipped"].append("RESP3: redis-py %s has no protocol=3 (5.0 added it)" % redis.__version__)
print(json.dumps(out))
