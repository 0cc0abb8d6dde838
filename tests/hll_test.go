package tests

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
)

// TestHLLPartitionedReplicasMergeToRedisUnion: issue 14's fault test for
// HyperLogLog. Three in-process nodes (N=3, R=1, W=1) are cut apart; each
// coordinates PFADDs of its own seeded elements (some shared, and enough
// on one node to make its HLL dense). After the partition heals, the
// replicas' states merge (as read repair and anti-entropy merge them)
// into the register-wise max: its PFCOUNT is redis-server's PFCOUNT of
// the union, and its bytes (GET) are those of redis-server's PFMERGE of
// the three nodes' HLLs into a new key.
func TestHLLPartitionedReplicasMergeToRedisUnion(t *testing.T) {
	redisAddr := startRedis(t, false)
	rc := plainClient(t, redisAddr)
	ctx := context.Background()
	c := newMemCluster(t, 3, coordinator.Config{N: 3, R: 1, W: 1, Timeout: 5 * time.Second})
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 14))
	ids := []string{"n1", "n2", "n3"}
	key := []byte("visitors")
	c.net.Partition([]string{"n1"}, []string{"n2"}, []string{"n3"})
	perNode := map[string][]any{}
	for round := 0; round < 20; round++ {
		for i, id := range ids {
			n := 5 + rng.IntN(20)
			if i == 0 {
				n = 200 // n1's HLL passes 3000 sparse bytes: dense
			}
			var elems [][]byte
			for range n {
				e := strconv.Itoa(rng.IntN(20000))
				elems = append(elems, []byte(e))
				perNode[id] = append(perNode[id], e)
			}
			_, _, err := c.coords[id].Update(ctx, key, coordinator.WriteOptions{ReadFirst: true}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
				d, _, err := crdt.PFAdd(cur, st, elems)
				return d, err
			})
			if err != nil {
				t.Fatalf("PFADD via %s under the partition: %v", id, err)
			}
		}
	}
	c.settle()
	c.net.Heal()
	var merged crdt.Object
	for _, id := range ids {
		o, err := c.stores[id].Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		merged = crdt.Merge(merged, o)
	}
	now := time.Now().UnixMilli()
	got, _, err := crdt.HLLCount(merged, now)
	if err != nil {
		t.Fatal(err)
	}
	var all []any
	for i, id := range ids {
		k := fmt.Sprintf("{v}%d", i)
		if err := rc.Do(ctx, append([]any{"PFADD", k}, perNode[id]...)...).Err(); err != nil {
			t.Fatal(err)
		}
		all = append(all, perNode[id]...)
	}
	if err := rc.Do(ctx, append([]any{"PFADD", "{v}union"}, all...)...).Err(); err != nil {
		t.Fatal(err)
	}
	want, err := rc.PFCount(ctx, "{v}union").Result()
	if err != nil {
		t.Fatal(err)
	}
	if int64(got) != want {
		t.Fatalf("merged PFCOUNT %d, redis-server's PFCOUNT of the union %d", got, want)
	}
	if err := rc.PFMerge(ctx, "{v}merged", "{v}0", "{v}1", "{v}2").Err(); err != nil {
		t.Fatal(err)
	}
	wantBytes, err := rc.Get(ctx, "{v}merged").Bytes()
	if err != nil {
		t.Fatal(err)
	}
	gotBytes, _, _ := crdt.Get(merged, now)
	if !bytes.Equal(gotBytes, wantBytes) {
		t.Fatalf("merged HLL bytes (%d) differ from redis-server's PFMERGE of the three (%d)", len(gotBytes), len(wantBytes))
	}
	t.Logf("%d elements added through 3 partitioned nodes; union count %d on both", len(all), got)
}
