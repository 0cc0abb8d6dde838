package resp

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
)

// The sorted-set commands (Redis's "sorted-set" group) on crdt's sorted-set
// store: member presence is add-wins, ZINCRBY increments add up, of
// concurrent ZADDs the latest wins (see crdt/zset.go). Conditions (NX, XX,
// GT, LT), ranks and pops are decided on the coordinator's state.
// Multi-key commands need their keys in one slot in a cluster (CROSSSLOT
// otherwise, as Redis Cluster). Replies, errors, RESP3 types and keyspace
// events are Redis 7.0's (t_zset.c): scores print as C's "%.17g" (inf and
// -inf for the infinities), a RESP3 double in RESP3.

// Redis 7.0's sorted-set error replies.
const (
	msgMinMaxFloat = "ERR min or max is not a float"
	msgMinMaxLex   = "ERR min or max not valid string range item"
	msgPositive    = "ERR value is out of range, must be positive"
	msgScoreNaN    = "ERR resulting score is not a number (NaN)"
)

// fmtScore renders a score as Redis 7.0 replies it: "%.17g", and inf/-inf.
func fmtScore(f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return []byte("inf")
	case math.IsInf(f, -1):
		return []byte("-inf")
	}
	return strconv.AppendFloat(nil, f, 'g', 17, 64)
}

// WriteDouble writes a score: a bulk string in RESP2, a RESP3 double in
// RESP3 (Redis's addReplyDouble).
func (c *Conn) WriteDouble(f float64) {
	if c.proto == 3 {
		c.out = append(c.out, ',')
		c.out = append(c.out, fmtScore(f)...)
		c.out = append(c.out, '\r', '\n')
		return
	}
	c.WriteBulk(fmtScore(f))
}

// parseScore is Redis's getDoubleFromObject (strtod over the whole
// argument): no leading space, no NaN, no overflow to ±inf or underflow to
// zero; "inf", "-inf" and hexadecimal are floats.
func parseScore(b []byte) (float64, bool) {
	if len(b) == 0 || isSpace(b[0]) {
		return 0, false
	}
	f, err := strconv.ParseFloat(hexFix(string(b)), 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 && nonZeroMantissa(string(b)) {
		return 0, false // underflow: strtod's ERANGE
	}
	return f, true
}

// parseBound is zslParseRange's strtod: leading space skipped, an empty
// argument is 0, overflow is ±inf; NaN and trailing bytes are refused.
func parseBound(b []byte) (f float64, exclusive, ok bool) {
	s := string(b)
	if strings.HasPrefix(s, "(") {
		s, exclusive = s[1:], true
	}
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	if s == "" {
		return 0, exclusive, true
	}
	f, err := strconv.ParseFloat(hexFix(s), 64)
	if err != nil {
		if ne, isNum := err.(*strconv.NumError); !isNum || ne.Err != strconv.ErrRange {
			return 0, false, false
		}
	}
	if math.IsNaN(f) {
		return 0, false, false
	}
	return f, exclusive, true
}

// hexFix gives a hexadecimal float without a binary exponent ("0x10",
// which strtod reads as 16) the exponent Go's parser requires.
func hexFix(s string) string {
	t := strings.TrimLeft(s, "+-")
	if len(t) > 2 && (t[:2] == "0x" || t[:2] == "0X") && !strings.ContainsAny(t, "pP") {
		return s + "p0"
	}
	return s
}

// nonZeroMantissa reports whether a decimal's digits before its exponent
// are not all zero.
func nonZeroMantissa(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 'e' || c == 'E' || c == 'p' || c == 'P':
			return false
		case c >= '1' && c <= '9':
			return true
		}
	}
	return false
}

// scoreRange is a parsed ZRANGEBYSCORE interval.
type scoreRange struct {
	min, max     float64
	minex, maxex bool
}

func parseScoreRange(lo, hi []byte) (scoreRange, bool) {
	var r scoreRange
	var ok1, ok2 bool
	r.min, r.minex, ok1 = parseBound(lo)
	r.max, r.maxex, ok2 = parseBound(hi)
	return r, ok1 && ok2
}

func (r scoreRange) gteMin(f float64) bool {
	if r.minex {
		return f > r.min
	}
	return f >= r.min
}

