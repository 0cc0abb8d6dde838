package crdt

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// zs renders a sorted set as "m:score,…" in Redis's order.
func zs(t *testing.T, o Object) string {
	t.Helper()
	ms, err := ZMembers(o, now)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s:%g", m.Member, m.Score))
	}
	return strings.Join(parts, ",")
}

func zadd(n *node, opt ZAddOptions, kv ...any) ZAddResult {
	n.t.Helper()
	var ps []ScoredMember
	for i := 0; i < len(kv); i += 2 {
		ps = append(ps, ScoredMember{Score: kv[i].(float64), Member: []byte(kv[i+1].(string))})
	}
	d, res, err := ZAdd(n.o, n.st(now), opt, ps)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return res
}

func zincr(n *node, m string, by float64) float64 {
	n.t.Helper()
	d, s, err := ZIncrBy(n.o, n.st(now), []byte(m), by)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return s
}

func zrem(n *node, ms ...string) int {
	n.t.Helper()
	var bs [][]byte
	for _, m := range ms {
		bs = append(bs, []byte(m))
	}
	d, out, err := ZRem(n.o, n.st(now), bs)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return len(out)
}

func TestZSetOrderByScoreThenMember(t *testing.T) {
	n := nodes(t, 1)[0]
	if r := zadd(n, ZAddOptions{}, 2.0, "b", 1.0, "z", 2.0, "a", math.Inf(1), "i", math.Inf(-1), "j", 1.0, "z"); r.Added != 5 {
		t.Fatalf("added %d", r.Added)
	}
	if got := zs(t, n.o); got != "j:-Inf,z:1,a:2,b:2,i:+Inf" {
		t.Fatal(got)
	}
	if TypeOf(n.o, now) != KindZSet || KindZSet.String() != "zset" {
		t.Fatal("TYPE")
	}
	if c, _ := ZCard(n.o, now); c != 5 {
		t.Fatal("ZCARD", c)
	}
}

func TestZAddConditionsAndCounts(t *testing.T) {
	n := nodes(t, 1)[0]
	zadd(n, ZAddOptions{}, 5.0, "a")
	for _, c := range []struct {
		opt            ZAddOptions
		score          float64
		added, changed int64
		want           string
	}{
		{ZAddOptions{NX: true}, 7, 0, 0, "a:5"},
		{ZAddOptions{XX: true}, 6, 0, 1, "a:6"},
		{ZAddOptions{GT: true}, 4, 0, 0, "a:6"},
		{ZAddOptions{GT: true}, 8, 0, 1, "a:8"},
		{ZAddOptions{LT: true}, 9, 0, 0, "a:8"},
		{ZAddOptions{LT: true}, 1, 0, 1, "a:1"},
		{ZAddOptions{}, 1, 0, 0, "a:1"}, // unchanged: no write
	} {
		r := zadd(n, c.opt, c.score, "a")
		if r.Added != c.added || r.Changed != c.changed || zs(t, n.o) != c.want {
			t.Fatalf("%+v %v: %+v %s", c.opt, c.score, r, zs(t, n.o))
		}
	}
	if r := zadd(n, ZAddOptions{XX: true}, 1.0, "new"); r.Added != 0 || zs(t, n.o) != "a:1" {
		t.Fatal("XX added a member")
	}
	if r := zadd(n, ZAddOptions{GT: true}, 1.0, "new"); r.Added != 1 {
		t.Fatal("GT refused a new member")
	}
	// INCR: the new score, or not applied.
	if r := zadd(n, ZAddOptions{Incr: true}, 2.5, "a"); !r.Applied || r.Score != 3.5 {
		t.Fatalf("INCR %+v", r)
	}
	if r := zadd(n, ZAddOptions{Incr: true, GT: true}, -1.0, "a"); r.Applied {
		t.Fatalf("INCR GT %+v", r)
	}
	if r := zadd(n, ZAddOptions{Incr: true, NX: true}, 1.0, "a"); r.Applied {
		t.Fatalf("INCR NX %+v", r)
	}
	// A repeated member is applied in turn.
	if r := zadd(n, ZAddOptions{CH: true}, 1.0, "r", 2.0, "r"); r.Added != 1 || r.Changed != 2 || zs(t, n.o) != "a:3.5,new:1,r:2" && zs(t, n.o) != "new:1,r:2,a:3.5" {
		t.Fatalf("%+v %s", r, zs(t, n.o))
	}
}

