package resp

import (
	"bytes"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/dynakv/dynakv/crdt"
)

// The list commands (Redis's "list" group) on crdt's list store, a
// sequence CRDT: concurrent pushes are all kept, and an element popped
// concurrently through two coordinators is returned by both
// (at-least-once). Multi-key commands need their keys in one slot in a
// cluster (CROSSSLOT otherwise, as Redis Cluster) and run as one unit
// (runUnit) on the slot's coordinator. The blocking forms are in
// blocking.go's block. Replies, errors, events and RESP3 types are Redis
// 7.0's.

// listErr writes err as Redis 7.0 replies it, crdt's list sentinels included.
func (c *Conn) listErr(err error) {
	switch {
	case errors.Is(err, crdt.ErrNoSuchKey):
		c.WriteError("ERR no such key")
	case errors.Is(err, crdt.ErrIndexRange):
		c.WriteError("ERR index out of range")
	case errors.Is(err, crdt.ErrListFull):
		c.WriteError("ERR list positions exhausted at this end")
	default:
		c.WriteErr(err)
	}
}

func pushEvent(left bool) string {
	if left {
		return "lpush"
	}
	return "rpush"
}

func popEvent(left bool) string {
	if left {
		return "lpop"
	}
	return "rpop"
}

// parseEnd parses LEFT or RIGHT (left true for LEFT).
func parseEnd(b []byte) (left, ok bool) {
	switch {
	case equalFold(b, "left"):
		return true, true
	case equalFold(b, "right"):
		return false, true
	}
	return false, false
}

// pushList pushes vals at one end of key's list (LPUSH, RPUSH, and their X
// forms with ifExists) with Redis's event; n is the new length.
func (c *Conn) pushList(key []byte, vals [][]byte, left, ifExists bool) (int64, error) {
	var n int64
	wrote := false
	_, err := c.mutate(key, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, k, err := crdt.ListPush(cur, st, vals, left, ifExists)
		n, wrote = k, !d.IsZero()
		return d, err
	})
	if err == nil && wrote {
		c.notify('l', pushEvent(left), key)
	}
	return n, err
}

// popList pops up to count elements at one end of key's list with Redis's
// events (the pop's, then "del" if the list is gone). vals is nil for a
// missing key.
func (c *Conn) popList(key []byte, count int64, left bool) ([][]byte, error) {
	var out [][]byte
	next, err := c.mutate(key, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, vals, err := crdt.ListPop(cur, st, count, left)
		out = vals
		return d, err
	})
	if err != nil {
		return nil, err
	}
	if len(out) > 0 {
		c.notify('l', popEvent(left), key)
		c.notifyGone(key, next)
	}
	return out, nil
}

func pushCmd(left, ifExists bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		n, err := c.pushList(args[1], args[2:], left, ifExists)
		if err != nil {
			c.listErr(err)
			return
		}
		c.WriteInt(n)
	}
}

// popCmd is LPOP and RPOP key [count]: without count a bulk (null if
// missing), with count an array (null array if missing).
func popCmd(left bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		if len(args) > 3 {
			c.WriteError("ERR wrong number of arguments for '" + strings.ToLower(string(args[0])) + "' command")
			return
		}
		count := int64(1)
		if len(args) == 3 {
			n, ok := parseStrictInt(args[2])
			if !ok || n < 0 {
				c.WriteError("ERR value is out of range, must be positive")
				return
			}
			count = n
		}
		if count == 0 {
			// Redis 7.0: the type is checked, nothing popped.
			o, err := c.load(args[1])
			if err == nil {
				_, err = crdt.ListLen(o, c.now())
			}
			switch {
			case err != nil:
				c.WriteErr(err)
			case !crdt.Live(o, c.now()):
				c.WriteNullArray()
			default:
				c.WriteArray(0)
			}
			return
		}
		vals, err := c.popList(args[1], count, left)
		switch {
		case err != nil:
			c.WriteErr(err)
		case len(args) == 2 && vals == nil:
			c.WriteNull()
		case len(args) == 2:
			c.WriteBulk(vals[0])
		case vals == nil:
			c.WriteNullArray()
		default:
			c.writeBulks(vals)
		}
	}
}

func (c *Conn) writeBulks(vals [][]byte) {
	c.WriteArray(len(vals))
	for _, v := range vals {
		c.WriteBulk(v)
	}
}

