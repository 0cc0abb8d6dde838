package resp

import (
	"bytes"
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
)

// The string commands (Redis's "string" group) on crdt's string values:
// plain registers (siblings) and counters. Replies, errors and RESP3 types
// are Redis 7's.

// Expiry option kinds of SET and GETEX.
const (
	expNone = iota
	expEX
	expPX
	expEXAT
	expPXAT
)

// strOpts are the options of SET and GETEX.
type strOpts struct {
	nx, xx, get, keepTTL, persist bool
	exp                           int
	expArg                        []byte
}

// parseStrOpts parses SET's (isSet) or GETEX's options the way Redis does,
// which tolerates repeats but not conflicts. ok is false on a syntax error.
func parseStrOpts(opts [][]byte, isSet bool) (o strOpts, ok bool) {
	for j := 0; j < len(opts); j++ {
		opt := opts[j]
		hasNext := j+1 < len(opts)
		switch {
		case isSet && equalFold(opt, "nx") && !o.xx:
			o.nx = true
		case isSet && equalFold(opt, "xx") && !o.nx:
			o.xx = true
		case isSet && equalFold(opt, "get"):
			o.get = true
		case isSet && equalFold(opt, "keepttl") && !o.persist && o.exp == expNone:
			o.keepTTL = true
		case !isSet && equalFold(opt, "persist") && o.exp == expNone && !o.keepTTL:
			o.persist = true
		case equalFold(opt, "ex") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expEX) && hasNext:
			o.exp, o.expArg = expEX, opts[j+1]
			j++
		case equalFold(opt, "px") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expPX) && hasNext:
			o.exp, o.expArg = expPX, opts[j+1]
			j++
		case equalFold(opt, "exat") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expEXAT) && hasNext:
			o.exp, o.expArg = expEXAT, opts[j+1]
			j++
		case equalFold(opt, "pxat") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expPXAT) && hasNext:
			o.exp, o.expArg = expPXAT, opts[j+1]
			j++
		default:
			return o, false
		}
	}
	return o, true
}

// expiryMs turns an expire argument into an absolute Unix ms time, with
// Redis's checks (getExpireMillisecondsOrReply): a positive integer whose
// conversion and addition do not overflow. msg is the error reply.
func expiryMs(arg []byte, seconds, relative bool, now int64, args [][]byte) (ms int64, msg string) {
	v, ok := parseStrictInt(arg)
	if !ok {
		return 0, msgNotInt
	}
	if v <= 0 || seconds && v > math.MaxInt64/1000 {
		return 0, invalidExpire(args)
	}
	if seconds {
		v *= 1000
	}
	if relative {
		if v > math.MaxInt64-now {
			return 0, invalidExpire(args)
		}
		v += now
	}
	if v <= 0 {
		return 0, invalidExpire(args)
	}
	return v, ""
}

func (o strOpts) expiry(now int64, args [][]byte) (int64, string) {
	switch o.exp {
	case expEX:
		return expiryMs(o.expArg, true, true, now, args)
	case expPX:
		return expiryMs(o.expArg, false, true, now, args)
	case expEXAT:
		return expiryMs(o.expArg, true, false, now, args)
	case expPXAT:
		return expiryMs(o.expArg, false, false, now, args)
	}
	return 0, ""
}

// set writes value under key with SET's options and absolute expiry
// (crdt.Set: the value supersedes everything of every type observed).
func (c *Conn) set(key, value []byte, o strOpts, expiry int64) (r crdt.SetResult, err error) {
	opt := crdt.SetOptions{NX: o.nx, XX: o.xx, Get: o.get, KeepTTL: o.keepTTL, Expiry: expiry}
	readFirst := o.nx || o.xx || o.get || o.keepTTL
	_, err = c.mutate(key, readFirst, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, res, err := crdt.Set(cur, st, value, opt)
		r = res
		return d, err
	})
	if err != nil {
		return crdt.SetResult{}, err
	}
	if r.Written {
		c.notify('$', "set", key)
		if expiry != 0 {
			c.notify('g', "expire", key)
		}
	}
	return r, nil
}

func (c *Conn) writeValue(v []byte, ok bool) {
	if ok {
		c.WriteBulk(v)
	} else {
		c.WriteNull()
	}
}

// replyLookup answers a one-key lookup: its error, or the value (null when
// absent), counted as a keyspace hit or miss.
func (c *Conn) replyLookup(v []byte, ok bool, err error) {
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.srv.countLookup(ok)
	c.writeValue(v, ok)
}

