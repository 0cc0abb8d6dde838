package crdt

import (
	"bytes"
	"cmp"
	"math"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Kind is the Redis type of a key's dot store.
type Kind uint8

// The kinds. Counters are strings to Redis (TYPE says "string"), and so
// are HyperLogLogs (KindHLL, hll.go).
const (
	KindNone Kind = iota
	KindString
	KindHash
	KindSet
	KindZSet
	KindList
	KindHLL
)

// String returns the name Redis's TYPE command gives the kind.
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindHash:
		return "hash"
	case KindSet:
		return "set"
	case KindZSet:
		return "zset"
	case KindList:
		return "list"
	case KindHLL:
		return "string"
	}
	return "none"
}

// Register flags.
const (
	regTombstone = 1 << iota // a delete (or an expired legacy value): no value
	regBase                  // a value converted into the base of a counter
)

// reg is one dotted register value: a string sibling (dvv.Sibling's fields)
// or a hash field's value. A base register counts as a number in its
// counter, not as a string.
type reg struct {
	dot   dvv.Dot
	ts    int64 // coordinator wall clock, Unix ns (LWW reads only)
	exp   int64 // legacy per-sibling expiry, Unix ms (dvv format); 0: none
	flags uint8
	val   []byte
}

// rank orders the states one dot can go through: value < base < tombstone.
func (r reg) rank() int {
	switch {
	case r.flags&regTombstone != 0:
		return 2
	case r.flags&regBase != 0:
		return 1
	}
	return 0
}

func (r reg) live(now int64) bool {
	return r.flags&regTombstone == 0 && (r.exp == 0 || r.exp > now)
}

// ctr is an actor's counter entry: its latest dot and running totals since
// it began (increments and decrements apart, so each only grows; integer
// totals wrap modulo 2⁶⁴, which the difference survives).
type ctr struct {
	dot        dvv.Dot
	inc, dec   uint64
	finc, fdec float64
}

// after reports whether x is a later entry of the same actor than y.
func (x ctr) after(y ctr) bool { return x.dot.Counter > y.dot.Counter }

// value is a register-and-counter: the content of a string key or a hash
// field. recs holds, per actor, the counter entry a remove observed (the
// latest one by dot): the actor's later entries count only past it
// (observed-remove for counters whose entries are running totals).
type value struct {
	regs []reg // sorted by dot
	ctrs []ctr // sorted by dot; at most one per actor once merged
	recs []ctr // sorted by actor; one per actor
}

func (v value) empty() bool { return len(v.regs) == 0 && len(v.ctrs) == 0 && len(v.recs) == 0 }

// expiry is one dotted entry of an expiry register: at is the absolute
// deadline in Unix ms, 0 for PERSIST.
type expiry struct {
	dot dvv.Dot
	at  int64
}

// field is one hash field: its value and its own expiry register.
type field struct {
	name string
	v    value
	exp  []expiry
}

// member is one set member and the dots of the adds that made it.
type member struct {
	name string
	dots []dvv.Dot
}

// Object is the state of one key (or a delta of it): a causal context and
// a dot store per type, normally of one type only. Objects are immutable
// values: nothing here modifies an Object after it is returned. The zero
// Object is a key never written.
type Object struct {
	ctx  context
	str  value      // string or counter
	exp  []expiry   // the key's expiry register
	hash []field    // sorted by name
	set  []member   // sorted by name
	zset []field    // sorted by name; see zset.go (no field expiry)
	list []item     // sorted by position (list.go)
	hll  []hllEntry // sorted by dot (hll.go)
}

// IsZero reports whether o records no history at all.
func (o Object) IsZero() bool {
	return o.ctx.empty() && o.str.empty() && len(o.exp) == 0 && len(o.hash) == 0 && len(o.set) == 0 && len(o.zset) == 0 && len(o.list) == 0 && len(o.hll) == 0
}

// Context returns the version-vector part of o's causal context (the VGET
// token's content). Events known only individually (from deltas not yet
// joined by a full state) are left out, so a token never claims more than
// its prefix.
func (o Object) Context() dvv.VV { return o.ctx.vv.Join(nil) }

// CausalOnly returns o's causal context alone, without its content: an
// Object whose Context equals o's, sharing o's (immutable) context rather
// than copying it, so a caller can keep a write's context (WAIT's write
// marks) without keeping its values alive.
func (o Object) CausalOnly() Object { return Object{ctx: o.ctx} }

