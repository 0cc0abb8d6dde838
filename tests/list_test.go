package tests

// Lists (issue 14) across nodes: concurrent pushes under a partition, and
// a blocked BLPOP woken by a push through another node.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/redis/go-redis/v9"
)

// pushMutator is LPUSH (left) or RPUSH of vals as a coordinator write.
func pushMutator(vals []string, left bool) crdt.Mutator {
	return func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		var bs [][]byte
		for _, v := range vals {
			bs = append(bs, []byte(v))
		}
		d, _, err := crdt.ListPush(cur, st, bs, left, false)
		return d, err
	}
}

func listOf(t *testing.T, o crdt.Object) []string {
	t.Helper()
	vs, err := crdt.ListRange(o, time.Now().UnixMilli(), 0, -1)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range vs {
		out = append(out, string(v))
	}
	return out
}

// TestListPartitionKeepsConcurrentPushes: three in-process nodes (N=3,
// W=1) on the fault network push to one list, first together, then each
// alone while every node is cut off from the others (LPUSH and RPUSH of
// one to three elements, seeded). After the partition heals, a read at
// R=3 (whose read repair writes the merge back) shows every element
// pushed exactly once, each multi-element push contiguous and in Redis's
// order, and every node's own replica holds that same list in that same
// order.
func TestListPartitionKeepsConcurrentPushes(t *testing.T) {
	c := newMemCluster(t, 3, coordinator.Config{N: 3, R: 1, W: 1, Timeout: 5 * time.Second})
	ctx := context.Background()
	rnd := rand.New(rand.NewPCG(testseed.Seed(t), 14))
	key := []byte("queue")
	ids := []string{"n1", "n2", "n3"}
	var pushes [][]string // each push's elements in list order
	push := func(id string, i int) {
		k := 1 + rnd.IntN(3)
		var vals []string
		for j := range k {
			vals = append(vals, fmt.Sprintf("%s.%d.%d", id, i, j))
		}
		left := rnd.IntN(2) == 0
		if _, _, err := c.coords[id].Update(ctx, key, coordinator.WriteOptions{ReadFirst: true}, pushMutator(vals, left)); err != nil {
			t.Fatalf("push through %s: %v", id, err)
		}
		if left {
			vals = slices.Clone(vals)
			slices.Reverse(vals)
		}
		pushes = append(pushes, vals)
	}
	for i, id := range ids {
		push(id, i)
	}
	c.settle()
	c.net.Partition([]string{"n1"}, []string{"n2"}, []string{"n3"})
	for i := range 30 {
		push(ids[rnd.IntN(3)], 10+i)
	}
	c.settle()
	c.net.Heal()
	o, err := c.coords["n1"].Get(ctx, key, coordinator.ReadOptions{R: 3})
	if err != nil {
		t.Fatal(err)
	}
	c.settle()
	got := listOf(t, o)
	var all []string
	for _, p := range pushes {
		all = append(all, p...)
	}
	if want := slices.Sorted(slices.Values(all)); !slices.Equal(slices.Sorted(slices.Values(got)), want) {
		t.Fatalf("after heal: %d elements %v, want every one of the %d pushed", len(got), got, len(all))
	}
	joined := " " + strings.Join(got, " ") + " "
	for _, p := range pushes {
		if !strings.Contains(joined, " "+strings.Join(p, " ")+" ") {
			t.Fatalf("the push %v is not contiguous in order in %v", p, got)
		}
	}
	for _, id := range ids {
		o, err := c.stores[id].Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if mine := listOf(t, o); !slices.Equal(mine, got) {
			t.Fatalf("%s's replica after read repair: %v\nwant %v", id, mine, got)
		}
	}
	t.Logf("%d pushes, %d elements, one order on n1, n2, n3", len(pushes), len(got))
}

