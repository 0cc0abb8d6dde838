package tests

// The client libraries people use, as Debian packages them, against issue
// 14's data types: sorted sets, lists with their blocking pops,
// HyperLogLog, bitmaps and SORT, through redis-py (python3-redis),
// php-redis, ruby-redis and node-redis. Each library runs one script of
// testdata/clients that calls the types through the library's own API,
// compares every reply, as the library decodes it, with what redis-server
// 7.0 answers, and prints what it found as JSON; the test fails on any
// difference. TestClientLibrariesAgainstRedis runs the same scripts
// against a real redis-server (DYNAKV_VALIDATE_REDIS=1): a script that
// passes there asserts Redis's behaviour.

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/redis/go-redis/v9"
)

// clientLib is one client library and how to run its script.
type clientLib struct {
	name   string   // as the test names it
	script string   // under testdata/clients
	argv   []string // the interpreter and its flags, before the script
	env    []string // added to the environment
	probe  []string // a command that exits 0 when the library is usable
	apt    string   // the Debian packages it needs
	checks int      // at least this many checks: a script that stopped early fails
}

// debianNodePath is where Debian's node-redis installs its modules; the
// nodejs of Debian searches it, the NodeSource build of nodejs does not,
// so the test adds it to NODE_PATH.
const debianNodePath = "/usr/share/nodejs"

// nodeEnv returns NODE_PATH with debianNodePath added.
func nodeEnv() []string {
	p := debianNodePath
	if old := os.Getenv("NODE_PATH"); old != "" {
		p = old + string(os.PathListSeparator) + p
	}
	return []string{"NODE_PATH=" + p}
}

// clientLibs are the libraries, each with its skip probe.
var clientLibs = []clientLib{
	{name: "redis-py", script: "newtypes.py", argv: []string{systemPython},
		probe: []string{systemPython, "-c", "import redis"}, apt: "python3-redis", checks: 104},
	{name: "php-redis", script: "newtypes.php", argv: []string{"php"},
		probe: []string{"php", "-r", `exit(class_exists("Redis") ? 0 : 1);`}, apt: "php-cli php-redis", checks: 59},
	{name: "ruby-redis", script: "newtypes.rb", argv: []string{"ruby"},
		probe: []string{"ruby", "-e", `require "redis"`}, apt: "ruby ruby-redis", checks: 37},
	{name: "node-redis", script: "newtypes.js", argv: []string{"node"}, env: nodeEnv(),
		probe: []string{"node", "-e", `require("redis").createClient`}, apt: "nodejs node-redis", checks: 37},
}

// clusterLibs are the cluster-aware clients (they read CLUSTER SLOTS and
// send each command to its key's node), each with its skip probe.
var clusterLibs = []clientLib{
	{name: "redis-py-RedisCluster", script: "cluster.py", argv: []string{systemPython},
		probe: []string{systemPython, "-c", "from redis.cluster import RedisCluster"}, apt: "python3-redis (4.1 or later)", checks: 99},
	{name: "php-redis-RedisCluster", script: "cluster.php", argv: []string{"php"},
		probe: []string{"php", "-r", `exit(class_exists("RedisCluster") ? 0 : 1);`}, apt: "php-cli php-redis", checks: 81},
}

// clientResult is what a script prints.
type clientResult struct {
	Version  string
	Checks   int
	Failures []string
	Skipped  []string
}

