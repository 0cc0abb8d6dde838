package replica

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Ownership handoff support: the drop of a partition a node no longer
// holds. (The receiving side merges with MergeMany.)

// DropSlots deletes this replica's copy of every key of the slots
// [from, to) and its expiry index entries: a local, physical delete for a
// partition handed off to other nodes. It writes no tombstones (nothing is
// deleted anywhere else), does not fsync (a drop lost in a crash is done
// again) and returns the number of keys dropped.
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
	b := s.db.NewBatch()
	flush := func() error {
		defer b.Close()
		if b.Empty() {
			return nil
		}
		return b.Commit(pebble.NoSync)
	}
	for it.First(); it.Valid(); it.Next() {
		dk := bytes.Clone(it.Key())
		if len(dk) < dataHeader {
			continue
		}
		if o, err := dvv.Decode(it.Value()); err == nil {
			if t := s.nextEvent(o); t != 0 {
				_ = b.Delete(eventKey(t, dk), nil)
			}
		}
		_ = b.Delete(dk, nil)
		n++
		if b.Len() > 1<<20 {
			if err := flush(); err != nil {
				return n, fmt.Errorf("replica: drop: %w", err)
			}
			b = s.db.NewBatch()
		}
	}
	if err := it.Error(); err != nil {
		b.Close()
		return n, fmt.Errorf("replica: drop: %w", err)
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("replica: drop: %w", err)
	}
	return n, nil
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
