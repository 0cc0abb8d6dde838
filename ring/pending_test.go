package ring

import (
	"errors"
	"slices"
	"testing"
)

// completeAll confirms every moving partition's handoff.
func completeAll(t *testing.T, s *State) *State {
	t.Helper()
	var done []Handoff
	for _, p := range s.MovingPartitions() {
		done = append(done, Handoff{Partition: p, To: s.Incoming(p)})
	}
	ns, n, err := s.Complete(done)
	if err != nil || n != len(done) || len(ns.MovingPartitions()) != 0 {
		t.Fatalf("Complete: %d of %d, err %v, still moving %v", n, len(done), err, ns.MovingPartitions())
	}
	return ns
}

// TestPendingOwnership: a join keeps each partition whose replicas change
// served by its old replicas, with the new ones receiving writes, until
// Complete; only then may the old replicas drop it.
func TestPendingOwnership(t *testing.T) {
	const q, n = 64, 3
	s, err := New(Config{Partitions: q, Replicas: n}, equal("abc"))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.MovingPartitions()) != 0 {
		t.Fatalf("a new ring has moving partitions")
	}
	before := s
	s, res, err := s.Join(Member{ID: "d", Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if res.Moved != res.MinMoved {
		t.Errorf("join moved %d, minimum %d", res.Moved, res.MinMoved)
	}
	moving := 0
	for p := range q {
		oldTop, newTop := before.PreferenceList(p, n), s.PreferenceList(p, n)
		old, ok := s.Moving(p)
		changed := slices.ContainsFunc(newTop, func(id NodeID) bool { return !slices.Contains(oldTop, id) })
		if ok != changed {
			t.Fatalf("partition %d: moving %v, replicas %v → %v", p, ok, oldTop, newTop)
		}
		if !ok {
			if s.Incoming(p) != nil || !slices.Equal(s.ServingList(p), s.Walk(p)) {
				t.Errorf("partition %d not moving but has incoming or a different serving list", p)
			}
			continue
		}
		moving++
		if !slices.Equal(old, oldTop) || !slices.Equal(s.ServingList(p)[:n], oldTop) {
			t.Errorf("partition %d: old set %v, serving %v, want %v", p, old, s.ServingList(p), oldTop)
		}
		for _, id := range s.Incoming(p) {
			if slices.Contains(oldTop, id) || !slices.Contains(newTop, id) || !s.Holds(id, p) {
				t.Errorf("partition %d: incoming %s", p, id)
			}
		}
		for _, id := range oldTop {
			if !s.Holds(id, p) {
				t.Errorf("partition %d: old replica %s may drop it before the handoff", p, id)
			}
		}
	}
	if moving == 0 {
		t.Fatal("nothing moves")
	}
	// The encoding keeps the moves.
	d, err := Decode(s.Encode())
	if err != nil || !d.Equal(s) || !slices.Equal(d.MovingPartitions(), s.MovingPartitions()) {
		t.Fatalf("Decode: %v", err)
	}
	// A handoff that missed an incoming replica does not complete.
	p := s.MovingPartitions()[0]
	if ns, k, err := s.Complete([]Handoff{{Partition: p}}); err != nil || k != 0 || ns != s {
		t.Errorf("Complete without receivers: %d, %v", k, err)
	}
	ns, k, err := s.Complete([]Handoff{{Partition: p, To: s.Incoming(p)}})
	if err != nil || k != 1 || ns.Version() != s.Version()+1 {
		t.Fatalf("Complete: %d, %v", k, err)
	}
	if _, ok := ns.Moving(p); ok || !slices.Equal(ns.ServingList(p), ns.Walk(p)) {
		t.Errorf("partition %d still moving after Complete", p)
	}
	for _, id := range before.PreferenceList(p, n) {
		if ns.Holds(id, p) != slices.Contains(ns.PreferenceList(p, n), id) {
			t.Errorf("after Complete, %s holds %d: %v", id, p, ns.Holds(id, p))
		}
	}
	s = completeAll(t, ns)

	// Leave: the leaver serves its partitions until they are handed off,
	// and cannot be removed before.
	s, _, err = s.Leave("b")
	if err != nil {
		t.Fatal(err)
	}
	if !s.Involved("b") {
		t.Fatal("leaver not in any old set")
	}
	if _, err := s.Remove("b"); !errors.Is(err, ErrMoving) {
		t.Errorf("Remove during handoff: %v", err)
	}
	for _, p := range s.MovingPartitions() {
		if len(s.ServingList(p)) < n {
			t.Errorf("partition %d: serving list %v", p, s.ServingList(p))
		}
	}
	s = completeAll(t, s)
	if s.Involved("b") {
		t.Error("leaver still involved after the handoffs")
	}
	if s, err = s.Remove("b"); err != nil {
		t.Fatal(err)
	}

	// Forget: the forgotten node leaves every old set; the survivors hand
	// its partitions to the new replicas.
	if s, _, err = s.Join(Member{ID: "e", Weight: 1}); err != nil {
		t.Fatal(err)
	}
	s = completeAll(t, s)
	s, _, err = s.Forget("c")
	if err != nil {
		t.Fatal(err)
	}
	if s.Involved("c") || len(s.MovingPartitions()) == 0 {
		t.Errorf("after Forget: involved %v, moving %d", s.Involved("c"), len(s.MovingPartitions()))
	}
	for _, p := range s.MovingPartitions() {
		old, _ := s.Moving(p)
		if len(old) == 0 || slices.Contains(old, "c") {
			t.Errorf("partition %d: old set %v", p, old)
		}
	}
}
