package dvv_test

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// The simulation: 3–5 actors, each with its own replica of one key. Clients
// write through any actor with a context read earlier from any replica
// (possibly stale, possibly empty); replicas exchange objects in random
// directions; replicas expire values at a shared clock. A ground-truth log
// of every write and the context it was made with lets the tests compute,
// independently of Merge, which writes must survive.

// loggedWrite is one write as the ground truth records it.
type loggedWrite struct {
	sib dvv.Sibling
	ctx map[string]uint64 // the client's context, deep-copied
}

// simHooks are the checks a test hangs on the simulation.
type simHooks struct {
	afterWrite  func(s *sim, before dvv.Object, ctx dvv.VV, w dvv.Sibling, after dvv.Object)
	afterMerge  func(s *sim, a, b, m dvv.Object)
	afterExpire func(s *sim, before dvv.Object, now int64, after dvv.Object, changed bool)
	atEnd       func(s *sim) // after the final all-to-all exchange
}

type sim struct {
	t      *testing.T
	r      *rand.Rand
	label  string // seed and simulation index, for failure messages
	hooks  simHooks
	actors []string
	reps   []dvv.Object
	pool   []dvv.VV     // contexts clients have read (stale ones included)
	past   []dvv.Object // earlier replica states, for associativity checks
	writes []loggedWrite
	nowMs  int64
	step   int
	stats  *simStats
}

// simStats shows in the log that the simulations exercise something.
type simStats struct {
	writes, survivors, maxSiblings, mergeDrops int
}

func (s *sim) fatalf(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s step %d: %s", s.label, s.step, fmt.Sprintf(format, args...))
}

func (s *sim) remember(o dvv.Object) {
	const keep = 48
	if len(s.past) < keep {
		s.past = append(s.past, o)
	} else {
		s.past[s.r.IntN(keep)] = o
	}
}

func (s *sim) read(i int) dvv.VV {
	const keep = 48
	ctx := s.reps[i].Join()
	if len(s.pool) < keep {
		s.pool = append(s.pool, ctx)
	} else {
		s.pool[s.r.IntN(keep)] = ctx
	}
	return ctx
}

// clientContext picks the context a client sends with a write through
// replica i.
func (s *sim) clientContext(i int) dvv.VV {
	switch p := s.r.IntN(100); {
	case p < 15:
		return nil // blind VSET
	case p < 20:
		return dvv.VV{}
	case p < 45 && len(s.pool) > 0:
		return s.pool[s.r.IntN(len(s.pool))] // read earlier, maybe stale
	case p < 70:
		return s.read(i) // plain SET/DEL: the coordinator's own context
	default:
		return s.read(s.r.IntN(len(s.reps))) // VGET from some replica
	}
}

func (s *sim) doWrite() {
	i := s.r.IntN(len(s.reps))
	actor := s.actors[i]
	ctx := s.clientContext(i)
	before := s.reps[i]
	c, ok := dvv.NextCounter(before, ctx, actor)
	if !ok {
		s.fatalf("NextCounter exhausted")
	}
	w := dvv.Sibling{
		Dot:       dvv.Dot{Actor: actor, Counter: c},
		Timestamp: s.nowMs*1e6 + int64(s.r.IntN(3)), // ties happen
	}
	if s.r.IntN(4) == 0 {
		w.Expiry = s.nowMs + 1 + int64(s.r.IntN(300))
	}
	if s.r.IntN(6) == 0 {
		w.Tombstone = true
	} else {
		w.Value = fmt.Appendf(nil, "%s:%d@%d", actor, c, s.step)
	}
	s.writes = append(s.writes, loggedWrite{sib: w, ctx: maps.Clone(map[string]uint64(copyVV(ctx)))})
	after := dvv.Update(before, ctx, w)
	s.reps[i] = after
	if s.hooks.afterWrite != nil {
		s.hooks.afterWrite(s, before, ctx, w, after)
	}
}

func (s *sim) doMerge() {
	i, j := s.r.IntN(len(s.reps)), s.r.IntN(len(s.reps))
	a, b := s.reps[i], s.reps[j]
	m := dvv.Merge(a, b)
	if s.hooks.afterMerge != nil {
		s.hooks.afterMerge(s, a, b, m)
	}
	union := len(a.Siblings)
	for _, x := range b.Siblings {
		if !hasDot(a, x.Dot) {
			union++
		}
	}
	s.stats.mergeDrops += union - len(m.Siblings)
	s.reps[i] = m
	if s.r.IntN(2) == 0 { // a two-way exchange
		s.reps[j] = dvv.Merge(b, a)
	}
}

