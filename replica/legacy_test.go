package replica

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestStoredDVVBytesStayReadable: a data directory written before crdt
// (dvv.Object.Encode bytes under the data key, as the store wrote them)
// reads back as the same string object, re-encodes to the same bytes,
// takes a new write on top of its siblings, and its expiring sibling is
// still collected by the sweeper (a tombstone under the same dot, as
// dvv.Expire made it).
func TestStoredDVVBytesStayReadable(t *testing.T) {
	fs := vfs.NewMem()
	clock := newFakeClock()
	now := clock.Now().UnixMilli()
	old := dvv.Object{
		Context: dvv.VV{"n1": 7, "n2": 3},
		Siblings: []dvv.Sibling{
			{Dot: dvv.Dot{Actor: "n1", Counter: 7}, Timestamp: 70, Value: []byte("a")},
			{Dot: dvv.Dot{Actor: "n2", Counter: 3}, Timestamp: 30, Expiry: now + 1000, Value: []byte("b")},
		},
	}
	raw := old.Encode()
	db, err := pebble.Open("/data", &pebble.Options{FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Set(dataKey([]byte("k")), raw, pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s := openMem(t, fs, clock, nil)
	defer s.Close()
	ctx := context.Background()
	o, err := s.Get(ctx, []byte("k"))
	if err != nil {
		t.Fatal(err)
	}
	d, ok := o.DVV()
	if !ok || !dvv.Equal(d, old) || !bytes.Equal(o.Encode(), raw) {
		t.Fatalf("read back %+v (legacy %v), want %+v with the same bytes", d, ok, old)
	}
	if got, ok, err := crdt.Get(o, now); err != nil || !ok || string(got) != "a" {
		t.Fatalf("GET = %q %v %v, want the latest sibling a", got, ok, err)
	}
	// The sweeper collects the expiring sibling (an index entry the old
	// store would have written is missing here: Merge re-indexes it).
	if err := s.Merge(ctx, []byte("k"), o); err != nil {
		t.Fatal(err)
	}
	if err := s.Merge(ctx, []byte("k"), crdt.FromDVV(dvv.Object{Context: dvv.VV{"n3": 1}, Siblings: []dvv.Sibling{{Dot: dvv.Dot{Actor: "n3", Counter: 1}, Timestamp: 1, Expiry: now + 500, Value: []byte("c")}}})); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Second)
	if _, err := s.Sweep(100); err != nil {
		t.Fatal(err)
	}
	o, _ = s.Get(ctx, []byte("k"))
	d, ok = o.DVV()
	if !ok || len(d.Siblings) != 3 || !d.Siblings[1].Tombstone || !d.Siblings[2].Tombstone || d.Siblings[0].Tombstone {
		t.Fatalf("after the sweep: %+v (legacy %v), want b and c tombstones under their dots", d, ok)
	}
	// A write by this node supersedes what it read.
	next := set(t, s, "k", "new", 0)
	d, ok = next.DVV()
	if !ok || len(d.Siblings) != 1 || string(d.Siblings[0].Value) != "new" || d.Siblings[0].Dot.Actor != "n1" || d.Siblings[0].Dot.Counter <= 7 {
		t.Fatalf("after SET: %+v (legacy %v)", d, ok)
	}
}

// TestUpdateRunsMutatorAndAdvancesClock: Update gives the mutator a fresh
// dot above the key's events, returns the delta it merged, moves the clock
// past every dot the delta used (an SADD of k members takes k), and a zero
// delta stores nothing.
func TestUpdateRunsMutatorAndAdvancesClock(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	ctx := context.Background()
	members := [][]byte{[]byte("a"), []byte("b"), []byte("c"), []byte("d"), []byte("e")}
	var first crdt.Stamp
	_, next, delta, err := s.Update(ctx, []byte("s"), func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		first = st
		d, _, err := crdt.SAdd(cur, st, members)
		return d, err
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Dot.Actor != "n1" || first.Now != clock.Now().UnixMilli() || first.Nanos != clock.Now().UnixNano() {
		t.Fatalf("stamp %+v", first)
	}
	if top := crdt.Top(delta, "n1"); top != first.Dot.Counter+uint64(len(members))-1 {
		t.Fatalf("delta's top %d, want %d (one dot per member)", top, first.Dot.Counter+4)
	}
	if got, _ := crdt.SCard(next, first.Now); got != 5 {
		t.Fatalf("SCARD = %d", got)
	}
	// The clock stands still: the next dot must still exceed the last used.
	_, _, _, err = s.Update(ctx, []byte("other"), func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		if st.Dot.Counter <= crdt.Top(delta, "n1") {
			t.Errorf("dot %d reuses a counter of the SADD (top %d)", st.Dot.Counter, crdt.Top(delta, "n1"))
		}
		d, _, err := crdt.IncrBy(cur, st, 1)
		return d, err
	})
	if err != nil {
		t.Fatal(err)
	}
	writes := s.Stats().Writes.Load()
	prev, after, d, err := s.Update(ctx, []byte("s"), func(crdt.Object, crdt.Stamp) (crdt.Object, error) { return crdt.Object{}, nil })
	if err != nil || !d.IsZero() || !crdt.Equal(prev, after) || s.Stats().Writes.Load() != writes {
		t.Fatalf("zero delta: err %v, delta zero %v, unchanged %v, writes %d→%d", err, d.IsZero(), crdt.Equal(prev, after), writes, s.Stats().Writes.Load())
	}
}
