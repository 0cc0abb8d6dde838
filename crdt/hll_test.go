package crdt

import (
	"bytes"
	"errors"
	"strconv"
	"testing"

	"github.com/dynakv/dynakv/internal/hll"
)

func opPFAdd(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	var elems [][]byte
	for range 1 + s.r.IntN(20) {
		elems = append(elems, []byte(strconv.Itoa(s.r.IntN(2000))))
	}
	d, _, err := PFAdd(r.o, st, elems)
	ok := err == nil && !d.IsZero()
	rec := opRec{kind: "pfadd"}
	for _, e := range elems {
		rec.val += string(e) + " "
	}
	return d, rec, ok
}

func opPFCount(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, _, err := PFCount(r.o, st)
	return d, opRec{kind: "pfcount"}, err == nil && !d.IsZero()
}

func opPFMergeSelf(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	var regs hll.Regs
	if b, ok, err := HLLValue(r.o, st.Now); err != nil || ok && hll.MaxInto(&regs, b) != nil {
		return Object{}, opRec{}, false
	}
	d, err := PFMerge(r.o, st, &regs, s.r.IntN(4) == 0)
	return d, opRec{kind: "pfmerge"}, err == nil
}

func opAppendHLL(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, _, err := Append(r.o, st, []byte("x"))
	return d, opRec{kind: "append"}, err == nil
}

// PFADD, PFCOUNT (cache refresh) and PFMERGE on three replicas, deltas and
// whole states in any order: the replicas converge to the HLL of the union
// of every element added, and its count is Redis's count for that union
// (hll.Add of all elements into one HLL, which TestBytesMatchRedis
// checks against redis-server).
func TestPropertyHLLConvergesToUnion(t *testing.T) {
	forEachSim(t, 150, func(s *sim) {
		o := s.run(40, []opFn{opPFAdd, opPFAdd, opPFAdd, opPFCount, opPFMergeSelf})
		var all [][]byte
		for _, a := range s.log {
			if a.kind == "pfadd" {
				for _, e := range bytes.Fields([]byte(a.val)) {
					all = append(all, e)
				}
			}
		}
		if len(all) == 0 {
			return
		}
		want, _, _ := hll.Add(hll.New(), all)
		wantN, _, _ := hll.Count(want)
		got, ok, err := HLLValue(o, s.now)
		if err != nil || !ok {
			t.Fatalf("HLLValue: %v %v", ok, err)
		}
		var gr, wr hll.Regs
		if err := hll.MaxInto(&gr, got); err != nil {
			t.Fatal(err)
		}
		hll.MaxInto(&wr, want)
		if gr != wr {
			t.Fatalf("registers differ from the union's")
		}
		n, _, err := HLLCount(o, s.now)
		if err != nil || n != wantN {
			t.Fatalf("PFCOUNT %d (%v), union %d", n, err, wantN)
		}
		if TypeOf(o, s.now) != KindHLL || TypeOf(o, s.now).String() != "string" {
			t.Fatalf("type %v", TypeOf(o, s.now))
		}
		s.checkAlgebra(40)
	})
}

// HLL writes mixed with SET, DEL, APPEND, SADD on one key, delivered in
// any order: replicas converge and Merge's laws hold.
func TestPropertyHLLMixedConverges(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.run(40, []opFn{opPFAdd, opPFAdd, opPFCount, opPFMergeSelf, opSet, opDel, opAppendHLL, opSAdd, opIncr})
		s.checkAlgebra(60)
	})
}

