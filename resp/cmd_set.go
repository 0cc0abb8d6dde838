package resp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/dynakv/dynakv/crdt"
)

// The set commands (Redis's "set" group) on crdt's set store (an ORSWOT:
// an add wins over a concurrent remove). Multi-key commands need their
// keys in one slot in a cluster (CROSSSLOT otherwise, as Redis Cluster).
// Replies, errors and RESP3 types are Redis 7.0's.

// members reads key's members at now (sorted; nil for a missing key).
func (c *Conn) members(key []byte) ([][]byte, error) {
	o, err := c.load(key)
	if err != nil {
		return nil, err
	}
	return crdt.Members(o, c.now())
}

func cmdSAdd(c *Conn, args [][]byte) {
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.SAdd(cur, st, args[2:])
	}, func(n int64) {
		c.WriteInt(n)
		if n > 0 {
			c.notify('s', "sadd", args[1])
		}
	})
}

func cmdSRem(c *Conn, args [][]byte) {
	mutateReplyNext(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.SRem(cur, st, args[2:])
	}, func(n int64, next crdt.Object) {
		c.WriteInt(n)
		if n > 0 {
			c.notify('s', "srem", args[1])
			c.notifyGone(args[1], next)
		}
	})
}

func (c *Conn) writeSetOf(ms [][]byte) {
	c.WriteSet(len(ms))
	for _, m := range ms {
		c.WriteBulk(m)
	}
}

func cmdSMembers(c *Conn, args [][]byte) {
	ms, err := c.members(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeSetOf(ms)
}

func cmdSIsMember(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	ok, err := crdt.IsMember(o, c.now(), args[2])
	c.replyWrote(ok, err)
}

func cmdSMIsMember(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	now := c.now()
	if t := crdt.TypeOf(o, now); t != crdt.KindNone && t != crdt.KindSet {
		c.WriteErr(crdt.ErrWrongType)
		return
	}
	c.WriteArray(len(args) - 2)
	for _, m := range args[2:] {
		ok, _ := crdt.IsMember(o, now, m)
		if ok {
			c.WriteInt(1)
		} else {
			c.WriteInt(0)
		}
	}
}

// cardCmd is a command replying the size of the collection at args[1]
// (SCARD, ZCARD, LLEN): card's count, 0 for an absent key, WRONGTYPE
// (crdt.ErrWrongType) for another type.
func cardCmd(card func(o crdt.Object, now int64) (int64, error)) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		o, err := c.load(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		n, err := card(o, c.now())
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.WriteInt(n)
	}
}

// cmdSPop is SPOP key [count]: members chosen at random on the
// coordinator's state and removed (observed-remove: a concurrent SADD of
// one survives).
func cmdSPop(c *Conn, args [][]byte) {
	if len(args) > 3 {
		c.WriteError(msgSyntax)
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
	var popped [][]byte
	next, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		ms, err := crdt.Members(cur, st.Now)
		if err != nil || len(ms) == 0 || count == 0 {
			return crdt.Object{}, err
		}
		var chosen [][]byte
		for _, i := range pickRandom(len(ms), count) {
			chosen = append(chosen, ms[i])
		}
		rand.Shuffle(len(chosen), func(i, j int) { chosen[i], chosen[j] = chosen[j], chosen[i] })
		d, out, err := crdt.SPop(cur, st, chosen)
		popped = out
		return d, err
	})
	if err == nil && len(popped) > 0 {
		c.notify('s', "spop", args[1])
		c.notifyGone(args[1], next)
	}
	switch {
	case err != nil:
		c.WriteErr(err)
	case len(args) == 2 && len(popped) == 0:
		c.WriteNull()
	case len(args) == 2:
		c.WriteBulk(popped[0])
	default:
		c.writeSetOf(popped)
	}
}

