package crdt

import (
	"math"

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
//     its previous entry.
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
	if r, ok := v.rec(actor); ok {
		base = r
	}
	for _, c := range v.ctrs {
		if c.dot.Actor == actor {
			w.dots = append(w.dots, c.dot)
			if c.after(base) {
				base = c
			}
		}
	}
	n := ctr{dot: w.next(), inc: base.inc, dec: base.dec, finc: base.finc, fdec: base.fdec}
	switch {
	case by.isFloat && by.f >= 0:
		n.finc += by.f
	case by.isFloat:
		n.fdec -= by.f
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

// applyValue returns the value v after the delta value d (for replies).
func applyValue(v value, d value, vctx context, dctx context) value {
	return mergeValue(v, d, vctx, dctx)
}

var _ = dvv.Dot{}
