package crdt

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/replica/dvv"
)

// The simulation: three replicas of one key, each the coordinator of its
// own actor. An operation runs as a mutator on its coordinator's state and
// is applied there; its delta (or, at random, the coordinator's whole
// state) is queued for each other replica. Messages are delivered in random
// order, some twice. Each replica also tracks the set of operation ids it
// has seen (through any message), which is the ground truth of what an
// operation observed: the models below compute the intended state from
// that log alone, independently of Merge.

// opFn runs one operation on a replica's state and returns its delta and a
// log record for the model; ok false means the command wrote nothing.
type opFn func(s *sim, r *replica, st Stamp) (d Object, rec opRec, ok bool)

// opRec is one operation as the model sees it.
type opRec struct {
	id       int
	kind     string // "set", "del", "incr", "hset", "hdel", "hincr", "sadd", "srem"
	name     string // field or member
	val      string
	by       int64
	ts       int64
	observed map[int]bool // ids its coordinator had seen
}

type replica struct {
	actor string
	o     Object
	known map[int]bool
}

type message struct {
	to    int
	o     Object
	known map[int]bool
	needs map[int]bool // for a delta, what its operation observed
}

type sim struct {
	t      *testing.T
	r      *rand.Rand
	reps   []*replica
	queue  []message
	log    []opRec
	clock  uint64
	now    int64
	states []Object // every state and delta seen, for the algebra checks
	causal bool     // deliver a delta only after what its operation observed
	swept  bool     // a replica ran Collect
}

func newSim(t *testing.T, r *rand.Rand) *sim {
	s := &sim{t: t, r: r, clock: 100, now: 1000}
	for i := range 3 {
		s.reps = append(s.reps, &replica{actor: fmt.Sprintf("n%d", i+1), known: map[int]bool{}})
	}
	return s
}

// do runs op on replica i.
func (s *sim) do(i int, op opFn) {
	rep := s.reps[i]
	s.clock++
	st := Stamp{Dot: dvv.Dot{Actor: rep.actor, Counter: s.clock}, Now: s.now, Nanos: int64(s.clock)}
	before := rep.o.Encode()
	d, rec, ok := op(s, rep, st)
	if rec.kind != "tick" && string(rep.o.Encode()) != string(before) {
		s.t.Fatalf("a mutator modified its input object")
	}
	if !ok {
		return
	}
	if top := Top(d, rep.actor); top > s.clock {
		s.clock = top
	}
	if err := d.Validate(); err != nil {
		s.t.Fatalf("delta of %s invalid: %v", rec.kind, err)
	}
	rec.id = len(s.log) + 1
	rec.ts = st.Nanos
	rec.observed = maps.Clone(rep.known)
	s.log = append(s.log, rec)
	rep.o = Merge(rep.o, d)
	rep.known[rec.id] = true
	s.states = append(s.states, d, rep.o)
	for j := range s.reps {
		if j == i {
			continue
		}
		if s.r.IntN(4) == 0 {
			s.queue = append(s.queue, message{to: j, o: rep.o, known: maps.Clone(rep.known)})
		} else {
			s.queue = append(s.queue, message{to: j, o: d, known: map[int]bool{rec.id: true}, needs: rec.observed})
		}
	}
}

// deliver delivers one random queued message (keeping it queued, to be
// delivered again, one time in five).
func (s *sim) deliver() {
	if len(s.queue) == 0 {
		return
	}
	k := s.r.IntN(len(s.queue))
	if s.causal {
		// The delta-merging condition of the delta-CRDT paper (§6): a delta
		// joins a replica that has seen its operation's causal past.
		var ready []int
		for i, m := range s.queue {
			if m.needs == nil || subset(m.needs, s.reps[m.to].known) {
				ready = append(ready, i)
			}
		}
		if len(ready) == 0 {
			s.t.Fatal("no deliverable message")
		}
		k = ready[s.r.IntN(len(ready))]
	}
	m := s.queue[k]
	if s.r.IntN(5) != 0 {
		s.queue = slices.Delete(s.queue, k, k+1)
	}
	s.recv(m)
}

