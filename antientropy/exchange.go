package antientropy

import (
	"context"
	"errors"
	"fmt"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// remoteErr reports a failed call to the other replica of an exchange as
// peer.ErrRemote, the one sentinel of failed node-to-node calls (the
// network client's errors already wrap it; in-process peers' may not).
func remoteErr(op, id string, err error) error {
	if errors.Is(err, peer.ErrRemote) {
		return fmt.Errorf("antientropy: %s %s: %w", op, id, err)
	}
	return fmt.Errorf("antientropy: %s %s: %w: %w", op, id, peer.ErrRemote, err)
}

// Peer is the other replica of an exchange: the network side of another
// node's trees and store (a peer.Replica: peerclient over the network,
// peertest in tests).
type Peer interface {
	// ID names the peer node.
	ID() string
	// TreeLevel returns nodes [from, to) at depth of the peer's tree of
	// partition, which must have leaves leaves (else an error wrapping
	// ErrShape).
	TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]Hash, error)
	// ScanRanges pages through the peer's objects at the positions of
	// ranges (peer.Store.ScanRanges).
	ScanRanges(ctx context.Context, ranges []peer.Range, count int) (peer.Cursor, []peer.Entry, error)
	// MergeMany merges each entry into the peer's copy of its key.
	MergeMany(ctx context.Context, entries []peer.Entry) error
}

// Local is this node's replica in an exchange: its store (peer.Store).
type Local interface {
	ScanRanges(ctx context.Context, ranges []peer.Range, count int) (peer.Cursor, []peer.Entry, error)
	// MergeMany merges each entry into the local copy of its key, durably,
	// sharing fsyncs.
	MergeMany(ctx context.Context, entries []peer.Entry) error
}

// Options tune an exchange.
type Options struct {
	// Page is the most keys fetched from either side in one call; 0 means
	// 500.
	Page int
	// Throttle, if set, is called before n keys are compared and may wait
	// (a rate limiter); its error ends the exchange.
	Throttle func(ctx context.Context, n int) error
}

// Result is what an exchange found and did.
type Result struct {
	// DifferingLeaves is the number of leaves whose hashes differed.
	DifferingLeaves int
	// Hashes is the number of tree hashes fetched from the peer.
	Hashes int
	// Keys is the number of keys read from either side in differing
	// leaves.
	Keys int
	// Pulled counts keys whose local copy changed by merging the peer's;
	// Pushed counts keys sent to the peer because its copy lacked
	// something.
	Pulled, Pushed int
	// BytesIn and BytesOut count the payload exchanged: 16 bytes per hash,
	// and key plus encoded object per entry fetched or sent.
	BytesIn, BytesOut int64
}

// Repaired returns the number of keys repaired on either side.
func (r Result) Repaired() int { return r.Pulled + r.Pushed }

// Add adds o's counts to r.
func (r *Result) Add(o Result) {
	r.DifferingLeaves += o.DifferingLeaves
	r.Hashes += o.Hashes
	r.Keys += o.Keys
	r.Pulled += o.Pulled
	r.Pushed += o.Pushed
	r.BytesIn += o.BytesIn
	r.BytesOut += o.BytesOut
}

// Exchange compares partition p of trees (kept by local's store) with the
// peer's and repairs every differing key both ways: it walks the two trees
// top-down (Diff) to the differing leaves, reads both sides' objects in
// each run of differing leaves, merges each key's two objects with
// crdt.Merge, stores the merge locally where it adds something and sends it
// to the peer where the peer's lacks something. A converged partition
// costs one hash. Writes racing with the exchange are safe (merges are
// idempotent and commutative); they may leave a difference for the next
// exchange.
func Exchange(ctx context.Context, trees *Trees, p int, local Local, other Peer, opt Options) (Result, error) {
	var res Result
	if opt.Page <= 0 {
		opt.Page = 500
	}
	l := trees.Layout()
	remote := levelSource{ctx: ctx, peer: other, p: p, leaves: l.Leaves()}
	leaves, fetched, err := Diff(trees.Snapshot(p), &remote, 0)
	res.Hashes = fetched
	res.BytesIn = int64(fetched) * 16
	res.DifferingLeaves = len(leaves)
	if err != nil {
		return res, err
	}
	b := &batch{local: local, peer: other, opt: opt, res: &res}
	var runs []peer.Range
	for i := 0; i < len(leaves); {
		j := i + 1
		for j < len(leaves) && leaves[j] == leaves[j-1]+1 {
			j++
		}
		lo, hi := l.LeafRange(p, leaves[i], leaves[j-1]+1)
		runs = append(runs, peer.Range{From: lo, To: hi})
		i = j
	}
	for len(runs) > 0 {
		group := runs[:min(len(runs), maxRuns)]
		runs = runs[len(group):]
		if err := b.repairRanges(ctx, group); err != nil {
			return res, err
		}
	}
	return res, b.flush(ctx)
}

