package replica

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// Hints are writes this node holds for another node that was down when
// they were made (Dynamo's hinted handoff). They live in their own keyspace,
// keyed by target:
//
//	'h' len(target) target key → created-at (8, BE ms) + encoded crdt.Object
//
// A second hint for the same target and key merges into the first. A hint
// is deleted only after the target acknowledged it, and only if no newer
// hint merged into it meanwhile.
//
// An age index orders the pending hints that hold a value (a sibling that
// is not a tombstone) by the time of their earliest version, so the
// oldest one (the hint horizon, see HintHorizon) is one seek away:
//
//	'H' earliest-dot (8, BE ms) hint-key → empty
//
// The time is crdt.EarliestDot of the hint's object: the hybrid clock of
// the node that wrote its oldest entry, not this node's clock when the
// hint arrived. It is written in the same batch as the hint it indexes
// and moved when a merge changes it (a newer write superseding the old
// versions, or a merged delete leaving no value: the hint is then
// unindexed). An entry that does not match its hint (gone, undecodable,
// or indexed by an older rule) is corrected when met. Hints of tombstones
// only are not indexed: delivered after the tombstone was reaped, they
// recreate a tombstone, no value. The created-at time in the hint is
// this node's clock and serves only the hint's age (--hint-max-age).
//
// NB: the index used to hold the creation time on the holder's clock,
// which never went back (a node whose clock had run ahead stamped later
// hints with its earlier, future readings). After a holder's clock ran
// ahead of the deleter's by more than the reap grace, a hint holding a
// version written before a delete claimed to be younger than the delete,
// and every reaper let the tombstone go while the hint was pending; it was
// delivered afterwards and the deleted key came back (tests/jepsen,
// schedule 8679050689893925424). The earliest dot compares on the clock
// the tombstone's own time is read from (crdt.TombstoneTime): a hint
// holding a covered version is at or before the tombstone, however the
// holder's clock runs.

const (
	prefixHint    = 'h'
	prefixHintAge = 'H'
)

func hintAgeKey(at int64, hk []byte) []byte {
	k := make([]byte, 9, 9+len(hk))
	k[0] = prefixHintAge
	binary.BigEndian.PutUint64(k[1:], uint64(at))
	return append(k, hk...)
}

// hintAge returns the time under which a hint holding o is indexed (its
// earliest dot, see the age index), and false if o holds no value and is
// not indexed.
func hintAge(o crdt.Object) (int64, bool) {
	if !holdsValue(o) {
		return 0, false
	}
	return crdt.EarliestDot(o)
}

// ErrHintLimit reports a hint refused because the store holds too many
// hint bytes already.
var ErrHintLimit = errors.New("replica: hint store full")

// HintStats count hints.
type HintStats struct {
	Stored    int64 // hints written (or merged into a pending one)
	Delivered int64 // hints acknowledged by their target and deleted
	Dropped   int64 // hints discarded: too old, or refused when full
}

func hintPrefix(target string) []byte {
	k := []byte{prefixHint, byte(len(target))}
	return append(k, target...)
}

func hintKey(target string, key []byte) []byte { return append(hintPrefix(target), key...) }

// PutHint stores obj as a hint for node target, merging it into a pending
// hint of the same key. It is durable when it returns.
func (s *Store) PutHint(_ context.Context, target string, key []byte, obj crdt.Object) error {
	if len(target) == 0 || len(target) > 255 {
		return fmt.Errorf("replica: hint target %q: bad length", target)
	}
	if err := obj.Validate(); err != nil {
		return fmt.Errorf("replica: hint %q: %w", key, err)
	}
	if s.flushed(key) {
		s.stats.FlushedDrops.Add(1)
		return nil // flushed data: nothing to hand off
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	if max := s.cfg.MaxHintBytes; max > 0 && s.hintBytes.Load() >= max {
		s.hintDropped.Add(1)
		s.cfg.Logger.Warn("hint store full: dropping a hint", "target", target, "pending_bytes", s.hintBytes.Load(), "limit", max)
		return fmt.Errorf("%w: %d bytes pending", ErrHintLimit, s.hintBytes.Load())
	}
	hk := hintKey(target, key)
	mu := s.lock(hk)
	mu.Lock()
	defer mu.Unlock()
	created, prev, prevSize, err := s.getHint(hk)
	if err != nil {
		return err
	}
	b := s.db.NewBatch()
	next := crdt.Merge(prev, obj)
	// NB: hintMu orders the index change against HintHorizon's read. The
	// created-at time (for the hint's age) restarts when a hint of
	// tombstones only gains a value.
	s.hintMu.Lock()
	if created == 0 || holdsValue(next) && !holdsValue(prev) {
		created = s.NowMs()
	}
	was, wasIdx := hintAge(prev)
	at, idx := hintAge(next)
	if wasIdx && (!idx || at != was) {
		_ = b.Delete(hintAgeKey(was, hk), nil)
	}
	if idx && (!wasIdx || at != was) {
		_ = b.Set(hintAgeKey(at, hk), nil, nil)
	}
	v := binary.BigEndian.AppendUint64(nil, uint64(created))
	v = next.AppendEncode(v)
	_ = b.Set(hk, v, nil)
	wait, err := s.commit(b)
	s.hintMu.Unlock()
	if err == nil {
		err = wait()
	}
	if err != nil {
		return err
	}
	s.hintBytes.Add(int64(len(v)) - prevSize)
	s.hintStored.Add(1)
	return nil
}

// getHint reads a stored hint and its size in bytes (0 when absent).
func (s *Store) getHint(hk []byte) (created int64, o crdt.Object, size int64, err error) {
	v, closer, err := s.db.Get(hk)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, crdt.Object{}, 0, nil
	}
	if err != nil {
		return 0, crdt.Object{}, 0, fmt.Errorf("replica: hint: %w", err)
	}
	defer closer.Close()
	created, o, err = decodeHint(v)
	return created, o, int64(len(v)), err
}

