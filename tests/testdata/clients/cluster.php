<?php
// php-redis's RedisCluster (cluster-aware: it reads CLUSTER SLOTS and
// sends each command to its key's node) seeded with the node at argv[1]
// (host:port), on keys spread over the slots: sorted sets, lists with a
// blocking pop, HyperLogLog and bitmaps, and MULTI on one slot. Every
// expectation is what a redis-server in cluster mode answers. Prints one
// JSON object: version, checks, failures, skipped.
require __DIR__ . "/check.php";
$c = new RedisCluster(NULL, [$argv[1]], 5, 30);
for ($i = 0; $i < 8; $i++) {
    [$z, $l, $h, $b] = ["pcz$i", "pcl$i", "pch$i", "pcb$i"];
    $c->del($z, $l, $h, $b);
    check("$z zAdd", $c->zAdd($z, 1, "a", 2, "b"), 2);
    check("$z zRange withscores", $c->zRange($z, 0, -1, true), ["a" => 1.0, "b" => 2.0]);
    check("$z bzPopMin", $c->bzPopMin([$z], 1), [$z, "a", "1"]);
    check("$l rPush", $c->rPush($l, "x", "y"), 2);
    check("$l blPop", $c->blPop([$l], 1), [$l, "x"]);
    check("$l lRange", $c->lRange($l, 0, -1), ["y"]);
    check("$h pfAdd", $c->pfAdd($h, ["a", "b", "$i"]), true);
    check("$h pfCount", $c->pfCount($h), 3);
    check("$b setBit", $c->setBit($b, $i, true), 0);
    check("$b bitCount", $c->bitCount($b), 1);
}
$c->del("{pc}z", "{pc}l");
$c->multi();
$c->zAdd("{pc}z", 3, "q");
$c->zRange("{pc}z", 0, -1, true);
$c->rPush("{pc}l", "v");
$c->lPop("{pc}l");
check("multi", $c->exec(), [1, ["q" => 3.0], 1, "v"]);
echo json_encode($out), "\n";