// cmdSRandMember is SRANDMEMBER key [count], as HRANDFIELD's count.
func cmdSRandMember(c *Conn, args [][]byte) {
	if len(args) > 3 {
		c.WriteError(msgSyntax)
		return
	}
	var count int64
	if len(args) == 3 {
		n, ok := parseStrictInt(args[2])
		if !ok || n == math.MinInt64 {
			c.WriteError(msgNotIntRange(ok))
			return
		}
		count = n
	}
	ms, err := c.members(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	if len(args) == 2 {
		if len(ms) == 0 {
			c.WriteNull()
			return
		}
		c.WriteBulk(ms[rand.IntN(len(ms))])
		return
	}
	picked := pickRandom(len(ms), count)
	c.WriteArray(len(picked))
	for _, i := range picked {
		c.WriteBulk(ms[i])
	}
}

// cmdSMove is SMOVE src dst member, as Redis 7.0's smoveCommand: 1 if the
// member was in src (removed there, then added to dst), else 0. Two
// writes, in that order; the coordinator of the keys' slot serializes
// concurrent SMOVEs while no node fails.
func cmdSMove(c *Conn, args [][]byte) {
	src, dst, m := args[1], args[2], args[3]
	if !c.sameSlot(args[1:3]) {
		c.WriteError(msgCrossSlot)
		return
	}
	// One unit: the removal and the add are not interleaved with other
	// writes of either key coordinated here (runUnit).
	c.runUnit(args[1:3], func() { smove(c, src, dst, m) })
}

// smove is SMOVE's body, run as a unit.
func smove(c *Conn, src, dst, m []byte) {
	dobj, err := c.loadFresh(dst)
	if err != nil {
		c.WriteErr(err)
		return
	}
	same := string(src) == string(dst)
	var moved bool
	snext, err := c.mutate(src, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		if !crdt.Live(cur, st.Now) {
			return crdt.Object{}, nil
		}
		if crdt.TypeOf(cur, st.Now) != crdt.KindSet {
			return crdt.Object{}, crdt.ErrWrongType
		}
		if same {
			dobj = cur
		}
		if t := crdt.TypeOf(dobj, st.Now); t != crdt.KindNone && t != crdt.KindSet {
			return crdt.Object{}, crdt.ErrWrongType
		}
		if same {
			ok, _ := crdt.IsMember(cur, st.Now, m)
			moved = ok
			return crdt.Object{}, nil
		}
		d, n, err := crdt.SRem(cur, st, [][]byte{m})
		moved = n > 0
		return d, err
	})
	if err == nil && moved && !same {
		c.notify('s', "srem", src)
		c.notifyGone(src, snext)
		var added int64
		_, err = c.mutate(dst, false, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, n, err := crdt.SAdd(cur, st, [][]byte{m})
			added = n
			return d, err
		})
		if err == nil && added > 0 {
			c.notify('s', "sadd", dst)
		}
	}
	c.replyWrote(moved, err)
}