func (s *sim) doExpire() {
	i := s.r.IntN(len(s.reps))
	now := s.nowMs - int64(s.r.IntN(20)) // replica clocks are a little skewed
	before := s.reps[i]
	after, changed := dvv.Expire(before, now)
	if s.hooks.afterExpire != nil {
		s.hooks.afterExpire(s, before, now, after, changed)
	}
	s.reps[i] = after
}

func (s *sim) validateAll(what string) {
	s.t.Helper()
	for i, o := range s.reps {
		if err := o.Validate(); err != nil {
			s.fatalf("after %s, replica %s does not validate: %v\n%s", what, s.actors[i], err, describe(o))
		}
	}
}

// converge runs the final all-to-all exchange: every replica receives every
// other replica's object, in its own random order.
func (s *sim) converge() {
	snap := slices.Clone(s.reps)
	for i := range s.reps {
		acc := snap[i]
		for _, j := range s.r.Perm(len(snap)) {
			acc = dvv.Merge(acc, snap[j])
		}
		s.reps[i] = acc
	}
}

// runSims runs n simulations of the given number of steps each, derived
// from the test's seed.
func runSims(t *testing.T, n, steps int, hooks simHooks) {
	seed := testSeed(t)
	stats := &simStats{}
	defer func() {
		t.Logf("%d simulations: %d writes, %d survived to the converged state, up to %d siblings, %d siblings dropped by merges (superseded elsewhere)",
			n, stats.writes, stats.survivors, stats.maxSiblings, stats.mergeDrops)
	}()
	for k := range n {
		r := newRand(seed, uint64(k))
		nActors := 3 + r.IntN(3)
		s := &sim{
			t:     t,
			r:     r,
			label: fmt.Sprintf("seed %d sim %d", seed, k),
			hooks: hooks,
			reps:  make([]dvv.Object, nActors),
			stats: stats,
		}
		for a := range nActors {
			s.actors = append(s.actors, fmt.Sprintf("n%d", a+1))
		}
		for s.step = 0; s.step < steps; s.step++ {
			s.nowMs += int64(r.IntN(15))
			var what string
			switch p := r.IntN(100); {
			case p < 45:
				what = "write"
				s.doWrite()
			case p < 85:
				what = "merge"
				s.doMerge()
			case p < 95:
				what = "expire"
				s.doExpire()
			default:
				what = "read"
				s.read(r.IntN(nActors))
			}
			s.validateAll(what)
			for _, o := range s.reps {
				stats.maxSiblings = max(stats.maxSiblings, len(o.Siblings))
			}
			if r.IntN(4) == 0 {
				s.remember(s.reps[r.IntN(nActors)])
			}
		}
		s.converge()
		s.validateAll("final exchange")
		stats.writes += len(s.writes)
		stats.survivors += len(s.reps[0].Siblings)
		if hooks.atEnd != nil {
			hooks.atEnd(s)
		}
	}
}

const (
	simCount = 250
	simSteps = 400
)

func TestPropertyEveryObjectValidatesAfterEveryStep(t *testing.T) {
	// runSims validates every replica after every step; the hooks also
	// validate every intermediate result.
	runSims(t, simCount, simSteps, simHooks{
		afterWrite: func(s *sim, _ dvv.Object, _ dvv.VV, _ dvv.Sibling, after dvv.Object) {
			if err := after.Validate(); err != nil {
				s.fatalf("Update result: %v", err)
			}
		},
		afterMerge: func(s *sim, _, _, m dvv.Object) {
			if err := m.Validate(); err != nil {
				s.fatalf("Merge result: %v", err)
			}
		},
		afterExpire: func(s *sim, _ dvv.Object, _ int64, after dvv.Object, _ bool) {
			if err := after.Validate(); err != nil {
				s.fatalf("Expire result: %v", err)
			}
		},
	})
}

