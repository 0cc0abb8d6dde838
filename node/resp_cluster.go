package node

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// ErrForget reports a CLUSTER FORGET that cannot be done.
var ErrForget = errors.New("node: cannot forget node")

// respCluster presents the cluster to the RESP layer (CLUSTER commands and
// write forwarding).
type respCluster struct {
	c  *cluster
	h  *handoffs
	ae *antientropy.Scheduler // nil when anti-entropy is off
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
	if st := r.c.current(); st != nil {
		return st.Version()
	}
	return 0
}

// healthyFirst orders a preference list with the alive nodes first, each
// group in preference order: the first is what clients see as master.
func (r respCluster) healthyFirst(ids []ring.NodeID) []ring.NodeID {
	out := make([]ring.NodeID, 0, len(ids))
	for _, id := range ids {
		if r.c.alive(string(id)) {
			out = append(out, id)
		}
	}
	for _, id := range ids {
		if !r.c.alive(string(id)) {
			out = append(out, id)
		}
	}
	return out
}

func (r respCluster) node(st *ring.State, id ring.NodeID) resp.ClusterNode {
	m, _ := st.Member(id)
	host, port := splitHostPort(m.Addr)
	return resp.ClusterNode{ID: string(id), Host: host, Port: port, Alive: r.c.alive(string(id)), Myself: id == r.c.self}
}

// Shards returns each run of partitions with the same (healthy-first)
// replicas as one slot range.
func (r respCluster) Shards() []resp.Shard {
	st := r.c.current()
	if st == nil {
		return nil
	}
	q := st.Partitions()
	var out []resp.Shard
	var last []ring.NodeID
	for p := 0; p < q; p++ {
		ids := r.healthyFirst(serving(st, p))
		start, end := ring.SlotRange(p, q)
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
	st := r.c.current()
	if st == nil {
		return nil
	}
	shards := r.Shards()
	var out []resp.ClusterNode
	for _, m := range st.Members() {
		n := r.node(st, m.ID)
		for _, sh := range shards {
			if len(sh.Replicas) > 0 && sh.Replicas[0].ID == n.ID {
				n.Slots = append(n.Slots, [2]int{sh.Start, sh.End})
			}
		}
		out = append(out, n)
	}
	return out
}

// Route reports whether this node replicates key; otherwise the first
// healthy replica to forward a write to.
func (r respCluster) Route(key []byte) (string, bool) {
	st := r.c.current()
	if st == nil {
		return "", false
	}
	ids := r.c.replicasOf(st, key)
	if slices.Contains(ids, r.c.self) {
		return "", true
	}
	return string(r.healthyFirst(ids)[0]), false
}

// Forward sends a client command to node to.
func (r respCluster) Forward(ctx context.Context, to string, args [][]byte) (any, error) {
	p := r.c.peer(to)
	if p == nil {
		return nil, fmt.Errorf("node: no route to %s", to)
	}
	as := make([]any, len(args))
	for i, a := range args {
		as[i] = a
	}
	return p.Do(ctx, as...).Result()
}

// Forget removes a dead node from the ring for good.
func (r respCluster) Forget(_ context.Context, id string) error {
	st := r.c.current()
	switch {
	case st == nil:
		return fmt.Errorf("%w: not in a ring", ErrForget)
	case ring.NodeID(id) == r.c.self:
		return fmt.Errorf("%w: I tried hard but I can't forget myself", ErrForget)
	case r.c.alive(id):
		return fmt.Errorf("%w: %s is alive; stop it first (or CLUSTER LEAVE on it)", ErrForget, id)
	}
	if _, ok := st.Member(ring.NodeID(id)); !ok {
		return fmt.Errorf("%w: unknown node %s", ErrForget, id)
	}
	next, _, err := st.Forget(ring.NodeID(id))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrForget, err)
	}
	return r.c.change(next)
}

// Leave starts handing this node's partitions off and then removes it
// from the ring (CLUSTER LEAVE); it returns once the leave is under way.
func (r respCluster) Leave(context.Context) error { return r.h.startLeave() }

// RouteVia routes a versioned write to via, the replica that answered its
// token's read first, if via is a healthy replica of key (Dynamo §6.4);
// otherwise as Route.
func (r respCluster) RouteVia(key []byte, via string) (string, bool) {
	st := r.c.current()
	if st != nil && slices.Contains(r.c.replicasOf(st, key), ring.NodeID(via)) && r.c.alive(via) {
		if ring.NodeID(via) == r.c.self {
			return "", true
		}
		return via, false
	}
	return r.Route(key)
}
