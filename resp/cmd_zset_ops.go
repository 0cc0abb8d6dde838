package resp

import (
	"cmp"
	"math"
	"slices"

	"github.com/dynakv/dynakv/crdt"
)

// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, as Redis 7.0's
// zunionInterDiffGenericCommand: inputs may be sorted sets or sets (a set
// member scores 1), WEIGHTS multiply each input's scores, AGGREGATE SUM
// (default), MIN or MAX combines them (a NaN sum is 0); ZDIFF takes the
// first input's scores. The keys must share a slot in a cluster.

// Aggregates.
const (
	aggSum = iota
	aggMin
	aggMax
)

// zopSrc reads one input of a sorted-set operation: its members in order
// and whether the key exists. ErrWrongType for a key that is neither a
// sorted set nor a set.
func (c *Conn) zopSrc(key []byte) ([]crdt.ScoredMember, bool, error) {
	o, err := c.load(key)
	if err != nil {
		return nil, false, err
	}
	now := c.now()
	switch crdt.TypeOf(o, now) {
	case crdt.KindNone:
		return nil, false, nil
	case crdt.KindZSet:
		ms, err := crdt.ZMembers(o, now)
		return ms, true, err
	case crdt.KindSet:
		names, err := crdt.Members(o, now)
		out := make([]crdt.ScoredMember, len(names))
		for i, n := range names {
			out[i] = crdt.ScoredMember{Member: n, Score: 1}
		}
		return out, true, err
	}
	return nil, false, crdt.ErrWrongType
}

// zop is one parsed operation.
type zop struct {
	op         int // opUnion, opInter, opDiff
	keys       [][]byte
	weights    []float64
	agg        int
	withScores bool
}

// parseZOp parses numkeys key… [WEIGHTS…] [AGGREGATE…] [WITHSCORES] from
// args[at:], store false allowing WITHSCORES; msg is the error reply.
// Types are checked by the caller after this (Redis checks them between
// numkeys and the options: see run).
func parseZOp(args [][]byte, at, op int, store bool) (z zop, msg string) {
	z.op = op
	name := string(args[0])
	n, ok := parseStrictInt(args[at])
	switch {
	case !ok:
		return z, msgNotInt
	case n < 1:
		return z, "ERR at least 1 input key is needed for '" + lower(name) + "' command"
	case n > int64(len(args)-at-1):
		return z, msgSyntax
	}
	z.keys = args[at+1 : at+1+int(n)]
	z.weights = make([]float64, n)
	for i := range z.weights {
		z.weights[i] = 1
	}
	j := at + 1 + int(n)
	for j < len(args) {
		left := len(args) - j
		switch {
		case op != opDiff && left >= int(n)+1 && equalFold(args[j], "weights"):
			j++
			for i := range z.weights {
				w, ok := parseScore(args[j])
				if !ok {
					return z, "ERR weight value is not a float"
				}
				z.weights[i] = w
				j++
			}
		case op != opDiff && left >= 2 && equalFold(args[j], "aggregate"):
			switch {
			case equalFold(args[j+1], "sum"):
				z.agg = aggSum
			case equalFold(args[j+1], "min"):
				z.agg = aggMin
			case equalFold(args[j+1], "max"):
				z.agg = aggMax
			default:
				return z, msgSyntax
			}
			j += 2
		case !store && equalFold(args[j], "withscores"):
			z.withScores = true
			j++
		default:
			return z, msgSyntax
		}
	}
	return z, ""
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

func aggregate(agg int, acc, x float64) float64 {
	switch agg {
	case aggMin:
		return min(acc, x)
	case aggMax:
		return max(acc, x)
	}
	s := acc + x
	if math.IsNaN(s) {
		return 0
	}
	return s
}

func weighted(w, s float64) float64 {
	x := w * s
	if math.IsNaN(x) {
		return 0
	}
	return x
}

// srcs reads the inputs of a parsed operation (WRONGTYPE for any input of
// another type, as Redis checks every key before computing).
func (c *Conn) zopSrcs(keys [][]byte) (srcs [][]crdt.ScoredMember, exists []bool, err error) {
	for _, k := range keys {
		ms, ok, err := c.zopSrc(k)
		if err != nil {
			return nil, nil, err
		}
		srcs = append(srcs, ms)
		exists = append(exists, ok)
	}
	return srcs, exists, nil
}

// run computes the operation over its inputs; limit > 0 stops an
// intersection there (ZINTERCARD). The result is in Redis's order.
func (z zop) run(srcs [][]crdt.ScoredMember, limit int64) []crdt.ScoredMember {
	var out []crdt.ScoredMember
	switch z.op {
	case opUnion:
		idx := map[string]int{}
		for i, ms := range srcs {
			for _, m := range ms {
				s := weighted(z.weights[i], m.Score)
				if k, ok := idx[string(m.Member)]; ok {
					out[k].Score = aggregate(z.agg, out[k].Score, s)
					continue
				}
				idx[string(m.Member)] = len(out)
				out = append(out, crdt.ScoredMember{Member: m.Member, Score: s})
			}
		}
	case opInter:
		order := make([]int, len(srcs))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(len(srcs[a]), len(srcs[b])) })
		sets := make([]map[string]float64, len(srcs))
		for i, ms := range srcs {
			sets[i] = make(map[string]float64, len(ms))
			for _, m := range ms {
				sets[i][string(m.Member)] = m.Score
			}
		}
		first := order[0]
	next:
		for _, m := range srcs[first] {
			s := weighted(z.weights[first], m.Score)
			for _, i := range order[1:] {
				x, ok := sets[i][string(m.Member)]
				if !ok {
					continue next
				}
				s = aggregate(z.agg, s, weighted(z.weights[i], x))
			}
			out = append(out, crdt.ScoredMember{Member: m.Member, Score: s})
			if limit > 0 && int64(len(out)) >= limit {
				break
			}
		}
	case opDiff:
		others := map[string]bool{}
		for _, ms := range srcs[1:] {
			for _, m := range ms {
				others[string(m.Member)] = true
			}
		}
		for _, m := range srcs[0] {
			if !others[string(m.Member)] {
				out = append(out, m)
			}
		}
	}
	slices.SortFunc(out, func(a, b crdt.ScoredMember) int {
		if c := cmp.Compare(a.Score, b.Score); c != 0 {
			return c
		}
		return cmpBytes(a.Member, b.Member)
	})
	return out
}

