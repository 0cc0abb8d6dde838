package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dynakv/dynakv/internal/atomicfile"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// Membership is what the cluster needs of gossip; *member.Membership
// implements it. Its methods are called concurrently.
type Membership interface {
	// Members returns every member gossip knows of, this node included,
	// with its liveness and Meta.
	Members() []member.Member
	// Liveness returns member id's liveness (member.Unknown if never seen).
	Liveness(id string) member.Liveness
	// Broadcast gossips the current LocalState soon.
	Broadcast()
	// SetMeta replaces this node's gossiped Meta, waiting up to timeout
	// for it to go out.
	SetMeta(meta []byte, timeout time.Duration) error
	// RequestState asks the other members for their state (answered
	// through MergeState).
	RequestState()
}

// Meta is what a node tells the others about itself through gossip
// (member.Member.Meta, JSON, well under memberlist's 512-byte limit).
type Meta struct {
	// Addr is the node's advertised RESP address.
	Addr string `json:"a"`
	// Weight is the node's relative capacity.
	Weight int `json:"w"`
	// Client is the node's advertised cluster-client address ("" for
	// none), see Config.ClientAddr.
	Client string `json:"c,omitempty"`
	// TLSClient is the node's advertised TLS client address ("" for
	// none), see Config.TLSClientAddr.
	TLSClient string `json:"t,omitempty"`
	// Left is set by CLUSTER LEAVE: the reconciler must not admit the
	// node again once it is removed.
	Left bool `json:"l,omitempty"`
	// Flush is the flush epochs of the node's installed ring, by database,
	// without trailing zeros: how Flush learns that a member adopted a
	// FLUSHDB or FLUSHALL.
	Flush []uint64 `json:"f,omitempty"`
}

// Cluster is a node's view of the ring. Build it with New, hand it to
// gossip as its member.StateHandler, then Attach the Membership and Run.
type Cluster struct {
	cfg  Config
	log  *slog.Logger
	path string

	wmu    sync.Mutex // serializes every writer: read, decide, persist, install
	metaMu sync.Mutex // serializes publishMeta: the last Meta published is the latest

	mu      sync.RWMutex
	state   *ring.State // nil until this node is in a ring
	ml      Membership
	leaving bool

	changed chan struct{} // poked on every state change and membership event
	joined  chan struct{} // closed once state contains Self
	once    sync.Once
}

// New loads the ring state from cfg.Dir (or, with cfg.Bootstrap and none
// on disk, creates and persists a new ring of this node alone) and the
// leaving mark. cfg is completed with EnsureDefaults and checked with
// Validate. Errors wrap ErrConfig or ErrPersist.
func New(cfg Config) (*Cluster, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{
		cfg:     cfg,
		log:     cfg.Logger,
		path:    filepath.Join(cfg.Dir, StateFile),
		changed: make(chan struct{}, 1),
		joined:  make(chan struct{}),
	}
	if _, err := cfg.FS.Stat(filepath.Join(cfg.Dir, LeavingFile)); err == nil {
		c.leaving = true
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: leaving mark: %w", ErrPersist, err)
	}
	b, err := atomicfile.Read(cfg.FS, c.path)
	switch {
	case err == nil:
		st, err := ring.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %w", ErrPersist, c.path, err)
		}
		c.install(st)
		c.log.Info("ring state loaded", "version", st.Version(), "members", len(st.Members()))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: read ring state: %w", ErrPersist, err)
	case cfg.Bootstrap:
		st, err := ring.New(cfg.Ring, []ring.Member{{ID: cfg.Self, Addr: cfg.Addr, GossipAddr: cfg.GossipAddr, Weight: cfg.Weight}})
		if err != nil {
			return nil, fmt.Errorf("%w: new ring: %w", ErrConfig, err)
		}
		if err := c.persist(st); err != nil {
			return nil, err
		}
		c.install(st)
		c.log.Info("new ring", "partitions", st.Partitions(), "replicas", st.Replicas())
	}
	return c, nil
}

// Self returns this node's ID.
func (c *Cluster) Self() ring.NodeID { return c.cfg.Self }

// Current returns the installed ring state, nil before this node is in a
// ring. The State is immutable.
func (c *Cluster) Current() *ring.State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state
}

// Attach sets the gossip handle (once, after member.Start). Before it, the
// cluster works without liveness (only Self is alive) and broadcasts
// nothing.
func (c *Cluster) Attach(m Membership) {
	c.mu.Lock()
	c.ml = m
	c.mu.Unlock()
	c.Poke()
}

func (c *Cluster) membership() Membership {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ml
}

// Poke wakes Run (a membership event or a state change); it never blocks.
func (c *Cluster) Poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// LocalState implements member.StateHandler: the encoded current state.
func (c *Cluster) LocalState() []byte {
	if st := c.Current(); st != nil {
		return st.Encode()
	}
	return nil
}

