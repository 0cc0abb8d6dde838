package replica

import (
	"context"
	"errors"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Replica is one node's copy of the data as coordinators see it. The local
// Store implements it; the cluster adds a network implementation, and tests
// wrap either to drop, delay or cut calls.
type Replica interface {
	// ID names the node this replica lives on.
	ID() string
	// Get returns the key's stored object (the zero Object if absent).
	Get(ctx context.Context, key []byte) (dvv.Object, error)
	// Merge synchronises obj into the key's stored object (dvv.Merge) and
	// returns once the result is stored.
	Merge(ctx context.Context, key []byte, obj dvv.Object) error
}

var (
	// ErrCorrupt reports stored bytes that do not decode.
	ErrCorrupt = errors.New("replica: corrupt stored data")
	// ErrClosed reports use of a closed store.
	ErrClosed = errors.New("replica: store closed")
	// ErrBadContext reports a client context that cannot order a new write
	// (a forged token claiming the largest possible counter).
	ErrBadContext = errors.New("replica: context cannot be extended")
)
