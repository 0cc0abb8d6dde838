package crdt

import (
	"cmp"
	"encoding/binary"
	"errors"
	"math"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Sorted sets (docs/data-types.md: member → (dots, score); add wins; ZINCRBY
// adds up; concurrent ZADD scores: latest wins; ordered by score, then
// member).
//
// The store is Object.zset: member name → a register-and-counter value, as
// a hash field without an expiry register:
//   - ZADD writes a score register (8 bytes, the float64's bits, big
//     endian) under a new dot, superseding the member's registers and
//     counter entries it saw (with records, as HSET does): a ZADD replaces
//     the increments it observed;
//   - ZINCRBY (and ZADD INCR) adds a counter entry of its actor (the sum
//     of its increments since its last removal: see zcontribution) and
//     leaves the score register alone, so concurrent ZINCRBYs add up and
//     an increment concurrent with a ZADD applies on top of it;
//   - ZREM (and every pop and ZREMRANGE*) removes the dots it saw and
//     records the counter entries: a concurrent ZADD or ZINCRBY survives
//     (add wins);
//   - a member's score is the latest of its live registers (timestamp,
//     then dot: last writer wins among concurrent ZADDs) plus every counter
//     entry's contribution past its actor's record. A member with neither
//     does not exist.
//
// Floats: a score is the register plus the increments' sums, except that
// one actor's increments on the one register they were made on read as
// the score its last increment computed (cur+by, Redis's order: ZADD s,
// ZINCRBY a, ZINCRBY b reads (s+a)+b, as Redis). With increments of
// several actors it is s+(a+b)+…, which may differ from a sequential
// Redis in the last bits of non-integral scores. After a removal (ZADD,
// ZREM, DEL) an actor's increments count from zero again, exactly (no
// running totals are subtracted, unlike string counters' KNOWN BUG in
// doc.go), except for an increment made concurrently with the removal.
// Merged concurrent increments of +inf and -inf (which Redis would refuse
// as NaN on one node) read as 0.

// ErrScoreNaN: ZINCRBY or ZADD INCR whose result is not a number.
var ErrScoreNaN = errors.New("crdt: resulting score is not a number (NaN)")

// ScoredMember is a sorted-set member and its score.
type ScoredMember struct {
	Member []byte
	Score  float64
}

func encodeScore(f float64) []byte {
	if f == 0 {
		f = 0 // NB: -0 is stored as 0, as Redis replies it
	}
	return binary.BigEndian.AppendUint64(nil, math.Float64bits(f))
}

func decodeScore(b []byte) float64 {
	if len(b) != 8 {
		return 0 // Validate refuses it; never produced
	}
	return math.Float64frombits(binary.BigEndian.Uint64(b))
}

// zwinner returns v's latest live register (timestamp, then dot).
func zwinner(v value, now int64) (reg, bool) {
	var w reg
	has := false
	for _, r := range v.regs {
		if !r.live(now) {
			continue
		}
		if !has || r.ts > w.ts || r.ts == w.ts && r.dot.Compare(w.dot) > 0 {
			w, has = r, true
		}
	}
	return w, has
}

// zscoreOf returns a member's score (see above) and whether it exists,
// with its latest live dot.
func zscoreOf(v value, now int64) (score float64, ok bool, latest dvv.Dot) {
	w, has := zwinner(v, now)
	nregs := 0
	if has {
		score, ok = decodeScore(w.val), true
		for _, r := range v.regs {
			if r.live(now) {
				nregs++
				if dotLess(latest, r.dot) {
					latest = r.dot
				}
			}
		}
	}
	var only ctr
	n := 0
	for _, c := range v.ctrs {
		f, live := zcontribution(v, c)
		if !live {
			continue
		}
		n++
		only = c
		if dotLess(latest, c.dot) {
			latest = c.dot
		}
		if ok {
			score += f
		} else {
			score, ok = f, true
		}
	}
	// One actor's increments on the one register they were made on: the
	// score its last increment computed, in Redis's order.
	if nregs == 1 && n == 1 && only.fdec != 0 && only.fdec == float64(w.dot.Counter) && zexact(v, only) {
		score = only.finc
	}
	if math.IsNaN(score) {
		score = 0
	}
	if score == 0 {
		score = 0 // no -0
	}
	return score, ok, latest
}

// zsingle reports whether v's score is one live register plus only
// actor's own increments, counted whole: then cur+by is all a later read
// of the new entry on that register must show.
func zsingle(v value, now int64, actor string) bool {
	n := 0
	for _, r := range v.regs {
		if r.live(now) {
			n++
		}
	}
	if n != 1 {
		return false
	}
	for _, c := range v.ctrs {
		if _, live := zcontribution(v, c); live && (c.dot.Actor != actor || !zexact(v, c)) {
			return false
		}
	}
	return true
}

// zexact reports whether entry c's contribution is its whole sum (it
// counts from its actor's record, or there is none).
func zexact(v value, c ctr) bool {
	r, has := v.rec(c.dot.Actor)
	return !has || c.inc >= r.dot.Counter || c.inc != r.inc
}

// zsetKind is TypeOf's entry for the sorted-set store: whether a member
// exists and the latest live dot (computed over every member only when
// another store is non-empty).
func zsetKind(o Object, now int64) struct {
	ok bool
	d  dvv.Dot
	k  Kind
} {
	out := struct {
		ok bool
		d  dvv.Dot
		k  Kind
	}{k: KindZSet}
	alone := !o.str.view(now).ok && len(o.hash) == 0 && len(o.set) == 0 && len(o.list) == 0 && len(o.hll) == 0
	for i := range o.zset {
		_, ok, latest := zscoreOf(o.zset[i].v, now)
		if !ok {
			continue
		}
		out.ok = true
		if dotLess(out.d, latest) {
			out.d = latest
		}
		if alone {
			break
		}
	}
	return out
}

func (o Object) validZSet() error {
	for i, f := range o.zset {
		if i > 0 && o.zset[i-1].name >= f.name {
			return corruptf("zset members not sorted at %d", i)
		}
		if f.v.empty() || len(f.exp) > 0 {
			return corruptf("zset member %d empty or with expiry", i)
		}
		for _, r := range f.v.regs {
			if r.flags != 0 || len(r.val) != 8 || r.exp != 0 {
				return corruptf("zset member %d register", i)
			}
		}
		if err := o.validValue(f.v, "zset member"); err != nil {
			return err
		}
	}
	return nil
}

// putZ adds f to the delta's sorted set (joined by flushZSet, as putField).
func (w *write) putZ(f field) { w.zfields = append(w.zfields, f) }

// flushZSet joins putZ's entries into the delta in one sort and merge.
func (w *write) flushZSet() {
	if len(w.zfields) == 0 {
		return
	}
	fs := w.zfields
	w.zfields = nil
	slices.SortStableFunc(fs, func(x, y field) int { return cmp.Compare(x.name, y.name) })
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].name == f.name {
			out[n-1].v = mergeValue(out[n-1].v, f.v, context{}, context{})
			continue
		}
		out = append(out, f)
	}
	w.d.zset = mergeFields(w.d.zset, out, context{}, context{})
}

