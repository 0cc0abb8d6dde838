package node

// TEMPORARY: removed with backend_shim.go when resp moves to crdt.

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

type onePlace string

func (p onePlace) Preference([]byte) []string { return []string{string(p)} }

// TestBackendShimServesStrings: the old dvv Backend over the coordinator
// writes and reads strings as before (SET superseding what it read, GET
// and VGET's token from the dvv view), and a key holding a set answers
// crdt.ErrWrongType instead of being misread.
func TestBackendShimServesStrings(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	s, err := replica.Open(replica.Config{Dir: "/n1", FS: vfs.NewMem(), NodeID: "n1", SweepInterval: -1, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	co, err := coordinator.New(coordinator.DefaultConfig(), s, onePlace("n1"), nil)
	if err != nil {
		t.Fatal(err)
	}
	b := backendShim{co}
	ctx := context.Background()
	set := func(v string) func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Value: []byte(v), Expiry: now.UnixMilli() + 5000}, nil
		}
	}
	if _, _, err := b.Update(ctx, []byte("k"), coordinator.WriteOptions{}, set("a")); err != nil {
		t.Fatal(err)
	}
	prev, next, err := b.Update(ctx, []byte("k"), coordinator.WriteOptions{}, set("b"))
	if err != nil || len(prev.Siblings) != 1 || len(next.Siblings) != 1 || string(next.Siblings[0].Value) != "b" || next.Siblings[0].Expiry != now.UnixMilli()+5000 {
		t.Fatalf("SET over SET: prev %+v next %+v err %v", prev, next, err)
	}
	got, err := b.Get(ctx, []byte("k"), coordinator.ReadOptions{})
	if err != nil || !dvv.Equal(got, next) {
		t.Fatalf("GET = %+v, %v; want %+v", got, err, next)
	}
	noop := errors.New("no-op")
	if _, _, err := b.Update(ctx, []byte("k"), coordinator.WriteOptions{}, func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
		return nil, dvv.Sibling{}, noop
	}); !errors.Is(err, noop) {
		t.Fatalf("an update function's error: %v", err)
	}
	if _, _, err := co.Update(ctx, []byte("s"), coordinator.WriteOptions{}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.SAdd(cur, st, [][]byte{[]byte("m")})
		return d, err
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Get(ctx, []byte("s"), coordinator.ReadOptions{}); !errors.Is(err, crdt.ErrWrongType) {
		t.Fatalf("GET of a set through the shim: %v, want crdt.ErrWrongType", err)
	}
	if _, _, err := b.Update(ctx, []byte("s"), coordinator.WriteOptions{}, set("x")); !errors.Is(err, crdt.ErrWrongType) {
		t.Fatalf("SET of a set through the shim: %v, want crdt.ErrWrongType", err)
	}
	var keys []string
	if _, err := b.Scan(ctx, 0, 100, func(k []byte, _ dvv.Object) bool { keys = append(keys, string(k)); return true }); err != nil || len(keys) != 1 || keys[0] != "k" {
		t.Fatalf("SCAN through the shim: %q %v, want only the string key", keys, err)
	}
}
