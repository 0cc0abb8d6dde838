package tests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/redis/go-redis/v9"
)

// TestTxCluster runs the transaction scenarios of issue 12 on one 3-node
// cluster (N=3 R=2 W=2), a plain client per node: (a) a WATCH/GET/MULTI/
// SET/EXEC check-and-set loop from 3 clients, one per node, until 300
// increments committed in all: the key reads exactly 300 through every
// node and the 300 committed values are 1..300, each once; (b) go-redis
// TxPipelined and its documented Watch retry loop; (c) redis-py's
// pipeline() (MULTI/EXEC) and transaction() with WATCH; (d) a transaction
// script through each node compared byte for byte with redis-server's
// replies (txConformance).
func TestTxCluster(t *testing.T) {
	procs := StartCluster(t, 3)
	t.Run("cas-loop", func(t *testing.T) { casLoop(t, procAddrs(procs), "tx:counter", 300) })
	t.Run("go-redis", func(t *testing.T) {
		goRedisTx(t, procAddrs(procs), "tx:go")
	})
	t.Run("redis-py", func(t *testing.T) { redisPyTx(t, procs[1].Addr, "tx:py") })
	t.Run("conformance", func(t *testing.T) { txConformance(t, procs) })
}

// txScript is a transaction script for conformance.Compare, its keys in
// the one slot of hash tag {T} (replaced per run): blocks with runtime
// and queue-time errors, RESP3-typed replies (sets, maps, nulls) inside
// EXEC, WATCH without a change, DISCARD, and MSETNX and SMOVE inside a
// block.
const txScript = `
MULTI
SET {T}a 1
INCR {T}a
INCRBY {T}a x
SADD {T}s m
SMEMBERS {T}s
HSET {T}h f v
HGETALL {T}h
GET {T}none
PING
EXEC
MULTI
SET {T}a
GET {T}a
EXEC
WATCH {T}a
MULTI
GET {T}a
EXEC
WATCH {T}a {T}none
GET {T}a
MULTI
SET {T}a 5
EXEC
GET {T}a
MULTI
DISCARD
EXEC
MULTI
MSETNX {T}m1 1 {T}m2 2
MSETNX {T}m2 1 {T}m3 2
SMOVE {T}s {T}s2 m
SMEMBERS {T}s2
EXISTS {T}s
EXEC
`

// txConformance sends txScript to a standalone redis-server and to each
// node of the cluster (so the script's slot is coordinated by the node in
// one run and forwarded as DKV.EXEC in others), RESP2 and RESP3, and
// compares the replies byte for byte.
func txConformance(t *testing.T, procs []*Proc) {
	redisAddr := startRedis(t, false)
	for i, p := range procs {
		for _, proto := range []int{2, 3} {
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, p.Addr)
			ref.Do(t, "FLUSHALL")
			script := strings.ReplaceAll(txScript, "{T}", fmt.Sprintf("{tx%d.%d}", i, proto))
			n := conformance.Compare(t, ref, dut, script, proto, nil)
			t.Logf("%s, RESP%d: %d commands compared", p.ID, proto, n)
		}
	}
}

// TestTxLoneProcess runs (b) and (c) of TestTxCluster on a lone process.
func TestTxLoneProcess(t *testing.T) {
	p := StartServer(t, "n1")
	t.Run("go-redis", func(t *testing.T) { goRedisTx(t, []string{p.Addr}, "tx:go") })
	t.Run("redis-py", func(t *testing.T) { redisPyTx(t, p.Addr, "tx:py") })
}

// TestTxClusterClients is the heavy tier's: the check-and-set loop over
// 1,000 increments from 6 clients, two per node, and go-redis's
// ClusterClient TxPipelined and Watch on keys of one slot.
func TestTxClusterClients(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	addrs := procAddrs(procs)
	casLoop(t, append(addrs, addrs...), "tx:heavy", 1000)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs, MaxRetries: -1})
	t.Cleanup(func() { cc.Close() })
	ctx := ctxT(t)
	cmds, err := cc.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, "{cc}a", "1", 0)
		p.Incr(ctx, "{cc}a")
		p.SAdd(ctx, "{cc}s", "x", "y")
		return nil
	})
	if err != nil || len(cmds) != 3 || cmds[1].(*redis.IntCmd).Val() != 2 || cmds[2].(*redis.IntCmd).Val() != 2 {
		t.Fatalf("ClusterClient TxPipelined: %v %v", cmds, err)
	}
	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if err := watchIncrBy(ctx, cc, "{cc}n"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := cc.Get(ctx, "{cc}n").Int(); n != 60 || err != nil {
		t.Fatalf("ClusterClient Watch loop: {cc}n = %d %v, want 60", n, err)
	}
}

