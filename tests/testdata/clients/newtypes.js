// node-redis (Debian's node-redis) against the dynakv node at argv[2]
// (host:port): a smaller set of sorted-set, list (blocking pops included),
// HyperLogLog, bitmap and SORT calls, MULTI and a pipeline. The push that
// wakes a blocked BLPOP goes through argv[3] (default argv[2]). Every
// expectation is what redis-server 7.0 answers. Prints one JSON object:
// version, checks, failures.
const { createClient, commandOptions } = require("redis");
const [host, port] = process.argv[2].split(":");
const pushAddr = process.argv[3] || process.argv[2];
const out = { version: require("redis/package.json").version, checks: 0, failures: [] };
function check(what, got, want) {
  out.checks++;
  const g = JSON.stringify(got), w = JSON.stringify(want);
  if (g !== w) out.failures.push(what + " = " + g + ", want " + w);
}
const k = (s) => "{js}" + s;
(async () => {
  const url = "redis://" + host + ":" + port;
  const r = createClient({ url });
  const o = createClient({ url });
  const p = createClient({ url: "redis://" + pushAddr });
  p.on("error", (e) => { out.failures.push("client error: " + e); });
  r.on("error", (e) => { out.failures.push("client error: " + e); });
  o.on("error", (e) => { out.failures.push("client error: " + e); });
  await r.connect();
  await o.connect();
  await p.connect();
  await r.del(["z", "l", "pl", "h1", "h2", "b", "s", "w_1", "w_2", "dst"].map(k));

  check("zAdd", await r.zAdd(k("z"), [{ score: 1, value: "a" }, { score: 2, value: "b" }, { score: 3.5, value: "c" }]), 3);
  check("zRangeWithScores", await r.zRangeWithScores(k("z"), 0, -1), [{ value: "a", score: 1 }, { value: "b", score: 2 }, { value: "c", score: 3.5 }]);
  check("zRangeByScore", await r.zRangeByScore(k("z"), "(1", "+inf"), ["b", "c"]);
  check("zIncrBy", await r.zIncrBy(k("z"), 1.5, "a"), 2.5);
  check("zRem", await r.zRem(k("z"), "b"), 1);
  check("zPopMin", await r.zPopMin(k("z")), { value: "a", score: 2.5 });
  check("bzPopMin", await r.bzPopMin(k("z"), 1), { key: k("z"), value: "c", score: 3.5 });
  check("bzPopMin timeout", await r.bzPopMin(k("z"), 0.1), null);

  check("rPush", await r.rPush(k("l"), ["a", "b", "c"]), 3);
  check("lPush", await r.lPush(k("l"), "x"), 4);
  check("lRange", await r.lRange(k("l"), 0, -1), ["x", "a", "b", "c"]);
  check("lInsert", await r.lInsert(k("l"), "BEFORE", "b", "B"), 5);
  check("lSet", await r.lSet(k("l"), 0, "first"), "OK");
  check("lRem", await r.lRem(k("l"), 0, "a"), 1);
  check("lPos", await r.lPos(k("l"), "b"), 2);
  check("lPosCount", await r.lPosCount(k("l"), "b", 0), [2]);
  check("lPopCount", await r.lPopCount(k("l"), 2), ["first", "B"]);
  check("blPop", await r.blPop(k("l"), 1), { key: k("l"), element: "b" });
  check("brPop", await r.brPop(k("l"), 1), { key: k("l"), element: "c" });
  check("blPop timeout", await r.blPop(k("l"), 0.1), null);

  check("pfAdd", await r.pfAdd(k("h1"), ["a", "b", "c"]), true);
  check("pfAdd h2", await r.pfAdd(k("h2"), ["c", "d"]), true);
  check("pfCount", await r.pfCount([k("h1"), k("h2")]), 4);
  check("pfMerge", await r.pfMerge(k("h1"), k("h2")), "OK");

  check("setBit", await r.setBit(k("b"), 7, 1), 0);
  check("getBit", await r.getBit(k("b"), 7), 1);
  check("bitCount", await r.bitCount(k("b")), 1);
  check("bitPos", await r.bitPos(k("b"), 1), 7);
  check("bitField", await r.bitField(k("b"), [{ operation: "INCRBY", encoding: "u8", offset: 0, increment: 1 }]), [2]);

  await r.rPush(k("s"), ["2", "1"]);
  await r.mSet([k("w_1"), "20", k("w_2"), "10"]);
  check("sort", await r.sort(k("s")), ["1", "2"]);
  check("sortStore", await r.sortStore(k("s"), k("dst"), { BY: k("w_*") }), 2);
  check("sorted", await r.lRange(k("dst"), 0, -1), ["2", "1"]);

  check("multi", await r.multi()
    .zAdd(k("z"), { score: 1, value: "m" })
    .zRangeWithScores(k("z"), 0, -1)
    .rPush(k("l"), "v")
    .blPop(k("l"), 0)
    .pfAdd(k("h2"), "z")
    .setBit(k("b"), 0, 1)
    .bitCount(k("b"))
    .exec(), [1, [{ value: "m", score: 1 }], 1, { key: k("l"), element: "v" }, true, 0, 2]);
  check("pipeline", await r.multi()
    .zPopMin(k("z"))
    .rPush(k("l"), "w")
    .lRange(k("l"), 0, -1)
    .pfCount(k("h2"))
    .execAsPipeline(), [{ value: "m", score: 1 }, 1, ["w"], 3]);

  // A BLPOP on an isolated connection woken by an RPUSH from another.
  const woken = r.blPop(commandOptions({ isolated: true }), k("pl"), 20);
  const blocked = async () => Number(/blocked_clients:(\d+)/.exec(await o.info("clients"))[1]);
  for (let i = 0; i < 1000 && (await blocked()) < 1; i++) await new Promise((res) => setTimeout(res, 10));
  check("blocked_clients >= 1", (await blocked()) >= 1, true);
  await p.rPush(k("pl"), ["job1", "job2"]);
  check("blPop woken by rPush", await woken, { key: k("pl"), element: "job1" });
  check("rest", await o.lRange(k("pl"), 0, -1), ["job2"]);
  await r.quit();
  await o.quit();
  await p.quit();
  console.log(JSON.stringify(out));
})().catch((e) => { out.failures.push("exception: " + (e && e.stack || e)); console.log(JSON.stringify(out)); process.exit(0); });
