package jepsen

import (
	"context"
	"fmt"
	"net"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/resp"
)

// simSecret is the simulated cluster's secret (peer connections).
const simSecret = "jepsen-sim"

// simRoute is a node's resp.Cluster in the simulation: routing is the
// coordinator's, as in node/resp_cluster.go, and Forward sends the
// command on a peer connection (peerclient over an in-memory pipe) to the
// target's RESP server, refused at once (peer.ErrNotSent) when the target
// is down or across a partition, as a refused connection is.
type simRoute struct {
	n       *simNode
	clients map[string]*peerclient.Client
}

func newSimRoute(n *simNode) (*simRoute, error) {
	r := &simRoute{n: n, clients: map[string]*peerclient.Client{}}
	for _, m := range n.c.st.Load().Members() {
		to := string(m.ID)
		if to == n.id {
			continue
		}
		cl, err := peerclient.New(peerclient.Config{ID: to, Addr: to, Secret: simSecret, PoolSize: 4,
			Dialer: nodeDialer{n.c, to}})
		if err != nil {
			return nil, err
		}
		r.clients[to] = cl
	}
	return r, nil
}

// nodeDialer dials node id's current RESP server (a restart replaces
// it) over an in-memory pipe.
type nodeDialer struct {
	c  *simCluster
	id string
}

func (d nodeDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d.c.byID[d.id].ln.dial(ctx, network, addr)
}

func (r *simRoute) close() {
	for _, cl := range r.clients {
		cl.Close()
	}
}

func (r *simRoute) MyID() string    { return r.n.id }
func (r *simRoute) Version() uint64 { return r.n.c.st.Load().Version() }

func (r *simRoute) Shards() []resp.Shard {
	var out []resp.Shard
	for _, sr := range r.n.coord.Shards() {
		sh := resp.Shard{Start: sr.Start, End: sr.End}
		for _, id := range sr.Replicas {
			sh.Replicas = append(sh.Replicas, resp.ClusterNode{ID: id, Host: id, Port: 6379, Alive: r.n.coord.Healthy(id), Myself: id == r.n.id})
		}
		out = append(out, sh)
	}
	return out
}

func (r *simRoute) Nodes() []resp.ClusterNode {
	var out []resp.ClusterNode
	for _, m := range r.n.c.st.Load().Members() {
		id := string(m.ID)
		out = append(out, resp.ClusterNode{ID: id, Host: id, Port: 6379, Alive: r.n.coord.Healthy(id), Myself: id == r.n.id})
	}
	return out
}

func (r *simRoute) Route(key []byte) (string, bool)     { return r.n.coord.Route(key) }
func (r *simRoute) RoutePeer(key []byte) (string, bool) { return r.n.coord.RoutePeer(key) }
func (r *simRoute) RouteVia(key []byte, via string) (string, bool) {
	return r.n.coord.RouteVia(key, via)
}

func (r *simRoute) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	cl := r.clients[to]
	if cl == nil || !r.n.c.reachable(r.n.id, to) {
		err := fmt.Errorf("%w: jepsen: %s cannot reach %s", peer.ErrNotSent, r.n.id, to)
		r.n.coord.ObserveCall(to, err)
		return nil, err
	}
	rep, err := cl.ForwardProto(ctx, proto, args)
	r.n.coord.ObserveCall(to, err)
	return rep, err
}

func (r *simRoute) Forget(context.Context, string) error { return nil }

var _ resp.Cluster = (*simRoute)(nil)
