package crdt

import (
	"github.com/dynakv/dynakv/replica/dvv"
)

// SetOptions are SET's conditions and expiry (parsed by the caller).
type SetOptions struct {
	NX, XX  bool  // write only if the key is absent / present (any type)
	Get     bool  // reply the old string value (ErrWrongType on another type)
	KeepTTL bool  // keep the key's expiry
	Expiry  int64 // absolute Unix ms; 0: none (at or before now: the key is deleted)
}

// SetResult is SET's outcome: the old value (with Get) and whether the
// write happened (false: NX/XX not met; the delta is then the zero Object).
type SetResult struct {
	Old     []byte
	HadOld  bool
	Written bool
}

// Set is SET (and SETNX, SETEX, PSETEX, GETSET, MSET per key): the new
// value supersedes everything of every type the object holds, including
// its expiry (unless KeepTTL). Redis's SET semantics: NX/XX judged on the
// key's existence at st.Now.
func Set(o Object, st Stamp, val []byte, opt SetOptions) (Object, SetResult, error) {
	w := newWrite(o, st)
	var r SetResult
	t := TypeOf(w.seen, st.Now)
	if opt.Get && t != KindNone && t != KindString && t != KindHLL {
		return Object{}, r, ErrWrongType
	}
	if t == KindString || t == KindHLL {
		r.Old, r.HadOld, _ = Get(w.seen, st.Now)
	}
	if opt.NX && t != KindNone || opt.XX && t == KindNone {
		return Object{}, r, nil
	}
	keep, _ := Expiry(w.seen, st.Now)
	w.clearAll()
	if opt.Expiry != 0 && opt.Expiry <= st.Now {
		w.d.str.regs = []reg{{dot: w.next(), ts: st.ts(), flags: regTombstone}}
		r.Written = true
		return w.delta(), r, nil
	}
	w.d.str.regs = []reg{{dot: w.next(), ts: st.ts(), val: val}}
	at := opt.Expiry
	if opt.KeepTTL {
		at = keep
	}
	if at != 0 {
		w.d.exp = []expiry{{dot: w.next(), at: at}}
	}
	r.Written = true
	return w.delta(), r, nil
}

// Del is DEL (and UNLINK, GETDEL): if the key exists at st.Now, a delta
// superseding everything the object holds, with a tombstone register (its
// timestamp dates the delete for the reaper). existed false: no write.
func Del(o Object, st Stamp) (Object, bool) {
	w := newWrite(o, st)
	if !Live(w.seen, st.Now) {
		return Object{}, false
	}
	w.clearAll()
	w.d.str.regs = []reg{{dot: w.next(), ts: st.ts(), flags: regTombstone}}
	return w.delta(), true
}

// VSet is VSET: a string sibling that supersedes exactly what the client's
// context ctx covers (empty: a blind write), as dvv.Update. ErrWrongType
// if the key holds another type.
func VSet(o Object, st Stamp, ctx dvv.VV, val []byte) (Object, error) {
	return vwrite(o, st, ctx, reg{ts: st.ts(), val: val})
}

// VDel is VDEL: a tombstone sibling superseding what ctx covers.
func VDel(o Object, st Stamp, ctx dvv.VV) (Object, error) {
	return vwrite(o, st, ctx, reg{ts: st.ts(), flags: regTombstone})
}

func vwrite(o Object, st Stamp, ctx dvv.VV, r reg) (Object, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindString); err != nil {
		return Object{}, err
	}
	tok := context{vv: ctx.Join(nil)}
	tok = normalize(tok.vv, nil)
	// Counter entries the token covers are removed: record them.
	var recs []ctr
	for _, c := range w.seen.str.ctrs {
		if tok.covers(c.dot) {
			recs = append(recs, c)
		}
	}
	sortRecs(recs)
	w.d.str.recs = compactRecs(recs)
	r.dot = w.next()
	w.d.str.regs = []reg{r}
	d := w.delta()
	d.ctx = joinCtx(d.ctx, tok)
	return d, nil
}

// stringWrite starts a string command that keeps the key's expiry: the
// type is checked, other types' content superseded.
func stringWrite(o Object, st Stamp) (*write, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindString); err != nil {
		return nil, err
	}
	w.resolve(KindString)
	if ok, l := w.seen.hllLatest(); ok && TypeOf(w.seen, st.Now) == KindHLL {
		// NB: string commands read an HLL key as its bytes, as one plain
		// register under the latest entry's dot (superseded with it),
		// after superseding any older string content.
		w.removeStr()
		w.seen.str = value{regs: []reg{{dot: l, ts: st.ts(), val: w.seen.hllBytes()}}}
	}
	return w, nil
}

// replace supersedes the string content with one plain value (keeping a
// legacy sibling expiry of the value read, and the key's expiry).
func (w *write) replace(val []byte) {
	vw := w.seen.str.view(w.st.Now)
	w.removeStr()
	r := reg{dot: w.next(), ts: w.st.ts(), val: val}
	if vw.plain && !vw.counter {
		r.exp = vw.winner.exp
	}
	w.d.str.regs = []reg{r}
}

// Append is APPEND: the value read plus suffix as one plain value. It
// returns the new length in bytes.
func Append(o Object, st Stamp, suffix []byte) (Object, int64, error) {
	w, err := stringWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	cur, _ := w.seen.str.read(st.Now)
	if len(cur)+len(suffix) > MaxStringLen {
		return Object{}, 0, ErrTooLarge
	}
	val := make([]byte, 0, len(cur)+len(suffix))
	val = append(append(val, cur...), suffix...)
	w.replace(val)
	return w.delta(), int64(len(val)), nil
}

