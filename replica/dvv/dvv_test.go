package dvv_test

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// write applies a write through actor with client context ctx, picking the
// next counter as the replica store would.
func write(t *testing.T, o dvv.Object, ctx dvv.VV, actor string, s dvv.Sibling) dvv.Object {
	t.Helper()
	c, ok := dvv.NextCounter(o, ctx, actor)
	if !ok {
		t.Fatalf("NextCounter(%s): no counter left", actor)
	}
	s.Dot = dvv.Dot{Actor: actor, Counter: c}
	out := dvv.Update(o, ctx, s)
	mustValid(t, "Update result", out)
	return out
}

func wantDots(t *testing.T, what string, o dvv.Object, want ...dvv.Dot) {
	t.Helper()
	if got := dots(o); !slices.Equal(got, want) {
		t.Fatalf("%s: sibling dots = %v, want %v\n%s", what, got, want, describe(o))
	}
}

func TestTwoWritesWithSameContextThroughSameActorGiveTwoSiblings(t *testing.T) {
	var o dvv.Object
	o = write(t, o, nil, "n1", sib("", 0, 1, "v0"))
	ctx := o.Join() // both clients read v0

	a := write(t, o, ctx, "n1", sib("", 0, 2, "a"))
	b := write(t, a, ctx, "n1", sib("", 0, 3, "b"))
	// v0 is superseded by both; a and b are concurrent: neither is lost.
	wantDots(t, "after two writes with one context", b, dot("n1", 2), dot("n1", 3))
	if string(b.Siblings[0].Value) != "a" || string(b.Siblings[1].Value) != "b" {
		t.Fatalf("sibling values = %q, %q", b.Siblings[0].Value, b.Siblings[1].Value)
	}
	if !b.Context.Equal(dvv.VV{"n1": 3}) {
		t.Fatalf("context = %v, want n1=3", b.Context)
	}
}

func TestWriteWhoseContextCoversSiblingRemovesIt(t *testing.T) {
	var o dvv.Object
	o = write(t, o, nil, "n1", sib("", 0, 1, "x"))       // n1:1
	ctxX := o.Join()                                     // a client saw only x
	o = write(t, o, nil, "n2", sib("", 0, 2, "y"))       // n2:1, concurrent
	o = write(t, o, ctxX, "n3", sib("", 0, 3, "x-next")) // supersedes x only
	wantDots(t, "after write covering x", o, dot("n2", 1), dot("n3", 1))
}

func TestWriteWithJoinOfSiblingsResolvesThemToOne(t *testing.T) {
	var o dvv.Object
	o = write(t, o, nil, "n1", sib("", 0, 1, "x"))
	o = write(t, o, nil, "n2", sib("", 0, 2, "y"))
	wantDots(t, "two blind writes", o, dot("n1", 1), dot("n2", 1))

	ctx := o.Join() // what VGET returns with both siblings
	o = write(t, o, ctx, "n1", sib("", 0, 3, "resolved"))
	wantDots(t, "after VSET with VGET's context", o, dot("n1", 2))
	if string(o.Siblings[0].Value) != "resolved" {
		t.Fatalf("value = %q", o.Siblings[0].Value)
	}

	// The context of a different replica that holds both siblings resolves
	// them there too (through Merge).
	var other dvv.Object
	other = dvv.Merge(other, dvv.Object{Context: dvv.VV{"n1": 1, "n2": 1}, Siblings: []dvv.Sibling{
		sib("n1", 1, 1, "x"), sib("n2", 1, 2, "y"),
	}})
	wantDots(t, "merged", dvv.Merge(other, o), dot("n1", 2))
}

func TestBlindWriteAddsSiblingBesideAllOthers(t *testing.T) {
	var o dvv.Object
	o = write(t, o, nil, "n1", sib("", 0, 1, "x"))
	o = write(t, o, nil, "n2", sib("", 0, 2, "y"))
	o = write(t, o, o.Join(), "n3", sib("", 0, 3, "z"))
	wantDots(t, "resolved", o, dot("n3", 1))
	for _, empty := range []dvv.VV{nil, {}, {"n1": 0}} {
		p := write(t, o, empty, "n1", sib("", 0, 4, "blind"))
		wantDots(t, "after blind write", p, dot("n1", 2), dot("n3", 1))
	}
	// Blind writes through the same actor pile up too.
	p := write(t, o, nil, "n3", sib("", 0, 4, "b1"))
	p = write(t, p, nil, "n3", sib("", 0, 5, "b2"))
	wantDots(t, "two blind writes through n3", p, dot("n3", 1), dot("n3", 2), dot("n3", 3))
}

