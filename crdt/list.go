package crdt

import (
	"bytes"
	"cmp"
	"errors"
	"math"
	"slices"
	"sort"

	"github.com/dynakv/dynakv/replica/dvv"
)

// The list store: a sequence CRDT with dense positions (see doc.go,
// "Lists"). Each element is an item: its position, fixed when it is
// inserted, and its value register (dotted values, LSET adds one). The
// items are sorted by position, which is the list's order; the last
// component of a position carries the inserting event's dot, so positions
// are unique and a position identifies its element (its "insertion dot").

// lcomp is one component of a list position: a digit and the dot that
// disambiguates equal digits chosen concurrently.
type lcomp struct {
	n int64
	d dvv.Dot
}

// lval is one dotted value of an element's register.
type lval struct {
	dot dvv.Dot
	val []byte
}

// item is one list element: its position (never empty) and its value
// register (sorted by dot; an item without values is gone).
type item struct {
	pos  []lcomp
	vals []lval
}

// ErrNoSuchKey is LSET on a missing key (Redis's "ERR no such key").
var ErrNoSuchKey = errors.New("crdt: no such key")

// ErrIndexRange is LSET with an index outside the list (Redis's "ERR index
// out of range").
var ErrIndexRange = errors.New("crdt: index out of range")

// ErrListFull is an insertion whose position digits would overflow int64:
// only after 2⁶³ pushes at one end.
var ErrListFull = errors.New("crdt: list positions exhausted")

func cmpComp(x, y lcomp) int {
	if c := cmp.Compare(x.n, y.n); c != 0 {
		return c
	}
	return x.d.Compare(y.d)
}

// cmpPos orders positions lexicographically, a prefix first.
func cmpPos(p, q []lcomp) int {
	for i := 0; i < len(p) && i < len(q); i++ {
		if c := cmpComp(p[i], q[i]); c != 0 {
			return c
		}
	}
	return cmp.Compare(len(p), len(q))
}

func valDot(v *lval) dvv.Dot { return v.dot }

// sameVal picks between two values under one dot (equal but for
// corruption): the smaller bytes, to stay commutative.
func sameVal(x, y lval) lval {
	if bytes.Compare(y.val, x.val) < 0 {
		return y
	}
	return x
}

// value returns the element's value: the register's latest dot wins.
func (it *item) value() []byte {
	best := 0
	for i := range it.vals {
		if dotLess(it.vals[best].dot, it.vals[i].dot) {
			best = i
		}
	}
	return it.vals[best].val
}

