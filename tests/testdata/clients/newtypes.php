<?php
// php-redis (Debian's php-redis) against the dynakv node at argv[1]
// (host:port): sorted sets, lists with their blocking pops, HyperLogLog,
// bitmaps, SORT, and MULTI and a pipeline mixing them. The push that wakes
// a blocked blPop goes through argv[2] (default argv[1]). Every
// expectation is what redis-server 7.0 answers. Prints one JSON object:
// version, checks, failures, skipped.
[$host, $port] = explode(":", $argv[1]);
[$pushHost, $pushPort] = explode(":", $argv[2] ?? $argv[1]);
require __DIR__ . "/check.php";
$r = new Redis();
$r->connect($host, (int)$port, 10);
$r->setOption(Redis::OPT_READ_TIMEOUT, 30);
$k = function ($s) { return "{php}" . $s; };
$r->del(array_map($k, ["z", "z2", "l", "q", "h1", "h2", "h3", "b", "s", "st", "w_1", "w_2", "o_1", "o_2", "dst", "pl"]));

// Sorted sets.
check("zAdd", $r->zAdd($k("z"), 1, "a", 2, "b", 3.5, "c"), 3);
check("zAdd NX", $r->zAdd($k("z"), ["NX"], 9, "a"), 0);
check("zRange", $r->zRange($k("z"), 0, -1), ["a", "b", "c"]);
check("zRange withscores", $r->zRange($k("z"), 0, -1, true), ["a" => 1.0, "b" => 2.0, "c" => 3.5]);
check("zRangeByScore withscores limit", $r->zRangeByScore($k("z"), "(1", "+inf", ["withscores" => true, "limit" => [0, 1]]), ["b" => 2.0]);
check("zRevRange", $r->zRevRange($k("z"), 0, 0), ["c"]);
check("zIncrBy", $r->zIncrBy($k("z"), 2.5, "a"), 3.5);
check("zScore", $r->zScore($k("z"), "a"), 3.5);
check("zScore missing", $r->zScore($k("z"), "nope"), false);
check("zRank", $r->zRank($k("z"), "b"), 0);
check("zCard", $r->zCard($k("z")), 3);
check("zRem", $r->zRem($k("z"), "b", "nope"), 1);
check("zPopMin", $r->zPopMin($k("z")), ["a" => 3.5]);
check("zPopMax", $r->zPopMax($k("z"), 5), ["c" => 3.5]);
check("bzPopMin timeout", $r->bzPopMin([$k("z")], 1), []);
$r->zAdd($k("z"), 4, "x", 5, "y");
check("bzPopMin", $r->bzPopMin([$k("z2"), $k("z")], 1), [$k("z"), "x", "4"]);
check("bzPopMax", $r->bzPopMax($k("z"), 1), [$k("z"), "y", "5"]);

// Lists.
check("rPush", $r->rPush($k("l"), "a", "b", "c"), 3);
check("lPush", $r->lPush($k("l"), "y", "x"), 5);
check("lRange", $r->lRange($k("l"), 0, -1), ["x", "y", "a", "b", "c"]);
check("lPop", $r->lPop($k("l")), "x");
check("rPop", $r->rPop($k("l")), "c");
check("lInsert", $r->lInsert($k("l"), Redis::BEFORE, "b", "B"), 4);
check("lSet", $r->lSet($k("l"), 0, "first"), true);
check("lSet out of range", $r->lSet($k("l"), 100, "x"), false);
check("lastError", rtrim($r->getLastError(), "\0"), "ERR index out of range");
$r->clearLastError();
check("lRem", $r->lRem($k("l"), "a", 0), 1);
check("lPos (rawCommand)", $r->rawCommand("LPOS", $k("l"), "b"), 2);
check("lRange after edits", $r->lRange($k("l"), 0, -1), ["first", "B", "b"]);
check("lLen", $r->lLen($k("l")), 3);
check("blPop", $r->blPop([$k("q"), $k("l")], 1), [$k("l"), "first"]);
check("brPop", $r->brPop([$k("l")], 1), [$k("l"), "b"]);
check("blPop timeout", $r->blPop([$k("q")], 1), []);
check("brpoplpush", $r->brpoplpush($k("l"), $k("q"), 1), "B");
check("lRange q", $r->lRange($k("q"), 0, -1), ["B"]);