func TestWriteContextFromAnotherReplicaDecidesWhatIsSuperseded(t *testing.T) {
	// The client read replica B (which had seen n2:1) and writes through n1,
	// whose replica has not seen n2:1 yet: the write still supersedes it
	// once the replicas meet.
	a := write(t, dvv.Object{}, nil, "n1", sib("", 0, 1, "a"))
	b := write(t, dvv.Object{}, nil, "n2", sib("", 0, 2, "b"))
	b = dvv.Merge(b, a)
	ctx := b.Join()
	a = write(t, a, ctx, "n1", sib("", 0, 3, "c"))
	wantDots(t, "writer replica", a, dot("n1", 2))
	wantDots(t, "after merge", dvv.Merge(a, b), dot("n1", 2))
	wantDots(t, "after merge (other order)", dvv.Merge(b, a), dot("n1", 2))
}

func TestMergeDropsSiblingSupersededOnTheOtherSide(t *testing.T) {
	// Both replicas hold x and y; replica a then writes z superseding x.
	base := write(t, dvv.Object{}, nil, "n1", sib("", 0, 1, "x"))
	base = write(t, base, nil, "n2", sib("", 0, 2, "y"))
	ctxX := dvv.VV{"n1": 1}
	a := write(t, base, ctxX, "n3", sib("", 0, 3, "z"))
	b := base
	for _, m := range []dvv.Object{dvv.Merge(a, b), dvv.Merge(b, a)} {
		mustValid(t, "merge", m)
		wantDots(t, "merge", m, dot("n2", 1), dot("n3", 1))
	}
	// A sibling the other side has not seen survives.
	c := write(t, dvv.Object{}, nil, "n4", sib("", 0, 4, "w"))
	wantDots(t, "merge with unseen", dvv.Merge(a, c), dot("n2", 1), dot("n3", 1), dot("n4", 1))
	// A sibling both have survives.
	wantDots(t, "self merge", dvv.Merge(base, base), dot("n1", 1), dot("n2", 1))
}

func TestMergeOfDisjointHistoriesKeepsEverything(t *testing.T) {
	a := write(t, dvv.Object{}, nil, "n1", sib("", 0, 1, "x"))
	b := write(t, dvv.Object{}, nil, "n2", sib("", 0, 1, "y"))
	m := dvv.Merge(a, b)
	wantDots(t, "merge", m, dot("n1", 1), dot("n2", 1))
	if !m.Context.Equal(dvv.VV{"n1": 1, "n2": 1}) {
		t.Fatalf("context = %v", m.Context)
	}
	if !dvv.Equal(dvv.Merge(dvv.Object{}, a), a) || !dvv.Equal(dvv.Merge(a, dvv.Object{}), a) {
		t.Fatal("the zero object is not the identity of Merge")
	}
}

