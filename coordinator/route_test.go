package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/dynakv/dynakv/coordinator"
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

func delFn(found *bool) func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
	return func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		_, *found = dvv.Winner(cur, now)
		if !*found {
			return nil, dvv.Sibling{}, errNoop
		}
		return cur.Join(), dvv.Sibling{Tombstone: true}, nil
	}
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
