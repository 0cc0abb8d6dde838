package tests

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/redis/go-redis/v9"
)

const testSecret = "test-cluster-secret"

// StartCluster starts n `dynakv server` processes with N=3 R=2 W=2 (fewer
// replicas when n < 3), the second and later joining the first, and waits
// until every node's CLUSTER NODES lists all of them.
func StartCluster(t *testing.T, n int, extra ...string) []*Proc {
	t.Helper()
	nrep := min(3, n)
	common := append([]string{"--cluster-secret", testSecret, "--replicas", fmt.Sprint(nrep),
		"--read-quorum", fmt.Sprint(min(2, nrep)), "--write-quorum", fmt.Sprint(min(2, nrep)), "--partitions", "64",
		"--timeout", "1s"}, extra...)
	first := StartServer(t, "n1", common...)
	procs := []*Proc{first}
	for i := 2; i <= n; i++ {
		procs = append(procs, StartServer(t, fmt.Sprintf("n%d", i), append(common, "--join", first.Gossip())...))
	}
	waitMembers(t, procs, n)
	waitSettled(t, procs)
	return procs
}

// procInfo returns field name of the process's INFO section, "" if absent
// or unreachable.
func procInfo(p *Proc, section, name string) string {
	c := redis.NewClient(&redis.Options{Addr: p.Addr, MaxRetries: -1})
	defer c.Close()
	info, err := c.Info(context.Background(), section).Result()
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	return ""
}

// waitSettled polls until no partition is moving in any process's ring
// (every ownership handoff confirmed) and all agree on the ring version.
func waitSettled(t testing.TB, procs []*Proc) {
	t.Helper()
	eventually(t, "handoffs finished and ring versions equal", 60*time.Second, func() error {
		version := ""
		for i, p := range procs {
			moving, v := procInfo(p, "handoff", "handoff_partitions_moving"), procInfo(p, "cluster", "ring_version")
			if moving != "0" {
				return fmt.Errorf("%s: %q partitions moving", p.ID, moving)
			}
			if i > 0 && v != version {
				return fmt.Errorf("%s: ring version %s, %s: %s", procs[0].ID, version, p.ID, v)
			}
			version = v
		}
		return nil
	})
}

// Gossip returns the process's gossip address.
func (p *Proc) Gossip() string {
	for i, a := range p.args {
		if a == "--gossip" && i+1 < len(p.args) {
			return p.args[i+1]
		}
	}
	return ""
}

// waitMembers polls until every process reports n cluster nodes.
func waitMembers(t *testing.T, procs []*Proc, n int) {
	t.Helper()
	for _, p := range procs {
		c := redis.NewClient(&redis.Options{Addr: p.Addr})
		eventually(t, fmt.Sprintf("%s sees %d nodes", p.ID, n), 30*time.Second, func() error {
			nodes, err := c.ClusterNodes(context.Background()).Result()
			if err == nil && strings.Count(strings.TrimSpace(nodes), "\n")+1 != n {
				err = fmt.Errorf("CLUSTER NODES: %q\n%s", nodes, p.Log())
			}
			return err
		})
		c.Close()
	}
}

// TestClusterWriteW2ReadR2AnyNodeDown: with one of three processes killed,
// writes at W=2 succeed through the others, and every acknowledged write
// is read back at R=2 from every live node; after a restart, from all.
func TestClusterWriteW2ReadR2AnyNodeDown(t *testing.T) {
	procs := StartCluster(t, 3)
	acked := map[string]string{}
	for round, down := range procs {
		down.Kill()
		ctx := ctxT(t) // a step: this round's writes and reads
		for _, p := range procs {
			if p == down {
				continue
			}
			c := p.Client(t)
			for i := 0; i < 30; i++ {
				k := fmt.Sprintf("r%d:%s:%d", round, p.ID, i)
				if err := c.Set(ctx, k, "v-"+k, 0).Err(); err != nil {
					t.Fatalf("SET %s via %s with %s down: %v", k, p.ID, down.ID, err)
				}
				acked[k] = "v-" + k
			}
		}
		for _, p := range procs {
			if p == down {
				continue
			}
			c := p.Client(t)
			for k, v := range acked {
				if got, err := c.Get(ctx, k).Result(); err != nil || got != v {
					t.Fatalf("GET %s via %s with %s down: %q %v", k, p.ID, down.ID, got, err)
				}
			}
		}
		down.Restart()
	}
}