// removeZ makes the delta supersede member i of seen (its registers and,
// with records, its counter entries).
func (w *write) removeZ(i int) {
	f := w.seen.zset[i]
	w.dots = f.v.dots(w.dots)
	if r := recsOf(f.v); !r.empty() {
		w.putZ(field{name: f.name, v: r})
	}
}

func (w *write) removeZSet() {
	for i := range w.seen.zset {
		w.removeZ(i)
	}
}

// clearZSet records every counter entry of seen's sorted set (clearAll:
// the delta's full context supersedes the rest). NB: straight into the
// delta, not through putZ: Collect uses the delta without flushing it.
func (w *write) clearZSet() {
	var fs []field
	for _, f := range w.seen.zset {
		if r := recsOf(f.v); !r.empty() {
			fs = append(fs, field{name: f.name, v: r})
		}
	}
	w.d.zset = mergeFields(w.d.zset, fs, context{}, context{})
}

// zsetWrite starts a sorted-set command: the type is checked, other types'
// content superseded.
func zsetWrite(o Object, st Stamp) (*write, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindZSet); err != nil {
		return nil, err
	}
	w.resolve(KindZSet)
	return w, nil
}

// seenZ returns member name as the command sees it.
func (w *write) seenZ(name string) (v value, i int, score float64, live bool) {
	i, found := findField(w.seen.zset, name)
	if !found {
		return value{}, i, 0, false
	}
	v = w.seen.zset[i].v
	score, live, _ = zscoreOf(v, w.st.Now)
	return v, i, score, live
}

// zset replaces member name's content by a score register.
func (w *write) zset(name string, score float64) {
	if _, i, found := w.findSeenZ(name); found {
		w.removeZ(i)
	}
	w.putZ(field{name: name, v: value{regs: []reg{{dot: w.next(), ts: w.st.ts(), val: encodeScore(score)}}}})
}

