package replica

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// fakeClock is an injectable wall clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Unix(1_700_000_000, 0)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openMem(t *testing.T, fs vfs.FS, clock *fakeClock, mod func(*Config)) *Store {
	t.Helper()
	cfg := Config{Dir: "/data", FS: fs, NodeID: "n1", Now: clock.Now, SweepInterval: -1}
	if mod != nil {
		mod(&cfg)
	}
	s, err := Open(cfg)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	return s
}

// set writes value as a plain overwrite (the local context).
func set(t *testing.T, s *Store, key, value string, expiry int64) crdt.Object {
	t.Helper()
	_, next, _, err := s.Update(context.Background(), []byte(key), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: []byte(value), Expiry: expiry}, nil
	}))
	if err != nil {
		t.Fatalf("update %s: %v", key, err)
	}
	return next
}

func vset(t *testing.T, s *Store, key string, ctx dvv.VV, value string) crdt.Object {
	t.Helper()
	_, next, _, err := s.Update(context.Background(), []byte(key), crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
		return ctx, dvv.Sibling{Value: []byte(value)}, nil
	}))
	if err != nil {
		t.Fatalf("update %s: %v", key, err)
	}
	return next
}

func get(t *testing.T, s *Store, key string) crdt.Object {
	t.Helper()
	o, err := s.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return o
}

func values(o crdt.Object, now int64) []string {
	var out []string
	for _, s := range liveSiblings(o, now) {
		out = append(out, string(s.Value))
	}
	return out
}

func TestSameContextWritesBecomeSiblings(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	vset(t, s, "k", nil, "a")
	o := vset(t, s, "k", nil, "b")
	if got := values(o, s.NowMs()); len(got) != 2 {
		t.Fatalf("two blind writes: want 2 siblings, got %q", got)
	}
	o = vset(t, s, "k", o.Context(), "c")
	if got := values(get(t, s, "k"), s.NowMs()); len(got) != 1 || got[0] != "c" {
		t.Fatalf("write with the joined context: want [c], got %q", got)
	}
}

// TestAcknowledgedWritesSurviveCrash: with Sync (the default), every write
// Update acknowledged is present after a crash that keeps only synced data.
// The NoSync run shows the test can tell the difference.
func TestAcknowledgedWritesSurviveCrash(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("nosync=%v", noSync), func(t *testing.T) {
			clock := newFakeClock()
			fs := vfs.NewCrashableMem()
			s := openMem(t, fs, clock, func(c *Config) { c.NoSync = noSync })
			const n = 200
			var wg sync.WaitGroup
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < n; i += 4 {
						set(t, s, fmt.Sprintf("key-%d", i), fmt.Sprintf("v%d", i), 0)
					}
				}()
			}
			wg.Wait()
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
			_ = s.Close()
			s2 := openMem(t, crashed, clock, nil)
			defer s2.Close()
			lost := 0
			for i := 0; i < n; i++ {
				got := values(get(t, s2, fmt.Sprintf("key-%d", i)), s2.NowMs())
				if len(got) != 1 || got[0] != fmt.Sprintf("v%d", i) {
					lost++
				}
			}
			if !noSync && lost != 0 {
				t.Fatalf("%d of %d acknowledged writes lost in a crash", lost, n)
			}
			if noSync && lost == 0 {
				t.Fatalf("NoSync lost nothing in a crash: the crash simulation is not biting")
			}
		})
	}
}

// TestDotsIncreaseAcrossRestartAndClockStepBack: a restarted store never
// reissues a dot counter, even when the wall clock went backwards.
func TestDotsIncreaseAcrossRestartAndClockStepBack(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs, clock, nil)
	var last uint64
	for i := 0; i < 50; i++ {
		o := vset(t, s, fmt.Sprintf("k%d", i%3), nil, "v")
		for _, sib := range asDVV(o).Siblings {
			last = max(last, sib.Dot.Counter)
		}
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	_ = s.Close()
	clock.Advance(-time.Hour)
	s2 := openMem(t, crashed, clock, nil)
	defer s2.Close()
	o := vset(t, s2, "other", nil, "v")
	if c := asDVV(o).Siblings[0].Dot.Counter; c <= last {
		t.Fatalf("dot counter %d after restart not above %d issued before", c, last)
	}
}

