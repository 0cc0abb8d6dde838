package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// ErrReadAll reports a ReadAll that did not hear from every replica of the
// key; the error text names the ones missing.
var ErrReadAll = errors.New("coordinator: not every replica answered")

// topN returns the first N nodes of a preference list: the key's replicas
// (Dynamo §4.3). Every top-N of the coordinator goes through here.
func (c *Coordinator) topN(prefs []string) []string {
	return prefs[:min(len(prefs), c.cfg.N)]
}

// replicas returns the key's replicas, the top N of its preference list.
func (c *Coordinator) replicas(key []byte) []string { return c.topN(c.place.Preference(key)) }

// Replicas returns the key's replicas: the top N of its preference list,
// in preference order (Dynamo §4.3); nil before there is a ring.
func (c *Coordinator) Replicas(key []byte) []string { return slices.Clone(c.replicas(key)) }

// SlotReplicas returns the slot range [from, to) of the partition holding
// slot and its replicas, the top N of its preference list. With a
// Placement that is not Partitioned, every slot is in one range [0, 16384)
// whose replicas are this node alone.
func (c *Coordinator) SlotReplicas(slot int) (from, to int, ids []string) {
	pp, ok := c.place.(Partitioned)
	if !ok {
		return 0, numSlots, []string{c.self}
	}
	from, to, prefs := pp.PartitionAt(slot)
	return from, to, slices.Clone(c.topN(prefs))
}

// gossipAlive reports the failure detector's verdict on id (Config.Healthy;
// every node is alive when it is nil).
func (c *Coordinator) gossipAlive(id string) bool {
	return id == c.self || c.cfg.Healthy == nil || c.cfg.Healthy(id)
}

// Healthy is the one notion of a healthy node, used by coordination
// (writes go to healthy replicas or to fallbacks for the others, Dynamo
// §4.6; reads ask the healthy replicas), by routing (Route, RouteVia) and
// by the slot table's masters: the failure detector (Config.Healthy,
// gossip) calls it alive and this coordinator does not suspect it after a
// failed call (see suspect.go). This node is always healthy.
func (c *Coordinator) Healthy(id string) bool {
	if id == c.self {
		return true
	}
	return c.gossipAlive(id) && !c.susp.avoided(id, c.local.NowMs())
}

// ObserveCall records the outcome of a call this node made to node id
// outside the coordinator (a forwarded write) in the coordinator's local
// failure detector, as its own calls are: a failure (other than a
// cancellation) makes id suspected for a backoff, a success clears the
// suspicion (see suspect.go). So routing, which reads Healthy, stops
// choosing a node its forwards cannot reach even while gossip calls it
// alive (Dynamo §4.6's local notion of failure).
func (c *Coordinator) ObserveCall(id string, err error) {
	if id == c.self {
		return
	}
	switch {
	case err == nil:
		c.susp.ok(id)
	case !errors.Is(err, context.Canceled):
		now := c.local.NowMs()
		if !c.susp.avoided(id, now) {
			c.stats.Suspicions.Add(1)
		}
		c.susp.failed(id, now)
	}
}

// Route tells where a plain client's write of key is coordinated: by the
// key's first healthy replica (the master CLUSTER SLOTS shows), here
// (local) when that is this node, else the node named by to; the first
// replica when none is healthy. With no ring yet it returns "", false.
//
// One coordinator per key serializes the conditional writes (SET NX/XX,
// GETSET, INCR's reply, HSETNX, SMOVE) while no node fails: each is
// decided on that node's own replica, which holds every earlier write it
// coordinated. Dynamo (§4.5) lets any of the top N coordinate; dynakv keeps
// that only for a write arriving from a peer at a top-N replica (the
// server does not forward it again: routing views may differ for a moment)
// and for VSET/VDEL with a token (RouteVia). See doc.go, "Conditional
// writes under a partition".
func (c *Coordinator) Route(key []byte) (to string, local bool) {
	top := c.replicas(key)
	if len(top) == 0 {
		return "", false
	}
	first := top[0]
	for _, id := range top {
		if c.Healthy(id) {
			first = id
			break
		}
	}
	if first == c.self {
		return "", true
	}
	return first, false
}

// RoutePeer tells where a write that arrived from another node (on a peer
// connection: a node forwarded it here) is coordinated: here when this
// node is one of the key's replicas (Update accepts it; the fault-5 rule:
// views of who is healthy may differ for a moment, and a forwarded write
// must not bounce between nodes), else as Route.
func (c *Coordinator) RoutePeer(key []byte) (to string, local bool) {
	if slices.Contains(c.replicas(key), c.self) {
		return "", true
	}
	return c.Route(key)
}

// RouteVia routes a versioned write whose context token names via, the
// replica that answered the token's read first: that replica coordinates
// it when it is a healthy replica of key (Dynamo §6.4: the write goes to
// the node that replied fastest to the read, which raises the chance of
// read-your-writes); otherwise the write is routed as Route does.
func (c *Coordinator) RouteVia(key []byte, via string) (to string, local bool) {
	if via != "" && slices.Contains(c.replicas(key), via) && c.Healthy(via) {
		if via == c.self {
			return "", true
		}
		return via, false
	}
	return c.Route(key)
}

// ReadAll reads key from every one of its N replicas (an R = N read, this
// node's own store included when it is one), without read repair, and
// returns each replica's object by node ID. Tombstone reaping uses it: a
// tombstone may go only once every replica holds it. If any replica does
// not answer within the request timeout (or ctx's deadline, if sooner) it
// returns the objects that did come and an error wrapping ErrReadAll.
func (c *Coordinator) ReadAll(ctx context.Context, key []byte) (map[string]crdt.Object, error) {
	top := c.replicas(key)
	if len(top) == 0 {
		return nil, fmt.Errorf("%w: %q has no replicas (no ring)", ErrReadAll, key)
	}
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	replies := make(chan reply, len(top))
	c.fanOutTo(ctx, replies, top, func(ctx context.Context, r peer.Store) (crdt.Object, error) { return r.Get(ctx, key) })
	out := make(map[string]crdt.Object, len(top))
	var missing []string
	var lastErr error
	for range top {
		rp := <-replies // every send replies: fanOutTo's ops end with ctx
		if rp.err != nil {
			missing = append(missing, rp.id)
			lastErr = rp.err
			continue
		}
		out[rp.id] = rp.obj
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return out, fmt.Errorf("%w: %q: no answer from %v (last error: %w)", ErrReadAll, key, missing, lastErr)
	}
	return out, nil
}
