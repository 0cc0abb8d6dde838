package antientropy_test

import (
	"context"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/crdt"
)

// mutate runs fn on n's store as the key's coordinator.
func mutate(t testing.TB, n *node, key string, fn crdt.Mutator) {
	t.Helper()
	if _, _, _, err := n.store.Update(context.Background(), []byte(key), fn); err != nil {
		t.Fatal(err)
	}
}

func members(t testing.TB, n *node, key string) []string {
	t.Helper()
	o, err := n.store.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	ms, err := crdt.Members(o, clock.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range ms {
		out = append(out, string(m))
	}
	slices.Sort(out)
	return out
}

func sadd(ms ...string) crdt.Mutator {
	return func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.SAdd(cur, st, bs(ms))
		return d, err
	}
}

func srem(ms ...string) crdt.Mutator {
	return func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.SRem(cur, st, bs(ms))
		return d, err
	}
}

func bs(ss []string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

// TestExchangeMergesTypedObjects: anti-entropy joins set objects with
// crdt.Merge (the Merkle leaves hash the crdt encoding): a member removed
// on one replica does not come back from the other replica's older state,
// a member added concurrently with its removal survives (add wins), and
// both replicas end equal.
func TestExchangeMergesTypedObjects(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	mutate(t, a, "cart", sadd("x", "y", "w"))
	copyTo(t, a, b, "cart")
	stale, err := b.store.Get(context.Background(), []byte("cart"))
	if err != nil {
		t.Fatal(err)
	}
	mutate(t, a, "cart", srem("x", "w")) // b still holds x and w
	mutate(t, b, "cart", sadd("w", "z")) // concurrent with the SREM of w
	if a.trees.Root(0) == b.trees.Root(0) && a.trees.Root(1) == b.trees.Root(1) && a.trees.Root(2) == b.trees.Root(2) && a.trees.Root(3) == b.trees.Root(3) {
		t.Fatal("trees equal before the exchange")
	}
	exchangeAll(t, a, b)
	want := []string{"w", "y", "z"}
	for _, n := range []*node{a, b} {
		if got := members(t, n, "cart"); !slices.Equal(got, want) {
			t.Fatalf("%s after the exchange: %q, want %q (x removed for good, w re-added wins)", n.id, got, want)
		}
	}
	converged(t, a, b)
	// b's state from before the removal, merged again (a late hint, read
	// repair or transfer of it), brings nothing back.
	for _, n := range []*node{a, b} {
		if err := n.store.Merge(context.Background(), []byte("cart"), stale); err != nil {
			t.Fatal(err)
		}
		if got := members(t, n, "cart"); !slices.Equal(got, want) {
			t.Fatalf("%s after merging the stale state: %q", n.id, got)
		}
	}
}
