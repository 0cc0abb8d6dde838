package coordinator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

var (
	// ErrNoQuorum reports that fewer replicas answered than the request's
	// R or W; the error text says how many did.
	ErrNoQuorum = errors.New("coordinator: not enough replicas answered")
	// ErrQuorumRange reports an R or W outside 1..N.
	ErrQuorumRange = errors.New("coordinator: quorum out of range")
	// ErrNotReplica reports a write sent to a node outside the key's top N.
	ErrNotReplica = errors.New("coordinator: this node is not a replica of the key")
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("coordinator: invalid config")
)

// Config configures a Coordinator. Build it from DefaultConfig.
type Config struct {
	// N is the number of replicas of each key; R and W the default read and
	// write quorums (1 ≤ R, W ≤ N; Dynamo §4.5: R + W > N for
	// read-your-writes).
	N, R, W int
	// Timeout bounds one request's wait for its quorum, and each
	// node-to-node call made for it.
	Timeout time.Duration
	// Healthy reports whether a node is believed up (liveness from gossip);
	// nil means every node is. Coordinator.Healthy combines it with the
	// coordinator's own suspicion: writes stand in for unhealthy replicas
	// with hinted fallbacks, reads ask the healthy replicas (and the
	// fallbacks' hints), and routing prefers healthy replicas.
	Healthy func(id string) bool
}

// DefaultConfig returns a lone node's defaults.
func DefaultConfig() Config {
	return Config{
		// N = ring.DefaultReplicas (1): the node is the only replica. A node
		// takes N from its ring, which a cluster shapes explicitly.
		N: ring.DefaultReplicas,
		// R = W = 1: with N = 1 every quorum is the one replica.
		R: 1,
		W: 1,
		// 2 s: a quorum on a LAN answers in milliseconds; 2 s leaves room
		// for a pause or a large value without holding a client long.
		Timeout: 2 * time.Second,
	}
}

// EnsureDefaults fills the zero fields that have a default.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.N == 0 {
		c.N = d.N
	}
	if c.R == 0 {
		c.R = d.R
	}
	if c.W == 0 {
		c.W = d.W
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
}

// Validate reports the first invalid field, wrapping ErrConfig.
func (c Config) Validate() error {
	switch {
	case c.N < 1 || c.R < 1 || c.R > c.N || c.W < 1 || c.W > c.N:
		return fmt.Errorf("%w: N=%d R=%d W=%d (need 1 ≤ R, W ≤ N)", ErrConfig, c.N, c.R, c.W)
	case c.Timeout < 0:
		return fmt.Errorf("%w: negative Timeout %v", ErrConfig, c.Timeout)
	}
	return nil
}

// Placement maps a key to its preference list: node IDs in order, the first
// N being the key's replicas.
type Placement interface {
	Preference(key []byte) []string
}

// Local is the coordinator's own replica: the store that issues dots
// (replica.Store). Update runs a mutator under the key's lock with a fresh
// dot of this node and returns the objects before and after and the delta
// it merged (the zero delta: nothing written).
type Local interface {
	peer.Store
	Update(ctx context.Context, key []byte, fn crdt.Mutator) (prev, next, delta crdt.Object, err error)
	// UpdateAsync is Update returning once the write is visible, with
	// wait, which returns once it is durable (replica.Store.UpdateAsync);
	// wait is nil when err is not, and must be called once otherwise.
	UpdateAsync(ctx context.Context, key []byte, fn crdt.Mutator) (prev, next, delta crdt.Object, wait func() error, err error)
	Scan(c peer.Cursor, count int, fn func(key []byte, o crdt.Object) bool) (peer.Cursor, error)
	NowMs() int64
}

// Peers resolves a node ID to its Replica (nil if unknown): the network
// client in a node (peerclient), a fault-network link in tests (peertest).
type Peers func(id string) peer.Replica

// ReadOptions tune one read.
type ReadOptions struct {
	// R overrides the configured read quorum when non-zero.
	R int
	// Local reads only this node's replica: no quorum, no repair.
	Local bool
	// Replier, when set, receives the ID of the replica that answered
	// first: the node to coordinate a write made from this read's context.
	Replier *string

	// mergesSelf marks a read whose caller merges the result into the
	// local replica itself (a ReadFirst write's read, readMerge): it
	// makes no read repair.
	mergesSelf bool
}

// WriteOptions tune one write.
type WriteOptions struct {
	// W overrides the configured write quorum when non-zero.
	W int
	// ReadFirst makes the coordinator read the key at quorum R and merge the
	// result into its replica before deciding the write, for commands whose
	// outcome depends on the current value (NX, XX, GET, EXPIRE…).
	ReadFirst bool
}

// Coordinator runs quorum reads and writes. Build it with New.
type Coordinator struct {
	cfg     Config
	self    string
	local   Local
	place   Placement
	peers   Peers
	stats   Stats
	bg      sync.WaitGroup // background sends and read repairs
	susp    *suspects
	locks   lockTable   // key locks of the writes coordinated here (locks.go)
	flights readFlights // ReadFirst reads in progress (quorum.go, readInto)
	repairs keySet      // keys a read repair is under way for (quorum.go)
}

// Stats are the coordinator's counters.
type Stats struct {
	// ReadRepairs counts replicas written back by read repair.
	ReadRepairs atomic.Int64
	// Suspicions counts nodes the coordinator started avoiding after a
	// failed call.
	Suspicions atomic.Int64
	// ReadsOK, ReadsLost and ReadTimeouts count quorum reads (R > 1 or a
	// remote replica asked) by outcome: R replies, ErrNoQuorum because
	// too many replicas failed, ErrNoQuorum because the timeout passed
	// first. WritesOK, WritesLost and WriteTimeouts count writes waiting
	// for W the same way.
	ReadsOK, ReadsLost, ReadTimeouts    atomic.Int64
	WritesOK, WritesLost, WriteTimeouts atomic.Int64
}

// Stats returns the coordinator's counters.
func (c *Coordinator) Stats() *Stats { return &c.stats }

// Wait blocks until the background work of finished requests (sends to
// the replicas beyond W, read repairs) is done. Tests use it instead of
// sleeping; a node calls it before closing its store.
func (c *Coordinator) Wait() { c.bg.Wait() }

// New returns a coordinator for the node whose replica is local.
func New(cfg Config, local Local, place Placement, peers Peers) (*Coordinator, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Coordinator{cfg: cfg, self: local.ID(), local: local, place: place, peers: peers, susp: newSuspects()}, nil
}

// Config returns the coordinator's configuration.
func (c *Coordinator) Config() Config { return c.cfg }

// NowMs returns the node clock in Unix milliseconds.
func (c *Coordinator) NowMs() int64 { return c.local.NowMs() }