func TestExpiredValueBecomesTombstoneAndIsReaped(t *testing.T) {
	clock := newFakeClock()
	var reapOK bool
	s := openMem(t, vfs.NewMem(), clock, func(c *Config) {
		c.TombstoneGrace = time.Minute
		c.CanReap = func([]byte, crdt.Object) bool { return reapOK }
	})
	defer s.Close()
	set(t, s, "k", "v", s.NowMs()+1000)
	set(t, s, "keep", "v", 0)
	if n, _ := s.Sweep(100); n != 0 {
		t.Fatalf("swept %d entries before anything was due", n)
	}
	clock.Advance(1500 * time.Millisecond)
	if got := values(get(t, s, "k"), s.NowMs()); len(got) != 0 {
		t.Fatalf("expired key reads as %q", got)
	}
	if n, err := s.Sweep(100); err != nil || n != 1 {
		t.Fatalf("sweep: n=%d err=%v, want 1 entry", n, err)
	}
	o := get(t, s, "k")
	if len(asDVV(o).Siblings) != 1 || !asDVV(o).Siblings[0].Tombstone {
		t.Fatalf("after sweep want one tombstone, got %+v", asDVV(o).Siblings)
	}
	clock.Advance(2 * time.Minute)
	s.Sweep(100) // not reapable yet: CanReap says no
	if get(t, s, "k").IsZero() {
		t.Fatal("tombstone reaped although CanReap refused")
	}
	reapOK = true
	clock.Advance(2 * time.Minute)
	s.Sweep(100)
	if !get(t, s, "k").IsZero() {
		t.Fatal("tombstone not reaped after grace with CanReap")
	}
	if got := values(get(t, s, "keep"), s.NowMs()); len(got) != 1 {
		t.Fatalf("unrelated key disturbed: %q", got)
	}
	if s.Stats().Expired.Load() != 1 || s.Stats().Reaped.Load() != 1 {
		t.Fatalf("stats expired=%d reaped=%d, want 1 and 1", s.Stats().Expired.Load(), s.Stats().Reaped.Load())
	}
}

// TestOverwriteMovesExpiry: rewriting a key with a later (or no) expiry
// keeps it alive past the old expiry.
func TestOverwriteMovesExpiry(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	set(t, s, "k", "v1", s.NowMs()+1000)
	set(t, s, "k", "v2", 0)
	clock.Advance(5 * time.Second)
	s.Sweep(100)
	if got := values(get(t, s, "k"), s.NowMs()); len(got) != 1 || got[0] != "v2" {
		t.Fatalf("want [v2], got %q", got)
	}
}

func TestCorruptBytesGiveErrorNotPanic(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	set(t, s, "good", "v", 0)
	for i, junk := range [][]byte{{}, {0xff}, {1, 200, 200, 200}, []byte("garbage-bytes-here")} {
		key := fmt.Sprintf("bad%d", i)
		if err := s.db.Set(dataKey([]byte(key)), junk, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Get(context.Background(), []byte(key)); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("get of %x: want ErrCorrupt, got %v", junk, err)
		}
		_, _, _, err := s.Update(context.Background(), []byte(key), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Value: []byte("x")}, nil
		}))
		if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("update over %x: want ErrCorrupt, got %v", junk, err)
		}
	}
	var seen []string
	if _, err := s.Scan(0, 100, func(k []byte, _ crdt.Object) bool { seen = append(seen, string(k)); return true }); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != "good" {
		t.Fatalf("scan over corrupt entries: want [good], got %q", seen)
	}
}

func TestMergeRefusesInvalidObject(t *testing.T) {
	s := openMem(t, vfs.NewMem(), newFakeClock(), nil)
	defer s.Close()
	bad := crdt.FromDVV(dvv.Object{Siblings: []dvv.Sibling{{Dot: dvv.Dot{Actor: "x", Counter: 5}, Value: []byte("v")}}})
	if err := s.Merge(context.Background(), []byte("k"), bad); !errors.Is(err, crdt.ErrCorrupt) {
		t.Fatalf("want crdt.ErrCorrupt, got %v", err)
	}
}

func TestForgedContextRefused(t *testing.T) {
	s := openMem(t, vfs.NewMem(), newFakeClock(), nil)
	defer s.Close()
	for _, c := range []uint64{1 << 62, ^uint64(0)} {
		_, _, _, err := s.Update(context.Background(), []byte("k"), crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
			return dvv.VV{"n2": c}, dvv.Sibling{Value: []byte("v")}, nil
		}))
		if !errors.Is(err, ErrBadContext) {
			t.Fatalf("context at %d: want ErrBadContext, got %v", c, err)
		}
	}
}

// TestScanVisitsEveryKeyOnce pages through the store with small counts and
// checks that every key is seen and the cursor ends at 0.
func TestScanVisitsEveryKeyOnce(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	s := openMem(t, vfs.NewMem(), newFakeClock(), func(c *Config) { c.NoSync = true })
	defer s.Close()
	want := map[string]bool{}
	for i := 0; i < 2000; i++ {
		k := fmt.Sprintf("key:%d:%d", i, rng.IntN(1000))
		want[k] = true
		set(t, s, k, "v", 0)
	}
	seen := map[string]int{}
	var c Cursor
	for pages := 0; ; pages++ {
		if pages > 10000 {
			t.Fatal("scan does not terminate")
		}
		next, err := s.Scan(c, 1+rng.IntN(40), func(k []byte, _ crdt.Object) bool { seen[string(k)]++; return true })
		if err != nil {
			t.Fatal(err)
		}
		if next == 0 {
			break
		}
		if next <= c {
			t.Fatalf("cursor went from %d to %d", c, next)
		}
		c = next
	}
	for k := range want {
		if seen[k] != 1 {
			t.Fatalf("key %q seen %d times", k, seen[k])
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("scan saw %d keys, want %d", len(seen), len(want))
	}
}