// mergeItems joins two position-sorted item stores: per position, the
// values joined by the dot rule; an item left without values is dropped.
//
// NB: items on one side only whose values the other side's context does
// not cover are kept as they are, and a run of them is copied whole (as
// mergeMembers does). When the other side's context covers no event of
// this side's context at all (disjoint: a push's delta merged into the
// list), no item of this side needs its values looked at (their dots are
// in their own context, Validate's invariant), and its runs end where a
// binary search puts the other side's next item: merging a push into a
// long list costs a copy of the item headers, not a visit of every item
// (BenchmarkListPush, TestMergeRunsMatchElementwise).
func mergeItems(a, b []item, actx, bctx context) []item {
	if len(a) == 0 && len(b) == 0 {
		return nil
	}
	out := make([]item, 0, len(a)+len(b))
	acv, bcv := newCoverer(actx), newCoverer(bctx)
	aKept, bKept := disjoint(bctx, actx), disjoint(actx, bctx)
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if k := i; j == len(b) || i < len(a) && cmpPos(a[i].pos, b[j].pos) < 0 {
			if aKept {
				k = keptRun(a, i, b, j)
			} else {
				for k < len(a) && (j == len(b) || cmpPos(a[k].pos, b[j].pos) < 0) && keptItem(a[k], &bcv) {
					k++
				}
			}
			out, i = append(out, a[i:k]...), k
		} else if k := j; i == len(a) || cmpPos(a[i].pos, b[j].pos) > 0 {
			if bKept {
				k = keptRun(b, j, a, i)
			} else {
				for k < len(b) && (i == len(a) || cmpPos(b[k].pos, a[i].pos) < 0) && keptItem(b[k], &acv) {
					k++
				}
			}
			out, j = append(out, b[j:k]...), k
		}
		if i == len(a) && j == len(b) {
			break
		}
		var it item
		var c int
		switch {
		case j == len(b):
			c = -1
		case i == len(a):
			c = 1
		default:
			c = cmpPos(a[i].pos, b[j].pos)
		}
		switch {
		case c < 0:
			it = item{pos: a[i].pos, vals: joinDots(a[i].vals, nil, actx, bctx, valDot, sameVal)}
			i++
		case c > 0:
			it = item{pos: b[j].pos, vals: joinDots(nil, b[j].vals, actx, bctx, valDot, sameVal)}
			j++
		default:
			it = item{pos: a[i].pos, vals: joinDots(a[i].vals, b[j].vals, actx, bctx, valDot, sameVal)}
			i++
			j++
		}
		if len(it.vals) > 0 {
			out = append(out, it)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// keptRun returns the end of the run of xs from i that a merge keeps as
// it is when the other side's context covers none of xs's values
// (disjoint): the items before ys[j] (all of them if j is past ys' end),
// up to the first without values.
func keptRun(xs []item, i int, ys []item, j int) int {
	end := len(xs)
	if j < len(ys) {
		end = i + sort.Search(len(xs)-i, func(n int) bool { return cmpPos(xs[i+n].pos, ys[j].pos) >= 0 })
	}
	k := i
	for k < end && len(xs[k].vals) > 0 {
		k++
	}
	return k
}

// disjoint reports whether context other covers no event of context own,
// so that a merge leaves every entry of own's side that other's side does
// not hold as it is. It answers false (not known) when finding out would
// take more than a few lookups: other holds a long cloud, or a vector
// entry of an actor own has events of.
func disjoint(other, own context) bool {
	const most = 64
	if len(other.cloud) > most || len(other.vv)*len(own.cloud) > most*most {
		return false
	}
	for a, n := range other.vv {
		if n == 0 {
			continue
		}
		if own.vv[a] > 0 {
			return false
		}
		for _, c := range own.cloud {
			if c.dot.Actor == a && c.dot.Counter <= n {
				return false
			}
		}
	}
	for _, c := range other.cloud {
		if own.covers(c.dot) {
			return false
		}
	}
	return true
}

// keptItem reports whether an item on one side only survives a merge
// unchanged: it has values and the other side's context (other) covers
// none of them.
func keptItem(it item, other *coverer) bool {
	return len(it.vals) > 0 && !anyCoveredBy(it.vals, other, valDot)
}

// before returns a position before q for a new element of dot d.
func before(q []lcomp, d dvv.Dot) ([]lcomp, error) {
	if q[0].n == math.MinInt64 {
		return nil, ErrListFull
	}
	return []lcomp{{n: q[0].n - 1, d: d}}, nil
}

// after returns a position after p for a new element of dot d.
func after(p []lcomp, d dvv.Dot) ([]lcomp, error) {
	if len(p) == 0 {
		return []lcomp{{d: d}}, nil
	}
	if p[0].n == math.MaxInt64 {
		return nil, ErrListFull
	}
	return []lcomp{{n: p[0].n + 1, d: d}}, nil
}

// between returns a position strictly between p and q (p < q; nil p is
// the head, nil q the tail) for a new element of dot d. Its length is at
// most len(p)+1 and its last component carries d.
func between(p, q []lcomp, d dvv.Dot) ([]lcomp, error) {
	switch {
	case p == nil && q == nil:
		return []lcomp{{d: d}}, nil
	case p == nil:
		return before(q, d)
	case q == nil:
		return after(p, d)
	}
	i := 0
	for i < len(p) && i < len(q) && p[i] == q[i] {
		i++
	}
	if i == len(p) { // p is a prefix of q
		if q[i].n == math.MinInt64 {
			return nil, ErrListFull
		}
		return append(slices.Clip(p), lcomp{n: q[i].n - 1, d: d}), nil
	}
	if q[i].n > p[i].n && q[i].n-p[i].n >= 2 {
		return append(slices.Clone(p[:i]), lcomp{n: p[i].n + 1, d: d}), nil
	}
	tail, err := after(p[i+1:], d)
	if err != nil {
		return nil, err
	}
	return append(slices.Clone(p[:i+1]), tail...), nil
}

// listWrite starts a list command: the type is checked, other types'
// content superseded.
func listWrite(o Object, st Stamp) (*write, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindList); err != nil {
		return nil, err
	}
	w.resolve(KindList)
	return w, nil
}

// removeItem makes the delta supersede item i of seen (all its values).
func (w *write) removeItem(i int) {
	for _, v := range w.seen.list[i].vals {
		w.dots = append(w.dots, v.dot)
	}
}

func (w *write) removeList() {
	for i := range w.seen.list {
		w.removeItem(i)
	}
}

// listLive returns o's items if o is a live list at now, nil if the key
// is missing; ErrWrongType for another type.
func listLive(o Object, now int64) ([]item, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return nil, nil
	case KindList:
		return o.list, nil
	}
	return nil, ErrWrongType
}

