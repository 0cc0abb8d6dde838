package dvv

import (
	"bytes"
	"cmp"
	"slices"
)

// Dot names one write: the actor (node) that coordinated it and the
// counter that actor gave it.
type Dot struct {
	Actor   string
	Counter uint64
}

// Compare orders dots by actor, then counter.
func (d Dot) Compare(o Dot) int {
	if c := cmp.Compare(d.Actor, o.Actor); c != 0 {
		return c
	}
	return cmp.Compare(d.Counter, o.Counter)
}

// VV is a version vector: for each actor, the highest counter seen. A nil VV
// is empty and valid. VVs are treated as immutable values.
type VV map[string]uint64

// Covers reports whether the event d is in the vector's causal past.
func (v VV) Covers(d Dot) bool { return d.Counter != 0 && v[d.Actor] >= d.Counter }

// Join returns the pointwise maximum of v and o as a new vector.
func (v VV) Join(o VV) VV {
	out := make(VV, max(len(v), len(o)))
	for a, c := range v {
		out[a] = c
	}
	for a, c := range o {
		if c > out[a] {
			out[a] = c
		}
	}
	return out
}

// Descends reports whether v has seen everything o has (v ≥ o).
func (v VV) Descends(o VV) bool {
	for a, c := range o {
		if v[a] < c {
			return false
		}
	}
	return true
}

// Equal reports whether v and o hold the same entries (zero entries count
// as absent).
func (v VV) Equal(o VV) bool { return v.Descends(o) && o.Descends(v) }

// Sibling is one concurrent version of a key's value.
type Sibling struct {
	Dot       Dot
	Timestamp int64  // coordinator wall clock, Unix nanoseconds (for LWW reads only)
	Expiry    int64  // absolute expiry, Unix milliseconds; 0 means none
	Tombstone bool   // a delete (or an expired value)
	Value     []byte // nil for tombstones
}

// Expired reports whether s has an expiry at or before nowMs.
func (s Sibling) Expired(nowMs int64) bool { return s.Expiry != 0 && s.Expiry <= nowMs }

// Live reports whether s is a value that has not expired at nowMs.
func (s Sibling) Live(nowMs int64) bool { return !s.Tombstone && !s.Expired(nowMs) }

// Object is the stored state of one key: its causal context and siblings.
// The zero Object is a key that was never written.
type Object struct {
	Context  VV
	Siblings []Sibling
}

// IsZero reports whether o records no history at all.
func (o Object) IsZero() bool { return len(o.Siblings) == 0 && len(o.Context) == 0 }

// Validate checks the package invariants, returning an error wrapping
// ErrCorrupt when one is broken.
func (o Object) Validate() error {
	for i, s := range o.Siblings {
		if s.Dot.Actor == "" || s.Dot.Counter == 0 {
			return corruptf("sibling %d has an empty dot", i)
		}
		if !o.Context.Covers(s.Dot) {
			return corruptf("sibling %d dot not covered by context", i)
		}
		if i > 0 && o.Siblings[i-1].Dot.Compare(s.Dot) >= 0 {
			return corruptf("siblings not sorted by dot at %d", i)
		}
		if s.Tombstone && s.Value != nil {
			return corruptf("tombstone sibling %d carries a value", i)
		}
	}
	return nil
}

// Join returns the causal context a client should send back to supersede
// every sibling it read: the object's whole context.
func (o Object) Join() VV { return o.Context.Join(nil) }

// Update returns the object after a write with dot s.Dot whose client had
// seen ctx: the siblings ctx covers are superseded, s is added, and the
// context grows by ctx and the new dot. An empty ctx is a blind write. The
// caller must pick a dot that neither o.Context nor ctx covers (the replica
// store does); Update panics otherwise, as that is a programming error that
// would silently lose a write.
func Update(o Object, ctx VV, s Sibling) Object {
	if s.Dot.Actor == "" || s.Dot.Counter == 0 || o.Context.Covers(s.Dot) || ctx.Covers(s.Dot) {
		panic("dvv: Update with a dot that is already covered")
	}
	if s.Tombstone {
		s.Value = nil
	}
	out := Object{Context: o.Context.Join(ctx)}
	out.Context[s.Dot.Actor] = max(out.Context[s.Dot.Actor], s.Dot.Counter)
	out.Siblings = make([]Sibling, 0, len(o.Siblings)+1)
	for _, old := range o.Siblings {
		if !ctx.Covers(old.Dot) {
			out.Siblings = append(out.Siblings, old)
		}
	}
	out.Siblings = append(out.Siblings, s)
	slices.SortFunc(out.Siblings, func(a, b Sibling) int { return a.Dot.Compare(b.Dot) })
	return out
}

