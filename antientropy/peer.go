package antientropy

import (
	"context"
	"fmt"

	"github.com/dynakv/dynakv/peer"
)

// The trees serve the tree side of peer.Replica: peer.Local{Store: store,
// Trees: trees} is the node's own Replica, which peerserver serves to
// other nodes (DKV.TREE).
var _ peer.TreeSource = (*Trees)(nil)

// TreeLevel returns nodes [from, to) at depth of the tree of partition,
// after checking that the asker's shape is this node's: partition must be
// one of the layout's and leaves its leaf count, else the error wraps
// peer.ErrShape and names both shapes. A depth or node range outside the
// tree wraps ErrRange. It implements peer.TreeSource.
func (ts *Trees) TreeLevel(_ context.Context, partition, leaves, depth, from, to int) ([]Hash, error) {
	l := ts.Layout()
	if partition < 0 || partition >= l.Partitions() || leaves != l.Leaves() {
		return nil, fmt.Errorf("%w: asked partition %d with %d leaves, this node has %d partitions of %d leaves",
			peer.ErrShape, partition, leaves, l.Partitions(), l.Leaves())
	}
	return ts.Level(partition, depth, from, to)
}
