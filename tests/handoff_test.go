package tests

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// infoField returns one "name:value" field of INFO section.
func infoField(t *testing.T, c *redis.Client, section, name string) string {
	t.Helper()
	info := must(c.Info(ctxT(t), section).Result())(t)
	for _, l := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(l, name+":"); ok {
			return v
		}
	}
	t.Fatalf("INFO %s has no %s:\n%s", section, name, info)
	return ""
}

// TestHintedHandoffWithRealProcesses: with n3 killed, W=2 writes keep
// succeeding and hints for n3 pile up on n1 and n2; n1 (a hint holder) is
// killed and restarted before delivery; once n3 is back, every key it
// missed is in its own replica (VGET LOCAL, no quorum reads) and no hints
// are left.
func TestHintedHandoffWithRealProcesses(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	procs[2].Kill()
	nkeys := 300
	if v := os.Getenv("DYNAKV_HANDOFF_KEYS"); v != "" { // measuring: e.g. 10000
		nkeys, _ = strconv.Atoi(v)
	}
	var keys []string
	start := time.Now()
	for i := 0; i < nkeys; i++ {
		k := fmt.Sprintf("missed:%d", i)
		if err := procs[i%2].Client(t).Set(ctx, k, "v"+k, 0).Err(); err != nil {
			t.Fatalf("SET %s with n3 down: %v", k, err)
		}
		keys = append(keys, k)
	}
	t.Logf("%d writes with one node down in %v", nkeys, time.Since(start))
	// A failed send leaves its hint in the background, after the write was
	// acknowledged by W=2 replicas: poll until they are all there.
	eventually(t, fmt.Sprintf("at least %d hints pending for n3", len(keys)), 20*time.Second, func() error {
		pending := 0
		for _, p := range procs[:2] {
			n, _ := strconv.Atoi(infoField(t, p.Client(t), "replication", "hints_pending"))
			pending += n
		}
		if pending < len(keys) {
			return fmt.Errorf("%d hints pending", pending)
		}
		return nil
	})
	procs[0].Kill() // a hint holder crashes before delivery
	procs[0].Restart()
	procs[2].Restart()
	restarted := time.Now()
	c3 := procs[2].Client(t)
	limit := func() time.Duration { return 120*time.Second - time.Since(restarted) } // for all the waits below
	for _, k := range keys {
		eventually(t, "n3 holds "+k, limit(), func() error {
			if _, vals := vget(t, c3, k, "LOCAL"); len(vals) != 1 || vals[0] != "v"+k {
				return fmt.Errorf("values %q\nn1 log:\n%s", vals, procs[0].Log())
			}
			return nil
		})
	}
	t.Logf("all %d missed keys in n3's replica %v after its restart", len(keys), time.Since(restarted))
	for _, p := range procs[:2] {
		eventually(t, p.ID+" has no hint pending", limit(), func() error {
			if n := infoField(t, p.Client(t), "replication", "hints_pending"); n != "0" {
				return fmt.Errorf("hints_pending:%s", n)
			}
			return nil
		})
	}
}

// TestReadRepairWithRealProcesses: with handoff held back, a replica that
// missed a write while it was down gets it from a single quorum read.
func TestReadRepairWithRealProcesses(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3, "--hint-interval", "1h")
	procs[2].Kill()
	must(procs[0].Client(t).Set(ctxT(t), "rr", "v", 0).Result())(t)
	procs[2].Restart()
	waitMembers(t, procs, 3)
	c3 := procs[2].Client(t)
	if _, vals := vget(t, c3, "rr", "LOCAL"); len(vals) != 0 {
		t.Fatalf("n3 has the key before any read: %q", vals)
	}
	// One quorum read, through n1; wait until n1 holds n3 healthy (gossip
	// and its own failure detector, which avoids n3 for a backoff after
	// the write it missed) so the read asks it.
	waitAlive(t, procs[:1], 3)
	waitHealthy(t, procs[0], procs[2].ID)
	if got := must(procs[0].Client(t).Get(ctxT(t), "rr").Result())(t); got != "v" {
		t.Fatalf("GET = %q", got)
	}
	eventually(t, "n3 repaired by the quorum read", 10*time.Second, func() error {
		if _, vals := vget(t, c3, "rr", "LOCAL"); len(vals) != 1 || vals[0] != "v" {
			return fmt.Errorf("n3 holds %q", vals)
		}
		return nil
	})
	// n1 counts the repair once n3 has acknowledged it, which may be just
	// after n3's replica shows the value.
	eventually(t, "n1 counts the read repair", 10*time.Second, func() error {
		if n := infoField(t, procs[0].Client(t), "replication", "read_repairs"); n == "0" {
			return fmt.Errorf("n1 counts no read repair")
		}
		return nil
	})
}

// waitHealthy polls until p's CLUSTER NODES no longer flags node id
// "fail": p's one notion of health (gossip and its coordinator's failure
// detector) holds id healthy, so p's requests ask it again.
func waitHealthy(t *testing.T, p *Proc, id string) {
	t.Helper()
	eventually(t, fmt.Sprintf("%s holds %s healthy", p.ID, id), 30*time.Second, func() error {
		nodes, err := p.Client(t).ClusterNodes(ctxT(t)).Result()
		if err != nil {
			return err
		}
		for _, line := range strings.Split(nodes, "\n") {
			if f := strings.Fields(line); len(f) > 2 && f[0] == id {
				if strings.Contains(f[2], "fail") {
					return fmt.Errorf("CLUSTER NODES: %s", line)
				}
				return nil
			}
		}
		return fmt.Errorf("%s not in CLUSTER NODES:\n%s", id, nodes)
	})
}
