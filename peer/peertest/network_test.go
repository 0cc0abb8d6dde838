package peertest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

var bg = context.Background()

var layout = func() antientropy.Layout {
	l, err := antientropy.NewLayout(4, 64)
	if err != nil {
		panic(err)
	}
	return l
}()

// node is one replica of a test network: a store and its trees.
type node struct {
	store *replica.Store
	trees *antientropy.Trees
}

func (n node) local() peer.Local { return peer.Local{Store: n.store, Trees: n.trees} }

func newNetwork(t *testing.T, seed uint64, ids ...string) (*peertest.Network, map[string]node) {
	t.Helper()
	net := peertest.New(seed)
	nodes := map[string]node{}
	for _, id := range ids {
		trees := antientropy.NewTrees(layout)
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1, NoSync: true,
			Now: func() time.Time { return time.UnixMilli(1_800_000_000_000) }, Observer: trees})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[id] = node{store: s, trees: trees}
		net.Add(nodes[id].local())
	}
	return net, nodes
}

func object(actor string, n uint64, v string) crdt.Object {
	return crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: actor, Counter: n}, Value: []byte(v)}))
}

// callAll runs one operation of every kind on r and returns their errors.
func callAll(r peer.Replica) map[peertest.Op]error {
	o := object("x", 1, "v")
	errs := map[peertest.Op]error{}
	_, errs[peertest.OpGet] = r.Get(bg, []byte("k"))
	errs[peertest.OpMerge] = r.Merge(bg, []byte("k"), o)
	errs[peertest.OpMergeMany] = r.MergeMany(bg, []peer.Entry{{Key: []byte("m"), Object: o}})
	errs[peertest.OpPutHint] = r.PutHint(bg, "n3", []byte("h"), o)
	_, errs[peertest.OpHintsFor] = r.HintsFor(bg, []byte("h"))
	_, errs[peertest.OpHintHorizon] = r.HintHorizon(bg)
	_, _, errs[peertest.OpScanRange] = r.ScanRange(bg, 0, 16384, 0, 10)
	_, _, errs[peertest.OpScanRanges] = r.ScanRanges(bg, []peer.Range{{From: 0, To: 0}}, 10)
	_, errs[peertest.OpTreeLevel] = r.TreeLevel(bg, 0, layout.Leaves(), 0, 0, 1)
	return errs
}

// TestEveryOpDelivered: each of the nine operations reaches the target's
// replica through a link and is counted once, per op.
func TestEveryOpDelivered(t *testing.T) {
	net, nodes := newNetwork(t, 1, "n1", "n2")
	for op, err := range callAll(net.Peer("n1", "n2")) {
		if err != nil {
			t.Errorf("%s: %v", op, err)
		}
	}
	for _, op := range peertest.Ops {
		if net.Calls("n2", op) != 1 || net.Attempts("n2", op) != 1 {
			t.Errorf("%s: %d calls, %d attempts, want 1 and 1", op, net.Calls("n2", op), net.Attempts("n2", op))
		}
	}
	if got := net.Calls("n2"); got != len(peertest.Ops) {
		t.Errorf("Calls(n2) = %d, want %d", got, len(peertest.Ops))
	}
	if o, _ := nodes["n2"].store.Get(bg, []byte("m")); o.IsZero() {
		t.Error("MergeMany did not reach n2's store")
	}
	if hs, _ := nodes["n2"].store.Hints("n3", 10); len(hs) != 1 {
		t.Errorf("PutHint: n2 holds %d hints for n3", len(hs))
	}
	if net.Calls("n1") != 0 {
		t.Error("calls to n2 counted on n1")
	}
	// A store added alone serves everything but trees.
	net.Add(nodes["n1"].store)
	if _, err := net.Peer("n2", "n1").TreeLevel(bg, 0, layout.Leaves(), 0, 0, 1); !errors.Is(err, peer.ErrNoTrees) {
		t.Errorf("TreeLevel of a store added alone: %v, want ErrNoTrees", err)
	}
	if _, err := net.Peer("n2", "n1").Get(bg, []byte("k")); err != nil {
		t.Errorf("Get of a store added alone: %v", err)
	}
}

// TestFaultsCoverEveryOp: a downed target, a partition, a cut link and a
// certain drop each fail every operation undelivered, with errors wrapping
// ErrUnreachable and peer.ErrRemote; healing restores them.
func TestFaultsCoverEveryOp(t *testing.T) {
	net, _ := newNetwork(t, 1, "n1", "n2", "n3")
	for _, fault := range []struct {
		name      string
		set, heal func()
	}{
		{"down", func() { net.SetDown("n2", true) }, func() { net.SetDown("n2", false) }},
		{"partition", func() { net.Partition([]string{"n1"}) }, net.Heal},
		{"cut", func() { net.Cut("n1", "n2") }, func() { net.Mend("n1", "n2") }},
		{"drop", func() { net.SetDropRate(1) }, func() { net.SetDropRate(0) }},
	} {
		before := net.Calls("n2")
		fault.set()
		for op, err := range callAll(net.Peer("n1", "n2")) {
			if !errors.Is(err, peertest.ErrUnreachable) || !errors.Is(err, peer.ErrRemote) {
				t.Errorf("%s: %s = %v, want ErrUnreachable", fault.name, op, err)
			}
		}
		if net.Calls("n2") != before {
			t.Errorf("%s: calls were delivered", fault.name)
		}
		if fault.name == "cut" {
			if err := net.Peer("n3", "n2").Merge(bg, []byte("k"), object("x", 1, "v")); err != nil {
				t.Errorf("cut n1-n2 also cut n3-n2: %v", err)
			}
		}
		fault.heal()
		for op, err := range callAll(net.Peer("n1", "n2")) {
			if err != nil {
				t.Errorf("after healing %s: %s: %v", fault.name, op, err)
			}
		}
	}
	if net.Peers("n1")("nobody") != nil {
		t.Error("Peers resolved an unknown node")
	}
}

