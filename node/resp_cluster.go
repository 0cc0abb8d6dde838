package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

// ErrForget reports a CLUSTER FORGET that cannot be done.
var ErrForget = cluster.ErrForget

// respCluster presents the cluster to the RESP layer (CLUSTER commands and
// write forwarding).
type respCluster struct {
	c  *nodeCluster
	t  *transfer.Transfer
	ae *antientropy.Scheduler   // nil when anti-entropy is off
	co *coordinator.Coordinator // routing, top N and the one notion of healthy
}

// Repair queues anti-entropy exchanges now (CLUSTER REPAIR).
func (r respCluster) Repair(p int) (int, error) {
	if r.ae == nil {
		return 0, resp.ErrNoRepair
	}
	n, err := r.ae.Enqueue(p)
	if errors.Is(err, antientropy.ErrPartition) {
		err = fmt.Errorf("%w: %w", resp.ErrBadPartition, err)
	}
	return n, err
}

// MyID returns this node's ID.
func (r respCluster) MyID() string { return string(r.c.self) }

// Version returns the ring state's version (0 before joining).
func (r respCluster) Version() uint64 {
	if st := r.c.Current(); st != nil {
		return st.Version()
	}
	return 0
}

// healthyFirst orders a replica list with the healthy nodes
// (coordinator.Healthy: gossip and the coordinator's suspicion) first,
// each group in preference order: the first is what clients see as master.
func (r respCluster) healthyFirst(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if r.co.Healthy(id) {
			out = append(out, id)
		}
	}
	for _, id := range ids {
		if !r.co.Healthy(id) {
			out = append(out, id)
		}
	}
	return out
}

func (r respCluster) node(st *ring.State, id string) resp.ClusterNode {
	m, _ := st.Member(ring.NodeID(id))
	host, p, err := net.SplitHostPort(m.Addr)
	if err != nil {
		host = m.Addr
	}
	port, _ := strconv.Atoi(p)
	return resp.ClusterNode{ID: id, Host: host, Port: port, Alive: r.co.Healthy(id), Myself: ring.NodeID(id) == r.c.self}
}

// Shards returns each run of partitions with the same (healthy-first)
// replicas, the coordinator's top N, as one slot range.
func (r respCluster) Shards() []resp.Shard {
	st := r.c.Current()
	if st == nil {
		return nil
	}
	var out []resp.Shard
	var last []string
	for slot := 0; slot < ring.Slots; {
		start, end, top := r.co.SlotReplicas(slot)
		slot = end
		ids := r.healthyFirst(top)
		if len(out) > 0 && slices.Equal(ids, last) {
			out[len(out)-1].End = end - 1
			continue
		}
		sh := resp.Shard{Start: start, End: end - 1}
		for _, id := range ids {
			sh.Replicas = append(sh.Replicas, r.node(st, id))
		}
		out = append(out, sh)
		last = ids
	}
	return out
}

// Nodes returns every ring member with the slot ranges it leads.
func (r respCluster) Nodes() []resp.ClusterNode {
	st := r.c.Current()
	if st == nil {
		return nil
	}
	shards := r.Shards()
	var out []resp.ClusterNode
	for _, m := range st.Members() {
		n := r.node(st, string(m.ID))
		for _, sh := range shards {
			if len(sh.Replicas) > 0 && sh.Replicas[0].ID == n.ID {
				n.Slots = append(n.Slots, [2]int{sh.Start, sh.End})
			}
		}
		out = append(out, n)
	}
	return out
}

// Route is coordinator.Route.
func (r respCluster) Route(key []byte) (string, bool) { return r.co.Route(key) }

// RouteVia is coordinator.RouteVia.
func (r respCluster) RouteVia(key []byte, via string) (string, bool) { return r.co.RouteVia(key, via) }

// Forward sends a client command to node to on a peer connection and
// returns its raw RESP2 reply (see resp.Cluster.Forward).
func (r respCluster) Forward(ctx context.Context, to string, args [][]byte) ([]byte, error) {
	p := r.c.peer(to)
	if p == nil {
		return nil, fmt.Errorf("node: no route to %s", to)
	}
	// NB: the other node coordinates the write and may wait its whole
	// request timeout for a quorum before replying, after receiving a
	// command of up to 512 MiB: without a deadline in ctx, allow twice the
	// request timeout.
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 2*r.co.Config().Timeout)
		defer cancel()
	}
	rep, err := p.Forward(ctx, args)
	r.co.ObserveCall(to, err) // routing avoids a node forwards cannot reach
	return rep, err
}

// Forget removes a dead node from the ring for good (cluster.Forget).
func (r respCluster) Forget(_ context.Context, id string) error { return r.c.Forget(id) }

// Leave starts handing this node's partitions off and then removes it
// from the ring (CLUSTER LEAVE); it returns once the leave is under way.
func (r respCluster) Leave(context.Context) error { return r.t.StartLeave() }