func TestTombstones(t *testing.T) {
	o := write(t, dvv.Object{}, nil, "n1", sib("", 0, 1, "x"))

	// A delete (tombstone) supersedes what its context covers and is not live.
	d := write(t, o, o.Join(), "n1", dvv.Sibling{Tombstone: true, Timestamp: 2, Value: []byte("dropped")})
	wantDots(t, "after delete", d, dot("n1", 2))
	if s := d.Siblings[0]; !s.Tombstone || s.Value != nil {
		t.Fatalf("tombstone = %+v: want Tombstone and nil Value", s)
	}
	if len(dvv.Live(d, 0)) != 0 {
		t.Fatal("tombstone is live")
	}
	if _, ok := dvv.Winner(d, 0); ok {
		t.Fatal("Winner returned a tombstone")
	}

	// A delete does not come back through a merge with a replica that still
	// has the deleted value.
	for _, m := range []dvv.Object{dvv.Merge(d, o), dvv.Merge(o, d)} {
		wantDots(t, "merge with stale replica", m, dot("n1", 2))
	}

	// A blind (concurrent) delete stands beside the value; the value wins reads.
	c := write(t, o, nil, "n2", tomb("", 0, 3))
	wantDots(t, "concurrent delete", c, dot("n1", 1), dot("n2", 1))
	if w, ok := dvv.Winner(c, 0); !ok || string(w.Value) != "x" {
		t.Fatalf("Winner = %+v, %v: want x", w, ok)
	}

	// A write over a tombstone with its context replaces it.
	n := write(t, d, d.Join(), "n2", sib("", 0, 4, "again"))
	wantDots(t, "write after delete", n, dot("n2", 1))
	if w, ok := dvv.Winner(n, 0); !ok || string(w.Value) != "again" {
		t.Fatalf("Winner = %+v, %v", w, ok)
	}
}

func TestExpireTurnsExpiredValuesIntoTombstonesWithSameDot(t *testing.T) {
	o := write(t, dvv.Object{}, nil, "n1", dvv.Sibling{Timestamp: 1, Expiry: 100, Value: []byte("soon")})
	o = write(t, o, nil, "n2", dvv.Sibling{Timestamp: 2, Expiry: 200, Value: []byte("later")})
	o = write(t, o, nil, "n3", dvv.Sibling{Timestamp: 3, Value: []byte("forever")})
	o = write(t, o, nil, "n4", dvv.Sibling{Timestamp: 4, Expiry: 50, Tombstone: true})
	before := cloneObject(o)

	if p, changed := dvv.Expire(o, 99); changed || !dvv.Equal(p, o) {
		t.Fatalf("Expire before any expiry changed the object: %s", describe(p))
	}
	e, changed := dvv.Expire(o, 100) // expiry is inclusive
	if !changed {
		t.Fatal("Expire at the expiry time reported no change")
	}
	mustValid(t, "expired", e)
	if d := sameObject(o, before); d != "" {
		t.Fatalf("Expire modified its argument: %s", d)
	}
	wantDots(t, "expired", e, dots(o)...)
	for i, s := range e.Siblings {
		old := o.Siblings[i]
		want := old
		if old.Dot == dot("n1", 1) {
			want.Tombstone, want.Value = true, nil
		}
		if d := sameSibling(s, want); d != "" {
			t.Fatalf("sibling %d: %s", i, d)
		}
	}
	if !e.Context.Equal(o.Context) {
		t.Fatalf("context changed: %v -> %v", o.Context, e.Context)
	}
	if _, again := dvv.Expire(e, 100); again {
		t.Fatal("Expire is not idempotent")
	}

	// Merge lets the tombstone win over the same dot's live value, both ways,
	// so replicas that expire at different times converge.
	for _, m := range []dvv.Object{dvv.Merge(o, e), dvv.Merge(e, o)} {
		mustValid(t, "merge", m)
		if d := sameObject(m, e); d != "" {
			t.Fatalf("merge of live and expired: %s", d)
		}
	}
	all, _ := dvv.Expire(o, 1000)
	if got := dvv.Live(all, 1000); len(got) != 1 || string(got[0].Value) != "forever" {
		t.Fatalf("Live after expiry = %+v", got)
	}
}

