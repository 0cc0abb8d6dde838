package ring

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// encodingFormat is the version of the encoding written by Encode.
const encodingFormat = 1

// wireState is the JSON form of a State. Owners are indexes into Members
// (sorted by ID), which keeps the table small (a few bytes per partition)
// and the encoding canonical: equal States encode to equal bytes.
type wireState struct {
	Format   int      `json:"format"`
	Version  uint64   `json:"version"`
	Replicas int      `json:"replicas"`
	Members  []Member `json:"members"`
	Owners   []int32  `json:"owners"`
	// Pending lists the moving partitions, by partition, each with its old
	// set as member indexes. Absent when nothing moves, so a State without
	// moves encodes as before pending ownership existed.
	Pending []wirePending `json:"pending,omitempty"`
	// Flush lists the databases' flush epochs, by database, without
	// trailing zeros; absent before the first flush, so such a State
	// encodes as before databases existed.
	Flush []uint64 `json:"flush,omitempty"`
}

// wirePending is one moving partition and its old set.
type wirePending struct {
	P   int     `json:"p"`
	Old []int32 `json:"old"`
}

// Encode returns the canonical encoding of s (JSON): equal States encode to
// equal bytes, and Decode(s.Encode()) equals s. Use it to persist the ring
// and to gossip it.
func (s *State) Encode() []byte {
	b, err := json.Marshal(wireState{
		Format:   encodingFormat,
		Version:  s.version,
		Replicas: s.replicas,
		Members:  s.members,
		Owners:   s.owners,
		Pending:  s.wirePending(),
		Flush:    s.wireFlush(),
	})
	if err != nil {
		// NB: unreachable: wireState holds only strings, ints and slices.
		panic("ring: encode: " + err.Error())
	}
	return b
}

// wirePending returns the moving partitions in encoding order.
func (s *State) wirePending() []wirePending {
	var out []wirePending
	for _, p := range s.MovingPartitions() {
		old := make([]int32, len(s.pending[p]))
		for k, id := range s.pending[p] {
			old[k] = s.index[id]
		}
		out = append(out, wirePending{P: p, Old: old})
	}
	return out
}

// Decode parses an encoding made by Encode and checks every invariant of a
// State. Any other input, including truncated or hostile bytes, yields an
// error wrapping ErrInvalidState; Decode never panics.
func Decode(b []byte) (*State, error) {
	var w wireState
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(&w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	if _, err := d.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the state", ErrInvalidState)
	}
	if w.Format != encodingFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrInvalidState, w.Format, encodingFormat)
	}
	for i := 1; i < len(w.Members); i++ {
		if w.Members[i-1].ID >= w.Members[i].ID {
			return nil, fmt.Errorf("%w: members not sorted by ID", ErrInvalidState)
		}
	}
	owners := make([]NodeID, len(w.Owners))
	for p, i := range w.Owners {
		if i < 0 || int(i) >= len(w.Members) {
			return nil, fmt.Errorf("%w: partition %d: owner index %d out of range", ErrInvalidState, p, i)
		}
		owners[p] = w.Members[i].ID
	}
	var pending map[int][]NodeID
	for i, wp := range w.Pending {
		if i > 0 && w.Pending[i-1].P >= wp.P {
			return nil, fmt.Errorf("%w: moving partitions not sorted", ErrInvalidState)
		}
		if pending == nil {
			pending = map[int][]NodeID{}
		}
		old := make([]NodeID, len(wp.Old))
		for k, i := range wp.Old {
			if i < 0 || int(i) >= len(w.Members) {
				return nil, fmt.Errorf("%w: moving partition %d: index %d out of range", ErrInvalidState, wp.P, i)
			}
			old[k] = w.Members[i].ID
		}
		pending[wp.P] = old
	}
	if len(w.Flush) > Databases || len(w.Flush) > 0 && w.Flush[len(w.Flush)-1] == 0 {
		return nil, fmt.Errorf("%w: flush epochs not canonical", ErrInvalidState)
	}
	s, err := buildPending(w.Version, w.Replicas, w.Members, owners, pending)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidState, err)
	}
	var f [Databases]uint64
	copy(f[:], w.Flush)
	return s.withFlush(f), nil
}

// Newer reports whether a supersedes b when two nodes' rings meet in
// gossip: a higher Version wins; at equal Versions with different contents
// (two changes made concurrently from the same base) the larger Digest
// wins. Every node applying this rule converges on the same State. A nil
// State is older than any other. NB: the losing concurrent change is
// dropped; whoever made it must notice (its member is missing) and make it
// again on top of the winner.
func Newer(a, b *State) bool {
	switch {
	case a == nil:
		return false
	case b == nil:
		return true
	case a.version != b.version:
		return a.version > b.version
	}
	return bytes.Compare(a.digest[:], b.digest[:]) > 0
}

// Merge returns whichever of a and b supersedes the other (see Newer). It
// is commutative, associative and idempotent up to equal contents.
func Merge(a, b *State) *State {
	if Newer(b, a) {
		return b
	}
	return a
}