func cmdSScan(c *Conn, args [][]byte) {
	ms, err := c.members(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	collScan(c, args, len(ms), 1, func(i int) []byte { return ms[i] }, func(i int) { c.WriteBulk(ms[i]) })
}

// Set operations.
const (
	opInter = iota
	opUnion
	opDiff
)

// setOp computes SINTER, SUNION or SDIFF of keys with Redis 7.0's checks:
// every key of another type is WRONGTYPE, even after a missing key; a
// missing key empties an intersection and is skipped by a union or
// difference. limit > 0 stops an intersection there
// (SINTERCARD).
func (c *Conn) setOp(op int, keys [][]byte, limit int64) ([][]byte, error) {
	now := c.now()
	var sets [][][]byte
	empty := false
	for i, k := range keys {
		o, err := c.load(k)
		if err != nil {
			return nil, err
		}
		ms, err := crdt.Members(o, now)
		if err != nil {
			return nil, err
		}
		if ms == nil && !crdt.Live(o, now) {
			if op == opInter {
				empty = true
				continue
			}
			if op == opDiff && i == 0 {
				sets = append(sets, nil)
				continue
			}
		}
		sets = append(sets, ms)
	}
	if empty {
		return nil, nil
	}
	var out [][]byte
	switch op {
	case opInter:
		slices.SortFunc(sets, func(a, b [][]byte) int { return len(a) - len(b) })
		for _, m := range sets[0] {
			in := true
			for _, s := range sets[1:] {
				if _, ok := slices.BinarySearchFunc(s, m, cmpBytes); !ok {
					in = false
					break
				}
			}
			if in {
				out = append(out, m)
				if limit > 0 && int64(len(out)) >= limit {
					break
				}
			}
		}
	case opUnion:
		for _, s := range sets {
			out = append(out, s...)
		}
		slices.SortFunc(out, cmpBytes)
		out = slices.CompactFunc(out, func(a, b []byte) bool { return string(a) == string(b) })
	case opDiff:
		for _, m := range sets[0] {
			in := false
			for _, s := range sets[1:] {
				if _, ok := slices.BinarySearchFunc(s, m, cmpBytes); ok {
					in = true
					break
				}
			}
			if !in {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func cmpBytes(a, b []byte) int { return strings.Compare(string(a), string(b)) }

// setOpCmd builds SINTER, SUNION and SDIFF: a set reply.
func setOpCmd(op int) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		if !c.sameSlot(args[1:]) {
			c.WriteError(msgCrossSlot)
			return
		}
		ms, err := c.setOp(op, args[1:], 0)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.writeSetOf(ms)
	}
}

// setStoreCmd builds SINTERSTORE, SUNIONSTORE and SDIFFSTORE: dst gets the
// result as a new set (superseding whatever it held, of any type; an empty
// result deletes it); the reply is its cardinality.
func setStoreCmd(op int) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		if !c.sameSlot(args[1:]) {
			c.WriteError(msgCrossSlot)
			return
		}
		ms, err := c.setOp(op, args[2:], 0)
		if err != nil {
			c.WriteErr(err)
			return
		}
		var existed bool
		_, err = c.mutate(args[1], false, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, ok := crdt.Del(cur, st)
			existed = ok
			if len(ms) == 0 {
				return d, nil
			}
			return chain(cur, st, d, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
				d, _, err := crdt.SAdd(cur, st, ms)
				return d, err
			})
		})
		if err != nil {
			c.WriteErr(err)
			return
		}
		switch {
		case len(ms) > 0:
			c.notify('s', [...]string{opInter: "sinterstore", opUnion: "sunionstore", opDiff: "sdiffstore"}[op], args[1])
		case existed:
			c.notify('g', "del", args[1])
		}
		c.WriteInt(int64(len(ms)))
	}
}

// cmdSInterCard is SINTERCARD numkeys key… [LIMIT limit].
func cmdSInterCard(c *Conn, args [][]byte) {
	n, ok := parseStrictInt(args[1])
	if !ok || n < 1 {
		c.WriteError("ERR numkeys should be greater than 0")
		return
	}
	if n > int64(len(args)-2) {
		c.WriteError("ERR Number of keys can't be greater than number of args")
		return
	}
	keys := args[2 : 2+n]
	var limit int64
	for i := 2 + int(n); i < len(args); i++ {
		if equalFold(args[i], "limit") && i+1 < len(args) {
			l, ok := parseStrictInt(args[i+1])
			if !ok || l < 0 {
				c.WriteError("ERR LIMIT can't be negative")
				return
			}
			limit = l
			i++
			continue
		}
		c.WriteError(msgSyntax)
		return
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	ms, err := c.setOp(opInter, keys, limit)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(ms)))
}

// numKeys returns the key positions of a command whose argument at pos is
// numkeys and whose keys follow it (SINTERCARD): none if numkeys is not a
// positive integer within the arguments.
func numKeys(pos int) func(args [][]byte) []int {
	return func(args [][]byte) []int {
		if pos >= len(args) {
			return nil
		}
		n, ok := parseStrictInt(args[pos])
		if !ok || n < 1 || n > int64(len(args)-pos-1) {
			return nil
		}
		out := make([]int, n)
		for i := range out {
			out[i] = pos + 1 + i
		}
		return out
	}
}