// TestBLPopWokenThroughAnotherNode: in a 3-node in-process cluster (real
// RESP, N=3 R=2 W=2), a client blocked in BLPOP on n1 is served the
// element a client RPUSHes through n3, the list is then empty through
// every node, and a second BLPOP through n2 times out with a null. The
// wake-up latency is logged, not asserted.
func TestBLPopWokenThroughAnotherNode(t *testing.T) {
	nodes := startNodes(t, 3)
	client := func(i int) *redis.Client {
		c := redis.NewClient(&redis.Options{Addr: nodes[i].Addr(), MaxRetries: -1, ReadTimeout: 30 * time.Second})
		t.Cleanup(func() { c.Close() })
		return c
	}
	c1, c2, c3 := client(0), client(1), client(2)
	ctx := ctxT(t)
	for round := range 3 {
		key := fmt.Sprintf("jobs:%d", round)
		got := make(chan []string, 1)
		errs := make(chan error, 1)
		go func() {
			v, err := c1.BLPop(ctx, 20*time.Second, key).Result()
			got <- v
			errs <- err
		}()
		// The BLPOP is blocked on the key's coordinator once n1 reports
		// nothing (it waits there): wait for a blocked command anywhere.
		eventually(t, "a BLPOP blocked in the cluster", 10*time.Second, func() error {
			for _, n := range nodes {
				if n.BlockedClients() > 0 {
					return nil
				}
			}
			return fmt.Errorf("no node reports a blocked command")
		})
		start := time.Now()
		if err := c3.RPush(ctx, key, "job").Err(); err != nil {
			t.Fatal(err)
		}
		v := <-got
		if err := <-errs; err != nil || !slices.Equal(v, []string{key, "job"}) {
			t.Fatalf("BLPOP through n1: %v %v, want [%s job]", v, err, key)
		}
		t.Logf("round %d: BLPOP on n1 woken by RPUSH through n3 after %v", round, time.Since(start))
		for i, c := range []*redis.Client{c1, c2, c3} {
			if n := c.LLen(ctx, key).Val(); n != 0 {
				t.Fatalf("LLEN through n%d = %d after the pop", i+1, n)
			}
		}
	}
	if err := c2.Do(ctx, "BLPOP", "jobs:none", "0.2").Err(); err != redis.Nil {
		t.Fatalf("BLPOP timeout through n2: %v, want nil", err)
	}
	// CLIENT UNBLOCK on n1 ends the BLPOP (waiting on n1 or forwarded to
	// the key's coordinator) with a null, and a later push stays in the
	// list: the abandoned waiter pops nothing.
	blocked := func() (string, error) {
		for _, n := range nodes {
			if n.BlockedClients() > 0 {
				return n.ID(), nil
			}
		}
		return "", fmt.Errorf("no node reports a blocked command")
	}
	for i := range 4 {
		key := fmt.Sprintf("unblock:%d", i)
		conn := c1.Conn()
		id, err := conn.ClientID(ctx).Result()
		if err != nil {
			t.Fatal(err)
		}
		res := make(chan error, 1)
		go func() { res <- conn.BLPop(ctx, 20*time.Second, key).Err() }()
		var where string
		eventually(t, "a BLPOP blocked in the cluster", 10*time.Second, func() (err error) {
			where, err = blocked()
			return err
		})
		if n, err := c1.ClientUnblock(ctx, id).Result(); err != nil || n != 1 {
			t.Fatalf("CLIENT UNBLOCK %d on n1: %v %v", id, n, err)
		}
		if err := <-res; err != redis.Nil {
			t.Fatalf("BLPOP after CLIENT UNBLOCK: %v, want nil", err)
		}
		conn.Close()
		if err := c3.RPush(ctx, key, "kept").Err(); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the abandoned waiter gone", 10*time.Second, func() error {
			if id, err := blocked(); err == nil {
				return fmt.Errorf("%s still reports a blocked command", id)
			}
			return nil
		})
		if n := c2.LLen(ctx, key).Val(); n != 1 {
			t.Fatalf("LLEN %s = %d after the unblocked BLPOP (waiting on %s), want 1", key, n, where)
		}
		t.Logf("%s: BLPOP through n1 waited on %s, unblocked, lost nothing", key, where)
	}
}