func TestPropertyUpdateSupersedesExactlyWhatTheClientContextCovers(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		afterWrite: func(s *sim, before dvv.Object, ctx dvv.VV, w dvv.Sibling, after dvv.Object) {
			want := []dvv.Dot{}
			for _, old := range before.Siblings {
				if !covers(ctx, old.Dot) {
					want = append(want, old.Dot)
				}
			}
			want = append(want, w.Dot)
			slices.SortFunc(want, dvv.Dot.Compare)
			if got := dots(after); !slices.Equal(got, want) {
				s.fatalf("Update(%s, ctx %v, %v): siblings %v, want %v", describe(before), ctx, w.Dot, got, want)
			}
			if got, _ := findDot(after, w.Dot); sameSibling(got, w) != "" {
				s.fatalf("new sibling stored as %+v, written %+v", got, w)
			}
			if !after.Context.Equal(before.Context.Join(ctx).Join(dvv.VV{w.Dot.Actor: w.Dot.Counter})) {
				s.fatalf("context after write = %v", after.Context)
			}
		},
	})
}

func TestPropertyMergeIsCommutativeAssociativeIdempotent(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		afterMerge: func(s *sim, a, b, m dvv.Object) {
			if ba := dvv.Merge(b, a); !dvv.Equal(m, ba) {
				s.fatalf("not commutative:\n a=%s\n b=%s\n ab=%s\n ba=%s", describe(a), describe(b), describe(m), describe(ba))
			}
			if !dvv.Equal(dvv.Merge(a, a), a) {
				s.fatalf("Merge(a, a) != a for %s", describe(a))
			}
			if !dvv.Equal(dvv.Merge(m, a), m) || !dvv.Equal(dvv.Merge(m, b), m) {
				s.fatalf("merging an input again changed the result")
			}
			cs := []dvv.Object{s.reps[s.r.IntN(len(s.reps))]}
			if len(s.past) > 0 {
				cs = append(cs, s.past[s.r.IntN(len(s.past))])
			}
			for _, c := range cs {
				l, r := dvv.Merge(m, c), dvv.Merge(a, dvv.Merge(b, c))
				if !dvv.Equal(l, r) {
					s.fatalf("not associative:\n a=%s\n b=%s\n c=%s\n (ab)c=%s\n a(bc)=%s",
						describe(a), describe(b), describe(c), describe(l), describe(r))
				}
			}
		},
	})
}

func TestPropertyMergeDropsSiblingsSupersededOnTheOtherSide(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		afterMerge: func(s *sim, a, b, m dvv.Object) {
			check := func(x, y dvv.Object) {
				for _, sx := range x.Siblings {
					superseded := covers(y.Context, sx.Dot) && !hasDot(y, sx.Dot)
					if got := hasDot(m, sx.Dot); got == superseded {
						s.fatalf("sibling %v (superseded on other side: %v) survives merge: %v\n x=%s\n y=%s\n m=%s",
							sx.Dot, superseded, got, describe(x), describe(y), describe(m))
					}
				}
			}
			check(a, b)
			check(b, a)
			for _, sm := range m.Siblings { // nothing appears from nowhere
				if !hasDot(a, sm.Dot) && !hasDot(b, sm.Dot) {
					s.fatalf("merge invented sibling %v", sm.Dot)
				}
			}
			if !m.Context.Equal(a.Context.Join(b.Context)) {
				s.fatalf("merged context %v is not the join of the inputs'", m.Context)
			}
		},
	})
}

func TestPropertyExpireTombstonesExactlyTheExpiredValues(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		afterExpire: func(s *sim, before dvv.Object, now int64, after dvv.Object, changed bool) {
			want := cloneObject(before)
			any := false
			for i, x := range want.Siblings {
				if !x.Tombstone && x.Expiry != 0 && x.Expiry <= now {
					want.Siblings[i].Tombstone, want.Siblings[i].Value = true, nil
					any = true
				}
			}
			if changed != any {
				s.fatalf("Expire(now=%d) changed=%v, want %v for %s", now, changed, any, describe(before))
			}
			if d := sameObject(after, want); d != "" {
				s.fatalf("Expire(now=%d): %s", now, d)
			}
			if len(dvv.Live(after, now)) != len(dvv.Live(before, now)) {
				s.fatalf("Expire changed what reads return")
			}
		},
	})
}