func TestZIncrByNaNAndWrongType(t *testing.T) {
	n := nodes(t, 1)[0]
	zadd(n, ZAddOptions{}, math.Inf(1), "a")
	if _, _, err := ZIncrBy(n.o, n.st(now), []byte("a"), math.Inf(-1)); !errors.Is(err, ErrScoreNaN) {
		t.Fatal(err)
	}
	set(n, "x")
	if _, _, err := ZAdd(n.o, n.st(now), ZAddOptions{}, []ScoredMember{{Member: []byte("a")}}); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
	if _, err := ZMembers(n.o, now); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
}

// Concurrent ZINCRBYs on every replica add up, on top of the ZADD they
// observed.
func TestZIncrByFromEveryReplicaAddsUp(t *testing.T) {
	ns := nodes(t, 3)
	zadd(ns[0], ZAddOptions{}, 10.0, "m")
	sync(ns...)
	for i, n := range ns {
		for range i + 1 {
			zincr(n, "m", 1.5)
		}
	}
	zincr(ns[2], "fresh", 2)
	zincr(ns[1], "fresh", 3)
	sync(ns...)
	if got := zs(t, ns[0].o); got != "fresh:5,m:19" {
		t.Fatal(got)
	}
}

// A ZADD supersedes the increments it observed; increments concurrent with
// it apply on top; of concurrent ZADDs the latest wins.
func TestZAddSupersedesObservedIncrementsLatestWins(t *testing.T) {
	ns := nodes(t, 3)
	zadd(ns[0], ZAddOptions{}, 1.0, "m")
	zincr(ns[0], "m", 100)
	sync(ns...)
	zincr(ns[1], "m", 7)                 // concurrent with the ZADDs below
	zadd(ns[0], ZAddOptions{}, 3.0, "m") // observed the +100
	zadd(ns[2], ZAddOptions{}, 5.0, "m") // later: wins
	sync(ns...)
	if got := zs(t, ns[0].o); got != "m:12" {
		t.Fatal(got)
	}
	// Sequentially, a ZADD replaces everything.
	zadd(ns[0], ZAddOptions{}, 2.0, "m")
	if got := zs(t, ns[0].o); got != "m:2" {
		t.Fatal(got)
	}
}

// An add (ZADD or ZINCRBY) wins over a concurrent ZREM; ZREM removes only
// what it observed.
func TestZSetAddWinsOverConcurrentRemove(t *testing.T) {
	ns := nodes(t, 2)
	zadd(ns[0], ZAddOptions{}, 1.0, "a", 2.0, "b", 3.0, "c")
	sync(ns...)
	if zrem(ns[1], "a", "b", "nope") != 2 {
		t.Fatal("ZREM count")
	}
	zadd(ns[0], ZAddOptions{}, 9.0, "a")
	zincr(ns[0], "b", 4)
	sync(ns...)
	if got := zs(t, ns[0].o); got != "c:3,b:4,a:9" {
		t.Fatal(got)
	}
	// A removed member's later ZINCRBY counts from zero.
	zrem(ns[0], "b")
	if s := zincr(ns[0], "b", 1); s != 1 {
		t.Fatal("ZINCRBY after ZREM", s)
	}
	zrem(ns[0], "a", "b", "c")
	if Live(ns[0].o, now) || !Tombstone(ns[0].o, now) {
		t.Fatal("empty sorted set still live")
	}
}