func subset(a, b map[int]bool) bool {
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func (s *sim) recv(m message) {
	rep := s.reps[m.to]
	ea, eb := rep.o.Encode(), m.o.Encode()
	next := Merge(rep.o, m.o)
	if string(rep.o.Encode()) != string(ea) || string(m.o.Encode()) != string(eb) {
		s.t.Fatalf("Merge modified its input")
	}
	rep.o = next
	maps.Copy(rep.known, m.known)
	s.states = append(s.states, rep.o)
}

// run performs n random operations from ops interleaved with deliveries,
// then delivers everything (in random order) and checks convergence.
func (s *sim) run(n int, ops []opFn) Object {
	for range n {
		if s.r.IntN(2) == 0 {
			s.do(s.r.IntN(3), ops[s.r.IntN(len(ops))])
		}
		for range s.r.IntN(3) {
			s.deliver()
		}
	}
	for len(s.queue) > 0 {
		s.deliver()
	}
	// Replicas that got only deltas converge without a full exchange (but
	// a sweep is local: then only reads must agree, checked by the caller).
	for i := 1; i < 3 && !s.swept; i++ {
		if !Equal(s.reps[0].o, s.reps[i].o) {
			s.t.Fatalf("replicas diverge after all deliveries:\n%s\n%s", dump(s.reps[0].o), dump(s.reps[i].o))
		}
	}
	for _, rep := range s.reps {
		if err := rep.o.Validate(); err != nil {
			s.t.Fatal(err)
		}
		got, err := Decode(rep.o.Encode())
		if err != nil || !Equal(got, rep.o) {
			s.t.Fatalf("round trip: %v", err)
		}
	}
	return s.reps[0].o
}

// removedBy reports whether op a was observed by a later op satisfying pred.
func (s *sim) removedBy(a opRec, pred func(b opRec) bool) bool {
	for _, b := range s.log {
		if b.observed[a.id] && pred(b) {
			return true
		}
	}
	return false
}

func dump(o Object) string {
	return fmt.Sprintf("ctx=%v cloud=%v str=%+v exp=%+v hash=%+v set=%+v zset=%+v", o.ctx.vv, o.ctx.cloud, o.str, o.exp, o.hash, o.set, o.zset)
}

// checkAlgebra checks that Merge is commutative, associative and idempotent
// on random states of the simulation (all of one key's history).
func (s *sim) checkAlgebra(n int) {
	if len(s.states) == 0 { // NB: a run whose every operation was refused
		return
	}
	pick := func() Object { return s.states[s.r.IntN(len(s.states))] }
	for range n {
		a, b, c := pick(), pick(), pick()
		if !Equal(Merge(a, b), Merge(b, a)) {
			s.t.Fatalf("not commutative:\n%s\n%s", dump(a), dump(b))
		}
		if !Equal(Merge(Merge(a, b), c), Merge(a, Merge(b, c))) {
			s.t.Fatalf("not associative:\n%s\n%s\n%s", dump(a), dump(b), dump(c))
		}
		if !Equal(Merge(a, a), a) {
			s.t.Fatalf("not idempotent:\n%s", dump(a))
		}
		if m := Merge(a, b); !Equal(Merge(m, a), m) {
			s.t.Fatalf("merge does not absorb its input")
		}
	}
}

func must[T any](d Object, v T, err error) (Object, T, bool) {
	return d, v, err == nil && !d.IsZero()
}

// The operations.

var names = []string{"a", "b", "c"}

func opSet(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	v := fmt.Sprint(s.r.IntN(100))
	d, _, err := Set(r.o, st, []byte(v), SetOptions{})
	if err != nil {
		return Object{}, opRec{}, false
	}
	return d, opRec{kind: "set", val: v}, true
}

func opDel(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, ok := Del(r.o, st)
	return d, opRec{kind: "del"}, ok
}

func opIncr(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	by := int64(s.r.IntN(11) - 3)
	d, _, err := IncrBy(r.o, st, by)
	if err != nil {
		return Object{}, opRec{}, false
	}
	return d, opRec{kind: "incr", by: by}, true
}

func opHSet(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	f, v := names[s.r.IntN(len(names))], fmt.Sprint("v", s.clock)
	d, _, ok := must(HSet(r.o, st, []FieldValue{{Field: []byte(f), Value: []byte(v)}}))
	return d, opRec{kind: "hset", name: f, val: v}, ok
}

func opHDel(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	f := names[s.r.IntN(len(names))]
	if s.r.IntN(2) == 0 {
		f = "c" + f
	}
	d, _, ok := must(HDel(r.o, st, [][]byte{[]byte(f)}))
	return d, opRec{kind: "hdel", name: f}, ok
}

func opHIncr(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	f, by := "c"+names[s.r.IntN(len(names))], int64(s.r.IntN(9)-2)
	d, _, ok := must(HIncrBy(r.o, st, []byte(f), by))
	return d, opRec{kind: "hincr", name: f, by: by}, ok
}

func opSAdd(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	m := names[s.r.IntN(len(names))]
	d, _, ok := must(SAdd(r.o, st, [][]byte{[]byte(m)}))
	return d, opRec{kind: "sadd", name: m}, ok
}

func opSRem(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	m := names[s.r.IntN(len(names))]
	d, _, ok := must(SRem(r.o, st, [][]byte{[]byte(m)}))
	return d, opRec{kind: "srem", name: m}, ok
}

// forEachSim runs n seeded simulations.
func forEachSim(t *testing.T, n int, fn func(s *sim)) {
	seed := testseed.Seed(t)
	for i := range n {
		s := newSim(t, rand.New(rand.NewPCG(seed, uint64(i))))
		fn(s)
	}
}

func TestPropertyStringConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		o := s.run(30, []opFn{opSet, opSet, opDel})
		// Model: the SETs no later write observed are the siblings; a plain
		// read returns the latest.
		var live []opRec
		for _, a := range s.log {
			if a.kind == "set" && !s.removedBy(a, func(opRec) bool { return true }) {
				live = append(live, a)
			}
		}
		sibs, err := Siblings(o, s.now)
		if err != nil || len(sibs) != len(live) {
			t.Fatalf("siblings %v, model %v", sibs, live)
		}
		got, ok, _ := Get(o, s.now)
		if ok != (len(live) > 0) || ok && string(got) != live[len(live)-1].val {
			t.Fatalf("GET = %q %v, model %v", got, ok, live)
		}
		s.checkAlgebra(50)
	})
}

func TestPropertyCounterConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		s.do(0, func(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
			d, _, _ := Set(r.o, st, []byte("10"), SetOptions{})
			return d, opRec{kind: "set", val: "10"}, true
		})
		o := s.run(40, []opFn{opIncr, opIncr, opIncr, opDel})
		// Model: the base and every increment count unless a DEL observed
		// them.
		isDel := func(b opRec) bool { return b.kind == "del" }
		var want int64
		exists := false
		for _, a := range s.log {
			switch {
			case a.kind == "set" && !s.removedBy(a, isDel):
				want += 10
				exists = true
			case a.kind == "incr" && !s.removedBy(a, isDel):
				want += a.by
				exists = true
			}
		}
		got, ok, _ := Get(o, s.now)
		if ok != exists || ok && string(got) != fmt.Sprint(want) {
			t.Fatalf("GET = %q %v, model %d %v", got, ok, want, exists)
		}
		s.checkAlgebra(50)
	})
}

func TestPropertyHashConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		o := s.run(40, []opFn{opHSet, opHSet, opHDel, opHIncr, opHIncr})
		want := map[string]string{}
		for _, f := range names {
			// Register fields: HSETs no later HSET/HDEL of the field
			// observed; the latest is read.
			var latest *opRec
			for i, a := range s.log {
				if a.kind == "hset" && a.name == f && !s.removedBy(a, func(b opRec) bool { return b.name == f }) {
					latest = &s.log[i]
				}
			}
			if latest != nil {
				want[f] = latest.val
			}
			// Counter fields: increments no HDEL observed add up.
			cf := "c" + f
			var sum int64
			any := false
			for _, a := range s.log {
				if a.kind == "hincr" && a.name == cf && !s.removedBy(a, func(b opRec) bool { return b.kind == "hdel" && b.name == cf }) {
					sum += a.by
					any = true
				}
			}
			if any {
				want[cf] = fmt.Sprint(sum)
			}
		}
		fv, err := HGetAll(o, s.now)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, x := range fv {
			got[string(x.Field)] = string(x.Value)
		}
		if !maps.Equal(got, want) {
			t.Fatalf("HGETALL = %v, model %v", got, want)
		}
		s.checkAlgebra(50)
	})
}