// intArgs parses integer arguments (msgNotInt otherwise).
func intArgs(c *Conn, bs ...[]byte) ([]int64, bool) {
	out := make([]int64, len(bs))
	for i, b := range bs {
		n, ok := parseStrictInt(b)
		if !ok {
			c.WriteError(msgNotInt)
			return nil, false
		}
		out[i] = n
	}
	return out, true
}

func cmdLRange(c *Conn, args [][]byte) {
	ns, ok := intArgs(c, args[2], args[3])
	if !ok {
		return
	}
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	vals, err := crdt.ListRange(o, c.now(), ns[0], ns[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeBulks(vals)
}

func cmdLIndex(c *Conn, args [][]byte) {
	ns, ok := intArgs(c, args[2])
	if !ok {
		return
	}
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	v, found, err := crdt.ListIndex(o, c.now(), ns[0])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeValue(v, found)
}

func cmdLSet(c *Conn, args [][]byte) {
	ns, ok := intArgs(c, args[2])
	if !ok {
		return
	}
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		return crdt.ListSet(cur, st, ns[0], args[3])
	})
	if err != nil {
		c.listErr(err)
		return
	}
	c.notify('l', "lset", args[1])
	c.WriteOK()
}

func cmdLInsert(c *Conn, args [][]byte) {
	var before bool
	switch {
	case equalFold(args[2], "before"):
		before = true
	case equalFold(args[2], "after"):
	default:
		c.WriteError(msgSyntax)
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.ListInsert(cur, st, args[3], args[4], before)
	}, func(n int64) {
		c.WriteInt(n)
		if n > 0 {
			c.notify('l', "linsert", args[1])
		}
	})
}

func cmdLRem(c *Conn, args [][]byte) {
	ns, ok := intArgs(c, args[2])
	if !ok {
		return
	}
	mutateReplyNext(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.ListRem(cur, st, ns[0], args[3])
	}, func(n int64, next crdt.Object) {
		c.WriteInt(n)
		if n > 0 {
			c.notify('l', "lrem", args[1])
			c.notifyGone(args[1], next)
		}
	})
}

func cmdLTrim(c *Conn, args [][]byte) {
	ns, ok := intArgs(c, args[2], args[3])
	if !ok {
		return
	}
	existed := false
	next, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		existed = crdt.Live(cur, st.Now)
		return crdt.ListTrim(cur, st, ns[0], ns[1])
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	if existed {
		c.notify('l', "ltrim", args[1])
		c.notifyGone(args[1], next)
	}
	c.WriteOK()
}

// cmdLPos is LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
func cmdLPos(c *Conn, args [][]byte) {
	rank, count, maxlen := int64(1), int64(-1), int64(0)
	for i := 3; i < len(args); i++ {
		more := i+1 < len(args)
		switch {
		case equalFold(args[i], "rank") && more:
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.WriteError(msgNotInt)
				return
			}
			if n == 0 {
				c.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				return
			}
			rank = n
		case equalFold(args[i], "count") && more:
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.WriteError(msgNotInt)
				return
			}
			if n < 0 {
				c.WriteError("ERR COUNT can't be negative")
				return
			}
			count = n
		case equalFold(args[i], "maxlen") && more:
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.WriteError(msgNotInt)
				return
			}
			if n < 0 {
				c.WriteError("ERR MAXLEN can't be negative")
				return
			}
			maxlen = n
		default:
			c.WriteError(msgSyntax)
			return
		}
		i++
	}
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	vals, err := crdt.ListRange(o, c.now(), 0, -1)
	if err != nil {
		c.WriteErr(err)
		return
	}
	var found []int64
	skip := rank - 1
	step, i := 1, 0
	if rank < 0 {
		skip = -rank - 1
		if rank == math.MinInt64 {
			skip = math.MaxInt64
		}
		step, i = -1, len(vals)-1
	}
	for seen := int64(0); i >= 0 && i < len(vals) && (maxlen == 0 || seen < maxlen); i, seen = i+step, seen+1 {
		if !bytes.Equal(vals[i], args[2]) {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		found = append(found, int64(i))
		if count < 0 || count > 0 && int64(len(found)) == count {
			break
		}
	}
	if count < 0 {
		if len(found) == 0 {
			c.WriteNull()
			return
		}
		c.WriteInt(found[0])
		return
	}
	c.WriteArray(len(found))
	for _, n := range found {
		c.WriteInt(n)
	}
}