// runClientLib runs lib's script against addr, with the pushes that wake
// blocked pops sent through pushAddr, and fails t on any reply that
// differs from Redis's. It skips t, naming the Debian packages, when the
// library is not installed.
func runClientLib(t *testing.T, lib clientLib, addr, pushAddr string) {
	t.Helper()
	if _, err := exec.LookPath(lib.probe[0]); err != nil {
		t.Skipf("%s: %s is not installed (apt-get install %s)", lib.name, lib.probe[0], lib.apt)
	}
	probe := exec.Command(lib.probe[0], lib.probe[1:]...)
	probe.Env = append(os.Environ(), lib.env...)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("%s is not usable by %s (apt-get install %s): %v %s", lib.name, lib.probe[0], lib.apt, err, out)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "clients", lib.script))
	if err != nil {
		t.Fatal(err)
	}
	// NB: the scripts block at most 20 s (a pop woken by a push) and take a
	// few seconds otherwise.
	ctx, cancel := context.WithTimeout(context.Background(), 2*stepTimeout)
	defer cancel()
	args := append(slices.Clone(lib.argv[1:]), script, addr, pushAddr)
	cmd := exec.CommandContext(ctx, lib.argv[0], args...)
	cmd.Env = append(os.Environ(), lib.env...)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", lib.name, lib.script, err, out, strings.TrimSpace(stderr.String()))
	}
	var res clientResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s output %q: %v\n%s", lib.name, out, err, stderr.String())
	}
	t.Logf("%s %s via %s (pushes via %s): %d checks in %v", lib.name, res.Version, addr, pushAddr, res.Checks, time.Since(start).Round(time.Millisecond))
	for _, s := range res.Skipped {
		t.Logf("%s: not checked: %s", lib.name, s)
	}
	for _, f := range res.Failures {
		t.Errorf("%s %s: %s", lib.name, res.Version, f)
	}
	if res.Checks < lib.checks {
		t.Errorf("%s: %d checks ran, want at least %d", lib.name, res.Checks, lib.checks)
	}
}

// TestClientLibrariesNewTypes (heavy tier) runs each client library's
// script, and go-redis's typed API in RESP2 and RESP3 (no Debian library
// here speaks RESP3: redis-py 4.3, php-redis 5.3, ruby-redis 4.8 and
// node-redis 4.5 do not), (sorted sets, lists with BLPOP/BZPOPMIN woken by a push from
// another connection, HyperLogLog, bitmaps, SORT with BY/GET/STORE,
// MULTI and pipelines mixing them) against a lone node, and against one
// node of a 3-node cluster with the waking pushes sent through another
// node; and, on the cluster, redis-py's and php-redis's cluster-aware
// clients (RedisCluster) on keys spread over the slots. A library that is
// not installed skips, naming its Debian package.
func TestClientLibrariesNewTypes(t *testing.T) {
	heavy(t)
	t.Run("lone", func(t *testing.T) {
		p := StartServer(t, "n1")
		for _, lib := range clientLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, p.Addr, p.Addr) })
		}
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("go-redis-resp%d", proto), func(t *testing.T) { goRedisNewTypes(t, p.Addr, p.Addr, proto) })
		}
	})
	t.Run("cluster", func(t *testing.T) {
		procs := StartCluster(t, 3)
		for _, lib := range clientLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, procs[1].Addr, procs[2].Addr) })
		}
		for _, proto := range []int{2, 3} {
			t.Run(fmt.Sprintf("go-redis-resp%d", proto), func(t *testing.T) { goRedisNewTypes(t, procs[1].Addr, procs[2].Addr, proto) })
		}
		for _, lib := range clusterLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, procs[0].Addr, procs[0].Addr) })
		}
	})
}

// TestClientLibrariesAgainstRedis runs the client scripts against a real
// redis-server (standalone, and in cluster mode for the cluster-aware
// clients, on ports in 16500-16599), proving their expectations are
// Redis's. Skipped unless DYNAKV_VALIDATE_REDIS=1.
func TestClientLibrariesAgainstRedis(t *testing.T) {
	if os.Getenv(validateVar) != "1" {
		t.Skipf("validates the client scripts against redis-server: set %s=1 to run it", validateVar)
	}
	addr := startRedis(t, false)
	for _, lib := range clientLibs {
		t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, addr, addr) })
	}
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("go-redis-resp%d", proto), func(t *testing.T) { goRedisNewTypes(t, addr, addr, proto) })
	}
	t.Run("cluster-mode", func(t *testing.T) {
		addr := startRedisServer(t)
		for _, lib := range clusterLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, addr, addr) })
		}
	})
}

