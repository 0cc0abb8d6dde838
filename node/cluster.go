package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// ErrNotJoined reports a node that could not get into the ring in time.
var ErrNotJoined = cluster.ErrNotJoined

// nodeCluster is the ring-state holder (package cluster: adoption,
// persistence, admission, the leaving mark, the ring views of
// anti-entropy and INFO cluster) with the node's gossip and its
// connections to peers.
type nodeCluster struct {
	*cluster.Cluster
	self    ring.NodeID
	secret  string
	timeout time.Duration // bounds a peer call whose context has no deadline (--timeout)
	log     *slog.Logger
	// onChange is told of every installed state after the first (called
	// without locks held).
	onChange func(old, next *ring.State)

	mu    sync.Mutex
	peers map[string]*peerclient.Client
	ml    *member.Membership
}

func newCluster(cfg Config, addr string, onChange func(old, next *ring.State), log *slog.Logger) (*nodeCluster, error) {
	nc := &nodeCluster{self: ring.NodeID(cfg.ID), secret: cfg.ClusterSecret, timeout: cfg.Coordinator.Timeout,
		log: log, onChange: onChange, peers: map[string]*peerclient.Client{}}
	cc := cfg.Cluster
	cc.Self, cc.Addr, cc.GossipAddr, cc.Dir = nc.self, addr, cfg.Gossip, cfg.DataDir
	cc.Bootstrap, cc.Ring, cc.Logger, cc.OnChange = len(cfg.Join) == 0, cfg.Ring, log, nc.changed
	c, err := cluster.New(cc)
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	nc.Cluster = c
	return nc, nil
}

// changed drops connections to nodes that left or moved (new ones dial
// lazily) and passes the change on.
func (c *nodeCluster) changed(old, next *ring.State) {
	// NB: OnChange calls may arrive out of order; judge by the installed
	// state, not next, so a late call never keeps a stale address.
	st := c.Current()
	c.mu.Lock()
	for id, r := range c.peers {
		if m, ok := st.Member(ring.NodeID(id)); !ok || m.Addr != r.Addr() {
			r.Close()
			delete(c.peers, id)
		}
	}
	c.mu.Unlock()
	c.onChange(old, next)
}

// startGossip starts memberlist (joining cfg.Join and the members of a
// persisted ring) and the reconciler.
func (c *nodeCluster) startGossip(ctx context.Context, cfg Config) error {
	join := slices.Clone(cfg.Join)
	if st := c.Current(); st != nil {
		for _, m := range st.Members() {
			if m.ID != c.self && !slices.Contains(join, m.GossipAddr) {
				join = append(join, m.GossipAddr)
			}
		}
	}
	mc := member.DefaultConfig()
	mc.NodeID, mc.BindAddr, mc.AdvertiseAddr = string(c.self), cfg.Gossip, cfg.GossipAdvertise
	mc.Meta, mc.Join, mc.State, mc.Logger = c.Meta(), join, c.Cluster, c.log
	mc.Events = func(member.Member) { c.Poke() }
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
	c.Attach(ml)
	go c.Run(ctx)
	return nil
}

// peer returns the client of node id (dialled lazily), nil if unknown.
func (c *nodeCluster) peer(id string) *peerclient.Client {
	// NB: the state is read before c.mu is taken, never under it.
	st := c.Current()
	c.mu.Lock()
	defer c.mu.Unlock()
	if r := c.peers[id]; r != nil || st == nil {
		return r
	}
	m, ok := st.Member(ring.NodeID(id))
	if !ok {
		return nil
	}
	r, err := peerclient.New(peerclient.Config{ID: id, Addr: m.Addr, Secret: c.secret, Timeout: c.timeout})
	if err != nil {
		c.log.Warn("peer client", "node", id, "err", err)
		return nil
	}
	c.peers[id] = r
	return r
}

// Peers implements coordinator.Peers.
func (c *nodeCluster) Peers(id string) peer.Replica {
	if r := c.peer(id); r != nil {
		return r
	}
	return nil
}

// close shuts gossip down and closes peer connections.
func (c *nodeCluster) close() {
	c.mu.Lock()
	ml := c.ml
	c.mu.Unlock()
	if ml != nil {
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