// joinDots is the causal join of two dot-sorted stores (Almeida et al. 2018,
// §5 "dot stores"): an entry survives if both sides hold it, or if the other
// side has not seen its dot. same picks between two entries with one dot.
func joinDots[T any](a, b []T, actx, bctx context, dot func(*T) dvv.Dot, same func(x, y T) T) []T {
	// NB: the common cases of a replica's merge (an entry on one side only,
	// not superseded) share the input instead of copying it.
	if len(b) == 0 && !anyCovered(a, bctx, dot) {
		return a
	}
	if len(a) == 0 && !anyCovered(b, actx, dot) {
		return b
	}
	var out []T
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var c int
		switch {
		case i == len(a):
			c = 1
		case j == len(b):
			c = -1
		default:
			c = dot(&a[i]).Compare(dot(&b[j]))
		}
		switch {
		case c == 0:
			out = append(out, same(a[i], b[j]))
			i++
			j++
		case c < 0:
			if !bctx.covers(dot(&a[i])) {
				out = append(out, a[i])
			}
			i++
		default:
			if !actx.covers(dot(&b[j])) {
				out = append(out, b[j])
			}
			j++
		}
	}
	return out
}

func anyCovered[T any](xs []T, ctx context, dot func(*T) dvv.Dot) bool {
	for i := range xs {
		if ctx.covers(dot(&xs[i])) {
			return true
		}
	}
	return false
}

func regDot(r *reg) dvv.Dot     { return r.dot }
func ctrDot(c *ctr) dvv.Dot     { return c.dot }
func expDot(e *expiry) dvv.Dot  { return e.dot }
func dotDot(d *dvv.Dot) dvv.Dot { return *d }

// sameReg picks between two registers under one dot: the later state
// (value < base < tombstone); differing payloads of one state, which only
// corruption produces, by the smaller encoding, to stay commutative.
func sameReg(x, y reg) reg {
	if x.rank() != y.rank() {
		if y.rank() > x.rank() {
			return y
		}
		return x
	}
	if x.ts == y.ts && x.exp == y.exp && bytes.Equal(x.val, y.val) {
		return x
	}
	if bytes.Compare(appendReg(nil, y), appendReg(nil, x)) < 0 {
		return y
	}
	return x
}

// maxCtr picks between two entries of one actor: the later dot, and for one
// dot (normally equal payloads) the larger totals, field by field.
func maxCtr(x, y ctr) ctr {
	if x.dot != y.dot {
		if y.after(x) {
			return y
		}
		return x
	}
	return ctr{dot: x.dot, inc: max(x.inc, y.inc), dec: max(x.dec, y.dec), finc: fmax(x.finc, y.finc), fdec: fmax(x.fdec, y.fdec)}
}

func fmax(a, b float64) float64 {
	if math.IsNaN(a) {
		return b
	}
	return max(a, b)
}

func sameExp(x, y expiry) expiry {
	if y.at > x.at {
		return y
	}
	return x
}

func sameDot(x, _ dvv.Dot) dvv.Dot { return x }

// mergeValue joins two values under their objects' contexts.
func mergeValue(a, b value, actx, bctx context) value {
	out := value{
		regs: joinDots(a.regs, b.regs, actx, bctx, regDot, sameReg),
		ctrs: joinDots(a.ctrs, b.ctrs, actx, bctx, ctrDot, maxCtr),
	}
	// Records: per actor, the later one.
	i, j := 0, 0
	for i < len(a.recs) || j < len(b.recs) {
		switch {
		case j == len(b.recs) || i < len(a.recs) && a.recs[i].dot.Actor < b.recs[j].dot.Actor:
			out.recs = append(out.recs, a.recs[i])
			i++
		case i == len(a.recs) || a.recs[i].dot.Actor > b.recs[j].dot.Actor:
			out.recs = append(out.recs, b.recs[j])
			j++
		default:
			out.recs = append(out.recs, maxCtr(a.recs[i], b.recs[j]))
			i++
			j++
		}
	}
	// An entry a record has passed was removed (normally already gone by
	// the dot rule; this keeps the invariant on any input).
	if len(out.recs) > 0 && len(out.ctrs) > 0 {
		passed := func(c ctr) bool {
			r, ok := out.rec(c.dot.Actor)
			return ok && !c.after(r)
		}
		if slices.ContainsFunc(out.ctrs, passed) {
			// NB: a copy: out.ctrs may share an input's array.
			out.ctrs = slices.DeleteFunc(slices.Clone(out.ctrs), passed)
		}
	}
	return out
}

// rec returns the record of actor.
func (v value) rec(actor string) (ctr, bool) {
	i, ok := slices.BinarySearchFunc(v.recs, actor, func(r ctr, a string) int { return cmp.Compare(r.dot.Actor, a) })
	if !ok {
		return ctr{}, false
	}
	return v.recs[i], true
}