func (w *write) findSeenZ(name string) (field, int, bool) {
	i, ok := findField(w.seen.zset, name)
	if !ok {
		return field{}, i, false
	}
	return w.seen.zset[i], i, true
}

// zincr adds by to member name as a counter entry of the write's actor:
// its running totals (from its live entry or its record, the later) plus
// by, under a new dot superseding its previous entry. The registers are
// left alone (concurrent ZADDs' siblings are resolved by the next ZADD or
// ZREM of the member).
func (w *write) zincr(name string, v value, cur, by float64) {
	actor := w.st.Dot.Actor
	rec, hasRec := v.rec(actor)
	var last ctr
	hasLast := false
	for _, c := range v.ctrs {
		if c.dot.Actor == actor {
			w.dots = append(w.dots, c.dot)
			if !hasLast || c.after(last) {
				last, hasLast = c, true
			}
		}
	}
	n := ctr{dot: w.next()}
	switch {
	case hasLast && (!hasRec || last.after(rec)):
		n.inc, n.dec = last.inc, math.Float64bits(math.Float64frombits(last.dec)+by)
	case hasRec:
		n.inc, n.dec = rec.dot.Counter, math.Float64bits(by)
	default:
		n.dec = math.Float64bits(by)
	}
	// The score as Redis computes it (cur+by), for a read that finds only
	// this entry on the register it was made on (zscoreOf): finc holds it,
	// fdec that register's counter (both finite and non-zero, as encoded).
	if win, ok := zwinner(v, w.st.Now); ok && zsingle(v, w.st.Now, actor) {
		res := cur + by
		if c := float64(win.dot.Counter); !math.IsInf(res, 0) && !math.IsNaN(res) && c < 1<<53 {
			n.finc, n.fdec = res, c
		}
	}
	w.putZ(field{name: name, v: value{ctrs: []ctr{n}}})
}

// zcontribution returns what a sorted-set counter entry adds to its
// member's score, and false for an entry its actor's record has passed
// (removed). A sorted-set entry is (base, sum): inc holds the counter of
// the record of its actor it counts from (0: from the start), dec the
// float64 bits of the sum of the actor's increments since (any float, ±inf
// included; finc and fdec stay 0). An entry counting from the record
// present (or a later one) adds its sum exactly; one counting from the
// same base as the record (made concurrently with the removal) adds what
// it has beyond the record; a sum of NaN (opposite infinities) adds 0.
func zcontribution(v value, c ctr) (float64, bool) {
	sum := math.Float64frombits(c.dec)
	r, has := v.rec(c.dot.Actor)
	switch {
	case has && !c.after(r):
		return 0, false
	case has && c.inc < r.dot.Counter && c.inc == r.inc:
		sum -= math.Float64frombits(r.dec)
	}
	if math.IsNaN(sum) {
		sum = 0
	}
	return sum, true
}

// ZAddOptions are ZADD's flags (Redis's ZADD NX|XX GT|LT CH INCR); the
// caller has refused the incompatible combinations.
type ZAddOptions struct {
	NX, XX, GT, LT, CH, Incr bool
}

// ZAddResult is what ZADD replies: Added members, Changed (added plus
// updated); with Incr, the member's new Score, or Applied false when a
// condition skipped it (Redis's nil).
type ZAddResult struct {
	Added, Changed int64
	Score          float64
	Applied        bool
}

