package crdt

import (
	"bytes"
	"errors"

	"github.com/dynakv/dynakv/internal/hll"
	"github.com/dynakv/dynakv/replica/dvv"
)

// HyperLogLog store (KindHLL; TYPE says "string", as in Redis, where an
// HLL is a string). Each entry is one write's whole HLL, as Redis's bytes
// (internal/hll), under the write's dot: PFADD, PFMERGE and PFCOUNT's
// cache refresh write a new entry that supersedes the entries they saw,
// so one coordinator's successive writes leave a single entry holding
// exactly the bytes redis-server would hold. Writes made concurrently on
// several replicas leave several entries; the key then reads as their
// join, register-wise max, rendered as PFMERGE renders it (hllJoin):
// that is the HLL of the union of every element added, whatever the
// order of delivery. DEL, SET (and any write of another type) supersede
// the entries they observed, observed-remove style: a PFADD concurrent
// with a DEL survives it, with every register its coordinator held.
// A string value holding valid HLL bytes (SET of a DUMPed or GET value)
// is read by PFADD/PFCOUNT/PFMERGE as an HLL, and their write turns the key
// into this store; string commands (GET, APPEND, SETRANGE, SETBIT…) see
// an HLL key as its bytes and turn it back into a string.

// hllEntry is one write's HLL (valid per hll.Valid) under its dot.
type hllEntry struct {
	dot dvv.Dot
	val []byte
}

func hllDot(e *hllEntry) dvv.Dot { return e.dot }

// sameHLL picks between two entries of one dot: normally equal; else the
// smaller bytes, to stay commutative.
func sameHLL(x, y hllEntry) hllEntry {
	if bytes.Compare(y.val, x.val) < 0 {
		return y
	}
	return x
}

// ErrNotHLL: PF* on a string that is not a valid HLL (Redis's "WRONGTYPE
// Key is not a valid HyperLogLog string value.").
var ErrNotHLL = errors.New("crdt: Key is not a valid HyperLogLog string value.")

// ErrHLLCorrupt: a sparse HLL whose opcodes do not add up (Redis's
// "INVALIDOBJ Corrupted HLL object detected").
var ErrHLLCorrupt = errors.New("crdt: Corrupted HLL object detected")

// hllLatest reports whether o has HLL entries and the latest of their dots.
func (o Object) hllLatest() (bool, dvv.Dot) {
	var l dvv.Dot
	for _, e := range o.hll {
		if dotLess(l, e.dot) {
			l = e.dot
		}
	}
	return len(o.hll) > 0, l
}

// hllBytes returns the HLL the entries of o read as: the only entry's
// bytes, or the join of several (hllJoin).
func (o Object) hllBytes() []byte {
	if len(o.hll) == 1 {
		return o.hll[0].val
	}
	return hllJoin(o.hll)
}

// hllJoin renders concurrent entries as one HLL: PFMERGE of them into an
// empty key (sparse unless an entry is dense; cache stale). A corrupted
// entry's registers are left out.
func hllJoin(es []hllEntry) []byte {
	var regs hll.Regs
	dense := false
	for _, e := range es {
		if hll.MaxInto(&regs, e.val) == nil && hll.IsDense(e.val) {
			dense = true
		}
	}
	b, err := hll.Store(hll.New(), &regs, dense)
	if err != nil { // NB: New is never corrupt
		panic(err)
	}
	return b
}

// HLLValue returns the HLL at key o for PFCOUNT and PFMERGE: its bytes, or
// ok false for a missing key. ErrWrongType for another type, ErrNotHLL
// for a string that is not a valid HLL.
func HLLValue(o Object, now int64) (b []byte, ok bool, err error) {
	switch TypeOf(o, now) {
	case KindNone:
		return nil, false, nil
	case KindHLL:
		return o.hllBytes(), true, nil
	case KindString:
		v, _, _ := Get(o, now)
		if !hll.Valid(v) {
			return nil, false, ErrNotHLL
		}
		return v, true, nil
	}
	return nil, false, ErrWrongType
}

// hllWrite starts an HLL command: the key's HLL (or a new one, created
// true), other types' content and the HLL entries seen superseded.
func hllWrite(o Object, st Stamp) (w *write, cur []byte, created bool, err error) {
	w = newWrite(o, st)
	cur, ok, err := HLLValue(w.seen, st.Now)
	if err != nil {
		return nil, nil, false, err
	}
	if !ok {
		cur, created = hll.New(), true
	}
	return w, cur, created, nil
}

// put writes val as the key's HLL, superseding what w saw (the key's
// expiry is kept, as Redis modifies the string in place).
func (w *write) putHLL(val []byte) {
	w.resolve(KindHLL)
	w.removeHLL()
	w.d.hll = []hllEntry{{dot: w.next(), val: val}}
}

func (w *write) removeHLL() {
	for _, e := range w.seen.hll {
		w.dots = append(w.dots, e.dot)
	}
}

// PFAdd is PFADD: the elements added to the key's HLL (a new sparse HLL
// if absent). changed is Redis's reply: true if the key was created or a
// register rose; false writes nothing (zero delta). ErrWrongType,
// ErrNotHLL, ErrHLLCorrupt.
func PFAdd(o Object, st Stamp, elems [][]byte) (Object, bool, error) {
	w, cur, created, err := hllWrite(o, st)
	if err != nil {
		return Object{}, false, err
	}
	next, changed, err := hll.Add(cur, elems)
	if err != nil {
		return Object{}, false, ErrHLLCorrupt
	}
	if !changed && !created {
		return Object{}, false, nil
	}
	if created {
		hll.Invalidate(next) // Redis counts the creation as an update
	}
	w.putHLL(next)
	return w.delta(), true, nil
}

// PFCount is PFCOUNT of one key: the cached cardinality, or the estimate
// and a delta caching it (as Redis, which writes the cache into the
// string); a zero delta when the cache was valid or the key is absent.
func PFCount(o Object, st Stamp) (Object, uint64, error) {
	w := newWrite(o, st)
	cur, ok, err := HLLValue(w.seen, st.Now)
	if err != nil || !ok {
		return Object{}, 0, err
	}
	n, fresh, err := hll.Count(cur)
	if err != nil {
		return Object{}, 0, ErrHLLCorrupt
	}
	if fresh == nil {
		return Object{}, n, nil
	}
	w.putHLL(fresh)
	return w.delta(), n, nil
}

// HLLCount is PFCOUNT's read: the cardinality of the key's HLL (cached or
// estimated), without writing. ErrWrongType, ErrNotHLL, ErrHLLCorrupt.
func HLLCount(o Object, now int64) (n uint64, stale bool, err error) {
	cur, ok, err := HLLValue(o, now)
	if err != nil || !ok {
		return 0, false, err
	}
	n, fresh, err := hll.Count(cur)
	if err != nil {
		return 0, false, ErrHLLCorrupt
	}
	return n, fresh != nil, nil
}

// PFMerge is PFMERGE's write of the destination: regs (the sources'
// registers, the destination's included) stored into the destination's
// HLL (a new one if absent), dense if dense. ErrWrongType, ErrNotHLL,
// ErrHLLCorrupt.
func PFMerge(o Object, st Stamp, regs *hll.Regs, dense bool) (Object, error) {
	w, cur, _, err := hllWrite(o, st)
	if err != nil {
		return Object{}, err
	}
	next, err := hll.Store(cur, regs, dense)
	if err != nil {
		return Object{}, ErrHLLCorrupt
	}
	w.putHLL(next)
	return w.delta(), nil
}