func TestHLLRules(t *testing.T) {
	ns := nodes(t, 2)
	a, b := ns[0], ns[1]
	// A new key: created, reply 1; the bytes are Redis's.
	d, ch, err := PFAdd(a.o, a.st(now), [][]byte{[]byte("x")})
	if err != nil || !ch {
		t.Fatal(ch, err)
	}
	a.apply(d)
	want, _, _ := hll.Add(hll.New(), [][]byte{[]byte("x")})
	if got, _, _ := Get(a.o, now); !bytes.Equal(got, want) {
		t.Fatalf("GET = %x, want %x", got, want)
	}
	// Adding it again changes nothing: no write.
	if d, ch, _ := PFAdd(a.o, a.st(now), [][]byte{[]byte("x")}); ch || !d.IsZero() {
		t.Fatal("PFADD of a present element wrote")
	}
	// PFCOUNT caches; then no write.
	d, n, _ := PFCount(a.o, a.st(now))
	if n != 1 || d.IsZero() {
		t.Fatalf("PFCOUNT %d, delta zero %v", n, d.IsZero())
	}
	a.apply(d)
	if c, ok := hll.Cached(a.o.hllBytes()); !ok || c != 1 {
		t.Fatal("cache not written")
	}
	if d, _, _ := PFCount(a.o, a.st(now)); !d.IsZero() {
		t.Fatal("PFCOUNT with a valid cache wrote")
	}
	// Concurrent PFADDs on two nodes: both kept, read as their union.
	b.o = a.o
	da, _, _ := PFAdd(a.o, a.st(now), [][]byte{[]byte("y")})
	db, _, _ := PFAdd(b.o, b.st(now), [][]byte{[]byte("z")})
	a.apply(da)
	a.apply(db)
	if len(a.o.hll) != 2 {
		t.Fatalf("%d entries, want 2", len(a.o.hll))
	}
	if n, _, _ := HLLCount(a.o, now); n != 3 {
		t.Fatalf("count %d, want 3", n)
	}
	// A DEL concurrent with a PFADD: the PFADD survives.
	b.o = a.o
	dd, _ := Del(a.o, a.st(now))
	dp, _, _ := PFAdd(b.o, b.st(now), [][]byte{[]byte("w")})
	a.apply(dd)
	a.apply(dp)
	if n, _, _ := HLLCount(a.o, now); n != 4 {
		t.Fatalf("after DEL ∥ PFADD count %d, want 4", n)
	}
	// APPEND turns it into a plain string of its bytes plus the suffix.
	cur, _, _ := Get(a.o, now)
	d, _, err = Append(a.o, a.st(now), []byte("!"))
	if err != nil {
		t.Fatal(err)
	}
	a.apply(d)
	if got, _, _ := Get(a.o, now); !bytes.Equal(got, append(append([]byte{}, cur...), '!')) || TypeOf(a.o, now) != KindString {
		t.Fatal("APPEND on an HLL")
	}
	// A plain string is not an HLL.
	c := &node{t: t, actor: "C"}
	d, _, _ = Set(c.o, c.st(now), []byte("abc"), SetOptions{})
	c.apply(d)
	if _, _, err := PFAdd(c.o, c.st(now), [][]byte{[]byte("x")}); !errors.Is(err, ErrNotHLL) {
		t.Fatalf("PFADD on a plain string: %v", err)
	}
	f := &node{t: t, actor: "F"}
	d, _, _ = SAdd(f.o, f.st(now), [][]byte{[]byte("m")})
	f.apply(d)
	if _, _, err := PFAdd(f.o, f.st(now), nil); !errors.Is(err, ErrWrongType) {
		t.Fatalf("PFADD on a set: %v", err)
	}
	// SET of HLL bytes, then PFADD: works, as in Redis.
	e := &node{t: t, actor: "E"}
	d, _, _ = Set(e.o, e.st(now), want, SetOptions{})
	e.apply(d)
	d, ch, err = PFAdd(e.o, e.st(now), [][]byte{[]byte("y")})
	if err != nil || !ch {
		t.Fatal(ch, err)
	}
	e.apply(d)
	want2, _, _ := hll.Add(want, [][]byte{[]byte("y")})
	if got, _, _ := Get(e.o, now); !bytes.Equal(got, want2) || len(e.o.str.regs) != 0 {
		t.Fatalf("SET then PFADD: %x", got)
	}
	// Round trip through the encoding.
	if o2, err := Decode(e.o.Encode()); err != nil || !Equal(o2, e.o) {
		t.Fatalf("round trip: %v", err)
	}
}

