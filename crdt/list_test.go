package crdt

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/replica/dvv"
)

// The list operations of the simulation. Every pushed element has a
// unique value ("e<dot>.<i>"), so the model can follow elements by value:
// rec.val holds the pushed values, rec.name the removed ones (joined by
// spaces).

func listVals(o Object, now int64) []string {
	vs, err := ListRange(o, now, 0, -1)
	if err != nil {
		return []string{"WRONGTYPE"}
	}
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = string(v)
	}
	return out
}

func opLPush(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	k := 1 + s.r.IntN(3)
	var vals [][]byte
	for i := range k {
		vals = append(vals, []byte(fmt.Sprintf("e%d.%d", st.Dot.Counter, i)))
	}
	left := s.r.IntN(2) == 0
	d, _, ok := must(ListPush(r.o, st, vals, left, false))
	kind := "rpush"
	if left {
		kind = "lpush"
	}
	return d, opRec{kind: kind, val: string(bytesJoin(vals))}, ok
}

func bytesJoin(vs [][]byte) []byte {
	var ss []string
	for _, v := range vs {
		ss = append(ss, string(v))
	}
	return []byte(strings.Join(ss, " "))
}

func opLPop(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, out, ok := must(ListPop(r.o, st, int64(1+s.r.IntN(2)), s.r.IntN(2) == 0))
	return d, opRec{kind: "lpop", name: string(bytesJoin(out))}, ok
}

func opLInsert(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	cur := listVals(r.o, s.now)
	if len(cur) == 0 || cur[0] == "WRONGTYPE" {
		return Object{}, opRec{}, false
	}
	v := fmt.Sprintf("e%d.i", st.Dot.Counter)
	d, _, ok := must(ListInsert(r.o, st, []byte(cur[s.r.IntN(len(cur))]), []byte(v), s.r.IntN(2) == 0))
	return d, opRec{kind: "linsert", val: v}, ok
}

func opLRem(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	cur := listVals(r.o, s.now)
	if len(cur) == 0 || cur[0] == "WRONGTYPE" {
		return Object{}, opRec{}, false
	}
	v := cur[s.r.IntN(len(cur))]
	d, _, ok := must(ListRem(r.o, st, 0, []byte(v)))
	return d, opRec{kind: "lrem", name: v}, ok
}

func opLTrim(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	cur := listVals(r.o, s.now)
	start, stop := int64(s.r.IntN(3)), int64(-1-s.r.IntN(3))
	d, err := ListTrim(r.o, st, start, stop)
	if err != nil || d.IsZero() {
		return Object{}, opRec{}, false
	}
	lo, hi := rangeOf(int64(len(cur)), start, stop)
	var gone []string
	for i, v := range cur {
		if int64(i) < lo || int64(i) > hi {
			gone = append(gone, v)
		}
	}
	return d, opRec{kind: "ltrim", name: strings.Join(gone, " ")}, true
}

func opLSet(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	n, _ := ListLen(r.o, s.now)
	if n == 0 {
		return Object{}, opRec{}, false
	}
	d, err := ListSet(r.o, st, int64(s.r.IntN(int(n))), []byte(fmt.Sprintf("s%d", st.Dot.Counter)))
	return d, opRec{kind: "lset"}, err == nil
}

// Pushes, pops, inserts, removes and trims on three replicas, deltas in
// causal order: every replica holds one order, and exactly the elements
// pushed and not removed by any operation (concurrent pushes all kept; an
// element two replicas popped concurrently is gone once, as each removal
// covers only what it saw). A multi-element push keeps its order.
func TestPropertyListConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		o := s.run(40, []opFn{opLPush, opLPush, opLPop, opLInsert, opLRem, opLTrim})
		removed := map[string]bool{}
		for _, a := range s.log {
			for _, v := range strings.Fields(a.name) {
				removed[v] = true
			}
		}
		want := map[string]bool{}
		for _, a := range s.log {
			for _, v := range strings.Fields(a.val) {
				if !removed[v] {
					want[v] = true
				}
			}
		}
		got := listVals(o, s.now)
		pos := map[string]int{}
		for i, v := range got {
			pos[v] = i
			if !want[v] {
				t.Fatalf("LRANGE holds %s, removed or never pushed: %v", v, got)
			}
		}
		if len(got) != len(want) {
			t.Fatalf("LRANGE = %v, want the elements %v", got, want)
		}
		for _, a := range s.log {
			vs := strings.Fields(a.val)
			if a.kind == "lpush" {
				slices.Reverse(vs)
			}
			last := -1
			for _, v := range vs {
				if p, ok := pos[v]; ok {
					if p < last {
						t.Fatalf("%s %v out of order in %v", a.kind, vs, got)
					}
					last = p
				}
			}
		}
		s.checkAlgebra(50)
	})
}