// lmove pops one element at one end of src and pushes it at one end of
// dst (LMOVE's body, in the caller's unit), with Redis's events (dst's
// push, then src's pop, then src's "del" if emptied). ok is false when
// src is missing (nothing written).
func (c *Conn) lmove(src, dst []byte, fromLeft, toLeft bool) (val []byte, ok bool, err error) {
	if bytes.Equal(src, dst) {
		_, err = c.mutate(src, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, vals, err := crdt.ListPop(cur, st, 1, fromLeft)
			if err != nil || len(vals) == 0 {
				val, ok = nil, false
				return crdt.Object{}, err
			}
			val, ok = vals[0], true
			return chain(cur, st, d, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
				d, _, err := crdt.ListPush(cur, st, vals, toLeft, false)
				return d, err
			})
		})
		if err == nil && ok {
			c.notify('l', pushEvent(toLeft), dst)
			c.notify('l', popEvent(fromLeft), src)
		}
		return val, ok, err
	}
	dobj, err := c.loadFresh(dst)
	if err != nil {
		return nil, false, err
	}
	snext, err := c.mutate(src, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		val, ok = nil, false
		if !crdt.Live(cur, st.Now) {
			return crdt.Object{}, nil
		}
		if t := crdt.TypeOf(cur, st.Now); t != crdt.KindList {
			return crdt.Object{}, crdt.ErrWrongType
		}
		if t := crdt.TypeOf(dobj, st.Now); t != crdt.KindNone && t != crdt.KindList {
			return crdt.Object{}, crdt.ErrWrongType
		}
		d, vals, err := crdt.ListPop(cur, st, 1, fromLeft)
		if err == nil && len(vals) > 0 {
			val, ok = vals[0], true
		}
		return d, err
	})
	if err != nil || !ok {
		return nil, false, err
	}
	if _, err := c.pushList(dst, [][]byte{val}, toLeft, false); err != nil {
		// NB: the element is popped: Redis cannot fail here (dst's type
		// was checked); a failed quorum write is reported as it is.
		return nil, false, err
	}
	c.notify('l', popEvent(fromLeft), src)
	c.notifyGone(src, snext)
	return val, true, nil
}

// moveArgs parses LMOVE's and BLMOVE's wherefrom and whereto.
func moveArgs(c *Conn, from, to []byte) (fromLeft, toLeft, ok bool) {
	fromLeft, ok1 := parseEnd(from)
	toLeft, ok2 := parseEnd(to)
	if !ok1 || !ok2 {
		c.WriteError(msgSyntax)
		return false, false, false
	}
	return fromLeft, toLeft, true
}

// tryMove is LMOVE's attempt: it writes the reply and reports true, or
// (src missing) writes nothing and reports false.
func (c *Conn) tryMove(src, dst []byte, fromLeft, toLeft bool) bool {
	val, ok, err := c.lmove(src, dst, fromLeft, toLeft)
	switch {
	case err != nil:
		c.listErr(err)
	case ok:
		c.WriteBulk(val)
	default:
		return false
	}
	return true
}

func cmdLMove(c *Conn, args [][]byte) {
	fromLeft, toLeft, ok := moveArgs(c, args[3], args[4])
	if !ok {
		return
	}
	moveCmd(c, args[1], args[2], fromLeft, toLeft)
}

func cmdRPopLPush(c *Conn, args [][]byte) { moveCmd(c, args[1], args[2], false, true) }

func moveCmd(c *Conn, src, dst []byte, fromLeft, toLeft bool) {
	keys := [][]byte{src, dst}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.runUnit(keys, func() {
		if !c.tryMove(src, dst, fromLeft, toLeft) {
			c.WriteNull()
		}
	})
}