// getString reads key's string value: ok false when absent, ErrWrongType
// for another type.
func (c *Conn) getString(key []byte) ([]byte, bool, error) {
	o, err := c.load(key)
	if err != nil {
		return nil, false, err
	}
	return crdt.Get(o, c.now())
}

func cmdGet(c *Conn, args [][]byte) { c.replyLookup(c.getString(args[1])) }

// parseExpiryOpts parses the options of SET (forSet) or GETEX, which start
// at args[from], and the absolute expiry they ask for. On bad options it
// replies with Redis's error and returns ok false.
func (c *Conn) parseExpiryOpts(args [][]byte, from int, forSet bool) (o strOpts, expiry int64, ok bool) {
	if o, ok = parseStrOpts(args[from:], forSet); !ok {
		c.WriteError(msgSyntax)
		return o, 0, false
	}
	expiry, msg := o.expiry(c.now(), args)
	if msg != "" {
		c.WriteError(msg)
		return o, 0, false
	}
	return o, expiry, true
}

func cmdSet(c *Conn, args [][]byte) {
	o, expiry, ok := c.parseExpiryOpts(args, 3, true)
	if !ok {
		return
	}
	r, err := c.set(args[1], args[2], o, expiry)
	switch {
	case err != nil:
		c.WriteErr(err)
	case o.get:
		c.writeValue(r.Old, r.HadOld)
	case !r.Written:
		c.WriteNull()
	default:
		c.WriteOK()
	}
}

func cmdSetNX(c *Conn, args [][]byte) {
	r, err := c.set(args[1], args[2], strOpts{nx: true}, 0)
	c.replyWrote(r.Written, err)
}

func setEX(c *Conn, args [][]byte, seconds bool) {
	expiry, msg := expiryMs(args[2], seconds, true, c.now(), args)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if _, err := c.set(args[1], args[3], strOpts{}, expiry); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

func cmdSetEX(c *Conn, args [][]byte)  { setEX(c, args, true) }
func cmdPSetEX(c *Conn, args [][]byte) { setEX(c, args, false) }

func cmdGetSet(c *Conn, args [][]byte) {
	r, err := c.set(args[1], args[2], strOpts{get: true}, 0)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeValue(r.Old, r.HadOld)
}

func cmdGetDel(c *Conn, args [][]byte) {
	var v []byte
	var found bool
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		val, ok, err := crdt.Get(cur, st.Now)
		if err != nil || !ok {
			return crdt.Object{}, err
		}
		v, found = val, true
		d, _ := crdt.Del(cur, st)
		return d, nil
	})
	if found && err == nil {
		c.notify('g', "del", args[1])
	}
	c.replyLookup(v, found, err)
}

func cmdGetEx(c *Conn, args [][]byte) {
	o, expiry, ok := c.parseExpiryOpts(args, 2, false)
	if !ok {
		return
	}
	if o.exp == expNone && !o.persist {
		cmdGet(c, args)
		return
	}
	var v []byte
	var found, changed bool
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		val, ok, err := crdt.Get(cur, st.Now)
		if err != nil || !ok {
			return crdt.Object{}, err
		}
		v, found = val, true
		if o.persist {
			d, ok := crdt.Persist(cur, st)
			changed = ok
			return d, nil
		}
		d, _ := crdt.Expire(cur, st, expiry, crdt.ExpireAlways)
		changed = true
		return d, nil
	})
	if found && changed && err == nil {
		if o.persist {
			c.notify('g', "persist", args[1])
		} else {
			c.notify('g', "expire", args[1])
		}
	}
	c.replyLookup(v, found, err)
}

func cmdMGet(c *Conn, args [][]byte) {
	vals := make([][]byte, len(args)-1)
	oks := make([]bool, len(args)-1)
	for i, key := range args[1:] {
		v, ok, err := c.getString(key)
		if err != nil && !errors.Is(err, crdt.ErrWrongType) {
			c.WriteErr(err)
			return
		}
		c.srv.countLookup(ok)
		vals[i], oks[i] = v, ok
	}
	c.WriteArray(len(vals))
	for i := range vals {
		c.writeValue(vals[i], oks[i])
	}
}