func (r scoreRange) lteMax(f float64) bool {
	if r.maxex {
		return f < r.max
	}
	return f <= r.max
}

// lexBound is one end of a ZRANGEBYLEX interval: "-" (inf -1), "+" (inf
// 1), "[s" or "(s" (exclusive).
type lexBound struct {
	s   string
	ex  bool
	inf int
}

func parseLexBound(b []byte) (lexBound, bool) {
	if len(b) == 0 {
		return lexBound{}, false
	}
	switch b[0] {
	case '+', '-':
		if len(b) != 1 {
			return lexBound{}, false
		}
		if b[0] == '+' {
			return lexBound{inf: 1}, true
		}
		return lexBound{inf: -1}, true
	case '(':
		return lexBound{s: string(b[1:]), ex: true}, true
	case '[':
		return lexBound{s: string(b[1:])}, true
	}
	return lexBound{}, false
}

type lexRange struct{ min, max lexBound }

func parseLexRange(lo, hi []byte) (lexRange, bool) {
	a, ok1 := parseLexBound(lo)
	b, ok2 := parseLexBound(hi)
	return lexRange{a, b}, ok1 && ok2
}

func (r lexRange) gteMin(m []byte) bool {
	switch r.min.inf {
	case -1:
		return true
	case 1:
		return false
	}
	c := strings.Compare(string(m), r.min.s)
	return c > 0 || c == 0 && !r.min.ex
}

func (r lexRange) lteMax(m []byte) bool {
	switch r.max.inf {
	case 1:
		return true
	case -1:
		return false
	}
	c := strings.Compare(string(m), r.max.s)
	return c < 0 || c == 0 && !r.max.ex
}

// zmembers reads key's sorted set in order (nil for a missing key).
func (c *Conn) zmembers(key []byte) ([]crdt.ScoredMember, error) {
	o, err := c.load(key)
	if err != nil {
		return nil, err
	}
	return crdt.ZMembers(o, c.now())
}

// writeScored writes members, with their scores if withScores: a flat
// array in RESP2 (and in RESP3 unless nested), an array of [member,
// score] pairs in RESP3 when nested (Redis 7.0's WITHSCORES replies).
func (c *Conn) writeScored(ms []crdt.ScoredMember, withScores, nested bool) {
	if !withScores {
		c.WriteArray(len(ms))
		for _, m := range ms {
			c.WriteBulk(m.Member)
		}
		return
	}
	if nested && c.proto == 3 {
		c.WriteArray(len(ms))
		for _, m := range ms {
			c.WriteArray(2)
			c.WriteBulk(m.Member)
			c.WriteDouble(m.Score)
		}
		return
	}
	c.WriteArray(2 * len(ms))
	for _, m := range ms {
		c.WriteBulk(m.Member)
		c.WriteDouble(m.Score)
	}
}

// parseZAdd parses ZADD's (and ZINCRBY's) options and pairs from args[2:],
// as Redis 7.0's zaddGenericCommand, in its order of checks; msg is the
// error reply.
func parseZAdd(args [][]byte, incr bool) (opt crdt.ZAddOptions, pairs []crdt.ScoredMember, msg string) {
	opt.Incr = incr
	i := 2
	for ; i < len(args); i++ {
		switch {
		case equalFold(args[i], "nx"):
			opt.NX = true
		case equalFold(args[i], "xx"):
			opt.XX = true
		case equalFold(args[i], "ch"):
			opt.CH = true
		case equalFold(args[i], "incr"):
			opt.Incr = true
		case equalFold(args[i], "gt"):
			opt.GT = true
		case equalFold(args[i], "lt"):
			opt.LT = true
		default:
			goto pairs
		}
	}
pairs:
	n := len(args) - i
	switch {
	case n%2 != 0 || n == 0:
		return opt, nil, msgSyntax
	case opt.NX && opt.XX:
		return opt, nil, "ERR XX and NX options at the same time are not compatible"
	case opt.GT && opt.NX || opt.LT && opt.NX || opt.GT && opt.LT:
		return opt, nil, "ERR GT, LT, and/or NX options at the same time are not compatible"
	case opt.Incr && n > 2:
		return opt, nil, "ERR INCR option supports a single increment-element pair"
	}
	for ; i < len(args); i += 2 {
		f, ok := parseScore(args[i])
		if !ok {
			return opt, nil, msgNotFloat
		}
		pairs = append(pairs, crdt.ScoredMember{Score: f, Member: args[i+1]})
	}
	return opt, pairs, ""
}