// HyperLogLog.
check("pfAdd", $r->pfAdd($k("h1"), ["a", "b", "c", "d"]), 1);
check("pfAdd again", $r->pfAdd($k("h1"), ["a"]), 0);
check("pfAdd other", $r->pfAdd($k("h2"), ["c", "d", "e"]), 1);
check("pfCount", $r->pfCount($k("h1")), 4);
check("pfCount union", $r->pfCount([$k("h1"), $k("h2")]), 5);
check("pfMerge", $r->pfMerge($k("h3"), [$k("h1"), $k("h2")]), true);
check("pfCount merged", $r->pfCount($k("h3")), 5);

// Bitmaps.
check("setBit", $r->setBit($k("b"), 7, true), 0);
check("setBit again", $r->setBit($k("b"), 7, true), 1);
$r->setBit($k("b"), 9, true);
check("getBit", $r->getBit($k("b"), 9), 1);
check("getBit unset", $r->getBit($k("b"), 8), 0);
check("bitCount", $r->bitCount($k("b")), 2);
check("bitCount range", $r->bitCount($k("b"), 1, 1), 1);
check("bitPos", $r->bitpos($k("b"), 1), 7);
check("get bitmap", $r->get($k("b")), "\x01\x40");
check("bitfield (rawCommand)", $r->rawCommand("BITFIELD", $k("b"), "GET", "u8", "0", "INCRBY", "u8", "8", "1"), [1, 65]);

// SORT.
$r->rPush($k("s"), "2", "1");
$r->mSet([$k("w_1") => 20, $k("w_2") => 10, $k("o_1") => "one", $k("o_2") => "two"]);
check("sort", $r->sort($k("s")), ["1", "2"]);
check("sort by get", $r->sort($k("s"), ["by" => $k("w_*"), "get" => [$k("o_*"), "#"]]), ["two", "2", "one", "1"]);
check("sort store", $r->sort($k("s"), ["by" => $k("w_*"), "sort" => "desc", "store" => $k("dst")]), 2);
check("sort stored", $r->lRange($k("dst"), 0, -1), ["1", "2"]);

// MULTI/EXEC and a pipeline mixing the types.
$r->del($k("z"), $k("l"), $k("h1"), $k("b"));
foreach ([Redis::MULTI, Redis::PIPELINE] as $mode) {
    $got = $r->multi($mode)
        ->zAdd($k("z"), 1, "a", 2, "b")
        ->zRange($k("z"), 0, -1, true)
        ->rPush($k("l"), "x", "y")
        ->lRange($k("l"), 0, -1)
        ->blPop([$k("l")], 1)
        ->pfAdd($k("h1"), ["u", "v"])
        ->pfCount($k("h1"))
        ->setBit($k("b"), 3, true)
        ->bitCount($k("b"))
        ->zPopMin($k("z"))
        ->exec();
    check($mode == Redis::MULTI ? "multi" : "pipeline", $got,
        [2, ["a" => 1.0, "b" => 2.0], 2, ["x", "y"], [$k("l"), "x"], 1, 2, 0, 1, ["a" => 1.0]]);
    $r->del($k("z"), $k("l"), $k("h1"), $k("b"));
}

// A blPop woken by an rPush from another connection: this process forks a
// pusher that waits until the server reports a blocked client.
if (!function_exists("pcntl_fork")) {
    $out["skipped"][] = "blPop woken by another connection: php has no pcntl";
    echo json_encode($out), "\n";
    exit(0);
}
$pid = pcntl_fork();
if ($pid == 0) {
    $o = new Redis();
    $o->connect($host, (int)$port, 10);
    for ($i = 0; $i < 1000 && $o->info("clients")["blocked_clients"] < 1; $i++) usleep(10000);
    $p = new Redis();
    $p->connect($pushHost, (int)$pushPort, 10);
    $p->rPush($k("pl"), "job1", "job2");
    exit(0);
}
check("blPop woken by rPush", $r->blPop([$k("pl")], 20), [$k("pl"), "job1"]);
pcntl_waitpid($pid, $status);
check("rest after the woken blPop", $r->lRange($k("pl"), 0, -1), ["job2"]);
echo json_encode($out), "\n";
