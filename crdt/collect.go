package crdt

import "github.com/dynakv/dynakv/replica/dvv"

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
