package antientropy

import (
	"context"
	"fmt"

	"github.com/dynakv/dynakv/replica"
)

// CmdTree is the peer command that serves tree levels:
// DKV.TREE partition leaves depth from to → one bulk string of the nodes'
// hashes, 16 bytes each (Hash.AppendBinary).
const CmdTree = "DKV.TREE"

// RemotePeer is the network Peer: another node's trees and store reached
// through its replica.Remote.
type RemotePeer struct{ *replica.Remote }

// TreeLevel asks the peer for nodes [from, to) at depth of its tree of
// partition.
func (r RemotePeer) TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]Hash, error) {
	s, err := r.Do(ctx, CmdTree, partition, leaves, depth, from, to).Text()
	if err != nil {
		return nil, fmt.Errorf("%w: %s tree: %w", ErrPeer, r.ID(), err)
	}
	if len(s) != 16*(to-from) {
		return nil, fmt.Errorf("%w: %s tree: %d bytes for %d hashes", ErrShape, r.ID(), len(s), to-from)
	}
	out := make([]Hash, to-from)
	for i := range out {
		out[i], _ = HashFromBytes([]byte(s[16*i : 16*i+16])) // NB: length checked above
	}
	return out, nil
}