// ListPush is LPUSH (left) and RPUSH: the values, in argument order, each
// pushed at that end, so LPUSH a b c reads c b a. One command's elements
// take consecutive dots and share their first position component, so
// concurrent pushes of several elements stay contiguous. ifExists makes
// it LPUSHX/RPUSHX: nothing is written (zero delta) when the key is
// missing. n is the list's length after the push.
func ListPush(o Object, st Stamp, vals [][]byte, left, ifExists bool) (Object, int64, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	cur := w.seen.list
	if TypeOf(w.seen, st.Now) == KindNone {
		cur = nil
		if ifExists {
			return Object{}, 0, nil
		}
	}
	if len(vals) == 0 {
		return Object{}, int64(len(cur)), nil
	}
	d0 := w.next()
	var first []lcomp
	switch {
	case len(cur) == 0:
		first = []lcomp{{d: d0}}
	case left:
		first, err = before(cur[0].pos, d0)
	default:
		first, err = after(cur[len(cur)-1].pos, d0)
	}
	if err != nil {
		return Object{}, 0, err
	}
	items := make([]item, len(vals))
	for i, v := range vals {
		d := d0
		pos := first
		if len(vals) > 1 {
			if i > 0 {
				d = w.next()
			}
			k := int64(i)
			if left {
				k = -k
			}
			pos = []lcomp{first[0], {n: k, d: d}}
		}
		items[i] = item{pos: pos, vals: []lval{{dot: d, val: v}}}
	}
	if left {
		slices.Reverse(items)
	}
	w.d.list = items
	return w.delta(), int64(len(cur) + len(vals)), nil
}

// ListInsert is LINSERT: val is inserted before (or after) the first
// element equal to pivot, between it and its neighbour. n is the new
// length, -1 if pivot was not found, 0 if the key is missing (both with a
// zero delta).
func ListInsert(o Object, st Stamp, pivot, val []byte, beforePivot bool) (Object, int64, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	if TypeOf(w.seen, st.Now) == KindNone {
		return Object{}, 0, nil
	}
	cur := w.seen.list
	at := slices.IndexFunc(cur, func(it item) bool { return bytes.Equal(it.value(), pivot) })
	if at < 0 {
		return Object{}, -1, nil
	}
	var p, q []lcomp
	if beforePivot {
		q = cur[at].pos
		if at > 0 {
			p = cur[at-1].pos
		}
	} else {
		p = cur[at].pos
		if at+1 < len(cur) {
			q = cur[at+1].pos
		}
	}
	d := w.next()
	pos, err := between(p, q, d)
	if err != nil {
		return Object{}, 0, err
	}
	w.d.list = []item{{pos: pos, vals: []lval{{dot: d, val: val}}}}
	return w.delta(), int64(len(cur) + 1), nil
}

// ListPop is LPOP (left) and RPOP: up to count elements removed from that
// end (observed-remove: a pop concurrent with another node's pop of the
// same element returns it on both, at-least-once). vals is nil (zero
// delta) when the key is missing.
func ListPop(o Object, st Stamp, count int64, left bool) (Object, [][]byte, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, nil, err
	}
	cur, _ := listLive(w.seen, st.Now)
	n := int(min(count, int64(len(cur))))
	if n <= 0 {
		return Object{}, nil, nil
	}
	out := make([][]byte, n)
	for k := 0; k < n; k++ {
		i := k
		if !left {
			i = len(cur) - 1 - k
		}
		out[k] = cur[i].value()
		w.removeItem(i)
	}
	return w.delta(), out, nil
}

