package member

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Liveness is what this node believes about a member's health. It decides
// routing, never ring ownership.
type Liveness int

const (
	// Unknown is the zero value: a member never seen.
	Unknown Liveness = iota
	// Alive: memberlist considers the member alive and it has answered
	// this node recently.
	Alive
	// Suspect: memberlist still lists the member, but it has not answered
	// this node lately (see the package documentation). Route around it
	// when there is a choice.
	Suspect
	// Dead: memberlist declared the member failed. It may come back.
	Dead
	// Left: the member announced a graceful leave before going away.
	Left
)

// String returns the lower-case name of l.
func (l Liveness) String() string {
	switch l {
	case Unknown:
		return "unknown"
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	case Left:
		return "left"
	default:
		return "liveness(" + strconv.Itoa(int(l)) + ")"
	}
}

// Member is one node as this node sees it. Values returned by this package
// are copies; the caller may keep and modify them.
type Member struct {
	// ID is the member's NodeID.
	ID string
	// GossipAddr is the member's advertised gossip "ip:port".
	GossipAddr string
	// Meta is the member's Config.Meta.
	Meta []byte
	// State is the member's liveness.
	State Liveness
}

func (m Member) clone() Member {
	m.Meta = bytes.Clone(m.Meta)
	return m
}

// entry is the table's record of one member.
type entry struct {
	Member
	// lastContact is the last direct sign of life: a join or update
	// announced by memberlist, an ack to a probe of ours, or a message of
	// ours that names it as sender.
	lastContact time.Time
	// leaving records a leave announcement from the member; when memberlist
	// then declares it gone, it is Left rather than Dead.
	leaving bool
	// pinging is set while a confirmation ping is in flight.
	pinging bool
}

// table is the liveness view. Every transition happens under mu and is
// queued to the event queue under mu, so events are in transition order.
type table struct {
	mu      sync.Mutex
	self    string
	members map[string]*entry
	events  *eventQueue // nil when Config.Events is nil
	now     func() time.Time
}

func newTable(self string, events *eventQueue) *table {
	return &table{self: self, members: make(map[string]*entry), events: events, now: time.Now}
}

// emitLocked queues e's current view as an event.
func (t *table) emitLocked(e *entry) {
	if t.events != nil {
		t.events.push(e.Member.clone())
	}
}

// join records memberlist's report that n is alive (first seen or back
// from dead/left).
func (t *table) join(n *memberlist.Node) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.joinLocked(n)
}

func (t *table) joinLocked(n *memberlist.Node) {
	e, ok := t.members[n.Name]
	if !ok {
		e = &entry{Member: Member{ID: n.Name}}
		t.members[n.Name] = e
	}
	e.GossipAddr = n.Address()
	e.Meta = bytes.Clone(n.Meta)
	e.leaving = false
	e.lastContact = t.now()
	e.State = Alive
	t.emitLocked(e)
}

// update records memberlist's report that n's address or meta changed,
// which it learns from an alive message with a higher incarnation.
func (t *table) update(n *memberlist.Node) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.members[n.Name]
	if !ok {
		t.joinLocked(n)
		return
	}
	changed := e.GossipAddr != n.Address() || !bytes.Equal(e.Meta, n.Meta)
	e.GossipAddr = n.Address()
	e.Meta = bytes.Clone(n.Meta)
	e.lastContact = t.now()
	if e.State == Suspect || e.State == Unknown {
		e.State = Alive
		changed = true
	}
	if changed {
		t.emitLocked(e)
	}
}

// gone records memberlist's report that n is dead or has left.
func (t *table) gone(n *memberlist.Node, selfLeaving bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.members[n.Name]
	if !ok {
		e = &entry{Member: Member{ID: n.Name, GossipAddr: n.Address(), Meta: bytes.Clone(n.Meta)}}
		t.members[n.Name] = e
	}
	state := Dead
	if e.leaving || (n.Name == t.self && selfLeaving) {
		state = Left
	}
	if e.State != state {
		e.State = state
		t.emitLocked(e)
	}
}

// leaveIntent records a member's announcement that it is leaving.
func (t *table) leaveIntent(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.members[id]
	if !ok {
		return
	}
	e.leaving = true
	// A member that announced its leave is on its way out (memberlist
	// never lets a node that called Leave be alive again without a
	// restart): it is Left now, not Suspect once it stops answering. The
	// announcement may also arrive after memberlist's dead message.
	if e.State != Left {
		e.State = Left
		t.emitLocked(e)
	}
}

// contact records a direct sign of life from id. It revives a Suspect
// member; only memberlist revives a Dead or Left one.
func (t *table) contact(id string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.contactLocked(id)
}

func (t *table) contactLocked(id string) {
	e, ok := t.members[id]
	if !ok {
		return
	}
	e.lastContact = t.now()
	if e.State == Suspect {
		e.State = Alive
		t.emitLocked(e)
	}
}

// stale returns the alive members (other than self) with no sign of life
// for staleAfter and no confirmation ping in flight, and marks them as
// being pinged.
func (t *table) stale(staleAfter time.Duration) []Member {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var out []Member
	for _, e := range t.members {
		if e.ID == t.self || e.State != Alive || e.pinging {
			continue
		}
		if now.Sub(e.lastContact) > staleAfter {
			e.pinging = true
			out = append(out, e.Member.clone())
		}
	}
	return out
}

// pingDone records the outcome of a confirmation ping started at start.
func (t *table) pingDone(id string, start time.Time, ok bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	e, found := t.members[id]
	if !found {
		return
	}
	e.pinging = false
	if ok {
		t.contactLocked(id)
		return
	}
	// Only an unanswered member that is still alive in memberlist's eyes,
	// and that nothing else has heard from meanwhile, becomes Suspect.
	if e.State == Alive && e.lastContact.Before(start) {
		e.State = Suspect
		t.emitLocked(e)
	}
}

// live counts the members that are Alive or Suspect, self included.
func (t *table) live() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.members {
		if e.State == Alive || e.State == Suspect {
			n++
		}
	}
	return n
}

func (t *table) get(id string) Liveness {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.members[id]; ok {
		return e.State
	}
	return Unknown
}

func (t *table) member(id string) (Member, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if e, ok := t.members[id]; ok {
		return e.Member.clone(), true
	}
	return Member{}, false
}

func (t *table) list() []Member {
	t.mu.Lock()
	out := make([]Member, 0, len(t.members))
	for _, e := range t.members {
		out = append(out, e.Member.clone())
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return strings.Compare(a.ID, b.ID) })
	return out
}