// TestClusterSiblingsAcrossNodes: VSETs with the same token through the
// same node and through different nodes give two siblings; the joined token
// resolves them.
func TestClusterSiblingsAcrossNodes(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	c1, c2, c3 := procs[0].Client(t), procs[1].Client(t), procs[2].Client(t)
	for _, pair := range [][2]*redis.Client{{c1, c1}, {c1, c2}} {
		key := fmt.Sprintf("cart-%p", pair[1])
		base := must(pair[0].Do(ctx, "VSET", key, "", "base").Text())(t)
		must(pair[0].Do(ctx, "VSET", key, base, "a").Text())(t)
		must(pair[1].Do(ctx, "VSET", key, base, "b").Text())(t)
		tok, vals := vget(t, c3, key, "R", 3)
		if !slices.Equal(vals, []string{"a", "b"}) {
			t.Fatalf("same-token VSETs: want siblings [a b], got %q", vals)
		}
		must(c3.Do(ctx, "VSET", key, tok, "a+b").Text())(t)
		if _, vals = vget(t, c2, key, "R", 3); !slices.Equal(vals, []string{"a+b"}) {
			t.Fatalf("after resolving: %q", vals)
		}
	}
}

// TestClusterReplicasArePreferenceList: each key is stored (VGET LOCAL) on
// exactly the nodes CLUSTER SLOTS lists for its slot.
func TestClusterReplicasArePreferenceList(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 4)
	ctx := ctxT(t)
	byAddr := map[string]*redis.Client{}
	for _, p := range procs {
		byAddr[p.Addr] = p.Client(t)
	}
	slots := must(byAddr[procs[0].Addr].ClusterSlots(ctx).Result())(t)
	for i := 0; i < 50; i++ {
		ctx := ctxT(t) // a step: one key (its wait below may take 10 s)
		key := fmt.Sprintf("key:%d", i)
		must(byAddr[procs[i%4].Addr].Set(ctx, key, "v", 0).Result())(t)
		slot := int(must(byAddr[procs[0].Addr].ClusterKeySlot(ctx, key).Result())(t))
		want := slotReplicas(slots, slot)
		if len(want) != 3 {
			t.Fatalf("CLUSTER SLOTS lists %d nodes for slot %d: %v", len(want), slot, want)
		}
		// W=2 acknowledges before the third replica has it: wait for it.
		ws := slices.Sorted(slices.Values(want))
		eventually(t, key+" stored on exactly its preference list", 10*time.Second, func() error {
			var have []string
			for addr, c := range byAddr {
				if _, vals := vget(t, c, key, "LOCAL"); len(vals) == 1 {
					have = append(have, addr)
				}
			}
			slices.Sort(have)
			if len(have) > 3 {
				t.Fatalf("key %s stored on %v, preference list %v", key, have, ws)
			}
			if !slices.Equal(have, ws) {
				return fmt.Errorf("stored on %v, preference list %v", have, ws)
			}
			return nil
		})
	}
	ctx = ctxT(t) // a step: the whole-cluster reads
	// No node of four holds every partition: DBSIZE, KEYS and SCAN must
	// gather the other partitions from their replicas.
	for _, p := range procs {
		c := byAddr[p.Addr]
		if n := must(c.DBSize(ctx).Result())(t); n != 50 {
			t.Fatalf("DBSIZE on %s = %d, want 50", p.ID, n)
		}
		if keys := must(c.Keys(ctx, "key:*").Result())(t); len(keys) != 50 {
			t.Fatalf("KEYS on %s: %d keys, want 50", p.ID, len(keys))
		}
	}
}

// TestClusterQuorumLargerThanLiveFails: with one node down, R=3 and W=3
// give NOQUORUM, never a wrong answer.
func TestClusterQuorumLargerThanLiveFails(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	c := procs[0].Client(t)
	must(c.Do(ctx, "VSET", "k", "", "v1", "W", 3).Text())(t)
	procs[2].Kill()
	if err := c.Do(ctx, "VSET", "k", "", "v2", "W", 3).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") {
		t.Fatalf("W=3 with a node down: want NOQUORUM, got %v", err)
	}
	if err := c.Do(ctx, "VGET", "k", "R", 3).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") {
		t.Fatalf("R=3 with a node down: want NOQUORUM, got %v", err)
	}
	procs[1].Kill()
	if err := c.Set(ctx, "k", "x", 0).Err(); err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") {
		t.Fatalf("SET (W=2) with two nodes down: want NOQUORUM, got %v", err)
	}
	if err := c.Get(ctx, "k").Err(); err == nil || !strings.HasPrefix(err.Error(), "NOQUORUM") {
		t.Fatalf("GET (R=2) with two nodes down: want NOQUORUM, got %v", err)
	}
}

