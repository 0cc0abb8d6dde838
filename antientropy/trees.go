package antientropy

import (
	"fmt"
	"math/bits"
	"sync"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// Layout places the keys of Q partitions in the leaves of their trees by
// their position in the store's key order (peer.Cursor: slot, then key
// hash). Partition p covers a contiguous run of cursor positions; its
// leaves split that run into Leaves equal parts, so a leaf — and a run of
// consecutive leaves — is one contiguous cursor range that a replica can
// page through (replica.Store.ScanRanges).
type Layout struct {
	partitions, leaves int
	qBits, lBits       int
}

// NewLayout returns the layout of partitions (Q, a power of two dividing
// 16384) trees of leaves leaves each (0: DefaultLeavesFor(partitions)).
func NewLayout(partitions, leaves int) (Layout, error) {
	if err := ring.ValidatePartitions(partitions); err != nil {
		return Layout{}, fmt.Errorf("%w: %w", ErrRange, err)
	}
	if leaves == 0 {
		leaves = DefaultLeavesFor(partitions)
	}
	if err := ValidateLeaves(leaves); err != nil {
		return Layout{}, err
	}
	return Layout{
		partitions: partitions, leaves: leaves,
		qBits: bits.TrailingZeros(uint(partitions)), lBits: bits.TrailingZeros(uint(leaves)),
	}, nil
}

// DefaultLeavesFor returns the default leaves per tree for Q partitions:
// about 256Ki leaves in all (so a node's trees take about 8 MiB), between
// 16 and DefaultLeaves per partition.
func DefaultLeavesFor(partitions int) int {
	return min(DefaultLeaves, max(16, (1<<18)/max(partitions, 1)))
}

// Partitions returns Q.
func (l Layout) Partitions() int { return l.partitions }

// Leaves returns the leaves of each tree.
func (l Layout) Leaves() int { return l.leaves }

// Locate returns the partition and leaf of cursor position c.
func (l Layout) Locate(c peer.Cursor) (partition, leaf int) {
	u := uint64(c)
	return int(u >> (64 - l.qBits)), int((u << l.qBits) >> (64 - l.lBits))
}

// LeafRange returns the cursor range [lo, hi) of leaves [from, to) of
// partition p; hi is 0 when the range runs to the end of the key space.
func (l Layout) LeafRange(p, from, to int) (lo, hi peer.Cursor) {
	return l.leafStart(p, from), l.leafStart(p, to)
}

// NB: the last leaf of the last partition ends at 2^64, which wraps to 0:
// the store reads a 0 upper bound as "to the end".
func (l Layout) leafStart(p, leaf int) peer.Cursor {
	return peer.Cursor(uint64(p)<<(64-l.qBits) + uint64(leaf)<<(64-l.qBits-l.lBits))
}

// Trees holds a Tree per partition, kept current by the store: it is a
// replica.Observer. Trees are allocated on first use. Safe for concurrent
// use: each partition's tree has its own lock.
type Trees struct {
	layout Layout
	parts  []part
}

type part struct {
	mu sync.Mutex
	t  *Tree
}

// NewTrees returns empty trees of layout l.
func NewTrees(l Layout) *Trees {
	return &Trees{layout: l, parts: make([]part, l.partitions)}
}

// Layout returns the trees' layout.
func (ts *Trees) Layout() Layout { return ts.layout }

// tree returns partition p's tree, allocating it; the caller holds its lock.
func (ts *Trees) tree(p int) *Tree {
	pt := &ts.parts[p]
	if pt.t == nil {
		pt.t = New(ts.layout.leaves)
	}
	return pt.t
}

// Observe records a change of key, at cursor position c, from the encoded
// object old to new (nil: absent). It implements replica.Observer.
func (ts *Trees) Observe(c peer.Cursor, key, old, new []byte) {
	p, leaf := ts.layout.Locate(c)
	pt := &ts.parts[p]
	pt.mu.Lock()
	ts.tree(p).UpdateLeafEncoded(leaf, key, old, new)
	pt.mu.Unlock()
}

// Level returns the hashes of nodes [from, to) at depth of partition p's
// tree (see Tree.Level), for a peer's exchange.
func (ts *Trees) Level(p, depth, from, to int) ([]Hash, error) {
	if p < 0 || p >= len(ts.parts) {
		return nil, fmt.Errorf("%w: partition %d of %d", ErrRange, p, len(ts.parts))
	}
	pt := &ts.parts[p]
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return ts.tree(p).Level(depth, from, to)
}

// Snapshot returns a copy of partition p's tree, to Diff without holding
// its lock.
func (ts *Trees) Snapshot(p int) *Tree {
	pt := &ts.parts[p]
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return ts.tree(p).Clone()
}

// Root returns partition p's root hash.
func (ts *Trees) Root(p int) Hash {
	pt := &ts.parts[p]
	pt.mu.Lock()
	defer pt.mu.Unlock()
	return ts.tree(p).Root()
}

// Replayer replays stored objects of a cursor range under the store's
// locks: replica.Store.Replay.
type Replayer interface {
	Replay(from, to peer.Cursor, fn func(c peer.Cursor, key, enc []byte), done func()) error
}

// Rebuild recomputes partition p's tree from the store, for a tree that is
// suspected lost or wrong. Writes wait while it runs (the store holds its
// key locks), and the rebuilt tree replaces the old one before they go on.
func (ts *Trees) Rebuild(p int, store Replayer) error {
	fresh := New(ts.layout.leaves)
	lo, hi := ts.layout.LeafRange(p, 0, ts.layout.leaves)
	return store.Replay(lo, hi, func(c peer.Cursor, key, enc []byte) {
		_, leaf := ts.layout.Locate(c)
		fresh.UpdateLeafEncoded(leaf, key, nil, enc)
	}, func() {
		pt := &ts.parts[p]
		pt.mu.Lock()
		pt.t = fresh
		pt.mu.Unlock()
	})
}
