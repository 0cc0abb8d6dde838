package crdt

import (
	"math"
	"math/big"
	"strconv"

	"github.com/dynakv/dynakv/replica/dvv"
)

// incr is one increment: an int64 or a float64.
type incr struct {
	i       int64
	f       float64
	isFloat bool
}

// counterDelta returns the delta of value v (the content of a string key or
// of a hash field, as seen) for an increment by the write's actor:
//   - the latest plain value, when the read counted it, becomes a base
//     register under its own dot (so concurrent conversions of one value
//     agree: the same dot, the same base, counted once); other plain and
//     tombstone registers are superseded;
//   - the actor's new entry: its running totals (from its live entry or its
//     record, the later) plus the increment, under a new dot, superseding
//     its previous entry. When the later is the record (a SET or DEL
//     removed the actor's entries), the entry starts again from zero after
//     a new record of zero totals (a fresh dot, so it supersedes the old
//     record everywhere): otherwise its float totals would carry the
//     removed history, and what it adds past the record (its totals minus
//     the record's) would lose the increment's digits to it (1e300 added,
//     removed, then 1.5 added read as 0). Float totals are kept net in
//     finc (fdec only carries what an entry made before this rule had),
//     so a decrement does not cancel against a large increment either.
func (w *write) counterDelta(v value, by incr) value {
	var out value
	vw := v.view(w.st.Now)
	_, summed := v.sum(w.st.Now, vw)
	for _, r := range v.regs {
		switch {
		case r.flags&regBase != 0 && r.live(w.st.Now):
			// Already a base: kept.
		case vw.plain && summed && r.dot == vw.winner.dot:
			out.regs = append(out.regs, reg{dot: r.dot, ts: r.ts, flags: regBase, val: r.val})
			w.dots = append(w.dots, r.dot)
		default:
			w.dots = append(w.dots, r.dot)
		}
	}
	actor := w.st.Dot.Actor
	var base ctr
	r, hasRec := v.rec(actor)
	if hasRec {
		base = r
	}
	live := false
	for _, c := range v.ctrs {
		if c.dot.Actor == actor {
			w.dots = append(w.dots, c.dot)
			if c.after(base) {
				base, live = c, true
			}
		}
	}
	if hasRec && !live && (r.inc != 0 || r.dec != 0 || r.finc != 0 || r.fdec != 0) {
		out.recs = []ctr{{dot: w.next()}} // start again from zero
		base = ctr{}
	}
	n := ctr{dot: w.next(), inc: base.inc, dec: base.dec, finc: base.finc, fdec: base.fdec}
	switch {
	case by.isFloat:
		n.finc += by.f
	case by.i >= 0:
		n.inc += uint64(by.i)
	default:
		n.dec += 0 - uint64(by.i) // NB: exact for math.MinInt64 too
	}
	out.ctrs = []ctr{n}
	return out
}

// addInt checks and adds an integer increment to cur (Redis's overflow
// rule).
func addInt(cur, by int64) (int64, error) {
	if by < 0 && cur < 0 && by < math.MinInt64-cur || by > 0 && cur > 0 && by > math.MaxInt64-cur {
		return 0, ErrOverflow
	}
	return cur + by, nil
}

// readInt returns v's integer value at now (0 if absent); errNot if it is
// not an integer.
func readInt(v value, now int64, errNot error) (int64, error) {
	b, ok := v.read(now)
	if !ok {
		return 0, nil
	}
	i, ok := parseInt(b)
	if !ok {
		return 0, errNot
	}
	return i, nil
}

// readFloat is readInt for floats.
func readFloat(v value, now int64, errNot error) (float64, error) {
	b, ok := v.read(now)
	if !ok {
		return 0, nil
	}
	f, ok := parseFloat(b)
	if !ok {
		return 0, errNot
	}
	return f, nil
}

// redisIncrFloat returns INCRBYFLOAT's result as Redis 7.0 computes it
// (incrbyfloatCommand): the current string cur (nil: absent, 0) and the
// increment by read as long doubles (strtold: 64-bit significands,
// rounded to nearest), added in long double, printed with "%.17Lf" and
// read back here as a float64. ok is false if cur does not parse or the
// result is not finite; the caller then keeps its float64 sum.
func redisIncrFloat(cur []byte, by float64) (float64, bool) {
	ld := func(s string) (*big.Float, bool) {
		f, _, err := new(big.Float).SetPrec(64).SetMode(big.ToNearestEven).Parse(s, 0)
		return f, err == nil && !f.IsInf()
	}
	if len(cur) == 0 {
		cur = []byte("0")
	}
	a, ok := ld(string(cur))
	if !ok {
		return 0, false
	}
	b, ok := ld(strconv.FormatFloat(by, 'g', -1, 64)) // the argument as typed, for shortest-digit arguments
	if !ok {
		return 0, false
	}
	sum := new(big.Float).SetPrec(64).SetMode(big.ToNearestEven).Add(a, b)
	f, err := strconv.ParseFloat(sum.Text('f', 17), 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, false
	}
	return f, true
}

// roundFloatIncr nudges the actor's new counter entry in the delta value
// dv (made by counterDelta over v) by a few float64 steps so that the
// value read after it, read(v ⊔ dv), is target (redisIncrFloat's result):
// so a sequence of INCRBYFLOATs reads, and replies, what Redis's would
// wherever Redis's result is a float64 ("0.3" after 0.1 and 0.2, not
// 0.30000000000000004). Concurrent increments still add up: the entry
// differs from the increment by a few units in the last place. If no
// step reaches target, the entry is left as counterDelta made it.
func roundFloatIncr(v, dv value, vctx, dctx context, now int64, actor string, target float64) {
	i := -1
	for j, c := range dv.ctrs {
		if c.dot.Actor == actor && (i < 0 || c.after(dv.ctrs[i])) {
			i = j
		}
	}
	if i < 0 {
		return
	}
	read := func() float64 {
		b, ok := mergeValue(v, dv, vctx, dctx).read(now)
		if !ok {
			return math.NaN()
		}
		f, ok := parseFloat(b)
		if !ok {
			return math.NaN()
		}
		return f
	}
	orig := dv.ctrs[i].finc
	got := read()
	if got == target {
		return
	}
	if g := orig + (target - got); !math.IsInf(g, 0) && !math.IsNaN(g) {
		dv.ctrs[i].finc = g
		got = read()
	}
	for range 8 {
		switch {
		case got == target:
			return
		case math.IsNaN(got):
			dv.ctrs[i].finc = orig
			return
		case got < target:
			dv.ctrs[i].finc = math.Nextafter(dv.ctrs[i].finc, math.Inf(1))
		default:
			dv.ctrs[i].finc = math.Nextafter(dv.ctrs[i].finc, math.Inf(-1))
		}
		got = read()
	}
	if got != target {
		dv.ctrs[i].finc = orig
	}
}

// applyValue returns the value v after the delta value d (for replies).
func applyValue(v value, d value, vctx context, dctx context) value {
	return mergeValue(v, d, vctx, dctx)
}

var _ = dvv.Dot{}

// readBytes returns what a plain read of v returns at now (nil: absent).
func readBytes(v value, now int64) []byte {
	b, _ := v.read(now)
	return b
}