func TestPropertyReplicasConvergeAfterAllToAllExchange(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		atEnd: func(s *sim) {
			for i := 1; i < len(s.reps); i++ {
				if !dvv.Equal(s.reps[0], s.reps[i]) {
					s.fatalf("replicas %s and %s differ after the exchange:\n%s\n%s",
						s.actors[0], s.actors[i], describe(s.reps[0]), describe(s.reps[i]))
				}
			}
			// Reads agree, too.
			w0, ok0 := dvv.Winner(s.reps[0], s.nowMs)
			for i := 1; i < len(s.reps); i++ {
				if w, ok := dvv.Winner(s.reps[i], s.nowMs); ok != ok0 || w.Dot != w0.Dot {
					s.fatalf("Winner differs between converged replicas")
				}
			}
		},
	})
}

func TestPropertyConvergedSiblingsAreExactlyTheUncoveredWrites(t *testing.T) {
	runSims(t, simCount, simSteps, simHooks{
		atEnd: func(s *sim) {
			// Ground truth: a write survives iff no write's client context
			// covered its dot (only later writes can have seen it).
			var want []dvv.Sibling
			ctx := map[string]uint64{}
			for _, w := range s.writes {
				survives := true
				for _, later := range s.writes {
					if covers(later.ctx, w.sib.Dot) {
						survives = false
						break
					}
				}
				if survives {
					want = append(want, w.sib)
				}
				ctx[w.sib.Dot.Actor] = max(ctx[w.sib.Dot.Actor], w.sib.Dot.Counter)
			}
			slices.SortFunc(want, func(x, y dvv.Sibling) int { return x.Dot.Compare(y.Dot) })

			got := s.reps[0]
			gd := dots(got)
			wd := make([]dvv.Dot, len(want))
			for i, w := range want {
				wd[i] = w.Dot
			}
			if !slices.Equal(gd, wd) {
				s.fatalf("converged siblings %v, ground truth %v (%d writes)", gd, wd, len(s.writes))
			}
			if !got.Context.Equal(dvv.VV(ctx)) {
				s.fatalf("converged context %v, want every write's dot %v", got.Context, ctx)
			}
			// Payloads are the written ones, except values some replica
			// expired (at a time not after now).
			for i, w := range want {
				g := got.Siblings[i]
				if g.Tombstone && !w.Tombstone {
					if w.Expiry == 0 || w.Expiry > s.nowMs {
						s.fatalf("sibling %v became a tombstone without expiring", w.Dot)
					}
					w.Tombstone, w.Value = true, nil
				}
				if d := sameSibling(g, w); d != "" {
					s.fatalf("sibling payload changed: %s", d)
				}
			}
			// Once every replica expires at the final time, tombstones are
			// exactly the deletes and the expired values.
			final, _ := dvv.Expire(got, s.nowMs)
			for i, w := range want {
				wantTomb := w.Tombstone || w.Expiry != 0 && w.Expiry <= s.nowMs
				if final.Siblings[i].Tombstone != wantTomb {
					s.fatalf("sibling %v tombstone=%v, want %v", w.Dot, final.Siblings[i].Tombstone, wantTomb)
				}
			}
		},
	})
}

// TestPropertyMergeOfArbitraryValidObjects checks the algebra on objects
// that no simulation would produce (unrelated histories, the same dot with
// different payloads, huge counters).
func TestPropertyMergeOfArbitraryValidObjects(t *testing.T) {
	r := newRand(testSeed(t), 1)
	for n := range 3000 {
		a, b, c := randObject(r), randObject(r), randObject(r)
		if r.IntN(3) == 0 { // share dots so that same-dot resolution is exercised
			b = dvv.Merge(a, b)
			b, _ = dvv.Expire(b, randInt64(r))
		}
		ab, ba := dvv.Merge(a, b), dvv.Merge(b, a)
		mustValid(t, "Merge", ab)
		if !dvv.Equal(ab, ba) {
			t.Fatalf("case %d: not commutative:\n a=%s\n b=%s", n, describe(a), describe(b))
		}
		if !dvv.Equal(dvv.Merge(a, a), a) || !dvv.Equal(dvv.Merge(ab, a), ab) || !dvv.Equal(dvv.Merge(ab, b), ab) {
			t.Fatalf("case %d: not idempotent", n)
		}
		if !dvv.Equal(dvv.Merge(ab, c), dvv.Merge(a, dvv.Merge(b, c))) {
			t.Fatalf("case %d: not associative", n)
		}
	}
}
