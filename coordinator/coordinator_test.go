package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

func seed(t *testing.T) uint64 { return testseed.Seed(t) }

type cluster struct {
	net    *peertest.Network
	ring   *ring.State
	stores map[string]*replica.Store
	coords map[string]*coordinator.Coordinator
}

func newCluster(t *testing.T, seed uint64, cfg coordinator.Config) *cluster {
	return newRingCluster(t, seed, cfg, 3, nil)
}

// newRingCluster starts n in-process nodes n1..nN on a fault network. With
// a nil placement the nodes share one ring of n members (Q=64).
func newRingCluster(t *testing.T, seed uint64, cfg coordinator.Config, n int, place coordinator.Placement) *cluster {
	return newRingClusterClock(t, seed, cfg, n, place, nil)
}

func newRingClusterClock(t *testing.T, seed uint64, cfg coordinator.Config, n int, place coordinator.Placement, now func() time.Time) *cluster {
	t.Helper()
	c := &cluster{net: peertest.New(seed), stores: map[string]*replica.Store{}, coords: map[string]*coordinator.Coordinator{}}
	if cfg.Healthy == nil {
		cfg.Healthy = c.net.Up // liveness: what gossip would report
	}
	var members []ring.Member
	for i := 1; i <= n; i++ {
		members = append(members, ring.Member{ID: ring.NodeID(fmt.Sprintf("n%d", i)), Addr: "x:1", GossipAddr: "x:2", Weight: 1})
	}
	st, err := ring.New(ring.Config{Partitions: 64, Replicas: cfg.N}, members)
	if err != nil {
		t.Fatal(err)
	}
	c.ring = st
	if place == nil {
		place = coordinator.RingPlacement(func() *ring.State { return st })
	}
	for _, m := range members {
		id := string(m.ID)
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c.stores[id] = s
		c.net.Add(s)
	}
	for id, s := range c.stores {
		co, err := coordinator.New(cfg, s, place, c.net.Peers(id))
		if err != nil {
			t.Fatal(err)
		}
		c.coords[id] = co
	}
	return c
}

func cfg323() coordinator.Config {
	return coordinator.Config{N: 3, R: 2, W: 2, Timeout: 5 * time.Second}
}

func setFn(v string) crdt.Mutator {
	return crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: []byte(v)}, nil
	})
}

func vsetFn(ctx dvv.VV, v string) crdt.Mutator {
	return crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
		return ctx, dvv.Sibling{Value: []byte(v)}, nil
	})
}

func liveValues(o crdt.Object) []string {
	var out []string
	for _, s := range liveSiblings(o, time.Now().UnixMilli()) {
		out = append(out, string(s.Value))
	}
	slices.Sort(out)
	return out
}

// TestWriteW2ReadR2WithAnyOneNodeDown: a write acknowledged with W=2 is
// read back with R=2 from any live node while any one node is down.
func TestWriteW2ReadR2WithAnyOneNodeDown(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	ids := []string{"n1", "n2", "n3"}
	for _, down := range ids {
		c.net.SetDown(down, true)
		for _, writer := range ids {
			if writer == down {
				continue
			}
			key := []byte(fmt.Sprintf("k-%s-%s", down, writer))
			if _, _, err := c.coords[writer].Update(ctx, key, coordinator.WriteOptions{}, setFn("v")); err != nil {
				t.Fatalf("write via %s with %s down: %v", writer, down, err)
			}
			for _, reader := range ids {
				if reader == down {
					continue
				}
				o, err := c.coords[reader].Get(ctx, key, coordinator.ReadOptions{})
				if err != nil {
					t.Fatalf("read via %s with %s down: %v", reader, down, err)
				}
				if got := liveValues(o); !slices.Equal(got, []string{"v"}) {
					t.Fatalf("read via %s with %s down: %q", reader, down, got)
				}
			}
		}
		c.net.SetDown(down, false)
	}
}

