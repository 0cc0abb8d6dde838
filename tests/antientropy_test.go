package tests

import (
	"context"
	"fmt"
	"github.com/dynakv/dynakv/ring"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/redis/go-redis/v9"
)

// absent is what DKV.GET returns for a key a replica does not hold.
var absent = string(dvv.Object{}.Encode())

// peerClient returns a client of p on a peer connection (DKV.AUTH with the
// cluster secret), to read p's stored objects with DKV.GET: the bytes of
// its own replica, no quorum and no read repair.
func peerClient(t *testing.T, p *Proc) *redis.Client {
	return p.Client(t, func(o *redis.Options) {
		o.Protocol = 2
		o.OnConnect = func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, "DKV.AUTH", testSecret).Err()
		}
	})
}

// stored returns p's stored object of each key, encoded ("" for none).
func stored(t *testing.T, c *redis.Client, keys []string) []string {
	t.Helper()
	out := make([]string, len(keys))
	for lo := 0; lo < len(keys); lo += 500 {
		hi := min(lo+500, len(keys))
		ctx := ctxT(t)
		cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys[lo:hi] {
				p.Do(ctx, "DKV.GET", k)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("DKV.GET: %v", err)
		}
		for i, cmd := range cmds {
			out[lo+i], _ = cmd.(*redis.Cmd).Text()
		}
	}
	return out
}

// loadKeys writes prefix:0 … prefix:n-1 = "v"+key through procs (setKeys).
func loadKeys(t *testing.T, procs []*Proc, prefix string, n int) []string {
	t.Helper()
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("%s:%d", prefix, i)
	}
	setKeys(t, procs, keys, func(k string) string { return "v" + k })
	return keys
}

