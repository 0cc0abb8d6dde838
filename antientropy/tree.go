package antientropy

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/cespare/xxhash/v2"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// DefaultLeaves is the number of buckets of a tree built with New(0).
const DefaultLeaves = 1024

// MaxLeaves bounds the tree size (a tree holds 2·leaves hashes of 16 bytes).
const MaxLeaves = 1 << 20

// ErrRange reports a Level request outside the tree's shape: a depth or
// node range that does not exist. A peer asking for one runs with a
// different number of leaves, or is buggy.
var ErrRange = errors.New("antientropy: level range out of bounds")

// Hash is a 128-bit node hash, as two 64-bit lanes (peer.Hash, the form
// it travels in). The zero Hash is the hash of an empty bucket.
type Hash = peer.Hash

// HashFromBytes decodes the 16-byte form written by Hash.AppendBinary.
func HashFromBytes(b []byte) (Hash, error) { return peer.HashFromBytes(b) }

func addHash(h, o Hash) Hash { return Hash{Hi: h.Hi + o.Hi, Lo: h.Lo + o.Lo} }
func subHash(h, o Hash) Hash { return Hash{Hi: h.Hi - o.Hi, Lo: h.Lo - o.Lo} }

// Seeds of the two xxhash64 lanes. Key digests and inner nodes use
// different seed pairs so that a leaf value can never be mistaken for an
// inner one.
const (
	seedKeyHi   = 0x9e3779b97f4a7c15
	seedKeyLo   = 0xc2b2ae3d27d4eb4f
	seedInnerHi = 0x165667b19e3779f9
	seedInnerLo = 0x27d4eb2f165667c5
)

// zeroEncoding is the canonical encoding of an absent key.
var zeroEncoding = crdt.Object{}.Encode()

// Tree is the Merkle tree of one partition: Leaves() buckets, each holding
// the sum of the digests of its (key, object) pairs, under a complete binary
// tree of inner nodes. The zero Tree is not usable; call New.
//
// A Tree is not safe for concurrent use, not even for concurrent reads
// (reads recompute dirty inner nodes). Callers serialise every call with
// their own lock.
type Tree struct {
	depth  int    // log2(leaves)
	nodes  []Hash // heap order: nodes[1] is the root, children of n are 2n, 2n+1; leaves at [leaves, 2·leaves)
	dirty  []bool // dirty[n] for inner nodes n in [1, leaves): nodes[n] is stale
	encOld []byte // scratch encodings for Update
	encNew []byte
	d1     *xxhash.Digest
	d2     *xxhash.Digest
}

// New returns an empty tree of the given number of leaves, a power of two
// in [1, MaxLeaves]; 0 means DefaultLeaves. It panics on any other value,
// which is a configuration bug (check with ValidateLeaves first).
func New(leaves int) *Tree {
	if leaves == 0 {
		leaves = DefaultLeaves
	}
	if err := ValidateLeaves(leaves); err != nil {
		panic(err)
	}
	t := &Tree{
		depth: bits.TrailingZeros(uint(leaves)),
		nodes: make([]Hash, 2*leaves),
		dirty: make([]bool, leaves),
		d1:    xxhash.NewWithSeed(seedKeyHi),
		d2:    xxhash.NewWithSeed(seedKeyLo),
	}
	t.Reset()
	return t
}

// ValidateLeaves reports whether n is a valid number of leaves.
func ValidateLeaves(n int) error {
	if n < 1 || n > MaxLeaves || n&(n-1) != 0 {
		return fmt.Errorf("antientropy: leaves %d is not a power of two in [1, %d]", n, MaxLeaves)
	}
	return nil
}

// Reset empties the tree.
func (t *Tree) Reset() {
	clear(t.nodes)
	// NB: an empty inner node is not the zero Hash (it hashes its children),
	// so every inner node starts dirty.
	for n := range t.dirty {
		t.dirty[n] = n > 0
	}
}

// Leaves returns the number of leaves (buckets).
func (t *Tree) Leaves() int { return 1 << t.depth }

// Depth returns the depth of the leaves: the root is at depth 0, the leaves
// at depth Depth(), and depth d has 2^d nodes.
func (t *Tree) Depth() int { return t.depth }

// LeafOf returns the bucket of key: the top log2(Leaves()) bits of
// xxhash64(key). That is the hash the replica store puts after the slot in
// its data keys, so within one slot a leaf's keys are the contiguous hash
// range LeafHashRange(leaf).
func (t *Tree) LeafOf(key []byte) int { return leafOf(xxhash.Sum64(key), t.depth) }

func leafOf(h uint64, depth int) int {
	if depth == 0 {
		return 0
	}
	return int(h >> (64 - depth))
}

// LeafHashRange returns the inclusive range [lo, hi] of xxhash64(key) values
// whose keys fall in leaf.
func (t *Tree) LeafHashRange(leaf int) (lo, hi uint64) {
	if t.depth == 0 {
		return 0, ^uint64(0)
	}
	shift := 64 - t.depth
	lo = uint64(leaf) << shift
	return lo, lo | (1<<shift - 1)
}

