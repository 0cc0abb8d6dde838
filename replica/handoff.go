package replica

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
)

// Ownership handoff support: the drop of a partition a node no longer
// holds. (The receiving side merges with MergeMany.)

// DropSlots deletes this replica's copy of every key of the slots
// [from, to) and its expiry index entry: a local, physical delete for a
// partition handed off to other nodes. It writes no tombstones (nothing is
// deleted anywhere else), does not fsync (a drop lost in a crash is done
// again), tells the Observer of each key, and returns the number of keys
// dropped.
func (s *Store) DropSlots(from, to int) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	lo, hi := slotBounds(from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, fmt.Errorf("replica: drop: %w", err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		dk := bytes.Clone(it.Key())
		if len(dk) < dataHeader {
			continue
		}
		dropped, err := s.dropKey(dk)
		if err != nil {
			return n, err
		}
		if dropped {
			n++
		}
	}
	if err := it.Error(); err != nil {
		return n, fmt.Errorf("replica: drop: %w", err)
	}
	return n, nil
}

// dropKey deletes data key dk and its index entry under the key's lock,
// telling the observer; an undecodable object is deleted too.
func (s *Store) dropKey(dk []byte) (bool, error) {
	mu := s.lock(userKey(dk))
	mu.Lock()
	defer mu.Unlock()
	prev, raw, err := s.get(dk)
	if err != nil && !errors.Is(err, ErrCorrupt) {
		return false, err
	}
	b := s.db.NewBatch()
	defer b.Close()
	if err == nil {
		if raw == nil {
			return false, nil // gone meanwhile
		}
		if t := s.nextEvent(prev); t != 0 {
			_ = b.Delete(eventKey(t, dk), nil)
		}
	}
	_ = b.Delete(dk, nil)
	s.cache.remove(dk)
	if err := b.Commit(pebble.NoSync); err != nil {
		return false, fmt.Errorf("replica: drop: %w", err)
	}
	if s.cfg.Observer != nil && raw != nil {
		s.cfg.Observer.Observe(cursorOf(dk), userKey(dk), raw, nil)
	}
	return true, nil
}

// HasSlots reports whether the store holds any key of the slots [from, to).
func (s *Store) HasSlots(from, to int) (bool, error) {
	if err := s.enter(); err != nil {
		return false, err
	}
	defer s.life.RUnlock()
	lo, hi := slotBounds(from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return false, fmt.Errorf("replica: scan: %w", err)
	}
	defer it.Close()
	return it.First(), it.Error()
}