// A SET or DEL supersedes a sorted set it observed; a concurrent one of
// another type survives until the next write.
func TestZSetWithOtherTypes(t *testing.T) {
	ns := nodes(t, 2)
	zadd(ns[0], ZAddOptions{}, 1.0, "a")
	sync(ns...)
	d, _ := Del(ns[1].o, ns[1].st(now))
	ns[1].apply(d)
	zincr(ns[0], "a", 1) // concurrent with the DEL: survives alone
	sync(ns...)
	if got := zs(t, ns[0].o); got != "a:1" {
		t.Fatal(got)
	}
	set(ns[0], "v")
	if TypeOf(ns[0].o, now) != KindString || zsetKind(ns[0].o, now).ok {
		t.Fatalf("SET left the sorted set: %v", ns[0].o.zset)
	}
	got, err := Decode(ns[0].o.Encode())
	if err != nil || !Equal(got, ns[0].o) {
		t.Fatal(err)
	}
}

func TestZSetEncodingRoundTripsAndRejectsBadScores(t *testing.T) {
	n := nodes(t, 1)[0]
	zadd(n, ZAddOptions{}, 1.5, "a", -2.0, "b")
	zincr(n, "a", 1)
	b := n.o.Encode()
	got, err := Decode(b)
	if err != nil || !Equal(got, n.o) || zs(t, got) != "b:-2,a:2.5" {
		t.Fatal(err)
	}
	bad := n.o
	bad.zset = append([]field(nil), bad.zset...)
	bad.zset[0].v.regs = []reg{{dot: bad.zset[0].v.regs[0].dot, val: []byte("x")}}
	if _, err := Decode(bad.Encode()); !errors.Is(err, ErrCorrupt) {
		t.Fatal("bad score decoded:", err)
	}
}

// The simulation's sorted-set operations: integer scores, so float sums
// are exact and the model compares by equality.

func opZAdd(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	m, v := names[s.r.IntN(len(names))], int64(s.r.IntN(20))
	d, _, ok := must(ZAdd(r.o, st, ZAddOptions{}, []ScoredMember{{Member: []byte(m), Score: float64(v)}}))
	return d, opRec{kind: "zadd", name: m, by: v}, ok
}

func opZIncr(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	m, by := names[s.r.IntN(len(names))], int64(s.r.IntN(9)-2)
	d, _, ok := must(ZIncrBy(r.o, st, []byte(m), float64(by)))
	return d, opRec{kind: "zincr", name: m, by: by}, ok
}

func opZRem(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	m := names[s.r.IntN(len(names))]
	d, _, ok := must(ZRem(r.o, st, [][]byte{[]byte(m)}))
	return d, opRec{kind: "zrem", name: m}, ok
}

// The model: a member's ZADDs that no later ZADD, ZREM or DEL observed are
// live, the latest (by timestamp) is its register; its ZINCRBYs that no
// ZADD, ZREM or DEL observed add up on top of it. It exists if either is
// non-empty.
func TestPropertyZSetConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		o := s.run(40, []opFn{opZAdd, opZIncr, opZIncr, opZRem, opDel})
		want := map[string]float64{}
		for _, m := range names {
			supersedes := func(b opRec) bool {
				return b.kind == "del" || b.name == m && (b.kind == "zadd" || b.kind == "zrem")
			}
			var reg *opRec
			var sum int64
			any := false
			for i, a := range s.log {
				if a.name != m || s.removedBy(a, supersedes) {
					continue
				}
				switch a.kind {
				case "zadd":
					if reg == nil || a.ts > reg.ts {
						reg = &s.log[i]
					}
				case "zincr":
					sum += a.by
					any = true
				}
			}
			switch {
			case reg != nil:
				want[m] = float64(reg.by + sum)
			case any:
				want[m] = float64(sum)
			}
		}
		ms, err := ZMembers(o, s.now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]float64{}
		for _, x := range ms {
			got[string(x.Member)] = x.Score
		}
		if !maps.Equal(got, want) {
			t.Fatalf("ZRANGE = %v, model %v", got, want)
		}
		s.checkAlgebra(50)
	})
}