// MergeState implements member.StateHandler: a remote state that
// supersedes ours (ring.Newer) is adopted.
func (c *Cluster) MergeState(remote []byte) bool {
	if len(remote) == 0 {
		return false
	}
	rs, err := ring.Decode(remote)
	if err != nil {
		c.log.Warn("bad ring state from a peer", "err", err)
		return false
	}
	return c.Adopt(rs)
}

// Adopt merges rs into the current state (ring.Merge) and, if the result
// differs, persists and installs it; it reports whether it did. The merge
// is made with the current state under the writer lock, so a concurrent
// Update or Change is never lost to a stale merge.
func (c *Cluster) Adopt(rs *ring.State) bool {
	next, err := c.write(func(cur *ring.State) (*ring.State, error) {
		if cur == nil {
			return rs, nil
		}
		return ring.Merge(cur, rs), nil
	})
	if err != nil {
		c.log.Error("cannot adopt ring state", "err", err)
		return false
	}
	if next == nil {
		return false
	}
	c.log.Info("ring state changed", "version", next.Version(), "members", len(next.Members()), "moving", len(next.MovingPartitions()))
	return true
}

// Update applies a local ring change atomically: fn gets the current
// state (never nil) and returns the next one, or nil for no change; the
// result is persisted, installed and broadcast. It returns the installed
// state (nil if none). fn runs under the writer lock: it must not call
// back into the Cluster. fn's error is returned unchanged; ErrNotJoined
// if this node has no ring yet; ErrPersist if the write failed.
func (c *Cluster) Update(fn func(cur *ring.State) (*ring.State, error)) (*ring.State, error) {
	next, err := c.write(func(cur *ring.State) (*ring.State, error) {
		if cur == nil {
			return nil, fmt.Errorf("%w: no ring yet", ErrNotJoined)
		}
		return fn(cur)
	})
	if err != nil || next == nil {
		return next, err
	}
	c.log.Info("ring changed here", "version", next.Version(), "members", len(next.Members()), "moving", len(next.MovingPartitions()))
	if ml := c.membership(); ml != nil {
		ml.Broadcast()
	}
	return next, nil
}

// Change installs next, a change computed from an earlier Current, if it
// still supersedes the current state (ring.Newer), and broadcasts it.
// Otherwise (a concurrent change won) it returns ErrStale and changes
// nothing: recompute on Current, or use Update.
func (c *Cluster) Change(next *ring.State) error {
	_, err := c.Update(func(cur *ring.State) (*ring.State, error) {
		if next.Equal(cur) {
			return nil, nil
		}
		if !ring.Newer(next, cur) {
			return nil, fmt.Errorf("%w: version %d against current %d", ErrStale, next.Version(), cur.Version())
		}
		return next, nil
	})
	return err
}

// write is the one writer path: under wmu it computes next from the
// current state, and if next supersedes it, persists and installs next.
// It returns the installed state, nil if nothing changed.
func (c *Cluster) write(fn func(cur *ring.State) (*ring.State, error)) (*ring.State, error) {
	c.wmu.Lock()
	cur := c.Current()
	next, err := fn(cur)
	if err != nil || next == nil || (cur != nil && (next.Equal(cur) || !ring.Newer(next, cur))) {
		c.wmu.Unlock()
		return nil, err
	}
	if err := c.persist(next); err != nil {
		c.wmu.Unlock()
		return nil, err
	}
	old := c.install(next)
	onChange := c.cfg.OnChange
	c.wmu.Unlock()
	if old == nil || old.FlushEpochs() != next.FlushEpochs() {
		go c.publishMeta()
	}
	if onChange != nil && old != nil {
		onChange(old, next)
	}
	return next, nil
}

// install makes st the current state (the caller has persisted it) and
// returns the previous one.
func (c *Cluster) install(st *ring.State) *ring.State {
	c.mu.Lock()
	old := c.state
	c.state = st
	c.mu.Unlock()
	if _, ok := st.Member(c.cfg.Self); ok {
		c.once.Do(func() { close(c.joined) })
	}
	c.Poke()
	return old
}

// persist writes st to StateFile crash-safely.
func (c *Cluster) persist(st *ring.State) error {
	if err := atomicfile.Write(c.cfg.FS, c.path, st.Encode()); err != nil {
		return fmt.Errorf("%w: ring state: %w", ErrPersist, err)
	}
	return nil
}

// Meta returns this node's gossip Meta, encoded (Left once leaving).
func (c *Cluster) Meta() []byte {
	c.mu.RLock()
	m := Meta{Addr: c.cfg.Addr, Weight: c.cfg.Weight, Client: c.cfg.ClientAddr, TLSClient: c.cfg.TLSClientAddr, Left: c.leaving}
	if c.state != nil {
		e := c.state.FlushEpochs()
		n := len(e)
		for n > 0 && e[n-1] == 0 {
			n--
		}
		m.Flush = append([]uint64(nil), e[:n]...)
	}
	c.mu.RUnlock()
	b, _ := json.Marshal(m) // cannot fail: strings, ints and a bool
	return b
}

// Joined returns a channel closed once the ring state contains Self.
func (c *Cluster) Joined() <-chan struct{} { return c.joined }