// Lists alone and mixed with other types, deltas in any order and twice
// (not causally), LSET included: replicas converge, the algebra holds.
func TestPropertyListAnyOrderConverges(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.run(40, []opFn{opLPush, opLPush, opLPop, opLInsert, opLRem, opLTrim, opLSet})
		if len(s.states) > 0 {
			s.checkAlgebra(40)
		}
	})
	forEachSim(t, 100, func(s *sim) {
		s.run(40, []opFn{opLPush, opLPop, opLSet, opSet, opDel, opHSet, opSAdd})
		if len(s.states) > 0 {
			s.checkAlgebra(40)
		}
	})
}

func lrange(t *testing.T, o Object) string {
	t.Helper()
	return strings.Join(listVals(o, now), " ")
}

func bs(ss ...string) [][]byte {
	var out [][]byte
	for _, s := range ss {
		out = append(out, []byte(s))
	}
	return out
}

func push(n *node, left bool, vals ...string) {
	n.t.Helper()
	d, _, err := ListPush(n.o, n.st(now), bs(vals...), left, false)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
}

func TestListRules(t *testing.T) {
	t.Run("push order as Redis", func(t *testing.T) {
		a := nodes(t, 1)[0]
		push(a, true, "a", "b", "c")
		push(a, false, "x", "y")
		push(a, true, "z")
		if got := lrange(t, a.o); got != "z c b a x y" {
			t.Fatalf("LRANGE = %q", got)
		}
	})
	t.Run("concurrent pushes all kept, each contiguous", func(t *testing.T) {
		ns := nodes(t, 3)
		push(ns[0], false, "base")
		sync(ns...)
		push(ns[0], true, "a1", "a2", "a3")
		push(ns[1], true, "b1", "b2", "b3")
		push(ns[2], false, "c1", "c2")
		push(ns[1], false, "b4")
		sync(ns...)
		got := lrange(t, ns[0].o)
		for _, want := range []string{"a3 a2 a1", "b3 b2 b1", "base", "c1 c2"} {
			if !strings.Contains(got, want) {
				t.Fatalf("LRANGE = %q, lacks the run %q", got, want)
			}
		}
		if n, _ := ListLen(ns[0].o, now); n != 10 {
			t.Fatalf("LLEN = %d, want 10", n)
		}
	})
	t.Run("concurrent pops of one element: both get it, removed once", func(t *testing.T) {
		ns := nodes(t, 2)
		push(ns[0], false, "x", "y")
		sync(ns...)
		var got []string
		for _, n := range ns {
			d, out, err := ListPop(n.o, n.st(now), 1, true)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, string(out[0]))
			n.apply(d)
		}
		sync(ns...)
		if got[0] != "x" || got[1] != "x" || lrange(t, ns[0].o) != "y" {
			t.Fatalf("pops %v, list %q", got, lrange(t, ns[0].o))
		}
	})
	t.Run("push wins over a concurrent DEL", func(t *testing.T) {
		ns := nodes(t, 2)
		push(ns[0], false, "x")
		sync(ns...)
		d, _ := Del(ns[0].o, ns[0].st(now))
		ns[0].apply(d)
		push(ns[1], false, "y")
		sync(ns...)
		if got := lrange(t, ns[0].o); got != "y" {
			t.Fatalf("LRANGE = %q, want y", got)
		}
	})
	t.Run("LSET: later dot wins; LSET concurrent with a pop keeps it", func(t *testing.T) {
		ns := nodes(t, 2)
		push(ns[0], false, "x", "y")
		sync(ns...)
		d, err := ListSet(ns[0].o, ns[0].st(now), 0, []byte("A"))
		if err != nil {
			t.Fatal(err)
		}
		ns[0].apply(d)
		d, err = ListSet(ns[1].o, ns[1].st(now), 0, []byte("B"))
		if err != nil {
			t.Fatal(err)
		}
		ns[1].apply(d)
		sync(ns...)
		if got := lrange(t, ns[0].o); got != "B y" {
			t.Fatalf("LRANGE = %q, want B y", got)
		}
		d, _, _ = ListPop(ns[0].o, ns[0].st(now), 1, false)
		ns[0].apply(d)
		d, _ = ListSet(ns[1].o, ns[1].st(now), -1, []byte("Y"))
		ns[1].apply(d)
		sync(ns...)
		if got := lrange(t, ns[0].o); got != "B Y" {
			t.Fatalf("LRANGE = %q, want B Y", got)
		}
	})
	t.Run("LSET errors", func(t *testing.T) {
		a := nodes(t, 1)[0]
		if _, err := ListSet(a.o, a.st(now), 0, nil); err != ErrNoSuchKey {
			t.Fatalf("LSET missing = %v", err)
		}
		push(a, false, "x")
		if _, err := ListSet(a.o, a.st(now), 1, nil); err != ErrIndexRange {
			t.Fatalf("LSET out of range = %v", err)
		}
	})
	t.Run("LINSERT, LREM, LTRIM as Redis", func(t *testing.T) {
		a := nodes(t, 1)[0]
		push(a, false, "a", "b", "a", "c", "a")
		d, n, _ := ListInsert(a.o, a.st(now), []byte("b"), []byte("B"), true)
		a.apply(d)
		d, _, _ = ListInsert(a.o, a.st(now), []byte("b"), []byte("b2"), false)
		a.apply(d)
		if got := lrange(t, a.o); got != "a B b b2 a c a" || n != 6 {
			t.Fatalf("LRANGE = %q (n %d)", got, n)
		}
		if _, n, _ := ListInsert(a.o, a.st(now), []byte("zz"), []byte("q"), true); n != -1 {
			t.Fatalf("LINSERT missing pivot = %d", n)
		}
		d, n, _ = ListRem(a.o, a.st(now), -2, []byte("a"))
		a.apply(d)
		if got := lrange(t, a.o); got != "a B b b2 c" || n != 2 {
			t.Fatalf("LREM -2: %q %d", got, n)
		}
		d, _ = ListTrim(a.o, a.st(now), 1, -2)
		a.apply(d)
		if got := lrange(t, a.o); got != "B b b2" {
			t.Fatalf("LTRIM: %q", got)
		}
		d, _ = ListTrim(a.o, a.st(now), 5, 10)
		a.apply(d)
		if Live(a.o, now) || TypeOf(a.o, now) != KindNone {
			t.Fatalf("LTRIM to nothing left %q", lrange(t, a.o))
		}
	})
	t.Run("many inserts between two neighbours stay ordered and short", func(t *testing.T) {
		a := nodes(t, 1)[0]
		push(a, false, "L", "R")
		want := []string{"L"}
		for i := range 50 {
			v := fmt.Sprint(i)
			d, _, err := ListInsert(a.o, a.st(now), []byte("R"), []byte(v), true)
			if err != nil {
				t.Fatal(err)
			}
			a.apply(d)
			want = append(want, v)
		}
		want = append(want, "R")
		if got := lrange(t, a.o); got != strings.Join(want, " ") {
			t.Fatalf("LRANGE = %q", got)
		}
		for _, it := range a.o.list {
			if len(it.pos) > 3 {
				t.Fatalf("position grew to %d components", len(it.pos))
			}
		}
	})
	t.Run("type and wrongtype", func(t *testing.T) {
		a := nodes(t, 1)[0]
		push(a, false, "x")
		if TypeOf(a.o, now) != KindList || KindList.String() != "list" {
			t.Fatal("TYPE is not list")
		}
		if _, _, err := HSet(a.o, a.st(now), []FieldValue{{Field: []byte("f"), Value: []byte("v")}}); err != ErrWrongType {
			t.Fatalf("HSET on a list = %v", err)
		}
		d, _, _ := Set(a.o, a.st(now), []byte("s"), SetOptions{})
		a.apply(d)
		if _, _, err := ListPush(a.o, a.st(now), bs("y"), true, false); err != ErrWrongType {
			t.Fatalf("LPUSH on a string = %v", err)
		}
		if _, err := ListLen(a.o, now); err != ErrWrongType {
			t.Fatalf("LLEN on a string = %v", err)
		}
	})
	t.Run("PUSHX on a missing key writes nothing", func(t *testing.T) {
		a := nodes(t, 1)[0]
		d, n, err := ListPush(a.o, a.st(now), bs("x"), true, true)
		if err != nil || n != 0 || !d.IsZero() {
			t.Fatalf("LPUSHX = %v %d", err, n)
		}
	})
}

