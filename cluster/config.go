package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/ring"
)

// Sentinel errors. Every error of this package wraps one of them.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("cluster: invalid config")
	// ErrNotJoined reports a node that was not admitted to the ring in time.
	ErrNotJoined = errors.New("cluster: not admitted to the ring")
	// ErrStale reports a Change whose state is not newer than the current
	// one (another change won meanwhile): recompute it on Current.
	ErrStale = errors.New("cluster: stale ring change")
	// ErrPersist reports that ring.state or the leaving mark could not be
	// written or read.
	ErrPersist = errors.New("cluster: persist")
	// ErrForget reports a CLUSTER FORGET that cannot be done.
	ErrForget = errors.New("cluster: cannot forget node")
	// ErrLeave reports a CLUSTER LEAVE that cannot be done.
	ErrLeave = errors.New("cluster: cannot leave")
)

// File names in Config.Dir.
const (
	// StateFile holds the encoded ring.State.
	StateFile = "ring.state"
	// LeavingFile exists once CLUSTER LEAVE was accepted on this node.
	LeavingFile = "leaving"
)

// Config configures a Cluster. Build it from DefaultConfig.
type Config struct {
	// Self is this node's ID (required).
	Self ring.NodeID
	// Addr is this node's advertised RESP address, "host:port" (required).
	Addr string
	// GossipAddr is this node's advertised gossip address, recorded in a
	// ring this node creates.
	GossipAddr string
	// ClientAddr is this node's advertised cluster-client address, the
	// RESP address CLUSTER SLOTS shows cluster-aware clients ("" for
	// none: Addr is shown). It travels in the gossip Meta, not the ring.
	ClientAddr string
	// TLSClientAddr is this node's advertised TLS client address: the
	// TLS counterpart of ClientAddr, the address CLUSTER SLOTS shows TLS
	// clients ("" for none). It travels in the gossip Meta.
	TLSClientAddr string
	// Weight is this node's relative capacity (1..ring.MaxWeight).
	Weight int
	// Dir is the data directory holding StateFile and LeavingFile
	// (required; must exist).
	Dir string
	// FS is the file system of Dir; nil means vfs.Default. Tests pass
	// vfs.NewCrashableMem.
	FS vfs.FS
	// Bootstrap creates a new ring of this node alone when Dir holds no
	// ring state (a node started without --join).
	Bootstrap bool
	// Ring shapes the ring Bootstrap creates (N and Q); a joining node takes
	// them from the ring it joins.
	Ring ring.Config

	// ReconcileInterval is how often Run checks for nodes to admit even
	// without a membership event (ms scale: membership events also wake it).
	ReconcileInterval time.Duration
	// AskInterval is how often WaitJoined asks the members for their ring
	// state while this node waits to be admitted, so a lost gossip notice
	// costs at most this long.
	AskInterval time.Duration
	// MetaTimeout bounds the wait for the leaving mark's gossip meta update
	// to go out (Membership.SetMeta).
	MetaTimeout time.Duration

	// After is the clock: it returns a channel that receives once d has
	// passed. nil means time.After.
	After func(d time.Duration) <-chan time.Time
	// OnChange, if set, is told of every installed state after the first
	// (see the package doc for its threading).
	OnChange func(old, next *ring.State)
	// Logger; nil means slog.Default().
	Logger *slog.Logger
}

// DefaultConfig returns the defaults; Self, Addr and Dir must be filled in.
func DefaultConfig() Config {
	return Config{
		Weight: 1,                    // an equal share of the partitions
		Ring:   ring.DefaultConfig(), // N = ring.DefaultReplicas (1), Q = ring.DefaultPartitions
		// Admission runs on every membership event; the tick only retries
		// an admission that failed (a lost race, a persist error). 500 ms
		// keeps a join under a second without busy work.
		ReconcileInterval: 500 * time.Millisecond,
		// A waiting node asks every second: the gossiped notice of its
		// admission may be lost, and the next push/pull is 30 s away.
		AskInterval: time.Second,
		// SetMeta waits for the leave flag to reach the members; 5 s is
		// many gossip rounds (200 ms each on a LAN).
		MetaTimeout: 5 * time.Second,
	}
}

// EnsureDefaults fills the zero fields that have a default.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Weight == 0 {
		c.Weight = d.Weight
	}
	if c.Ring.Replicas == 0 {
		c.Ring.Replicas = d.Ring.Replicas
	}
	if c.Ring.Partitions == 0 {
		c.Ring.Partitions = d.Ring.Partitions
	}
	if c.ReconcileInterval == 0 {
		c.ReconcileInterval = d.ReconcileInterval
	}
	if c.AskInterval == 0 {
		c.AskInterval = d.AskInterval
	}
	if c.MetaTimeout == 0 {
		c.MetaTimeout = d.MetaTimeout
	}
	if c.FS == nil {
		c.FS = vfs.Default
	}
	if c.After == nil {
		c.After = time.After
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first invalid field, wrapping ErrConfig.
func (c Config) Validate() error {
	switch {
	case c.Self == "":
		return fmt.Errorf("%w: Self is required", ErrConfig)
	case c.Addr == "":
		return fmt.Errorf("%w: Addr is required", ErrConfig)
	case c.Dir == "":
		return fmt.Errorf("%w: Dir is required", ErrConfig)
	case c.Weight < 1 || c.Weight > ring.MaxWeight:
		return fmt.Errorf("%w: Weight %d not in 1..%d", ErrConfig, c.Weight, ring.MaxWeight)
	case c.ReconcileInterval < 0 || c.AskInterval < 0 || c.MetaTimeout < 0:
		return fmt.Errorf("%w: negative interval or timeout", ErrConfig)
	}
	if c.Bootstrap {
		if err := c.Ring.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return nil
}
