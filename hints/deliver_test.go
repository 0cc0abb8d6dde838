package hints_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// clock is a manual clock shared by the test's stores.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// world is n1 (the hint holder) and n2, n3 on a fault network, each a
// pebble store on vfs.NewMem.
type world struct {
	net    *peertest.Network
	clock  *clock
	stores map[string]*replica.Store
	member map[string]bool
	d      *hints.Deliverer
}

func newWorld(t *testing.T, cfg hints.Config) *world {
	t.Helper()
	w := &world{net: peertest.New(testseed.Seed(t)), clock: &clock{t: time.Unix(1_800_000_000, 0)},
		stores: map[string]*replica.Store{}, member: map[string]bool{}}
	cfg.EnsureDefaults()
	for _, id := range []string{"n1", "n2", "n3"} {
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, Now: w.clock.Now,
			SweepInterval: -1, MaxHintBytes: cfg.MaxBytes})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		w.stores[id] = s
		w.member[id] = true
		w.net.Add(s)
	}
	peers := w.net.Peers("n1")
	d, err := hints.New(cfg, hints.Deps{
		Queue: w.stores["n1"],
		Peers: func(id string) hints.Target {
			if r := peers(id); r != nil {
				return r
			}
			return nil
		},
		Healthy:  w.net.Up,
		IsMember: func(id string) bool { return w.member[id] },
	})
	if err != nil {
		t.Fatal(err)
	}
	w.d = d
	return w
}

