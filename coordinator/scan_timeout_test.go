package coordinator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// hungScanner is a peer whose scans never answer and ignore their context,
// as the go-redis peer client does while a killed node's socket times out.
type hungScanner struct {
	peer.Replica
	stop <-chan struct{}
}

func (h hungScanner) ScanRange(context.Context, int, int, peer.Cursor, int) (peer.Cursor, []peer.Entry, error) {
	<-h.stop
	return 0, nil, fmt.Errorf("hung peer released")
}

// Issue 10, fault 4: DBSIZE, KEYS and INFO keyspace blocked for 10–26 s
// after a node was killed, until gossip marked it dead, because each
// partition's scan waited for every replica. With one replica hanging (and
// still alive in gossip), a whole-store count answers within about one
// request timeout and still sees every key (W=3 put each on the others).
func TestScanAnswersWithinTimeoutWhenAPeerHangs(t *testing.T) {
	const timeout = 300 * time.Millisecond
	cfg := coordinator.Config{N: 3, R: 2, W: 3, Timeout: timeout}
	c := newRingCluster(t, seed(t), cfg, 5, nil)
	ctx := context.Background()
	const keys = 200
	for i := range keys {
		key := fmt.Sprintf("key:%d", i)
		if _, _, err := c.coords[c.replicasOf(key)[0]].Update(ctx, []byte(key), coordinator.WriteOptions{}, setFn("v")); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	// n1's coordinator, with n2 hung behind it.
	peers := c.net.Peers("n1")
	n1, err := coordinator.New(cfg, c.stores["n1"], coordinator.RingPlacement(func() *ring.State { return c.ring }), func(id string) peer.Replica {
		if id == "n2" {
			return hungScanner{Replica: peers(id), stop: stop}
		}
		return peers(id)
	})
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		seen map[string]int
		err  error
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		seen := map[string]int{}
		var cur uint64
		for {
			next, err := n1.Scan(ctx, cur, 1000, func(k []byte, _ crdt.Object) bool { seen[string(k)]++; return true })
			if err != nil || next == 0 {
				done <- result{seen, err}
				return
			}
			cur = next
		}
	}()
	// NB: the bound is what the fault is about: one request timeout for
	// the hung replica's first partition, then no more waiting on it.
	limit := 2*timeout + 500*time.Millisecond
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		if len(r.seen) != keys {
			t.Fatalf("the count saw %d keys, want %d", len(r.seen), keys)
		}
		for k, n := range r.seen {
			if n != 1 {
				t.Fatalf("%s seen %d times", k, n)
			}
		}
		t.Logf("whole-store scan with a hung replica took %v (timeout %v)", time.Since(start).Round(time.Millisecond), timeout)
		if el := time.Since(start); el > limit {
			t.Fatalf("whole-store scan took %v, want within %v", el, limit)
		}
	case <-time.After(20 * limit):
		t.Fatalf("whole-store scan still blocked after %v (timeout %v)", 20*limit, timeout)
	}
}
