package node

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// ErrNotJoined reports a node that could not get into the ring in time.
var ErrNotJoined = errors.New("node: not admitted to the ring")

// stateFile is the ring state's file in the data directory.
const stateFile = "ring.state"

// meta is what a node tells others about itself through gossip.
type meta struct {
	Addr   string `json:"a"` // RESP address
	Weight int    `json:"w"`
	// Left is set by CLUSTER LEAVE: the leader must not admit the node
	// again once it is removed.
	Left bool `json:"l,omitempty"`
}

// cluster is the node's view of the ring: the current ring state (persisted
// and gossiped), liveness from memberlist, and connections to peers. It is
// the coordinator's Placement and Peers and the RESP layer's Cluster.
//
// Ring changes are made by one node at a time where possible: the
// reconciler of the alive joined member with the smallest ID admits new
// nodes. Concurrent changes on different nodes are settled by ring.Merge's
// deterministic order, and the reconciler re-applies what lost.
type cluster struct {
	self   ring.NodeID
	secret string
	// timeout bounds a peer call whose context has no deadline (--timeout).
	timeout time.Duration
	weight  int
	addr    string // our RESP address, as advertised
	// leaving is set before startGossip if this node is leaving (it then
	// gossips meta.Left from the start).
	leaving bool
	path    string
	log     *slog.Logger

	mu    sync.RWMutex
	state *ring.State // nil until this node is in a ring
	peers map[string]*peerclient.Client
	ml    *member.Membership

	// onChange, if set, is told of every installed state after the first
	// (set before gossip starts; called without locks held).
	onChange func(old, next *ring.State)

	changed chan struct{} // poked on every state change and membership event
	joined  chan struct{} // closed once state contains self
	once    sync.Once
}

func newCluster(cfg Config, addr string, log *slog.Logger) (*cluster, error) {
	c := &cluster{
		self:    ring.NodeID(cfg.ID),
		secret:  cfg.ClusterSecret,
		timeout: cfg.Timeout,
		weight:  cfg.Weight,
		addr:    addr,
		path:    filepath.Join(cfg.DataDir, stateFile),
		log:     log,
		peers:   map[string]*peerclient.Client{},
		changed: make(chan struct{}, 1),
		joined:  make(chan struct{}),
	}
	b, err := os.ReadFile(c.path)
	switch {
	case err == nil:
		st, err := ring.Decode(b)
		if err != nil {
			return nil, fmt.Errorf("node: %s: %w", c.path, err)
		}
		c.install(st)
		log.Info("ring state loaded", "version", st.Version(), "members", len(st.Members()))
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("node: read ring state: %w", err)
	case len(cfg.Join) == 0:
		st, err := ring.New(ring.Config{Partitions: cfg.Partitions, Replicas: cfg.Replicas},
			[]ring.Member{{ID: c.self, Addr: addr, GossipAddr: cfg.Gossip, Weight: cfg.Weight}})
		if err != nil {
			return nil, fmt.Errorf("node: new ring: %w", err)
		}
		if err := c.persist(st); err != nil {
			return nil, err
		}
		c.install(st)
		log.Info("new ring", "partitions", st.Partitions(), "replicas", st.Replicas())
	}
	return c, nil
}

// startGossip starts memberlist and the reconciler.
func (c *cluster) startGossip(ctx context.Context, cfg Config) error {
	mb, err := json.Marshal(meta{Addr: c.addr, Weight: c.weight, Left: c.leaving})
	if err != nil {
		return err
	}
	join := slices.Clone(cfg.Join)
	if st := c.current(); st != nil {
		for _, m := range st.Members() {
			if m.ID != c.self && !slices.Contains(join, m.GossipAddr) {
				join = append(join, m.GossipAddr)
			}
		}
	}
	mc := member.DefaultConfig()
	mc.NodeID = string(c.self)
	mc.BindAddr = cfg.Gossip
	mc.AdvertiseAddr = cfg.GossipAdvertise
	mc.Meta = mb
	mc.Join = join
	mc.State = c
	mc.Events = func(member.Member) { c.poke() }
	mc.Logger = c.log
	if c.secret != "" {
		// Gossip is encrypted and authenticated with a key derived from the
		// cluster secret, so only nodes that know it can join or speak.
		key := sha256.Sum256([]byte("dynakv gossip\x00" + c.secret))
		mc.SecretKey = key[:]
	}
	if cfg.GossipTuning != nil {
		cfg.GossipTuning(&mc)
	}
	ml, err := member.Start(mc)
	if err != nil {
		return fmt.Errorf("node: gossip: %w", err)
	}
	c.mu.Lock()
	c.ml = ml
	c.mu.Unlock()
	go c.reconcileLoop(ctx)
	return nil
}