func cmdMSet(c *Conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.WriteError("ERR wrong number of arguments for 'mset' command")
		return
	}
	for i := 1; i < len(args); i += 2 {
		if _, err := c.set(args[i], args[i+1], strOpts{}, 0); err != nil {
			c.WriteErr(err)
			return
		}
	}
	c.WriteOK()
}

// cmdMSetNX is MSETNX: 1 and every key set if none of them existed, else
// 0. In a cluster the keys must share a slot (CROSSSLOT). Each key is one
// write, conditional on its absence (SET NX): a key created concurrently
// between the check and the writes is left alone, and the reply is still 1
// for the keys written.
func cmdMSetNX(c *Conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.WriteError("ERR wrong number of arguments for 'msetnx' command")
		return
	}
	var keys [][]byte
	for i := 1; i < len(args); i += 2 {
		keys = append(keys, args[i])
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	// One unit: no write coordinated here slips between the check and the
	// sets (runUnit).
	c.runUnit(keys, func() {
		now := c.now()
		for _, k := range keys {
			o, err := c.loadFresh(k)
			if err != nil {
				c.WriteErr(err)
				return
			}
			if crdt.Live(o, now) {
				c.WriteInt(0)
				return
			}
		}
		for i := 1; i < len(args); i += 2 {
			if _, err := c.set(args[i], args[i+1], strOpts{nx: true}, 0); err != nil {
				c.WriteErr(err)
				return
			}
		}
		c.WriteInt(1)
	})
}

// incrBy runs INCRBY by on key and replies the new value.
func incrBy(c *Conn, key []byte, by int64) {
	mutateReply(c, key, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.IncrBy(cur, st, by)
	}, func(n int64) {
		c.WriteInt(n)
		c.notify('$', "incrby", key) // Redis names INCR, DECR and DECRBY's event "incrby" too
	})
}

func cmdIncr(c *Conn, args [][]byte) { incrBy(c, args[1], 1) }
func cmdDecr(c *Conn, args [][]byte) { incrBy(c, args[1], -1) }

func cmdIncrBy(c *Conn, args [][]byte) {
	n, ok := parseStrictInt(args[2])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	incrBy(c, args[1], n)
}

func cmdDecrBy(c *Conn, args [][]byte) {
	n, ok := parseStrictInt(args[2])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	if n == math.MinInt64 {
		c.WriteError("ERR decrement would overflow")
		return
	}
	incrBy(c, args[1], -n)
}

// parseFloatArg parses a float argument as Redis's string2ld: the whole
// string, no spaces, not NaN (±inf is accepted; the result is checked).
func parseFloatArg(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5000 || isSpace(b[0]) || isSpace(b[len(b)-1]) || bytes.ContainsRune(b, '_') {
		return 0, false
	}
	str := string(b)
	if h := strings.TrimLeft(str, "+-"); len(str)-len(h) <= 1 && len(h) > 2 && (h[:2] == "0x" || h[:2] == "0X") && !strings.ContainsAny(h, "pP") {
		str += "p0" // strtold's hex float needs no binary exponent; Go's does
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil && !isRange(err) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

func isRange(err error) bool {
	ne, ok := err.(*strconv.NumError)
	return ok && ne.Err == strconv.ErrRange
}

func isSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\v' || b == '\f'
}

func cmdIncrByFloat(c *Conn, args [][]byte) {
	by, ok := parseFloatArg(args[2])
	if !ok {
		c.WriteError(msgNotFloat)
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, []byte, error) {
		return crdt.IncrByFloat(cur, st, by)
	}, func(v []byte) {
		c.WriteBulk(v)
		c.notify('$', "incrbyfloat", args[1])
	})
}

func cmdAppend(c *Conn, args [][]byte) {
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.Append(cur, st, args[2])
	}, func(n int64) {
		c.WriteInt(n)
		c.notify('$', "append", args[1])
	})
}

func cmdStrLen(c *Conn, args [][]byte) {
	v, _, err := c.getString(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(v)))
}