func cmdZadd(c *Conn, args [][]byte)    { zadd(c, args, false) }
func cmdZincrby(c *Conn, args [][]byte) { zadd(c, args, true) }

// zadd is ZADD and ZINCRBY (zaddGenericCommand): events zadd or zincr
// when a member was added or its score changed.
func zadd(c *Conn, args [][]byte, incr bool) {
	opt, pairs, msg := parseZAdd(args, incr)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	var res crdt.ZAddResult
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, r, err := crdt.ZAdd(cur, st, opt, pairs)
		res = r
		return d, err
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	if res.Changed > 0 {
		ev := "zadd"
		if opt.Incr {
			ev = "zincr"
		}
		c.notify('z', ev, args[1])
	}
	switch {
	case opt.Incr && res.Applied:
		c.WriteDouble(res.Score)
	case opt.Incr:
		c.WriteNull()
	case opt.CH:
		c.WriteInt(res.Changed)
	default:
		c.WriteInt(res.Added)
	}
}

// zremove removes chosen members of key (observed-remove) and emits event
// (and del if the key is gone); it returns the members removed.
func (c *Conn) zremove(key []byte, event string, choose func(o crdt.Object, now int64) ([][]byte, error)) ([][]byte, error) {
	var removed [][]byte
	next, err := c.mutate(key, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		removed = nil
		chosen, err := choose(cur, st.Now)
		if err != nil || len(chosen) == 0 {
			return crdt.Object{}, err
		}
		d, out, err := crdt.ZRem(cur, st, chosen)
		removed = out
		return d, err
	})
	if err == nil && len(removed) > 0 {
		c.notify('z', event, key)
		c.notifyGone(key, next)
	}
	return removed, err
}

func cmdZrem(c *Conn, args [][]byte) {
	removed, err := c.zremove(args[1], "zrem", func(o crdt.Object, now int64) ([][]byte, error) {
		if _, err := crdt.ZCard(o, now); err != nil {
			return nil, err
		}
		return args[2:], nil
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(removed)))
}

func cmdZscore(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	s, ok, err := crdt.ZScore(o, c.now(), args[2])
	switch {
	case err != nil:
		c.WriteErr(err)
	case !ok:
		c.WriteNull()
	default:
		c.WriteDouble(s)
	}
}

func cmdZmscore(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	now := c.now()
	if _, err := crdt.ZCard(o, now); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteArray(len(args) - 2)
	for _, m := range args[2:] {
		if s, ok, _ := crdt.ZScore(o, now, m); ok {
			c.WriteDouble(s)
		} else {
			c.WriteNull()
		}
	}
}

func cmdZcount(c *Conn, args [][]byte) {
	r, ok := parseScoreRange(args[2], args[3])
	if !ok {
		c.WriteError(msgMinMaxFloat)
		return
	}
	ms, err := c.zmembers(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	var n int64
	for _, m := range ms {
		if r.gteMin(m.Score) && r.lteMax(m.Score) {
			n++
		}
	}
	c.WriteInt(n)
}

func cmdZlexcount(c *Conn, args [][]byte) {
	r, ok := parseLexRange(args[2], args[3])
	if !ok {
		c.WriteError(msgMinMaxLex)
		return
	}
	ms, err := c.zmembers(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(byLex(ms, r, false, 0, -1))))
}

// Range kinds and directions of zrangeGeneric.
const (
	rangeAuto = iota
	rangeRank
	rangeScore
	rangeLex
)

// zrangeSpec is a parsed Z*RANGE* command.
type zrangeSpec struct {
	kind          int
	rev           bool
	withScores    bool
	offset, limit int64
	start, end    int64
	score         scoreRange
	lex           lexRange
}

