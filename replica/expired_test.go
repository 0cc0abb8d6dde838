package replica

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
)

// TestOnExpired: the sweeper tells OnExpired of each key it tombstones
// because its expiry passed, once, and not of a key deleted before its
// expiry or one without an expiry.
func TestOnExpired(t *testing.T) {
	clock := newFakeClock()
	var got []string
	s := openMem(t, vfs.NewMem(), clock, func(c *Config) {
		c.OnExpired = func(key []byte) { got = append(got, string(key)) }
	})
	defer s.Close()
	write := func(key string, fn crdt.Mutator) {
		t.Helper()
		if _, _, _, err := s.Update(context.Background(), []byte(key), fn); err != nil {
			t.Fatal(err)
		}
	}
	at := s.NowMs() + 1000
	for _, k := range []string{"a", "b", "deleted"} {
		write(k, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.Set(cur, st, []byte("v"), crdt.SetOptions{Expiry: at})
			return d, err
		})
	}
	write("deleted", func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _ := crdt.Del(cur, st)
		return d, nil
	})
	write("keep", func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.Set(cur, st, []byte("v"), crdt.SetOptions{})
		return d, err
	})
	if _, err := s.Sweep(100); err != nil || len(got) != 0 {
		t.Fatalf("before the expiry: %q, %v", got, err)
	}
	clock.Advance(1500 * time.Millisecond)
	for range 3 { // later sweeps find nothing new to report
		if _, err := s.Sweep(100); err != nil {
			t.Fatal(err)
		}
		clock.Advance(2 * time.Minute)
	}
	slices.Sort(got)
	if !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("OnExpired got %q, want [a b] once each", got)
	}
}