func TestListBetween(t *testing.T) {
	d := func(c uint64) dvv.Dot { return dvv.Dot{Actor: "A", Counter: c} }
	cases := [][2][]lcomp{
		{{{n: 0, d: d(1)}}, {{n: 1, d: d(2)}}},
		{{{n: 0, d: d(1)}}, {{n: 5, d: d(2)}}},
		{{{n: 0, d: d(1)}}, {{n: 0, d: d(1)}, {n: 3, d: d(2)}}},
		{{{n: 0, d: d(1)}, {n: 7, d: d(3)}}, {{n: 0, d: d(2)}}},
		{{{n: 0, d: d(1)}, {n: math.MaxInt64 - 1, d: d(3)}}, {{n: 1, d: d(2)}}},
		{nil, {{n: 4, d: d(2)}}},
		{{{n: 4, d: d(2)}}, nil},
	}
	for i, c := range cases {
		p, err := between(c[0], c[1], d(99))
		if err != nil {
			t.Fatal(err)
		}
		if c[0] != nil && cmpPos(c[0], p) >= 0 || c[1] != nil && cmpPos(p, c[1]) >= 0 {
			t.Fatalf("case %d: %v not between %v and %v", i, p, c[0], c[1])
		}
		if p[len(p)-1].d != d(99) {
			t.Fatalf("case %d: last component %v lacks the new dot", i, p)
		}
	}
	if _, err := before([]lcomp{{n: math.MinInt64, d: d(1)}}, d(2)); err != ErrListFull {
		t.Fatalf("before at MinInt64 = %v", err)
	}
}

// TestListDecodeHostile: seeded mutations of an encoded list never make
// Decode panic, and whatever it accepts is valid and re-encodes to the
// same bytes (canonical).
func TestListDecodeHostile(t *testing.T) {
	a := nodes(t, 1)[0]
	push(a, false, "a", "b", "c")
	push(a, true, "x")
	d, _, _ := ListInsert(a.o, a.st(now), []byte("b"), []byte("i"), true)
	a.apply(d)
	d, _ = ListSet(a.o, a.st(now), 0, []byte("s"))
	a.apply(d)
	enc := a.o.Encode()
	if o, err := Decode(enc); err != nil || !Equal(o, a.o) {
		t.Fatalf("round trip: %v", err)
	}
	r := rand.New(rand.NewPCG(testseed.Seed(t), 6))
	for range 20000 {
		b := slices.Clone(enc)
		for range 1 + r.IntN(3) {
			b[r.IntN(len(b))] = byte(r.IntN(256))
		}
		o, err := Decode(b)
		if err != nil {
			continue
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("Decode accepted an invalid object: %v", err)
		}
		if !slices.Equal(o.Encode(), b) {
			t.Fatalf("Decode accepted a non-canonical encoding")
		}
	}
}
