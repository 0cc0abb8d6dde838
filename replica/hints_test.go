package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestHintsSurviveCrashAndDeleteOnlyWhatWasDelivered: hints are durable,
// grouped by target, merged per key; a delivered hint is deleted unless a
// newer write merged into it meanwhile.
func TestHintsSurviveCrashAndDeleteOnlyWhatWasDelivered(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs, clock, nil)
	ctx := context.Background()
	objs := map[string]crdt.Object{}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%d", i)
		objs[k] = set(t, s, k, "v", 0)
		if err := s.PutHint(ctx, "n3", []byte(k), objs[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHint(ctx, "n4", []byte("k0"), objs["k0"]); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s.Close()
	s = openMem(t, crashed, clock, nil)
	defer s.Close()
	targets, err := s.HintTargets()
	if err != nil || targets["n3"] != 20 || targets["n4"] != 1 {
		t.Fatalf("after crash, hint targets = %v, %v; want n3:20 n4:1", targets, err)
	}
	hs, err := s.Hints("n3", 100)
	if err != nil || len(hs) != 20 {
		t.Fatalf("Hints(n3) = %d, %v", len(hs), err)
	}
	// A newer write lands in k1's hint after it was read for delivery.
	newer := set(t, s, "k1", "v2", 0)
	if err := s.PutHint(ctx, "n3", []byte("k1"), newer); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if err := s.DeleteHint("n3", h.Key, h.Object, false); err != nil {
			t.Fatal(err)
		}
	}
	left, _ := s.Hints("n3", 100)
	if len(left) != 1 || string(left[0].Key) != "k1" || !crdt.Equal(left[0].Object, crdt.Merge(objs["k1"], newer)) {
		t.Fatalf("after delivery, pending n3 hints = %+v; want only k1 with the newer write", left)
	}
	if st := s.HintStats(); st.Delivered != 19 {
		t.Fatalf("delivered = %d, want 19", st.Delivered)
	}
}

