package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// python is the interpreter that has redis-py (the python3 on PATH may
// not).
const python = "/usr/bin/python3"

// needPythonRedis skips t unless /usr/bin/python3 can import redis.
func needPythonRedis(t *testing.T) {
	t.Helper()
	if out, err := exec.Command(python, "-c", "import redis").CombinedOutput(); err != nil {
		t.Skipf("%s with redis-py is not installed (apt-get install python3-redis): %v %s", python, err, out)
	}
}

// pyLock is redis-py's Lock used as lock libraries use it: acquire (SET NX
// PX), a second lock refused while it is held, extend and release (both
// Lua scripts: EVALSHA, SCRIPT LOAD on NOSCRIPT), then the second lock
// acquired, a release with a forged token refused (the script's
// compare-and-delete), and the second lock released. Each step goes through the next of the given
// ports, so in a cluster the scripts arrive at nodes that do not
// coordinate the key.
const pyLock = `
import sys, redis
ports = [int(p) for p in sys.argv[1:]]
rs = [redis.Redis(host="127.0.0.1", port=p) for p in ports]
at = lambda i: rs[i % len(rs)]
for round in range(3):
    name = "lock:%d" % round
    a = at(round).lock(name, timeout=30)
    b = at(round + 1).lock(name, timeout=30)
    assert a.acquire(blocking=False), "acquire"
    assert not b.acquire(blocking=False), "second lock acquired while held"
    assert a.owned() and a.locked()
    assert a.extend(10), "extend"
    assert at(round + 2).pttl(name) > 30000, "extend did not add time"
    a.release()
    assert not at(round + 1).exists(name), "release left the key"
    assert b.acquire(blocking=False), "second lock after release"
    forged = at(round + 2).lock(name)
    forged.local.token = b"forged"
    try:
        forged.release()
        raise AssertionError("a lock released with another owner's token")
    except redis.exceptions.LockNotOwnedError:
        pass
    assert at(round).exists(name), "the forged release removed the lock"
    b.release()
    assert not at(round).exists(name), "release left the key"
if len(ports) > 1:
    from redis.cluster import RedisCluster
    rc = RedisCluster(host="127.0.0.1", port=ports[0])
    a, b = rc.lock("lock:cluster", timeout=30), rc.lock("lock:cluster", timeout=30)
    assert a.acquire(blocking=False) and not b.acquire(blocking=False), "RedisCluster lock"
    a.release()
    assert b.acquire(blocking=False), "RedisCluster lock after release"
    b.release()
    assert not rc.exists("lock:cluster")
    print("redis-py RedisCluster lock: acquire, refusal, release: ok")
print("redis-py lock: 3 rounds of acquire, refusal while held, extend, release, forged release refused: ok")
`

func runPyLock(t *testing.T, procs ...*Proc) {
	t.Helper()
	args := []string{"-c", pyLock}
	for _, p := range procs {
		args = append(args, p.Addr[strings.LastIndex(p.Addr, ":")+1:])
	}
	out, err := exec.Command(python, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-py lock: %v\n%s", err, out)
	}
	t.Logf("%s", strings.TrimSpace(string(out)))
}

// TestScriptRedisPyLockLoneNode: redis-py's Lock on one process.
func TestScriptRedisPyLockLoneNode(t *testing.T) {
	heavy(t)
	needPythonRedis(t)
	runPyLock(t, StartServer(t, "n1"))
}

// TestScriptRedisPyLockCluster: redis-py's Lock through the three nodes of
// a cluster in turn: its release and extend scripts run on the key's
// coordinator whichever node they are sent to.
func TestScriptRedisPyLockCluster(t *testing.T) {
	heavy(t)
	needPythonRedis(t)
	runPyLock(t, StartCluster(t, 3)...)
}

