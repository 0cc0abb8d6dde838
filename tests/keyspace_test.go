package tests

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Issue 12's keyspace scenarios: SCAN from a client that keeps the cursor
// as a double sees every key once, and cluster-aware clients that sum
// per-master answers (go-redis ClusterClient.DBSize and ForEachMaster,
// redis-cli --cluster check, INFO keyspace) count each key once.

// loadKeyspace writes n keys "ks:<i>" through c in pipelines.
func loadKeyspace(t *testing.T, c redis.Cmdable, n int) []string {
	t.Helper()
	ctx := ctxT(t)
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("ks:%d", i)
	}
	for from := 0; from < n; from += 500 {
		pipe := c.Pipeline()
		for _, k := range keys[from:min(from+500, n)] {
			pipe.Set(ctx, k, "v", 0)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// scanAsDouble pages SCAN ... COUNT count through c as a client that
// keeps the cursor as a double does (parse to float64, format back), and
// returns every key of every page and the largest cursor seen.
func scanAsDouble(t *testing.T, c *redis.Client, count int) (keys []string, top uint64) {
	t.Helper()
	ctx := ctxT(t)
	cursor := "0"
	for pages := 0; ; pages++ {
		if pages > 1_000_000 {
			t.Fatal("SCAN does not end")
		}
		rep, err := c.Do(ctx, "SCAN", cursor, "COUNT", count).Slice()
		if err != nil {
			t.Fatal(err)
		}
		next := rep[0].(string)
		for _, k := range rep[1].([]any) {
			keys = append(keys, k.(string))
		}
		u, err := strconv.ParseUint(next, 10, 64)
		if err != nil {
			t.Fatalf("cursor %q: %v", next, err)
		}
		top = max(top, u)
		if next == "0" {
			return keys, top
		}
		f, _ := strconv.ParseFloat(next, 64)
		cursor = strconv.FormatFloat(f, 'f', -1, 64)
	}
}

// onceEach fails t unless got holds each key of want exactly once.
func onceEach(t *testing.T, what string, got, want []string) {
	t.Helper()
	seen := make(map[string]int, len(got))
	for _, k := range got {
		seen[k]++
	}
	var missing, dup int
	for _, k := range want {
		switch seen[k] {
		case 0:
			missing++
		case 1:
		default:
			dup++
		}
	}
	if missing > 0 || dup > 0 || len(got) != len(want) {
		t.Fatalf("%s: %d keys returned for %d: %d missing, %d repeated", what, len(got), len(want), missing, dup)
	}
}

// TestKeyspaceScanAsDoubleLone: on a lone node, SCAN of 10,000 keys
// through a client that keeps its cursor as a double returns each key
// once, every cursor below 2³²; DBSIZE on the cluster-client port (this
// node is master of every slot) is the true count, and RENAME keeps the
// value and TTL. The default tier's check.
func TestKeyspaceScanAsDoubleLone(t *testing.T) {
	p := StartServer(t, "n1", "--nosync") // the keys' fsyncs are not what is tested
	c := p.Client(t)
	keys := loadKeyspace(t, c, 10000)
	got, top := scanAsDouble(t, c, 100)
	onceEach(t, "SCAN COUNT 100 through a double", got, keys)
	if top >= 1<<32 {
		t.Fatalf("cursor %d is not below 2^32", top)
	}
	t.Logf("lone node: SCAN returned %d keys once each, largest cursor %d", len(got), top)
	ctx := ctxT(t)
	cc := redis.NewClient(&redis.Options{Addr: p.ClusterAddr, MaxRetries: -1})
	t.Cleanup(func() { cc.Close() })
	if n := must(cc.DBSize(ctx).Result())(t); n != int64(len(keys)) {
		t.Fatalf("DBSIZE on the cluster-client port = %d, want %d", n, len(keys))
	}
	must(c.Do(ctx, "SET", "{r}a", "v", "EX", "100").Result())(t)
	must(c.Rename(ctx, "{r}a", "{r}b").Result())(t)
	if ttl := must(c.TTL(ctx, "{r}b").Result())(t); ttl <= 0 {
		t.Fatalf("TTL after RENAME = %v", ttl)
	}
}

// TestKeyspaceClusterClients: on a 3-node cluster (N=3) holding 10,000
// keys, (a) SCAN through a double on every node's main port returns each
// key once; (b) go-redis ClusterClient.DBSize is the true count and a
// per-master SCAN (ForEachMaster) sees each key once; INFO keyspace and
// CLUSTER COUNTKEYSINSLOT summed over the masters are the true count; (c)
// redis-cli --cluster check reports the true count.
func TestKeyspaceClusterClients(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	keys := loadKeyspace(t, procs[0].Client(t), 10000)

	t.Run("SCAN as double on each node", func(t *testing.T) {
		for _, p := range procs {
			got, top := scanAsDouble(t, p.Client(t), 10)
			onceEach(t, "SCAN on "+p.ID, got, keys)
			if top >= 1<<32 {
				t.Fatalf("%s: cursor %d is not below 2^32", p.ID, top)
			}
			t.Logf("%s: SCAN COUNT 10 returned %d keys once each, largest cursor %d", p.ID, len(got), top)
		}
	})

	t.Run("go-redis ClusterClient", func(t *testing.T) {
		cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{procs[0].Addr}})
		t.Cleanup(func() { cc.Close() })
		ctx := ctxT(t)
		n := must(cc.DBSize(ctx).Result())(t)
		if n != int64(len(keys)) {
			t.Fatalf("ClusterClient.DBSize = %d, want %d", n, len(keys))
		}
		var mu sync.Mutex
		var got []string
		var infoSum, masters int64
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			var page []string
			iter := c.Scan(ctx, 0, "", 100).Iterator()
			for iter.Next(ctx) {
				page = append(page, iter.Val())
			}
			if err := iter.Err(); err != nil {
				return err
			}
			info, err := c.Info(ctx, "keyspace").Result()
			if err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			got = append(got, page...)
			infoSum += infoKeys(info)
			masters++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		onceEach(t, "ForEachMaster SCAN", got, keys)
		if infoSum != int64(len(keys)) {
			t.Fatalf("INFO keyspace summed over %d masters = %d, want %d", masters, infoSum, len(keys))
		}
		t.Logf("ClusterClient.DBSize = %d; ForEachMaster SCAN over %d masters: %d keys once each; INFO keyspace sum %d", n, masters, len(got), infoSum)
	})

	t.Run("CLUSTER COUNTKEYSINSLOT", func(t *testing.T) {
		ctx := ctxT(t)
		slots := must(procs[0].Client(t).ClusterSlots(ctx).Result())(t)
		for _, key := range keys[:20] {
			slot := must(procs[0].Client(t).ClusterKeySlot(ctx, key).Result())(t)
			var sum int64
			for _, p := range procs {
				cc := redis.NewClient(&redis.Options{Addr: p.ClusterAddr, MaxRetries: -1})
				sum += must(cc.ClusterCountKeysInSlot(ctx, int(slot)).Result())(t)
				cc.Close()
			}
			all := must(procs[1].Client(t).ClusterCountKeysInSlot(ctx, int(slot)).Result())(t)
			if sum != all || all < 1 {
				t.Fatalf("slot %d (masters %v): COUNTKEYSINSLOT summed over cluster ports %d, on a main port %d", slot, slotReplicas(slots, int(slot)), sum, all)
			}
		}
	})

	t.Run("redis-cli --cluster check", func(t *testing.T) {
		if _, err := exec.LookPath("redis-cli"); err != nil {
			t.Skip("redis-cli is not on PATH (apt-get install redis-tools): --cluster check not run")
		}
		out, _ := exec.Command("redis-cli", "--cluster", "check", procs[0].Addr).CombinedOutput()
		m := regexp.MustCompile(`(\d+) keys in (\d+) masters`).FindSubmatch(out)
		if m == nil {
			t.Fatalf("redis-cli --cluster check printed no key count:\n%s", out)
		}
		if string(m[1]) != strconv.Itoa(len(keys)) {
			t.Fatalf("redis-cli --cluster check: %s keys in %s masters, want %d keys:\n%s", m[1], m[2], len(keys), out)
		}
		t.Logf("redis-cli --cluster check: %s", m[0])
	})
}

// infoKeys returns the keys= count of db0 in an INFO keyspace reply.
func infoKeys(info string) int64 {
	for _, l := range strings.Split(info, "\r\n") {
		if rest, ok := strings.CutPrefix(l, "db0:keys="); ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}
