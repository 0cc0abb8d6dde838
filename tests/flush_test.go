package tests

import (
	"encoding/binary"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// storedKey is ring.StoredKey (db 0 at epoch 0 bare, otherwise 0xFF,
// uvarint db, uvarint epoch, key), written out so the test reads the
// replicas' raw keys with DKV.GET without importing the server's code.
func storedKey(db int, epoch uint64, key string) string {
	if db == 0 && epoch == 0 && (key == "" || key[0] != 0xFF) {
		return key
	}
	b := []byte{0xFF}
	b = binary.AppendUvarint(b, uint64(db))
	b = binary.AppendUvarint(b, epoch)
	return string(append(b, key...))
}

// TestFlushAllIsACausalCut (docs/client-surface.md, "The client surface beyond single
// commands"): with n3 killed, keys written before a FLUSHALL through n2 —
// in db 0 and db 1, some of them while n3 was down (so n1 and n2 hold
// hints of them for n3) — are gone on every replica once n3 is back and
// repair has run (hinted handoff, anti-entropy): no replica, n3 included,
// stores their pre-flush copies (DKV.GET of the old stored keys) and no
// node's local replica shows them (VGET LOCAL); keys written after the
// flush, while n3 was still down or through n3 right after its restart,
// are on every replica.
func TestFlushAllIsACausalCut(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3, "--ae-interval", "2s", "--hint-interval", "200ms")
	pre := loadKeys(t, procs[:1], "pre", 100)
	db1 := procs[0].Client(t, func(o *redis.Options) { o.DB = 1 })
	ctx := ctxT(t)
	for i := range 20 {
		if err := db1.Set(ctx, fmt.Sprintf("one:%d", i), "x", 0).Err(); err != nil {
			t.Fatalf("SET in db 1: %v", err)
		}
	}
	waitConverged(t, procs, pre, time.Minute)
	for _, p := range procs { // writes forwarded to their coordinators keep their database
		n0 := must(p.Client(t).DBSize(ctx).Result())(t)
		n1 := must(p.Client(t, func(o *redis.Options) { o.DB = 1 }).DBSize(ctx).Result())(t)
		if n0 != 100 || n1 != 20 {
			t.Fatalf("DBSIZE through %s before the flush: db0 %d db1 %d, want 100 and 20", p.ID, n0, n1)
		}
	}

	procs[2].Kill()
	waitAlive(t, procs[:2], 2)
	hinted := loadKeys(t, procs[:1], "hinted", 50) // n1 and n2 keep hints of these for n3
	waitHints(t, procs[:2], "n3", len(hinted))

	ctx = ctxT(t) // a step: the flush, then writes after it
	start := time.Now()
	if err := procs[1].Client(t).FlushAll(ctx).Err(); err != nil {
		t.Fatalf("FLUSHALL with n3 down: %v", err)
	}
	t.Logf("FLUSHALL through n2 with n3 down answered in %v", time.Since(start).Round(time.Millisecond))
	for _, p := range procs[:2] {
		if n := must(p.Client(t).DBSize(ctx).Result())(t); n != 0 {
			t.Fatalf("DBSIZE on %s right after FLUSHALL: %d", p.ID, n)
		}
	}
	if err := procs[0].Client(t).Set(ctx, "post", "after", 0).Err(); err != nil {
		t.Fatalf("SET after the flush: %v", err)
	}
	if err := db1.Set(ctx, "post1", "after", 0).Err(); err != nil {
		t.Fatalf("SET in db 1 after the flush: %v", err)
	}

	procs[2].Restart()
	// n3's first requests already see the flush: its gossip join merged
	// the peers' ring state before it served (the window is closed when a
	// peer is reachable). With the old epoch, GET would read the pre-flush
	// copy n3 still holds, and SET would write under the old epoch (to be
	// purged later: lost).
	ctx = ctxT(t)
	c3 := procs[2].Client(t)
	if v, err := c3.Get(ctx, pre[0]).Result(); err != redis.Nil {
		t.Fatalf("GET %s through n3 right after its restart: %q %v, want nil", pre[0], v, err)
	}
	if err := c3.Set(ctx, "post3", "after", 0).Err(); err != nil {
		t.Fatalf("SET through n3 right after its restart: %v", err)
	}
	waitAlive(t, procs, 3)
	eventually(t, "the hints for n3 delivered", time.Minute, func() error {
		for _, p := range procs {
			if by := infoField(t, p.Client(t), "replication", "hints_pending_by_target"); strings.Contains(by, "n3=") {
				return fmt.Errorf("%s still holds hints: %s", p.ID, by)
			}
		}
		return nil
	})
	repaired := quiesce(t, procs)
	t.Logf("after n3 came back: one round of anti-entropy repaired %d keys", repaired)

	// The old stored keys: epoch 0 of db 0 and db 1.
	var old []string
	for _, k := range append(append([]string{}, pre...), hinted...) {
		old = append(old, storedKey(0, 0, k))
	}
	for i := range 20 {
		old = append(old, storedKey(1, 0, fmt.Sprintf("one:%d", i)))
	}
	post := []string{storedKey(0, 1, "post"), storedKey(1, 1, "post1"), storedKey(0, 1, "post3")}
	for _, p := range procs {
		pc := peerClient(t, p)
		eventually(t, p.ID+" purged every flushed key", 30*time.Second, func() error {
			left := 0
			for _, o := range stored(t, pc, old) {
				if o != absent {
					left++
				}
			}
			if left > 0 {
				return fmt.Errorf("%d of %d flushed keys still stored", left, len(old))
			}
			return nil
		})
		eventually(t, p.ID+" stores the keys written after the flush", 30*time.Second, func() error {
			for i, o := range stored(t, pc, post) {
				if o == absent {
					return fmt.Errorf("%q not stored", post[i])
				}
			}
			return nil
		})
	}
	ctx = ctxT(t) // a step: each node's own replica, through the client surface
	for _, p := range procs {
		c := p.Client(t)
		c1 := p.Client(t, func(o *redis.Options) { o.DB = 1 })
		for _, k := range append(append([]string{}, pre...), hinted...) {
			vals := must(c.Do(ctx, "VGET", k, "LOCAL").Slice())(t)
			if fmt.Sprint(vals[1]) != "[]" {
				t.Fatalf("flushed %s is back in %s's replica: %v", k, p.ID, vals[1])
			}
		}
		if vals := must(c.Do(ctx, "VGET", "post", "LOCAL").Slice())(t); fmt.Sprint(vals[1]) != "[after]" {
			t.Fatalf("post-flush key on %s's replica: %v", p.ID, vals[1])
		}
		if vals := must(c1.Do(ctx, "VGET", "post1", "LOCAL").Slice())(t); fmt.Sprint(vals[1]) != "[after]" {
			t.Fatalf("post-flush db 1 key on %s's replica: %v", p.ID, vals[1])
		}
		n0, n1 := must(c.DBSize(ctx).Result())(t), must(c1.DBSize(ctx).Result())(t)
		if n0 != 2 || n1 != 1 {
			t.Fatalf("DBSIZE on %s: db0 %d db1 %d, want 2 and 1", p.ID, n0, n1)
		}
		t.Logf("%s: flushed keys stored 0/%d, VGET LOCAL of %d flushed keys empty, post-flush keys present, DBSIZE db0=%d db1=%d", p.ID, len(old), len(pre)+len(hinted), n0, n1)
	}
}

// TestRedisPyDatabaseURL: redis-py's from_url('redis://host:port/1')
// selects database 1: its SET and GET work, and the key is not in db 0.
func TestRedisPyDatabaseURL(t *testing.T) {
	py := "/usr/bin/python3"
	if err := exec.Command(py, "-c", "import redis").Run(); err != nil {
		t.Skipf("redis-py is not installed for %s: %v", py, err)
	}
	p := StartServer(t, "n1")
	script := `
import sys, redis
url = "redis://" + sys.argv[1]
one = redis.Redis.from_url(url + "/1")
zero = redis.Redis.from_url(url + "/0")
one.set("pykey", "in-one")
print(one.get("pykey").decode(), zero.get("pykey"), one.dbsize(), zero.dbsize())
`
	out, err := exec.Command(py, "-c", script, p.Addr).CombinedOutput()
	if err != nil {
		t.Fatalf("redis-py: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != "in-one None 1 0" {
		t.Fatalf("redis-py from_url /1: %q, want \"in-one None 1 0\"", got)
	}
}
