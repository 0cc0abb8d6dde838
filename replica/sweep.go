package replica

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynakv/dynakv/crdt"
)

func (s *Store) sweepLoop() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.SweepInterval)
	defer t.Stop()
	for {
		select {
		case <-s.closed:
			return
		case <-t.C:
			if _, err := s.Sweep(1000); err != nil {
				s.cfg.Logger.Warn("sweep failed", "err", err)
			}
		}
	}
}

// Sweep processes up to limit due entries of the event index: expired
// siblings become tombstones (same dot), and tombstone-only objects past
// their grace period are removed when Config.CanReap allows. It returns how
// many entries it processed.
func (s *Store) Sweep(limit int) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	now := s.NowMs()
	hi := eventKey(now+1, nil)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixEvent}, UpperBound: hi})
	if err != nil {
		return 0, err
	}
	var due [][]byte
	for it.First(); it.Valid() && len(due) < limit; it.Next() {
		due = append(due, bytes.Clone(it.Key()))
	}
	if err := it.Close(); err != nil {
		return 0, err
	}
	for _, ek := range due {
		if err := s.sweepOne(ek, now); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

func (s *Store) sweepOne(ek []byte, now int64) error {
	if len(ek) < eventHeader+dataHeader {
		return s.db.Delete(ek, s.wo)
	}
	when := int64(binary.BigEndian.Uint64(ek[1:]))
	dk := ek[eventHeader:]
	key := userKey(dk)
	mu := s.lock(key)
	mu.Lock()
	o, raw, err := s.get(dk)
	if err != nil {
		mu.Unlock()
		return err
	}
	// Entries are hints: a write adds one at nextEvent and removes the one
	// it displaces, but a moved (not-yet-reapable) entry can be left stale.
	if e := s.nextEvent(o); e == 0 || e > now {
		mu.Unlock()
		if e == when {
			return nil
		}
		// NB: the entry may be stale because the object was indexed by
		// another rule (data stored before crdt dated tombstones by their
		// sibling's timestamp): index it where it is due now, so that it is
		// not left out of the sweeps.
		b := s.db.NewBatch()
		defer b.Close()
		_ = b.Delete(ek, nil)
		if e != 0 {
			_ = b.Set(eventKey(e, dk), nil, nil)
		}
		return b.Commit(s.wo)
	}
	if next, changed := crdt.Collect(o, now); changed {
		s.stats.Expired.Add(1)
		wait, err := s.write(dk, raw, o, next)
		mu.Unlock()
		if err == nil {
			err = wait()
		}
		if err != nil {
			return err
		}
		if s.cfg.OnExpired != nil && when > 0 && crdt.Live(o, when-1) && !crdt.Live(next, now) {
			s.cfg.OnExpired(bytes.Clone(key))
		}
		if when != s.nextEvent(o) {
			return s.db.Delete(ek, s.wo)
		}
		return nil
	}
	mu.Unlock()
	if crdt.Tombstone(o, now) && s.cfg.CanReap != nil && s.cfg.CanReap(key, o) {
		// NB: CanReap may ask other nodes, so it runs without the key's
		// lock; the object is removed only if it has not changed since.
		mu.Lock()
		cur, curRaw, err := s.get(dk)
		if err != nil || !bytes.Equal(curRaw, raw) {
			mu.Unlock()
			return err // changed: its write moved the index entry
		}
		wait, err := s.delete(dk, curRaw, cur)
		mu.Unlock()
		if err == nil {
			err = wait()
		}
		if err != nil {
			return fmt.Errorf("replica: reap: %w", err)
		}
		s.stats.Reaped.Add(1)
		return nil
	}
	// Not reapable yet: look again after another grace period. (The write
	// path deletes entries by nextEvent, so the moved entry may outlive its
	// object's state; it is then met as stale above.)
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(ek, nil)
	_ = b.Set(eventKey(now+s.cfg.TombstoneGrace.Milliseconds(), dk), nil, nil)
	return b.Commit(s.wo)
}
