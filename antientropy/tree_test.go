package antientropy_test

import (
	"errors"
	"testing"

	"github.com/cespare/xxhash/v2"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestOrderIndependence: trees holding the same (key, object) pairs have
// equal hashes at every node, whatever the order and history of the
// updates that built them.
func TestOrderIndependence(t *testing.T) {
	seed := testSeed(t)
	for _, leaves := range []int{1, 2, 16, 1024} {
		r := newRand(seed, uint64(leaves))
		const n = 3000
		final := make([]crdt.Object, n)
		for i := range final {
			if r.IntN(10) > 0 { // some keys end absent
				final[i] = randObject(r)
			}
		}
		a := antientropy.New(leaves)
		for i, o := range final {
			a.Update(key(i), crdt.Object{}, o)
		}
		// b: a shuffled order, through intermediate objects, deletions of
		// the key from the tree and re-insertions; root reads in between
		// so that lazily recomputed nodes get exercised.
		b := antientropy.New(leaves)
		cur := make([]crdt.Object, n)
		for _, i := range r.Perm(n) {
			for range r.IntN(3) {
				o := randObject(r)
				b.Update(key(i), cur[i], o)
				cur[i] = o
				if r.IntN(50) == 0 {
					b.Root()
				}
			}
			b.Update(key(i), cur[i], final[i])
			cur[i] = final[i]
		}
		if a.Root() != b.Root() {
			t.Fatalf("leaves=%d: roots differ", leaves)
		}
		sameLevels(t, a, b)
		// A third tree read at every step (no laziness left to hide behind).
		c := antientropy.New(leaves)
		for _, i := range r.Perm(n) {
			c.Update(key(i), crdt.Object{}, final[i])
			c.Root()
		}
		sameLevels(t, a, c)
	}
}

func TestUpdateNoOpAndRevert(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 0)
	tr := antientropy.New(64)
	objs := make([]crdt.Object, 500)
	for i := range objs {
		objs[i] = randObject(r)
		tr.Update(key(i), crdt.Object{}, objs[i])
	}
	before := allLevels(t, tr)
	check := func(what string) {
		t.Helper()
		after := allLevels(t, tr)
		for d := range before {
			for i := range before[d] {
				if before[d][i] != after[d][i] {
					t.Fatalf("%s: depth %d node %d changed", what, d, i)
				}
			}
		}
	}
	for i := range objs {
		tr.Update(key(i), objs[i], objs[i])
	}
	check("old == new")
	tr.Update(key(9999), crdt.Object{}, crdt.Object{})
	check("absent to absent")
	for i := range objs {
		o := randObject(r)
		tr.Update(key(i), objs[i], o)
		tr.Root()
		tr.Update(key(i), o, objs[i])
	}
	check("update then revert")
	tr.Update(key(9999), crdt.Object{}, objs[0])
	if tr.Root() == before[0][0] {
		t.Fatal("adding a key did not change the root")
	}
	tr.Update(key(9999), objs[0], crdt.Object{})
	check("add then delete from the tree")
}

// TestZeroEncodingIsAbsent: an object that encodes like the zero Object
// (a context of zero counters) contributes nothing, as the zero Object.
func TestZeroEncodingIsAbsent(t *testing.T) {
	a, b := antientropy.New(8), antientropy.New(8)
	b.Update([]byte("k"), crdt.Object{}, crdt.FromDVV(dvv.Object{Context: dvv.VV{"n1": 0}}))
	if a.Root() != b.Root() {
		t.Fatal("zero-encoding object changed the tree")
	}
	l, _ := b.Level(3, 0, 8)
	for i, h := range l {
		if !h.IsZero() {
			t.Fatalf("leaf %d not empty: %v", i, h)
		}
	}
}

// TestEmptyTrees: an empty tree's hashes are the same for every tree of a
// shape, also after Reset, and differ between shapes.
func TestEmptyTrees(t *testing.T) {
	a, b := antientropy.New(0), antientropy.New(antientropy.DefaultLeaves)
	if a.Leaves() != antientropy.DefaultLeaves || a.Depth() != 10 {
		t.Fatalf("New(0): leaves %d depth %d", a.Leaves(), a.Depth())
	}
	empty := a.Root()
	sameLevels(t, a, b)
	a.Update([]byte("k"), crdt.Object{}, object("n1", 1, "v"))
	if a.Root() == empty {
		t.Fatal("root unchanged by a write")
	}
	a.Reset()
	if a.Root() != empty {
		t.Fatal("Reset did not empty the tree")
	}
	sameLevels(t, a, b)
	if antientropy.New(512).Root() == empty {
		t.Fatal("empty trees of different shapes share a root")
	}
}