// casLoop runs the check-and-set loop: one client per address takes
// tickets, n in all, and for each one runs WATCH key, GET key, MULTI,
// SET key value+1, EXEC until EXEC commits (a null reply is a retry). It
// checks that the committed values are 1..n, each once, and that key reads
// n through every address, and logs the retries.
func casLoop(t *testing.T, addrs []string, key string, n int) {
	var tickets atomic.Int64
	retries := make([]int, len(addrs))
	committed := make([][]int, len(addrs))
	errs := make(chan error, len(addrs))
	start := time.Now()
	ctx := ctxT(t)
	var wg sync.WaitGroup
	for i, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := plainClient(t, addr)
			for tickets.Add(1) <= int64(n) {
				for {
					v, ok, err := casOnce(ctx, c, key)
					if err != nil {
						errs <- fmt.Errorf("client %d (%s): %w", i, addr, err)
						return
					}
					if ok {
						committed[i] = append(committed[i], v)
						break
					}
					retries[i]++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var all []int
	total := 0
	for i := range addrs {
		all = append(all, committed[i]...)
		total += retries[i]
	}
	slices.Sort(all)
	for i, v := range all {
		if v != i+1 {
			t.Fatalf("committed values %v…: want 1..%d each once", all[max(0, i-3):min(len(all), i+3)], n)
		}
	}
	if len(all) != n {
		t.Fatalf("%d commits, want %d", len(all), n)
	}
	for _, addr := range addrs {
		if got, err := plainClient(t, addr).Get(ctxT(t), key).Int(); got != n || err != nil {
			t.Fatalf("GET %s via %s = %d %v, want %d", key, addr, got, err, n)
		}
	}
	per := make([]string, len(addrs))
	for i := range addrs {
		per[i] = fmt.Sprintf("%d commits/%d retries", len(committed[i]), retries[i])
	}
	t.Logf("check-and-set loop: %d increments committed from %d clients in %v, %d retries (EXEC null) in all; per client: %s",
		n, len(addrs), time.Since(start).Round(time.Millisecond), total, strings.Join(per, ", "))
}

// casOnce is one WATCH/GET/MULTI/SET/EXEC round on a connection of its
// own: ok is false when EXEC replied null (a watched key changed).
func casOnce(ctx context.Context, c *redis.Client, key string) (v int, ok bool, err error) {
	conn := c.Conn()
	defer conn.Close()
	if err := conn.Do(ctx, "WATCH", key).Err(); err != nil {
		return 0, false, err
	}
	cur, err := conn.Do(ctx, "GET", key).Int()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, err
	}
	if err := conn.Do(ctx, "MULTI").Err(); err != nil {
		return 0, false, err
	}
	if s, err := conn.Do(ctx, "SET", key, cur+1).Text(); s != "QUEUED" || err != nil {
		return 0, false, fmt.Errorf("SET in MULTI: %q %v", s, err)
	}
	rep, err := conn.Do(ctx, "EXEC").Result()
	switch {
	case errors.Is(err, redis.Nil):
		return 0, false, nil
	case err != nil:
		return 0, false, err
	}
	if r, _ := rep.([]any); len(r) != 1 || r[0] != "OK" {
		return 0, false, fmt.Errorf("EXEC = %#v", rep)
	}
	return cur + 1, true, nil
}

// goRedisTx runs go-redis's TxPipelined, then its documented Watch retry
// loop from one client per address (20 increments each).
func goRedisTx(t *testing.T, addrs []string, key string) {
	ctx := ctxT(t)
	c := plainClient(t, addrs[0])
	cmds, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key+":a", "1", 0)
		p.Incr(ctx, key+":a")
		p.Get(ctx, key+":a")
		p.HSet(ctx, key+":h", "f", "v")
		return nil
	})
	if err != nil || len(cmds) != 4 || cmds[2].(*redis.StringCmd).Val() != "2" || cmds[3].(*redis.IntCmd).Val() != 1 {
		t.Fatalf("TxPipelined: %v %v", cmds, err)
	}
	// A queue-time error: go-redis reports EXECABORT, nothing is written.
	_, err = c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, key+":a", "lost", 0)
		p.Do(ctx, "NOSUCHCOMMAND")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "EXECABORT") {
		t.Fatalf("TxPipelined with an unknown command: %v, want EXECABORT", err)
	}
	if v, _ := c.Get(ctx, key+":a").Result(); v != "2" {
		t.Fatalf("%s:a = %q after an aborted transaction", key, v)
	}
	var wg sync.WaitGroup
	for _, addr := range addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl := plainClient(t, addr)
			for range 20 {
				if err := watchIncrBy(ctx, cl, key+":n"); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, err := c.Get(ctx, key+":n").Int(); n != 20*len(addrs) || err != nil {
		t.Fatalf("Watch loop: %s:n = %d %v, want %d", key, n, err, 20*len(addrs))
	}
}

