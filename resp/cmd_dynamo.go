package resp

import (
	"strings"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// parseQuorum parses the n of "R n" / "W n": an integer, at least 1 (the
// backend checks the upper bound, N). msg is the error reply.
func parseQuorum(b []byte) (int, string) {
	n, ok := parseStrictInt(b)
	switch {
	case !ok || n > 1<<31-1 || n < -1<<31:
		return 0, msgNotInt
	case n < 1:
		return 0, msgQuorumRange
	}
	return int(n), ""
}

// cmdVGet is VGET key [R n] [LOCAL]: the key's context token (empty when
// the key never existed) and the values of all its live siblings, in dot
// order (a counter is one sibling, its value). For a hash, set, sorted-set
// or list key the second element holds one rendered value: the hash's
// fields and values flattened (HGETALL's RESP2 shape), the set's members,
// sorted, the sorted set's members and scores (ZRANGE's), or the list's
// elements in order (LRANGE 0 -1's).
func cmdVGet(c *Conn, args [][]byte) {
	var opt coordinator.ReadOptions
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "r":
			if i+1 >= len(args) {
				c.WriteError(msgSyntax)
				return
			}
			n, msg := parseQuorum(args[i+1])
			if msg != "" {
				c.WriteError(msg)
				return
			}
			opt.R = n
			i++
		case "local":
			opt.Local = true
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	var via string
	opt.Replier = &via
	obj, err := c.srv.b.Get(c.Context(), c.storedKey(args[1]), opt)
	if err != nil {
		c.WriteErr(err)
		return
	}
	now := c.now()
	t := crdt.TypeOf(obj, now)
	c.srv.countLookup(t != crdt.KindNone)
	c.WriteArray(2)
	c.WriteBulkString(dvv.EncodeTokenVia(obj.Context(), via))
	switch t {
	case crdt.KindHash:
		// A typed key: its rendered value, one element (HGETALL's
		// fields and values, flattened).
		fs, _ := crdt.HGetAll(obj, now)
		c.WriteArray(1)
		c.WriteArray(2 * len(fs))
		for _, f := range fs {
			c.WriteBulk(f.Field)
			c.WriteBulk(f.Value)
		}
	case crdt.KindSet:
		ms, _ := crdt.Members(obj, now)
		c.WriteArray(1)
		c.WriteArray(len(ms))
		for _, m := range ms {
			c.WriteBulk(m)
		}
	case crdt.KindZSet:
		// ZRANGE's members and scores, flattened.
		ms, _ := crdt.ZMembers(obj, now)
		c.WriteArray(1)
		c.WriteArray(2 * len(ms))
		for _, m := range ms {
			c.WriteBulk(m.Member)
			c.WriteBulk(fmtScore(m.Score))
		}
	case crdt.KindList:
		// LRANGE 0 -1: the elements in sequence order, which every
		// replica agrees on once converged.
		es, _ := crdt.ListRange(obj, now, 0, -1)
		c.WriteArray(1)
		c.WriteArray(len(es))
		for _, e := range es {
			c.WriteBulk(e)
		}
	default:
		live, _ := crdt.Siblings(obj, now)
		c.WriteArray(len(live))
		for _, s := range live {
			c.WriteBulk(s.Value)
		}
	}
}

// vwrite is the common part of VSET and VDEL: the token's context, the
// options that follow the fixed arguments, and the write.
func vwrite(c *Conn, args [][]byte, tok []byte, opts [][]byte, value []byte, del bool) {
	var wopt coordinator.WriteOptions
	expKind, expArg := expNone, []byte(nil)
	for i := 0; i < len(opts); i++ {
		opt := strings.ToLower(string(opts[i]))
		if i+1 >= len(opts) {
			c.WriteError(msgSyntax)
			return
		}
		switch {
		case opt == "w":
			n, msg := parseQuorum(opts[i+1])
			if msg != "" {
				c.WriteError(msg)
				return
			}
			wopt.W = n
		case !del && opt == "ex" && expKind != expPX:
			expKind, expArg = expEX, opts[i+1]
		case !del && opt == "px" && expKind != expEX:
			expKind, expArg = expPX, opts[i+1]
		default:
			c.WriteError(msgSyntax)
			return
		}
		i++
	}
	var expiry int64
	if expKind != expNone {
		var msg string
		expiry, msg = expiryMs(expArg, expKind == expEX, true, c.srv.b.NowMs(), args)
		if msg != "" {
			c.WriteError(msg)
			return
		}
	}
	ctx, err := dvv.DecodeToken(string(tok))
	if err != nil {
		c.WriteErr(err)
		return
	}
	fn := func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		if del {
			return crdt.VDel(cur, st, ctx)
		}
		d, err := crdt.VSet(cur, st, ctx, value)
		if err != nil || expiry == 0 {
			return d, err
		}
		return chain(cur, st, d, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _ := crdt.Expire(cur, st, expiry, crdt.ExpireAlways)
			return d, nil
		})
	}
	_, next, err := c.srv.b.Update(c.Context(), c.storedKey(args[1]), wopt, fn)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulkString(dvv.EncodeToken(next.Context()))
}

// cmdVSet is VSET key token value [EX s | PX ms] [W n]: a new sibling that
// supersedes exactly what the token covers (an empty token supersedes
// nothing); the reply is the new token. EX/PX set the key's expiry
// register (crdt.Expire), which applies to every sibling. WRONGTYPE on a
// hash or set key.
func cmdVSet(c *Conn, args [][]byte) { vwrite(c, args, args[2], args[4:], args[3], false) }

// cmdVDel is VDEL key token [W n]: a tombstone superseding what the token
// covers; the reply is the new token. WRONGTYPE on a hash or set key.
func cmdVDel(c *Conn, args [][]byte) { vwrite(c, args, args[2], args[3:], nil, true) }