// NextCounter returns the smallest counter an actor may use for a new write
// to o with client context ctx: one past everything either has seen from it.
// ok is false when no such counter exists (a context at the largest counter).
func NextCounter(o Object, ctx VV, actor string) (c uint64, ok bool) {
	c = max(o.Context[actor], ctx[actor]) + 1
	return c, c != 0
}

// Merge returns the synchronisation of two replicas' objects: a sibling
// survives if both have it, or if the other side has not seen its dot. For
// the same dot, a tombstone wins (the expiry transition); otherwise the
// payloads of a dot are identical by construction and a's is kept.
func Merge(a, b Object) Object {
	out := Object{Context: a.Context.Join(b.Context)}
	out.Siblings = make([]Sibling, 0, max(len(a.Siblings), len(b.Siblings)))
	i, j := 0, 0
	for i < len(a.Siblings) || j < len(b.Siblings) {
		var c int
		switch {
		case i == len(a.Siblings):
			c = 1
		case j == len(b.Siblings):
			c = -1
		default:
			c = a.Siblings[i].Dot.Compare(b.Siblings[j].Dot)
		}
		switch {
		case c == 0:
			s := a.Siblings[i]
			if b.Siblings[j].Tombstone && !s.Tombstone || !sameSibling(s, b.Siblings[j]) && sameDotLess(b.Siblings[j], s) {
				s = b.Siblings[j]
			}
			out.Siblings = append(out.Siblings, s)
			i++
			j++
		case c < 0:
			if !b.Context.Covers(a.Siblings[i].Dot) {
				out.Siblings = append(out.Siblings, a.Siblings[i])
			}
			i++
		default:
			if !a.Context.Covers(b.Siblings[j].Dot) {
				out.Siblings = append(out.Siblings, b.Siblings[j])
			}
			j++
		}
	}
	return out
}

// sameSibling reports whether two siblings under one dot carry the same
// payload (the normal case, checked before the costly tie-break).
func sameSibling(x, y Sibling) bool {
	return x.Timestamp == y.Timestamp && x.Expiry == y.Expiry && x.Tombstone == y.Tombstone && bytes.Equal(x.Value, y.Value)
}

// sameDotLess breaks ties between two differing payloads under one dot, which
// only corruption or a buggy peer can produce, so that Merge stays
// commutative even then: both tombstones or both values, the smaller
// encoding wins.
func sameDotLess(x, y Sibling) bool {
	if x.Tombstone != y.Tombstone {
		return false
	}
	return bytes.Compare(appendSibling(nil, x), appendSibling(nil, y)) < 0
}

// Expire returns o with every sibling that has expired at nowMs turned into
// a tombstone under the same dot, and whether anything changed.
func Expire(o Object, nowMs int64) (Object, bool) {
	changed := false
	for _, s := range o.Siblings {
		if !s.Tombstone && s.Expired(nowMs) {
			changed = true
			break
		}
	}
	if !changed {
		return o, false
	}
	out := Object{Context: o.Context, Siblings: make([]Sibling, len(o.Siblings))}
	for i, s := range o.Siblings {
		if !s.Tombstone && s.Expired(nowMs) {
			s.Tombstone, s.Value = true, nil
		}
		out.Siblings[i] = s
	}
	return out, true
}

// Live returns the siblings of o that are values, unexpired at nowMs, in dot
// order.
func Live(o Object, nowMs int64) []Sibling {
	var out []Sibling
	for _, s := range o.Siblings {
		if s.Live(nowMs) {
			out = append(out, s)
		}
	}
	return out
}

// Winner returns the live sibling a plain (non-versioned) read returns: the
// latest timestamp, ties broken by the larger dot. ok is false when no
// sibling is live.
func Winner(o Object, nowMs int64) (s Sibling, ok bool) {
	for _, c := range o.Siblings {
		if !c.Live(nowMs) {
			continue
		}
		if !ok || c.Timestamp > s.Timestamp || c.Timestamp == s.Timestamp && c.Dot.Compare(s.Dot) > 0 {
			s, ok = c, true
		}
	}
	return s, ok
}

// Equal reports whether a and b are the same object (their canonical
// encodings are equal).
func Equal(a, b Object) bool { return bytes.Equal(a.Encode(), b.Encode()) }
