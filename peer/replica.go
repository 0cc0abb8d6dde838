package peer

import (
	"context"
	"errors"

	"github.com/dynakv/dynakv/crdt"
)

// Store is the data side of a replica: every Replica operation but
// TreeLevel. The local replica.Store implements it.
type Store interface {
	// ID names the node this replica lives on.
	ID() string
	// Get returns the key's stored object (the zero Object if absent).
	Get(ctx context.Context, key []byte) (crdt.Object, error)
	// Merge synchronises obj into the key's stored object (crdt.Merge) and
	// returns once the result is durable.
	Merge(ctx context.Context, key []byte, obj crdt.Object) error
	// MergeMany merges each entry into the stored object of its key,
	// durably, sharing fsyncs; an empty batch is a no-op.
	MergeMany(ctx context.Context, entries []Entry) error
	// PutHint keeps obj for node target, to hand it to target once it is
	// back (Dynamo §4.6 hinted handoff), merged into any pending hint of
	// key for target; durable when it returns.
	PutHint(ctx context.Context, target string, key []byte, obj crdt.Object) error
	// HintsFor returns the merge of the hints the node holds for key, for
	// every target (the zero Object if none): a degraded read asks a key's
	// fallbacks for what they hold for its replicas (Dynamo §4.6).
	HintsFor(ctx context.Context, key []byte) (crdt.Object, error)
	// HintHorizon returns the time (Unix ms) of the earliest version,
	// on its writer's dot clock (crdt.EarliestDot), among the node's
	// pending hints that hold a value, or the node's current time if
	// that is earlier: no older version of any key can still arrive from
	// its hints, which is what tombstone reaping waits for. It is not
	// monotone (replica.Store.HintHorizon).
	HintHorizon(ctx context.Context) (int64, error)
	// ScanRange returns up to about count entries of slots [from, to),
	// starting at cursor c, and the cursor to resume from: 0 when the
	// range is exhausted. A page never splits the keys of one cursor
	// position.
	ScanRange(ctx context.Context, from, to int, c Cursor, count int) (Cursor, []Entry, error)
	// ScanRanges returns up to about count entries at the positions of
	// ranges (sorted, disjoint, at most MaxRanges), in key order, and the
	// cursor to resume from (0: every range exhausted; else continue with
	// ResumeRanges).
	ScanRanges(ctx context.Context, ranges []Range, count int) (Cursor, []Entry, error)
}

// TreeSource serves levels of a node's Merkle trees (antientropy.Trees).
type TreeSource interface {
	// TreeLevel returns nodes [from, to) at depth of the tree of
	// partition, which must have leaves leaves (else an error wrapping
	// ErrShape).
	TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]Hash, error)
}

// Replica is one node's replica as every other part of a node sees it:
// its store and its Merkle trees. The network client (peerclient.Client),
// the local replica (Local) and the fault network's links (peertest)
// implement it. Implementations are safe for concurrent use.
type Replica interface {
	Store
	TreeSource
}

// Local is this node's own Replica: its store and, when anti-entropy is
// on, its trees. It is what peerserver serves to other nodes.
type Local struct {
	Store
	// Trees serves TreeLevel; nil means anti-entropy is off, and TreeLevel
	// fails with ErrNoTrees.
	Trees TreeSource
}

// TreeLevel asks the local trees (see TreeSource).
func (l Local) TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]Hash, error) {
	if l.Trees == nil {
		return nil, ErrNoTrees
	}
	return l.Trees.TreeLevel(ctx, partition, leaves, depth, from, to)
}

// Sentinel errors of the protocol. Callers test them with errors.Is.
var (
	// ErrRemote reports a call to another node that failed: the node
	// could not be reached, did not answer in time, or answered with an
	// error reply (whose text the wrapped error carries).
	ErrRemote = errors.New("peer: remote call failed")
	// ErrProtocol reports a reply that is not what the command returns
	// (wrong type, bad cursor, an object that does not decode, a reply
	// over the size limit); it is wrapped together with ErrRemote.
	ErrProtocol = errors.New("peer: malformed reply")
	// ErrShape reports a tree answer that does not fit the asked shape
	// (another number of leaves or partitions, or a wrong number of
	// hashes).
	ErrShape = errors.New("peer: tree shape differs")
	// ErrNoTrees reports a TreeLevel call to a node whose anti-entropy is
	// off.
	ErrNoTrees = errors.New("peer: anti-entropy is off on this node")
	// ErrNotSent reports a call that never left this node: no connection
	// could be opened or authenticated (or the client was closed), so the
	// other node did not apply it and it may be retried elsewhere. It is
	// wrapped together with ErrRemote.
	ErrNotSent = errors.New("peer: call not sent")
	// ErrBadContext reports a client context that cannot order a new write
	// (a forged token claiming the largest possible counter).
	ErrBadContext = errors.New("peer: context cannot be extended")
	// ErrFlushed reports a write of a key of a database epoch that a
	// FLUSHDB or FLUSHALL has closed (ring.State.Flushed): the store
	// wrote nothing; the caller may write again under the current epoch.
	ErrFlushed = errors.New("peer: key of a flushed database epoch")
)
