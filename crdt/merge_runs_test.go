package crdt

import (
	"github.com/dynakv/dynakv/replica/dvv"
	"testing"
)

// refMergeFields and refMergeMembers are mergeFields and mergeMembers as
// they were before they copied untouched runs whole: element by element,
// every one through mergeValue or joinDots. The run copy must give the
// same result on any input.
func refMergeFields(a, b []field, actx, bctx context) []field {
	var out []field
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var f field
		switch {
		case j == len(b) || i < len(a) && a[i].name < b[j].name:
			f = field{name: a[i].name, v: mergeValue(a[i].v, value{}, actx, bctx), exp: joinDots(a[i].exp, nil, actx, bctx, expDot, sameExp)}
			i++
		case i == len(a) || a[i].name > b[j].name:
			f = field{name: b[j].name, v: mergeValue(value{}, b[j].v, actx, bctx), exp: joinDots(nil, b[j].exp, actx, bctx, expDot, sameExp)}
			j++
		default:
			f = field{name: a[i].name, v: mergeValue(a[i].v, b[j].v, actx, bctx), exp: joinDots(a[i].exp, b[j].exp, actx, bctx, expDot, sameExp)}
			i++
			j++
		}
		if !f.v.empty() || len(f.exp) > 0 {
			out = append(out, f)
		}
	}
	return out
}

func refMergeItems(a, b []item, actx, bctx context) []item {
	var out []item
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var it item
		switch {
		case j == len(b) || i < len(a) && cmpPos(a[i].pos, b[j].pos) < 0:
			it = item{pos: a[i].pos, vals: joinDots(a[i].vals, nil, actx, bctx, valDot, sameVal)}
			i++
		case i == len(a) || cmpPos(a[i].pos, b[j].pos) > 0:
			it = item{pos: b[j].pos, vals: joinDots(nil, b[j].vals, actx, bctx, valDot, sameVal)}
			j++
		default:
			it = item{pos: a[i].pos, vals: joinDots(a[i].vals, b[j].vals, actx, bctx, valDot, sameVal)}
			i++
			j++
		}
		if len(it.vals) > 0 {
			out = append(out, it)
		}
	}
	return out
}

func refMergeMembers(a, b []member, actx, bctx context) []member {
	var out []member
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var m member
		switch {
		case j == len(b) || i < len(a) && a[i].name < b[j].name:
			m = member{name: a[i].name, dots: joinDots(a[i].dots, nil, actx, bctx, dotDot, sameDot)}
			i++
		case i == len(a) || a[i].name > b[j].name:
			m = member{name: b[j].name, dots: joinDots(nil, b[j].dots, actx, bctx, dotDot, sameDot)}
			j++
		default:
			m = member{name: a[i].name, dots: joinDots(a[i].dots, b[j].dots, actx, bctx, dotDot, sameDot)}
			i++
			j++
		}
		if len(m.dots) > 0 {
			out = append(out, m)
		}
	}
	return out
}

// Merge's hash, set and list stores equal the element-by-element join on every
// pair of states and deltas of the mixed-type simulations (the run copy of
// untouched elements changes the cost, not the result), and on pairs whose
// elements break Validate's invariants (an empty member or field, a
// counter entry behind its record), which the element-by-element join
// drops or repairs.
func TestMergeRunsMatchElementwise(t *testing.T) {
	check := func(a, b Object) {
		t.Helper()
		m := Merge(a, b)
		want := Object{hash: refMergeFields(a.hash, b.hash, a.ctx, b.ctx), set: refMergeMembers(a.set, b.set, a.ctx, b.ctx), list: refMergeItems(a.list, b.list, a.ctx, b.ctx)}
		got := Object{hash: m.hash, set: m.set, list: m.list}
		if !Equal(got, want) {
			t.Fatalf("Merge differs from the element-by-element join:\n a: %s\n b: %s\n got: %s\nwant: %s", dump(a), dump(b), dump(got), dump(want))
		}
	}
	forEachSim(t, 100, func(s *sim) {
		s.run(40, []opFn{opSet, opDel, opIncr, opHSet, opHDel, opHIncr, opSAdd, opSRem, opHExpire, opHPersist})
		for range 100 * min(len(s.states), 1) { // a run whose every operation was refused has no state
			check(s.states[s.r.IntN(len(s.states))], s.states[s.r.IntN(len(s.states))])
		}
	})
	forEachSim(t, 50, func(s *sim) {
		s.run(40, []opFn{opLPush, opLPush, opLPop, opLInsert, opLRem, opLTrim, opLSet, opDel})
		for range 100 * min(len(s.states), 1) { // a run whose every operation was refused has no state
			check(s.states[s.r.IntN(len(s.states))], s.states[s.r.IntN(len(s.states))])
		}
	})
	d := func(a string, c uint64) dvv.Dot { return dvv.Dot{Actor: a, Counter: c} }
	odd := Object{
		set:  []member{{name: "a", dots: []dvv.Dot{d("x", 1)}}, {name: "b"}, {name: "c", dots: []dvv.Dot{d("x", 2)}}},
		hash: []field{{name: "f"}, {name: "g", v: value{ctrs: []ctr{{dot: d("x", 3), inc: 1}}, recs: []ctr{{dot: d("x", 4)}}}}, {name: "h", v: value{regs: []reg{{dot: d("x", 5)}}}}},
		list: []item{{pos: []lcomp{{n: 1, d: d("x", 6)}}}, {pos: []lcomp{{n: 2, d: d("x", 7)}}, vals: []lval{{dot: d("x", 7), val: []byte("v")}}}},
	}
	check(odd, Object{})
	check(Object{}, odd)
	check(odd, Object{set: []member{{name: "bb", dots: []dvv.Dot{d("y", 1)}}}, hash: []field{{name: "ff", v: value{regs: []reg{{dot: d("y", 2)}}}}}})
}
