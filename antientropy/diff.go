package antientropy

import (
	"fmt"

	"github.com/dynakv/dynakv/peer"
)

// DefaultBatch is the most hashes Diff asks a LevelSource for in one call
// when its batch argument is not positive.
const DefaultBatch = 512

// ErrShape reports a remote answer that does not fit the local tree: a level
// of the wrong length. Both replicas of a partition must use the same
// number of leaves.
var ErrShape = peer.ErrShape

// LevelSource gives the hashes of nodes [from, to) at a depth of a remote
// tree with the same shape as the local one. *Tree implements it; the
// network implementation asks a peer replica.
type LevelSource interface {
	Level(depth, from, to int) ([]Hash, error)
}

// Diff compares local with remote top-down and returns, in increasing
// order, the leaves whose hashes differ, and how many remote hashes it
// fetched. It fetches the remote root, then at each depth only the children
// of the nodes that differed at the depth above, one call per contiguous run
// of such children, at most batch hashes per call (batch ≤ 0 means
// DefaultBatch). Converged trees cost one fetched hash.
//
// Diff reads local (recomputing stale inner nodes), so it needs the same
// lock as Update. The remote may change between calls; Diff then reports
// the leaves that differed at the moments it looked, which the next
// exchange corrects.
func Diff(local *Tree, remote LevelSource, batch int) (leaves []int, fetched int, err error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	root, err := remote.Level(0, 0, 1)
	if err != nil {
		return nil, 0, fmt.Errorf("antientropy: fetch root: %w", err)
	}
	if len(root) != 1 {
		return nil, 0, fmt.Errorf("%w: root level of %d hashes", ErrShape, len(root))
	}
	fetched = 1
	if root[0] == local.Root() {
		return nil, fetched, nil
	}
	differ := []int{0} // differing nodes at the current depth, increasing
	var next []int
	var got, mine []Hash
	for depth := 1; depth <= local.depth; depth++ {
		next = next[:0]
		// Runs of children: a differing node i has children 2i, 2i+1; runs
		// of consecutive differing parents give one contiguous range.
		for k := 0; k < len(differ); {
			j := k + 1
			for j < len(differ) && differ[j] == differ[j-1]+1 {
				j++
			}
			from, to := 2*differ[k], 2*differ[j-1]+2
			for lo := from; lo < to; lo += batch {
				hi := min(lo+batch, to)
				got, err = remote.Level(depth, lo, hi)
				if err != nil {
					return nil, fetched, fmt.Errorf("antientropy: fetch depth %d nodes [%d, %d): %w", depth, lo, hi, err)
				}
				if len(got) != hi-lo {
					return nil, fetched, fmt.Errorf("%w: depth %d nodes [%d, %d): got %d hashes", ErrShape, depth, lo, hi, len(got))
				}
				fetched += len(got)
				mine, _ = local.AppendLevel(mine[:0], depth, lo, hi) // NB: in range by construction
				for i := range got {
					if got[i] != mine[i] {
						next = append(next, lo+i)
					}
				}
			}
			k = j
		}
		differ, next = next, differ
	}
	return differ, fetched, nil
}