// hint writes key on n1 (as a coordinator would) and keeps it there as a
// hint for target.
func (w *world) hint(t *testing.T, target, key, value string) crdt.Object {
	t.Helper()
	_, obj, _, err := w.stores["n1"].Update(context.Background(), []byte(key), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: []byte(value)}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.stores["n1"].PutHint(context.Background(), target, []byte(key), obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func (w *world) pass(t *testing.T) hints.PassStats {
	t.Helper()
	st, err := w.d.Pass(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func (w *world) pending(t *testing.T, target string) int {
	t.Helper()
	ts, err := w.stores["n1"].HintTargets()
	if err != nil {
		t.Fatal(err)
	}
	return ts[target]
}

func (w *world) holds(t *testing.T, id, key string, want crdt.Object) bool {
	t.Helper()
	o, err := w.stores[id].Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return crdt.Equal(crdt.Merge(o, want), o) && !o.IsZero()
}

// TestHintDeliveredWhenTargetReturns (Dynamo §4.6): while n3 is down no
// call is made and the hints stay; once it is up one pass merges every
// hint into n3's replica and deletes it after the acknowledgement.
func TestHintDeliveredWhenTargetReturns(t *testing.T) {
	w := newWorld(t, hints.Config{})
	objs := map[string]crdt.Object{}
	for i := range 10 {
		k := fmt.Sprintf("k%d", i)
		objs[k] = w.hint(t, "n3", k, "v")
	}
	w.net.SetDown("n3", true)
	if st := w.pass(t); st != (hints.PassStats{}) {
		t.Fatalf("pass with n3 down = %+v, want nothing done", st)
	}
	if a := w.net.Attempts("n3"); a != 0 || w.pending(t, "n3") != 10 {
		t.Fatalf("n3 down: %d calls attempted, %d hints pending; want 0 and 10", a, w.pending(t, "n3"))
	}
	w.net.SetDown("n3", false)
	if st := w.pass(t); st != (hints.PassStats{Delivered: 10}) {
		t.Fatalf("pass with n3 back = %+v, want 10 delivered", st)
	}
	for k, o := range objs {
		if !w.holds(t, "n3", k, o) {
			t.Fatalf("n3 lacks the hinted write of %s", k)
		}
	}
	if p := w.pending(t, "n3"); p != 0 {
		t.Fatalf("%d hints still pending after their delivery", p)
	}
	if st := w.stores["n1"].HintStats(); st.Delivered != 10 {
		t.Fatalf("store counted %d deliveries, want 10", st.Delivered)
	}
}

// TestHintNotDeliveredAcrossPartition: n3 looks healthy to n1 (gossip may
// lag) but is cut off; the merge fails, is counted, and the hint stays
// until the partition heals.
func TestHintNotDeliveredAcrossPartition(t *testing.T) {
	w := newWorld(t, hints.Config{})
	o := w.hint(t, "n3", "k", "v")
	w.net.Partition([]string{"n1", "n2"}, []string{"n3"})
	if st := w.pass(t); st != (hints.PassStats{Failed: 1}) {
		t.Fatalf("pass across the partition = %+v, want 1 failed", st)
	}
	if w.pending(t, "n3") != 1 || w.holds(t, "n3", "k", o) {
		t.Fatal("hint left the queue or reached n3 across a partition")
	}
	w.net.Heal()
	if st := w.pass(t); st != (hints.PassStats{Delivered: 1}) {
		t.Fatalf("pass after heal = %+v, want 1 delivered", st)
	}
	if w.pending(t, "n3") != 0 || !w.holds(t, "n3", "k", o) {
		t.Fatal("hint not delivered after the partition healed")
	}
}

// TestDroppedDeliveriesRetry: with half of all calls dropped (seeded),
// passes retry until every hint is delivered; each hint is deleted only
// after a delivered call, and every dropped call is counted as failed.
func TestDroppedDeliveriesRetry(t *testing.T) {
	w := newWorld(t, hints.Config{Parallel: 1})
	objs := map[string]crdt.Object{}
	for i := range 50 {
		k := fmt.Sprintf("k%d", i)
		objs[k] = w.hint(t, "n3", k, "v")
	}
	w.net.SetDropRate(0.5)
	var passes int
	for w.pending(t, "n3") > 0 {
		if passes++; passes > 1000 {
			t.Fatalf("hints still pending after %d passes", passes)
		}
		w.pass(t)
	}
	st := w.d.Stats()
	drops := w.net.Attempts("n3") - w.net.Calls("n3")
	if st.Delivered != 50 || st.Failed != int64(drops) || drops == 0 {
		t.Fatalf("stats %+v with %d dropped calls; want 50 delivered and failed = dropped > 0", st, drops)
	}
	for k, o := range objs {
		if !w.holds(t, "n3", k, o) {
			t.Fatalf("n3 lacks %s", k)
		}
	}
}

// TestHintBounds: hints older than MaxAge are dropped without a call and
// counted; hints beyond MaxBytes are refused when stored and counted; hints
// for a node that left the ring are dropped.
func TestHintBounds(t *testing.T) {
	t.Run("age", func(t *testing.T) {
		w := newWorld(t, hints.Config{MaxAge: time.Hour})
		old := w.hint(t, "n3", "old", "v")
		w.clock.Advance(30 * time.Minute)
		young := w.hint(t, "n3", "young", "v")
		w.clock.Advance(31 * time.Minute)
		if st := w.pass(t); st != (hints.PassStats{Delivered: 1, Dropped: 1}) {
			t.Fatalf("pass = %+v, want 1 delivered (young) and 1 dropped (old)", st)
		}
		if w.holds(t, "n3", "old", old) || !w.holds(t, "n3", "young", young) {
			t.Fatal("the hint past MaxAge was delivered, or the young one was not")
		}
		if w.d.Stats().DroppedAge != 1 || w.stores["n1"].HintStats().Dropped != 1 {
			t.Fatalf("age drop not counted: %+v, store %+v", w.d.Stats(), w.stores["n1"].HintStats())
		}
	})
	t.Run("size", func(t *testing.T) {
		w := newWorld(t, hints.Config{MaxBytes: 300})
		s := w.stores["n1"]
		refused := 0
		for i := range 30 {
			k := fmt.Sprintf("k%d", i)
			_, obj, _, err := s.Update(context.Background(), []byte(k), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
				return cur.Join(), dvv.Sibling{Value: []byte("a value of some bytes")}, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
			if err := s.PutHint(context.Background(), "n3", []byte(k), obj); errors.Is(err, replica.ErrHintLimit) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		kept := w.pending(t, "n3")
		if refused == 0 || kept+refused != 30 || s.HintStats().Dropped != int64(refused) {
			t.Fatalf("%d refused, %d kept, dropped counter %d", refused, kept, s.HintStats().Dropped)
		}
		if st := w.pass(t); st.Delivered != kept {
			t.Fatalf("pass = %+v, want the %d kept hints delivered", st, kept)
		}
	})
	t.Run("gone", func(t *testing.T) {
		w := newWorld(t, hints.Config{})
		o := w.hint(t, "n3", "k", "v")
		w.member["n3"] = false
		if st := w.pass(t); st != (hints.PassStats{Dropped: 1}) {
			t.Fatalf("pass = %+v, want 1 dropped", st)
		}
		if w.holds(t, "n3", "k", o) || w.d.Stats().DroppedGone != 1 {
			t.Fatal("a hint for a node that left was delivered, or its drop not counted")
		}
	})
}

// TestRunPassesOnTicks: Run makes passes only when its tick channel fires,
// and stops when its context ends.
func TestRunPassesOnTicks(t *testing.T) {
	w := newWorld(t, hints.Config{})
	o := w.hint(t, "n3", "k", "v")
	tick := make(chan time.Time)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.d.Run(ctx, tick); close(done) }()
	if w.d.Stats().Passes != 0 || w.pending(t, "n3") != 1 {
		t.Fatal("Run passed before its first tick")
	}
	tick <- w.clock.Now()
	tick <- w.clock.Now() // accepted once the first tick's passes are over
	cancel()
	<-done
	if w.pending(t, "n3") != 0 || !w.holds(t, "n3", "k", o) {
		t.Fatal("the tick did not deliver the hint")
	}
}

// TestConfigValidate: negative values are rejected; zero takes defaults.
func TestConfigValidate(t *testing.T) {
	for _, c := range []hints.Config{
		{Interval: -1}, {MaxAge: -1}, {MaxBytes: -1}, {Batch: -1}, {Parallel: -1}, {Timeout: -1},
	} {
		c.EnsureDefaults()
		if err := c.Validate(); !errors.Is(err, hints.ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", c, err)
		}
	}
	var c hints.Config
	c.EnsureDefaults()
	if c != hints.DefaultConfig() || c.Validate() != nil {
		t.Fatalf("zero Config with defaults = %+v, want DefaultConfig", c)
	}
}

// TestHintThatGrewDuringDeliveryStays: a write merged into a hint while
// its delivery is in flight (held on the network) keeps the hint: the
// acknowledged copy is not the stored one, so the next pass delivers the
// grown hint, and only then is it deleted.
func TestHintThatGrewDuringDeliveryStays(t *testing.T) {
	w := newWorld(t, hints.Config{})
	first := w.hint(t, "n3", "k", "v1")
	w.net.Hold("n3")
	done := make(chan hints.PassStats)
	go func() {
		st, err := w.d.Pass(context.Background())
		if err != nil {
			t.Error(err)
		}
		done <- st
	}()
	for w.net.Attempts("n3") == 0 { // the merge is on its way, held
		runtime.Gosched()
	}
	grown := w.hint(t, "n3", "k", "v2") // a newer write for n3 merges in
	w.net.Release("n3")
	if st := <-done; st.Delivered != 1 {
		t.Fatalf("first pass = %+v, want the held merge acknowledged", st)
	}
	if w.pending(t, "n3") != 1 || !w.holds(t, "n3", "k", first) || w.holds(t, "n3", "k", grown) {
		t.Fatal("want n3 to hold the first write only and the grown hint still pending")
	}
	if st := w.pass(t); st.Delivered != 1 || w.pending(t, "n3") != 0 || !w.holds(t, "n3", "k", grown) {
		t.Fatalf("second pass = %+v: the grown hint was not delivered and deleted", st)
	}
}
