package resp

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
)

// The hash commands (Redis's "hash" group) on crdt's hash store: fields
// added or updated concurrently with their removal survive (add-wins),
// HINCRBY fields add up, each field has its own expiry register (Redis
// 7.4's HEXPIRE family). Replies, errors and RESP3 types are Redis 7's.

// loadHash reads key's hash fields at now (nil for a missing key);
// ErrWrongType for another type.
func (c *Conn) loadHash(key []byte) ([]crdt.FieldValue, crdt.Object, error) {
	o, err := c.load(key)
	if err != nil {
		return nil, o, err
	}
	fs, err := crdt.HGetAll(o, c.now())
	return fs, o, err
}

func hsetPairs(args [][]byte) []crdt.FieldValue {
	pairs := make([]crdt.FieldValue, 0, (len(args)-2)/2)
	for i := 2; i+1 < len(args); i += 2 {
		pairs = append(pairs, crdt.FieldValue{Field: args[i], Value: args[i+1]})
	}
	return pairs
}

// hset is HSET and HMSET: n is the number of new fields.
func (c *Conn) hset(args [][]byte) (n int64, ok bool) {
	if len(args)%2 != 0 {
		c.WriteError("ERR wrong number of arguments for '" + strings.ToLower(string(args[0])) + "' command")
		return 0, false
	}
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, added, err := crdt.HSet(cur, st, hsetPairs(args))
		n = added
		return d, err
	})
	if err != nil {
		c.WriteErr(err)
		return 0, false
	}
	c.notify('h', "hset", args[1])
	return n, true
}

func cmdHSet(c *Conn, args [][]byte) {
	if n, ok := c.hset(args); ok {
		c.WriteInt(n)
	}
}

func cmdHMSet(c *Conn, args [][]byte) {
	if _, ok := c.hset(args); ok {
		c.WriteOK()
	}
}

func cmdHSetNX(c *Conn, args [][]byte) {
	var set bool
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, ok, err := crdt.HSetNX(cur, st, args[2], args[3])
		set = ok
		return d, err
	})
	if set && err == nil {
		c.notify('h', "hset", args[1])
	}
	c.replyWrote(set, err)
}

func cmdHGet(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	v, ok, err := crdt.HGet(o, c.now(), args[2])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeValue(v, ok)
}

func cmdHMGet(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	now := c.now()
	if t := crdt.TypeOf(o, now); t != crdt.KindNone && t != crdt.KindHash {
		c.WriteErr(crdt.ErrWrongType)
		return
	}
	c.WriteArray(len(args) - 2)
	for _, f := range args[2:] {
		v, ok, _ := crdt.HGet(o, now, f)
		c.writeValue(v, ok)
	}
}

// hashAll is HGETALL, HKEYS and HVALS.
func hashAll(keys, vals bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		fs, _, err := c.loadHash(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		if keys && vals {
			c.WriteMap(len(fs))
		} else {
			c.WriteArray(len(fs))
		}
		for _, f := range fs {
			if keys {
				c.WriteBulk(f.Field)
			}
			if vals {
				c.WriteBulk(f.Value)
			}
		}
	}
}

func cmdHDel(c *Conn, args [][]byte) {
	mutateReplyNext(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.HDel(cur, st, args[2:])
	}, func(n int64, next crdt.Object) {
		c.WriteInt(n)
		if n > 0 {
			c.notify('h', "hdel", args[1])
			c.notifyGone(args[1], next)
		}
	})
}

func cmdHExists(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	_, ok, err := crdt.HGet(o, c.now(), args[2])
	c.replyWrote(ok, err)
}

func cmdHLen(c *Conn, args [][]byte) {
	fs, _, err := c.loadHash(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(fs)))
}

func cmdHStrLen(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	v, _, err := crdt.HGet(o, c.now(), args[2])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(v)))
}

func cmdHIncrBy(c *Conn, args [][]byte) {
	by, ok := parseStrictInt(args[3])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, int64, error) {
		return crdt.HIncrBy(cur, st, args[2], by)
	}, func(n int64) {
		c.WriteInt(n)
		c.notify('h', "hincrby", args[1])
	})
}

func cmdHIncrByFloat(c *Conn, args [][]byte) {
	by, ok := parseFloatArg(args[3])
	if !ok {
		c.WriteError(msgNotFloat)
		return
	}
	if math.IsInf(by, 0) {
		c.WriteError("ERR value is NaN or Infinity")
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, []byte, error) {
		return crdt.HIncrByFloat(cur, st, args[2], by)
	}, func(v []byte) {
		c.WriteBulk(v)
		c.notify('h', "hincrbyfloat", args[1])
	})
}

