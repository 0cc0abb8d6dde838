package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// views gives each node its own failure detector: a node sees another as
// healthy when it is up and on the same side of the current cut, as
// gossip would once it noticed.
type views struct {
	c   *cluster
	mu  sync.Mutex
	cut map[string]int // side of each node; missing nodes on side 0
}

func (v *views) setCut(groups ...[]string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cut = map[string]int{}
	for i, g := range groups {
		for _, id := range g {
			v.cut[id] = i + 1
		}
	}
	v.c.net.Partition(groups...)
}

func (v *views) healthyFrom(from string) func(string) bool {
	return func(id string) bool {
		v.mu.Lock()
		defer v.mu.Unlock()
		return v.c.net.Up(id) && v.cut[id] == v.cut[from]
	}
}

// newViewCluster is newRingCluster whose coordinators each use their own
// view of health (see views).
func newViewCluster(t *testing.T, cfg coordinator.Config, n int) (*cluster, *views) {
	c := newRingCluster(t, seed(t), cfg, n, nil)
	v := &views{c: c, cut: map[string]int{}}
	place := coordinator.RingPlacement(func() *ring.State { return c.ring })
	for id, s := range c.stores {
		cc := cfg
		cc.Healthy = v.healthyFrom(id)
		co, err := coordinator.New(cc, s, place, c.net.Peers(id))
		if err != nil {
			t.Fatal(err)
		}
		c.coords[id] = co
	}
	return c, v
}

// keysReplicatedBy returns count keys whose replicas are exactly the nodes
// in set (in any order).
func (c *cluster) keysReplicatedBy(prefix string, count int, set ...string) [][]byte {
	var out [][]byte
	for i := 0; len(out) < count; i++ {
		k := fmt.Sprintf("%s%d", prefix, i)
		top := c.replicasOf(k)
		slices.Sort(top)
		if slices.Equal(top, set) {
			out = append(out, []byte(k))
		}
	}
	return out
}

// delFn is DEL's update: a tombstone over the whole context if the key has
// a live value (found), else no write.
var errNoop = errors.New("no-op")

func delFn(found *bool) crdt.Mutator {
	return crdt.FromUpdate(func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		_, *found = dvv.Winner(cur, now)
		if !*found {
			return nil, dvv.Sibling{}, errNoop
		}
		return cur.Join(), dvv.Sibling{Tombstone: true}, nil
	})
}