// parseZRange parses a Z*RANGE* command from args[from:] (key min max
// options…), as Redis 7.0's zrangeGenericCommand: kind and rev are fixed by
// the command (rangeAuto and !revFixed: ZRANGE's BYSCORE, BYLEX, REV
// options); msg is the error reply.
func parseZRange(args [][]byte, from int, kind int, rev, revFixed, store bool) (sp zrangeSpec, msg string) {
	sp.kind, sp.rev, sp.limit = kind, rev, -1
	for j := from + 3; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case !store && equalFold(args[j], "withscores"):
			sp.withScores = true
		case equalFold(args[j], "limit") && left >= 2:
			o, ok1 := parseStrictInt(args[j+1])
			l, ok2 := parseStrictInt(args[j+2])
			if !ok1 || !ok2 {
				return sp, msgNotInt
			}
			sp.offset, sp.limit = o, l
			j += 2
		case !revFixed && !sp.rev && equalFold(args[j], "rev"):
			sp.rev = true
		case kind == rangeAuto && sp.kind == rangeAuto && equalFold(args[j], "bylex"):
			sp.kind = rangeLex
		case kind == rangeAuto && sp.kind == rangeAuto && equalFold(args[j], "byscore"):
			sp.kind = rangeScore
		default:
			return sp, msgSyntax
		}
	}
	if sp.kind == rangeAuto {
		sp.kind = rangeRank
	}
	if sp.limit != -1 && sp.kind == rangeRank {
		return sp, "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
	}
	if sp.withScores && sp.kind == rangeLex {
		return sp, "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
	}
	lo, hi := args[from+1], args[from+2]
	if sp.rev && sp.kind != rangeRank {
		lo, hi = hi, lo
	}
	var ok bool
	switch sp.kind {
	case rangeRank:
		var ok2 bool
		sp.start, ok = parseStrictInt(lo)
		sp.end, ok2 = parseStrictInt(hi)
		if !ok || !ok2 {
			return sp, msgNotInt
		}
	case rangeScore:
		if sp.score, ok = parseScoreRange(lo, hi); !ok {
			return sp, msgMinMaxFloat
		}
	case rangeLex:
		if sp.lex, ok = parseLexRange(lo, hi); !ok {
			return sp, msgMinMaxLex
		}
	}
	return sp, ""
}

// rankRange normalizes ZRANGE's start and end over n members as Redis
// does; ok false for an empty range.
func rankRange(start, end int64, n int) (int, int, bool) {
	ln := int64(n)
	if start < 0 {
		start += ln
	}
	if end < 0 {
		end += ln
	}
	if start < 0 {
		start = 0
	}
	if start > end || start >= ln {
		return 0, 0, false
	}
	if end >= ln {
		end = ln - 1
	}
	return int(start), int(end), true
}

// apply returns the members sp selects from ms (in ms's order), in reply
// order.
func (sp zrangeSpec) apply(ms []crdt.ScoredMember) []crdt.ScoredMember {
	switch sp.kind {
	case rangeRank:
		s, e, ok := rankRange(sp.start, sp.end, len(ms))
		if !ok {
			return nil
		}
		out := make([]crdt.ScoredMember, 0, e-s+1)
		if sp.rev {
			for i := len(ms) - 1 - s; i >= len(ms)-1-e; i-- {
				out = append(out, ms[i])
			}
			return out
		}
		return append(out, ms[s:e+1]...)
	case rangeScore:
		return byScore(ms, sp.score, sp.rev, sp.offset, sp.limit)
	}
	return byLex(ms, sp.lex, sp.rev, sp.offset, sp.limit)
}

// window applies LIMIT offset count to a walk: skip offset matches (all,
// for a negative offset), then take count (all for a negative count).
func window(offset, limit int64, walk func(yield func(crdt.ScoredMember) bool)) []crdt.ScoredMember {
	var out []crdt.ScoredMember
	if offset < 0 {
		return nil
	}
	walk(func(m crdt.ScoredMember) bool {
		if offset > 0 {
			offset--
			return true
		}
		if limit == 0 {
			return false
		}
		out = append(out, m)
		if limit > 0 {
			limit--
		}
		return true
	})
	return out
}

func byScore(ms []crdt.ScoredMember, r scoreRange, rev bool, offset, limit int64) []crdt.ScoredMember {
	return window(offset, limit, func(yield func(crdt.ScoredMember) bool) {
		if rev {
			for i := len(ms) - 1; i >= 0; i-- {
				if !r.lteMax(ms[i].Score) {
					continue
				}
				if !r.gteMin(ms[i].Score) || !yield(ms[i]) {
					return
				}
			}
			return
		}
		for _, m := range ms {
			if !r.gteMin(m.Score) {
				continue
			}
			if !r.lteMax(m.Score) || !yield(m) {
				return
			}
		}
	})
}