// watchIncrBy is the increment example of go-redis's documentation
// (Client.Watch): GET in the watch, SET in TxPipelined, again on
// TxFailedErr.
func watchIncrBy(ctx context.Context, c redis.UniversalClient, key string) error {
	txf := func(tx *redis.Tx) error {
		n, err := tx.Get(ctx, key).Int()
		if err != nil && err != redis.Nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, key, n+1, 0)
			return nil
		})
		return err
	}
	for range 1000 {
		err := c.Watch(ctx, txf, key)
		if err != redis.TxFailedErr {
			return err
		}
	}
	return errors.New("increment failed 1000 times")
}

// txPy runs redis-py's pipeline() (transaction=True: MULTI/EXEC) and
// transaction() with WATCH (10 increments), then a WATCH that another
// connection breaks, on argv[2] of host:port argv[1], and prints the
// results as JSON.
const txPy = `
import json, sys
import redis
host, port = sys.argv[1].rsplit(":", 1)
key = sys.argv[2]
r = redis.Redis(host=host, port=int(port), decode_responses=True)
p = r.pipeline()
p.set(key, 1)
p.incr(key)
p.get(key)
p.sadd(key + ":s", "a", "b")
piped = p.execute()
def incr(pipe):
    v = int(pipe.get(key) or 0)
    pipe.multi()
    pipe.set(key, v + 1)
for _ in range(10):
    r.transaction(incr, key)
after = r.get(key)
aborted = False
with r.pipeline() as pipe:
    pipe.watch(key)
    r.set(key, "100")
    pipe.multi()
    pipe.set(key, "lost")
    try:
        pipe.execute()
    except redis.WatchError:
        aborted = True
print(json.dumps({"version": redis.__version__, "pipeline": piped, "after": after, "aborted": aborted, "final": r.get(key)}))
`

// redisPyTx runs txPy under systemPython against addr and checks each
// result.
func redisPyTx(t *testing.T, addr, key string) {
	if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
		t.Skipf("redis-py not importable by %s (apt-get install python3-redis): %v %s", systemPython, err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, systemPython, "-c", txPy, addr, key)
	var stderr syncbuf.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("redis-py: %v\n%s\n%s", err, out, stderr.String())
	}
	var res struct {
		Version  string
		Pipeline []any
		After    string
		Aborted  bool
		Final    string
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("redis-py output %q: %v", out, err)
	}
	t.Logf("redis-py %s: pipeline %v, after 10 transaction() increments %s, broken WATCH aborted: %v", res.Version, res.Pipeline, res.After, res.Aborted)
	if fmt.Sprint(res.Pipeline) != "[true 2 2 2]" {
		t.Errorf("pipeline() = %v, want [true 2 2 2]", res.Pipeline)
	}
	if res.After != "12" {
		t.Errorf("after 10 transaction() increments from 2: %q, want 12", res.After)
	}
	if !res.Aborted || res.Final != "100" {
		t.Errorf("WATCH broken by another connection: aborted %v, final %q; want a WatchError and 100", res.Aborted, res.Final)
	}
}