// zopCmd builds ZUNION, ZINTER and ZDIFF numkeys key… [options].
func zopCmd(op int) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		z, msg := parseZOpChecked(c, args, 1, op, false)
		if msg != "" {
			c.WriteError(msg)
			return
		}
		srcs, _, err := c.zopSrcs(z.keys)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.writeScored(z.run(srcs, 0), z.withScores, true)
	}
}

// parseZOpChecked is parseZOp in Redis's order of checks: numkeys, then
// the inputs' types, then the options; CROSSSLOT first in a cluster.
func parseZOpChecked(c *Conn, args [][]byte, at, op int, store bool) (zop, string) {
	if keys := numKeys(at)(args); !c.sameSlot(append(append([][]byte(nil), args[1:at]...), keysAt(args, keys)...)) {
		return zop{}, msgCrossSlot
	}
	n, ok := parseStrictInt(args[at])
	if ok && n >= 1 && n <= int64(len(args)-at-1) {
		for _, k := range args[at+1 : at+1+int(n)] {
			if _, _, err := c.zopSrc(k); err != nil {
				return zop{}, errorReply(err)
			}
		}
	}
	return parseZOp(args, at, op, store)
}

func keysAt(args [][]byte, pos []int) [][]byte {
	out := make([][]byte, len(pos))
	for i, p := range pos {
		out[i] = args[p]
	}
	return out
}

// zopStoreCmd builds ZUNIONSTORE, ZINTERSTORE and ZDIFFSTORE dst numkeys
// key… [options]: dst gets the result (see zstore).
func zopStoreCmd(op int) HandlerFunc {
	event := [...]string{opInter: "zinterstore", opUnion: "zunionstore", opDiff: "zdiffstore"}[op]
	return func(c *Conn, args [][]byte) {
		z, msg := parseZOpChecked(c, args, 2, op, true)
		if msg != "" {
			c.WriteError(msg)
			return
		}
		srcs, _, err := c.zopSrcs(z.keys)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.zstore(args[1], z.run(srcs, 0), event)
	}
}

var (
	cmdZunion      = zopCmd(opUnion)
	cmdZinter      = zopCmd(opInter)
	cmdZdiff       = zopCmd(opDiff)
	cmdZunionstore = zopStoreCmd(opUnion)
	cmdZinterstore = zopStoreCmd(opInter)
	cmdZdiffstore  = zopStoreCmd(opDiff)
)

// cmdZintercard is ZINTERCARD numkeys key… [LIMIT limit] (as SINTERCARD).
func cmdZintercard(c *Conn, args [][]byte) {
	n, ok := parseStrictInt(args[1])
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case n < 1:
		c.WriteError("ERR at least 1 input key is needed for 'zintercard' command")
		return
	case n > int64(len(args)-2):
		c.WriteError(msgSyntax)
		return
	}
	keys := args[2 : 2+n]
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	srcs, exists, err := c.zopSrcs(keys) // types first, as Redis
	if err != nil {
		c.WriteErr(err)
		return
	}
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
	if slices.Contains(exists, false) {
		c.WriteInt(0)
		return
	}
	z := zop{op: opInter, keys: keys, weights: make([]float64, len(keys))}
	c.WriteInt(int64(len(z.run(srcs, limit))))
}

// numKeysAfter returns the key positions of dst numkeys key… (ZUNIONSTORE,
// ZINTERSTORE, ZDIFFSTORE): dst, then numKeys(2)'s.
func numKeysAfter(args [][]byte) []int {
	ks := numKeys(2)(args)
	if ks == nil {
		return []int{1}
	}
	return append([]int{1}, ks...)
}