func decodeHint(v []byte) (int64, crdt.Object, error) {
	if len(v) < 8 {
		return 0, crdt.Object{}, fmt.Errorf("%w: hint of %d bytes", ErrCorrupt, len(v))
	}
	o, err := crdt.Decode(bytes.Clone(v[8:]))
	if err != nil {
		return 0, crdt.Object{}, fmt.Errorf("%w: hint: %w", ErrCorrupt, err)
	}
	return int64(binary.BigEndian.Uint64(v)), o, nil
}

// Hint is one pending hint (peer.Hint).
type Hint = peer.Hint

// Hints returns up to limit pending hints for target, in key order.
// Hints that do not decode are dropped (and counted).
func (s *Store) Hints(target string, limit int) ([]Hint, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	p := hintPrefix(target)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	var out []Hint
	for it.First(); it.Valid() && len(out) < limit; it.Next() {
		created, o, err := decodeHint(it.Value())
		if err != nil {
			s.cfg.Logger.Warn("dropping undecodable hint", "target", target, "err", err)
			s.hintDropped.Add(1)
			_ = s.db.Delete(bytes.Clone(it.Key()), s.wo)
			continue
		}
		out = append(out, Hint{Key: bytes.Clone(it.Key()[len(p):]), Object: o, CreatedMs: created})
	}
	return out, it.Error()
}

// DeleteHint removes the hint of key for target once target has stored
// delivered; a hint that grew since (a newer write merged into it) stays.
// dropped says whether this is a discard (too old) rather than a delivery.
func (s *Store) DeleteHint(target string, key []byte, delivered crdt.Object, dropped bool) error {
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	return s.deleteHint(target, key, delivered, dropped)
}

// deleteHint is DeleteHint inside the store's life lock.
func (s *Store) deleteHint(target string, key []byte, delivered crdt.Object, dropped bool) error {
	hk := hintKey(target, key)
	mu := s.lock(hk)
	mu.Lock()
	defer mu.Unlock()
	_, cur, size, err := s.getHint(hk)
	if err != nil || cur.IsZero() || !crdt.Equal(cur, delivered) {
		return err
	}
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(hk, nil)
	if at, ok := hintAge(cur); ok {
		_ = b.Delete(hintAgeKey(at, hk), nil)
	}
	if err := b.Commit(s.wo); err != nil {
		return fmt.Errorf("replica: delete hint: %w", err)
	}
	s.hintBytes.Add(-size)
	if dropped {
		s.hintDropped.Add(1)
	} else {
		s.hintDelivered.Add(1)
	}
	return nil
}

// HintTargets returns the number of pending hints per target node.
func (s *Store) HintTargets() (map[string]int, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHint}, UpperBound: []byte{prefixHint + 1}})
	if err != nil {
		return nil, err
	}
	defer it.Close()
	out := map[string]int{}
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 2 || len(k) < 2+int(k[1]) {
			continue
		}
		out[string(k[2:2+int(k[1])])]++
	}
	return out, it.Error()
}

// HintStats returns the hint counters since the store opened.
func (s *Store) HintStats() HintStats {
	return HintStats{Stored: s.hintStored.Load(), Delivered: s.hintDelivered.Load(), Dropped: s.hintDropped.Load()}
}