func TestHintStoreIsBounded(t *testing.T) {
	s := openMem(t, vfs.NewMem(), newFakeClock(), func(c *Config) { c.MaxHintBytes = 200 })
	defer s.Close()
	ctx := context.Background()
	var refused int
	for i := 0; i < 20; i++ {
		o := set(t, s, fmt.Sprintf("k%d", i), "some value bytes", 0)
		if err := s.PutHint(ctx, "n3", []byte(fmt.Sprintf("k%d", i)), o); errors.Is(err, ErrHintLimit) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused == 0 || s.HintStats().Dropped != int64(refused) {
		t.Fatalf("refused %d hints, dropped counter %d", refused, s.HintStats().Dropped)
	}
}

// TestHintHorizon: the horizon is the earliest version time of the pending
// hints (a merge that supersedes a hint's versions moves it), the store's
// now when none is pending, and survives a crash (the age index is
// written with the hint).
func TestHintHorizon(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs, clock, nil)
	ctx := context.Background()
	horizon := func() int64 {
		t.Helper()
		h, err := s.HintHorizon(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	t0 := clock.Now().UnixMilli()
	if h := horizon(); h != t0 {
		t.Fatalf("empty store: horizon %d, want now %d", h, t0)
	}
	a := set(t, s, "a", "1", 0)
	if err := s.PutHint(ctx, "n3", []byte("a"), a); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	b := set(t, s, "b", "1", 0)
	if err := s.PutHint(ctx, "n4", []byte("b"), b); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if h := horizon(); h != t0 {
		t.Fatalf("horizon %d, want the oldest hint's version time %d", h, t0)
	}
	a2 := set(t, s, "a", "2", 0) // supersedes a's version: a's hint now holds t0+2000's only
	if err := s.PutHint(ctx, "n3", []byte("a"), a2); err != nil {
		t.Fatal(err)
	}
	if h := horizon(); h != t0+1000 {
		t.Fatalf("after a's version was superseded: horizon %d, want b's %d", h, t0+1000)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s.Close()
	s = openMem(t, crashed, clock, nil)
	defer s.Close()
	if h := horizon(); h != t0+1000 {
		t.Fatalf("after crash: horizon %d, want %d", h, t0+1000)
	}
	hs, _ := s.Hints("n4", 10)
	if len(hs) != 1 || s.DeleteHint("n4", hs[0].Key, hs[0].Object, false) != nil {
		t.Fatalf("hints for n4: %+v", hs)
	}
	if h := horizon(); h != t0+2000 {
		t.Fatalf("after delivering b: horizon %d, want a's %d", h, t0+2000)
	}
	hs, _ = s.Hints("n3", 10)
	if len(hs) != 1 || s.DeleteHint("n3", hs[0].Key, hs[0].Object, false) != nil {
		t.Fatalf("hints for n3: %+v", hs)
	}
	clock.Advance(time.Second)
	if h, now := horizon(), clock.Now().UnixMilli(); h != now {
		t.Fatalf("no hints: horizon %d, want now %d", h, now)
	}
}

// TestHintHorizonIgnoresHolderSkew is the regression test of the
// resurrected DEL of tests/jepsen's schedule 8679050689893925424: a hint
// holder whose clock ran 17 s ahead (and answered a horizon then) and
// stepped back receives a hint of a version written before a delete. Its
// horizon must be at or before the tombstone's time, on the writer's
// clock, however its own clock ran: the hint is pending and covered by the
// delete. (With the horizon on the holder's never-decreasing clock, the
// hint was stamped 17 s in the future and the tombstone was reaped.)
func TestHintHorizonIgnoresHolderSkew(t *testing.T) {
	ctx := context.Background()
	wclock, hclock := newFakeClock(), newFakeClock()
	writer := openMem(t, vfs.NewMem(), wclock, func(c *Config) { c.NodeID = "n2" })
	defer writer.Close()
	holder := openMem(t, vfs.NewMem(), hclock, func(c *Config) { c.NodeID = "n5" })
	defer holder.Close()

	hclock.Advance(17 * time.Second) // the holder's clock runs ahead
	if h, err := holder.HintHorizon(ctx); err != nil || h != hclock.Now().UnixMilli() {
		t.Fatalf("skewed holder: horizon %d, %v", h, err)
	}
	hclock.Advance(-17 * time.Second) // and steps back
	wclock.Advance(time.Second)
	v := set(t, writer, "k", "v", 0) // the writer's node sends it to the holder as a hint
	if err := holder.PutHint(ctx, "n4", []byte("k"), v); err != nil {
		t.Fatal(err)
	}
	wclock.Advance(time.Second)
	_, del, _, err := writer.Update(ctx, []byte("k"), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Tombstone: true}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	deleted, ok := crdt.TombstoneTime(del, wclock.Now().UnixMilli())
	if !ok {
		t.Fatal("the delete left no tombstone")
	}
	h, err := holder.HintHorizon(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if h > deleted {
		t.Fatalf("horizon %d is after the tombstone (%d) while a hint of a version it covers is pending: the tombstone could be reaped and the hint bring the key back", h, deleted)
	}
}

// TestHintHorizonCountsOnlyValues: a hint of tombstones only cannot bring
// a value back, so it does not hold the horizon; once a merge gives it a
// value, it counts from then on.
func TestHintHorizonCountsOnlyValues(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	ctx := context.Background()
	set(t, s, "k", "v", 0)
	_, del, _, err := s.Update(ctx, []byte("k"), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Tombstone: true}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.PutHint(ctx, "n3", []byte("k"), del); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Second)
	if h, _ := s.HintHorizon(ctx); h != clock.Now().UnixMilli() {
		t.Fatalf("a tombstone-only hint holds the horizon at %d (now %d)", h, clock.Now().UnixMilli())
	}
	clock.Advance(time.Second)
	again := set(t, s, "k", "v2", 0)
	if err := s.PutHint(ctx, "n3", []byte("k"), again); err != nil {
		t.Fatal(err)
	}
	gained := clock.Now().UnixMilli()
	clock.Advance(time.Second)
	if h, _ := s.HintHorizon(ctx); h != gained {
		t.Fatalf("horizon %d, want the time the hint gained a value %d", h, gained)
	}
}