func TestClone(t *testing.T) {
	a := antientropy.New(16)
	a.Update([]byte("x"), crdt.Object{}, object("n1", 1, "v"))
	b := a.Clone() // clones a stale tree: dirty flags must come along
	sameLevels(t, a, b)
	b.Update([]byte("y"), crdt.Object{}, object("n1", 2, "w"))
	if a.Root() == b.Root() {
		t.Fatal("clone shares state with its original")
	}
	a.Update([]byte("y"), crdt.Object{}, object("n1", 2, "w"))
	sameLevels(t, a, b)
}

func TestLeafOf(t *testing.T) {
	for _, leaves := range []int{1, 2, 1024, 1 << 20} {
		tr := antientropy.New(leaves)
		seen := map[int]bool{}
		for i := range 5000 {
			k := key(i)
			leaf := tr.LeafOf(k)
			if leaf < 0 || leaf >= leaves {
				t.Fatalf("leaves=%d: leaf %d out of range", leaves, leaf)
			}
			lo, hi := tr.LeafHashRange(leaf)
			if h := xxhash.Sum64(k); h < lo || h > hi {
				t.Fatalf("leaves=%d: hash %x outside leaf %d range [%x, %x]", leaves, h, leaf, lo, hi)
			}
			seen[leaf] = true
		}
		// 5000 keys in 1024 buckets leave about 1024·e^-4.9 ≈ 8 empty.
		if want := min(leaves, 1024) * 95 / 100; len(seen) < want {
			t.Fatalf("leaves=%d: 5000 keys hit only %d leaves", leaves, len(seen))
		}
	}
	tr := antientropy.New(4)
	lo, _ := tr.LeafHashRange(0)
	_, hi := tr.LeafHashRange(3)
	if lo != 0 || hi != ^uint64(0) {
		t.Fatalf("leaf ranges do not cover the hash space: [%x, %x]", lo, hi)
	}
}

func TestLevelRange(t *testing.T) {
	tr := antientropy.New(8)
	for _, tc := range []struct {
		depth, from, to int
		ok              bool
	}{
		{0, 0, 1, true},
		{3, 0, 8, true},
		{3, 5, 5, true},
		{2, 1, 3, true},
		{4, 0, 1, false},
		{-1, 0, 1, false},
		{0, 0, 2, false},
		{3, 4, 2, false},
		{3, -1, 2, false},
	} {
		l, err := tr.Level(tc.depth, tc.from, tc.to)
		if tc.ok != (err == nil) {
			t.Errorf("Level(%d, %d, %d): err %v", tc.depth, tc.from, tc.to, err)
		}
		if err != nil && !errors.Is(err, antientropy.ErrRange) {
			t.Errorf("Level(%d, %d, %d): err %v is not ErrRange", tc.depth, tc.from, tc.to, err)
		}
		if err == nil && len(l) != tc.to-tc.from {
			t.Errorf("Level(%d, %d, %d): %d hashes", tc.depth, tc.from, tc.to, len(l))
		}
	}
}

func TestValidateLeaves(t *testing.T) {
	for n, ok := range map[int]bool{1: true, 2: true, 1024: true, antientropy.MaxLeaves: true,
		0: false, -4: false, 3: false, 1000: false, 2 * antientropy.MaxLeaves: false} {
		if err := antientropy.ValidateLeaves(n); (err == nil) != ok {
			t.Errorf("ValidateLeaves(%d) = %v", n, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("New(3) did not panic")
		}
	}()
	antientropy.New(3)
}

func TestHashBinary(t *testing.T) {
	h := antientropy.Hash{Hi: 0x0102030405060708, Lo: 0x090a0b0c0d0e0f10}
	b := h.AppendBinary(nil)
	got, err := antientropy.HashFromBytes(b)
	if err != nil || got != h {
		t.Fatalf("round trip: %v %v", got, err)
	}
	if _, err := antientropy.HashFromBytes(b[:15]); err == nil {
		t.Fatal("short hash accepted")
	}
	if h.String() != "0102030405060708090a0b0c0d0e0f10" {
		t.Fatalf("String: %s", h)
	}
}

// TestUpdateEncoded: updating with encodings is the same as with objects;
// an empty encoding is an absent key.
func TestUpdateEncoded(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 0)
	a, b := antientropy.New(32), antientropy.New(32)
	cur := make([]crdt.Object, 300)
	for step := range 2000 {
		i := r.IntN(len(cur))
		var next crdt.Object
		if r.IntN(4) > 0 {
			next = randObject(r)
		}
		a.Update(key(i), cur[i], next)
		var oldEnc, newEnc []byte
		if !cur[i].IsZero() || r.IntN(2) == 0 {
			oldEnc = cur[i].Encode()
		}
		if !next.IsZero() || r.IntN(2) == 0 {
			newEnc = next.Encode()
		}
		b.UpdateEncoded(key(i), oldEnc, newEnc)
		cur[i] = next
		if step%97 == 0 && a.Root() != b.Root() {
			t.Fatalf("step %d: roots differ", step)
		}
	}
	sameLevels(t, a, b)
}
