package replica

import (
	"errors"

	"github.com/dynakv/dynakv/peer"
)

// Replica is the data side of one node's replica: peer.Store, which Store
// implements.
//
// Deprecated: use peer.Store (or peer.Replica, which adds the Merkle
// trees).
type Replica = peer.Store

// The store is a peer.Store: the local side of every replica operation.
var _ peer.Store = (*Store)(nil)

var (
	// ErrCorrupt reports stored bytes that do not decode.
	ErrCorrupt = errors.New("replica: corrupt stored data")
	// ErrClosed reports use of a closed store.
	ErrClosed = errors.New("replica: store closed")
	// ErrBadContext reports a client context that cannot order a new write
	// (a forged token claiming the largest possible counter). It is
	// peer.ErrBadContext, so code above the store checks it without
	// importing the store.
	ErrBadContext = peer.ErrBadContext
	// ErrFlushed reports an Update of a key of a flushed database epoch
	// (Config.Flushed); it is peer.ErrFlushed.
	ErrFlushed = peer.ErrFlushed
)