// goRedisNewTypes drives the new types through go-redis's typed API at
// addr in RESP proto (2 or 3), where each command's reply must have the
// shape go-redis decodes (RESP3: doubles, maps, pairs as arrays), and
// fails t on any value that differs from redis-server's. The push that
// wakes a blocked BZPOPMIN goes through pushAddr.
func goRedisNewTypes(t *testing.T, addr, pushAddr string, proto int) {
	t.Helper()
	opt := func(a string) *redis.Options {
		return &redis.Options{Addr: a, Protocol: proto, MaxRetries: -1, ReadTimeout: 30 * time.Second}
	}
	c, pusher := redis.NewClient(opt(addr)), redis.NewClient(opt(pushAddr))
	t.Cleanup(func() { c.Close(); pusher.Close() })
	ctx := ctxT(t)
	k := func(s string) string { return fmt.Sprintf("{go%d}%s", proto, s) }
	n := 0
	check := func(what string, got any, err error, want string) {
		t.Helper()
		n++
		if s := fmt.Sprint(got); err != nil || s != want {
			t.Errorf("go-redis RESP%d %s = %s, %v; want %s", proto, what, s, err, want)
		}
	}
	keys := []string{"z", "z2", "zd", "l", "l2", "h", "b", "s", "w_1", "w_2", "dst", "pz"}
	for _, s := range keys {
		c.Del(ctx, k(s))
	}
	z := func(score float64, m string) redis.Z { return redis.Z{Score: score, Member: m} }

	v1, err := c.ZAdd(ctx, k("z"), z(1, "a"), z(2.5, "b"), z(3, "c")).Result()
	check("ZADD", v1, err, "3")
	v2, err := c.ZIncrBy(ctx, k("z"), 0.25, "a").Result()
	check("ZINCRBY", v2, err, "1.25")
	v3, err := c.ZRangeWithScores(ctx, k("z"), 0, -1).Result()
	check("ZRANGE WITHSCORES", v3, err, "[{1.25 a} {2.5 b} {3 c}]")
	v3, err = c.ZRangeArgsWithScores(ctx, redis.ZRangeArgs{Key: k("z"), Start: "(1.25", Stop: "+inf", ByScore: true, Rev: false, Offset: 0, Count: 1}).Result()
	check("ZRANGE BYSCORE LIMIT WITHSCORES", v3, err, "[{2.5 b}]")
	v4, err := c.ZScore(ctx, k("z"), "b").Result()
	check("ZSCORE", v4, err, "2.5")
	v5, err := c.ZMScore(ctx, k("z"), "a", "nope").Result()
	check("ZMSCORE", v5, err, "[1.25 0]")
	c.ZAdd(ctx, k("z2"), z(10, "a"), z(1, "x"))
	v3, err = c.ZUnionWithScores(ctx, redis.ZStore{Keys: []string{k("z"), k("z2")}}).Result()
	check("ZUNION WITHSCORES", v3, err, "[{1 x} {2.5 b} {3 c} {11.25 a}]")
	v3, err = c.ZInterWithScores(ctx, &redis.ZStore{Keys: []string{k("z"), k("z2")}, Aggregate: "MAX"}).Result()
	check("ZINTER AGGREGATE MAX WITHSCORES", v3, err, "[{10 a}]")
	v3, err = c.ZRandMemberWithScores(ctx, k("z2"), -1).Result()
	check("ZRANDMEMBER -1 WITHSCORES", len(v3), err, "1")
	v3, err = c.ZPopMin(ctx, k("z"), 2).Result()
	check("ZPOPMIN 2", v3, err, "[{1.25 a} {2.5 b}]")
	v6, err := c.BZPopMin(ctx, time.Second, k("zd"), k("z")).Result()
	check("BZPOPMIN", v6, err, fmt.Sprintf("&{{3 c} %s}", k("z")))
	_, err = c.BZPopMin(ctx, time.Second, k("z")).Result()
	check("BZPOPMIN timeout", err, nil, "redis: nil")
	key, v7, err := c.ZMPop(ctx, "max", 5, k("zd"), k("z2")).Result()
	check("ZMPOP", fmt.Sprintf("%s %v", key, v7), err, k("z2")+" [{10 a} {1 x}]")
	c.ZAdd(ctx, k("z2"), z(4, "y"))
	key, v7, err = c.BZMPop(ctx, time.Second, "min", 1, k("z2")).Result()
	check("BZMPOP", fmt.Sprintf("%s %v", key, v7), err, k("z2")+" [{4 y}]")
	keys8, cur, err := c.ZScan(ctx, k("z2"), 0, "", 10).Result()
	check("ZSCAN of an empty key", fmt.Sprint(keys8, cur), err, "[] 0")

	v0, err := c.RPush(ctx, k("l"), "a", "b", "a", "c").Result()
	check("RPUSH", v0, err, "4")
	v9, err := c.LPosCount(ctx, k("l"), "a", 0, redis.LPosArgs{}).Result()
	check("LPOS COUNT 0", v9, err, "[0 2]")
	v10, err := c.LPopCount(ctx, k("l"), 2).Result()
	check("LPOP 2", v10, err, "[a b]")
	key, v10, err = c.LMPop(ctx, "right", 1, k("l2"), k("l")).Result()
	check("LMPOP", fmt.Sprintf("%s %v", key, v10), err, k("l")+" [c]")
	key, v10, err = c.BLMPop(ctx, time.Second, "left", 5, k("l")).Result()
	check("BLMPOP", fmt.Sprintf("%s %v", key, v10), err, k("l")+" [a]")
	_, err = c.BLPop(ctx, time.Second, k("l")).Result()
	check("BLPOP timeout", err, nil, "redis: nil")
	c.RPush(ctx, k("l"), "x")
	v11, err := c.BLMove(ctx, k("l"), k("l2"), "LEFT", "RIGHT", time.Second).Result()
	check("BLMOVE", v11, err, "x")

	v12, err := c.PFAdd(ctx, k("h"), "a", "b", "c").Result()
	check("PFADD", v12, err, "1")
	v12, err = c.PFCount(ctx, k("h")).Result()
	check("PFCOUNT", v12, err, "3")

	c.SetBit(ctx, k("b"), 7, 1)
	c.SetBit(ctx, k("b"), 12, 1)
	v12, err = c.BitCount(ctx, k("b"), &redis.BitCount{Start: 0, End: 11, Unit: "BIT"}).Result()
	check("BITCOUNT BIT", v12, err, "1")
	v12, err = c.BitPosSpan(ctx, k("b"), 1, 1, -1, "byte").Result()
	check("BITPOS", v12, err, "12")
	v13, err := c.BitField(ctx, k("b"), "GET", "u8", 0, "INCRBY", "i8", 8, -1).Result()
	check("BITFIELD", v13, err, "[1 7]")
	v13, err = c.BitFieldRO(ctx, k("b"), "u4", 8).Result()
	check("BITFIELD_RO", v13, err, "[0]")

	c.RPush(ctx, k("s"), "2", "1")
	c.MSet(ctx, k("w_1"), "20", k("w_2"), "10")
	v10, err = c.Sort(ctx, k("s"), &redis.Sort{By: k("w_*"), Get: []string{"#", k("w_*")}}).Result()
	check("SORT BY GET", v10, err, "[2 10 1 20]")
	v12, err = c.SortStore(ctx, k("s"), k("dst"), &redis.Sort{Order: "DESC"}).Result()
	check("SORT STORE", v12, err, "2")

	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, k("pz"), z(1.5, "m"))
		p.ZRangeWithScores(ctx, k("pz"), 0, -1)
		p.BZPopMin(ctx, 0, k("pz"))
		p.BLPop(ctx, 0, k("nol"))
		return nil
	})
	var got []string
	for _, cmd := range cmds {
		got = append(got, strings.TrimPrefix(cmd.String(), cmd.Name()+" "))
	}
	check("MULTI's last reply (BLPOP's null)", err, nil, "redis: nil")
	check("MULTI of ZADD, ZRANGE, BZPOPMIN, BLPOP", strings.Join(got, " | "), nil,
		fmt.Sprintf("%[1]s 1.5 m: 1 | %[1]s 0 -1 withscores: [{1.5 m}] | %[1]s 0: &{{1.5 m} %[1]s} | %[2]s 0: redis: nil", k("pz"), k("nol")))

	// A BZPOPMIN woken by a ZADD through pushAddr.
	woke := make(chan string, 1)
	go func() {
		v, err := c.BZPopMin(ctx, 20*time.Second, k("pz")).Result()
		woke <- fmt.Sprint(v, err)
	}()
	eventually(t, "the BZPOPMIN blocked", 10*time.Second, func() error {
		info := c.Info(ctx, "clients").Val()
		if !strings.Contains(info, "blocked_clients:1\r\n") {
			return fmt.Errorf("INFO clients: %q", info)
		}
		return nil
	})
	pusher.ZAdd(ctx, k("pz"), z(7, "woke"))
	check("BZPOPMIN woken by ZADD through another node", <-woke, nil, fmt.Sprintf("&{{7 woke} %s} <nil>", k("pz")))
	t.Logf("go-redis RESP%d via %s (pushes via %s): %d checks", proto, addr, pushAddr, n)
}
