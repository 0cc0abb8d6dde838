package crdt

import (
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// cdot is a dot of the context's cloud: an event known individually,
// outside the version vector's prefix. prev is the counter of the same
// actor's previous event on this key (0: its first), or the dot's own
// counter when unknown (a removed dot named by a delta).
type cdot struct {
	dot  dvv.Dot
	prev uint64
}

// context is a causal context: a version vector (every event of an actor on
// this key up to its counter) plus a cloud of single events beyond it (the
// dots a delta carries; delta-CRDT paper §5, "causal context as dot set").
// Invariant: cloud is sorted by dot, holds no dot the vector covers and no
// zero counter.
type context struct {
	vv    dvv.VV
	cloud []cdot
}

func cmpCdot(x cdot, d dvv.Dot) int { return x.dot.Compare(d) }

// covers reports whether the event d is in the context.
func (c context) covers(d dvv.Dot) bool {
	if d.Counter == 0 {
		return false
	}
	if c.vv.Covers(d) {
		return true
	}
	_, ok := slices.BinarySearchFunc(c.cloud, d, cmpCdot)
	return ok
}

// coverer answers covers for one context many times over (a merge's scan
// of a big object against a delta's context): the version vector as a
// short slice instead of a map, so that the common case, a dot of one of
// a few actors, costs string comparisons rather than a hash.
type coverer struct {
	ctx context
	vv  []dvv.Dot // the vector's entries, Counter its top; nil if too many
}

// maxCovererActors bounds the vector a coverer scans linearly.
const maxCovererActors = 8

func newCoverer(c context) coverer {
	cv := coverer{ctx: c}
	if len(c.vv) <= maxCovererActors {
		cv.vv = make([]dvv.Dot, 0, len(c.vv))
		for a, n := range c.vv {
			cv.vv = append(cv.vv, dvv.Dot{Actor: a, Counter: n})
		}
	}
	return cv
}

// covers is context.covers.
func (cv *coverer) covers(d dvv.Dot) bool {
	if cv.vv == nil && len(cv.ctx.vv) > 0 {
		return cv.ctx.covers(d)
	}
	if d.Counter == 0 {
		return false
	}
	for _, x := range cv.vv {
		if x.Actor == d.Actor {
			if d.Counter <= x.Counter {
				return true
			}
			break
		}
	}
	if len(cv.ctx.cloud) <= maxCovererActors {
		for _, x := range cv.ctx.cloud {
			if x.dot.Counter == d.Counter && x.dot.Actor == d.Actor {
				return true
			}
		}
		return false
	}
	_, ok := slices.BinarySearchFunc(cv.ctx.cloud, d, cmpCdot)
	return ok
}

// anyCoveredBy is anyCovered with a coverer.
func anyCoveredBy[T any](xs []T, cv *coverer, dot func(*T) dvv.Dot) bool {
	for i := range xs {
		if cv.covers(dot(&xs[i])) {
			return true
		}
	}
	return false
}

// top returns the largest counter of actor the context holds.
func (c context) top(actor string) uint64 {
	m := c.vv[actor]
	for _, x := range c.cloud {
		if x.dot.Actor == actor {
			m = max(m, x.dot.Counter)
		}
	}
	return m
}

func (c context) empty() bool { return len(c.cloud) == 0 && len(c.vv) == 0 }

// joinCtx returns the union of two contexts, normalized.
func joinCtx(a, b context) context {
	// NB: a context is immutable once built (normalize writes only into
	// the fresh vector of its own join), so a join that adds nothing to
	// one side returns that side, shared: the common case of an object
	// joined with a write's delta it already covers, or with itself. A
	// context without cloud dots is normalized as it stands.
	if len(a.cloud) == 0 && len(b.cloud) == 0 {
		switch {
		case a.vv.Descends(b.vv):
			return a
		case b.vv.Descends(a.vv):
			return b
		}
	}
	vv := a.vv.Join(b.vv)
	cloud := make([]cdot, 0, len(a.cloud)+len(b.cloud))
	i, j := 0, 0
	for i < len(a.cloud) || j < len(b.cloud) {
		switch {
		case j == len(b.cloud) || i < len(a.cloud) && a.cloud[i].dot.Compare(b.cloud[j].dot) < 0:
			cloud = append(cloud, a.cloud[i])
			i++
		case i == len(a.cloud) || a.cloud[i].dot.Compare(b.cloud[j].dot) > 0:
			cloud = append(cloud, b.cloud[j])
			j++
		default: // NB: the same event: a known predecessor beats an unknown one
			x := a.cloud[i]
			x.prev = min(x.prev, b.cloud[j].prev)
			cloud = append(cloud, x)
			i++
			j++
		}
	}
	return normalize(vv, cloud)
}

// normalize folds cloud dots into vv (which it may modify) where their
// predecessor is in the prefix: an actor's events on one key form a chain,
// so a dot whose prev the vector covers extends the prefix. One ascending
// pass suffices, as prev < counter. Dots the vector covers are dropped.
func normalize(vv dvv.VV, cloud []cdot) context {
	for _, x := range cloud {
		if x.prev < x.dot.Counter && x.prev <= vv[x.dot.Actor] && x.dot.Counter > vv[x.dot.Actor] {
			vv[x.dot.Actor] = x.dot.Counter
		}
	}
	out := cloud[:0]
	for _, x := range cloud {
		if !vv.Covers(x.dot) {
			out = append(out, x)
		}
	}
	if len(out) == 0 {
		out = nil
	}
	for a, c := range vv {
		if c == 0 {
			delete(vv, a)
		}
	}
	return context{vv: vv, cloud: out}
}

// ctxOf returns a context holding the given dots individually (their
// predecessors unknown).
func ctxOf(dots []dvv.Dot) context {
	cloud := make([]cdot, 0, len(dots))
	for _, d := range dots {
		cloud = append(cloud, cdot{dot: d, prev: d.Counter})
	}
	slices.SortFunc(cloud, func(x, y cdot) int { return x.dot.Compare(y.dot) })
	cloud = slices.CompactFunc(cloud, func(x, y cdot) bool { return x.dot == y.dot })
	return normalize(dvv.VV{}, cloud)
}
