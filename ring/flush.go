package ring

import "fmt"

// Flush epochs. FLUSHDB and FLUSHALL are a cluster-wide causal cut: the
// ring State holds each database's flush epoch, replicas store a key of
// database db under StoredKey(db, FlushEpoch(db), key), and a flush moves
// the database to the next epoch in a new ring version. Data written
// before is then another keyspace, which no read or scan of the database
// looks at, which every replica drops when it arrives (hints, read
// repair, anti-entropy, transfer) and which every store purges; since the
// State is persisted and gossiped, a node that was down learns the new
// epoch when it comes back, before it serves (memberlist's join merges
// the peers' state). Epochs only grow: a successor State keeps them.

// FlushEpoch returns database db's flush epoch (0 before its first flush;
// 0 for a db outside [0, Databases)).
func (s *State) FlushEpoch(db int) uint64 {
	if db < 0 || db >= Databases {
		return 0
	}
	return s.flush[db]
}

// FlushEpochs returns every database's flush epoch, by database.
func (s *State) FlushEpochs() [Databases]uint64 { return s.flush }

// Flushed reports whether the stored key sk belongs to an epoch of its
// database older than this State's: data a flush removed. Keys that
// ParseStoredKey refuses are not flushed (no node writes them).
func (s *State) Flushed(sk []byte) bool {
	db, epoch, _, ok := ParseStoredKey(sk)
	return ok && epoch < s.flush[db]
}

// WithFlushEpochs returns the ring with each database's epoch raised to
// at least want's (Version+1), or s itself if no epoch is below want's.
// A flush computes want from the epochs it saw (theirs plus one for each
// flushed database) and applies it until the installed State has it, so a
// flush lost to a concurrent ring change of the same Version is made
// again on top of the winner, and two concurrent flushes of a database
// agree on its next epoch. The error wraps ErrInvalidState if an epoch
// would wrap around.
func (s *State) WithFlushEpochs(want [Databases]uint64) (*State, error) {
	f, changed := s.flush, false
	for db, e := range want {
		if e > f[db] {
			f[db], changed = e, true
		}
	}
	if !changed {
		return s, nil
	}
	if s.version == ^uint64(0) {
		return nil, fmt.Errorf("%w: version overflow", ErrInvalidState)
	}
	ns, err := buildPending(s.version+1, s.replicas, s.members, s.Owners(), s.clonePending())
	if err != nil {
		return nil, err
	}
	return ns.withFlush(f), nil
}

// carry gives ns, a successor of s just built, s's flush epochs.
func (s *State) carry(ns *State) *State {
	if ns == nil {
		return nil
	}
	return ns.withFlush(s.flush)
}

// withFlush sets s's flush epochs (s is being built) and its digest.
func (s *State) withFlush(f [Databases]uint64) *State {
	if f == s.flush {
		return s
	}
	s.flush = f
	s.digest = digestOf(s)
	return s
}

// wireFlush returns the flush epochs without trailing zeros (nil if all
// are zero), the canonical encoding.
func (s *State) wireFlush() []uint64 {
	n := Databases
	for n > 0 && s.flush[n-1] == 0 {
		n--
	}
	if n == 0 {
		return nil
	}
	return append([]uint64(nil), s.flush[:n]...)
}
