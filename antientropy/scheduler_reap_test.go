package antientropy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

const grace = time.Minute

// reapFakes are the reaper's dependencies as plain values.
type reapFakes struct {
	clock    *manualClock
	down     liveness
	moving   bool
	objs     map[string]crdt.Object // what each other replica holds
	horizons map[string]int64
	hzErr    map[string]bool
	hzCalls  int
}

func (f *reapFakes) Members() []string           { return []string{"a", "b", "c", "d"} }
func (f *reapFakes) KeyReplicas([]byte) []string { return []string{"a", "b", "c"} }
func (f *reapFakes) Moving([]byte) bool          { return f.moving }

func newReapFakes(t *testing.T) (*reapFakes, *antientropy.Reaper) {
	t.Helper()
	f := &reapFakes{clock: &manualClock{t: time.UnixMilli(1_800_000_000_000)}, down: liveness{},
		objs: map[string]crdt.Object{}, horizons: map[string]int64{}, hzErr: map[string]bool{}}
	r, err := antientropy.NewReaper(antientropy.ReaperConfig{Grace: grace}, antientropy.ReaperDeps{
		Self: "a", Clock: f.clock, Ring: f, Liveness: f.down,
		ReadAll: func(_ context.Context, key []byte) (map[string]crdt.Object, error) {
			out := map[string]crdt.Object{}
			for _, id := range []string{"b", "c"} {
				if f.down[id] {
					return nil, errors.New("down")
				}
				out[id] = f.objs[id]
			}
			return out, nil
		},
		Horizon: func(_ context.Context, id string) (int64, error) {
			f.hzCalls++
			if f.hzErr[id] {
				return 0, errors.New("no answer")
			}
			return f.horizons[id], nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f, r
}

// tombObj is a deleted key: a value by b at counter 1 superseded by a's
// tombstone written at atMs.
func tombObj(atMs int64) crdt.Object {
	return crdt.FromDVV(dvv.Object{Context: dvv.VV{"a": 5, "b": 1}, Siblings: []dvv.Sibling{
		{Dot: dvv.Dot{Actor: "a", Counter: 5}, Timestamp: atMs * int64(time.Millisecond), Tombstone: true}}})
}

// TestReaperRule: each condition of the reap rule, one at a time: grace,
// transfer, another replica's value or uncovered version, a replica down,
// a member down or silent, a member's hint older than delete + grace.
func TestReaperRule(t *testing.T) {
	t.Run("grace not passed", func(t *testing.T) {
		f, r := newReapFakes(t)
		o := tombObj(f.clock.Now().UnixMilli())
		f.clock.Advance(grace - time.Second)
		f.objs["b"], f.objs["c"] = o, o
		for _, id := range f.Members() {
			f.horizons[id] = f.clock.Now().UnixMilli() + grace.Milliseconds()
		}
		if r.CanReap([]byte("k"), o) {
			t.Fatal("reaped before the grace period passed")
		}
	})
	value := crdt.FromDVV(dvv.Object{Context: dvv.VV{"b": 1}, Siblings: []dvv.Sibling{{Dot: dvv.Dot{Actor: "b", Counter: 1}, Value: []byte("v")}}})
	uncovered := crdt.FromDVV(dvv.Object{Context: dvv.VV{"c": 9}, Siblings: []dvv.Sibling{{Dot: dvv.Dot{Actor: "c", Counter: 9}, Tombstone: true}}})
	for _, c := range []struct {
		name   string
		breakf func(*reapFakes, int64)
	}{
		{"partition moving", func(f *reapFakes, _ int64) { f.moving = true }},
		{"replica holds the value", func(f *reapFakes, _ int64) { f.objs["c"] = value }},
		{"replica holds an uncovered version", func(f *reapFakes, _ int64) { f.objs["b"] = uncovered }},
		{"replica down", func(f *reapFakes, _ int64) { f.down["b"] = true }},
		{"member down", func(f *reapFakes, _ int64) { f.down["d"] = true }},
		{"member silent", func(f *reapFakes, _ int64) { f.hzErr["d"] = true }},
		{"member holds a hint from before the delete", func(f *reapFakes, t int64) { f.horizons["d"] = t - 1000 }},
		{"member holds a hint from within grace after the delete", func(f *reapFakes, t int64) { f.horizons["c"] = t + grace.Milliseconds() }},
		{"nothing", func(*reapFakes, int64) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			f, r := newReapFakes(t)
			tAt := f.clock.Now().UnixMilli()
			o := tombObj(tAt)
			f.clock.Advance(grace + time.Second)
			f.objs["b"], f.objs["c"] = o, crdt.Object{}
			for _, id := range f.Members() {
				f.horizons[id] = f.clock.Now().UnixMilli()
			}
			c.breakf(f, tAt)
			if got, want := r.CanReap([]byte("k"), o), c.name == "nothing"; got != want {
				t.Fatalf("CanReap = %v, want %v", got, want)
			}
		})
	}
}

// TestReaperCachesHorizons: within Recheck of a member's answer, other
// tombstones are decided on it without asking again (an older one
// reaped, a newer one kept, the blocking member not asked again); after
// Recheck every member is asked again.
func TestReaperCachesHorizons(t *testing.T) {
	f, r := newReapFakes(t)
	old := tombObj(f.clock.Now().UnixMilli())
	f.clock.Advance(10 * time.Second)
	newer := tombObj(f.clock.Now().UnixMilli())
	f.clock.Advance(grace + time.Second)
	f.objs["b"], f.objs["c"] = crdt.Object{}, crdt.Object{}
	for _, id := range f.Members() {
		f.horizons[id] = f.clock.Now().UnixMilli() - 500 // past newer's delete + grace (by 500 ms)
	}
	if !r.CanReap([]byte("k1"), newer) || f.hzCalls != 4 {
		t.Fatalf("first tombstone: %d horizon calls, want 4 and reaped", f.hzCalls)
	}
	if !r.CanReap([]byte("k2"), old) || f.hzCalls != 4 {
		t.Fatalf("an older tombstone made %d more horizon calls, want 0", f.hzCalls-4)
	}
	newest := tombObj(f.clock.Now().UnixMilli() - grace.Milliseconds())
	if r.CanReap([]byte("k3"), newest) || f.hzCalls != 4 {
		t.Fatalf("a tombstone newer than every answer: reaped, or asked again within Recheck (%d calls)", f.hzCalls)
	}
	f.clock.Advance(antientropy.DefaultReaperConfig().Recheck)
	for _, id := range f.Members() {
		f.horizons[id] = f.clock.Now().UnixMilli()
	}
	if !r.CanReap([]byte("k3"), newest) || f.hzCalls != 8 {
		t.Fatalf("after Recheck: %d horizon calls, want 8 and reaped", f.hzCalls)
	}
}

// TestReaperAsksAgainAfterRecheck is the reaper's half of the regression
// test of tests/jepsen's schedule 8679050689893925424: a member answered a
// horizon past the tombstone (its clock ran ahead), then took a hint of a
// version older than the delete and was cut off. A horizon is not
// monotone, so the old answer must not reap the tombstone: after Recheck
// the member is asked again, and while it cannot be asked, or answers the
// hint's older time, nothing is reaped. (The reaper used to keep each
// member's largest answer for good and skip such a member.)
func TestReaperAsksAgainAfterRecheck(t *testing.T) {
	f, r := newReapFakes(t)
	tAt := f.clock.Now().UnixMilli()
	o := tombObj(tAt)
	f.clock.Advance(grace + time.Second)
	f.objs["b"], f.objs["c"] = o, o
	for _, id := range f.Members() {
		f.horizons[id] = f.clock.Now().UnixMilli()
	}
	f.horizons["d"] = tAt + 10*grace.Milliseconds() // d's clock ran ahead
	if !r.CanReap([]byte("k1"), o) {
		t.Fatal("every member answered past the delete + grace: want reaped")
	}
	f.clock.Advance(antientropy.DefaultReaperConfig().Recheck)
	f.horizons["d"] = tAt - 1000 // d now holds a hint of a version older than the delete
	f.down["d"] = true           // and is cut off
	if r.CanReap([]byte("k2"), o) {
		t.Fatal("reaped on a member's answer older than Recheck while the member is cut off")
	}
	delete(f.down, "d")
	if r.CanReap([]byte("k2"), o) {
		t.Fatal("reaped while a member's horizon is before the delete")
	}
}

// reapCluster is four nodes r1..r4, N=3 R=2 W=2, on a fault network, with
// real stores on vfs.NewMem sharing one injected clock.
type reapCluster struct {
	net    *peertest.Network
	clock  *manualClock
	st     *ring.State
	stores map[string]*replica.Store
	coords map[string]*coordinator.Coordinator
}

type canReapFunc func(key []byte, o crdt.Object) bool

func newReapCluster(t *testing.T, rule func(c *reapCluster, self string) canReapFunc) *reapCluster {
	t.Helper()
	c := &reapCluster{net: peertest.New(testseed.Seed(t)), clock: &manualClock{t: time.UnixMilli(1_800_000_000_000)},
		stores: map[string]*replica.Store{}, coords: map[string]*coordinator.Coordinator{}}
	var members []ring.Member
	for i := 1; i <= 4; i++ {
		members = append(members, ring.Member{ID: ring.NodeID(fmt.Sprintf("r%d", i)), Addr: "x:1", GossipAddr: "x:2", Weight: 1})
	}
	st, err := ring.New(ring.Config{Partitions: 64, Replicas: 3}, members)
	if err != nil {
		t.Fatal(err)
	}
	c.st = st
	for _, m := range members {
		id := string(m.ID)
		var canReap canReapFunc
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1,
			Now: c.clock.Now, TombstoneGrace: grace,
			CanReap: func(key []byte, o crdt.Object) bool { return canReap(key, o) }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c.stores[id] = s
		c.net.Add(s)
		canReap = rule(c, id)
	}
	for id, s := range c.stores {
		co, err := coordinator.New(coordinator.Config{N: 3, R: 2, W: 2, Timeout: 5 * time.Second, Healthy: c.net.Up},
			s, coordinator.RingPlacement(func() *ring.State { return st }), c.net.Peers(id))
		if err != nil {
			t.Fatal(err)
		}
		c.coords[id] = co
	}
	return c
}

func (c *reapCluster) replicas(key []byte) []string {
	var out []string
	for _, id := range c.st.PreferenceList(c.st.KeyPartition(key), 3) {
		out = append(out, string(id))
	}
	return out
}

// ringView is the reaper's ReapRing over the cluster's ring.
type ringView struct{ c *reapCluster }

func (v ringView) Members() []string {
	var out []string
	for _, m := range v.c.st.Members() {
		out = append(out, string(m.ID))
	}
	return out
}
func (v ringView) KeyReplicas(key []byte) []string { return v.c.replicas(key) }
func (v ringView) Moving([]byte) bool              { return false }
func (v ringView) Alive(id string) bool            { return v.c.net.Up(id) }

// horizonRule is the Reaper of node self, its calls on the fault network.
func horizonRule(t *testing.T) func(c *reapCluster, self string) canReapFunc {
	return func(c *reapCluster, self string) canReapFunc {
		peers := c.net.Peers(self)
		r, err := antientropy.NewReaper(antientropy.ReaperConfig{Grace: grace}, antientropy.ReaperDeps{
			Self: self, Clock: c.clock, Ring: ringView{c}, Liveness: ringView{c},
			ReadAll: func(ctx context.Context, key []byte) (map[string]crdt.Object, error) {
				out := map[string]crdt.Object{}
				for _, id := range c.replicas(key) {
					var rep replica.Replica = peers(id) // NB: peer.Store; this package's tests name a type peer
					if id == self {
						rep = c.stores[id]
					}
					o, err := rep.Get(ctx, key)
					if err != nil {
						return nil, err
					}
					out[id] = o
				}
				return out, nil
			},
			Horizon: func(ctx context.Context, id string) (int64, error) {
				if id == self {
					return c.stores[id].HintHorizon(ctx)
				}
				return peers(id).HintHorizon(ctx)
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		return r.CanReap
	}
}

// replicasOnlyRule is main's rule before this fix (node/antientropy.go
// canReap): every other replica alive and holding nothing the tombstone
// does not cover; hints pending elsewhere are not considered.
func replicasOnlyRule(c *reapCluster, self string) canReapFunc {
	peers := c.net.Peers(self)
	return func(key []byte, o crdt.Object) bool {
		for _, id := range c.replicas(key) {
			if id == self {
				continue
			}
			if !c.net.Up(id) {
				return false
			}
			theirs, err := peers(id).Get(context.Background(), key)
			if err != nil || len(liveSiblings(theirs, c.clock.Now().UnixMilli())) > 0 || !crdt.Equal(crdt.Merge(o, theirs), o) {
				return false
			}
		}
		return true
	}
}

// deletedKeyScenario is issue 10's fault 2 in-process: with r3 down, keys
// whose replicas are r1, r2, r3 are SET through r1 (r3's copies become
// hints on the fallback r4); r4 stops; r3 comes back; each key is DELeted
// through r1; the grace period passes and every replica sweeps; r4 comes
// back and hands its hints off. It returns how many keys read live again
// (a read of all three replicas, which also read-repairs) and how many
// tombstones were reaped before r4 came back.
func deletedKeyScenario(t *testing.T, c *reapCluster) (live, reapedEarly int) {
	t.Helper()
	ctx := context.Background()
	var keys [][]byte
	for i := 0; len(keys) < 20; i++ {
		k := fmt.Appendf(nil, "key:%d", i)
		if reps := c.replicas(k); !slices.Contains(reps, "r4") && slices.Contains(reps, "r1") {
			keys = append(keys, k)
		}
	}
	c.net.SetDown("r3", true)
	for _, k := range keys {
		_, _, err := c.coords["r1"].Update(ctx, k, coordinator.WriteOptions{}, crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Value: []byte("before-delete")}, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	c.coords["r1"].Wait()
	if n, _ := c.stores["r4"].HintTargets(); n["r3"] != len(keys) {
		t.Fatalf("r4 holds %d hints for r3, want %d", n["r3"], len(keys))
	}
	c.net.SetDown("r4", true)
	c.net.SetDown("r3", false)
	c.clock.Advance(time.Second)
	for _, k := range keys {
		_, _, err := c.coords["r1"].Update(ctx, k, coordinator.WriteOptions{ReadFirst: true}, crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Tombstone: true}, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
	}
	c.coords["r1"].Wait()
	c.clock.Advance(grace + time.Second)
	for _, id := range []string{"r1", "r2", "r3"} {
		if _, err := c.stores[id].Sweep(1000); err != nil {
			t.Fatal(err)
		}
		reapedEarly += int(c.stores[id].Stats().Reaped.Load())
	}
	c.net.SetDown("r4", false)
	peers := c.net.Peers("r4")
	d, err := hints.New(hints.Config{}, hints.Deps{Queue: c.stores["r4"], Healthy: c.net.Up,
		Peers: func(id string) hints.Target { return peers(id) }})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := d.Pass(ctx); err != nil || st.Delivered != len(keys) {
		t.Fatalf("r4's handoff = %+v, %v; want %d delivered", st, err, len(keys))
	}
	for _, k := range keys {
		o, err := c.coords["r1"].Get(ctx, k, coordinator.ReadOptions{R: 3})
		if err != nil {
			t.Fatal(err)
		}
		if len(liveSiblings(o, c.clock.Now().UnixMilli())) > 0 {
			live++
		}
	}
	c.coords["r1"].Wait()
	return live, reapedEarly
}

// TestAcknowledgedDeleteStaysDeleted is the regression test of issue 10's
// fault 2: a hint held on a stopped fallback (r4) from before a DEL must
// not bring the key back once the grace period has passed and r4 returns.
// The tombstones stay while r4 is down (it cannot report its hint
// horizon) and while its hints are pending; once they are delivered and
// the replicas converged, the tombstones are reaped, and nothing comes
// back. The control subtest runs the same scenario under main's rule
// (replicas only) and shows the keys coming back.
func TestAcknowledgedDeleteStaysDeleted(t *testing.T) {
	t.Run("horizon rule", func(t *testing.T) {
		c := newReapCluster(t, horizonRule(t))
		live, reaped := deletedKeyScenario(t, c)
		if live != 0 || reaped != 0 {
			t.Fatalf("%d deleted keys read live again; %d tombstones reaped while r4 held older hints", live, reaped)
		}
		// The read repaired r3; a grace later every replica reaps, and
		// no key is anywhere.
		c.clock.Advance(grace + time.Second)
		total := 0
		for _, id := range []string{"r1", "r2", "r3"} {
			if _, err := c.stores[id].Sweep(1000); err != nil {
				t.Fatal(err)
			}
			total += int(c.stores[id].Stats().Reaped.Load())
		}
		if total != 3*20 {
			t.Fatalf("after the hints were delivered, %d tombstones reaped, want %d (the rule must not block forever)", total, 3*20)
		}
		for id, s := range c.stores {
			var n int
			if _, err := s.Scan(0, 1000, func([]byte, crdt.Object) bool { n++; return true }); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%s still holds %d keys after reaping", id, n)
			}
		}
	})
	t.Run("control: replicas-only rule of main", func(t *testing.T) {
		c := newReapCluster(t, func(c *reapCluster, self string) canReapFunc { return replicasOnlyRule(c, self) })
		live, reaped := deletedKeyScenario(t, c)
		if reaped != 3*20 || live != 20 {
			t.Fatalf("main's rule: %d reaped, %d live again; the scenario should reproduce the fault (60 reaped, 20 live)", reaped, live)
		}
	})
}