// waitJoined blocks until this node is in the ring state.
func (c *cluster) waitJoined(ctx context.Context, timeout time.Duration) error {
	deadline := time.After(timeout)
	// NB: the state that admits this node reaches it by a gossiped notice
	// and a pull, or by the next push/pull (30 s apart); a lost notice or
	// pull must not cost the whole timeout, so ask the members every
	// second until admitted.
	ask := time.NewTicker(time.Second)
	defer ask.Stop()
	for {
		select {
		case <-c.joined:
			return nil
		case <-ask.C:
			if ml := c.membership(); ml != nil {
				ml.RequestState()
			}
		case <-deadline:
			return fmt.Errorf("%w after %v: is a node at --join reachable?", ErrNotJoined, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (c *cluster) poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

func (c *cluster) current() *ring.State {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.state
}

// install makes st the current state (the caller has persisted it).
func (c *cluster) install(st *ring.State) {
	c.mu.Lock()
	old := c.state
	c.state = st
	onChange := c.onChange
	// Drop connections to nodes that left or moved; new ones dial lazily.
	for id, r := range c.peers {
		m, ok := st.Member(ring.NodeID(id))
		if !ok || m.Addr != r.Addr() {
			r.Close()
			delete(c.peers, id)
		}
	}
	c.mu.Unlock()
	if _, ok := st.Member(c.self); ok {
		c.once.Do(func() { close(c.joined) })
	}
	if onChange != nil && old != nil {
		onChange(old, st)
	}
	c.poke()
}

// persist writes st to the data directory atomically and durably.
func (c *cluster) persist(st *ring.State) error {
	tmp := c.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("node: persist ring: %w", err)
	}
	_, err = f.Write(st.Encode())
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(tmp, c.path)
	}
	if err != nil {
		return fmt.Errorf("node: persist ring: %w", err)
	}
	return nil
}

// LocalState implements member.StateHandler.
func (c *cluster) LocalState() []byte {
	if st := c.current(); st != nil {
		return st.Encode()
	}
	return nil
}

// MergeState implements member.StateHandler: a newer or tie-winning remote
// state replaces ours.
func (c *cluster) MergeState(remote []byte) bool {
	if len(remote) == 0 {
		return false
	}
	rs, err := ring.Decode(remote)
	if err != nil {
		c.log.Warn("bad ring state from a peer", "err", err)
		return false
	}
	return c.adopt(rs)
}

// adopt merges rs into the current state, persisting and installing the
// result if it changed.
func (c *cluster) adopt(rs *ring.State) bool {
	c.mu.Lock()
	cur := c.state
	next := rs
	if cur != nil {
		next = ring.Merge(cur, rs)
		if next.Equal(cur) {
			c.mu.Unlock()
			return false
		}
	}
	c.mu.Unlock()
	if err := c.persist(next); err != nil {
		c.log.Error("cannot persist ring state", "err", err)
		return false
	}
	c.install(next)
	c.log.Info("ring state changed", "version", next.Version(), "members", len(next.Members()))
	return true
}

// change applies a local ring change and gossips it.
func (c *cluster) change(next *ring.State) error {
	if err := c.persist(next); err != nil {
		return err
	}
	c.install(next)
	c.log.Info("ring changed here", "version", next.Version(), "members", len(next.Members()))
	if ml := c.membership(); ml != nil {
		ml.Broadcast()
	}
	return nil
}

func (c *cluster) membership() *member.Membership {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.ml
}

func (c *cluster) reconcileLoop(ctx context.Context) {
	t := time.NewTicker(500 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.changed:
		case <-t.C:
		}
		c.reconcile()
	}
}

// reconcile admits alive gossip members that are not in the ring yet, and
// updates members whose advertised address or weight changed. Only the
// alive joined member with the smallest ID acts.
func (c *cluster) reconcile() {
	st, ml := c.current(), c.membership()
	if st == nil || ml == nil || !c.isLeader(st, ml) {
		return
	}
	for _, gm := range ml.Members() {
		if gm.State != member.Alive {
			continue
		}
		var md meta
		if err := json.Unmarshal(gm.Meta, &md); err != nil || md.Addr == "" || md.Left {
			continue
		}
		want := ring.Member{ID: ring.NodeID(gm.ID), Addr: md.Addr, GossipAddr: gm.GossipAddr, Weight: max(md.Weight, 1)}
		have, ok := st.Member(want.ID)
		var next *ring.State
		var err error
		switch {
		case !ok:
			next, _, err = st.Join(want)
		case have.Addr != want.Addr || have.GossipAddr != want.GossipAddr || have.Weight != want.Weight:
			want.Status = have.Status
			next, _, err = st.Update(want)
		default:
			continue
		}
		if err != nil {
			c.log.Warn("cannot admit member", "id", want.ID, "err", err)
			continue
		}
		if err := c.change(next); err != nil {
			c.log.Error("ring change failed", "err", err)
			return
		}
		st = next
	}
}

// isLeader reports whether this node is the alive joined member with the
// smallest ID.
func (c *cluster) isLeader(st *ring.State, ml *member.Membership) bool {
	for _, m := range st.Members() { // sorted by ID
		if m.Status != ring.StatusJoined {
			continue
		}
		if m.ID == c.self {
			return true
		}
		if ml.Liveness(string(m.ID)) == member.Alive {
			return false
		}
	}
	return false
}

// announceLeaving gossips meta.Left, so that the leader does not admit
// this node again once it has left.
func (c *cluster) announceLeaving() error {
	mb, err := json.Marshal(meta{Addr: c.addr, Weight: c.weight, Left: true})
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.leaving = true
	c.mu.Unlock()
	if ml := c.membership(); ml != nil {
		if err := ml.SetMeta(mb, 5*time.Second); err != nil {
			return fmt.Errorf("%w: %w", ErrLeave, err)
		}
	}
	return nil
}

// replicasOf returns the key's replicas: the top N of its serving list
// (its old replicas while its partition is handed off).
func (c *cluster) replicasOf(st *ring.State, key []byte) []ring.NodeID {
	return serving(st, st.KeyPartition(key))
}

// serving returns the top N of partition p's serving list.
func serving(st *ring.State, p int) []ring.NodeID {
	l := st.ServingList(p)
	return l[:min(len(l), st.Replicas())]
}

// peer returns the client of node id (dialled lazily), nil if unknown.
func (c *cluster) peer(id string) *peerclient.Client {
	c.mu.RLock()
	r := c.peers[id]
	st := c.state
	c.mu.RUnlock()
	if r != nil || st == nil {
		return r
	}
	m, ok := st.Member(ring.NodeID(id))
	if !ok {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if r = c.peers[id]; r == nil {
		pc, err := peerclient.New(peerclient.Config{ID: id, Addr: m.Addr, Secret: c.secret, Timeout: c.timeout})
		if err != nil {
			c.log.Warn("peer client", "node", id, "err", err)
			return nil
		}
		r = pc
		c.peers[id] = r
	}
	return r
}

// Peers implements coordinator.Peers.
func (c *cluster) Peers(id string) peer.Replica {
	if r := c.peer(id); r != nil {
		return r
	}
	return nil
}

// alive reports whether node id is believed to be up.
func (c *cluster) alive(id string) bool {
	if ring.NodeID(id) == c.self {
		return true
	}
	ml := c.membership()
	return ml != nil && ml.Liveness(id) == member.Alive
}

// close shuts gossip down and closes peer connections.
func (c *cluster) close() {
	if ml := c.membership(); ml != nil {
		if err := ml.Leave(time.Second); err != nil {
			c.log.Debug("gossip leave", "err", err)
		}
		ml.Shutdown()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, r := range c.peers {
		r.Close()
		delete(c.peers, id)
	}
}

// splitHostPort parses a RESP address for CLUSTER replies.
func splitHostPort(addr string) (string, int) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return h, port
}

// infoCluster is INFO's cluster section: the ring and member liveness.
func (c *cluster) infoCluster() resp.InfoSection {
	return resp.InfoSection{Name: "cluster", Default: true, Fields: func() []resp.InfoField {
		f := []resp.InfoField{{Name: "cluster_enabled", Value: "1"}}
		st := c.current()
		if st == nil {
			return f
		}
		counts := map[string]int{}
		var states []string
		for _, m := range st.Members() {
			l := "alive"
			if ml := c.membership(); m.ID != c.self && ml != nil {
				l = ml.Liveness(string(m.ID)).String()
			}
			counts[l]++
			states = append(states, string(m.ID)+"="+l)
		}
		return append(f,
			resp.InfoField{Name: "ring_version", Value: strconv.FormatUint(st.Version(), 10)},
			resp.InfoField{Name: "ring_partitions", Value: strconv.Itoa(st.Partitions())},
			resp.InfoField{Name: "ring_members", Value: strconv.Itoa(len(st.Members()))},
			resp.InfoField{Name: "nodes_alive", Value: strconv.Itoa(counts["alive"])},
			resp.InfoField{Name: "nodes_suspect", Value: strconv.Itoa(counts["suspect"])},
			resp.InfoField{Name: "nodes_dead", Value: strconv.Itoa(counts["dead"] + counts["left"] + counts["unknown"])},
			resp.InfoField{Name: "nodes", Value: strings.Join(states, ",")},
		)
	}}
}

// isMember reports whether id is in the current ring.
func (c *cluster) isMember(id string) bool {
	st := c.current()
	if st == nil {
		return true
	}
	_, ok := st.Member(ring.NodeID(id))
	return ok
}
