package crdt

import (
	"cmp"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Stamp is the event a mutator records: its new dot and the time it is
// judged at. The dot must not be covered by the object's context, and the
// object must hold every earlier event of Dot.Actor on the key (the
// coordinator's own replica does): the delta records the previous one as
// the dot's predecessor. Mutators panic otherwise, as dvv.Update does.
type Stamp struct {
	Dot   dvv.Dot
	Now   int64 // Unix ms: expiry is judged at this time
	Nanos int64 // wall clock, Unix ns: the LWW timestamp of new string values; 0 means Now·10⁶
}

// Mutator is one write command as a pure function: from the key's current
// object cur and the write's fresh Stamp (a dot of the coordinating node,
// unused by this object), the delta to merge into every replica (the zero
// Object: nothing to write). The store that runs it merges the delta into
// cur under the key's lock and moves its dot counter past Top(delta,
// actor), since one command may use several consecutive dots. An error
// aborts the write with nothing stored; the error is returned unchanged.
// Replies (INCR's value, HSETNX's flag…) are captured by the closure.
type Mutator func(cur Object, st Stamp) (delta Object, err error)

func (st Stamp) ts() int64 {
	if st.Nanos != 0 {
		return st.Nanos
	}
	return st.Now * 1e6
}

// write builds one mutator's delta. seen is the object as the command sees
// it (an expired key cleared); d accumulates the delta's content; fields
// the hash entries not yet joined into d (flush joins them in one pass);
// dots the events it covers besides the new one; full makes the delta
// cover the whole context of o (SET, DEL: everything observed is
// superseded).
type write struct {
	o, seen Object
	st      Stamp
	d       Object
	fields  []field // unsorted, names may repeat; see putField
	zfields []field // putZ's sorted-set entries, likewise
	dots    []dvv.Dot
	full    bool
	used    uint64 // new dots handed out: st.Dot.Counter … +used−1
}

// next returns a new dot for one entry. NB: dots must be unique across the
// whole object, not only within a field's store: a delta's context
// removes, in every store, the entries whose dots it covers.
func (w *write) next() dvv.Dot {
	d := dvv.Dot{Actor: w.st.Dot.Actor, Counter: w.st.Dot.Counter + w.used}
	w.used++
	return d
}

func newWrite(o Object, st Stamp) *write {
	if st.Dot.Actor == "" || st.Dot.Counter == 0 || o.ctx.top(st.Dot.Actor) >= st.Dot.Counter {
		panic("crdt: mutator with a dot that is already covered")
	}
	w := &write{o: o, seen: o, st: st}
	if o.expired(st.Now) {
		w.clearAll()
		// NB: the delta keeps the records clearAll made: without them a
		// receiver would count the cleared running totals again.
		w.seen = Merge(o, w.delta())
		w.used = 0
	}
	return w
}

// clearAll makes the delta supersede everything o holds.
func (w *write) clearAll() {
	w.full = true
	w.d.str = mergeValue(w.d.str, recsOf(w.seen.str), context{}, context{})
	var fs []field
	for _, f := range w.seen.hash {
		if r := recsOf(f.v); !r.empty() {
			fs = append(fs, field{name: f.name, v: r})
		}
	}
	w.d.hash = mergeFields(w.d.hash, fs, context{}, context{})
	w.clearZSet()
}

// recsOf returns a value holding only records for v's counter entries.
func recsOf(v value) value {
	var out value
	out.recs = append(out.recs, v.ctrs...)
	sortRecs(out.recs)
	out.recs = compactRecs(out.recs)
	return out
}

// compactRecs keeps one record per actor (the latest) in actor-sorted rs.
func compactRecs(rs []ctr) []ctr {
	var out []ctr
	for _, r := range rs {
		if n := len(out); n > 0 && out[n-1].dot.Actor == r.dot.Actor {
			out[n-1] = maxCtr(out[n-1], r)
			continue
		}
		out = append(out, r)
	}
	return out
}

// removeStr makes the delta supersede the string (or counter) content.
func (w *write) removeStr() {
	if w.seen.str.empty() {
		return
	}
	w.d.str = mergeValue(w.d.str, recsOf(w.seen.str), context{}, context{})
	w.dots = w.seen.str.dots(w.dots)
}

// removeField makes the delta supersede field i of seen (value and expiry).
func (w *write) removeField(i int) {
	f := w.seen.hash[i]
	w.dots = f.v.dots(w.dots)
	for _, e := range f.exp {
		w.dots = append(w.dots, e.dot)
	}
	if r := recsOf(f.v); !r.empty() {
		w.putField(field{name: f.name, v: r})
	}
}

// putField adds f to the delta's hash. NB: the entries are only collected
// here and joined by flush in one sort and merge: joining each into d.hash
// at once copied the hash per field, so one HSET of k fields cost O(k²).
func (w *write) putField(f field) {
	w.fields = append(w.fields, f)
}

// flush joins the fields putField collected into the delta's hash: sorted
// by name (stably), the entries of one name joined in the order they were
// put, then one merge. With empty contexts the join is a union (entries of
// one dot by their same rule), so this equals joining them one at a time.
// O(k log k + size of d.hash) for k entries.
func (w *write) flush() {
	if len(w.fields) == 0 {
		return
	}
	fs := w.fields
	w.fields = nil
	slices.SortStableFunc(fs, func(x, y field) int { return cmp.Compare(x.name, y.name) })
	out := fs[:0]
	for _, f := range fs {
		if n := len(out); n > 0 && out[n-1].name == f.name {
			p := &out[n-1]
			p.v = mergeValue(p.v, f.v, context{}, context{})
			p.exp = joinDots(p.exp, f.exp, context{}, context{}, expDot, sameExp)
			continue
		}
		out = append(out, f)
	}
	w.d.hash = mergeFields(w.d.hash, out, context{}, context{})
}

func (w *write) removeHash() {
	for i := range w.seen.hash {
		w.removeField(i)
	}
}

func (w *write) removeMember(i int) {
	w.dots = append(w.dots, w.seen.set[i].dots...)
}

func (w *write) removeSet() {
	for i := range w.seen.set {
		w.removeMember(i)
	}
}

func (w *write) removeExp() {
	for _, e := range w.seen.exp {
		w.dots = append(w.dots, e.dot)
	}
}

// resolve supersedes the content of every type but k (the next write of a
// conflicted key resolves it).
func (w *write) resolve(k Kind) {
	if k != KindString {
		w.removeStr()
	}
	if k != KindHash && len(w.seen.hash) > 0 {
		w.removeHash()
	}
	if k != KindSet && len(w.seen.set) > 0 {
		w.removeSet()
	}
	if k != KindZSet && len(w.seen.zset) > 0 {
		w.removeZSet()
	}
	if k != KindList && len(w.seen.list) > 0 {
		w.removeList()
	}
	if k != KindHLL {
		w.removeHLL()
	}
}

// delta returns the finished delta: its content, and a context of the new
// event, the dots it supersedes and, when full, all of o's context.
func (w *write) delta() Object {
	w.flush()
	w.flushZSet()
	d := w.d
	c := ctxOf(w.dots)
	if w.full {
		c = joinCtx(c, w.o.ctx)
	}
	prev := w.o.ctx.top(w.st.Dot.Actor)
	cloud := make([]cdot, 0, max(w.used, 1))
	for i := uint64(0); i < max(w.used, 1); i++ {
		d := dvv.Dot{Actor: w.st.Dot.Actor, Counter: w.st.Dot.Counter + i}
		cloud = append(cloud, cdot{dot: d, prev: prev})
		prev = d.Counter
	}
	d.ctx = joinCtx(c, context{vv: dvv.VV{}, cloud: cloud})
	return d
}

// check returns ErrWrongType if the key holds a type other than k.
func (w *write) check(k Kind) (Kind, error) {
	t := TypeOf(w.seen, w.st.Now)
	if t == KindHLL && k == KindString { // an HLL is a string to Redis
		return t, nil
	}
	if t != KindNone && t != k {
		return t, ErrWrongType
	}
	return t, nil
}
