package coordinator_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// missedByN1 makes a write of key on n2 and n3 only: any quorum read of
// two replicas sees it, n1's replica alone does not.
func missedByN1(t *testing.T, c *cluster, key []byte, fn crdt.Mutator) {
	t.Helper()
	_, _, d, err := c.stores["n2"].Update(context.Background(), key, fn)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.stores["n3"].Merge(context.Background(), key, d); err != nil {
		t.Fatal(err)
	}
}

// TestHotKeyReadFirstWrites: concurrent ReadFirst writes of one key (LPUSH
// from many clients) all run, share their quorum reads, each decides on
// the state the previous ones made, and every one sees what the read
// brought in (an element only the other replicas held); all replicas end
// with every element.
func TestHotKeyReadFirstWrites(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	key := []byte("list")
	push := func(v string, reply *int64) crdt.Mutator {
		return func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, n, err := crdt.ListPush(o, st, [][]byte{[]byte(v)}, true, false)
			if reply != nil {
				*reply = n
			}
			return d, err
		}
	}
	// An element n1's replica missed: only a quorum read brings it.
	missedByN1(t, c, key, push("old", nil))
	const n = 40
	replies := make([]int64, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, errs[i] = c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{ReadFirst: true}, push(fmt.Sprint(i), &replies[i]))
		}()
	}
	wg.Wait()
	seen := map[int64]bool{}
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("write %d: %v", i, errs[i])
		}
		if replies[i] < 2 || replies[i] > n+1 || seen[replies[i]] {
			t.Fatalf("write %d replied length %d (replies %v): want each of 2..%d once", i, replies[i], replies, n+1)
		}
		seen[replies[i]] = true
	}
	c.coords["n1"].Wait()
	for _, id := range []string{"n1", "n2", "n3"} {
		o, err := c.stores[id].Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if l, _ := crdt.ListLen(o, c.coords["n1"].NowMs()); l != n+1 {
			t.Fatalf("%s holds %d elements, want %d", id, l, n+1)
		}
	}
}

// TestHotKeyReads: concurrent quorum reads of one key (sharing their
// reads) each see a write the coordinator's own replica missed, and
// report the replica that answered first.
func TestHotKeyReads(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	ctx := context.Background()
	key := []byte("k")
	missedByN1(t, c, key, setFn("v"))
	const n = 30
	got := make([]string, n)
	repliers := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o, err := c.coords["n1"].Get(ctx, key, coordinator.ReadOptions{Replier: &repliers[i]})
			if err != nil {
				got[i] = err.Error()
				return
			}
			v, _, _ := crdt.Get(o, c.coords["n1"].NowMs())
			got[i] = string(v)
		}()
	}
	wg.Wait()
	for i := range n {
		if got[i] != "v" || repliers[i] == "" {
			t.Fatalf("read %d: %q (replier %q), want v", i, got[i], repliers[i])
		}
	}
	c.coords["n1"].Wait()
}

// timeoutOnCancel is a peer whose calls, when their context is cancelled,
// fail with a socket timeout wrapping context.DeadlineExceeded, as a peer
// connection's dial aborted by its deadline did: the transport gives no
// sign that the caller cancelled.
type timeoutOnCancel struct{ peer.Replica }

func (p timeoutOnCancel) Get(ctx context.Context, key []byte) (crdt.Object, error) {
	o, err := p.Replica.Get(ctx, key)
	if err != nil && ctx.Err() != nil {
		return crdt.Object{}, fmt.Errorf("%w: %s get: read tcp: i/o timeout (%w)", peer.ErrRemote, p.ID(), context.DeadlineExceeded)
	}
	return o, err
}

// TestCancelledReadCallsSuspectNobody: a ReadFirst write reads at R=2 and
// cancels its call to the third replica, still unanswered, once two have
// answered; that call's failure, whatever error the transport makes of
// the cancellation, is not held against the replica: the coordinator
// still calls it healthy, suspects nobody, and still routes to it the
// keys it is first for. (Every node must route a key's writes to the same
// coordinator, or two SET NX both win.)
func TestCancelledReadCallsSuspectNobody(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	peers := c.net.Peers("n1")
	co, err := coordinator.New(cfg323(), c.stores["n1"], coordinator.RingPlacement(func() *ring.State { return c.ring }), func(id string) peer.Replica {
		return timeoutOnCancel{peers(id)}
	})
	if err != nil {
		t.Fatal(err)
	}
	c.net.Hold("n3")
	_, _, err = co.Update(context.Background(), []byte("k"), coordinator.WriteOptions{ReadFirst: true}, setFn("v"))
	c.net.Release("n3") // NB: the write's send to n3 waits for it
	if err != nil {
		t.Fatal(err)
	}
	co.Wait()
	if got := co.Stats().Suspicions.Load(); got != 0 || !co.Healthy("n3") {
		t.Fatalf("after a read's cancelled call to n3: %d suspicions, n3 healthy %v; want 0, true", got, co.Healthy("n3"))
	}
}
