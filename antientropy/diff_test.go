package antientropy_test

import (
	"errors"
	"math/bits"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// pair builds two trees holding objs, then applies change to the second.
func pair(leaves int, objs []crdt.Object) (a, b *antientropy.Tree) {
	a, b = antientropy.New(leaves), antientropy.New(leaves)
	for i, o := range objs {
		a.Update(key(i), crdt.Object{}, o)
		b.Update(key(i), crdt.Object{}, o)
	}
	return a, b
}

// diffBothWays runs Diff from each side (and with a few batch sizes) and
// checks that all agree, returning the leaves and the fetched count of the
// default run.
func diffBothWays(t *testing.T, a, b *antientropy.Tree) ([]int, int) {
	t.Helper()
	leaves, fetched, err := antientropy.Diff(a, b, 0)
	if err != nil {
		t.Fatal(err)
	}
	back, fetchedBack, err := antientropy.Diff(b, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(leaves, back) || fetched != fetchedBack {
		t.Fatalf("Diff not symmetric: %v (%d) vs %v (%d)", leaves, fetched, back, fetchedBack)
	}
	for _, batch := range []int{1, 3, 64} {
		src := &countingSource{src: b}
		l, f, err := antientropy.Diff(a, src, batch)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(l, leaves) || f != fetched || src.hashes != f {
			t.Fatalf("batch %d: %v fetched %d (source saw %d), want %v fetched %d", batch, l, f, src.hashes, leaves, fetched)
		}
	}
	return leaves, fetched
}

// TestOneDifferingKey: any difference in one key's object (or its absence)
// changes the root, and Diff finds exactly that key's leaf.
func TestOneDifferingKey(t *testing.T) {
	objs := make([]crdt.Object, 2000)
	for i := range objs {
		objs[i] = object("n1", uint64(i+1), "v")
	}
	const k = 1234
	base := objs[k]
	with := func(f func(s *dvv.Sibling)) crdt.Object {
		d := dvv.Object{Context: asDVV(base).Context, Siblings: slices.Clone(asDVV(base).Siblings)}
		f(&d.Siblings[0])
		return crdt.FromDVV(d)
	}
	for _, tc := range []struct {
		name string
		obj  crdt.Object
	}{
		{"value", with(func(s *dvv.Sibling) { s.Value = []byte("w") })},
		{"tombstone", with(func(s *dvv.Sibling) { s.Tombstone, s.Value = true, nil })},
		{"expiry", with(func(s *dvv.Sibling) { s.Expiry = 42 })},
		{"timestamp", with(func(s *dvv.Sibling) { s.Timestamp++ })},
		{"context", crdt.FromDVV(dvv.Object{Context: dvv.VV{"n1": k + 1, "n2": 7}, Siblings: asDVV(base).Siblings})},
		{"sibling added", crdt.Merge(base, object("n2", 1, "v"))},
		{"missing", crdt.Object{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, leaves := range []int{1, 2, 1024, 1 << 16} {
				a, b := pair(leaves, objs)
				b.Update(key(k), base, tc.obj)
				if a.Root() == b.Root() {
					t.Fatalf("leaves=%d: roots equal", leaves)
				}
				got, fetched := diffBothWays(t, a, b)
				if want := []int{a.LeafOf(key(k))}; !slices.Equal(got, want) {
					t.Fatalf("leaves=%d: Diff = %v, want %v", leaves, got, want)
				}
				// One path: the root, then both children at each depth.
				if want := 1 + 2*a.Depth(); fetched != want {
					t.Fatalf("leaves=%d: fetched %d, want %d", leaves, fetched, want)
				}
			}
		})
	}
}

// TestConverged: equal trees cost one fetched hash and report nothing.
func TestConverged(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 0)
	objs := make([]crdt.Object, 5000)
	for i := range objs {
		objs[i] = randObject(r)
	}
	for _, leaves := range []int{1, 1024} {
		a, b := pair(leaves, objs)
		src := &countingSource{src: b}
		got, fetched, err := antientropy.Diff(a, src, 0)
		if err != nil || got != nil || fetched != 1 || src.calls != 1 {
			t.Fatalf("leaves=%d: Diff = %v, fetched %d, calls %d, err %v", leaves, got, fetched, src.calls, err)
		}
	}
	got, fetched, err := antientropy.Diff(antientropy.New(64), antientropy.New(64), 0)
	if err != nil || got != nil || fetched != 1 {
		t.Fatalf("empty trees: Diff = %v, fetched %d, err %v", got, fetched, err)
	}
}

// TestKOf100k: k random keys of 100,000 differ; Diff returns exactly their
// leaves and fetches far fewer hashes than the tree holds.
func TestKOf100k(t *testing.T) {
	seed := testSeed(t)
	const n, leaves = 100_000, 1024
	r := newRand(seed, 0)
	objs := make([]crdt.Object, n)
	for i := range objs {
		objs[i] = randObject(r)
	}
	a := antientropy.New(leaves)
	for i, o := range objs {
		a.Update(key(i), crdt.Object{}, o)
	}
	depth := bits.TrailingZeros(leaves)
	total := 2*leaves - 1
	for _, k := range []int{1, 10, 100} {
		b := antientropy.New(leaves) // built independently, in another order
		for _, i := range r.Perm(n) {
			b.Update(key(i), crdt.Object{}, objs[i])
		}
		want := map[int]bool{}
		for _, i := range r.Perm(n)[:k] {
			o := objs[i]
			switch r.IntN(3) {
			case 0:
				o = crdt.Object{} // missing on b
			case 1:
				d := asDVV(o)
				c, _ := dvv.NextCounter(d, nil, "n9")
				o = crdt.FromDVV(dvv.Update(d, d.Join(), dvv.Sibling{Dot: dvv.Dot{Actor: "n9", Counter: c}, Tombstone: true}))
			default:
				o = randObject(r)
				if crdt.Equal(o, objs[i]) {
					o = crdt.Object{}
				}
			}
			b.Update(key(i), objs[i], o)
			want[a.LeafOf(key(i))] = true
		}
		src := &countingSource{src: b}
		got, fetched, err := antientropy.Diff(a, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		wantLeaves := make([]int, 0, len(want))
		for l := range want {
			wantLeaves = append(wantLeaves, l)
		}
		slices.Sort(wantLeaves)
		if !slices.Equal(got, wantLeaves) {
			t.Fatalf("k=%d: Diff = %v, want %v", k, got, wantLeaves)
		}
		bound := k*depth*2*2 + 1
		t.Logf("k=%d of %d keys, %d leaves: %d differing leaves, fetched %d of %d nodes in %d calls (bound %d)",
			k, n, leaves, len(got), fetched, total, src.calls, bound)
		if fetched > bound || fetched > total {
			t.Fatalf("k=%d: fetched %d hashes, bound %d", k, fetched, bound)
		}
		if k <= 10 && fetched*5 > total {
			t.Fatalf("k=%d: fetched %d of %d nodes", k, fetched, total)
		}
	}
}

type badSource struct {
	short bool
	err   error
	tree  *antientropy.Tree
}

func (s badSource) Level(depth, from, to int) ([]antientropy.Hash, error) {
	if s.err != nil && depth > 0 {
		return nil, s.err
	}
	h, err := s.tree.Level(depth, from, to)
	if s.short && depth > 0 {
		h = h[:len(h)-1]
	}
	return h, err
}

func TestDiffErrors(t *testing.T) {
	a := antientropy.New(16)
	b := antientropy.New(16)
	b.Update([]byte("k"), crdt.Object{}, object("n1", 1, "v"))
	errBoom := errors.New("boom")
	if _, _, err := antientropy.Diff(a, badSource{err: errBoom, tree: b}, 0); !errors.Is(err, errBoom) {
		t.Errorf("source error: %v", err)
	}
	if _, _, err := antientropy.Diff(a, badSource{short: true, tree: b}, 0); !errors.Is(err, antientropy.ErrShape) {
		t.Errorf("short level: %v", err)
	}
	// A smaller remote tree fails with ErrRange when Diff goes past its leaves.
	small := antientropy.New(4)
	small.Update([]byte("k"), crdt.Object{}, object("n1", 1, "v"))
	if _, _, err := antientropy.Diff(a, small, 0); !errors.Is(err, antientropy.ErrRange) {
		t.Errorf("smaller remote: %v", err)
	}
}
