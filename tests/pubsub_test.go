package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/redis/go-redis/v9"
)

// pubsubPy subscribes through redis-py (RESP2) to channel "news" and
// pattern "ne*" on argv[1], prints "ready" once both are confirmed, then
// prints as JSON every message until the message "end" on "news" (or 20
// seconds without one).
const pubsubPy = `
import json, sys
import redis
host, port = sys.argv[1].rsplit(":", 1)
r = redis.Redis(host=host, port=int(port), decode_responses=True)
p = r.pubsub()
p.subscribe("news")
p.psubscribe("ne*")
confirmed = 0
while confirmed < 2:
    m = p.get_message(timeout=10)
    if m is None:
        sys.exit("no confirmation")
    if m["type"] in ("subscribe", "psubscribe"):
        confirmed += 1
print("ready", flush=True)
got = []
while True:
    m = p.get_message(timeout=20)
    if m is None:
        break
    got.append([m["type"], m["pattern"] or "", m["channel"], m["data"]])
    if m["type"] == "message" and m["data"] == "end":
        break
print(json.dumps(got), flush=True)
`

// TestPubSubAcrossCluster: in a 3-node cluster of processes, a message
// published on one node reaches a subscriber on another exactly once,
// through redis-py's pubsub() (RESP2, a channel and a pattern) and go-redis
// Subscribe (RESP3 pushes), and PUBLISH counts the receivers cluster-wide;
// a keyspace-notification subscriber on n1 gets exactly one "expired"
// event for a key set with EX 1 through n2, whichever node coordinates the
// key (issue 12).
func TestPubSubAcrossCluster(t *testing.T) {
	heavy(t)
	procs := StartCluster(t, 3)
	n1, n2, n3 := procs[0], procs[1], procs[2]

	t.Run("redis-py", func(t *testing.T) {
		if out, err := exec.Command(systemPython, "-c", "import redis").CombinedOutput(); err != nil {
			t.Skipf("redis-py not importable by %s (apt-get install python3-redis): %v %s", systemPython, err, out)
		}
		ctx, cancel := context.WithTimeout(context.Background(), stepTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, systemPython, "-c", pubsubPy, n1.Addr)
		var stderr syncbuf.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Wait()
		lines := bufio.NewScanner(stdout)
		if !lines.Scan() || lines.Text() != "ready" {
			t.Fatalf("redis-py: %q %v\n%s", lines.Text(), lines.Err(), stderr.String())
		}
		pub := n2.Client(t)
		if n, err := pub.Publish(ctxT(t), "news", "hello").Result(); err != nil || n != 2 {
			t.Errorf("PUBLISH news hello on n2 = %d, %v; want 2 (n1's channel and pattern subscriptions)", n, err)
		}
		if err := pub.Publish(ctxT(t), "news", "end").Err(); err != nil {
			t.Fatal(err)
		}
		if !lines.Scan() {
			t.Fatalf("redis-py printed no messages: %v\n%s", lines.Err(), stderr.String())
		}
		t.Logf("redis-py on n1 received: %s", lines.Text())
		var got [][4]string
		if err := json.Unmarshal(lines.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := [][4]string{{"message", "", "news", "hello"}, {"pmessage", "ne*", "news", "hello"}, {"message", "", "news", "end"}}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("redis-py received %q, want %q (each once)", got, want)
		}
	})

	t.Run("go-redis", func(t *testing.T) {
		ctx := ctxT(t)
		sub := n3.Client(t).Subscribe(ctx, "orders")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		pub := n1.Client(t)
		for _, m := range []string{"o1", "o2", "end"} {
			if n, err := pub.Publish(ctx, "orders", m).Result(); err != nil || n != 1 {
				t.Errorf("PUBLISH orders %s on n1 = %d, %v; want 1", m, n, err)
			}
		}
		var got []string
		for len(got) == 0 || got[len(got)-1] != "end" {
			m, err := sub.ReceiveMessage(ctx)
			if err != nil {
				t.Fatalf("after %q: %v", got, err)
			}
			got = append(got, m.Payload)
		}
		t.Logf("go-redis on n3 received: %q", got)
		if strings.Join(got, ",") != "o1,o2,end" {
			t.Errorf("go-redis received %q, want o1,o2,end once each", got)
		}
	})

	t.Run("expired", func(t *testing.T) {
		ctx := ctxT(t)
		// One CONFIG SET, as a client of a single Redis sends it,
		// configures every node (each key's coordinator emits its events).
		if err := n1.Client(t).ConfigSet(ctx, "notify-keyspace-events", "Ex").Err(); err != nil {
			t.Fatal(err)
		}
		for _, p := range procs {
			c := p.Client(t)
			eventually(t, p.ID+" has notify-keyspace-events xE", 10*time.Second, func() error {
				got, err := c.ConfigGet(ctx, "notify-keyspace-events").Result()
				if err == nil && got["notify-keyspace-events"] != "xE" {
					err = fmt.Errorf("CONFIG GET = %v", got)
				}
				return err
			})
		}
		sub := n1.Client(t).PSubscribe(ctx, "__keyevent@0__:expired")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		// One key coordinated by each node, so the event comes from n1's
		// own sweeper and from the others' through the fan-out.
		keys := keysLedBy(t, n1.Client(t), []string{n3.ID, n1.ID, n2.ID})
		c2 := n2.Client(t)
		for i, k := range keys {
			if err := c2.Set(ctx, k, "v", time.Second).Err(); err != nil {
				t.Fatal(err)
			}
			// NB: each key expires at least a second after the previous
			// one's event, long after every replica's sweeper (every
			// 100ms) has tombstoned the previous key, so a duplicate of
			// it would arrive before this key's event.
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			m, err := sub.ReceiveMessage(rctx)
			cancel()
			if err != nil {
				t.Fatalf("key %d (%s): no expired event: %v", i, k, err)
			}
			t.Logf("n1 received %s %s (key coordinated by %s)", m.Channel, m.Payload, []string{n3.ID, n1.ID, n2.ID}[i])
			if m.Channel != "__keyevent@0__:expired" || m.Payload != k {
				t.Errorf("event %s %s, want __keyevent@0__:expired %s (no duplicate of an earlier key)", m.Channel, m.Payload, k)
			}
		}
		// NB: a time under test: ten sweeps of every replica after the
		// last event, a duplicate of it would have arrived.
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if m, err := sub.ReceiveMessage(rctx); err == nil {
			t.Errorf("extra event after the last key's: %s %s", m.Channel, m.Payload)
		}
	})
}

// keysLedBy returns, for each node ID, a key whose slot it leads in
// CLUSTER SLOTS (it coordinates the key's writes).
func keysLedBy(t *testing.T, c *redis.Client, ids []string) []string {
	t.Helper()
	slots, err := c.ClusterSlots(ctxT(t)).Result()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		for j := 0; out[i] == ""; j++ {
			if j > 100000 {
				t.Fatalf("no key led by %s in %v", id, slots)
			}
			k := fmt.Sprintf("exp:%d:%d", i, j)
			slot, err := c.ClusterKeySlot(ctxT(t), k).Result()
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range slots {
				if int64(s.Start) <= slot && slot <= int64(s.End) && len(s.Nodes) > 0 && s.Nodes[0].ID == id {
					out[i] = k
				}
			}
		}
	}
	return out
}