func TestPropertySetConvergesToModel(t *testing.T) {
	forEachSim(t, 200, func(s *sim) {
		s.causal = true
		o := s.run(40, []opFn{opSAdd, opSAdd, opSRem})
		var want []string
		for _, m := range names {
			for _, a := range s.log {
				if a.kind == "sadd" && a.name == m && !s.removedBy(a, func(b opRec) bool { return b.kind == "srem" && b.name == m }) {
					want = append(want, m)
					break
				}
			}
		}
		ms, err := Members(o, s.now)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, string(m))
		}
		if !slices.Equal(got, want) {
			t.Fatalf("SMEMBERS = %v, model %v", got, want)
		}
		s.checkAlgebra(50)
	})
}

// Writes of every type on one key, deltas delivered in any order (not
// causally), some twice: replicas converge, the algebra holds.
func TestPropertyMixedTypesConverge(t *testing.T) {
	forEachSim(t, 300, func(s *sim) {
		s.run(40, []opFn{opSet, opDel, opIncr, opHSet, opHDel, opHIncr, opSAdd, opSRem})
		s.checkAlgebra(80)
	})
}

func opExpire(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, ok := Expire(r.o, st, s.now+int64(s.r.IntN(40)), ExpireCond(s.r.IntN(5)))
	return d, opRec{kind: "expire"}, ok
}

func opPersist(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	d, ok := Persist(r.o, st)
	return d, opRec{kind: "persist"}, ok
}

func opHExpire(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	f := names[s.r.IntN(len(names))]
	d, _, ok := must(HExpire(r.o, st, s.now+int64(s.r.IntN(40)), ExpireAlways, [][]byte{[]byte(f)}))
	return d, opRec{kind: "hexpire"}, ok
}

func opHPersist(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	f := names[s.r.IntN(len(names))]
	d, _, ok := must(HPersist(r.o, st, [][]byte{[]byte(f)}))
	return d, opRec{kind: "hpersist"}, ok
}

// opTick advances the clock and lets the replica's sweeper collect what
// expired (no message: every replica collects on its own).
func opTick(s *sim, r *replica, st Stamp) (Object, opRec, bool) {
	s.now += int64(s.r.IntN(10))
	var changed bool
	r.o, changed = Collect(r.o, s.now)
	s.swept = s.swept || changed
	s.states = append(s.states, r.o)
	return Object{}, opRec{kind: "tick"}, false
}

// readView renders what a client reads from o.
func readView(o Object, now int64) string {
	k := TypeOf(o, now)
	v, _, _ := Get(o, now)
	h, _ := HGetAll(o, now)
	m, _ := Members(o, now)
	return fmt.Sprintf("%v %q %q %q ttl=%d", k, v, h, m, TTL(o, now))
}

// Writes, expiries and sweeps of every type on one key, time advancing,
// deltas in any order: after all deliveries every replica reads the same,
// and the merged states agree.
func TestPropertyExpiryAndSweepsConverge(t *testing.T) {
	forEachSim(t, 300, func(s *sim) {
		s.run(50, []opFn{opSet, opIncr, opHSet, opHDel, opHIncr, opSAdd, opSRem, opDel,
			opExpire, opPersist, opHExpire, opHPersist, opTick, opTick})
		if s.swept {
			// A sweep's effect travels in whole states (read repair,
			// anti-entropy): exchange them.
			var all Object
			for _, r := range s.reps {
				all = Merge(all, r.o)
			}
			for _, r := range s.reps {
				r.o = Merge(r.o, all)
			}
		}
		for i := 1; i < 3; i++ {
			if a, b := readView(s.reps[0].o, s.now), readView(s.reps[i].o, s.now); a != b {
				t.Fatalf("replicas read differently:\n%s\n%s", a, b)
			}
		}
		s.checkAlgebra(40)
	})
}

// Each type alone, deltas in any order: replicas converge.
func TestPropertyAnyOrderConverges(t *testing.T) {
	for _, ops := range [][]opFn{{opSet, opDel}, {opIncr, opDel}, {opHSet, opHDel, opHIncr}, {opSAdd, opSRem}} {
		forEachSim(t, 100, func(s *sim) {
			s.run(40, ops)
			s.checkAlgebra(30)
		})
	}
}
