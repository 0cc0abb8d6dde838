// Package faultnet is an in-process network of replicas for tests: it
// hands each node's coordinator a view of the other replicas through which
// calls can be dropped (seeded, replayable), cut between groups (network
// partitions), refused by downed nodes, or held until released (a slow
// replica, without sleeps).
//
// Concurrency: a Network is safe for concurrent use; fault settings take
// effect for calls that start after the change.
package faultnet

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// ErrUnreachable is returned by a call the network did not deliver.
var ErrUnreachable = errors.New("faultnet: unreachable")

// Network connects replicas by node ID.
type Network struct {
	mu       sync.Mutex
	rng      *rand.Rand
	nodes    map[string]replica.Replica
	group    map[string]int // partition group of each node; equal groups talk
	down     map[string]bool
	dropRate float64
	held     map[string]chan struct{}
	calls    map[string]int // delivered calls per target
	attempts map[string]int // attempted calls per target
}

// New returns an empty network whose random drops follow seed.
func New(seed uint64) *Network {
	return &Network{
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		nodes:    map[string]replica.Replica{},
		group:    map[string]int{},
		down:     map[string]bool{},
		held:     map[string]chan struct{}{},
		calls:    map[string]int{},
		attempts: map[string]int{},
	}
}

// Add registers a node's replica.
func (n *Network) Add(r replica.Replica) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[r.ID()] = r
}

// Peers returns the peer resolver for calls made by node from.
func (n *Network) Peers(from string) func(id string) replica.Replica {
	return func(id string) replica.Replica {
		n.mu.Lock()
		_, ok := n.nodes[id]
		n.mu.Unlock()
		if !ok {
			return nil
		}
		return &link{n: n, from: from, to: id}
	}
}

// Partition splits the nodes into groups that cannot reach each other;
// nodes not named form one more group together.
func (n *Network) Partition(groups ...[]string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.group = map[string]int{}
	for i, g := range groups {
		for _, id := range g {
			n.group[id] = i + 1
		}
	}
}

// Heal removes every partition.
func (n *Network) Heal() { n.Partition() }

// SetDown marks a node down (every call to it fails) or up.
func (n *Network) SetDown(id string, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down[id] = down
}

// SetDropRate makes each call fail with probability p (seeded).
func (n *Network) SetDropRate(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropRate = p
}

// Hold makes calls to id block until Release(id) (or their context ends).
func (n *Network) Hold(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.held[id] == nil {
		n.held[id] = make(chan struct{})
	}
}

// Release lets held calls to id proceed.
func (n *Network) Release(id string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if ch := n.held[id]; ch != nil {
		close(ch)
		delete(n.held, id)
	}
}

// Calls returns how many calls were delivered to id.
func (n *Network) Calls(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.calls[id]
}

// Attempts returns how many calls to id were attempted, delivered or not.
func (n *Network) Attempts(id string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.attempts[id]
}

// route decides the fate of one call and returns the target replica.
func (n *Network) route(ctx context.Context, from, to string) (replica.Replica, error) {
	n.mu.Lock()
	n.attempts[to]++
	r := n.nodes[to]
	var err error
	switch {
	case r == nil:
		err = fmt.Errorf("%w: unknown node %s", ErrUnreachable, to)
	case n.down[to] || n.down[from]:
		err = fmt.Errorf("%w: %s is down", ErrUnreachable, to)
	case n.group[from] != n.group[to]:
		err = fmt.Errorf("%w: %s and %s are partitioned", ErrUnreachable, from, to)
	case n.dropRate > 0 && n.rng.Float64() < n.dropRate:
		err = fmt.Errorf("%w: dropped call %s→%s", ErrUnreachable, from, to)
	}
	hold := n.held[to]
	n.mu.Unlock()
	if err != nil {
		return nil, err
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %s held: %w", ErrUnreachable, to, ctx.Err())
		}
	}
	n.mu.Lock()
	n.calls[to]++
	n.mu.Unlock()
	return r, nil
}

// link is node from's view of node to.
type link struct {
	n        *Network
	from, to string
}

func (l *link) ID() string { return l.to }

func (l *link) Get(ctx context.Context, key []byte) (dvv.Object, error) {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return dvv.Object{}, err
	}
	return r.Get(ctx, key)
}

func (l *link) Merge(ctx context.Context, key []byte, obj dvv.Object) error {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return err
	}
	return r.Merge(ctx, key, obj)
}

// rangeScanner is the paged scan a replica may serve.
type rangeScanner interface {
	ScanRange(ctx context.Context, from, to int, c replica.Cursor, count int) (replica.Cursor, []replica.Entry, error)
}

// ScanRange forwards a paged scan through the network's faults.
func (l *link) ScanRange(ctx context.Context, from, to int, c replica.Cursor, count int) (replica.Cursor, []replica.Entry, error) {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return 0, nil, err
	}
	rs, ok := r.(rangeScanner)
	if !ok {
		return 0, nil, fmt.Errorf("%w: %s cannot scan", ErrUnreachable, l.to)
	}
	return rs.ScanRange(ctx, from, to, c, count)
}

// mergeManyer is a replica that merges batches (replica.Store).
type mergeManyer interface {
	MergeMany(ctx context.Context, entries []replica.Entry) error
}

// MergeMany forwards a batch merge through the network's faults.
func (l *link) MergeMany(ctx context.Context, entries []replica.Entry) error {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return err
	}
	mm, ok := r.(mergeManyer)
	if !ok {
		return fmt.Errorf("%w: %s cannot merge batches", ErrUnreachable, l.to)
	}
	return mm.MergeMany(ctx, entries)
}

// hintStore is a replica that keeps hints for other nodes.
type hintStore interface {
	PutHint(ctx context.Context, target string, key []byte, obj dvv.Object) error
}

// PutHint forwards a hint through the network's faults.
func (l *link) PutHint(ctx context.Context, target string, key []byte, obj dvv.Object) error {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return err
	}
	hs, ok := r.(hintStore)
	if !ok {
		return fmt.Errorf("%w: %s keeps no hints", ErrUnreachable, l.to)
	}
	return hs.PutHint(ctx, target, key, obj)
}

// hintReader is a replica that lists its hints for a key.
type hintReader interface {
	HintsFor(ctx context.Context, key []byte) (dvv.Object, error)
}

// HintsFor forwards a hint lookup through the network's faults.
func (l *link) HintsFor(ctx context.Context, key []byte) (dvv.Object, error) {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return dvv.Object{}, err
	}
	hr, ok := r.(hintReader)
	if !ok {
		return dvv.Object{}, fmt.Errorf("%w: %s keeps no hints", ErrUnreachable, l.to)
	}
	return hr.HintsFor(ctx, key)
}

// hintHorizoner is a replica that reports its hint horizon.
type hintHorizoner interface {
	HintHorizon(ctx context.Context) (int64, error)
}

// HintHorizon forwards a hint-horizon query through the network's faults.
func (l *link) HintHorizon(ctx context.Context) (int64, error) {
	r, err := l.n.route(ctx, l.from, l.to)
	if err != nil {
		return 0, err
	}
	hh, ok := r.(hintHorizoner)
	if !ok {
		return 0, fmt.Errorf("%w: %s keeps no hints", ErrUnreachable, l.to)
	}
	return hh.HintHorizon(ctx)
}

// Up reports whether node id is reachable at all (not down); a liveness
// oracle for coordinators in tests.
func (n *Network) Up(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.down[id]
}