// TestConcurrentSameTokenWritesBecomeSiblings through the same coordinator
// and through different ones; the joined token resolves them.
func TestConcurrentSameTokenWritesBecomeSiblings(t *testing.T) {
	for _, via := range [][2]string{{"n1", "n1"}, {"n1", "n2"}} {
		t.Run(via[0]+"+"+via[1], func(t *testing.T) {
			c := newCluster(t, seed(t), cfg323())
			ctx := context.Background()
			key := []byte("cart")
			_, base, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{}, vsetFn(nil, "base"))
			if err != nil {
				t.Fatal(err)
			}
			tok := base.Context()
			for i, id := range via {
				if _, _, err := c.coords[id].Update(ctx, key, coordinator.WriteOptions{}, vsetFn(tok, fmt.Sprintf("w%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			o, err := c.coords["n3"].Get(ctx, key, coordinator.ReadOptions{R: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got := liveValues(o); !slices.Equal(got, []string{"w0", "w1"}) {
				t.Fatalf("want siblings [w0 w1], got %q", got)
			}
			if _, _, err := c.coords["n3"].Update(ctx, key, coordinator.WriteOptions{}, vsetFn(o.Context(), "merged")); err != nil {
				t.Fatal(err)
			}
			o, err = c.coords["n2"].Get(ctx, key, coordinator.ReadOptions{R: 3})
			if err != nil {
				t.Fatal(err)
			}
			if got := liveValues(o); !slices.Equal(got, []string{"merged"}) {
				t.Fatalf("after resolving: want [merged], got %q", got)
			}
		})
	}
}

// TestQuorumLargerThanLiveReplicasFails: R or W above the live replicas is
// ErrNoQuorum, never a wrong or partial answer.
func TestQuorumLargerThanLiveReplicasFails(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	key := []byte("k")
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{W: 3}, setFn("old")); err != nil {
		t.Fatal(err)
	}
	c.net.SetDown("n3", true)
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{W: 3}, setFn("new")); !errors.Is(err, coordinator.ErrNoQuorum) {
		t.Fatalf("W=3 with a node down: want ErrNoQuorum, got %v", err)
	}
	if _, err := c.coords["n2"].Get(ctx, key, coordinator.ReadOptions{R: 3}); !errors.Is(err, coordinator.ErrNoQuorum) {
		t.Fatalf("R=3 with a node down: want ErrNoQuorum, got %v", err)
	}
	c.net.SetDown("n2", true)
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{}, setFn("x")); !errors.Is(err, coordinator.ErrNoQuorum) {
		t.Fatalf("W=2 with two nodes down: want ErrNoQuorum, got %v", err)
	}
	if _, err := c.coords["n1"].Get(ctx, key, coordinator.ReadOptions{}); !errors.Is(err, coordinator.ErrNoQuorum) {
		t.Fatalf("R=2 with two nodes down: want ErrNoQuorum, got %v", err)
	}
	if _, err := c.coords["n1"].Get(ctx, key, coordinator.ReadOptions{R: 4}); !errors.Is(err, coordinator.ErrQuorumRange) {
		t.Fatalf("R=4 with N=3: want ErrQuorumRange, got %v", err)
	}
}

// TestSlowReplicaDoesNotDelayQuorum: with one replica held, a W=2 write and
// an R=2 read complete from the other two.
func TestSlowReplicaDoesNotDelayQuorum(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	c.net.Hold("n3")
	defer c.net.Release("n3")
	if _, _, err := c.coords["n1"].Update(ctx, []byte("k"), coordinator.WriteOptions{}, setFn("v")); err != nil {
		t.Fatal(err)
	}
	o, err := c.coords["n1"].Get(ctx, []byte("k"), coordinator.ReadOptions{})
	if err != nil || !slices.Equal(liveValues(o), []string{"v"}) {
		t.Fatalf("read with n3 held: %q %v", liveValues(o), err)
	}
}

