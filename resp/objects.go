package resp

import (
	"errors"
	"maps"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// now is the backend's clock, Unix ms: what every view is read at.
func (c *Conn) now() int64 { return c.srv.b.NowMs() }

// load reads key's object (a plain read at the configured quorum). A key
// the connection WATCHes also merges what WATCH read, so a read after
// WATCH never shows an older state than the one EXEC will compare with.
func (c *Conn) load(key []byte) (crdt.Object, error) { return c.loadIn(c.db, key) }

// loadIn is load of key in database db.
func (c *Conn) loadIn(db int, key []byte) (crdt.Object, error) {
	o, err := c.srv.b.Get(c.Context(), c.storedKeyIn(db, key), coordinator.ReadOptions{})
	if err == nil {
		o = c.tx.mergeWatched(db, key, o)
	}
	return o, err
}

// loadFresh reads key at quorum merged with this node's own replica: on
// the key's coordinator, that includes every write it applied and still
// awaits acknowledgements for. WATCH, EXEC's check and MSETNX's check
// read this way.
func (c *Conn) loadFresh(key []byte) (crdt.Object, error) { return c.loadFreshIn(c.db, key) }

// loadFreshIn is loadFresh of key in database db (WATCH's and EXEC's
// reads: a watched key is read in the database it was watched in).
func (c *Conn) loadFreshIn(db int, key []byte) (crdt.Object, error) {
	o, err := c.loadIn(db, key)
	if err != nil {
		return o, err
	}
	l, err := c.srv.b.Get(c.Context(), c.storedKeyIn(db, key), coordinator.ReadOptions{Local: true})
	if err != nil {
		return o, err
	}
	return crdt.Merge(o, l), nil
}

// mutate runs fn as key's write. readFirst asks the coordinator to read
// the key at quorum first, for commands whose outcome or reply depends on
// the current state (conditions, counters' replies, collection sizes).
func (c *Conn) mutate(key []byte, readFirst bool, fn crdt.Mutator) (next crdt.Object, err error) {
	for attempt := 0; ; attempt++ {
		var prev crdt.Object
		prev, next, err = c.srv.b.Update(c.Context(), c.storedKey(key), coordinator.WriteOptions{ReadFirst: readFirst}, fn)
		if err == nil {
			c.noteWrite(key, next) // WAIT's subject
			c.notifyNew(key, prev, next)
			if !maps.Equal(prev.Context(), next.Context()) { // NB: not a zero delta
				c.srv.blocked.signal(c.storedKey(key)) // blocked waiters (blocking.go)
			}
		}
		// A flush moved the database to a new epoch between the stored
		// key and the write: write again under the new one.
		if !errors.Is(err, peer.ErrFlushed) || attempt == 2 {
			return next, err
		}
	}
}

// mutateReply runs a write command whose crdt operation also yields its
// reply (SADD's count, INCR's value…): op's delta is key's write (with a
// read first, as the reply depends on the current state), and write
// sends the value it yielded, or the error is the reply.
func mutateReply[T any](c *Conn, key []byte, op func(cur crdt.Object, st crdt.Stamp) (crdt.Object, T, error), write func(T)) {
	mutateReplyNext(c, key, op, func(v T, _ crdt.Object) { write(v) })
}

// chain runs second after first in one mutator, as one write of several
// consecutive dots: second sees cur merged with first's delta and a dot
// after the last one first used. A zero delta of first is skipped.
func chain(cur crdt.Object, st crdt.Stamp, first crdt.Object, second crdt.Mutator) (crdt.Object, error) {
	if first.IsZero() {
		return second(cur, st)
	}
	mid := crdt.Merge(cur, first)
	st2 := st
	st2.Dot.Counter = crdt.Top(first, st.Dot.Actor) + 1
	d, err := second(mid, st2)
	if err != nil {
		return crdt.Object{}, err
	}
	if d.IsZero() {
		return first, nil
	}
	return crdt.Merge(first, d), nil
}

// sameSlot reports whether the keys may be served together: always on a
// lone server; in a cluster only when they hash to one slot (Redis
// Cluster's rule for multi-key commands, whose reply is CROSSSLOT
// otherwise).
func (c *Conn) sameSlot(keys [][]byte) bool {
	if c.srv.cfg.Cluster == nil || len(keys) < 2 {
		return true
	}
	s := ring.Slot(keys[0])
	for _, k := range keys[1:] {
		if ring.Slot(k) != s {
			return false
		}
	}
	return true
}

// crdtReply maps the crdt package's sentinels to Redis's error replies.
func crdtReply(err error) (string, bool) {
	for _, m := range []struct {
		err error
		msg string
	}{
		{crdt.ErrWrongType, msgWrongType},
		{crdt.ErrNotInteger, msgNotInt},
		{crdt.ErrNotFloat, msgNotFloat},
		{crdt.ErrHashNotInteger, "ERR hash value is not an integer"},
		{crdt.ErrHashNotFloat, "ERR hash value is not a float"},
		{crdt.ErrOverflow, "ERR increment or decrement would overflow"},
		{crdt.ErrNaN, "ERR increment would produce NaN or Infinity"},
		{crdt.ErrTooLarge, "ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{crdt.ErrOffset, "ERR offset is out of range"},
		{crdt.ErrCorrupt, msgCorruptObject},
		{crdt.ErrScoreNaN, msgScoreNaN},
		{crdt.ErrNotHLL, "WRONGTYPE Key is not a valid HyperLogLog string value."},
		{crdt.ErrHLLCorrupt, "INVALIDOBJ Corrupted HLL object detected"},
	} {
		if errors.Is(err, m.err) {
			return m.msg, true
		}
	}
	return "", false
}
