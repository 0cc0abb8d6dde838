package peertest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// ErrUnreachable is wrapped by the error of a call the network did not
// deliver (or whose reply it dropped).
var ErrUnreachable = errors.New("peertest: unreachable")

// Op names a peer operation, for per-operation counts.
type Op string

// The peer operations.
const (
	OpGet         Op = "get"
	OpMerge       Op = "merge"
	OpMergeMany   Op = "mergemany"
	OpPutHint     Op = "hint"
	OpHintsFor    Op = "hintget"
	OpHintHorizon Op = "hinthorizon"
	OpScanRange   Op = "scan"
	OpScanRanges  Op = "range"
	OpTreeLevel   Op = "tree"
)

// Ops lists every Op.
var Ops = []Op{OpGet, OpMerge, OpMergeMany, OpPutHint, OpHintsFor, OpHintHorizon, OpScanRange, OpScanRanges, OpTreeLevel}

// Network connects replicas by node ID. Build it with New.
type Network struct {
	// After waits for a Delay: it returns a channel that yields after d.
	// It is time.After by default; tests with a fake clock replace it
	// before the first call.
	After func(d time.Duration) <-chan time.Time

	mu        sync.Mutex
	rng       *rand.Rand
	nodes     map[string]peer.Replica
	group     map[string]int // partition group of each node; equal groups talk
	cut       map[[2]string]bool
	down      map[string]bool
	dropRate  float64
	replyDrop float64
	held      map[string]chan struct{}
	delay     map[string]time.Duration
	calls     map[string]map[Op]int // delivered calls per target and op
	attempts  map[string]map[Op]int // attempted calls per target and op
}

// New returns an empty network whose random drops follow seed.
func New(seed uint64) *Network {
	return &Network{
		After:    time.After,
		rng:      rand.New(rand.NewPCG(seed, 0x5eed)),
		nodes:    map[string]peer.Replica{},
		group:    map[string]int{},
		cut:      map[[2]string]bool{},
		down:     map[string]bool{},
		held:     map[string]chan struct{}{},
		delay:    map[string]time.Duration{},
		calls:    map[string]map[Op]int{},
		attempts: map[string]map[Op]int{},
	}
}

// Add registers a node's replica under its ID, replacing any earlier one:
// a full peer.Replica (peer.Local{Store: store, Trees: trees}), or a store
// alone (a *replica.Store), whose TreeLevel then fails with
// peer.ErrNoTrees.
func (n *Network) Add(r peer.Store) {
	rep, ok := r.(peer.Replica)
	if !ok {
		rep = peer.Local{Store: r}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.nodes[r.ID()] = rep
}

// Peer returns node from's view of node to: every call goes through the
// network's faults. It does not check that to exists (a call to an
// unknown node fails).
func (n *Network) Peer(from, to string) peer.Replica { return &link{n: n, from: from, to: to} }

// Peers returns the peer resolver for calls made by node from
// (coordinator.Peers): nil for a node never added.
func (n *Network) Peers(from string) func(id string) peer.Replica {
	return func(id string) peer.Replica {
		n.mu.Lock()
		_, ok := n.nodes[id]
		n.mu.Unlock()
		if !ok {
			return nil
		}
		return n.Peer(from, id)
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

// Heal removes every partition and every cut link.
func (n *Network) Heal() {
	n.Partition()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut = map[[2]string]bool{}
}

// Cut breaks the link between nodes a and b, both ways, leaving their
// links to everyone else.
func (n *Network) Cut(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.cut[[2]string{a, b}], n.cut[[2]string{b, a}] = true, true
}

// Mend restores the link Cut broke.
func (n *Network) Mend(a, b string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	delete(n.cut, [2]string{a, b})
	delete(n.cut, [2]string{b, a})
}

// SetDown marks a node down (every call to or from it fails) or up.
func (n *Network) SetDown(id string, down bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.down[id] = down
}

// Up reports whether node id is up (not SetDown); a liveness oracle for
// coordinators in tests.
func (n *Network) Up(id string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return !n.down[id]
}

// SetDropRate makes each call fail undelivered with probability p
// (seeded).
func (n *Network) SetDropRate(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.dropRate = p
}

// SetReplyDropRate makes each delivered call lose its reply with
// probability p (seeded): the target applies the call, the caller gets an
// error.
func (n *Network) SetReplyDropRate(p float64) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.replyDrop = p
}

// SetDelay makes calls to id wait d (on After) before they are delivered;
// 0 removes the delay. A call whose context ends first fails undelivered.
func (n *Network) SetDelay(id string, d time.Duration) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if d <= 0 {
		delete(n.delay, id)
		return
	}
	n.delay[id] = d
}

// Hold makes calls to id block until Release(id) (or their context ends,
// and they fail undelivered).
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

// Calls returns how many calls were delivered to id, of the given ops
// (every op if none is given).
func (n *Network) Calls(id string, ops ...Op) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return count(n.calls[id], ops)
}

// Attempts returns how many calls to id were attempted, delivered or not,
// of the given ops (every op if none is given).
func (n *Network) Attempts(id string, ops ...Op) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return count(n.attempts[id], ops)
}

func count(m map[Op]int, ops []Op) int {
	if len(ops) == 0 {
		ops = Ops
	}
	t := 0
	for _, op := range ops {
		t += m[op]
	}
	return t
}

func bump(m map[string]map[Op]int, id string, op Op) {
	if m[id] == nil {
		m[id] = map[Op]int{}
	}
	m[id][op]++
}