func byLex(ms []crdt.ScoredMember, r lexRange, rev bool, offset, limit int64) []crdt.ScoredMember {
	return window(offset, limit, func(yield func(crdt.ScoredMember) bool) {
		if rev {
			i := len(ms) - 1
			for i >= 0 && !r.lteMax(ms[i].Member) {
				i--
			}
			for ; i >= 0 && r.gteMin(ms[i].Member); i-- {
				if !yield(ms[i]) {
					return
				}
			}
			return
		}
		i := 0
		for i < len(ms) && !r.gteMin(ms[i].Member) {
			i++
		}
		for ; i < len(ms) && r.lteMax(ms[i].Member); i++ {
			if !yield(ms[i]) {
				return
			}
		}
	})
}

// zrangeCmd builds ZRANGE and its older forms (kind and direction fixed by
// the command).
func zrangeCmd(kind int, rev, revFixed bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		sp, msg := parseZRange(args, 1, kind, rev, revFixed, false)
		if msg != "" {
			c.WriteError(msg)
			return
		}
		ms, err := c.zmembers(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.writeScored(sp.apply(ms), sp.withScores, true)
	}
}

var (
	cmdZrange           = zrangeCmd(rangeAuto, false, false)
	cmdZrevrange        = zrangeCmd(rangeRank, true, true)
	cmdZrangebyscore    = zrangeCmd(rangeScore, false, true)
	cmdZrevrangebyscore = zrangeCmd(rangeScore, true, true)
	cmdZrangebylex      = zrangeCmd(rangeLex, false, true)
	cmdZrevrangebylex   = zrangeCmd(rangeLex, true, true)
)

// cmdZrangestore is ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV]
// [LIMIT offset count]: dst gets the range as a new sorted set (an empty
// one deletes it). Event: zrangestore (del if it emptied dst).
func cmdZrangestore(c *Conn, args [][]byte) {
	if !c.sameSlot(args[1:3]) {
		c.WriteError(msgCrossSlot)
		return
	}
	sp, msg := parseZRange(args, 2, rangeAuto, false, false, true)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	ms, err := c.zmembers(args[2])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.zstore(args[1], sp.apply(ms), "zrangestore")
}

// zstore makes dst a new sorted set of ms (superseding whatever it held,
// of any type; an empty ms deletes it) and replies its cardinality.
func (c *Conn) zstore(dst []byte, ms []crdt.ScoredMember, event string) {
	var existed bool
	_, err := c.mutate(dst, false, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, ok := crdt.Del(cur, st)
		existed = ok
		if len(ms) == 0 {
			return d, nil
		}
		return chain(cur, st, d, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.ZAdd(cur, st, crdt.ZAddOptions{}, ms)
			return d, err
		})
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	switch {
	case len(ms) > 0:
		c.notify('z', event, dst)
	case existed:
		c.notify('g', "del", dst)
	}
	c.WriteInt(int64(len(ms)))
}

// zrankCmd builds ZRANK and ZREVRANK (Redis 7.0: no WITHSCORE).
func zrankCmd(rev bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		ms, err := c.zmembers(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		for i, m := range ms {
			if string(m.Member) == string(args[2]) {
				if rev {
					i = len(ms) - 1 - i
				}
				c.WriteInt(int64(i))
				return
			}
		}
		c.WriteNull()
	}
}

var (
	cmdZrank    = zrankCmd(false)
	cmdZrevrank = zrankCmd(true)
)

// PopZ removes up to count members of key with the lowest scores (max
// false) or the highest, in that order, as ZPOPMIN and ZPOPMAX do; it
// emits zpopmin or zpopmax (and del if it emptied the key) and returns
// the members popped with their scores (none for a missing or empty
// key). ErrWrongType for a key of another type. The blocking forms
// (BZPOPMIN, BZPOPMAX, BZMPOP) call it once a key has members.
func (c *Conn) PopZ(key []byte, max bool, count int64) ([]crdt.ScoredMember, error) {
	var popped []crdt.ScoredMember
	event := "zpopmin"
	if max {
		event = "zpopmax"
	}
	_, err := c.zremove(key, event, func(o crdt.Object, now int64) ([][]byte, error) {
		popped = nil
		ms, err := crdt.ZMembers(o, now)
		if err != nil {
			return nil, err
		}
		n := int(min(count, int64(len(ms))))
		var chosen [][]byte
		for i := range n {
			m := ms[i]
			if max {
				m = ms[len(ms)-1-i]
			}
			popped = append(popped, m)
			chosen = append(chosen, m.Member)
		}
		return chosen, nil
	})
	if err != nil {
		return nil, err
	}
	return popped, nil
}