// TestClusterClients: go-redis ClusterClient and redis-cli -c route keys
// across the cluster; multi-key commands and SCAN/KEYS/DBSIZE cover it all.
func TestClusterClients(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{procs[0].Addr}})
	defer cc.Close()
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := fmt.Sprintf("cc:%d", i)
			if err := cc.Set(ctx, k, k, 0).Err(); err != nil {
				errs <- fmt.Errorf("SET %s: %w", k, err)
				return
			}
			if got, err := cc.Get(ctx, k).Result(); err != nil || got != k {
				errs <- fmt.Errorf("GET %s: %q %v", k, got, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c := procs[1].Client(t)
	must(c.MSet(ctx, "m:1", "a", "m:2", "b", "m:3", "c").Result())(t)
	if got := must(c.MGet(ctx, "m:1", "m:2", "m:3").Result())(t); !slices.Equal(got, []any{"a", "b", "c"}) {
		t.Fatalf("MGET = %v", got)
	}
	if n := must(c.Del(ctx, "m:1", "m:2", "nope").Result())(t); n != 2 {
		t.Fatalf("DEL = %d", n)
	}
	if n := must(procs[2].Client(t).DBSize(ctx).Result())(t); n != 201 {
		t.Fatalf("DBSIZE = %d, want 201 (whole cluster)", n)
	}
	if keys := must(procs[0].Client(t).Keys(ctx, "cc:*").Result())(t); len(keys) != 200 {
		t.Fatalf("KEYS cc:* = %d keys, want 200", len(keys))
	}
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools); go-redis parts passed")
	}
	port := procs[2].Addr[strings.LastIndex(procs[2].Addr, ":")+1:]
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("cli:%d", i)
		out, err := exec.Command("redis-cli", "-c", "-p", port, "SET", k, "v"+k).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "OK" {
			t.Fatalf("redis-cli -c SET: %q %v", out, err)
		}
		out, err = exec.Command("redis-cli", "-c", "-p", port, "GET", k).CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "v"+k {
			t.Fatalf("redis-cli -c GET: %q %v", out, err)
		}
	}
}

// TestClusterRestartKeepsIdentity: a restarted node keeps its ID, ring and
// data, and the cluster does not change ownership while it is down.
func TestClusterRestartKeepsIdentity(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t)
	c := procs[0].Client(t)
	before := must(c.ClusterNodes(ctx).Result())(t)
	must(c.Set(ctx, "k", "v", 0).Result())(t)
	procs[1].Kill()
	procs[1].Restart()
	waitMembers(t, procs, 3)
	ctx = ctxT(t) // a step: after the restart
	after := must(procs[1].Client(t).ClusterNodes(ctx).Result())(t)
	if slotsOf(before) != slotsOf(after) {
		t.Fatalf("slot table changed across a restart:\n%s\nvs\n%s", before, after)
	}
	if got := must(procs[1].Client(t).Get(ctx, "k").Result())(t); got != "v" {
		t.Fatalf("GET after restart = %q", got)
	}
}

