package cluster

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/ring/member/membertest"
)

// gossipNode is a Cluster wired to a real member.Membership on an
// in-memory membertest network, as node wires it to UDP/TCP.
type gossipNode struct {
	c  *Cluster
	ml *member.Membership
}

func startGossip(t *testing.T, nw *membertest.Network, id string, bootstrap bool, join []string) *gossipNode {
	t.Helper()
	addr := "10.0.0." + id[len(id)-1:] + ":7946"
	c := newTest(t, crashableDir(t), "/data", func(cfg *Config) {
		cfg.Self = ring.NodeID(id)
		cfg.Addr = id + ":6379"
		cfg.GossipAddr = addr
		cfg.Bootstrap = bootstrap
		cfg.ReconcileInterval = 50 * time.Millisecond
		cfg.AskInterval = 100 * time.Millisecond
	})
	mc := member.DefaultConfig()
	mc.NodeID = id
	mc.Transport = nw.MustListen(addr)
	mc.Meta = c.Meta()
	mc.Join = join
	mc.State = c
	mc.Events = func(member.Member) { c.Poke() }
	mc.ProbeInterval = 100 * time.Millisecond
	mc.ProbeTimeout = 40 * time.Millisecond
	mc.GossipInterval = 20 * time.Millisecond
	mc.PushPullInterval = 300 * time.Millisecond
	mc.Logger = quiet()
	ml, err := member.Start(mc)
	if err != nil {
		t.Fatalf("gossip %s: %v", id, err)
	}
	t.Cleanup(func() { _ = ml.Shutdown() })
	c.Attach(ml)
	go c.Run(t.Context())
	return &gossipNode{c: c, ml: ml}
}

// Dynamo §4.8 in process: a node started with --join is admitted by the
// reconciler of a running ring through real gossip (membertest), learns
// the state that admits it, and both nodes converge on it.
func TestJoinThroughGossip(t *testing.T) {
	nw := membertest.NewNetwork()
	a := startGossip(t, nw, "n1", true, nil)
	b := startGossip(t, nw, "n2", false, []string{"10.0.0.1:7946"})
	if err := b.c.WaitJoined(t.Context(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both nodes on one ring state", func() error {
		sa, sb := a.c.Current(), b.c.Current()
		if !sa.Equal(sb) {
			return fmt.Errorf("a v%d, b v%d", sa.Version(), sb.Version())
		}
		if len(sa.Members()) != 2 {
			return fmt.Errorf("%d members", len(sa.Members()))
		}
		return nil
	})
	if m, _ := a.c.Current().Member("n2"); m.Addr != "n2:6379" || m.GossipAddr != "10.0.0.2:7946" {
		t.Fatalf("n2 admitted as %+v", m)
	}
}

// waitFor polls cond (conditions on gossip, which runs on real timers)
// until it returns nil, failing after 20 s.
func waitFor(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// CLUSTER LEAVE over real gossip: the leaving mark reaches the reconciler
// in the node's Meta, so once the node is out of the ring the reconciler
// does not admit it again although it is still alive in gossip.
func TestLeftNodeIsNotReadmitted(t *testing.T) {
	nw := membertest.NewNetwork()
	a := startGossip(t, nw, "n1", true, nil)
	b := startGossip(t, nw, "n2", false, []string{"10.0.0.1:7946"})
	if err := b.c.WaitJoined(t.Context(), 20*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := b.c.MarkLeaving(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "n1 sees n2 leaving", func() error {
		for _, m := range a.ml.Members() {
			if m.ID == "n2" && strings.Contains(string(m.Meta), `"l":true`) {
				return nil
			}
		}
		return fmt.Errorf("no Left in n2's meta")
	})
	// Its partitions handed off (not modelled here), n2 is removed.
	if _, err := a.c.Update(func(cur *ring.State) (*ring.State, error) {
		next, _, err := cur.Forget("n2")
		return next, err
	}); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if n := a.c.Reconcile(); n != 0 {
			t.Fatalf("the reconciler made %d changes: n2 readmitted", n)
		}
	}
	if _, ok := a.c.Current().Member("n2"); ok {
		t.Fatal("n2 is back in the ring")
	}
}
