package replica

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// TestMergeManyAndDropSlots: a batch merges like single merges (a newer
// local version is kept beside it); DropSlots deletes exactly the keys of
// its slots, expiring ones included, and writes no tombstones.
func TestMergeManyAndDropSlots(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	src := openMem(t, vfs.NewMem(), clock, nil)
	obs := &dropObserver{}
	dst := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.NodeID = "n2"; c.Observer = obs })
	var entries []Entry
	for i := range 200 {
		k := fmt.Sprintf("k%d", i)
		var exp int64
		if i%3 == 0 {
			exp = clock.Now().Add(3600e9).UnixMilli()
		}
		entries = append(entries, Entry{Key: []byte(k), Object: set(t, src, k, "v"+k, exp)})
	}
	local := set(t, dst, "k1", "newer", 0)
	if err := dst.MergeMany(ctx, entries); err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		want := e.Object
		if string(e.Key) == "k1" {
			want = crdt.Merge(local, e.Object)
		}
		if got := get(t, dst, string(e.Key)); !crdt.Equal(got, want) {
			t.Fatalf("%s after MergeMany = %+v, want %+v", e.Key, got, want)
		}
	}
	if err := dst.MergeMany(ctx, []Entry{{Key: []byte("bad"), Object: crdt.FromDVV(dvv.Object{Siblings: []dvv.Sibling{{}}})}}); err == nil {
		t.Error("MergeMany took an invalid object")
	}

	// Drop the keys of partition 3 of 16.
	from, to := ring.SlotRange(3, 16)
	inRange := 0
	for _, e := range entries {
		if s := int(ring.Slot(e.Key)); from <= s && s < to {
			inRange++
		}
	}
	if has, err := dst.HasSlots(from, to); err != nil || has != (inRange > 0) {
		t.Fatalf("HasSlots = %v, %v; %d keys in range", has, err, inRange)
	}
	n, err := dst.DropSlots(from, to)
	if err != nil || n != inRange {
		t.Fatalf("DropSlots = %d, %v; want %d", n, err, inRange)
	}
	if has, _ := dst.HasSlots(from, to); has {
		t.Error("keys left after DropSlots")
	}
	if obs.removed != inRange {
		t.Errorf("the observer saw %d keys removed, want %d", obs.removed, inRange)
	}
	for _, e := range entries {
		got := get(t, dst, string(e.Key))
		if s := int(ring.Slot(e.Key)); from <= s && s < to {
			if !got.IsZero() {
				t.Errorf("%s still there (a tombstone?) after DropSlots: %+v", e.Key, got)
			}
		} else if got.IsZero() {
			t.Errorf("%s outside the range dropped", e.Key)
		}
	}
	if inRange == 0 {
		t.Fatal("no key in the dropped range: the test proves nothing")
	}
}

// dropObserver counts the keys the store reports removed.
type dropObserver struct{ removed int }

func (o *dropObserver) Observe(_ Cursor, _, old, new []byte) {
	if old != nil && new == nil {
		o.removed++
	}
}