// zpopCmd builds ZPOPMIN and ZPOPMAX key [count] (genericZpopCommand): a
// flat [member, score…] reply without count, pairs in RESP3 with one.
func zpopCmd(max bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		if len(args) > 3 {
			c.WriteError(msgSyntax)
			return
		}
		count := int64(1)
		if len(args) == 3 {
			n, ok := parseStrictInt(args[2])
			if !ok {
				c.WriteError(msgPositive)
				return
			}
			if n < 0 {
				c.WriteError(msgPositive)
				return
			}
			count = n
		}
		if count == 0 {
			o, err := c.load(args[1])
			if err == nil {
				_, err = crdt.ZCard(o, c.now())
			}
			if err != nil {
				c.WriteErr(err)
				return
			}
			c.WriteArray(0)
			return
		}
		popped, err := c.PopZ(args[1], max, count)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.writeScored(popped, true, len(args) == 3)
	}
}

var (
	cmdZpopmin = zpopCmd(false)
	cmdZpopmax = zpopCmd(true)
)

// parseZMPop parses ZMPOP's (and BZMPOP's) numkeys key… MIN|MAX [COUNT
// count] from args[at:] (at: numkeys' position); msg is the error reply.
func parseZMPop(args [][]byte, at int) (keys [][]byte, max bool, count int64, msg string) {
	n, ok := parseStrictInt(args[at])
	if !ok || n < 1 || n > int64(len(args)-at-1) {
		if !ok || n < 1 {
			return nil, false, 0, "ERR numkeys should be greater than 0"
		}
		return nil, false, 0, msgSyntax
	}
	keys = args[at+1 : at+1+int(n)]
	rest := args[at+1+int(n):]
	if len(rest) == 0 {
		return nil, false, 0, msgSyntax
	}
	switch {
	case equalFold(rest[0], "min"):
	case equalFold(rest[0], "max"):
		max = true
	default:
		return nil, false, 0, msgSyntax
	}
	count = 1
	rest = rest[1:]
	switch {
	case len(rest) == 0:
	case len(rest) == 2 && equalFold(rest[0], "count"):
		c, ok := parseStrictInt(rest[1])
		if !ok || c <= 0 {
			return nil, false, 0, "ERR count should be greater than 0"
		}
		count = c
	default:
		return nil, false, 0, msgSyntax
	}
	return keys, max, count, ""
}

// cmdZmpop is ZMPOP numkeys key… MIN|MAX [COUNT count]: pops from the
// first key that has members; [key, [[member, score]…]], or a null array.
func cmdZmpop(c *Conn, args [][]byte) {
	keys, max, count, msg := parseZMPop(args, 1)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	for _, k := range keys {
		popped, err := c.PopZ(k, max, count)
		if err != nil {
			c.WriteErr(err)
			return
		}
		if len(popped) > 0 {
			c.writeZMPop(k, popped)
			return
		}
	}
	c.WriteNullArray()
}

// writeZMPop writes ZMPOP's (and BZMPOP's) reply of members popped from
// key: [key, [[member, score]…]] in RESP2 and RESP3.
func (c *Conn) writeZMPop(key []byte, popped []crdt.ScoredMember) {
	c.WriteArray(2)
	c.WriteBulk(key)
	c.WriteArray(len(popped))
	for _, m := range popped {
		c.WriteArray(2)
		c.WriteBulk(m.Member)
		c.WriteDouble(m.Score)
	}
}