func TestWinnerPicksLatestTimestampTiesByLargerDot(t *testing.T) {
	ctx := dvv.VV{"n1": 9, "n2": 9}
	for _, tc := range []struct {
		name string
		sibs []dvv.Sibling
		now  int64
		want dvv.Dot
		ok   bool
	}{
		{"none", nil, 0, dvv.Dot{}, false},
		{"one", []dvv.Sibling{sib("n1", 1, 5, "")}, 0, dot("n1", 1), true},
		{"latest", []dvv.Sibling{sib("n1", 1, 7, ""), sib("n1", 2, 5, ""), sib("n2", 1, 6, "")}, 0, dot("n1", 1), true},
		{"tie larger counter", []dvv.Sibling{sib("n1", 1, 5, ""), sib("n1", 2, 5, "")}, 0, dot("n1", 2), true},
		{"tie larger actor", []dvv.Sibling{sib("n1", 3, 5, ""), sib("n2", 1, 5, "")}, 0, dot("n2", 1), true},
		{"negative timestamps", []dvv.Sibling{sib("n1", 1, -5, ""), sib("n2", 1, -7, "")}, 0, dot("n1", 1), true},
		{"tombstone skipped", []dvv.Sibling{sib("n1", 1, 5, ""), tomb("n2", 1, 9)}, 0, dot("n1", 1), true},
		{"expired skipped", []dvv.Sibling{sib("n1", 1, 5, ""), {Dot: dot("n2", 1), Timestamp: 9, Expiry: 10}}, 10, dot("n1", 1), true},
		{"unexpired counted", []dvv.Sibling{sib("n1", 1, 5, ""), {Dot: dot("n2", 1), Timestamp: 9, Expiry: 10}}, 9, dot("n2", 1), true},
		{"only tombstones", []dvv.Sibling{tomb("n1", 1, 5), tomb("n2", 1, 9)}, 0, dvv.Dot{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := dvv.Object{Context: ctx, Siblings: tc.sibs}
			mustValid(t, "case", o)
			w, ok := dvv.Winner(o, tc.now)
			if ok != tc.ok || ok && w.Dot != tc.want {
				t.Fatalf("Winner = %v, %v; want %v, %v", w.Dot, ok, tc.want, tc.ok)
			}
			// The winner does not depend on sibling order in memory.
			rev := slices.Clone(tc.sibs)
			slices.Reverse(rev)
			w2, ok2 := dvv.Winner(dvv.Object{Context: ctx, Siblings: rev}, tc.now)
			if ok2 != ok || w2.Dot != w.Dot {
				t.Fatalf("Winner depends on order: %v vs %v", w2.Dot, w.Dot)
			}
		})
	}
}

func TestLiveFiltersTombstonesAndExpired(t *testing.T) {
	o := dvv.Object{Context: dvv.VV{"n1": 5}, Siblings: []dvv.Sibling{
		sib("n1", 1, 1, "plain"),
		tomb("n1", 2, 2),
		{Dot: dot("n1", 3), Timestamp: 3, Expiry: 100, Value: []byte("ttl")},
		{Dot: dot("n1", 4), Timestamp: 4, Expiry: 100, Tombstone: true},
		{Dot: dot("n1", 5), Timestamp: 5, Value: []byte{}},
	}}
	mustValid(t, "object", o)
	for _, tc := range []struct {
		now  int64
		want []dvv.Dot
	}{
		{0, []dvv.Dot{dot("n1", 1), dot("n1", 3), dot("n1", 5)}},
		{99, []dvv.Dot{dot("n1", 1), dot("n1", 3), dot("n1", 5)}},
		{100, []dvv.Dot{dot("n1", 1), dot("n1", 5)}},
		{math.MaxInt64, []dvv.Dot{dot("n1", 1), dot("n1", 5)}},
	} {
		got := dvv.Live(o, tc.now)
		gd := make([]dvv.Dot, 0, len(got))
		for _, s := range got {
			gd = append(gd, s.Dot)
		}
		if !slices.Equal(gd, tc.want) {
			t.Errorf("Live(now=%d) = %v, want %v", tc.now, gd, tc.want)
		}
	}
	if got := dvv.Live(dvv.Object{}, 0); len(got) != 0 {
		t.Errorf("Live(zero) = %v", got)
	}
}