// cmdHRandField is HRANDFIELD key [count [WITHVALUES]], as Redis 7.0: a
// positive count gives distinct fields (all of them if count is at least
// the size), a negative one -count fields that may repeat; RESP3 replies
// WITHVALUES as [field, value] pairs.
func cmdHRandField(c *Conn, args [][]byte) {
	var count int64
	if len(args) >= 3 {
		n, ok := parseStrictInt(args[2])
		if !ok || n == math.MinInt64 {
			c.WriteError(msgNotIntRange(ok))
			return
		}
		count = n
	}
	if len(args) > 4 || len(args) == 4 && !equalFold(args[3], "withvalues") {
		c.WriteError(msgSyntax)
		return
	}
	withValues := len(args) == 4
	if withValues && (count < -math.MaxInt64/2 || count > math.MaxInt64/2) {
		c.WriteError("ERR value is out of range")
		return
	}
	fs, _, err := c.loadHash(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	if len(args) == 2 {
		if len(fs) == 0 {
			c.WriteNull()
			return
		}
		c.WriteBulk(fs[rand.IntN(len(fs))].Field)
		return
	}
	picked := pickRandom(len(fs), count)
	writePair := func(f crdt.FieldValue) {
		if withValues && c.proto == 3 {
			c.WriteArray(2)
		}
		c.WriteBulk(f.Field)
		if withValues {
			c.WriteBulk(f.Value)
		}
	}
	n := len(picked)
	if withValues && c.proto != 3 {
		n *= 2
	}
	c.WriteArray(n)
	for _, i := range picked {
		writePair(fs[i])
	}
}

// msgNotIntRange is the error of a count that is not an integer (ok
// false) or is out of range.
func msgNotIntRange(ok bool) string {
	if !ok {
		return msgNotInt
	}
	return "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
}

// maxRandomCount bounds the elements one HRANDFIELD or SRANDMEMBER with a
// negative count returns (Redis returns them all; dynakv refuses to build
// replies beyond its bulk limits).
const maxRandomCount = 1 << 20

// pickRandom returns indexes into n elements as HRANDFIELD and
// SRANDMEMBER pick them for count: count ≥ 0 distinct ones (all if count
// ≥ n, in order), count < 0 -count with repeats.
func pickRandom(n int, count int64) []int {
	if n == 0 || count == 0 {
		return nil
	}
	if count < 0 {
		k := min(-count, maxRandomCount)
		out := make([]int, k)
		for i := range out {
			out[i] = rand.IntN(n)
		}
		return out
	}
	if count >= int64(n) {
		out := make([]int, n)
		for i := range out {
			out[i] = i
		}
		return out
	}
	return rand.Perm(n)[:count]
}

// collScan is HSCAN and SSCAN's reply over the elements of one key
// (sorted; pairs for a hash): collections up to scanWholeMax elements are
// returned whole with cursor 0, as Redis does for its compact encodings;
// larger ones COUNT at a time, the cursor an index into the sorted
// elements (stable while the collection does not change).
func collScan(c *Conn, args [][]byte, n, per int, name func(i int) []byte, write func(i int)) {
	cursor, ok := parseCursor(args[2])
	if !ok {
		c.WriteError("ERR invalid cursor")
		return
	}
	o, msg := parseScanOpts(args[3:], false)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	from, to := 0, n
	next := uint64(0)
	if n > scanWholeMax {
		from = int(min(cursor, uint64(n)))
		to = int(min(uint64(from)+uint64(min(o.count, maxScanCount)), uint64(n)))
		if to < n {
			next = uint64(to)
		}
	}
	var picked []int
	for i := from; i < to; i++ {
		if o.pattern == "*" || matchKey(name(i), o.pattern) {
			picked = append(picked, i)
		}
	}
	c.WriteArray(2)
	c.WriteBulkString(strconv.FormatUint(next, 10))
	c.WriteArray(len(picked) * per)
	for _, i := range picked {
		write(i)
	}
}

// scanWholeMax is the largest collection HSCAN and SSCAN return in one
// reply whatever COUNT says.
const scanWholeMax = 128

func cmdHScan(c *Conn, args [][]byte) {
	fs, _, err := c.loadHash(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	collScan(c, args, len(fs), 2, func(i int) []byte { return fs[i].Field }, func(i int) {
		c.WriteBulk(fs[i].Field)
		c.WriteBulk(fs[i].Value)
	})
}

// fieldsArg parses "FIELDS numfields field …" starting at args[i] (Redis
// 7.4's hash-field-expiry commands). msg is the error reply.
func fieldsArg(args [][]byte, i int) (fields [][]byte, msg string) {
	if i >= len(args) || !equalFold(args[i], "fields") {
		return nil, "ERR Mandatory argument FIELDS is missing or not at the right position"
	}
	if i+1 >= len(args) {
		return nil, "ERR Parameter `numFields` should be greater than 0"
	}
	n, ok := parseStrictInt(args[i+1])
	if !ok || n <= 0 {
		return nil, "ERR Parameter `numFields` should be greater than 0"
	}
	if n != int64(len(args)-i-2) {
		return nil, "ERR The `numfields` parameter must match the number of arguments"
	}
	return args[i+2:], ""
}

// maxFieldExpire is the largest field deadline Redis 7.4 accepts, in Unix
// ms (HFE_MAX_ABS_TIME_MSEC: EB_EXPIRE_TIME_MAX, 2⁴⁸−1, shifted right by
// 2).
const maxFieldExpire = (1<<48 - 1) >> 2

// hexpireCmd builds HEXPIRE (unitMs 1000, relative), HPEXPIRE, HEXPIREAT
// and HPEXPIREAT: key time [NX|XX|GT|LT] FIELDS n field…, replying one
// code per field (crdt.Field*: -2 no field, 0 condition not met, 1 set, 2
// deleted by a deadline already past).
func hexpireCmd(unitMs int64, absolute bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		when, ok := parseStrictInt(args[2])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		cond := crdt.ExpireAlways
		i := 3
		if i < len(args) {
			switch strings.ToLower(string(args[i])) {
			case "nx":
				cond, i = crdt.ExpireNX, i+1
			case "xx":
				cond, i = crdt.ExpireXX, i+1
			case "gt":
				cond, i = crdt.ExpireGT, i+1
			case "lt":
				cond, i = crdt.ExpireLT, i+1
			}
		}
		fields, msg := fieldsArg(args, i)
		if msg != "" {
			c.WriteError(msg)
			return
		}
		if when < 0 {
			c.WriteError("ERR invalid expire time, must be >= 0")
			return
		}
		if when > maxFieldExpire/unitMs {
			c.WriteError(invalidExpire(args))
			return
		}
		when *= unitMs
		base := int64(0)
		if !absolute {
			base = c.now()
		}
		if when > maxFieldExpire-base {
			c.WriteError(invalidExpire(args))
			return
		}
		when += base
		var codes []int64
		_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, cs, err := crdt.HExpire(cur, st, when, cond, fields)
			codes = repeatCodes(fields, cs, func(first int64) int64 {
				switch {
				case first == crdt.FieldDeleted:
					return crdt.FieldMissing
				case first == crdt.FieldSet && cond != crdt.ExpireAlways && cond != crdt.ExpireXX:
					return crdt.FieldNotMet // NX, GT, LT against the deadline just set
				}
				return first
			})
			return d, err
		})
		if err == nil && slices.Contains(codes, crdt.FieldSet) {
			c.notify('h', "hexpire", args[1]) // Redis 7.4's event
		}
		c.writeCodes(codes, err)
	}
}