// TestDropsReplay: the same seed drops the same calls.
func TestDropsReplay(t *testing.T) {
	seed := testseed.Seed(t)
	run := func() string {
		net, _ := newNetwork(t, seed, "n1", "n2")
		net.SetDropRate(0.5)
		var b []byte
		for range 64 {
			_, err := net.Peer("n1", "n2").Get(bg, []byte("k"))
			b = fmt.Append(b, err == nil)
		}
		return string(b)
	}
	if a, b := run(), run(); a != b {
		t.Errorf("seed %d: drops differ between runs:\n%s\n%s", seed, a, b)
	}
}

// TestReplyDrop: a call whose reply is lost is applied by the target, and
// its caller gets an error.
func TestReplyDrop(t *testing.T) {
	net, nodes := newNetwork(t, 1, "n1", "n2")
	net.SetReplyDropRate(1)
	if err := net.Peer("n1", "n2").Merge(bg, []byte("k"), object("x", 1, "v")); !errors.Is(err, peertest.ErrUnreachable) {
		t.Fatalf("Merge with its reply lost = %v", err)
	}
	if o, _ := nodes["n2"].store.Get(bg, []byte("k")); o.IsZero() {
		t.Error("the target did not apply the call whose reply was lost")
	}
	if net.Calls("n2", peertest.OpMerge) != 1 {
		t.Errorf("delivered merges: %d", net.Calls("n2", peertest.OpMerge))
	}
}

// TestHoldAndDelay: a held call waits for Release; a delayed one for the
// injected clock; either fails undelivered when its context ends first.
func TestHoldAndDelay(t *testing.T) {
	net, _ := newNetwork(t, 1, "n1", "n2")
	fire := make(chan time.Time)
	var asked time.Duration
	net.After = func(d time.Duration) <-chan time.Time { asked = d; return fire }
	for _, setup := range []struct {
		name      string
		set, free func()
	}{
		{"hold", func() { net.Hold("n2") }, func() { net.Release("n2") }},
		{"delay", func() { net.SetDelay("n2", time.Minute) }, func() { fire <- time.Time{}; net.SetDelay("n2", 0) }},
	} {
		setup.set()
		done := make(chan error, 1)
		go func() {
			_, err := net.Peer("n1", "n2").TreeLevel(bg, 0, layout.Leaves(), 0, 0, 1)
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("%s: call returned before it was let go: %v", setup.name, err)
		case <-time.After(20 * time.Millisecond):
		}
		setup.free()
		if err := <-done; err != nil {
			t.Errorf("%s: released call: %v", setup.name, err)
		}
		setup.set()
		ctx, cancel := context.WithCancel(bg)
		cancel()
		if _, err := net.Peer("n1", "n2").Get(ctx, []byte("k")); !errors.Is(err, peertest.ErrUnreachable) {
			t.Errorf("%s: a call whose context ended: %v", setup.name, err)
		}
		if setup.name == "hold" {
			net.Release("n2")
		} else {
			net.SetDelay("n2", 0)
		}
	}
	if asked != time.Minute {
		t.Errorf("delay waited %v, want 1m", asked)
	}
}

// TestExchangeOverFaultyNetwork: anti-entropy between two replicas through
// a link that drops a third of the calls (seeded) converges once retried
// exchanges succeed: every operation an exchange uses (TreeLevel,
// ScanRanges, MergeMany) goes through the network's faults.
func TestExchangeOverFaultyNetwork(t *testing.T) {
	seed := testseed.Seed(t)
	net, nodes := newNetwork(t, seed, "a", "b")
	for i := range 200 {
		k := fmt.Appendf(nil, "k%d", i)
		who := []string{"a", "b"}[i%2]
		if err := nodes[who].store.Merge(bg, k, object(who, uint64(i+1), string(k))); err != nil {
			t.Fatal(err)
		}
	}
	net.SetDropRate(0.3)
	for p := range layout.Partitions() {
		for try := 0; ; try++ {
			if try == 5000 {
				t.Fatalf("seed %d: partition %d did not converge", seed, p)
			}
			_, err := antientropy.Exchange(bg, nodes["a"].trees, p, nodes["a"].store, net.Peer("a", "b"), antientropy.Options{Page: 16})
			if err == nil {
				break
			}
			if !errors.Is(err, peertest.ErrUnreachable) {
				t.Fatalf("partition %d: %v", p, err)
			}
		}
		ra, _ := nodes["a"].trees.Level(p, 0, 0, 1)
		rb, _ := nodes["b"].trees.Level(p, 0, 0, 1)
		if ra[0] != rb[0] {
			t.Errorf("partition %d: roots differ after a successful exchange", p)
		}
	}
	for _, op := range []peertest.Op{peertest.OpTreeLevel, peertest.OpScanRanges, peertest.OpMergeMany} {
		if net.Attempts("b", op) == 0 {
			t.Errorf("exchange made no %s call", op)
		}
	}
	if net.Attempts("b") == net.Calls("b") {
		t.Error("no call was dropped at rate 0.3")
	}
}
