package node

import (
	"context"
	"fmt"
	"net"
	"slices"
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
	pc := peerclient.Config{Secret: cfg.ClusterSecret, Timeout: cfg.Coordinator.Timeout}
	if cfg.TLS.Cluster {
		pc.Dialer = n.tls.dialer()
	}
	n.peers = peerclient.NewClients(pc,
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
	cc.ClientAddr, cc.TLSClientAddr = n.clientAddrs(addr)
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

// withoutSelf returns join without the entries that name this node's own
// gossip address adv (GossipAdvertise, else Gossip): same port, and a host
// that is, or resolves to, adv's IP. So every pod of a StatefulSet can be
// given the same --join (its first pod's stable DNS name) and the first
// pod, finding only itself there, starts the ring (deploy/k8s). An entry
// that does not resolve is kept; adv without a specific IP (":7946",
// "0.0.0.0:7946") keeps every entry.
func withoutSelf(join []string, adv string) []string {
	host, port, err := net.SplitHostPort(adv)
	self := net.ParseIP(host)
	if err != nil || self == nil || self.IsUnspecified() {
		return join
	}
	var out []string
	for _, j := range join {
		h, p, err := net.SplitHostPort(j)
		if err != nil || p != port {
			out = append(out, j)
			continue
		}
		ips := []string{h}
		if net.ParseIP(h) == nil {
			if ips, err = net.LookupHost(h); err != nil {
				out = append(out, j)
				continue
			}
		}
		if !slices.ContainsFunc(ips, func(ip string) bool { return net.ParseIP(ip).Equal(self) }) {
			out = append(out, j)
		}
	}
	return out
}