// repeatCodes gives a field named again in one command the code Redis
// gives it, processing fields in turn: again(code of its first mention)
// (crdt's mutators act once per distinct field and repeat the first code).
func repeatCodes(fields [][]byte, codes []int64, again func(first int64) int64) []int64 {
	first := map[string]int64{}
	for i, f := range fields {
		if i >= len(codes) {
			break
		}
		if c, ok := first[string(f)]; ok {
			codes[i] = again(c)
			continue
		}
		first[string(f)] = codes[i]
	}
	return codes
}

func (c *Conn) writeCodes(codes []int64, err error) {
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteArray(len(codes))
	for _, n := range codes {
		c.WriteInt(n)
	}
}

// httlCmd builds HTTL, HPTTL, HEXPIRETIME and HPEXPIRETIME (kind as
// ttlCmd's): key FIELDS n field…, one value per field: -2 no such field,
// -1 no expiry, else the TTL or deadline.
func httlCmd(kind int) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		fields, msg := fieldsArg(args, 2)
		if msg != "" {
			c.WriteError(msg)
			return
		}
		o, err := c.load(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		now := c.now()
		codes := make([]int64, len(fields))
		for i, f := range fields {
			at, code, err := crdt.FieldExpiry(o, now, f)
			if err != nil {
				c.WriteErr(err)
				return
			}
			codes[i] = code
			if code == 1 {
				codes[i] = ttlValue(kind, at, now)
			}
		}
		c.writeCodes(codes, nil)
	}
}

// cmdHPersist is HPERSIST key FIELDS n field…: per field -2 no such field,
// -1 no expiry, 1 expiry removed (a PERSIST entry, winning over concurrent
// HEXPIREs).
func cmdHPersist(c *Conn, args [][]byte) {
	fields, msg := fieldsArg(args, 2)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	var codes []int64
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, cs, err := crdt.HPersist(cur, st, fields)
		codes = repeatCodes(fields, cs, func(first int64) int64 {
			if first == crdt.FieldSet {
				return crdt.FieldNoExpiry // persisted by its first mention
			}
			return first
		})
		return d, err
	})
	if err == nil && slices.Contains(codes, crdt.FieldSet) {
		c.notify('h', "hpersist", args[1]) // Redis 7.4's event
	}
	c.writeCodes(codes, err)
}
