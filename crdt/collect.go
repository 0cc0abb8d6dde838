package crdt

import (
	"math"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Top returns the largest counter of actor that o's context holds. A
// mutator uses counters st.Dot.Counter … Top(delta, actor) (one per new
// entry: HSET and SADD of k elements take k), so the caller's next dot for
// the key must exceed it.
func Top(o Object, actor string) uint64 { return o.ctx.top(actor) }

// Collect is the sweeper's expiry transition at now (Unix ms): an expired
// key's content is superseded (its context kept: a tombstone), an expired
// hash field's likewise, and a legacy sibling past its own expiry becomes a
// tombstone under the same dot (as dvv.Expire). No new dot is made, so
// every replica reaches the same state. changed is false if nothing had
// expired.
func Collect(o Object, now int64) (Object, bool) {
	var d Object
	changed := false
	if o.expired(now) {
		w := &write{o: o, seen: o}
		w.clearAll()
		d = w.d
		d.ctx = o.ctx
		changed = true
	} else {
		w := &write{o: o, seen: o}
		for i := range o.hash {
			if at := effective(o.hash[i].exp); at != 0 && at <= now {
				w.removeField(i)
				changed = true
			}
		}
		w.flush()
		d = w.d
		d.ctx = ctxOf(w.dots)
	}
	var regs []reg
	for _, r := range o.str.regs {
		if r.flags&regTombstone == 0 && r.exp != 0 && r.exp <= now {
			regs = append(regs, reg{dot: r.dot, ts: r.ts, exp: r.exp, flags: regTombstone})
		}
	}
	if len(regs) > 0 {
		changed = true
		d.str.regs = regs
		var dots []dvv.Dot
		for _, r := range regs {
			dots = append(dots, r.dot)
		}
		d.ctx = joinCtx(d.ctx, ctxOf(dots))
	}
	if !changed {
		return o, false
	}
	return Merge(o, d), true
}

// EarliestDot returns the time (Unix ms) of o's earliest content dot:
// the smallest counter, divided by 1000, among the dots of every entry o
// holds (values, tombstone siblings, counter entries and records, expiry
// registers, hash and sorted-set fields, set members, list items,
// HyperLogLog entries), and false if o holds no entry. Dot counters are
// their node's hybrid clock in µs (replica.Store), the same clock
// TombstoneTime reads, so a tombstone made at T covers none of o's
// entries when EarliestDot(o) > T: whichever node's clock wrote them,
// skewed or not. The hint horizon (replica.Store.HintHorizon) indexes
// hints by it.
func EarliestDot(o Object) (int64, bool) {
	m := uint64(math.MaxUint64)
	see := func(d dvv.Dot) { m = min(m, d.Counter) }
	val := func(v value) {
		for _, r := range v.regs {
			see(r.dot)
		}
		for _, c := range v.ctrs {
			see(c.dot)
		}
		for _, c := range v.recs {
			see(c.dot)
		}
	}
	exps := func(es []expiry) {
		for _, e := range es {
			see(e.dot)
		}
	}
	val(o.str)
	exps(o.exp)
	for _, fs := range [][]field{o.hash, o.zset} {
		for _, f := range fs {
			val(f.v)
			exps(f.exp)
		}
	}
	for _, mb := range o.set {
		for _, d := range mb.dots {
			see(d)
		}
	}
	for _, it := range o.list {
		for _, c := range it.pos {
			see(c.d)
		}
		for _, v := range it.vals {
			see(v.dot)
		}
	}
	for _, h := range o.hll {
		see(h.dot)
	}
	if m == math.MaxUint64 {
		return 0, false
	}
	return int64(min(m/1000, 1<<62)), true
}