// mpopArgs parses LMPOP's (and BLMPOP's, from numkeys at args[at])
// numkeys key… LEFT|RIGHT [COUNT count].
func mpopArgs(c *Conn, args [][]byte, at int) (keys [][]byte, left bool, count int64, ok bool) {
	n, ok := parseStrictInt(args[at])
	if !ok || n < 1 {
		c.WriteError("ERR numkeys should be greater than 0")
		return nil, false, 0, false
	}
	where := int64(at) + n + 1
	if where >= int64(len(args)) {
		c.WriteError(msgSyntax)
		return nil, false, 0, false
	}
	if left, ok = parseEnd(args[where]); !ok {
		c.WriteError(msgSyntax)
		return nil, false, 0, false
	}
	count = -1
	for i := int(where) + 1; i < len(args); i++ {
		if count == -1 && equalFold(args[i], "count") && i+1 < len(args) {
			i++
			k, ok := parseStrictInt(args[i])
			if !ok || k < 1 {
				c.WriteError("ERR count should be greater than 0")
				return nil, false, 0, false
			}
			count = k
			continue
		}
		c.WriteError(msgSyntax)
		return nil, false, 0, false
	}
	if count == -1 {
		count = 1
	}
	return args[at+1 : where], left, count, true
}

// tryMPop is LMPOP's attempt: the first non-empty list's elements as
// [key, [elements…]], reporting true; false (nothing written) if every
// list is missing. A key of another type is WRONGTYPE (reported true).
func (c *Conn) tryMPop(keys [][]byte, left bool, count int64) bool {
	for _, k := range keys {
		vals, err := c.popList(k, count, left)
		if err != nil {
			c.WriteErr(err)
			return true
		}
		if len(vals) > 0 {
			c.WriteArray(2)
			c.WriteBulk(k)
			c.writeBulks(vals)
			return true
		}
	}
	return false
}

func cmdLMPop(c *Conn, args [][]byte) {
	keys, left, count, ok := mpopArgs(c, args, 1)
	if !ok {
		return
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.runUnit(keys, func() {
		if !c.tryMPop(keys, left, count) {
			c.WriteNullArray()
		}
	})
}

// tryPop is BLPOP's and BRPOP's attempt: [key, element] of the first
// non-empty list.
func (c *Conn) tryPop(keys [][]byte, left bool) bool {
	for _, k := range keys {
		vals, err := c.popList(k, 1, left)
		if err != nil {
			c.WriteErr(err)
			return true
		}
		if len(vals) > 0 {
			c.WriteArray(2)
			c.WriteBulk(k)
			c.WriteBulk(vals[0])
			return true
		}
	}
	return false
}

// keysThenTimeout parses the arguments of BLPOP, BRPOP, BZPOPMIN and
// BZPOPMAX (key… timeout): false once it replied an error (a bad timeout,
// or CROSSSLOT for keys of several slots in a cluster).
func keysThenTimeout(c *Conn, args [][]byte) ([][]byte, time.Duration, bool) {
	timeout, ok := parseTimeout(c, args[len(args)-1])
	if !ok {
		return nil, 0, false
	}
	keys := args[1 : len(args)-1]
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return nil, 0, false
	}
	return keys, timeout, true
}

// bpopCmd is BLPOP and BRPOP key… timeout.
func bpopCmd(left bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		keys, timeout, ok := keysThenTimeout(c, args)
		if !ok {
			return
		}
		c.block(keys, timeout, func() bool { return c.tryPop(keys, left) }, c.WriteNullArray)
	}
}

func cmdBLMove(c *Conn, args [][]byte) {
	fromLeft, toLeft, ok := moveArgs(c, args[3], args[4])
	if !ok {
		return
	}
	bmove(c, args[1], args[2], fromLeft, toLeft, args[5])
}

func cmdBRPopLPush(c *Conn, args [][]byte) { bmove(c, args[1], args[2], false, true, args[3]) }

func bmove(c *Conn, src, dst []byte, fromLeft, toLeft bool, tv []byte) {
	timeout, ok := parseTimeout(c, tv)
	if !ok {
		return
	}
	keys := [][]byte{src, dst}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	// NB: a timeout replies a null array, the non-blocking form (in MULTI)
	// a null bulk, as Redis 7.0.
	timedOut := c.WriteNullArray
	if !c.mayBlock() {
		timedOut = c.WriteNull
	}
	c.block(keys, timeout, func() bool { return c.tryMove(src, dst, fromLeft, toLeft) }, timedOut)
}

// cmdBLMPop is BLMPOP timeout numkeys key… LEFT|RIGHT [COUNT count].
func cmdBLMPop(c *Conn, args [][]byte) {
	keys, left, count, ok := mpopArgs(c, args, 2)
	if !ok {
		return
	}
	timeout, ok := parseTimeout(c, args[1])
	if !ok {
		return
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.block(keys, timeout, func() bool { return c.tryMPop(keys, left, count) }, c.WriteNullArray)
}