// Deltas and states in any order (not causally), some twice, with writes
// of other types: replicas converge and the merge laws hold.
func TestPropertyZSetAnyOrderConverges(t *testing.T) {
	forEachSim(t, 150, func(s *sim) {
		s.run(40, []opFn{opZAdd, opZIncr, opZRem, opDel})
		s.checkAlgebra(30)
	})
	forEachSim(t, 150, func(s *sim) {
		s.run(40, []opFn{opZAdd, opZIncr, opZRem, opSet, opHSet, opSAdd, opIncr})
		s.checkAlgebra(30)
	})
}

// The sweeper's Collect of an expired sorted set records its increments:
// a ZINCRBY after it counts from zero on every replica.
func TestZSetCollectRecordsIncrements(t *testing.T) {
	ns := nodes(t, 2)
	zadd(ns[0], ZAddOptions{}, 1.0, "a")
	zincr(ns[0], "a", 5)
	d, _ := Expire(ns[0].o, ns[0].st(now), now+10, ExpireAlways)
	ns[0].apply(d)
	sync(ns...)
	swept, changed := Collect(ns[1].o, now+10)
	if !changed || Live(swept, now+10) {
		t.Fatal("Collect left the expired sorted set")
	}
	ns[1].o = swept
	d, s, err := ZIncrBy(ns[1].o, ns[1].st(now+10), []byte("a"), 1)
	if err != nil || s != 1 {
		t.Fatalf("ZINCRBY after the sweep = %v %v", s, err)
	}
	ns[1].apply(d)
	ns[0].o = Merge(ns[0].o, ns[1].o)
	if got := zsView(ns[0].o, now+10); got != "a:1" {
		t.Fatal(got)
	}
}

func zsView(o Object, at int64) string {
	ms, err := ZMembers(o, at)
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s:%g", m.Member, m.Score))
	}
	return strings.Join(parts, ",")
}

// Sorted-set writes, expiries and sweeps, time advancing, deltas in any
// order: after all deliveries (and, after a sweep, an exchange of whole
// states) every replica reads the same sorted set.
func TestPropertyZSetExpiryAndSweepsConverge(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.run(50, []opFn{opZAdd, opZIncr, opZIncr, opZRem, opDel, opExpire, opPersist, opTick, opTick})
		if s.swept {
			var all Object
			for _, r := range s.reps {
				all = Merge(all, r.o)
			}
			for _, r := range s.reps {
				r.o = Merge(r.o, all)
			}
		}
		for i := 1; i < 3; i++ {
			a := fmt.Sprint(zsView(s.reps[0].o, s.now), TTL(s.reps[0].o, s.now))
			b := fmt.Sprint(zsView(s.reps[i].o, s.now), TTL(s.reps[i].o, s.now))
			if a != b {
				t.Fatalf("replicas read differently:\n%s\n%s", a, b)
			}
		}
		s.checkAlgebra(30)
	})
}

// After a removal an actor's increments count from zero exactly (no
// running totals subtracted), infinite scores and increments are kept
// (and encode), and an increment concurrent with a removal adds only
// what the removal did not see.
func TestZIncrByExactAfterRemovalAndInfinite(t *testing.T) {
	ns := nodes(t, 2)
	zincr(ns[0], "a", 0.1)
	zincr(ns[0], "a", 0.2)
	d, _ := Del(ns[0].o, ns[0].st(now))
	ns[0].apply(d)
	if s := zincr(ns[0], "a", 0.1); s != 0.1 {
		t.Fatalf("ZINCRBY 0.1 after DEL = %v", s)
	}
	zrem(ns[0], "a")
	x, y := 0.2, 0.1
	zincr(ns[0], "a", x)
	if s := zincr(ns[0], "a", y); s != x+y { // float64 arithmetic, as Redis

		t.Fatalf("ZINCRBY after ZREM = %v", s)
	}
	zadd(ns[0], ZAddOptions{}, math.MaxFloat64, "big")
	if s := zincr(ns[0], "big", math.MaxFloat64); !math.IsInf(s, 1) {
		t.Fatalf("overflowing ZINCRBY = %v", s)
	}
	if s := zincr(ns[0], "i", math.Inf(-1)); !math.IsInf(s, -1) {
		t.Fatalf("ZINCRBY -inf = %v", s)
	}
	got, err := Decode(ns[0].o.Encode())
	if err != nil || !Equal(got, ns[0].o) {
		t.Fatalf("round trip: %v", err)
	}
	// Concurrent with a ZREM that saw +1: the +2 made meanwhile counts.
	sync(ns...)
	zincr(ns[0], "c", 1)
	sync(ns...)
	zrem(ns[1], "c")
	zincr(ns[0], "c", 2)
	sync(ns...)
	if s, ok, _ := ZScore(ns[0].o, now, []byte("c")); !ok || s != 2 {
		t.Fatalf("increment concurrent with ZREM: %v %v", s, ok)
	}
}