func TestNextCounter(t *testing.T) {
	o := dvv.Object{Context: dvv.VV{"n1": 4, "n2": 9}}
	for _, tc := range []struct {
		name  string
		o     dvv.Object
		ctx   dvv.VV
		actor string
		want  uint64
		ok    bool
	}{
		{"fresh key", dvv.Object{}, nil, "n1", 1, true},
		{"from object", o, nil, "n1", 5, true},
		{"from context ahead of object", o, dvv.VV{"n1": 7}, "n1", 8, true},
		{"object ahead of context", o, dvv.VV{"n2": 3}, "n2", 10, true},
		{"unknown actor", o, dvv.VV{"n2": 30}, "n3", 1, true},
		{"exhausted by object", dvv.Object{Context: dvv.VV{"n1": math.MaxUint64}}, nil, "n1", 0, false},
		{"exhausted by context", o, dvv.VV{"n1": math.MaxUint64}, "n1", 0, false},
		{"last counter", o, dvv.VV{"n1": math.MaxUint64 - 1}, "n1", math.MaxUint64, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, ok := dvv.NextCounter(tc.o, tc.ctx, tc.actor)
			if ok != tc.ok || ok && c != tc.want {
				t.Fatalf("NextCounter = %d, %v; want %d, %v", c, ok, tc.want, tc.ok)
			}
			if ok {
				// The counter it returns is one Update accepts.
				out := dvv.Update(tc.o, tc.ctx, sib(tc.actor, c, 0, "v"))
				mustValid(t, "update", out)
			}
		})
	}
}

func TestUpdatePanicsOnCoveredDot(t *testing.T) {
	o := dvv.Object{Context: dvv.VV{"n1": 4}, Siblings: []dvv.Sibling{sib("n1", 4, 1, "x")}}
	for _, tc := range []struct {
		name string
		ctx  dvv.VV
		d    dvv.Dot
	}{
		{"dot of a sibling", nil, dot("n1", 4)},
		{"dot covered by the object", nil, dot("n1", 2)},
		{"dot covered by the client context", dvv.VV{"n2": 3}, dot("n2", 3)},
		{"dot below the client context", dvv.VV{"n2": 3}, dot("n2", 1)},
		{"zero counter", nil, dot("n2", 0)},
		{"empty actor", nil, dot("", 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatalf("Update with dot %v and ctx %v did not panic", tc.d, tc.ctx)
				}
			}()
			dvv.Update(o, tc.ctx, dvv.Sibling{Dot: tc.d, Value: []byte("v")})
		})
	}
}

func TestFunctionsNeverModifyTheirArguments(t *testing.T) {
	r := newRand(testSeed(t), 0)
	for range 500 {
		a, b := randObject(r), randObject(r)
		ctx := randVV(r)
		ca, cb, cctx := cloneObject(a), cloneObject(b), copyVV(ctx)
		ctxLen := len(ctx)
		now := randInt64(r)

		dvv.Merge(a, b)
		dvv.Expire(a, now)
		dvv.Live(a, now)
		dvv.Winner(a, now)
		_ = a.Join()
		_ = a.Encode()
		if c, ok := dvv.NextCounter(a, ctx, "n1"); ok {
			dvv.Update(a, ctx, dvv.Sibling{Dot: dot("n1", c), Tombstone: true, Value: []byte("x")})
		}
		if d := sameObject(a, ca); d != "" {
			t.Fatalf("a modified: %s", d)
		}
		if d := sameObject(b, cb); d != "" {
			t.Fatalf("b modified: %s", d)
		}
		if len(ctx) != ctxLen || !ctx.Equal(cctx) {
			t.Fatalf("ctx modified: %v -> %v", cctx, ctx)
		}
		// Results do not share a context map with the arguments: writing to
		// a result's context must not show through.
		m := dvv.Merge(a, b)
		j := a.Join()
		m.Context["zz-probe"] = 1
		j["zz-probe"] = 1
		if _, ok := a.Context["zz-probe"]; ok {
			t.Fatal("Merge or Join result shares its context map with an argument")
		}
		if _, ok := b.Context["zz-probe"]; ok {
			t.Fatal("Merge result shares its context map with an argument")
		}
	}
}

