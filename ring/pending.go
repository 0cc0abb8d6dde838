package ring

import (
	"fmt"
	"slices"
)

// Pending ownership (Riak's "pending" ring): when a change gives a
// partition's keys a replica that did not hold them, the State remembers
// the partition's previous replicas, its old set, until the handoff to the
// new ones is confirmed with Complete. Meanwhile the old set serves the
// partition (ServingList: reads and the write quorum) and the new replicas
// (Incoming) get every write besides the handoff stream, so a key is
// served by replicas that hold it at every moment.

// Handoff names a moving partition and the replicas that received all of
// its keys: the argument of Complete.
type Handoff struct {
	Partition int
	To        []NodeID
}

// Moving reports whether partition p is being handed off, and if so its
// old set: the replicas that held p's keys before the change, in their
// preference order.
func (s *State) Moving(p int) ([]NodeID, bool) {
	old, ok := s.pending[s.mod(p)]
	return slices.Clone(old), ok
}

// MovingPartitions returns the partitions being handed off, in increasing
// order.
func (s *State) MovingPartitions() []int {
	ps := make([]int, 0, len(s.pending))
	for p := range s.pending {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

// Incoming returns the replicas of partition p (its top N) that are not in
// its old set and are receiving its keys; nil unless p is moving.
func (s *State) Incoming(p int) []NodeID {
	old, ok := s.pending[s.mod(p)]
	if !ok {
		return nil
	}
	var in []NodeID
	for _, id := range s.PreferenceList(p, s.replicas) {
		if !slices.Contains(old, id) {
			in = append(in, id)
		}
	}
	return in
}

// ServingList returns the nodes that serve partition p, in the order a
// coordinator uses them: for a moving partition its old set, then the rest
// of Walk(p); otherwise Walk(p). Its first N entries (or the old set) are
// the replicas that reads ask and writes count toward the quorum.
func (s *State) ServingList(p int) []NodeID {
	walk := s.Walk(p)
	old, ok := s.pending[s.mod(p)]
	if !ok {
		return walk
	}
	out := slices.Clone(old)
	for _, id := range walk {
		if !slices.Contains(old, id) {
			out = append(out, id)
		}
	}
	return out
}

// Holds reports whether node id must keep partition p's keys: it is in
// p's top N or, while p moves, in its old set. A node that does not may
// drop its copy.
func (s *State) Holds(id NodeID, p int) bool {
	if old, ok := s.pending[s.mod(p)]; ok && slices.Contains(old, id) {
		return true
	}
	return slices.Contains(s.PreferenceList(p, s.replicas), id)
}

// Complete returns the ring with the handoffs done confirmed: each
// partition in done whose every Incoming replica is listed in its To stops
// moving, so its new replicas serve it and the old ones may drop it. Entries
// for partitions that are not moving, or whose To misses a replica (the
// ring changed since), are skipped; the int is how many partitions
// completed, and with none the State is s itself (no new version).
func (s *State) Complete(done []Handoff) (*State, int, error) {
	pending := s.clonePending()
	n := 0
	for _, h := range done {
		p := s.mod(h.Partition)
		if _, ok := pending[p]; !ok {
			continue
		}
		all := true
		for _, id := range s.Incoming(p) {
			if !slices.Contains(h.To, id) {
				all = false
				break
			}
		}
		if all {
			delete(pending, p)
			n++
		}
	}
	if n == 0 {
		return s, 0, nil
	}
	ns, err := buildPending(s.version+1, s.replicas, s.members, s.Owners(), pending)
	if err != nil {
		return nil, 0, err
	}
	return s.carry(ns), n, nil
}

// Involved reports whether id is in the old set of a moving partition (it
// still serves data that others are receiving).
func (s *State) Involved(id NodeID) bool {
	for _, old := range s.pending {
		if slices.Contains(old, id) {
			return true
		}
	}
	return false
}

func (s *State) clonePending() map[int][]NodeID {
	m := make(map[int][]NodeID, len(s.pending))
	for p, old := range s.pending {
		m[p] = slices.Clone(old)
	}
	return m
}

// nextPending computes the moving partitions of a successor of s whose
// members are ms and table owners: a partition moves if its new top N has
// a node outside its old set (what s served it from: its old set if it was
// moving, else its top N). Old-set nodes that are no longer members are
// dropped; a partition with no old node left does not move (no one has
// its data).
func (s *State) nextPending(ms []Member, owners []NodeID) (map[int][]NodeID, error) {
	tmp, err := build(s.version+1, s.replicas, ms, owners)
	if err != nil {
		return nil, err
	}
	pending := map[int][]NodeID{}
	for p := range owners {
		old, ok := s.pending[p]
		if !ok {
			old = s.PreferenceList(p, s.replicas)
		}
		old = slices.DeleteFunc(slices.Clone(old), func(id NodeID) bool {
			_, member := tmp.index[id]
			return !member
		})
		if len(old) == 0 {
			continue
		}
		for _, id := range tmp.PreferenceList(p, s.replicas) {
			if !slices.Contains(old, id) {
				pending[p] = old
				break
			}
		}
	}
	return pending, nil
}

// buildPending is build with moving partitions.
func buildPending(version uint64, replicas int, members []Member, owners []NodeID, pending map[int][]NodeID) (*State, error) {
	s, err := build(version, replicas, members, owners)
	if err != nil || len(pending) == 0 {
		return s, err
	}
	for p, old := range pending {
		if p < 0 || p >= len(owners) {
			return nil, fmt.Errorf("%w: moving partition %d out of range", ErrInvalidMember, p)
		}
		if len(old) == 0 {
			return nil, fmt.Errorf("%w: moving partition %d has no old replicas", ErrInvalidMember, p)
		}
		for i, id := range old {
			if _, ok := s.index[id]; !ok {
				return nil, fmt.Errorf("%w: moving partition %d held by %q", ErrUnknownMember, p, id)
			}
			if slices.Contains(old[:i], id) {
				return nil, fmt.Errorf("%w: moving partition %d lists %q twice", ErrDuplicateMember, p, id)
			}
		}
	}
	s.pending = pending
	s.digest = digestOf(s)
	return s, nil
}
