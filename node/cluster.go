package node

import (
	"context"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// newCluster builds the ring-state holder (package cluster: adoption,
// persistence, admission, the leaving mark, the ring views of
// anti-entropy and INFO cluster) and the clients of the peers it names;
// addr is the advertised RESP address.
func (n *Node) newCluster(addr string) error {
	cfg := n.cfg
	n.peers = peerclient.NewClients(peerclient.Config{Secret: cfg.ClusterSecret, Timeout: cfg.Coordinator.Timeout},
		func(id string) (string, bool) {
			st := n.cluster.Current()
			if st == nil {
				return "", false
			}
			m, ok := st.Member(ring.NodeID(id))
			return m.Addr, ok
		})
	cc := cfg.Cluster
	cc.Self, cc.Addr, cc.GossipAddr, cc.Dir = ring.NodeID(cfg.ID), addr, cfg.Gossip, cfg.DataDir
	cc.ClientAddr = n.caddr
	cc.Bootstrap, cc.Ring, cc.Logger = len(cfg.Join) == 0, cfg.Ring, n.log
	// NB: OnChange calls may arrive out of order; Prune judges by the
	// installed state, so a late call never keeps a stale address.
	cc.OnChange = func(old, next *ring.State) { n.peers.Prune(); n.ringChanged(old, next) }
	c, err := cluster.New(cc)
	if err != nil {
		return fmt.Errorf("node: %w", err)
	}
	n.cluster = c
	return nil
}

// startGossip starts memberlist on cfg.Gossip, encrypted with a key of the
// cluster secret, and the reconciler.
func (n *Node) startGossip(ctx context.Context) (err error) {
	mc := member.DefaultConfig()
	mc.BindAddr, mc.AdvertiseAddr, mc.Join, mc.Logger = n.cfg.Gossip, n.cfg.GossipAdvertise, n.cfg.Join, n.log
	if n.cfg.ClusterSecret != "" {
		mc.SecretKey = cluster.GossipKey(n.cfg.ClusterSecret)
	}
	if n.cfg.GossipTuning != nil {
		n.cfg.GossipTuning(&mc)
	}
	n.ml, err = n.cluster.StartGossip(ctx, mc)
	return err
}

// peer returns node id's client, nil if the ring does not know id.
func (n *Node) peer(id string) *peerclient.Client {
	c, err := n.peers.Get(id)
	if err != nil {
		n.log.Warn("peer client", "node", id, "err", err)
	}
	return c
}

// replica is peer as the coordinator's Peers (an untyped nil if unknown).
func (n *Node) replica(id string) peer.Replica {
	if c := n.peer(id); c != nil {
		return c
	}
	return nil
}

// closeCluster leaves gossip and closes the peer clients.
func (n *Node) closeCluster() {
	if n.ml != nil {
		if err := n.ml.Leave(time.Second); err != nil {
			n.log.Debug("gossip leave", "err", err)
		}
		n.ml.Shutdown()
	}
	if n.peers != nil {
		n.peers.Close()
	}
}