func TestValidateRejectsBrokenInvariants(t *testing.T) {
	ctx := dvv.VV{"n1": 3, "n2": 1}
	for _, tc := range []struct {
		name string
		o    dvv.Object
		ok   bool
	}{
		{"zero object", dvv.Object{}, true},
		{"context only", dvv.Object{Context: ctx}, true},
		{"valid", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n1", 2, 0, "a"), sib("n1", 3, 0, "b"), tomb("n2", 1, 0)}}, true},
		{"dot not covered", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n1", 4, 0, "a")}}, false},
		{"actor not in context", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n3", 1, 0, "a")}}, false},
		{"nil context", dvv.Object{Siblings: []dvv.Sibling{sib("n1", 1, 0, "a")}}, false},
		{"zero counter", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n1", 0, 0, "a")}}, false},
		{"empty actor", dvv.Object{Context: dvv.VV{"": 1}, Siblings: []dvv.Sibling{sib("", 1, 0, "a")}}, false},
		{"duplicate dot", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n1", 2, 0, "a"), sib("n1", 2, 0, "a")}}, false},
		{"unsorted", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{sib("n2", 1, 0, "a"), sib("n1", 2, 0, "b")}}, false},
		{"tombstone with value", dvv.Object{Context: ctx, Siblings: []dvv.Sibling{{Dot: dot("n1", 1), Tombstone: true, Value: []byte("x")}}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.o.Validate()
			if tc.ok && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, dvv.ErrCorrupt) {
				t.Fatalf("Validate = %v, want an error wrapping ErrCorrupt", err)
			}
		})
	}
}

func TestMergeOfDifferingPayloadsUnderOneDotIsCommutative(t *testing.T) {
	// Only corruption or a buggy peer can produce this; Merge must still be
	// commutative and idempotent so replicas converge.
	ctx := dvv.VV{"n1": 1}
	variants := []dvv.Sibling{
		sib("n1", 1, 1, "a"),
		sib("n1", 1, 1, "b"),
		sib("n1", 1, 2, "a"),
		{Dot: dot("n1", 1), Timestamp: 1, Expiry: 5, Value: []byte("a")},
		tomb("n1", 1, 1),
		tomb("n1", 1, 3),
		{Dot: dot("n1", 1), Timestamp: 1, Expiry: 5, Tombstone: true},
	}
	for _, x := range variants {
		for _, y := range variants {
			a := dvv.Object{Context: ctx, Siblings: []dvv.Sibling{x}}
			b := dvv.Object{Context: ctx, Siblings: []dvv.Sibling{y}}
			ab, ba := dvv.Merge(a, b), dvv.Merge(b, a)
			if !dvv.Equal(ab, ba) {
				t.Fatalf("Merge not commutative for %+v / %+v: %+v vs %+v", x, y, ab.Siblings, ba.Siblings)
			}
			if (x.Tombstone || y.Tombstone) && !ab.Siblings[0].Tombstone {
				t.Fatalf("tombstone lost merging %+v / %+v", x, y)
			}
			for _, z := range variants {
				c := dvv.Object{Context: ctx, Siblings: []dvv.Sibling{z}}
				if !dvv.Equal(dvv.Merge(ab, c), dvv.Merge(a, dvv.Merge(b, c))) {
					t.Fatalf("Merge not associative for %+v / %+v / %+v", x, y, z)
				}
			}
		}
	}
}

func TestVersionVectorOperations(t *testing.T) {
	v := dvv.VV{"a": 3, "b": 1, "z": 0}
	w := dvv.VV{"a": 2, "c": 4}
	j := v.Join(w)
	if !j.Equal(dvv.VV{"a": 3, "b": 1, "c": 4}) {
		t.Fatalf("Join = %v", j)
	}
	if !j.Descends(v) || !j.Descends(w) || v.Descends(w) || w.Descends(v) {
		t.Fatal("Descends wrong")
	}
	if !v.Equal(dvv.VV{"a": 3, "b": 1}) || !dvv.VV(nil).Equal(dvv.VV{"x": 0}) {
		t.Fatal("Equal does not treat zero entries as absent")
	}
	for _, tc := range []struct {
		d    dvv.Dot
		want bool
	}{
		{dot("a", 1), true}, {dot("a", 3), true}, {dot("a", 4), false},
		{dot("z", 0), false}, {dot("a", 0), false}, {dot("q", 1), false},
	} {
		if got := v.Covers(tc.d); got != tc.want {
			t.Errorf("Covers(%v) = %v, want %v", tc.d, got, tc.want)
		}
	}
	if dvv.VV(nil).Join(nil) == nil {
		t.Error("Join of nils returned a nil map, which Update would write to")
	}
}