// TestScriptGoRedisThroughOtherNode: go-redis's Script.Run (EVALSHA, then
// EVAL on NOSCRIPT) sent to a node that does not coordinate the key runs
// the script on the coordinator; a script loaded through one node (SCRIPT
// LOAD) then runs through every node by EVALSHA alone.
func TestScriptGoRedisThroughOtherNode(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	key := "script:counter"
	master, other := coordinatorAndOther(t, procs, key)
	c := other.Client(t)
	s := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1])")
	for i := 1; i <= 3; i++ {
		if n := must(s.Run(ctx, c, []string{key}, 7).Int64())(t); n != int64(7*i) {
			t.Fatalf("Run %d through %s (coordinator %s) = %d, want %d", i, other.ID, master, n, 7*i)
		}
	}
	if got := must(procs[2].Client(t).Get(ctx, key).Result())(t); got != "21" {
		t.Fatalf("GET after three runs = %q", got)
	}

	body := "return redis.call('get', KEYS[1])"
	sha := must(procs[1].Client(t).ScriptLoad(ctx, body).Result())(t)
	for _, p := range procs {
		eventually(t, "SCRIPT LOAD reached "+p.ID, stepTimeout, func() error {
			got, err := p.Client(t).EvalSha(ctx, sha, []string{key}).Result()
			if err != nil || got != "21" {
				return fmt.Errorf("EVALSHA on %s: %v %v", p.ID, got, err)
			}
			return nil
		})
	}

	// A cluster-aware client sends the script to the slot's master itself.
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{procs[0].Addr}, MaxRedirects: 0})
	defer cc.Close()
	cs := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1]) * 2")
	for i := 1; i <= 2; i++ {
		if n := must(cs.Run(ctx, cc, []string{key}, 1).Int64())(t); n != int64(2*(21+i)) {
			t.Fatalf("ClusterClient Run %d = %d, want %d", i, n, 2*(21+i))
		}
	}
	t.Logf("Script.Run through %s (coordinator %s): 7, 14, 21; SCRIPT LOAD on n2 then EVALSHA on n1, n2, n3: 21; ClusterClient Script.Run: 44, 46", other.ID, master)
}

// phpSession is one request of a PHP shop: open the session named on the
// command line (php-redis's session handler, with its locking), append
// this request's item to the cart, close.
const phpSession = `session_id($argv[1]); if (!session_start()) { fwrite(STDERR, "session_start failed\n"); exit(1); }
$_SESSION['cart'][] = $argv[2]; if (!session_write_close()) { fwrite(STDERR, "session_write_close failed\n"); exit(1); }`

// phpCart prints the session's cart as JSON.
const phpCart = `session_id($argv[1]); session_start(); echo json_encode($_SESSION['cart'] ?? []);`

