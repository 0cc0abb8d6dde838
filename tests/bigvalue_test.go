package tests

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/redis/go-redis/v9"
)

// TestBigValue is issue 10's fault 1 end to end: node-to-node calls carry
// any value a client may write. In a 4-node cluster with N=3 R=2 W=2, a
// 256 MiB value is SET through the one node that is not among the key's
// replicas (so it is forwarded to a replica, which merges it into the
// others), then read back byte-identical through another node, one of the
// replicas (R=2: the value crosses the network again). With the fixed 1 s
// socket timeout of the old peer client the forwarding or the replication
// timed out (NOQUORUM), whatever --timeout said. Heavy tier
// (DYNAKV_E2E=1); skipped under -short.
func TestBigValue(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 256 MiB values between four processes")
	}
	heavy(t)
	seed := testseed.Seed(t)
	var procs []*Proc
	t.Cleanup(func() {
		if t.Failed() {
			for _, p := range procs {
				t.Logf("%s log:\n%s", p.ID, p.Log())
			}
		}
	})
	// NB: storing 256 MiB in pebble takes seconds per replica on a loaded
	// 2-core machine; the request timeout is set for that, as a user
	// writing such values would. The old client ignored it (1 s).
	procs = StartCluster(t, 4, "--timeout", "2m")
	opts := func(o *redis.Options) {
		o.ReadTimeout, o.WriteTimeout = 5*time.Minute, 5*time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	const key = "big:value"
	slots, err := procs[0].Client(t, opts).ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	slot, err := procs[0].Client(t, opts).ClusterKeySlot(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	replicas := slotReplicas(slots, int(slot))
	if len(replicas) != 3 {
		t.Fatalf("CLUSTER SLOTS lists %d replicas for slot %d: %v", len(replicas), slot, replicas)
	}
	var writer, reader *Proc
	for _, p := range procs {
		switch {
		case !slices.Contains(replicas, p.Addr):
			writer = p
		case reader == nil:
			reader = p
		}
	}
	if writer == nil || reader == nil {
		t.Fatalf("no non-replica among %v", replicas)
	}

	value := make([]byte, 256<<20)
	var cs [32]byte
	for i := range cs {
		cs[i] = byte(seed >> (8 * (i % 8)))
	}
	rand.NewChaCha8(cs).Read(value)

	start := time.Now()
	if err := writer.Client(t, opts).Set(ctx, key, value, 0).Err(); err != nil {
		t.Fatalf("SET of 256 MiB through non-replica %s: %v", writer.ID, err)
	}
	t.Logf("SET through %s (not a replica) in %v", writer.ID, time.Since(start))

	start = time.Now()
	got, err := reader.Client(t, opts).Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("GET of 256 MiB through %s: %v", reader.ID, err)
	}
	if !bytes.Equal(got, value) {
		t.Fatalf("GET through %s returned %d bytes that differ from the %d written", reader.ID, len(got), len(value))
	}
	t.Logf("GET through %s in %v: byte-identical", reader.ID, time.Since(start))
}

// procMemMB returns a process's VmHWM (peak resident) and VmRSS, in MiB.
func procMemMB(t *testing.T, pid int) (hwm, rss int64) {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Skipf("no /proc status for the node: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmHWM:":
			hwm = v >> 10
		case "VmRSS:":
			rss = v >> 10
		}
	}
	return hwm, rss
}

// TestBigValueMemory is issue 13's memory goal on a lone node: one SET of
// a 256 MiB value and its GET raise the node's peak resident memory
// (VmHWM) by a bounded multiple of the value (it was 11× for 128 MiB and
// 17× for 512 MiB when the framing guard and redcon's reader each grew a
// buffer by appending), and the memory is returned afterwards: VmRSS falls
// back to within a bound of where it started (it used to stay at its
// peak). Bounds have headroom over the figures measured on a lone node
// (about 6× at peak and 1–3× after, against 11× and 11× before; what
// remains is pebble's: the value's batch kept as a flushable memtable
// until its flush, the flush's own copies, and the block read back by
// GET); the figures are logged. Heavy tier (DYNAKV_E2E=1).
func TestBigValueMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves a 256 MiB value")
	}
	heavy(t)
	const size = 256 << 20
	const sizeMB = size >> 20
	p := StartServer(t, "n1")
	pid := p.cmd.Process.Pid
	opts := func(o *redis.Options) {
		o.ReadTimeout, o.WriteTimeout = 5*time.Minute, 5*time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cl := p.Client(t, opts)
	if err := cl.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	_, before := procMemMB(t, pid)

	value := make([]byte, size)
	rand.NewChaCha8([32]byte{13}).Read(value)
	if err := cl.Set(ctx, "big", value, 0).Err(); err != nil {
		t.Fatalf("SET of %d MiB: %v", sizeMB, err)
	}
	got, err := cl.Get(ctx, "big").Bytes()
	if err != nil {
		t.Fatalf("GET of %d MiB: %v", sizeMB, err)
	}
	if !bytes.Equal(got, value) {
		t.Fatalf("GET returned %d bytes that differ from the %d written", len(got), len(value))
	}
	got = nil
	hwm, rss := procMemMB(t, pid)
	t.Logf("value %d MiB: VmRSS before %d MiB; after SET and GET VmHWM %d MiB (+%d, %.1f× the value), VmRSS %d MiB",
		sizeMB, before, hwm, hwm-before, float64(hwm-before)/sizeMB, rss)
	const maxPeak = 8 // × the value
	if hwm-before > maxPeak*sizeMB {
		t.Errorf("VmHWM rose by %d MiB, more than %d× the %d MiB value", hwm-before, maxPeak, sizeMB)
	}

	const maxAfter = 4 // × the value
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, rss = procMemMB(t, pid)
		if rss-before <= maxAfter*sizeMB || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	t.Logf("VmRSS after: %d MiB (+%d, %.1f× the value)", rss, rss-before, float64(rss-before)/sizeMB)
	if rss-before > maxAfter*sizeMB {
		t.Errorf("VmRSS still %d MiB above its start after 60 s, more than %d× the %d MiB value", rss-before, maxAfter, sizeMB)
	}
}