// Merge returns the join of two objects or deltas of one key: commutative,
// associative and idempotent. Every store joins by the dot rule under the
// two contexts; counter records and expiry registers as described in
// doc.go. Neither argument is modified.
func Merge(a, b Object) Object {
	out := Object{ctx: joinCtx(a.ctx, b.ctx)}
	out.str = mergeValue(a.str, b.str, a.ctx, b.ctx)
	out.exp = joinDots(a.exp, b.exp, a.ctx, b.ctx, expDot, sameExp)
	out.hash = mergeFields(a.hash, b.hash, a.ctx, b.ctx)
	out.set = mergeMembers(a.set, b.set, a.ctx, b.ctx)
	out.zset = mergeFields(a.zset, b.zset, a.ctx, b.ctx)
	out.list = mergeItems(a.list, b.list, a.ctx, b.ctx)
	out.hll = joinDots(a.hll, b.hll, a.ctx, b.ctx, hllDot, sameHLL)
	return out
}

// keptField reports whether the join leaves f, present on one side only,
// exactly as it is: the other side's context covers none of its dots, and
// no counter entry is behind its actor's record (Validate's invariant,
// which mergeValue restores on any input).
func keptField(f field, other *coverer) bool {
	if f.v.empty() && len(f.exp) == 0 {
		return false
	}
	if anyCoveredBy(f.v.regs, other, regDot) || anyCoveredBy(f.v.ctrs, other, ctrDot) || anyCoveredBy(f.exp, other, expDot) {
		return false
	}
	if len(f.v.recs) > 0 {
		for _, c := range f.v.ctrs {
			if r, ok := f.v.rec(c.dot.Actor); ok && !c.after(r) {
				return false
			}
		}
	}
	return true
}

// keptMember reports whether the join leaves m, present on one side only,
// exactly as it is: the other side's context covers none of its dots.
func keptMember(m member, other *coverer) bool {
	return len(m.dots) > 0 && !anyCoveredBy(m.dots, other, dotDot)
}

// NB (mergeFields, mergeMembers): a delta touches a few elements of a big
// object; the runs of elements on one side only that the other side's
// context leaves alone are copied whole (keptField, keptMember), so that
// joining a small delta into a big object costs a coverage check per
// element and one copy (BenchmarkLargeObject's merge-delta).

func mergeFields(a, b []field, actx, bctx context) []field {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make([]field, 0, len(a)+len(b))
	i, j := 0, 0
	acv, bcv := newCoverer(actx), newCoverer(bctx)
	for i < len(a) || j < len(b) {
		if k := i; j == len(b) || i < len(a) && a[i].name < b[j].name {
			for k < len(a) && (j == len(b) || a[k].name < b[j].name) && keptField(a[k], &bcv) {
				k++
			}
			out, i = append(out, a[i:k]...), k
		} else if k := j; i == len(a) || a[i].name > b[j].name {
			for k < len(b) && (i == len(a) || b[k].name < a[i].name) && keptField(b[k], &acv) {
				k++
			}
			out, j = append(out, b[j:k]...), k
		}
		if i == len(a) && j == len(b) {
			break
		}
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
	if len(out) == 0 {
		return nil
	}
	return out
}

func mergeMembers(a, b []member, actx, bctx context) []member {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make([]member, 0, len(a)+len(b))
	i, j := 0, 0
	acv, bcv := newCoverer(actx), newCoverer(bctx)
	for i < len(a) || j < len(b) {
		if k := i; j == len(b) || i < len(a) && a[i].name < b[j].name {
			for k < len(a) && (j == len(b) || a[k].name < b[j].name) && keptMember(a[k], &bcv) {
				k++
			}
			out, i = append(out, a[i:k]...), k
		} else if k := j; i == len(a) || a[i].name > b[j].name {
			for k < len(b) && (i == len(a) || b[k].name < a[i].name) && keptMember(b[k], &acv) {
				k++
			}
			out, j = append(out, b[j:k]...), k
		}
		if i == len(a) && j == len(b) {
			break
		}
		var m member
		switch {
		case j == len(b) || i < len(a) && a[i].name < b[j].name:
			m = member{name: a[i].name, dots: joinDots(a[i].dots, nil, actx, bctx, dotDot, sameDot)}
			i++
		case i == len(a) || a[i].name > b[j].name:
			m = member{name: b[j].name, dots: joinDots(nil, b[j].dots, actx, bctx, dotDot, sameDot)}
			j++
		case slices.Equal(a[i].dots, b[j].dots):
			m = a[i]
			i++
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
	if len(out) == 0 {
		return nil
	}
	return out
}

// Equal reports whether a and b are the same state (equal canonical
// encodings).
func Equal(a, b Object) bool { return bytes.Equal(a.Encode(), b.Encode()) }