// TestScriptPHPSessionCart: 20 concurrent php-cli requests with
// php-redis's session handler and redis.session.locking_enabled=1 each add
// one item to the same session's cart: the lock (SET NX, released by a Lua
// script) serializes them, so the cart ends with all 20 items.
func TestScriptPHPSessionCart(t *testing.T) {
	if _, err := exec.LookPath("php"); err != nil {
		t.Skip("php-cli is not installed (apt-get install php-cli php-redis): php-redis session locking not checked")
	}
	if out, err := exec.Command("php", "--ri", "redis").CombinedOutput(); err != nil || !strings.Contains(string(out), "redis.session.locking_enabled") {
		t.Skipf("php's redis extension (with session locking) is not installed (apt-get install php-redis): %v %s", err, out)
	}
	p := StartServer(t, "n1")
	ini := []string{
		"-d", "session.save_handler=redis",
		"-d", "session.save_path=tcp://" + p.Addr,
		"-d", "session.use_strict_mode=0",
		"-d", "redis.session.locking_enabled=1",
		"-d", "redis.session.lock_retries=-1",
		"-d", "redis.session.lock_expire=60",
	}
	const n = 20
	start := time.Now()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			args := append(slices.Clone(ini), "-r", phpSession, "shop42", fmt.Sprintf("item-%02d", i))
			if out, err := exec.CommandContext(ctxT(t), "php", args...).CombinedOutput(); err != nil || len(out) > 0 {
				errs[i] = fmt.Errorf("request %d: %v %s", i, err, out)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	for _, err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	out, err := exec.Command("php", append(slices.Clone(ini), "-r", phpCart, "shop42")...).CombinedOutput()
	if err != nil {
		t.Fatalf("reading the cart: %v %s", err, out)
	}
	var cart []string
	if err := json.Unmarshal(out, &cart); err != nil {
		t.Fatalf("cart %q: %v", out, err)
	}
	slices.Sort(cart)
	want := make([]string, n)
	for i := range want {
		want[i] = fmt.Sprintf("item-%02d", i)
	}
	if !slices.Equal(cart, want) {
		t.Fatalf("cart after %d concurrent requests has %d items: %q", n, len(cart), cart)
	}
	c := p.Client(t)
	if keys := must(c.Keys(context.Background(), "PHPREDIS_SESSION:shop42*").Result())(t); !slices.Equal(keys, []string{"PHPREDIS_SESSION:shop42"}) {
		t.Errorf("session keys after the requests: %q (a lock key left behind?)", keys)
	}
	t.Logf("php-redis sessions, locking on: %d concurrent requests in %v, cart = %d items %s … %s", n, took.Round(time.Millisecond), len(cart), cart[0], cart[n-1])
}

// TestScriptForwardedOutlivesTimeout: in a three-node cluster (request
// timeout 1 s, so an ordinary forward waits 2 s), a script sent to a node
// that does not coordinate its key and running 3 s on the coordinator
// gets its own reply (OK, its SET done), not NOQUORUM; a script looping
// forever there is killed by SCRIPT KILL sent to the node the client
// used, and its client gets the killed error.
func TestScriptForwardedOutlivesTimeout(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	key := "script:slow"
	master, other := coordinatorAndOther(t, procs, key)
	c := other.Client(t, func(o *redis.Options) { o.ReadTimeout = 20 * time.Second })
	slow := "local t0 = tonumber(redis.call('time')[1]) while tonumber(redis.call('time')[1]) - t0 < 3 do end return redis.call('set', KEYS[1], 'done')"
	if got, err := c.Eval(ctx, slow, []string{key}).Result(); err != nil || got != "OK" {
		t.Fatalf("3 s script through %s (coordinator %s) = %v, %v; want OK", other.ID, master, got, err)
	}
	if got := must(c.Get(ctx, key).Result())(t); got != "done" {
		t.Fatalf("GET after the slow script = %q", got)
	}

	for _, p := range procs {
		must(p.Client(t).ConfigSet(ctx, "lua-time-limit", "100").Result())(t)
	}
	loop := "while true do end"
	done := make(chan error, 1)
	go func() { done <- c.Eval(ctx, loop, []string{key}).Err() }()
	admin := other.Client(t)
	eventually(t, "SCRIPT KILL through "+other.ID+" kills the script on the coordinator", stepTimeout, func() error {
		if err := admin.ScriptKill(ctx).Err(); err != nil {
			return err
		}
		return nil
	})
	if err := <-done; err == nil || !strings.HasPrefix(err.Error(), "ERR Script killed by user") {
		t.Fatalf("killed script's reply: %v", err)
	}
	t.Logf("3 s script through %s (coordinator %s): OK; SCRIPT KILL through %s: killed", other.ID, master, other.ID)
}

// coordinatorAndOther returns the address of key's coordinator (its
// master in CLUSTER SLOTS) and a node that is not it.
func coordinatorAndOther(t *testing.T, procs []*Proc, key string) (string, *Proc) {
	t.Helper()
	ctx := ctxT(t)
	slots := must(procs[0].Client(t).ClusterSlots(ctx).Result())(t)
	slot := int(must(procs[0].Client(t).ClusterKeySlot(ctx, key).Result())(t))
	master := slotReplicas(slots, slot)[0]
	for _, p := range procs {
		if p.Addr != master {
			return master, p
		}
	}
	t.Fatalf("every node is %s", master)
	return "", nil
}