// loadHintBytes sums the pending hints' sizes at open, and indexes by age
// any hint that has no age entry (stores written before the index
// existed; setting an existing entry again is harmless).
func (s *Store) loadHintBytes() error {
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHint}, UpperBound: []byte{prefixHint + 1}})
	if err != nil {
		return err
	}
	defer it.Close()
	b := s.db.NewBatch()
	defer b.Close()
	var n int64
	for it.First(); it.Valid(); it.Next() {
		n += int64(len(it.Value()))
		_, o, err := decodeHint(it.Value())
		if err != nil {
			continue // dropped when Hints meets it
		}
		if at, ok := hintAge(o); ok {
			_ = b.Set(hintAgeKey(at, it.Key()), nil, nil)
		}
	}
	if err := it.Error(); err != nil {
		return err
	}
	s.hintBytes.Store(n)
	if b.Empty() {
		return nil
	}
	return b.Commit(pebble.Sync)
}

// holdsValue reports whether o has live content, expiry aside (at time 0
// no deadline has passed): a value, field, member or counter entry that
// would come back if the hint were delivered after its key's tombstone was
// reaped. A hint of only removals (a DEL, SREM or HDEL delta) does not.
func holdsValue(o crdt.Object) bool { return crdt.Live(o, 0) }

// HintHorizon returns this node's hint horizon (Unix ms): the earlier of
// its current time and the earliest dot time (crdt.EarliestDot) among its
// pending hints that hold a value (a sibling that is not a tombstone). A
// pending hint can hold a version that a tombstone made at T covers only
// if the horizon is at most T, whatever this node's clock reads: the
// times are those of the writers' hybrid clocks, which TombstoneTime
// reads too. The current time bounds only hints still to come, of writes
// in flight (see antientropy.Reaper); it is not monotone, and a later
// hint may be indexed below an earlier answer, so an answer holds when it
// is given, not after.
//
// Tombstone reaping uses it: a hint created before a delete may carry a
// version the delete covers, and must be delivered before the tombstone
// goes (see antientropy.Reaper). Index entries that do not match their
// hint (indexed by an older rule, or the hint gone) are corrected as they
// are met.
func (s *Store) HintHorizon(context.Context) (int64, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.life.RUnlock()
	s.hintMu.Lock()
	defer s.hintMu.Unlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHintAge}, UpperBound: []byte{prefixHintAge + 1}})
	if err != nil {
		return 0, err
	}
	defer it.Close()
	// best is the least time of the entries corrected on the way (their
	// right place may lie behind the iterator).
	best := int64(math.MaxInt64)
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) < 9 {
			continue
		}
		at, hk := int64(binary.BigEndian.Uint64(k[1:])), k[9:]
		v, closer, err := s.db.Get(hk)
		if errors.Is(err, pebble.ErrNotFound) {
			// A stale entry (its hint was delivered or dropped): remove it.
			_ = s.db.Delete(bytes.Clone(k), s.wo)
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("replica: hint horizon: %w", err)
		}
		_, o, derr := decodeHint(v)
		closer.Close()
		want, idx := hintAge(o)
		if derr == nil && idx && want == at {
			return min(best, at, s.NowMs()), nil
		}
		b := s.db.NewBatch()
		_ = b.Delete(bytes.Clone(k), nil)
		if derr == nil && idx {
			_ = b.Set(hintAgeKey(want, bytes.Clone(hk)), nil, nil)
			best = min(best, want)
		}
		err = b.Commit(s.wo)
		b.Close()
		if err != nil {
			return 0, fmt.Errorf("replica: hint horizon: %w", err)
		}
	}
	if err := it.Error(); err != nil {
		return 0, err
	}
	return min(best, s.NowMs()), nil
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] != 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

// HintsFor returns the merge of the hints this store holds for key, for
// every target (the zero Object when there is none): what a degraded read
// adds to its replies, so that a write acknowledged by a fallback is not
// missed while a replica of the key is down (Dynamo §4.6). Hints are keyed
// by target first, so this seeks once per target holding hints. Hints that
// do not decode are skipped (Hints drops them).
func (s *Store) HintsFor(_ context.Context, key []byte) (crdt.Object, error) {
	if err := s.enter(); err != nil {
		return crdt.Object{}, err
	}
	defer s.life.RUnlock()
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: []byte{prefixHint}, UpperBound: []byte{prefixHint + 1}})
	if err != nil {
		return crdt.Object{}, err
	}
	defer it.Close()
	var out crdt.Object
	for valid := it.First(); valid; {
		k := it.Key()
		if len(k) < 2 || len(k) < 2+int(k[1]) {
			valid = it.Next()
			continue
		}
		p := bytes.Clone(k[:2+int(k[1])])
		hk := append(bytes.Clone(p), key...)
		if it.SeekGE(hk) && bytes.Equal(it.Key(), hk) {
			if _, o, err := decodeHint(it.Value()); err == nil {
				out = crdt.Merge(out, o)
			}
		}
		end := prefixEnd(p)
		if end == nil {
			break
		}
		valid = it.SeekGE(end)
	}
	return out, it.Error()
}