// TestRandomDropsNeverLoseAcknowledgedWrites: under seeded random call
// drops, the last acknowledged write of every key is still there once the
// network is reliable again, unless a later write whose outcome was unknown
// (ErrNoQuorum: it may have partly landed) superseded it.
func TestRandomDropsNeverLoseAcknowledgedWrites(t *testing.T) {
	s := seed(t)
	c := newCluster(t, s, cfg323())
	rng := rand.New(rand.NewPCG(s, 1))
	ctx := context.Background()
	c.net.SetDropRate(0.3)
	// allowed[key] = the last acknowledged value and every value written
	// after it whose outcome is unknown.
	allowed := map[string][]string{}
	ids := []string{"n1", "n2", "n3"}
	acks, unknown := 0, 0
	for i := 0; i < 300; i++ {
		key := fmt.Sprintf("k%d", rng.IntN(20))
		v := fmt.Sprintf("v%d", i)
		via := ids[rng.IntN(3)]
		_, _, err := c.coords[via].Update(ctx, []byte(key), coordinator.WriteOptions{}, setFn(v))
		switch {
		case err == nil:
			allowed[key] = []string{v}
			acks++
		case errors.Is(err, coordinator.ErrNoQuorum):
			if len(allowed[key]) > 0 {
				allowed[key] = append(allowed[key], v)
			}
			unknown++
		default:
			t.Fatalf("write: %v", err)
		}
	}
	t.Logf("%d acknowledged, %d unknown outcome", acks, unknown)
	if acks == 0 || unknown == 0 {
		t.Fatalf("drop rate did not exercise both outcomes: %d acked, %d unknown", acks, unknown)
	}
	c.net.SetDropRate(0)
	for key, ok := range allowed {
		o, err := c.coords["n1"].Get(ctx, []byte(key), coordinator.ReadOptions{R: 3})
		if err != nil {
			t.Fatal(err)
		}
		got := liveValues(o)
		if !slices.ContainsFunc(got, func(v string) bool { return slices.Contains(ok, v) }) {
			t.Fatalf("key %s: replicas hold %q, none of the last acknowledged write or later unknown ones %q", key, got, ok)
		}
	}
}

// replicasOf returns the key's top-N nodes on the harness ring.
func (c *cluster) replicasOf(key string) []string {
	return coordinator.RingPlacement(func() *ring.State { return c.ring }).Preference([]byte(key))[:c.ring.Replicas()]
}

// TestFiveNodeRingUnderRandomFaults: on a 5-node ring (N=3, R=W=2) with
// seeded random drops, partitions and downed nodes, writes coordinated by a
// random replica of each key either succeed or report ErrNoQuorum; once the
// faults heal, an R=3 read of every key holds its last acknowledged value
// (or a later write of unknown outcome). Replay with -seed.
func TestFiveNodeRingUnderRandomFaults(t *testing.T) {
	s := seed(t)
	rng := rand.New(rand.NewPCG(s, 2))
	c := newRingCluster(t, s, cfg323(), 5, nil)
	ctx := context.Background()
	ids := []string{"n1", "n2", "n3", "n4", "n5"}
	allowed := map[string][]string{}
	acks, unknown := 0, 0
	for i := 0; i < 600; i++ {
		if i%50 == 0 { // change the weather
			c.net.Heal()
			for _, id := range ids {
				c.net.SetDown(id, false)
			}
			c.net.SetDropRate(0)
			switch rng.IntN(4) {
			case 0:
				c.net.SetDropRate(0.2)
			case 1:
				k := 1 + rng.IntN(2)
				perm := rng.Perm(5)
				var minority []string
				for _, j := range perm[:k] {
					minority = append(minority, ids[j])
				}
				c.net.Partition(minority)
			case 2:
				c.net.SetDown(ids[rng.IntN(5)], true)
			}
		}
		key := fmt.Sprintf("k%d", rng.IntN(40))
		reps := c.replicasOf(key)
		via := reps[rng.IntN(len(reps))]
		v := fmt.Sprintf("v%d", i)
		_, _, err := c.coords[via].Update(ctx, []byte(key), coordinator.WriteOptions{}, setFn(v))
		switch {
		case err == nil:
			allowed[key] = []string{v}
			acks++
		case errors.Is(err, coordinator.ErrNoQuorum) || errors.Is(err, replica.ErrClosed):
			if len(allowed[key]) > 0 {
				allowed[key] = append(allowed[key], v)
			}
			unknown++
		default:
			t.Fatalf("write %s via %s: %v", key, via, err)
		}
	}
	t.Logf("%d acknowledged, %d unknown outcome", acks, unknown)
	c.net.Heal()
	c.net.SetDropRate(0)
	for _, id := range ids {
		c.net.SetDown(id, false)
	}
	for key, ok := range allowed {
		for _, via := range ids {
			o, err := c.coords[via].Get(ctx, []byte(key), coordinator.ReadOptions{R: 3})
			if err != nil {
				t.Fatalf("read %s via %s: %v", key, via, err)
			}
			got := liveValues(o)
			if !slices.ContainsFunc(got, func(v string) bool { return slices.Contains(ok, v) }) {
				t.Fatalf("key %s via %s: replicas hold %q, none of the last acknowledged write or later unknown ones %q", key, via, got, ok)
			}
		}
	}
}

