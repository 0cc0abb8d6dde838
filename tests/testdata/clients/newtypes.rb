# ruby-redis (Debian's ruby-redis) against the dynakv node at ARGV[0]
# (host:port): a smaller set of sorted-set, list (blocking pops included),
# HyperLogLog, bitmap and SORT calls, MULTI and a pipeline. The push that
# wakes a blocked BLPOP goes through ARGV[1] (default ARGV[0]). Every
# expectation is what redis-server 7.0 answers. Prints one JSON object:
# version, checks, failures.
require "json"
require "redis"
host, port = ARGV[0].split(":")
push_host, push_port = (ARGV[1] || ARGV[0]).split(":")
$out = {"version" => Redis::VERSION, "checks" => 0, "failures" => []}
def check(what, got, want)
  $out["checks"] += 1
  $out["failures"] << "#{what} = #{got.inspect}, want #{want.inspect}" if got != want
end
r = Redis.new(host: host, port: port.to_i, timeout: 30)
k = ->(s) { "{rb}" + s }
r.del(*%w[z l pl h1 h2 b s w_1 w_2 dst].map(&k))

check("zadd", r.zadd(k["z"], [[1, "a"], [2, "b"], [3.5, "c"]]), 3)
check("zrange withscores", r.zrange(k["z"], 0, -1, with_scores: true), [["a", 1.0], ["b", 2.0], ["c", 3.5]])
check("zrangebyscore limit", r.zrangebyscore(k["z"], "(1", "+inf", limit: [0, 1]), ["b"])
check("zincrby", r.zincrby(k["z"], 1.5, "a"), 2.5)
check("zrem", r.zrem(k["z"], "b"), true)
check("zpopmin", r.zpopmin(k["z"]), ["a", 2.5])
check("bzpopmin", r.bzpopmin(k["z"], timeout: 1), [k["z"], "c", 3.5])
check("bzpopmin timeout", r.bzpopmin(k["z"], timeout: 0.1), nil)

check("rpush", r.rpush(k["l"], %w[a b c]), 3)
check("lpush", r.lpush(k["l"], "x"), 4)
check("lrange", r.lrange(k["l"], 0, -1), %w[x a b c])
check("linsert", r.linsert(k["l"], :before, "b", "B"), 5)
check("lset", r.lset(k["l"], 0, "first"), "OK")
check("lrem", r.lrem(k["l"], 0, "a"), 1)
check("lpos", r.call("LPOS", k["l"], "b"), 2)
check("lpop count", r.lpop(k["l"], 2), %w[first B])
check("blpop", r.blpop(k["l"], timeout: 1), [k["l"], "b"])
check("brpop", r.brpop(k["l"], timeout: 1), [k["l"], "c"])
check("blpop timeout", r.blpop(k["l"], timeout: 0.1), nil)

check("pfadd", r.pfadd(k["h1"], %w[a b c]), true)
check("pfadd h2", r.pfadd(k["h2"], %w[c d]), true)
check("pfcount", r.pfcount(k["h1"], k["h2"]), 4)
check("pfmerge", r.pfmerge(k["h1"], k["h2"]), true)
check("pfcount merged", r.pfcount(k["h1"]), 4)

check("setbit", r.setbit(k["b"], 7, 1), 0)
check("getbit", r.getbit(k["b"], 7), 1)
check("bitcount", r.bitcount(k["b"]), 1)
check("bitpos", r.bitpos(k["b"], 1), 7)
check("bitfield", r.call("BITFIELD", k["b"], "INCRBY", "u8", "0", "1"), [2])

r.rpush(k["s"], %w[2 1])
r.mset(k["w_1"], 20, k["w_2"], 10)
check("sort", r.sort(k["s"]), %w[1 2])
check("sort by store", r.sort(k["s"], by: k["w_*"], store: k["dst"]), 2)
check("sort stored", r.lrange(k["dst"], 0, -1), %w[2 1])

got = r.multi do |m|
  m.zadd(k["z"], 1, "m")
  m.zrange(k["z"], 0, -1, with_scores: true)
  m.rpush(k["l"], "v")
  m.blpop(k["l"], timeout: 0)
  m.pfadd(k["h2"], "z")
  m.setbit(k["b"], 0, 1)
  m.bitcount(k["b"])
end
check("multi", got, [true, [["m", 1.0]], 1, [k["l"], "v"], true, 0, 2])
got = r.pipelined do |pl|
  pl.zpopmin(k["z"])
  pl.rpush(k["l"], "w")
  pl.lrange(k["l"], 0, -1)
  pl.pfcount(k["h2"])
end
check("pipelined", got, [["m", 1.0], 1, ["w"], 3])

# A BLPOP woken by an RPUSH from another connection.
res = nil
th = Thread.new { res = r.blpop(k["pl"], timeout: 20) }
o = Redis.new(host: host, port: port.to_i, timeout: 30)
1000.times do
  break if o.info("clients")["blocked_clients"].to_i >= 1
  sleep 0.01
end
check("blocked_clients >= 1", o.info("clients")["blocked_clients"].to_i >= 1, true)
Redis.new(host: push_host, port: push_port.to_i, timeout: 30).rpush(k["pl"], %w[job1 job2])
th.join(25)
check("blpop woken by rpush", res, [k["pl"], "job1"])
check("rest", o.lrange(k["pl"], 0, -1), ["job2"])
puts JSON.generate($out)
