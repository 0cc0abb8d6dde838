package replica

import (
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestHintsForMergesEveryTargetsHintOfKey: HintsFor returns the merge of
// the hints held for exactly that key, whatever their target, and nothing
// for a key that is only a prefix of, or has as prefix, a hinted key.
func TestHintsForMergesEveryTargetsHintOfKey(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	ctx := context.Background()
	a := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 1}, Timestamp: 1, Value: []byte("a")}))
	b := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n9", Counter: 1}, Timestamp: 2, Value: []byte("b")}))
	other := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 2}, Timestamp: 3, Value: []byte("o")}))
	for _, h := range []struct {
		target, key string
		obj         crdt.Object
	}{
		{"n3", "k1", a},
		{"node-four", "k1", b}, // another target, with a longer ID
		{"n3", "k10", other},
		{"n2", "k", other},
		{"n3", "k2", other},
	} {
		if err := s.PutHint(ctx, h.target, []byte(h.key), h.obj); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.HintsFor(ctx, []byte("k1"))
	if err != nil || !crdt.Equal(got, crdt.Merge(a, b)) {
		t.Errorf("HintsFor(k1) = %+v, %v; want the merge of both targets' hints", got, err)
	}
	for _, k := range []string{"absent", "k0", "k1\x00", ""} {
		if got, err := s.HintsFor(ctx, []byte(k)); err != nil || !got.IsZero() {
			t.Errorf("HintsFor(%q) = %+v, %v; want nothing", k, got, err)
		}
	}
	if got, err := s.HintsFor(ctx, []byte("k")); err != nil || !crdt.Equal(got, other) {
		t.Errorf("HintsFor(k) = %+v, %v", got, err)
	}
}