// setKeys sets every key to value(key): 32 connections at once send
// pipelines of 200 SETs, spread over the procs (a node fsyncs each write,
// so concurrent connections share group commits). Clients wait up to a
// minute for a reply: a connection runs its commands one after another.
// A pipeline answered NOQUORUM is sent again, twice at most: 6,400 SETs in
// flight on a 2-core machine that also runs the Docker tier can keep a
// node's peers from answering within a test cluster's 2 s --timeout, and
// loading is the tests' setup, not what they check.
func setKeys(t *testing.T, procs []*Proc, keys []string, value func(string) string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	const batch, workers = 200, 32
	var clients []*redis.Client
	for _, p := range procs {
		clients = append(clients, p.Client(t, func(o *redis.Options) { o.PoolSize, o.ReadTimeout = workers, time.Minute }))
	}
	chunks := make(chan int)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range chunks {
				var err error
				for attempt := 0; attempt < 3; attempt++ {
					pipe := clients[(i/batch)%len(clients)].Pipeline()
					for _, k := range keys[i:min(len(keys), i+batch)] {
						pipe.Set(ctx, k, value(k), 0)
					}
					if _, err = pipe.Exec(ctx); err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") {
						break
					}
					t.Logf("writing keys %d…: %v (try %d of 3: the SETs are idempotent)", i, err, attempt+1)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := 0; i < len(keys); i += batch {
		select {
		case chunks <- i:
		case err := <-errs:
			t.Fatalf("writing %d keys: %v", len(keys), err)
		}
	}
	close(chunks)
	wg.Wait()
	select {
	case err := <-errs:
		t.Fatalf("writing %d keys: %v", len(keys), err)
	default:
	}
}

// waitAlive polls until every process sees n alive nodes.
func waitAlive(t *testing.T, procs []*Proc, n int) {
	t.Helper()
	for _, p := range procs {
		eventually(t, fmt.Sprintf("%s sees %d nodes alive", p.ID, n), 30*time.Second, func() error {
			if alive := infoField(t, p.Client(t), "cluster", "nodes_alive"); alive != strconv.Itoa(n) {
				return fmt.Errorf("nodes_alive:%s (%s)", alive, infoField(t, p.Client(t), "cluster", "nodes"))
			}
			return nil
		})
	}
}

// waitHints polls until procs together hold at least n hints for target.
// A write is coordinated by its key's first healthy replica, so the hints
// of writes sent through one node may be held by any live replica.
func waitHints(t *testing.T, procs []*Proc, target string, n int) {
	t.Helper()
	eventually(t, fmt.Sprintf("the live nodes hold %d hints for %s", n, target), 30*time.Second, func() error {
		sum, all := 0, []string{}
		for _, p := range procs {
			by := infoField(t, p.Client(t), "replication", "hints_pending_by_target")
			all = append(all, p.ID+":"+by)
			for _, f := range strings.Split(by, ",") {
				if id, c, ok := strings.Cut(f, "="); ok && id == target {
					v, _ := strconv.Atoi(c)
					sum += v
				}
			}
		}
		if sum >= n {
			return nil
		}
		return fmt.Errorf("%d hints; hints_pending_by_target %v", sum, all)
	})
}

// aeCounter sums an INFO antientropy counter over procs.
func aeCounter(t *testing.T, procs []*Proc, name string) int64 {
	t.Helper()
	var sum int64
	for _, p := range procs {
		v, err := strconv.ParseInt(infoField(t, p.Client(t), "antientropy", name), 10, 64)
		if err != nil {
			t.Fatalf("%s antientropy %s: %v", p.ID, name, err)
		}
		sum += v
	}
	return sum
}

// waitConverged polls until every process stores byte-identical objects
// for every key, and returns how long that took.
func waitConverged(t *testing.T, procs []*Proc, keys []string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	clients := make([]*redis.Client, len(procs))
	for i, p := range procs {
		clients[i] = peerClient(t, p)
	}
	eventually(t, "replicas store identical objects", limit, func() error {
		ref := stored(t, clients[0], keys)
		diff := 0
		for _, c := range clients[1:] {
			for i, o := range stored(t, c, keys) {
				if o != ref[i] || o == absent {
					diff++
				}
			}
		}
		if diff > 0 {
			return fmt.Errorf("%d key copies differ", diff)
		}
		return nil
	})
	return time.Since(start)
}

// quiesce queues an exchange of every partition on every node (CLUSTER
// REPAIR) and waits until all have run; it returns the keys they repaired.
func quiesce(t *testing.T, procs []*Proc) int64 {
	t.Helper()
	before := aeCounter(t, procs, "keys_repaired")
	want := make([]int64, len(procs))
	for i, p := range procs {
		n, err := p.Client(t).Do(ctxT(t), "CLUSTER", "REPAIR").Int64()
		if err != nil || n == 0 {
			t.Fatalf("CLUSTER REPAIR on %s: %d %v", p.ID, n, err)
		}
		want[i] = n
	}
	for i, p := range procs {
		eventually(t, fmt.Sprintf("%s ran its %d queued exchanges", p.ID, want[i]), 60*time.Second, func() error {
			queued := infoField(t, p.Client(t), "antientropy", "exchanges_queued")
			running := infoField(t, p.Client(t), "antientropy", "exchange_running")
			if queued != "0" || running != "false" {
				return fmt.Errorf("exchanges_queued:%s exchange_running:%s", queued, running)
			}
			return nil
		})
	}
	return aeCounter(t, procs, "keys_repaired") - before
}

// TestAntiEntropyRestoresWipedNode: n3 loses its data directory (same ID,
// new incarnation); with hinted handoff held back and no client reads,
// anti-entropy alone gives it back every key of its partitions, as VGET
// LOCAL on n3 shows. DYNAKV_AE_KEYS=100000 measures a bigger restore.
func TestAntiEntropyRestoresWipedNode(t *testing.T) {
	heavy(t)
	nkeys := 1000
	if v := os.Getenv("DYNAKV_AE_KEYS"); v != "" {
		nkeys, _ = strconv.Atoi(v)
	}
	procs := StartCluster(t, 3, "--ae-interval", "2s", "--hint-interval", "1h", "--ae-rate", "1000000")
	keys := loadKeys(t, procs[:1], "wiped", nkeys)
	waitConverged(t, procs, keys, 2*time.Minute)
	if n := quiesce(t, procs); n != 0 {
		t.Fatalf("converged cluster: exchanges repaired %d keys, want 0", n)
	}

	procs[2].Kill()
	if err := os.RemoveAll(procs[2].Data); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	procs[2].Restart()
	waitAlive(t, procs, 3)
	local := procs[2].Client(t)
	eventually(t, "n3 holds every key again", 5*time.Minute, func() error {
		missing := 0
		for lo := 0; lo < len(keys); lo += 500 {
			ctx := ctxT(t)
			cmds, err := local.Pipelined(ctx, func(p redis.Pipeliner) error {
				for _, k := range keys[lo:min(lo+500, len(keys))] {
					p.Do(ctx, "VGET", k, "LOCAL")
				}
				return nil
			})
			if err != nil {
				t.Fatalf("VGET LOCAL on n3: %v", err)
			}
			for i, cmd := range cmds {
				r, _ := cmd.(*redis.Cmd).Slice()
				if len(r) != 2 || fmt.Sprint(r[1]) != "[v"+keys[lo+i]+"]" {
					missing++
				}
			}
		}
		if missing > 0 {
			return fmt.Errorf("n3 lacks %d of %d keys\n%s", missing, len(keys), procs[2].Log())
		}
		return nil
	})
	took := time.Since(start)
	for _, p := range procs {
		if d := infoField(t, p.Client(t), "replication", "hints_delivered"); d != "0" {
			t.Fatalf("%s delivered %s hints: the restore was not anti-entropy alone", p.ID, d)
		}
		if rr := infoField(t, p.Client(t), "replication", "read_repairs"); rr != "0" {
			t.Fatalf("%s made %s read repairs", p.ID, rr)
		}
	}
	if os.Getenv("DYNAKV_AE_KEYS") != "" {
		t.Logf("n3's log:\n%s", procs[2].Log())
	}
	t.Logf("n3 wiped: all %d keys back in its replica %v after its restart (process start and gossip included); bytes sent %d, received %d",
		len(keys), took.Round(time.Millisecond), aeCounter(t, procs, "bytes_sent"), aeCounter(t, procs, "bytes_received"))
}

// TestAntiEntropyConvergesAfterPartition: with W=1 and R=1, replicas are
// made to diverge while one node at a time is cut off (killed, with hinted
// handoff held back): keys only some replicas have, and concurrent writes
// to the same keys on both sides. With no client reads, anti-entropy makes
// every replica store identical objects; the keys it reads and repairs are
// about the differing ones, not the 5,000 others; and once converged,
// exchanges repair nothing.
func TestAntiEntropyConvergesAfterPartition(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3, "--ae-interval", "1h", "--hint-interval", "1h", "--write-quorum", "1", "--read-quorum", "1")
	base := loadKeys(t, procs[:1], "base", 5000)
	// NB: with W=1 a send that timed out while the machine was loaded
	// (the heavy tier runs beside the Docker one) became a hint, held back
	// here by --hint-interval 1h: one round of exchanges gives such keys
	// to their replicas before the test makes its own divergence.
	quiesce(t, procs)
	waitConverged(t, procs, base, 2*time.Minute)

	// The concurrent writes below need a coordinator on each side: keys
	// whose coordinator (first replica, CLUSTER SLOTS' master) is n3, which
	// takes "right" while n2 is down but missed "left" (written through
	// n1 and coordinated by n1 or n2 while n3 was down).
	slots := must(procs[0].Client(t).ClusterSlots(ctxT(t)).Result())(t)
	var conc []string
	for _, k := range base {
		if r := slotReplicas(slots, int(ring.Slot([]byte(k)))); len(r) > 0 && r[0] == procs[2].Addr && len(conc) < 20 {
			conc = append(conc, k)
		}
	}
	if len(conc) < 20 {
		t.Fatalf("only %d of %d keys have n3 as coordinator", len(conc), len(base))
	}
	procs[2].Kill() // n3 cut off: n1 and n2 take writes it misses
	a := loadKeys(t, procs[:1], "a", 100)
	ctx := ctxT(t) // a step: writes with n3 down
	for _, k := range conc {
		if err := procs[0].Client(t).Set(ctx, k, "left", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	// NB: a write's send to a down replica may still be retrying its dial
	// when the replica comes back; once it has given up, the write is a
	// hint (held back by --hint-interval 1h) and the replica misses it.
	waitHints(t, procs[:2], "n3", len(a)+20)
	procs[2].Restart()
	waitAlive(t, procs, 3)
	procs[1].Kill() // now n2: n1 and n3 take writes it misses
	b := loadKeys(t, procs[2:3], "b", 100)
	ctx = ctxT(t)            // a step: writes with n2 down
	for _, k := range conc { // blind writes: concurrent with "left"
		if err := procs[2].Client(t).Set(ctx, k, "right", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	waitHints(t, []*Proc{procs[0], procs[2]}, "n2", len(b)+20)
	procs[1].Restart()
	waitAlive(t, procs, 3)

	all := append(append(append([]string{}, base...), a...), b...)
	// NB: --ae-interval 1h: only CLUSTER REPAIR runs exchanges (the counters
	// of restarted nodes began again at 0).
	compared0 := aeCounter(t, procs, "keys_compared")
	repaired := quiesce(t, procs)
	compared := aeCounter(t, procs, "keys_compared") - compared0
	waitConverged(t, procs, all, 5*time.Second) // one round of exchanges suffices
	differing := int64(len(a) + len(b) + 20)
	t.Logf("%d differing keys of %d: %d keys read, %d repairs", differing, len(all), compared, repaired)
	if repaired < differing || repaired > 4*differing {
		t.Fatalf("%d repairs for %d differing keys (each is repaired by 1 to 4 of the exchanges between its replicas)", repaired, differing)
	}
	if compared > 16*differing {
		t.Fatalf("exchanges read %d keys for %d differing of %d: not confined to the differing leaves", compared, differing, len(all))
	}
	ctx = ctxT(t) // a step: reads after convergence
	for _, k := range conc {
		vals := must(procs[0].Client(t).Do(ctx, "VGET", k, "LOCAL").Slice())(t)
		if got := fmt.Sprint(vals[1]); got != "[left right]" && got != "[right left]" {
			t.Fatalf("%s after convergence: %s, want both concurrent writes as siblings", k, got)
		}
	}
	for range 2 {
		if n := quiesce(t, procs); n != 0 {
			t.Fatalf("idle converged cluster: exchanges repaired %d keys, want 0", n)
		}
	}
}

// TestAntiEntropyKeepsDeletesDeleted: keys deleted while n3 is cut off
// (killed, hints held back) keep their tombstones past the grace period,
// because n3 cannot confirm it holds them; once n3 is back, anti-entropy
// gives it the tombstones, every replica reaps them, and no deleted value
// comes back through later exchanges.
func TestAntiEntropyKeepsDeletesDeleted(t *testing.T) {
	heavy(t)
	const grace = time.Second
	procs := StartCluster(t, 3, "--ae-interval", "1h", "--hint-interval", "1h", "--tombstone-grace", grace.String())
	keys := loadKeys(t, procs[:1], "del", 200)
	waitConverged(t, procs, keys, time.Minute)
	procs[2].Kill()
	ctx := ctxT(t) // a step: deletes with n3 down
	deleted, kept := keys[:100], keys[100:]
	for _, k := range deleted {
		if err := procs[0].Client(t).Del(ctx, k).Err(); err != nil {
			t.Fatalf("DEL %s with n3 down: %v", k, err)
		}
	}
	waitHints(t, procs[:2], "n3", len(deleted))
	// NB: this sleep is the time under test, not a wait for a condition:
	// the grace period passes while n3 still holds the old values.
	time.Sleep(3 * grace)
	tombs := stored(t, peerClient(t, procs[0]), deleted)
	for i, o := range tombs {
		if o == absent {
			t.Fatalf("n1 reaped the tombstone of %s while n3 (holding its value) was down", deleted[i])
		}
	}
	procs[2].Restart()
	waitAlive(t, procs, 3)
	quiesce(t, procs)
	// Every replica now has the tombstones and reaps them.
	clients := []*redis.Client{peerClient(t, procs[0]), peerClient(t, procs[1]), peerClient(t, procs[2])}
	eventually(t, "every tombstone copy reaped", 30*time.Second, func() error {
		left := 0
		for _, c := range clients {
			for _, o := range stored(t, c, deleted) {
				if o != absent {
					left++
				}
			}
		}
		if left > 0 {
			return fmt.Errorf("%d tombstone copies not reaped", left)
		}
		return nil
	})
	quiesce(t, procs)
	ctx = ctxT(t) // a step: reads after reaping
	for _, p := range procs {
		c := p.Client(t)
		for _, k := range deleted {
			if v, err := c.Get(ctx, k).Result(); err != redis.Nil {
				t.Fatalf("deleted %s is back on %s: %q %v", k, p.ID, v, err)
			}
			vals := must(c.Do(ctx, "VGET", k, "LOCAL").Slice())(t)
			if fmt.Sprint(vals[1]) != "[]" {
				t.Fatalf("deleted %s has values in %s's replica: %v", k, p.ID, vals[1])
			}
		}
		for _, k := range kept {
			if v, err := c.Get(ctx, k).Result(); err != nil || v != "v"+k {
				t.Fatalf("kept %s on %s: %q %v", k, p.ID, v, err)
			}
		}
	}
	if !slices.ContainsFunc(procs, func(p *Proc) bool { return strings.Contains(p.Log(), "anti-entropy repaired keys") }) {
		t.Fatal("no exchange repaired anything: n3 got its tombstones another way")
	}
}

// TestAntiEntropyDiffCost is a measurement, run by hand:
// DYNAKV_AE_DIFF=100000,1000 sets 100,000 keys on a 3-node cluster of 256
// partitions, changes 1,000 of them while n3 is down (hints held back),
// and reports what one round of exchanges on every node (CLUSTER REPAIR)
// reads and sends to converge.
func TestAntiEntropyDiffCost(t *testing.T) {
	heavy(t)
	spec := os.Getenv("DYNAKV_AE_DIFF")
	if spec == "" {
		t.Skip("a measurement: set DYNAKV_AE_DIFF=total,differing (e.g. 100000,1000)")
	}
	var total, differing int
	if _, err := fmt.Sscanf(spec, "%d,%d", &total, &differing); err != nil || differing > total {
		t.Fatalf("DYNAKV_AE_DIFF=%q: want total,differing", spec)
	}
	procs := StartCluster(t, 3, "--partitions", "256", "--ae-interval", "1h", "--hint-interval", "1h", "--ae-rate", "1000000")
	keys := loadKeys(t, procs[:1], "k", total)
	waitConverged(t, procs, keys, 10*time.Minute)
	procs[2].Kill()
	setKeys(t, procs[:1], keys[:differing], func(string) string { return "changed" })
	waitHints(t, procs[:2], "n3", differing)
	procs[2].Restart()
	waitAlive(t, procs, 3)
	names := []string{"bytes_received", "bytes_sent", "hashes_fetched", "keys_compared"}
	before := map[string]int64{}
	for _, n := range names {
		before[n] = aeCounter(t, procs, n)
	}
	start := time.Now()
	repaired := quiesce(t, procs)
	took := time.Since(start)
	waitConverged(t, procs, keys, time.Minute)
	d := map[string]int64{}
	for _, n := range names {
		d[n] = aeCounter(t, procs, n) - before[n]
	}
	t.Logf("%d differing keys of %d, one CLUSTER REPAIR round on 3 nodes (256 partitions x 2 peers each) in %v: "+
		"%d keys repaired, %d keys read, %d hashes; payload bytes received %d, sent %d (total %d; the differing keys' objects are about %d)",
		differing, total, took.Round(time.Millisecond), repaired, d["keys_compared"], d["hashes_fetched"],
		d["bytes_received"], d["bytes_sent"], d["bytes_received"]+d["bytes_sent"], int64(differing)*int64(len(stored(t, peerClient(t, procs[0]), keys[:1])[0])+len(keys[0])))
}