// cmdZrandmember is ZRANDMEMBER key [count [WITHSCORES]], as SRANDMEMBER's
// count (distinct members for a positive count, repeats for a negative).
func cmdZrandmember(c *Conn, args [][]byte) {
	withScores := false
	var count int64
	if len(args) > 4 || len(args) == 4 && !equalFold(args[3], "withscores") {
		c.WriteError(msgSyntax)
		return
	}
	if len(args) >= 3 {
		n, ok := parseStrictInt(args[2])
		if !ok || n == math.MinInt64 {
			c.WriteError(msgNotIntRange(ok))
			return
		}
		withScores = len(args) == 4
		if withScores && n < -math.MaxInt64/2 {
			c.WriteError("ERR value is out of range")
			return
		}
		count = n
	}
	ms, err := c.zmembers(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	if len(args) == 2 {
		if len(ms) == 0 {
			c.WriteNull()
			return
		}
		c.WriteBulk(ms[rand.IntN(len(ms))].Member)
		return
	}
	picked := pickRandom(len(ms), count)
	out := make([]crdt.ScoredMember, len(picked))
	for i, j := range picked {
		out[i] = ms[j]
	}
	c.writeScored(out, withScores, true)
}

// zremrangeCmd builds ZREMRANGEBYSCORE, ZREMRANGEBYRANK and
// ZREMRANGEBYLEX: the range is parsed first, then the members in it are
// removed (observed-remove). Events zremrangeby*, del if emptied.
func zremrangeCmd(kind int) HandlerFunc {
	event := map[int]string{rangeScore: "zremrangebyscore", rangeRank: "zremrangebyrank", rangeLex: "zremrangebylex"}[kind]
	return func(c *Conn, args [][]byte) {
		sp := zrangeSpec{kind: kind, limit: -1}
		var ok bool
		switch kind {
		case rangeRank:
			var ok2 bool
			sp.start, ok = parseStrictInt(args[2])
			sp.end, ok2 = parseStrictInt(args[3])
			if !ok || !ok2 {
				c.WriteError(msgNotInt)
				return
			}
		case rangeScore:
			if sp.score, ok = parseScoreRange(args[2], args[3]); !ok {
				c.WriteError(msgMinMaxFloat)
				return
			}
		case rangeLex:
			if sp.lex, ok = parseLexRange(args[2], args[3]); !ok {
				c.WriteError(msgMinMaxLex)
				return
			}
		}
		removed, err := c.zremove(args[1], event, func(o crdt.Object, now int64) ([][]byte, error) {
			ms, err := crdt.ZMembers(o, now)
			if err != nil {
				return nil, err
			}
			var chosen [][]byte
			for _, m := range sp.apply(ms) {
				chosen = append(chosen, m.Member)
			}
			return chosen, nil
		})
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.WriteInt(int64(len(removed)))
	}
}

var (
	cmdZremrangebyscore = zremrangeCmd(rangeScore)
	cmdZremrangebyrank  = zremrangeCmd(rangeRank)
	cmdZremrangebylex   = zremrangeCmd(rangeLex)
)

func cmdZscan(c *Conn, args [][]byte) {
	ms, err := c.zmembers(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	collScan(c, args, len(ms), 2, func(i int) []byte { return ms[i].Member }, func(i int) {
		c.WriteBulk(ms[i].Member)
		c.WriteBulk(scanScore(ms[i].Score))
	})
}

// scanScore renders a score as Redis 7.0 stores it in a listpack and
// ZSCAN replies it (d2string): an integral value within ±LLONG_MAX/2 as an
// integer, else as fmtScore.
func scanScore(f float64) []byte {
	if f >= -math.MaxInt64/2 && f <= math.MaxInt64/2 && f == math.Trunc(f) {
		return strconv.AppendInt(nil, int64(f), 10)
	}
	return fmtScore(f)
}

// Redis 7.0's defaults of zset-max-listpack-entries and
// zset-max-listpack-value: a sorted set within both is a listpack.
const (
	zsetListpackEntries = 128
	zsetListpackValue   = 64
)

// zsetEncoding is OBJECT ENCODING's name for a sorted set: listpack while
// it is within Redis's listpack limits, else skiplist.
func zsetEncoding(o crdt.Object, now int64) string {
	ms, _ := crdt.ZMembers(o, now)
	if len(ms) > zsetListpackEntries {
		return "skiplist"
	}
	for _, m := range ms {
		if len(m.Member) > zsetListpackValue {
			return "skiplist"
		}
	}
	return "listpack"
}