func TestRewrite(t *testing.T) {
	n := &node{t: t, actor: "R"}
	d, err := Rewrite(n.o, n.st(now), func(cur []byte, ok bool) ([]byte, bool, error) {
		if ok || cur != nil {
			t.Fatal("a missing key read as present")
		}
		return []byte{0x80}, true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	n.apply(d)
	d, _ = Expire(n.o, n.st(now), now+5000, ExpireAlways)
	n.apply(d)
	d, _ = Rewrite(n.o, n.st(now), func(cur []byte, ok bool) ([]byte, bool, error) {
		return append(cur, 1), true, nil
	})
	n.apply(d)
	if got, _, _ := Get(n.o, now); string(got) != "\x80\x01" {
		t.Fatalf("value %q", got)
	}
	if at, ok := Expiry(n.o, now); !ok || at != now+5000 {
		t.Fatal("the expiry was not kept")
	}
	if d, _ := Rewrite(n.o, n.st(now), func([]byte, bool) ([]byte, bool, error) { return nil, false, nil }); !d.IsZero() {
		t.Fatal("write false wrote")
	}
	s := &node{t: t, actor: "S"}
	d, _, _ = SAdd(s.o, s.st(now), [][]byte{[]byte("m")})
	s.apply(d)
	if _, err := Rewrite(s.o, s.st(now), func([]byte, bool) ([]byte, bool, error) { return nil, true, nil }); !errors.Is(err, ErrWrongType) {
		t.Fatalf("on a set: %v", err)
	}
}

// TestHLLConflictWithOtherTypes: a PFADD concurrent with an HSET (or SADD)
// on another node: both survive the merge, TYPE shows the one with the
// later dot, and the next write of either type resolves the conflict.
func TestHLLConflictWithOtherTypes(t *testing.T) {
	ns := nodes(t, 2)
	a, b := ns[0], ns[1]
	d, _, _ := HSet(b.o, b.st(now), []FieldValue{{Field: []byte("f1"), Value: []byte("v")}})
	b.apply(d)
	d, _, _ = HSet(b.o, b.st(now), []FieldValue{{Field: []byte("f0"), Value: []byte("v")}})
	b.apply(d)
	dp, _, _ := PFAdd(a.o, a.st(now), [][]byte{[]byte("x")}) // later than both HSETs
	a.apply(dp)
	m := Merge(a.o, b.o)
	if TypeOf(m, now) != KindHLL {
		t.Fatalf("type %v, want the later write's (hll)", TypeOf(m, now))
	}
	if _, _, err := HSet(m, b.st(now), []FieldValue{{Field: []byte("f2"), Value: []byte("v")}}); !errors.Is(err, ErrWrongType) {
		t.Fatalf("HSET on a key reading as an HLL: %v", err)
	}
	// A later HSET on b (b has not seen the PFADD) wins the type.
	d, _, _ = HSet(b.o, b.st(now), []FieldValue{{Field: []byte("f3"), Value: []byte("v")}})
	b.apply(d)
	m = Merge(a.o, b.o)
	if TypeOf(m, now) != KindHash {
		t.Fatalf("type %v, want hash", TypeOf(m, now))
	}
	if _, _, err := PFAdd(m, a.st(now), [][]byte{[]byte("y")}); !errors.Is(err, ErrWrongType) {
		t.Fatalf("PFADD on a key reading as a hash: %v", err)
	}
	d, _, _ = HSet(m, a.st(now), []FieldValue{{Field: []byte("f4"), Value: []byte("v")}})
	m = Merge(m, d)
	if len(m.hll) != 0 || TypeOf(m, now) != KindHash {
		t.Fatal("the next HSET did not resolve the conflict")
	}
}
