package replica

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// recorder is an Observer that keeps the last encoding seen per key.
type recorder struct{ keys map[string]bool }

func (r *recorder) Observe(_ Cursor, key, _, new []byte) { r.keys[string(key)] = new != nil }

// TestFlushedEpochDropRules: once database 0's epoch moves from 0 to 1,
// the store refuses Update of epoch-0 keys (ErrFlushed), drops them when
// they arrive by Merge, MergeMany (read repair, anti-entropy, transfer)
// or as hints, keeps storing keys of the current epoch and of other
// databases, and Purge deletes the epoch-0 keys it already held (telling
// the observer) and the hints of them it held for others, and nothing
// else.
func TestFlushedEpochDropRules(t *testing.T) {
	var epoch0 atomic.Uint64 // database 0's current epoch
	flushed := func(k []byte) bool {
		db, e, _, ok := ring.ParseStoredKey(k)
		return ok && db == 0 && e < epoch0.Load()
	}
	obs := &recorder{keys: map[string]bool{}}
	s := openMem(t, vfs.NewMem(), newFakeClock(), func(c *Config) { c.Flushed = flushed; c.Observer = obs })
	defer s.Close()
	ctx := context.Background()
	old := ring.StoredKey(0, 0, []byte("a"))
	oldB := ring.StoredKey(0, 0, []byte("b"))
	db1 := ring.StoredKey(1, 0, []byte("a"))
	v := set(t, s, string(old), "before", 0)
	set(t, s, string(oldB), "before", 0)
	set(t, s, string(db1), "other db", 0)
	if err := s.PutHint(ctx, "n3", old, v); err != nil { // pending for n3 at the flush
		t.Fatal(err)
	}
	if err := s.PutHint(ctx, "n3", db1, v); err != nil {
		t.Fatal(err)
	}

	epoch0.Store(1) // FLUSHDB on database 0
	cur := ring.StoredKey(0, 1, []byte("a"))

	late := crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: []byte("late")}, nil
	})
	if _, _, _, err := s.Update(ctx, old, late); !errors.Is(err, ErrFlushed) {
		t.Errorf("Update of a flushed key: %v, want ErrFlushed", err)
	}
	if err := s.Merge(ctx, []byte("c"), v); err != nil {
		t.Fatalf("Merge of a flushed key: %v, want a silent drop", err)
	}
	if err := s.MergeMany(ctx, []Entry{{Key: []byte("d"), Object: v}, {Key: cur, Object: v}}); err != nil {
		t.Fatalf("MergeMany: %v", err)
	}
	if err := s.PutHint(ctx, "n2", []byte("e"), v); err != nil {
		t.Fatalf("PutHint of a flushed key: %v", err)
	}
	for _, k := range []string{"c", "d", "e"} {
		if o := get(t, s, k); !o.IsZero() {
			t.Errorf("flushed key %q arriving after the flush was stored", k)
		}
	}
	if hs, _ := s.Hints("n2", 10); len(hs) != 0 {
		t.Errorf("a hint of a flushed key was kept: %d", len(hs))
	}
	if o := get(t, s, string(cur)); o.IsZero() {
		t.Errorf("a key of the current epoch was dropped")
	}
	if got := s.Stats().FlushedDrops.Load(); got != 3 {
		t.Errorf("FlushedDrops = %d, want 3", got)
	}

	n, err := s.Purge()
	if err != nil || n != 2 {
		t.Fatalf("Purge = %d, %v; want the 2 epoch-0 keys", n, err)
	}
	for _, k := range [][]byte{old, oldB} {
		if o := get(t, s, string(k)); !o.IsZero() {
			t.Errorf("Purge left %q", k)
		}
		if obs.keys[string(k)] {
			t.Errorf("the observer still holds %q", k)
		}
	}
	if get(t, s, string(db1)).IsZero() || get(t, s, string(cur)).IsZero() {
		t.Errorf("Purge deleted a key of another database or of the current epoch")
	}
	if n, _ := s.Purge(); n != 0 {
		t.Errorf("a second Purge deleted %d keys", n)
	}
	hs, err := s.Hints("n3", 10)
	if err != nil || len(hs) != 1 || string(hs[0].Key) != string(db1) {
		t.Errorf("hints for n3 after Purge: %v %v, want only the db 1 key's", hs, err)
	}
	if d := s.HintStats().Dropped; d != 1 {
		t.Errorf("hints dropped by Purge: %d, want 1", d)
	}
}
