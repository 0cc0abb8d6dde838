package replica

import (
	"bytes"
	"context"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// Scan visits stored objects in key order from cursor c, calling fn for
// each, until it has visited at least count objects (it finishes the run of
// keys sharing the last cursor position, so no key is skipped between
// pages) or fn returns false. It returns the cursor to resume from, 0 when
// the store is exhausted. Objects that do not decode are skipped and
// counted in Stats.CorruptGet. Keys passed to fn are copies.
func (s *Store) Scan(c Cursor, count int, fn func(key []byte, o crdt.Object) bool) (Cursor, error) {
	return s.scanRange(cursorKey(c), []byte{prefixData + 1}, count, fn)
}

// Entry is one key and its object, as a range scan returns them
// (peer.Entry).
type Entry = peer.Entry

// CursorOf returns the cursor position of key: the order Scan visits keys
// in, comparable across replicas (peer.CursorOf).
func CursorOf(key []byte) Cursor { return peer.CursorOf(key) }

// ScanRange returns up to about count entries of the slots [from, to),
// starting at cursor c, and the cursor to resume from: 0 when the range is
// exhausted. It is the paged form of ScanSlots that remote replicas serve.
func (s *Store) ScanRange(_ context.Context, from, to int, c Cursor, count int) (Cursor, []Entry, error) {
	var out []Entry
	next, err := s.ScanSlots(from, to, c, count, func(k []byte, o crdt.Object) bool {
		out = append(out, Entry{Key: k, Object: o})
		return true
	})
	return next, out, err
}

// ScanSlots is Scan restricted to the slots [from, to): the keys of one
// partition.
func (s *Store) ScanSlots(from, to int, c Cursor, count int, fn func(key []byte, o crdt.Object) bool) (Cursor, error) {
	lo, hi := slotBounds(from, to)
	if ck := cursorKey(c); bytes.Compare(ck, lo) > 0 {
		lo = ck
	}
	return s.scanRange(lo, hi, count, fn)
}

func (s *Store) scanRange(lo, hi []byte, count int, fn func(key []byte, o crdt.Object) bool) (Cursor, error) {
	if count < 1 {
		count = 1
	}
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return 0, fmt.Errorf("replica: scan: %w", err)
	}
	defer it.Close()
	n := 0
	var last Cursor
	for it.First(); it.Valid(); it.Next() {
		dk := it.Key()
		if len(dk) < dataHeader {
			continue
		}
		pos := cursorOf(dk)
		if n >= count && pos != last {
			return pos, it.Error()
		}
		n++
		last = pos
		o, err := crdt.Decode(bytes.Clone(it.Value()))
		if err != nil {
			s.stats.CorruptGet.Add(1)
			continue
		}
		if !fn(bytes.Clone(userKey(dk)), o) {
			it.Next()
			if !it.Valid() {
				return 0, it.Error()
			}
			return cursorOf(it.Key()), it.Error()
		}
	}
	return 0, it.Error()
}

// cursorBounds returns the data-key range [lo, hi) of cursor positions
// [from, to); to == 0 means to the end of the data.
func cursorBounds(from, to Cursor) (lo, hi []byte) {
	lo, hi = cursorKey(from), []byte{prefixData + 1}
	if to != 0 {
		hi = cursorKey(to)
	}
	return lo, hi
}

// Range is the cursor positions [From, To) (peer.Range); To 0 means to the
// end of the key space. Anti-entropy reads runs of Merkle leaves as ranges.
type Range = peer.Range

// ScanRanges returns up to about count entries at the positions of ranges
// (sorted and disjoint), in key order, and the cursor to resume from: 0
// when every range is exhausted, else a position in one of them (continue
// with ResumeRanges). Like Scan, a page never splits the keys of one
// cursor position.
func (s *Store) ScanRanges(_ context.Context, ranges []Range, count int) (Cursor, []Entry, error) {
	var out []Entry
	add := func(k []byte, o crdt.Object) bool {
		out = append(out, Entry{Key: k, Object: o})
		return true
	}
	for i, r := range ranges {
		lo, hi := cursorBounds(r.From, r.To)
		next, err := s.scanRange(lo, hi, count-len(out), add)
		if err != nil {
			return 0, nil, err
		}
		if next != 0 {
			return next, out, nil
		}
		if len(out) >= count && i+1 < len(ranges) {
			return ranges[i+1].From, out, nil
		}
	}
	return 0, out, nil
}

// ResumeRanges returns what is left of ranges from position next on (a
// cursor ScanRanges returned); see peer.ResumeRanges.
func ResumeRanges(ranges []Range, next Cursor) []Range { return peer.ResumeRanges(ranges, next) }

// RangesBefore returns the parts of ranges before position end: what a
// ScanRanges page that returned end has covered; see peer.RangesBefore.
func RangesBefore(ranges []Range, end Cursor) []Range { return peer.RangesBefore(ranges, end) }

// Replay calls fn with every stored object at cursor positions [from, to)
// (to == 0: to the end), as its key and stored bytes, while holding every
// key lock: no write is made or observed until it returns, so an observer
// rebuilt from Replay's calls matches the store. fn must not call into the
// store; the slices are valid only during the call. A caller that swaps in
// what it rebuilt does so in done, which (if not nil) runs after the last
// fn call, still under the locks, when the replay succeeded.
func (s *Store) Replay(from, to Cursor, fn func(c Cursor, key, enc []byte), done func()) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	for i := range s.locks {
		s.locks[i].Lock()
	}
	defer func() {
		for i := range s.locks {
			s.locks[i].Unlock()
		}
	}()
	lo, hi := cursorBounds(from, to)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: hi})
	if err != nil {
		return fmt.Errorf("replica: replay: %w", err)
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		dk := it.Key()
		if len(dk) < dataHeader {
			continue
		}
		fn(cursorOf(dk), userKey(dk), it.Value())
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("replica: replay: %w", err)
	}
	if done != nil {
		done()
	}
	return nil
}
