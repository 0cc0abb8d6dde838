package node

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// ErrNotJoined reports a node that could not get into the ring in time.
var ErrNotJoined = cluster.ErrNotJoined

// nodeCluster wires the cluster package into the node: the ring-state
// holder with its gossip (member.Membership), and the connections to
// peers. Ring-state adoption, persistence, admission and the leaving mark
// live in cluster/; this is only the composition and the short names the
// node's loops use.
type nodeCluster struct {
	*cluster.Cluster
	self   ring.NodeID
	secret string
	// timeout bounds a peer call whose context has no deadline (--timeout).
	timeout time.Duration
	log     *slog.Logger

	mu    sync.Mutex
	peers map[string]*peerclient.Client
	ml    *member.Membership

	// onChange, if set, is told of every installed state after the first
	// (set before gossip starts; called without locks held).
	onChange func(old, next *ring.State)
}

func newCluster(cfg Config, addr string, log *slog.Logger) (*nodeCluster, error) {
	nc := &nodeCluster{self: ring.NodeID(cfg.ID), secret: cfg.ClusterSecret, timeout: cfg.Timeout, log: log, peers: map[string]*peerclient.Client{}}
	cc := cluster.DefaultConfig()
	cc.Self = nc.self
	cc.Addr = addr
	cc.GossipAddr = cfg.Gossip
	cc.Weight = cfg.Weight
	cc.Dir = cfg.DataDir
	cc.Bootstrap = len(cfg.Join) == 0
	cc.Ring = ring.Config{Partitions: cfg.Partitions, Replicas: cfg.Replicas}
	cc.Logger = log
	cc.OnChange = nc.changed
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
		m, ok := st.Member(ring.NodeID(id))
		if !ok || m.Addr != r.Addr() {
			r.Close()
			delete(c.peers, id)
		}
	}
	onChange := c.onChange
	c.mu.Unlock()
	if onChange != nil {
		onChange(old, next)
	}
}

// startGossip starts memberlist and the reconciler.
func (c *nodeCluster) startGossip(ctx context.Context, cfg Config) error {
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
	mc.Meta = c.Meta()
	mc.Join = join
	mc.State = c.Cluster
	mc.Events = func(member.Member) { c.Poke() }
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
	c.Attach(ml)
	go c.Run(ctx)
	return nil
}

// waitJoined blocks until this node is in the ring state.
func (c *nodeCluster) waitJoined(ctx context.Context, timeout time.Duration) error {
	return c.WaitJoined(ctx, timeout)
}

func (c *nodeCluster) current() *ring.State { return c.Current() }

// change applies a local ring change and gossips it.
func (c *nodeCluster) change(next *ring.State) error { return c.Change(next) }

// replicasOf returns the key's replicas: the top N of its serving list
// (its old replicas while its partition is handed off).
func (c *nodeCluster) replicasOf(st *ring.State, key []byte) []ring.NodeID {
	return cluster.ReplicasOf(st, key)
}

// serving returns the top N of partition p's serving list.
func serving(st *ring.State, p int) []ring.NodeID { return cluster.Serving(st, p) }

// alive reports whether node id is believed to be up.
func (c *nodeCluster) alive(id string) bool { return c.Alive(id) }

// isMember reports whether id is in the current ring.
func (c *nodeCluster) isMember(id string) bool { return c.IsMember(id) }

// peer returns the client of node id (dialled lazily), nil if unknown.
func (c *nodeCluster) peer(id string) *peerclient.Client {
	c.mu.Lock()
	r := c.peers[id]
	c.mu.Unlock()
	st := c.current()
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
func (c *nodeCluster) infoCluster() resp.InfoSection {
	return resp.InfoSection{Name: "cluster", Default: true, Fields: func() []resp.InfoField {
		f := []resp.InfoField{{Name: "cluster_enabled", Value: "1"}}
		st := c.current()
		if st == nil {
			return f
		}
		counts := map[string]int{}
		var states []string
		for _, m := range st.Members() {
			l := c.Liveness(string(m.ID)).String()
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