// TestDegradedReadSeesFallbackHints is fault 3 of issue 10. Four nodes,
// N=3 R=2 W=2: with {n1, n4} cut off from {n2, n3}, writes of keys whose
// replicas are n1, n2, n3 are acknowledged through n1 by n1 and the
// fallback n4 (a hint for n2 or n3). Then n1 stops and the cut heals. A GET
// through n2 must return the value, and a DEL through n2 must find the key
// (reply 1) and delete it; after n1 comes back and the hints are handed
// off, the deleted key stays deleted. On the old code the read asked only
// n2 and n3, which never got the write: GET found nothing and DEL replied
// 0 and wrote nothing, so the value came back with n1.
func TestDegradedReadSeesFallbackHints(t *testing.T) {
	c, v := newViewCluster(t, cfg323(), 4)
	ctx := context.Background()
	getKeys := c.keysReplicatedBy("get-", 5, "n1", "n2", "n3")
	delKeys := c.keysReplicatedBy("del-", 5, "n1", "n2", "n3")
	// While every replica is healthy a read asks no fallback.
	before := c.net.Attempts("n4")
	if _, err := c.coords["n2"].Get(ctx, getKeys[0], coordinator.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	c.coords["n2"].Wait()
	if n := c.net.Attempts("n4") - before; n != 0 {
		t.Fatalf("a read with every replica healthy made %d calls to the fallback n4", n)
	}
	v.setCut([]string{"n1", "n4"}, []string{"n2", "n3"})
	for _, k := range append(slices.Clone(getKeys), delKeys...) {
		if _, _, err := c.coords["n1"].Update(ctx, k, coordinator.WriteOptions{}, setFn("v")); err != nil {
			t.Fatalf("SET %s through n1 across the cut: %v", k, err)
		}
	}
	if c.pendingHints(t, "n2")+c.pendingHints(t, "n3") == 0 {
		t.Fatal("no hints were written: the test does not exercise fallbacks")
	}
	c.net.SetDown("n1", true)
	v.setCut()
	for _, k := range getKeys {
		o, err := c.coords["n2"].Get(ctx, k, coordinator.ReadOptions{})
		if err != nil {
			t.Fatalf("GET %s through n2: %v", k, err)
		}
		if got := liveValues(o); !slices.Equal(got, []string{"v"}) {
			t.Errorf("GET %s through n2 with n1 down = %q, want the acknowledged [v]", k, got)
		}
	}
	for _, k := range delKeys {
		var found bool
		_, _, err := c.coords["n2"].Update(ctx, k, coordinator.WriteOptions{ReadFirst: true}, delFn(&found))
		if err != nil && !errors.Is(err, errNoop) {
			t.Fatalf("DEL %s through n2: %v", k, err)
		}
		if !found {
			t.Errorf("DEL %s through n2 with n1 down replied 0: the acknowledged write was missed", k)
		}
	}
	for _, co := range c.coords {
		co.Wait()
	}
	c.net.SetDown("n1", false)
	c.handoffAll(t)
	for _, co := range c.coords {
		co.Wait()
	}
	for _, k := range delKeys {
		for _, reader := range []string{"n1", "n2", "n3", "n4"} {
			o, err := c.coords[reader].Get(ctx, k, coordinator.ReadOptions{R: 3})
			if err != nil {
				t.Fatalf("GET %s through %s after n1 returned: %v", k, reader, err)
			}
			if got := liveValues(o); len(got) != 0 {
				t.Errorf("deleted key %s reads %q through %s once n1 and the hints are back", k, got, reader)
			}
		}
	}
}

// TestRouteUsesTopNAndOneHealth: Route keeps a write here on a replica of
// the key and otherwise names its first healthy replica, where healthy is
// gossip's verdict and this coordinator's suspicion together; RouteVia
// honours the token's via node only when it is a healthy replica (Dynamo
// §6.4).
func TestRouteUsesTopNAndOneHealth(t *testing.T) {
	// The clock stands still, so the suspicion does not run out mid-test.
	frozen := time.UnixMilli(1_700_000_000_000)
	c := newRingClusterClock(t, seed(t), cfg323(), 4, nil, func() time.Time { return frozen })
	ctx := context.Background()
	k := []byte("route-key")
	top := c.replicasOf(string(k))
	var other string
	for id := range c.coords {
		if !slices.Contains(top, id) {
			other = id
		}
	}
	co := c.coords[other]
	if got := co.Replicas(k); !slices.Equal(got, top) {
		t.Fatalf("Replicas = %v, want %v", got, top)
	}
	// Issue 11: a plain write is coordinated by the first healthy replica
	// (the slot's master), even when it arrives at another replica.
	if to, local := c.coords[top[1]].Route(k); to != top[0] || local {
		t.Errorf("Route on replica %s = %q, %v; want %s (the first replica)", top[1], to, local, top[0])
	}
	if to, local := c.coords[top[0]].Route(k); to != "" || !local {
		t.Errorf("Route on the first replica %s = %q, %v; want local", top[0], to, local)
	}
	if to, local := co.Route(k); to != top[0] || local {
		t.Errorf("Route on %s = %q, %v; want %s", other, to, local, top[0])
	}
	// Gossip says top[0] is up, but calls from other to it fail: after one
	// failed read it is suspected, and routing avoids it like coordination.
	c.net.Partition([]string{top[0]})
	if _, err := co.Get(ctx, k, coordinator.ReadOptions{}); err != nil {
		t.Fatal(err)
	}
	co.Wait() // the failed call's reply is drained (and its suspicion recorded)
	if co.Healthy(top[0]) || !co.Healthy(top[1]) || !co.Healthy(other) {
		t.Fatalf("Healthy after a failed call to %s: %v %v %v", top[0], co.Healthy(top[0]), co.Healthy(top[1]), co.Healthy(other))
	}
	if to, local := co.Route(k); to != top[1] || local {
		t.Errorf("Route with %s suspected = %q, %v; want %s", top[0], to, local, top[1])
	}
	for _, tc := range []struct{ on, via, to string }{
		{other, top[0], top[1]}, // via suspected: as Route
		{other, top[2], top[2]}, // via a healthy replica
		{other, other, top[1]},  // via not a replica: as Route
		{other, "", top[1]},     // no via
		{top[1], top[2], top[2]},
		{top[2], top[2], ""}, // via is this node: local
	} {
		to, local := c.coords[tc.on].RouteVia(k, tc.via)
		if to != tc.to || local != (tc.to == "") {
			t.Errorf("RouteVia on %s via %q = %q, %v; want %q", tc.on, tc.via, to, local, tc.to)
		}
	}
	c.net.SetDown(top[1], true) // gossip's verdict
	if to, _ := co.Route(k); to != top[2] {
		t.Errorf("Route with %s suspected and %s down = %q, want %s", top[0], top[1], to, top[2])
	}
}

// TestReadAllAsksEveryReplica: ReadAll returns every replica's object, and
// ErrReadAll (with the answers it got) when one replica does not answer.
func TestReadAllAsksEveryReplica(t *testing.T) {
	c := newRingCluster(t, seed(t), cfg323(), 4, nil)
	ctx := context.Background()
	k := []byte("readall-key")
	top := c.replicasOf(string(k))
	if _, _, err := c.coords[top[0]].Update(ctx, k, coordinator.WriteOptions{W: 3}, setFn("v")); err != nil {
		t.Fatal(err)
	}
	for _, from := range []string{top[0], "n1", "n2", "n3", "n4"} {
		got, err := c.coords[from].ReadAll(ctx, k)
		if err != nil || len(got) != 3 {
			t.Fatalf("ReadAll through %s = %d objects, %v; want 3", from, len(got), err)
		}
		for _, id := range top {
			if v := liveValues(got[id]); !slices.Equal(v, []string{"v"}) {
				t.Errorf("ReadAll through %s: %s holds %q", from, id, v)
			}
		}
	}
	c.net.SetDown(top[2], true)
	got, err := c.coords[top[0]].ReadAll(ctx, k)
	if !errors.Is(err, coordinator.ErrReadAll) || len(got) != 2 {
		t.Fatalf("ReadAll with %s down = %d objects, %v; want 2 and ErrReadAll", top[2], len(got), err)
	}
	if _, ok := got[top[2]]; ok {
		t.Errorf("ReadAll returned an object for the down replica")
	}
}

// TestSlotReplicasMatchesKeyReplicas: the slot table's replicas of a
// key's slot are the key's replicas.
func TestSlotReplicasMatchesKeyReplicas(t *testing.T) {
	c := newRingCluster(t, seed(t), cfg323(), 4, nil)
	for i := range 50 {
		k := fmt.Sprintf("slot-%d", i)
		slot := int(ring.Slot([]byte(k)))
		from, to, ids := c.coords["n1"].SlotReplicas(slot)
		if from > slot || slot >= to || !slices.Equal(ids, c.replicasOf(k)) {
			t.Errorf("SlotReplicas(%d) = [%d,%d) %v; key %s has replicas %v", slot, from, to, ids, k, c.replicasOf(k))
		}
	}
}

// TestObserveCallFeedsRouting: a failed call reported from outside the
// coordinator (a forwarded write) makes routing avoid the node, and a
// successful one makes it healthy again.
func TestObserveCallFeedsRouting(t *testing.T) {
	frozen := time.UnixMilli(1_700_000_000_000)
	c := newRingClusterClock(t, seed(t), cfg323(), 4, nil, func() time.Time { return frozen })
	k := []byte("observe-key")
	top := c.replicasOf(string(k))
	var other string
	for id := range c.coords {
		if !slices.Contains(top, id) {
			other = id
		}
	}
	co := c.coords[other]
	co.ObserveCall(top[0], errors.New("connection refused"))
	if to, _ := co.Route(k); to != top[1] || co.Healthy(top[0]) {
		t.Errorf("Route after a failed forward to %s = %q (healthy %v), want %s", top[0], to, co.Healthy(top[0]), top[1])
	}
	co.ObserveCall(top[0], context.Canceled) // not the node's fault: no change
	co.ObserveCall(top[0], nil)
	if to, _ := co.Route(k); to != top[0] || !co.Healthy(top[0]) {
		t.Errorf("Route after a successful call to %s = %q, want it back", top[0], to)
	}
}
