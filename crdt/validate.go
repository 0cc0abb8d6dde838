package crdt

import (
	"github.com/dynakv/dynakv/internal/hll"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Validate checks the invariants of doc.go, returning an error wrapping
// ErrCorrupt when one is broken. Decode calls it on every input.
func (o Object) Validate() error {
	for a, c := range o.ctx.vv {
		if a == "" || c == 0 {
			return corruptf("bad context entry")
		}
	}
	for i, c := range o.ctx.cloud {
		if c.dot.Actor == "" || c.dot.Counter == 0 || c.prev > c.dot.Counter {
			return corruptf("bad cloud dot %d", i)
		}
		if i > 0 && o.ctx.cloud[i-1].dot.Compare(c.dot) >= 0 {
			return corruptf("cloud not sorted at %d", i)
		}
		if o.ctx.vv.Covers(c.dot) || c.prev < c.dot.Counter && c.prev <= o.ctx.vv[c.dot.Actor] {
			return corruptf("cloud not normalized at %d", i)
		}
	}
	if err := o.validValue(o.str, "string"); err != nil {
		return err
	}
	if err := o.validExp(o.exp, "key"); err != nil {
		return err
	}
	for i, f := range o.hash {
		if i > 0 && o.hash[i-1].name >= f.name {
			return corruptf("fields not sorted at %d", i)
		}
		if f.v.empty() && len(f.exp) == 0 {
			return corruptf("empty field %d", i)
		}
		if err := o.validValue(f.v, "field"); err != nil {
			return err
		}
		if err := o.validExp(f.exp, "field"); err != nil {
			return err
		}
	}
	for i, m := range o.set {
		if i > 0 && o.set[i-1].name >= m.name {
			return corruptf("members not sorted at %d", i)
		}
		if len(m.dots) == 0 {
			return corruptf("member %d without dots", i)
		}
		if err := o.validDots(len(m.dots), func(j int) dvv.Dot { return m.dots[j] }, "member"); err != nil {
			return err
		}
	}
	if err := o.validDots(len(o.hll), func(j int) dvv.Dot { return o.hll[j].dot }, "hll"); err != nil {
		return err
	}
	for _, h := range o.hll {
		if !hll.Valid(h.val) {
			return corruptf("hll entry not a valid HyperLogLog")
		}
	}
	if err := o.validZSet(); err != nil {
		return err
	}
	if err := o.validList(); err != nil {
		return err
	}
	return nil
}

// validList checks the list store: positions non-empty and strictly
// ascending, each item's values non-empty, dot-sorted and covered.
func (o Object) validList() error {
	for i, it := range o.list {
		if len(it.pos) == 0 || len(it.vals) == 0 {
			return corruptf("empty list item %d", i)
		}
		for _, c := range it.pos {
			if c.d.Actor == "" || c.d.Counter == 0 {
				return corruptf("bad list position at %d", i)
			}
		}
		if i > 0 && cmpPos(o.list[i-1].pos, it.pos) >= 0 {
			return corruptf("list items not sorted at %d", i)
		}
		if err := o.validDots(len(it.vals), func(j int) dvv.Dot { return it.vals[j].dot }, "list item"); err != nil {
			return err
		}
	}
	return nil
}

func (o Object) validDots(n int, dot func(int) dvv.Dot, what string) error {
	for j := 0; j < n; j++ {
		d := dot(j)
		if !o.ctx.covers(d) {
			return corruptf("%s dot not covered by context", what)
		}
		if j > 0 && dot(j-1).Compare(d) >= 0 {
			return corruptf("%s dots not sorted", what)
		}
	}
	return nil
}

func (o Object) validValue(v value, what string) error {
	if err := o.validDots(len(v.regs), func(j int) dvv.Dot { return v.regs[j].dot }, what); err != nil {
		return err
	}
	for _, r := range v.regs {
		if r.flags > regTombstone|regBase || r.flags&regTombstone != 0 && r.val != nil {
			return corruptf("%s register flags", what)
		}
	}
	if err := o.validDots(len(v.ctrs), func(j int) dvv.Dot { return v.ctrs[j].dot }, what); err != nil {
		return err
	}
	for i, r := range v.recs {
		if r.dot.Actor == "" || r.dot.Counter == 0 || i > 0 && v.recs[i-1].dot.Actor >= r.dot.Actor {
			return corruptf("%s records not canonical", what)
		}
	}
	for _, c := range v.ctrs {
		if r, ok := v.rec(c.dot.Actor); ok && !c.after(r) {
			return corruptf("%s counter entry behind its record", what)
		}
	}
	return nil
}

func (o Object) validExp(es []expiry, what string) error {
	for _, e := range es {
		if e.at < 0 {
			return corruptf("%s expiry negative", what)
		}
	}
	return o.validDots(len(es), func(j int) dvv.Dot { return es[j].dot }, what+" expiry")
}