// unreachable builds a failure wrapping ErrUnreachable and peer.ErrRemote.
func unreachable(format string, args ...any) error {
	return fmt.Errorf("%w: %w: %s", peer.ErrRemote, ErrUnreachable, fmt.Sprintf(format, args...))
}

// route decides the fate of one call and returns the target replica, and
// whether its reply is to be lost.
func (n *Network) route(ctx context.Context, op Op, from, to string) (peer.Replica, bool, error) {
	n.mu.Lock()
	bump(n.attempts, to, op)
	r := n.nodes[to]
	var err error
	switch {
	case r == nil:
		err = unreachable("%s %s→%s: unknown node", op, from, to)
	case n.down[to] || n.down[from]:
		err = unreachable("%s %s→%s: node down", op, from, to)
	case n.group[from] != n.group[to]:
		err = unreachable("%s %s→%s: partitioned", op, from, to)
	case n.cut[[2]string{from, to}]:
		err = unreachable("%s %s→%s: link cut", op, from, to)
	case n.dropRate > 0 && n.rng.Float64() < n.dropRate:
		err = unreachable("%s %s→%s: dropped", op, from, to)
	}
	lose := err == nil && n.replyDrop > 0 && n.rng.Float64() < n.replyDrop
	hold, delay, after := n.held[to], n.delay[to], n.After
	n.mu.Unlock()
	if err != nil {
		return nil, false, err
	}
	if delay > 0 {
		select {
		case <-after(delay):
		case <-ctx.Done():
			return nil, false, fmt.Errorf("%w: %w", unreachable("%s %s→%s: delayed", op, from, to), ctx.Err())
		}
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return nil, false, fmt.Errorf("%w: %w", unreachable("%s %s→%s: held", op, from, to), ctx.Err())
		}
	}
	n.mu.Lock()
	bump(n.calls, to, op)
	n.mu.Unlock()
	return r, lose, nil
}

// link is node from's view of node to.
type link struct {
	n        *Network
	from, to string
}

// finish turns a delivered call's error into a lost reply if it was to be
// lost.
func (l *link) finish(op Op, lose bool, err error) error {
	if lose && err == nil {
		return unreachable("%s %s→%s: reply lost", op, l.from, l.to)
	}
	return err
}

func (l *link) ID() string { return l.to }

func (l *link) Get(ctx context.Context, key []byte) (crdt.Object, error) {
	r, lose, err := l.n.route(ctx, OpGet, l.from, l.to)
	if err != nil {
		return crdt.Object{}, err
	}
	o, err := r.Get(ctx, key)
	if err = l.finish(OpGet, lose, err); err != nil {
		return crdt.Object{}, err
	}
	return o, nil
}

func (l *link) Merge(ctx context.Context, key []byte, obj crdt.Object) error {
	r, lose, err := l.n.route(ctx, OpMerge, l.from, l.to)
	if err != nil {
		return err
	}
	return l.finish(OpMerge, lose, r.Merge(ctx, key, obj))
}

func (l *link) MergeMany(ctx context.Context, entries []peer.Entry) error {
	r, lose, err := l.n.route(ctx, OpMergeMany, l.from, l.to)
	if err != nil {
		return err
	}
	return l.finish(OpMergeMany, lose, r.MergeMany(ctx, entries))
}

func (l *link) PutHint(ctx context.Context, target string, key []byte, obj crdt.Object) error {
	r, lose, err := l.n.route(ctx, OpPutHint, l.from, l.to)
	if err != nil {
		return err
	}
	return l.finish(OpPutHint, lose, r.PutHint(ctx, target, key, obj))
}

func (l *link) HintsFor(ctx context.Context, key []byte) (crdt.Object, error) {
	r, lose, err := l.n.route(ctx, OpHintsFor, l.from, l.to)
	if err != nil {
		return crdt.Object{}, err
	}
	o, err := r.HintsFor(ctx, key)
	if err = l.finish(OpHintsFor, lose, err); err != nil {
		return crdt.Object{}, err
	}
	return o, nil
}

func (l *link) HintHorizon(ctx context.Context) (int64, error) {
	r, lose, err := l.n.route(ctx, OpHintHorizon, l.from, l.to)
	if err != nil {
		return 0, err
	}
	h, err := r.HintHorizon(ctx)
	if err = l.finish(OpHintHorizon, lose, err); err != nil {
		return 0, err
	}
	return h, nil
}

func (l *link) ScanRange(ctx context.Context, from, to int, c peer.Cursor, count int) (peer.Cursor, []peer.Entry, error) {
	r, lose, err := l.n.route(ctx, OpScanRange, l.from, l.to)
	if err != nil {
		return 0, nil, err
	}
	next, es, err := r.ScanRange(ctx, from, to, c, count)
	if err = l.finish(OpScanRange, lose, err); err != nil {
		return 0, nil, err
	}
	return next, es, nil
}

func (l *link) ScanRanges(ctx context.Context, ranges []peer.Range, count int) (peer.Cursor, []peer.Entry, error) {
	r, lose, err := l.n.route(ctx, OpScanRanges, l.from, l.to)
	if err != nil {
		return 0, nil, err
	}
	next, es, err := r.ScanRanges(ctx, ranges, count)
	if err = l.finish(OpScanRanges, lose, err); err != nil {
		return 0, nil, err
	}
	return next, es, nil
}

func (l *link) TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]peer.Hash, error) {
	r, lose, err := l.n.route(ctx, OpTreeLevel, l.from, l.to)
	if err != nil {
		return nil, err
	}
	hs, err := r.TreeLevel(ctx, partition, leaves, depth, from, to)
	if err = l.finish(OpTreeLevel, lose, err); err != nil {
		return nil, err
	}
	return hs, nil
}