// cmdGetRange is GETRANGE and SUBSTR, with Redis 7's index rules.
func cmdGetRange(c *Conn, args [][]byte) {
	start, ok1 := parseStrictInt(args[2])
	end, ok2 := parseStrictInt(args[3])
	if !ok1 || !ok2 {
		c.WriteError(msgNotInt)
		return
	}
	v, _, err := c.getString(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulk(strRange(v, start, end))
}

// strRange is Redis 7.0's getrangeCommand arithmetic.
func strRange(v []byte, start, end int64) []byte {
	n := int64(len(v))
	if start < 0 && end < 0 && start > end {
		return nil
	}
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start, end = max(start, 0), max(end, 0)
	if end >= n {
		end = n - 1
	}
	if start > end || n == 0 {
		return nil
	}
	return v[start : end+1]
}

func cmdSetRange(c *Conn, args [][]byte) {
	off, ok := parseStrictInt(args[2])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.SetRange(cur, st, off, args[3])
	}, func(n int64) {
		c.WriteInt(n)
		if len(args[3]) > 0 { // Redis: an empty value changes nothing, and says nothing
			c.notify('$', "setrange", args[1])
		}
	})
}

// cmdLCS is LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN], as
// Redis 7.0's lcsCommand: the same dynamic programme walked back from the
// ends, so the same string and the same matches in the same order.
func cmdLCS(c *Conn, args [][]byte) {
	if !c.sameSlot(args[1:3]) {
		c.WriteError(msgCrossSlot)
		return
	}
	var vals [2][]byte
	for i := range vals {
		o, err := c.load(args[1+i])
		if err != nil {
			c.WriteErr(err)
			return
		}
		v, _, err := crdt.Get(o, c.now())
		if err != nil {
			c.WriteError("ERR The specified keys must contain string values")
			return
		}
		vals[i] = v
	}
	var getLen, getIdx, withLen bool
	var minLen int64
	for i := 3; i < len(args); i++ {
		switch {
		case equalFold(args[i], "idx"):
			getIdx = true
		case equalFold(args[i], "len"):
			getLen = true
		case equalFold(args[i], "withmatchlen"):
			withLen = true
		case equalFold(args[i], "minmatchlen") && i+1 < len(args):
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.WriteError(msgNotInt)
				return
			}
			minLen = max(n, 0)
			i++
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	if getIdx && getLen {
		c.WriteError("ERR If you want both the length and indexes, please just use IDX.")
		return
	}
	a, b := vals[0], vals[1]
	if int64(len(a)+1)*int64(len(b)+1)*4 > crdt.MaxStringLen {
		c.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
		return
	}
	w := len(b) + 1 // tab[i*w+j]: the LCS length of a[:i] and b[:j]
	tab := make([]uint32, (len(a)+1)*w)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			if a[i-1] == b[j-1] {
				tab[i*w+j] = tab[(i-1)*w+j-1] + 1
			} else {
				tab[i*w+j] = max(tab[(i-1)*w+j], tab[i*w+j-1])
			}
		}
	}
	total := int(tab[len(a)*w+len(b)])
	if getLen {
		c.WriteInt(int64(total))
		return
	}
	type span struct{ a0, a1, b0, b1 int }
	var spans []span
	res := make([]byte, total)
	k := total
	unset := len(a) // a range start of len(a): no range open
	a0, a1, b0, b1 := unset, 0, 0, 0
	for i, j := len(a), len(b); i > 0 && j > 0; {
		emit := false
		if a[i-1] == b[j-1] {
			res[k-1] = a[i-1]
			switch {
			case a0 == unset:
				a0, a1, b0, b1 = i-1, i-1, j-1, j-1
			case a0 == i && b0 == j: // contiguous: extend backward
				a0--
				b0--
			default:
				emit = true
			}
			if a0 == 0 || b0 == 0 {
				emit = true
			}
			k--
			i--
			j--
		} else {
			if tab[(i-1)*w+j] > tab[i*w+j-1] {
				i--
			} else {
				j--
			}
			emit = a0 != unset
		}
		if emit {
			if n := a1 - a0 + 1; minLen == 0 || int64(n) >= minLen {
				spans = append(spans, span{a0, a1, b0, b1})
			}
			a0 = unset
		}
	}
	if !getIdx {
		c.WriteBulk(res)
		return
	}
	c.WriteMap(2)
	c.WriteBulkString("matches")
	c.WriteArray(len(spans))
	for _, m := range spans {
		if withLen {
			c.WriteArray(3)
		} else {
			c.WriteArray(2)
		}
		c.WriteArray(2)
		c.WriteInt(int64(m.a0))
		c.WriteInt(int64(m.a1))
		c.WriteArray(2)
		c.WriteInt(int64(m.b0))
		c.WriteInt(int64(m.b1))
		if withLen {
			c.WriteInt(int64(m.a1 - m.a0 + 1))
		}
	}
	c.WriteBulkString("len")
	c.WriteInt(int64(total))
}
