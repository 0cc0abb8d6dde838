package replica

import (
	"bytes"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynakv/dynakv/crdt"
)

// Purge deletes every stored key that Config.Flushed names (the data of
// database epochs a FLUSHDB or FLUSHALL closed) with its expiry index
// entry, as DropSlots does: a local, physical delete that writes no
// tombstones (the flush is in the ring state, which every replica
// applies by itself), does not fsync (a purge lost in a crash is made
// again by the next one: the node purges when it opens and whenever the
// epochs change), tells the Observer of each key and returns how many
// keys it deleted. It drops the pending hints of flushed keys too. Keys of
// flushed epochs are invisible to every read
// and scan of their database before they are purged, so Purge is only
// space reclamation and may run in the background while the store
// serves. It reads the whole keyspace: its cost is a full scan.
func (s *Store) Purge() (int, error) {
	if s.cfg.Flushed == nil {
		return 0, nil
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	lo, hi := slotBounds(0, 1<<16)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, fmt.Errorf("replica: purge: %w", err)
	}
	defer it.Close()
	n := 0
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < dataHeader || !s.cfg.Flushed(userKey(k)) {
			continue
		}
		dropped, err := s.dropKey(bytes.Clone(k))
		if err != nil {
			return n, err
		}
		if dropped {
			n++
			s.stats.Purged.Add(1)
		}
	}
	if err := it.Error(); err != nil {
		return n, fmt.Errorf("replica: purge: %w", err)
	}
	return n, s.purgeHints()
}

// purgeHints drops the pending hints of flushed keys (counted as
// dropped): their targets would drop them on delivery anyway, and until
// then they would hold back the hint horizon (tombstone reaping).
func (s *Store) purgeHints() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHint}, UpperBound: []byte{prefixHint + 1}})
	if err != nil {
		return fmt.Errorf("replica: purge hints: %w", err)
	}
	type hint struct {
		target string
		key    []byte
		obj    crdt.Object
	}
	var drop []hint
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 2 || len(k) < 2+int(k[1]) {
			continue
		}
		key := k[2+int(k[1]):]
		if !s.cfg.Flushed(key) {
			continue
		}
		if _, o, err := decodeHint(it.Value()); err == nil {
			drop = append(drop, hint{string(k[2 : 2+int(k[1])]), bytes.Clone(key), o})
		}
	}
	err = it.Error()
	it.Close()
	if err != nil {
		return fmt.Errorf("replica: purge hints: %w", err)
	}
	for _, h := range drop {
		if err := s.deleteHint(h.target, h.key, h.obj, true); err != nil {
			return err
		}
	}
	return nil
}