// SetRange is SETRANGE: val written at offset (bytes), zero-padded. It
// returns the new length; with an empty val nothing is written (the zero
// delta) and the current length is returned.
func SetRange(o Object, st Stamp, offset int64, val []byte) (Object, int64, error) {
	if offset < 0 {
		return Object{}, 0, ErrOffset
	}
	w, err := stringWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	cur, _ := w.seen.str.read(st.Now)
	if len(val) == 0 {
		return Object{}, int64(len(cur)), nil
	}
	if offset+int64(len(val)) > MaxStringLen {
		return Object{}, 0, ErrTooLarge
	}
	n := max(len(cur), int(offset)+len(val))
	out := make([]byte, n)
	copy(out, cur)
	copy(out[offset:], val)
	w.replace(out)
	return w.delta(), int64(n), nil
}

// IncrBy is INCR, INCRBY, DECR and DECRBY (by = −n): the value read plus
// by, as a counter (doc.go: every increment counts on every replica). It
// returns the value this write's coordinator sees after it.
// ErrNotInteger, ErrOverflow, ErrWrongType.
func IncrBy(o Object, st Stamp, by int64) (Object, int64, error) {
	w, err := stringWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	cur, err := readInt(w.seen.str, st.Now, ErrNotInteger)
	if err != nil {
		return Object{}, 0, err
	}
	n, err := addInt(cur, by)
	if err != nil {
		return Object{}, 0, err
	}
	w.d.str = mergeValue(w.d.str, w.counterDelta(w.seen.str, incr{i: by}), context{}, context{})
	return w.delta(), n, nil
}

// IncrByFloat is INCRBYFLOAT: returns the new value as its reply renders
// it. ErrNotFloat, ErrNaN, ErrWrongType.
func IncrByFloat(o Object, st Stamp, by float64) (Object, []byte, error) {
	w, err := stringWrite(o, st)
	if err != nil {
		return Object{}, nil, err
	}
	cur, err := readFloat(w.seen.str, st.Now, ErrNotFloat)
	if err != nil {
		return Object{}, nil, err
	}
	if _, ok := parseFloat(FormatFloat(cur + by)); !ok {
		return Object{}, nil, ErrNaN
	}
	w.d.str = mergeValue(w.d.str, w.counterDelta(w.seen.str, incr{f: by, isFloat: true}), context{}, context{})
	d := w.delta()
	if target, ok := redisIncrFloat(readBytes(w.seen.str, st.Now), by); ok {
		roundFloatIncr(w.seen.str, d.str, w.seen.ctx, d.ctx, st.Now, st.Dot.Actor, target)
	}
	after, _ := mergeValue(w.seen.str, d.str, w.seen.ctx, d.ctx).read(st.Now)
	return d, after, nil
}

// ExpireCond is EXPIRE's condition option.
type ExpireCond uint8

// The conditions of EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT and HEXPIRE.
const (
	ExpireAlways ExpireCond = iota
	ExpireNX                // only if no expiry
	ExpireXX                // only if an expiry
	ExpireGT                // only if later than the current one (none counts as infinite)
	ExpireLT                // only if earlier than the current one (none counts as infinite)
)

// met reports whether cond allows setting at when the current deadline is
// cur (0: none).
func (c ExpireCond) met(cur, at int64) bool {
	switch c {
	case ExpireNX:
		return cur == 0
	case ExpireXX:
		return cur != 0
	case ExpireGT:
		return cur != 0 && at > cur
	case ExpireLT:
		return cur == 0 || at < cur
	}
	return true
}

// Expire is EXPIRE and its variants with an absolute deadline at (Unix
// ms): a new entry of the key's expiry register superseding the entries
// seen. A deadline at or before st.Now deletes the key (as Redis). ok is
// false (zero delta) when the key is absent or cond is not met.
func Expire(o Object, st Stamp, at int64, cond ExpireCond) (Object, bool) {
	w := newWrite(o, st)
	if !Live(w.seen, st.Now) {
		return Object{}, false
	}
	cur, _ := Expiry(w.seen, st.Now)
	if !cond.met(cur, at) {
		return Object{}, false
	}
	if at <= st.Now {
		return Del(o, st)
	}
	w.setExp(at)
	return w.delta(), true
}

// setExp writes the key's expiry register (at 0: PERSIST), rewriting a
// string value that carries a legacy expiry of its own.
func (w *write) setExp(at int64) {
	w.removeExp()
	if vw := w.seen.str.view(w.st.Now); vw.plain && vw.winner.exp != 0 && TypeOf(w.seen, w.st.Now) == KindString {
		w.replace(vw.winner.val)
		w.d.str.regs[0].exp = 0
	}
	w.d.exp = []expiry{{dot: w.next(), at: at}}
}

// Persist is PERSIST: a PERSIST entry of the expiry register (which wins
// over concurrent EXPIREs). ok is false (zero delta) if the key is absent
// or has no expiry.
func Persist(o Object, st Stamp) (Object, bool) {
	w := newWrite(o, st)
	if _, ok := Expiry(w.seen, st.Now); !ok {
		return Object{}, false
	}
	w.setExp(0)
	return w.delta(), true
}

// GetSet is GETSET: SET with GET (the old string value, ok false if none).
func GetSet(o Object, st Stamp, val []byte) (Object, []byte, bool, error) {
	d, r, err := Set(o, st, val, SetOptions{Get: true})
	return d, r.Old, r.HadOld, err
}