// Sequential ZINCRBYs of one coordinator on a ZADD's score compute in
// Redis's order ((s+a)+b, not s+(a+b)); an increment of another actor
// makes the score the sum again.
func TestZIncrByRedisOrder(t *testing.T) {
	ns := nodes(t, 2)
	s0, a, b := 1.1, 2.2, 3.3
	zadd(ns[0], ZAddOptions{}, s0, "m")
	zincr(ns[0], "m", a)
	if got := zincr(ns[0], "m", b); got != (s0+a)+b {
		t.Fatalf("ZINCRBY chain = %v, want %v", got, (s0+a)+b)
	}
	sync(ns...)
	c := 0.5
	if got := zincr(ns[1], "m", c); got != ((s0+a)+b)+c {
		t.Fatalf("ZINCRBY of another node = %v", got)
	}
	if got, _, _ := ZScore(ns[1].o, now, []byte("m")); got != s0+((a+b)+c) && got != s0+(a+b)+c {
		t.Fatalf("score with two actors' increments = %v", got)
	}
}

// benchZSet is a sorted set of n members, each with a score register (the
// first 100 also with a ZINCRBY entry), and the next free counter of
// actor node-1.
func benchZSet(b *testing.B, n int) (Object, uint64) {
	var ps []ScoredMember
	for i := range n {
		ps = append(ps, ScoredMember{Member: []byte(fmt.Sprintf("member:%d", i)), Score: float64(i)})
	}
	o := Object{}
	d, _, err := ZAdd(o, Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: 1}, Now: 1}, ZAddOptions{}, ps)
	if err != nil {
		b.Fatal(err)
	}
	o = Merge(o, d)
	c := Top(o, "node-1") + 1
	for i := range min(n, 100) {
		d, _, _ := ZIncrBy(o, Stamp{Dot: dvv.Dot{Actor: "node-2", Counter: c}, Now: 1}, ps[i].Member, 1)
		o = Merge(o, d)
		c++
	}
	return o, c
}

// BenchmarkZAdd: one ZADD and one ZINCRBY of an existing member (the
// delta: constant size), and a full ZRANGE (ZMembers: O(n log n)), on
// sorted sets of 10 to 10,000 members.
func BenchmarkZAdd(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		o, c := benchZSet(b, n)
		b.Run(fmt.Sprintf("elems=%d/zadd", n), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for i := 0; b.Loop(); i++ {
				st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: c + uint64(i)}, Now: 1}
				d, _, _ := ZAdd(o, st, ZAddOptions{}, []ScoredMember{{Member: []byte("member:5"), Score: -1}})
				size = len(d.Encode())
			}
			b.ReportMetric(float64(size), "bytes/delta")
		})
		b.Run(fmt.Sprintf("elems=%d/zincrby", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: c + uint64(i)}, Now: 1}
				_, _, _ = ZIncrBy(o, st, []byte("member:5"), 1)
			}
		})
		b.Run(fmt.Sprintf("elems=%d/zrange", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ZMembers(o, 1)
			}
		})
	}
}