// maxRuns bounds the runs of differing leaves read in one peer call.
const maxRuns = 1024

// batch gathers an exchange's repairs across runs of differing leaves, so
// that sparse differences (a key here and there) cost one local fsync and
// one peer call per Page keys rather than per run.
type batch struct {
	local      Local
	peer       Peer
	opt        Options
	res        *Result
	push, pull []peer.Entry
}

// flush stores the pulls locally and sends the pushes to the peer.
func (b *batch) flush(ctx context.Context) error {
	if len(b.pull) > 0 {
		if err := b.local.MergeMany(ctx, b.pull); err != nil {
			return err
		}
		b.res.Pulled += len(b.pull)
		b.pull = b.pull[:0]
	}
	if len(b.push) > 0 {
		if err := b.peer.MergeMany(ctx, b.push); err != nil {
			return remoteErr("merge into", b.peer.ID(), err)
		}
		b.res.Pushed += len(b.push)
		for _, e := range b.push {
			b.res.BytesOut += entrySize(e.Key, e.Object)
		}
		b.push = b.push[:0]
	}
	return nil
}

func (b *batch) maybeFlush(ctx context.Context) error {
	if len(b.push) >= b.opt.Page || len(b.pull) >= b.opt.Page {
		return b.flush(ctx)
	}
	return nil
}

// levelSource is a LevelSource over a Peer's partition.
type levelSource struct {
	ctx       context.Context
	peer      Peer
	p, leaves int
}

func (s *levelSource) Level(depth, from, to int) ([]Hash, error) {
	return s.peer.TreeLevel(s.ctx, s.p, s.leaves, depth, from, to)
}

// repairRanges repairs the keys at the positions of ranges page by page:
// a page of the peer's keys, then every local key in the span that page
// covers.
func (b *batch) repairRanges(ctx context.Context, ranges []peer.Range) error {
	local, other, opt, res := b.local, b.peer, b.opt, b.res
	for len(ranges) > 0 {
		next, theirs, err := other.ScanRanges(ctx, ranges, opt.Page)
		if err != nil {
			return remoteErr("scan", other.ID(), err)
		}
		covered := ranges
		if next != 0 {
			covered = peer.RangesBefore(ranges, next)
		}
		if err := throttle(ctx, opt, len(theirs)); err != nil {
			return err
		}
		remote := make(map[string]crdt.Object, len(theirs))
		for _, e := range theirs {
			remote[string(e.Key)] = e.Object
			res.BytesIn += entrySize(e.Key, e.Object)
		}
		res.Keys += len(theirs)
		for len(covered) > 0 {
			lnext, mine, err := local.ScanRanges(ctx, covered, opt.Page)
			if err != nil {
				return err
			}
			if err := throttle(ctx, opt, len(mine)); err != nil {
				return err
			}
			res.Keys += len(mine)
			for _, e := range mine {
				r, ok := remote[string(e.Key)]
				delete(remote, string(e.Key))
				if !ok {
					b.push = append(b.push, e)
					continue
				}
				merged := crdt.Merge(e.Object, r)
				if !crdt.Equal(merged, e.Object) {
					b.pull = append(b.pull, peer.Entry{Key: e.Key, Object: r})
				}
				if !crdt.Equal(merged, r) {
					b.push = append(b.push, peer.Entry{Key: e.Key, Object: merged})
				}
			}
			if err := b.maybeFlush(ctx); err != nil {
				return err
			}
			if lnext == 0 {
				break
			}
			covered = peer.ResumeRanges(covered, lnext)
		}
		// What is left the peer has and this replica lacks.
		for k, o := range remote {
			b.pull = append(b.pull, peer.Entry{Key: []byte(k), Object: o})
		}
		if err := b.maybeFlush(ctx); err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		ranges = peer.ResumeRanges(ranges, next)
	}
	return nil
}

func throttle(ctx context.Context, opt Options, n int) error {
	if opt.Throttle == nil || n == 0 {
		return nil
	}
	return opt.Throttle(ctx, n)
}

func entrySize(key []byte, o crdt.Object) int64 {
	return int64(len(key) + len(o.Encode()))
}