// slotsOf returns CLUSTER NODES lines reduced to id and slots, sorted.
func slotsOf(nodes string) string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(nodes), "\n") {
		f := strings.Fields(l)
		if len(f) > 8 {
			out = append(out, f[0]+" "+strings.Join(f[8:], " "))
		} else if len(f) > 0 {
			out = append(out, f[0])
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestClusterForget: CLUSTER FORGET of a killed node removes it from every
// node's ring; forgetting a live node is refused.
func TestClusterForget(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 4)
	ctx := ctxT(t)
	c := procs[0].Client(t)
	if err := c.ClusterForget(ctx, "n4").Err(); err == nil || !strings.Contains(err.Error(), "alive") {
		t.Fatalf("FORGET of a live node: want a refusal, got %v", err)
	}
	procs[3].Kill()
	forgetDead(t, c, "n4")
	waitMembers(t, procs[:3], 3)
	ctx = ctxT(t) // a step: writes after the forget
	for i := 0; i < 30; i++ {
		k := fmt.Sprintf("after-forget:%d", i)
		must(procs[i%3].Client(t).Set(ctx, k, "v", 0).Result())(t)
		if got := must(procs[(i+1)%3].Client(t).Get(ctx, k).Result())(t); got != "v" {
			t.Fatalf("GET %s = %q", k, got)
		}
	}
}

// TestVSetCoordinatedByFastestReplier: VGET's token names the replica that
// answered first, and a VSET with it, sent to any node, is coordinated by
// that replica (Dynamo §6.4): only its counter advances.
func TestVSetCoordinatedByFastestReplier(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 4)
	ctx := ctxT(t)
	for i := 0; i < 8; i++ {
		key := fmt.Sprintf("cart:%d", i)
		must(procs[0].Client(t).Do(ctx, "VSET", key, "", "a").Text())(t)
		reader, writer := procs[i%4].Client(t), procs[(i+1)%4].Client(t)
		tok, _ := vget(t, reader, key)
		before, via, err := dvv.DecodeTokenVia(tok)
		if err != nil || via == "" {
			t.Fatalf("VGET token %q: via %q, %v", tok, via, err)
		}
		after, err := dvv.DecodeToken(must(writer.Do(ctx, "VSET", key, tok, "b").Text())(t))
		if err != nil {
			t.Fatal(err)
		}
		for actor, c := range after {
			if c > before[actor] && actor != via {
				t.Fatalf("%s: VSET coordinated by %s, token named %s", key, actor, via)
			}
		}
		if after[via] <= before[via] {
			t.Fatalf("%s: %s did not coordinate the VSET (%v → %v)", key, via, before, after)
		}
	}
}

// TestJoinPushesDataToNewReplicas: after a fourth node joins a cluster
// holding data, every node of each key's new preference list holds the key
// in its own replica (VGET LOCAL), without any client reading it.
func TestJoinPushesDataToNewReplicas(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx := ctxT(t) // a step: the writes before the join
	var keys []string
	for i := 0; i < 200; i++ {
		k := fmt.Sprintf("pre:%d", i)
		must(procs[i%3].Client(t).Set(ctx, k, "v", 0).Result())(t)
		keys = append(keys, k)
	}
	common := []string{"--cluster-secret", testSecret, "--replicas", "3", "--read-quorum", "2",
		"--write-quorum", "2", "--partitions", "64", "--timeout", "1s", "--join", procs[0].Gossip()}
	procs = append(procs, StartServer(t, "n4", common...))
	waitMembers(t, procs, 4)
	waitSettled(t, procs)
	// NB: a new step. The join and settling above may take up to 90 s; a
	// context made before them expired here (the flake of REVIEW defect 4).
	ctx = ctxT(t)
	byAddr := map[string]*redis.Client{}
	for _, p := range procs {
		byAddr[p.Addr] = p.Client(t)
	}
	slots := must(byAddr[procs[3].Addr].ClusterSlots(ctx).Result())(t)
	moved := 0
	start := time.Now()
	for _, k := range keys {
		slot := int(must(byAddr[procs[0].Addr].ClusterKeySlot(ctxT(t), k).Result())(t))
		for _, node := range slotReplicas(slots, slot) {
			if node == procs[3].Addr {
				moved++
			}
			eventually(t, fmt.Sprintf("%s (slot %d) on its new replica %s", k, slot, node), 60*time.Second-time.Since(start), func() error {
				if _, vals := vget(t, byAddr[node], k, "LOCAL"); len(vals) != 1 {
					return fmt.Errorf("VGET LOCAL: %q", vals)
				}
				return nil
			})
		}
	}
	if moved == 0 {
		t.Fatal("the joined node replicates none of the keys: the test proves nothing")
	}
	t.Logf("%d of %d keys now also replicated on the new node", moved, len(keys))
}

// slotReplicas returns the main addresses of the nodes CLUSTER SLOTS lists
// (by their cluster-client addresses) for slot, in order.
func slotReplicas(slots []redis.ClusterSlot, slot int) []string {
	var addrs []string
	for _, s := range slots {
		if s.Start <= slot && slot <= s.End {
			for _, n := range s.Nodes {
				addrs = append(addrs, mainOf(n.Addr))
			}
		}
	}
	return addrs
}

// forgetDead runs CLUSTER FORGET id through c until it is accepted: the
// node was just killed, and memberlist has to notice its death first.
func forgetDead(t *testing.T, c *redis.Client, id string) {
	t.Helper()
	eventually(t, "FORGET of killed "+id+" accepted", 30*time.Second, func() error {
		return c.ClusterForget(ctxT(t), id).Err()
	})
}