// ListSet is LSET: the element at index (negative from the tail) gets a
// new value, superseding the values seen (a concurrent LSET: the later
// dot wins; a concurrent pop of it: the new value keeps the element).
// ErrNoSuchKey, ErrIndexRange, ErrWrongType.
func ListSet(o Object, st Stamp, index int64, val []byte) (Object, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, err
	}
	if TypeOf(w.seen, st.Now) == KindNone {
		return Object{}, ErrNoSuchKey
	}
	cur := w.seen.list
	if index < 0 {
		index += int64(len(cur))
	}
	if index < 0 || index >= int64(len(cur)) {
		return Object{}, ErrIndexRange
	}
	w.removeItem(int(index))
	w.d.list = []item{{pos: cur[index].pos, vals: []lval{{dot: w.next(), val: val}}}}
	return w.delta(), nil
}

// ListRem is LREM: removes the first count elements equal to val (count
// < 0: from the tail; 0: all). n is how many; 0 means a zero delta.
func ListRem(o Object, st Stamp, count int64, val []byte) (Object, int64, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	cur, _ := listLive(w.seen, st.Now)
	var n int64
	limit := count
	if limit < 0 {
		limit = -limit
	}
	for k := range cur {
		i := k
		if count < 0 {
			i = len(cur) - 1 - k
		}
		if limit != 0 && n == limit {
			break
		}
		if bytes.Equal(cur[i].value(), val) {
			w.removeItem(i)
			n++
		}
	}
	if n == 0 {
		return Object{}, 0, nil
	}
	return w.delta(), n, nil
}

// ListTrim is LTRIM: the elements outside start..stop (Redis's index
// rules) are removed; a zero delta when none is.
func ListTrim(o Object, st Stamp, start, stop int64) (Object, error) {
	w, err := listWrite(o, st)
	if err != nil {
		return Object{}, err
	}
	cur, _ := listLive(w.seen, st.Now)
	lo, hi := rangeOf(int64(len(cur)), start, stop)
	removed := false
	for i := range cur {
		if int64(i) < lo || int64(i) > hi {
			w.removeItem(i)
			removed = true
		}
	}
	if !removed {
		return Object{}, nil
	}
	return w.delta(), nil
}

// rangeOf normalizes Redis's start and stop indexes (negative from the
// end) over a list of n elements: the inclusive range lo..hi, empty when
// lo > hi.
func rangeOf(n, start, stop int64) (lo, hi int64) {
	if start < 0 {
		start += n
	}
	if stop < 0 {
		stop += n
	}
	start = max(start, 0)
	if start > stop || start >= n {
		return 0, -1
	}
	return start, min(stop, n-1)
}

// ListLen is LLEN: the number of elements (0 for a missing key).
func ListLen(o Object, now int64) (int64, error) {
	cur, err := listLive(o, now)
	return int64(len(cur)), err
}

// ListRange is LRANGE: the elements start..stop (Redis's index rules), an
// empty slice for a missing key or an empty range.
func ListRange(o Object, now int64, start, stop int64) ([][]byte, error) {
	cur, err := listLive(o, now)
	if err != nil {
		return nil, err
	}
	lo, hi := rangeOf(int64(len(cur)), start, stop)
	out := make([][]byte, 0, max(hi-lo+1, 0))
	for i := lo; i <= hi; i++ {
		out = append(out, cur[i].value())
	}
	return out, nil
}

// ListIndex is LINDEX: the element at index (negative from the tail); ok
// is false outside the list.
func ListIndex(o Object, now int64, index int64) (val []byte, ok bool, err error) {
	cur, err := listLive(o, now)
	if err != nil {
		return nil, false, err
	}
	if index < 0 {
		index += int64(len(cur))
	}
	if index < 0 || index >= int64(len(cur)) {
		return nil, false, nil
	}
	return cur[index].value(), true, nil
}

// listLatest returns the latest value dot of the list store.
func (o Object) listLatest() dvv.Dot {
	var l dvv.Dot
	for i := range o.list {
		for _, v := range o.list[i].vals {
			if dotLess(l, v.dot) {
				l = v.dot
			}
		}
	}
	return l
}
