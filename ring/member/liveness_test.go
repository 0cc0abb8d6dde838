package member

import (
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
)

// TestTableTransitions walks the liveness table through every transition
// with an injected clock.
func TestTableTransitions(t *testing.T) {
	var mu sync.Mutex
	var got []Member
	q := newEventQueue(func(m Member) { mu.Lock(); got = append(got, m); mu.Unlock() })
	tb := newTable("self", q)
	now := time.Unix(1000, 0)
	tb.now = func() time.Time { return now }
	node := func(name string, meta string) *memberlist.Node {
		return &memberlist.Node{Name: name, Addr: net.IPv4(10, 0, 0, 1), Port: 7946, Meta: []byte(meta)}
	}
	expect := func(id string, want Liveness) {
		t.Helper()
		if l := tb.get(id); l != want {
			t.Fatalf("%s is %v, want %v", id, l, want)
		}
	}

	tb.join(node("self", ""))
	tb.join(node("x", "m1"))
	expect("x", Alive)

	// Fresh contact: not stale.
	if s := tb.stale(time.Second); len(s) != 0 {
		t.Fatalf("stale right after join: %v", s)
	}
	now = now.Add(2 * time.Second)
	s := tb.stale(time.Second)
	if len(s) != 1 || s[0].ID != "x" || s[0].GossipAddr != "10.0.0.1:7946" {
		t.Fatalf("stale = %+v, want x only (never self)", s)
	}
	if s := tb.stale(time.Second); len(s) != 0 {
		t.Fatalf("x returned again while its ping is in flight: %v", s)
	}
	// A failed ping that started after the last contact: Suspect.
	tb.pingDone("x", now.Add(-time.Millisecond), false)
	expect("x", Suspect)
	// Any sign of life revives it.
	tb.contact("x")
	expect("x", Alive)
	// A failed ping does not count if there was contact after it started.
	tb.pingDone("x", now.Add(-time.Second), false)
	expect("x", Alive)

	// Meta change: an event, still alive.
	tb.update(node("x", "m2"))
	expect("x", Alive)
	tb.update(node("x", "m2")) // no change: no event

	tb.gone(node("x", "m2"), false)
	expect("x", Dead)
	tb.contact("x") // a late ack must not revive a dead member
	expect("x", Dead)
	tb.leaveIntent("x") // late leave announcement
	expect("x", Left)

	tb.join(node("x", "m2")) // restarted
	expect("x", Alive)
	tb.leaveIntent("x") // announced leave: Left at once
	expect("x", Left)
	tb.gone(node("x", "m2"), false) // memberlist's view follows: no event
	expect("x", Left)
	now = now.Add(time.Hour)
	if s := tb.stale(time.Second); len(s) != 0 {
		t.Fatalf("stale = %v: a left member must not be pinged", s)
	}

	tb.gone(node("self", ""), true)
	expect("self", Left)
	tb.join(node("y", ""))
	if n := tb.live(); n != 1 {
		t.Errorf("live = %d, want 1 (y)", n)
	}

	q.close()
	var xs []Liveness
	var metas []string
	for _, m := range got {
		if m.ID == "x" {
			xs = append(xs, m.State)
			metas = append(metas, string(m.Meta))
		}
	}
	want := []Liveness{Alive, Suspect, Alive, Alive, Dead, Left, Alive, Left}
	if !slices.Equal(xs, want) {
		t.Errorf("events for x = %v, want %v", xs, want)
	}
	if metas[3] != "m2" {
		t.Errorf("meta update event carries %q", metas[3])
	}
	ids := tb.list()
	if len(ids) != 3 || ids[0].ID != "self" || ids[1].ID != "x" || ids[2].ID != "y" {
		t.Errorf("list = %v, want sorted self, x, y", ids)
	}
}