// TestNonReplicaRefusesToCoordinate: a write at a node outside the key's
// top N is refused with ErrNotReplica (the RESP layer forwards it).
func TestNonReplicaRefusesToCoordinate(t *testing.T) {
	c := newRingCluster(t, seed(t), cfg323(), 5, nil)
	for i := 0; ; i++ {
		key := fmt.Sprintf("k%d", i)
		reps := c.replicasOf(key)
		for _, id := range []string{"n1", "n2", "n3", "n4", "n5"} {
			if slices.Contains(reps, id) {
				continue
			}
			_, _, err := c.coords[id].Update(context.Background(), []byte(key), coordinator.WriteOptions{}, setFn("v"))
			if !errors.Is(err, coordinator.ErrNotReplica) {
				t.Fatalf("write of %s at non-replica %s: want ErrNotReplica, got %v", key, id, err)
			}
			return
		}
	}
}

// TestClusterScanSeesEveryKeyOnce: a scan from any node of a 5-node ring
// visits every key exactly once, paging through partitions on replicas.
func TestClusterScanSeesEveryKeyOnce(t *testing.T) {
	c := newRingCluster(t, seed(t), cfg323(), 5, nil)
	ctx := context.Background()
	want := map[string]bool{}
	for i := 0; i < 300; i++ {
		key := fmt.Sprintf("key:%d", i)
		want[key] = true
		if _, _, err := c.coords[c.replicasOf(key)[0]].Update(ctx, []byte(key), coordinator.WriteOptions{W: 3}, setFn("v")); err != nil {
			t.Fatal(err)
		}
	}
	c.net.SetDown("n2", true) // one replica of some partitions is gone
	for _, via := range []string{"n1", "n3"} {
		seen := map[string]int{}
		var cur uint64
		for pages := 0; ; pages++ {
			next, err := c.coords[via].Scan(ctx, cur, 7, func(k []byte, _ crdt.Object) bool { seen[string(k)]++; return true })
			if err != nil {
				t.Fatal(err)
			}
			if next == 0 {
				break
			}
			if next <= cur || pages > 10000 {
				t.Fatalf("scan cursor went from %d to %d", cur, next)
			}
			cur = next
		}
		for k := range want {
			if seen[k] != 1 {
				t.Fatalf("scan via %s saw %s %d times", via, k, seen[k])
			}
		}
		if len(seen) != len(want) {
			t.Fatalf("scan via %s saw %d keys, want %d", via, len(seen), len(want))
		}
	}
}

