package node

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// respCluster presents the node to the RESP layer (resp.Cluster: the
// CLUSTER commands and write forwarding). Routing, the slot table and the
// one notion of healthy are the coordinator's.
type respCluster struct{ n *Node }

// Repair queues anti-entropy exchanges now (CLUSTER REPAIR).
func (r respCluster) Repair(p int) (int, error) {
	if r.n.ae == nil {
		return 0, resp.ErrNoRepair
	}
	n, err := r.n.ae.Enqueue(p)
	if errors.Is(err, antientropy.ErrPartition) {
		err = fmt.Errorf("%w: %w", resp.ErrBadPartition, err)
	}
	return n, err
}

// RepairPending returns the exchanges CLUSTER REPAIR queued that have not
// ended (CLUSTER REPAIR WAIT); 0 when anti-entropy is off.
func (r respCluster) RepairPending() int {
	if r.n.ae == nil {
		return 0
	}
	n, _ := r.n.ae.Pending()
	return n
}

// MyID returns this node's ID.
func (r respCluster) MyID() string { return r.n.cfg.ID }

// Version returns the ring state's version (0 before joining).
func (r respCluster) Version() uint64 {
	if st := r.n.cluster.Current(); st != nil {
		return st.Version()
	}
	return 0
}

// clientAddrs are the members' addresses the CLUSTER commands show, by
// node ID: plaintext (Cluster.ClientAddrs) and TLS
// (Cluster.TLSClientAddrs).
type clientAddrs struct{ plain, tls map[string]string }

func (r respCluster) clientAddrs() clientAddrs {
	return clientAddrs{r.n.cluster.ClientAddrs(), r.n.cluster.TLSClientAddrs()}
}

// node is member id as the CLUSTER commands show it. Its address is its
// cluster-client address (from clients) when it advertises one, so
// cluster-aware clients connect there and get per-master keyspace counts;
// else its RESP address, the ring's, which is the TLS one under
// tls-cluster. Port and TLSPort are those of its plaintext and TLS
// addresses (0 for none).
func (r respCluster) node(st *ring.State, clients clientAddrs, id string) resp.ClusterNode {
	m, _ := st.Member(ring.NodeID(id))
	plain, tlsAddr := clients.plain[id], clients.tls[id]
	if r.n.cfg.TLS.Cluster {
		tlsAddr = cmp.Or(tlsAddr, m.Addr)
	} else {
		plain = cmp.Or(plain, m.Addr)
	}
	host, port := splitAddr(plain)
	h, tlsPort := splitAddr(tlsAddr)
	if plain == "" {
		host = h
	}
	var bus int
	if _, gp, err := net.SplitHostPort(m.GossipAddr); err == nil {
		bus, _ = strconv.Atoi(gp)
	}
	return resp.ClusterNode{ID: id, Host: host, Port: port, TLSPort: tlsPort, BusPort: bus, Alive: r.n.coord.Healthy(id), Myself: id == r.n.cfg.ID}
}

// splitAddr splits host:port; a malformed addr is all host, port 0.
func splitAddr(addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, 0
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// Shards returns the coordinator's slot table (coordinator.Shards) with
// the members' addresses.
func (r respCluster) Shards() []resp.Shard {
	st := r.n.cluster.Current()
	if st == nil {
		return nil
	}
	clients := r.clientAddrs()
	var out []resp.Shard
	for _, sr := range r.n.coord.Shards() {
		sh := resp.Shard{Start: sr.Start, End: sr.End}
		for _, id := range sr.Replicas {
			sh.Replicas = append(sh.Replicas, r.node(st, clients, id))
		}
		out = append(out, sh)
	}
	return out
}

// Nodes returns every ring member with the slot ranges it leads.
func (r respCluster) Nodes() []resp.ClusterNode {
	st := r.n.cluster.Current()
	if st == nil {
		return nil
	}
	shards := r.n.coord.Shards()
	clients := r.clientAddrs()
	var out []resp.ClusterNode
	for _, m := range st.Members() {
		n := r.node(st, clients, string(m.ID))
		for _, sh := range shards {
			if len(sh.Replicas) > 0 && sh.Replicas[0] == n.ID {
				n.Slots = append(n.Slots, [2]int{sh.Start, sh.End})
			}
		}
		out = append(out, n)
	}
	return out
}

// Route is coordinator.Route: the key's first healthy replica
// coordinates a plain client's write (issue 11).
func (r respCluster) Route(key []byte) (string, bool) { return r.n.coord.Route(key) }

// RoutePeer is coordinator.RoutePeer: where a write that arrived on a peer
// connection is coordinated.
func (r respCluster) RoutePeer(key []byte) (string, bool) { return r.n.coord.RoutePeer(key) }

// RouteVia is coordinator.RouteVia.
func (r respCluster) RouteVia(key []byte, via string) (string, bool) {
	return r.n.coord.RouteVia(key, via)
}

// Forward sends a client command to node to on a peer connection and
// returns its raw RESP2 reply (see resp.Cluster.Forward).
func (r respCluster) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	p := r.n.peer(to)
	if p == nil {
		return nil, fmt.Errorf("%w: node: no route to %s", peer.ErrNotSent, to)
	}
	// NB: the other node coordinates the write and may wait its whole
	// request timeout for a quorum before replying, after receiving a
	// command of up to 512 MiB: without a deadline in ctx, allow twice the
	// request timeout.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*r.n.coord.Config().Timeout)
		defer cancel()
	}
	rep, err := p.ForwardProto(ctx, proto, args)
	r.n.coord.ObserveCall(to, err) // routing avoids a node forwards cannot reach
	return rep, err
}

// Forget removes a dead node from the ring for good (cluster.Forget).
func (r respCluster) Forget(_ context.Context, id string) error { return r.n.cluster.Forget(id) }

// Leave starts handing this node's partitions off and then removes it
// from the ring (CLUSTER LEAVE); it returns once the leave is under way.
func (r respCluster) Leave(context.Context) error { return r.n.transfer.StartLeave() }