// ZAdd is ZADD (and ZINCRBY with Incr and one pair): per member, the
// conditions are judged on the coordinator's state as Redis's zsetAdd does
// them; a new score writes a register (superseding the increments seen),
// an INCR a counter entry; an unchanged score writes nothing. A repeated
// member is applied in turn, as Redis does. ErrScoreNaN if an INCR's
// result is NaN; ErrWrongType. The delta is zero if nothing changed.
func ZAdd(o Object, st Stamp, opt ZAddOptions, pairs []ScoredMember) (Object, ZAddResult, error) {
	w, err := zsetWrite(o, st)
	if err != nil {
		return Object{}, ZAddResult{}, err
	}
	var res ZAddResult
	// cur holds the scores as this command has left them: a repeated
	// member is judged against its earlier pairs, then written once.
	type state struct {
		score float64
		live  bool
		dirty bool
	}
	cur := map[string]*state{}
	var order []string
	for _, p := range pairs {
		name := string(p.Member)
		s, ok := cur[name]
		if !ok {
			_, _, sc, live := w.seenZ(name)
			s = &state{score: sc, live: live}
			cur[name] = s
			order = append(order, name)
		}
		score := p.Score
		if s.live {
			if opt.NX {
				continue
			}
			if opt.Incr {
				score = s.score + p.Score
				if math.IsNaN(score) {
					return Object{}, ZAddResult{}, ErrScoreNaN
				}
			}
			if opt.GT && score <= s.score || opt.LT && score >= s.score {
				continue
			}
			res.Score, res.Applied = score, true
			if score == s.score {
				continue
			}
			res.Changed++
		} else {
			if opt.XX {
				continue
			}
			res.Added++
			res.Changed++
			res.Score, res.Applied = score, true
		}
		s.score, s.live, s.dirty = score, true, true
	}
	changed := false
	for _, name := range order {
		s := cur[name]
		if !s.dirty {
			continue
		}
		changed = true
		if opt.Incr {
			v, _, sc, _ := w.seenZ(name)
			w.zincr(name, v, sc, pairs[0].Score)
			d := w.delta()
			res.Score, _, _ = zscoreOf(mergeValue(v, zfield(d.zset, name), w.seen.ctx, d.ctx), st.Now)
			return d, res, nil
		}
		w.zset(name, s.score)
	}
	if !changed {
		return Object{}, res, nil
	}
	return w.delta(), res, nil
}

// zfield returns the value of member name in zs (empty if absent).
func zfield(zs []field, name string) value {
	if i, ok := findField(zs, name); ok {
		return zs[i].v
	}
	return value{}
}

// ZIncrBy is ZINCRBY: the member's new score (a counter entry: concurrent
// increments add up). ErrScoreNaN, ErrWrongType.
func ZIncrBy(o Object, st Stamp, member []byte, by float64) (Object, float64, error) {
	d, res, err := ZAdd(o, st, ZAddOptions{Incr: true}, []ScoredMember{{Member: member, Score: by}})
	return d, res.Score, err
}

// ZRem is ZREM and the removal of ZPOP*, ZMPOP and ZREMRANGE*: it removes
// the members present (observed-remove: a concurrent ZADD or ZINCRBY of
// one survives) and returns them in the given order. The delta is zero if
// none was present.
func ZRem(o Object, st Stamp, members [][]byte) (Object, [][]byte, error) {
	w, err := zsetWrite(o, st)
	if err != nil {
		return Object{}, nil, err
	}
	out := removeDistinct(members, func(name string) bool {
		_, i, _, live := w.seenZ(name)
		if live {
			w.removeZ(i)
		}
		return live
	})
	if len(out) == 0 {
		return Object{}, nil, nil
	}
	return w.delta(), out, nil
}

func (o Object) zsetOK(now int64) (bool, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return false, nil
	case KindZSet:
		return true, nil
	}
	return false, ErrWrongType
}

// ZScore returns member's score at now and whether it exists.
// ErrWrongType if the key holds another type.
func ZScore(o Object, now int64, member []byte) (float64, bool, error) {
	if ok, err := o.zsetOK(now); !ok {
		return 0, false, err
	}
	i, ok := findField(o.zset, string(member))
	if !ok {
		return 0, false, nil
	}
	s, ok, _ := zscoreOf(o.zset[i].v, now)
	return s, ok, nil
}

// ZMembers returns the sorted set at now in Redis's order: by score, then
// member (bytewise). O(n log n). ErrWrongType if the key holds another
// type; nil for a missing key.
func ZMembers(o Object, now int64) ([]ScoredMember, error) {
	if ok, err := o.zsetOK(now); !ok {
		return nil, err
	}
	out := make([]ScoredMember, 0, len(o.zset))
	for i := range o.zset {
		if s, ok, _ := zscoreOf(o.zset[i].v, now); ok {
			out = append(out, ScoredMember{Member: []byte(o.zset[i].name), Score: s})
		}
	}
	// NB: members come sorted by name, so a stable sort by score alone
	// orders ties by member.
	slices.SortStableFunc(out, func(x, y ScoredMember) int { return cmp.Compare(x.Score, y.Score) })
	return out, nil
}

// ZCard returns the number of members at now.
func ZCard(o Object, now int64) (int64, error) {
	if ok, err := o.zsetOK(now); !ok {
		return 0, err
	}
	var n int64
	for i := range o.zset {
		if _, ok, _ := zscoreOf(o.zset[i].v, now); ok {
			n++
		}
	}
	return n, nil
}