// Update records that key's object changed from old to new; a zero Object
// (or any object with the zero encoding) is an absent key. old must be the
// object last recorded for key (zero if none): the tree cannot check that,
// and a wrong old leaves a bucket that never matches a peer's until Reset
// and a rebuild. Update costs two encodings, two digests and O(1)
// amortised inner-node bookkeeping.
func (t *Tree) Update(key []byte, old, new crdt.Object) {
	t.encOld = old.AppendEncode(t.encOld[:0])
	t.encNew = new.AppendEncode(t.encNew[:0])
	t.UpdateEncoded(key, t.encOld, t.encNew)
}

// UpdateEncoded is Update given the objects' canonical encodings (as
// crdt.Object.Encode returns them; empty means absent), for a caller that
// already holds them, such as the store that writes them: it saves the
// encoding, which dominates the cost of Update. The bytes are not decoded
// or checked; a non-canonical encoding of an object makes its bucket differ
// from a peer's holding the same object.
func (t *Tree) UpdateEncoded(key, old, new []byte) {
	t.UpdateLeafEncoded(t.LeafOf(key), key, old, new)
}

// UpdateLeafEncoded is UpdateEncoded with the key's leaf chosen by the
// caller instead of LeafOf: Trees places keys by their position in the
// store's key order, so that a leaf is one contiguous key range. A key must
// always be given the same leaf. It panics if leaf is out of range.
func (t *Tree) UpdateLeafEncoded(leaf int, key, old, new []byte) {
	if bytes.Equal(old, new) {
		return
	}
	if leaf < 0 || leaf >= t.Leaves() {
		panic(fmt.Sprintf("antientropy: leaf %d of a tree of %d leaves", leaf, t.Leaves()))
	}
	n := t.Leaves() + leaf
	h := t.nodes[n]
	if d, ok := t.digest(key, old); ok {
		h = subHash(h, d)
	}
	if d, ok := t.digest(key, new); ok {
		h = addHash(h, d)
	}
	t.nodes[n] = h
	// NB: a dirty node's ancestors are all dirty, so the walk stops at the
	// first dirty one: amortised O(1) per Update.
	for n /= 2; n >= 1 && !t.dirty[n]; n /= 2 {
		t.dirty[n] = true
	}
}

// digest returns the 128-bit digest of a key and its encoded object, and
// false if the object is absent. The input is
// uvarint(len(key)) ‖ key ‖ enc, so key and object cannot run into each
// other.
func (t *Tree) digest(key, enc []byte) (Hash, bool) {
	if len(enc) == 0 || bytes.Equal(enc, zeroEncoding) {
		return Hash{}, false
	}
	var n [binary.MaxVarintLen64]byte
	prefix := n[:binary.PutUvarint(n[:], uint64(len(key)))]
	t.d1.ResetWithSeed(seedKeyHi)
	t.d1.Write(prefix)
	t.d1.Write(key)
	t.d1.Write(enc)
	t.d2.ResetWithSeed(seedKeyLo)
	t.d2.Write(prefix)
	t.d2.Write(key)
	t.d2.Write(enc)
	return Hash{Hi: t.d1.Sum64(), Lo: t.d2.Sum64()}, true
}

// node returns the hash of node n, recomputing stale inner nodes below it.
func (t *Tree) node(n int) Hash {
	if n < len(t.dirty) && t.dirty[n] {
		l, r := t.node(2*n), t.node(2*n+1)
		var b [32]byte
		binary.BigEndian.PutUint64(b[0:], l.Hi)
		binary.BigEndian.PutUint64(b[8:], l.Lo)
		binary.BigEndian.PutUint64(b[16:], r.Hi)
		binary.BigEndian.PutUint64(b[24:], r.Lo)
		t.d1.ResetWithSeed(seedInnerHi)
		t.d1.Write(b[:])
		t.d2.ResetWithSeed(seedInnerLo)
		t.d2.Write(b[:])
		t.nodes[n] = Hash{Hi: t.d1.Sum64(), Lo: t.d2.Sum64()}
		t.dirty[n] = false
	}
	return t.nodes[n]
}

// Root returns the root hash.
func (t *Tree) Root() Hash { return t.node(1) }

// Level returns the hashes of nodes [from, to) at depth (node i of depth d
// covers leaves [i·2^(Depth()-d), (i+1)·2^(Depth()-d))). It returns an
// error wrapping ErrRange for a depth or range outside the tree, so it can
// answer a peer's request directly; *Tree is a LevelSource.
func (t *Tree) Level(depth, from, to int) ([]Hash, error) {
	return t.AppendLevel(nil, depth, from, to)
}

// AppendLevel is Level appending to dst.
func (t *Tree) AppendLevel(dst []Hash, depth, from, to int) ([]Hash, error) {
	if depth < 0 || depth > t.depth || from < 0 || from > to || to > 1<<depth {
		return dst, fmt.Errorf("%w: depth %d nodes [%d, %d) in a tree of depth %d", ErrRange, depth, from, to, t.depth)
	}
	base := 1 << depth
	for i := from; i < to; i++ {
		dst = append(dst, t.node(base+i))
	}
	return dst, nil
}

// Clone returns an independent copy of t. An exchange can clone a tree
// under the store's lock and run Diff on the copy without holding it.
func (t *Tree) Clone() *Tree {
	return &Tree{
		depth: t.depth,
		nodes: append([]Hash(nil), t.nodes...),
		dirty: append([]bool(nil), t.dirty...),
		d1:    xxhash.NewWithSeed(seedKeyHi),
		d2:    xxhash.NewWithSeed(seedKeyLo),
	}
}