// TestReadRepairFixesStaleReplica: a replica that missed a write (it was
// down) is brought up to date by a single quorum read of the key, with no
// other traffic; a read of a converged key repairs nothing.
func TestReadRepairFixesStaleReplica(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	key := []byte("k")
	c.net.SetDown("n3", true)
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{}, setFn("v")); err != nil {
		t.Fatal(err)
	}
	c.coords["n1"].Wait()
	c.net.SetDown("n3", false)
	if o, _ := c.stores["n3"].Get(ctx, key); !o.IsZero() {
		t.Fatalf("n3 has the key before any read: %q", liveValues(o))
	}
	if _, err := c.coords["n2"].Get(ctx, key, coordinator.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	c.coords["n2"].Wait()
	o, _ := c.stores["n3"].Get(ctx, key)
	if got := liveValues(o); !slices.Equal(got, []string{"v"}) {
		t.Fatalf("after one quorum read, n3 holds %q, want [v]", got)
	}
	if n := c.coords["n2"].Stats().ReadRepairs.Load(); n != 1 {
		t.Fatalf("read repairs = %d, want 1", n)
	}
	if _, err := c.coords["n2"].Get(ctx, key, coordinator.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	c.coords["n2"].Wait()
	if n := c.coords["n2"].Stats().ReadRepairs.Load(); n != 1 {
		t.Fatalf("a read of a converged key repaired something: %d repairs", n)
	}
}

// pendingHints sums the hints every node holds for target.
func (c *cluster) pendingHints(t *testing.T, target string) int {
	n := 0
	for _, s := range c.stores {
		ts, err := s.HintTargets()
		if err != nil {
			t.Fatal(err)
		}
		n += ts[target]
	}
	return n
}

// handoffAll runs one hinted-handoff pass on every node.
func (c *cluster) handoffAll(t *testing.T) hints.PassStats {
	var sum hints.PassStats
	for id, s := range c.stores {
		peers := c.net.Peers(id)
		d, err := hints.New(hints.Config{}, hints.Deps{Queue: s, Healthy: c.net.Up, Peers: func(id string) hints.Target {
			if r := peers(id); r != nil {
				return r
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		st, err := d.Pass(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		sum.Delivered += st.Delivered
		sum.Dropped += st.Dropped
		sum.Failed += st.Failed
	}
	return sum
}

// TestHintedHandoffDeliversMissedWrites, for three nodes (no fallback
// beyond N: live replicas keep the hints) and five (fallbacks keep them):
// with one node down, W=2 writes keep succeeding, its hints pile up, and
// once it is back one handoff pass puts every key it missed into its own
// replica, with no client reads, and the hints are gone.
func TestHintedHandoffDeliversMissedWrites(t *testing.T) {
	for _, nodes := range []int{3, 5} {
		t.Run(fmt.Sprintf("nodes=%d", nodes), func(t *testing.T) {
			c := newRingCluster(t, seed(t), cfg323(), nodes, nil)
			ctx := context.Background()
			c.net.SetDown("n2", true)
			var missed []string
			for i := 0; i < 200; i++ {
				key := fmt.Sprintf("k%d", i)
				reps := c.replicasOf(key)
				via := reps[0]
				if via == "n2" {
					via = reps[1]
				}
				if _, _, err := c.coords[via].Update(ctx, []byte(key), coordinator.WriteOptions{}, setFn("v")); err != nil {
					t.Fatalf("write %s via %s with n2 down: %v", key, via, err)
				}
				if slices.Contains(reps, "n2") {
					missed = append(missed, key)
				}
			}
			for _, co := range c.coords {
				co.Wait()
			}
			if got := c.pendingHints(t, "n2"); got != len(missed) {
				t.Fatalf("hints for n2 = %d, want one per missed key (%d)", got, len(missed))
			}
			if st := c.handoffAll(t); st.Delivered != 0 {
				t.Fatalf("handoff delivered %d hints to a node that is down", st.Delivered)
			}
			c.net.SetDown("n2", false)
			st := c.handoffAll(t)
			if st.Delivered != len(missed) || st.Failed != 0 {
				t.Fatalf("handoff: %+v, want %d delivered", st, len(missed))
			}
			for _, key := range missed {
				o, err := c.stores["n2"].Get(ctx, []byte(key))
				if err != nil || !slices.Equal(liveValues(o), []string{"v"}) {
					t.Fatalf("n2 lacks %s after handoff: %q %v", key, liveValues(o), err)
				}
			}
			if got := c.pendingHints(t, "n2"); got != 0 {
				t.Fatalf("%d hints for n2 left after handoff", got)
			}
			// Fallbacks hold no copy of keys they do not replicate.
			for id, s := range c.stores {
				var stray int
				s.Scan(0, 1<<20, func(k []byte, _ crdt.Object) bool {
					if !slices.Contains(c.replicasOf(string(k)), id) {
						stray++
					}
					return true
				})
				if stray > 0 {
					t.Fatalf("%s stores %d keys it does not replicate", id, stray)
				}
			}
		})
	}
}

// TestPartitionedMinorityWritesBecomeSiblings: writes on both sides of a
// partition with W=1 are all kept; after it heals (handoff and a quorum
// read), the concurrent values are siblings, none silently dropped.
func TestPartitionedMinorityWritesBecomeSiblings(t *testing.T) {
	cfg := cfg323()
	cfg.W, cfg.R = 1, 1
	c := newCluster(t, seed(t), cfg)
	ctx := context.Background()
	key := []byte("cart")
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{W: 3}, setFn("base")); err != nil {
		t.Fatal(err)
	}
	c.net.Partition([]string{"n1"}) // n1 alone | n2 n3
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{}, setFn("minority")); err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.coords["n2"].Update(ctx, key, coordinator.WriteOptions{}, setFn("majority")); err != nil {
		t.Fatal(err)
	}
	for _, co := range c.coords {
		co.Wait()
	}
	c.net.Heal()
	c.handoffAll(t)
	o, err := c.coords["n3"].Get(ctx, key, coordinator.ReadOptions{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	if got := liveValues(o); !slices.Equal(got, []string{"majority", "minority"}) {
		t.Fatalf("after the partition healed: %q, want both sides' writes as siblings", got)
	}
}

// TestFailingNodeIsAvoidedThenProbed: after a call to a node fails, the
// coordinator stops calling it (its writes leave hints instead) until the
// backoff runs out; then the next call probes it, and a success clears it.
func TestFailingNodeIsAvoidedThenProbed(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1_700_000_000, 0)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	c := newRingClusterClock(t, seed(t), cfg323(), 3, nil, clock)
	ctx := context.Background()
	co := c.coords["n1"]
	write := func(i int) {
		t.Helper()
		if _, _, err := co.Update(ctx, []byte(fmt.Sprintf("k%d", i)), coordinator.WriteOptions{}, setFn("v")); err != nil {
			t.Fatal(err)
		}
		co.Wait()
	}
	c.net.Partition([]string{"n3"}) // unreachable, yet gossip says alive
	write(0)
	tried := c.net.Attempts("n3")
	if tried == 0 || co.Stats().Suspicions.Load() != 1 {
		t.Fatalf("first write: %d attempts to n3, %d suspicions", tried, co.Stats().Suspicions.Load())
	}
	for i := 1; i <= 5; i++ {
		write(i)
	}
	if got := c.net.Attempts("n3"); got != tried {
		t.Fatalf("n3 was called %d more times while suspected", got-tried)
	}
	if h := c.pendingHints(t, "n3"); h != 6 {
		t.Fatalf("hints for n3 = %d, want 6", h)
	}
	c.net.Heal()
	advance(time.Second) // past the first backoff
	write(6)
	if got := c.net.Attempts("n3"); got == tried {
		t.Fatal("n3 not probed after its backoff ran out")
	}
	tried = c.net.Attempts("n3")
	write(7)
	if got := c.net.Attempts("n3"); got == tried {
		t.Fatal("n3 avoided after a successful probe")
	}
}
