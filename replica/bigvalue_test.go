package replica

import (
	"bytes"
	"context"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
)

// TestBigObjectWrite: objects of bigBatch bytes and more are encoded
// straight into a batch sized up front (put); they read back identical,
// with and without an expiry (whose event entry follows the object's
// record in the batch); merging the stored object again writes nothing;
// and a small write after them still works (pooled batches are not left
// big).
func TestBigObjectWrite(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	ctx := context.Background()
	for i, n := range []int{bigBatch - 100, bigBatch, 3 * bigBatch} {
		v := bytes.Repeat([]byte{byte('a' + i)}, n)
		exp := int64(0)
		if i == 1 {
			exp = clock.Now().UnixMilli() + 3_600_000
		}
		key := []byte{'k', byte('0' + i)}
		next := set(t, s, string(key), string(v), exp)
		got, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got.Encode(), next.Encode()) {
			t.Fatalf("%d bytes: stored object differs from the one written", n)
		}
		if val, ok, err := crdt.Get(got, clock.Now().UnixMilli()); err != nil || !ok || !bytes.Equal(val, v) {
			t.Fatalf("%d bytes: read back %d bytes (found %v, %v)", n, len(val), ok, err)
		}
		writes := s.Stats().Writes.Load()
		if err := s.Merge(ctx, key, got); err != nil {
			t.Fatal(err)
		}
		if w := s.Stats().Writes.Load(); w != writes {
			t.Fatalf("%d bytes: merging the stored object again wrote it (%d writes, was %d)", n, w, writes)
		}
		set(t, s, "small", "x", 0)
	}
}
