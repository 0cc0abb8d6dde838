package crdt

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// Format versions (the first byte). Version 1 is dvv's encoding, which
// stays the encoding of a plain string object (see Encode); version 3 is
// this package's. (Version 2 is taken by dvv's context tokens.)
const (
	formatDVV  = 1
	formatCRDT = 3
)

// Section tags of version 3, in encoding order. The next issue's types
// take 5 (zset), 6 (list), 7 (hll).
const (
	tagEnd  = 0
	tagStr  = 1
	tagExp  = 2
	tagHash = 3
	tagSet  = 4
	tagZSet = 5
	tagList = 6
	tagHLL  = 7
)

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// legacy reports whether o is exactly a dvv object: plain string siblings
// and a version-vector context, nothing else.
func (o Object) legacy() bool {
	if len(o.ctx.cloud) > 0 || len(o.str.ctrs) > 0 || len(o.str.recs) > 0 || len(o.exp) > 0 || len(o.hash) > 0 || len(o.set) > 0 || len(o.zset) > 0 || len(o.list) > 0 || len(o.hll) > 0 {
		return false
	}
	for _, r := range o.str.regs {
		if r.flags&regBase != 0 {
			return false
		}
	}
	return true
}

// DVV returns o as a dvv.Object when it is one (plain string siblings only,
// as every object stored before this package was), and ok.
func (o Object) DVV() (dvv.Object, bool) {
	d, ok := o.dvvView()
	if ok {
		d.Context = d.Context.Join(nil)
	}
	return d, ok
}

// dvvView is DVV sharing o's context vector instead of copying it, for
// the encoders (Encode, EncodedLen), which only read it.
func (o Object) dvvView() (dvv.Object, bool) {
	if !o.legacy() {
		return dvv.Object{}, false
	}
	out := dvv.Object{Context: o.ctx.vv}
	if len(o.str.regs) > 0 {
		out.Siblings = make([]dvv.Sibling, 0, len(o.str.regs))
	}
	for _, r := range o.str.regs {
		out.Siblings = append(out.Siblings, dvv.Sibling{Dot: r.dot, Timestamp: r.ts, Expiry: r.exp, Tombstone: r.flags&regTombstone != 0, Value: r.val})
	}
	return out, true
}

// FromDVV returns the string object of a dvv.Object (siblings become
// string registers, their expiry and tombstones kept).
func FromDVV(d dvv.Object) Object {
	o := Object{ctx: normalize(d.Context.Join(nil), nil)}
	for _, s := range d.Siblings {
		r := reg{dot: s.Dot, ts: s.Timestamp, exp: s.Expiry, val: s.Value}
		if s.Tombstone {
			r.flags, r.val = regTombstone, nil
		}
		o.str.regs = append(o.str.regs, r)
	}
	return o
}

// Encode returns the canonical encoding of o: equal states encode to equal
// bytes. A plain string object encodes exactly as dvv.Object.Encode (format
// 1), so existing data round-trips to the same bytes; anything else as
// format 3.
func (o Object) Encode() []byte { return o.AppendEncode(nil) }

// EncodedLen returns len(o.Encode()) for a plain string object (one
// encoded as dvv's format), computed without encoding it, or -1 for any
// other object.
func (o Object) EncodedLen() int {
	if d, ok := o.dvvView(); ok {
		return d.EncodedLen()
	}
	return -1
}

// AppendEncode appends the encoding of o to dst.
func (o Object) AppendEncode(dst []byte) []byte {
	if d, ok := o.dvvView(); ok {
		return d.AppendEncode(dst)
	}
	actors := o.actors()
	dst = slices.Grow(dst, o.sizeHint())
	e := encoder{b: dst, idx: make(map[string]int, len(actors))}
	for i, a := range actors {
		e.idx[a] = i
	}
	e.b = append(e.b, formatCRDT)
	e.uv(len(actors))
	for _, a := range actors {
		e.str(a)
	}
	vv := o.ctx.vv
	n := 0
	for _, a := range actors {
		if vv[a] != 0 {
			n++
		}
	}
	e.uv(n)
	for _, a := range actors {
		if vv[a] != 0 {
			e.uv(e.idx[a])
			e.u64(vv[a])
		}
	}
	e.uv(len(o.ctx.cloud))
	for _, c := range o.ctx.cloud {
		e.dot(c.dot)
		e.u64(c.prev)
	}
	if !o.str.empty() {
		e.b = append(e.b, tagStr)
		e.value(o.str)
	}
	if len(o.exp) > 0 {
		e.b = append(e.b, tagExp)
		e.exps(o.exp)
	}
	if len(o.hash) > 0 {
		e.b = append(e.b, tagHash)
		e.uv(len(o.hash))
		for _, f := range o.hash {
			e.str(f.name)
			e.value(f.v)
			e.exps(f.exp)
		}
	}
	if len(o.set) > 0 {
		e.b = append(e.b, tagSet)
		e.uv(len(o.set))
		for _, m := range o.set {
			e.str(m.name)
			e.uv(len(m.dots))
			for _, d := range m.dots {
				e.dot(d)
			}
		}
	}
	if len(o.zset) > 0 {
		e.b = append(e.b, tagZSet)
		e.uv(len(o.zset))
		for _, f := range o.zset {
			e.str(f.name)
			e.value(f.v)
		}
	}
	if len(o.list) > 0 {
		e.b = append(e.b, tagList)
		e.uv(len(o.list))
		for _, it := range o.list {
			e.uv(len(it.pos))
			for _, c := range it.pos {
				e.i64(c.n)
				e.dot(c.d)
			}
			// NB: 2k+1 for k values of which the first has the item's own
			// dot (never LSET), which is then not repeated: 9 bytes less
			// per element.
			vs := it.vals
			if vs[0].dot == it.pos[len(it.pos)-1].d {
				e.uv(2*len(vs) + 1)
				e.str(string(vs[0].val))
				vs = vs[1:]
			} else {
				e.uv(2 * len(vs))
			}
			for _, v := range vs {
				e.dot(v.dot)
				e.str(string(v.val))
			}
		}
	}
	if len(o.hll) > 0 {
		e.b = append(e.b, tagHLL)
		e.uv(len(o.hll))
		for _, h := range o.hll {
			e.dot(h.dot)
			e.uv(len(h.val))
			e.b = append(e.b, h.val...)
		}
	}
	return append(e.b, tagEnd)
}

// sizeHint estimates the encoding's size in bytes (to allocate once).
func (o Object) sizeHint() int {
	n := 64 + 24*len(o.ctx.vv) + 16*len(o.ctx.cloud) + valueHint(o.str) + 12*len(o.exp)
	for _, f := range o.hash {
		n += 4 + len(f.name) + valueHint(f.v) + 12*len(f.exp)
	}
	for _, m := range o.set {
		n += 2 + len(m.name) + 10*len(m.dots)
	}
	for _, f := range o.zset {
		n += 4 + len(f.name) + valueHint(f.v)
	}
	for _, it := range o.list {
		n += 2 + 12*len(it.pos) + 12*len(it.vals)
		for _, v := range it.vals {
			n += len(v.val)
		}
	}
	for _, h := range o.hll {
		n += 16 + len(h.val)
	}
	return n
}

func valueHint(v value) int {
	n := 3 + 40*(len(v.ctrs)+len(v.recs))
	for _, r := range v.regs {
		n += 24 + len(r.val)
	}
	return n
}

// actors returns every actor o names, sorted.
func (o Object) actors() []string {
	seen := map[string]bool{}
	for a, c := range o.ctx.vv {
		if c != 0 {
			seen[a] = true
		}
	}
	for _, c := range o.ctx.cloud {
		seen[c.dot.Actor] = true
	}
	// Content dots are covered by the context; records name their actor.
	addRecs := func(v value) {
		for _, r := range v.recs {
			seen[r.dot.Actor] = true
		}
	}
	addRecs(o.str)
	for _, f := range o.hash {
		addRecs(f.v)
	}
	for _, f := range o.zset {
		addRecs(f.v)
	}
	// List positions name the dots of earlier insertions, which a delta's
	// context need not cover.
	last := ""
	for _, it := range o.list {
		for _, c := range it.pos {
			if c.d.Actor != last { // NB: most positions name one actor
				seen[c.d.Actor] = true
				last = c.d.Actor
			}
		}
	}
	out := make([]string, 0, len(seen))
	for a := range seen {
		out = append(out, a)
	}
	slices.Sort(out)
	return out
}

type encoder struct {
	b   []byte
	idx map[string]int
	// last and lastIdx memoise the latest actor looked up: a big object's
	// dots are mostly of a few actors, so most dots skip the map.
	last    string
	lastIdx int
}

func (e *encoder) uv(n int)     { e.b = binary.AppendUvarint(e.b, uint64(n)) }
func (e *encoder) u64(n uint64) { e.b = binary.AppendUvarint(e.b, n) }
func (e *encoder) i64(n int64)  { e.b = binary.AppendVarint(e.b, n) }
func (e *encoder) f64(f float64) {
	e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(f))
}
func (e *encoder) str(s string) { e.uv(len(s)); e.b = append(e.b, s...) }
func (e *encoder) dot(d dvv.Dot) {
	if d.Actor != e.last || e.last == "" {
		e.last, e.lastIdx = d.Actor, e.idx[d.Actor]
	}
	e.uv(e.lastIdx)
	e.u64(d.Counter)
}

func (e *encoder) ctr(c ctr) {
	e.dot(c.dot)
	e.u64(c.inc)
	e.u64(c.dec)
	e.f64(c.finc)
	e.f64(c.fdec)
}

func (e *encoder) value(v value) {
	e.uv(len(v.regs))
	for _, r := range v.regs {
		e.dot(r.dot)
		e.b = appendRegBody(e.b, r)
	}
	e.uv(len(v.ctrs))
	for _, c := range v.ctrs {
		e.ctr(c)
	}
	e.uv(len(v.recs))
	for _, c := range v.recs {
		e.ctr(c)
	}
}

func (e *encoder) exps(es []expiry) {
	e.uv(len(es))
	for _, x := range es {
		e.dot(x.dot)
		e.i64(x.at)
	}
}

func appendRegBody(dst []byte, r reg) []byte {
	dst = binary.AppendVarint(dst, r.ts)
	dst = binary.AppendVarint(dst, r.exp)
	dst = append(dst, r.flags)
	if r.flags&regTombstone != 0 {
		return dst
	}
	dst = binary.AppendUvarint(dst, uint64(len(r.val)))
	return append(dst, r.val...)
}

// appendReg encodes a register on its own (for tie-breaks).
func appendReg(dst []byte, r reg) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(r.dot.Actor)))
	dst = append(dst, r.dot.Actor...)
	dst = binary.AppendUvarint(dst, r.dot.Counter)
	return appendRegBody(dst, r)
}

// decoder reads format 3; the first failure sticks in err.
type decoder struct {
	b      []byte
	err    error
	actors []string
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = corruptf(format, args...)
	}
}

func (d *decoder) u64() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		d.fail("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) i64() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 {
		d.fail("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) f64() float64 {
	if d.err != nil {
		return 0
	}
	if len(d.b) < 8 {
		d.fail("truncated")
		return 0
	}
	f := math.Float64frombits(binary.LittleEndian.Uint64(d.b))
	d.b = d.b[8:]
	if math.IsNaN(f) || math.IsInf(f, 0) {
		d.fail("non-finite float")
	}
	return f
}

// count reads a length whose elements take at least minSize bytes each,
// so that no hostile length allocates more than the input's size.
func (d *decoder) count(minSize int) int {
	n := d.u64()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.fail("length %d exceeds remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes() []byte {
	n := d.count(1)
	if d.err != nil {
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) dot() dvv.Dot {
	i := d.u64()
	c := d.u64()
	if d.err != nil {
		return dvv.Dot{}
	}
	if i >= uint64(len(d.actors)) || c == 0 {
		d.fail("bad dot")
		return dvv.Dot{}
	}
	return dvv.Dot{Actor: d.actors[i], Counter: c}
}

func (d *decoder) ctr() ctr {
	return ctr{dot: d.dot(), inc: d.u64(), dec: d.u64(), finc: d.f64(), fdec: d.f64()}
}

func (d *decoder) value() value {
	var v value
	n := d.count(5)
	for i := 0; i < n && d.err == nil; i++ {
		r := reg{dot: d.dot(), ts: d.i64(), exp: d.i64(), flags: d.byte()}
		if r.flags > regTombstone|regBase {
			d.fail("bad register flags")
		}
		if r.flags&regTombstone == 0 {
			r.val = d.bytes()
			if r.val == nil {
				r.val = []byte{}
			}
		}
		v.regs = append(v.regs, r)
	}
	n = d.count(20)
	for i := 0; i < n && d.err == nil; i++ {
		v.ctrs = append(v.ctrs, d.ctr())
	}
	n = d.count(20)
	for i := 0; i < n && d.err == nil; i++ {
		v.recs = append(v.recs, d.ctr())
	}
	return v
}

func (d *decoder) exps() []expiry {
	var es []expiry
	n := d.count(3)
	for i := 0; i < n && d.err == nil; i++ {
		es = append(es, expiry{dot: d.dot(), at: d.i64()})
	}
	return es
}

// Decode parses an encoded object: format 3, or format 1 (a stored
// dvv.Object, read as a string object). Malformed input yields an error
// wrapping ErrCorrupt; it never panics and allocates at most in proportion
// to len(b). The object aliases b's value bytes.
func Decode(b []byte) (Object, error) {
	if len(b) > 0 && b[0] == formatDVV {
		o, err := dvv.Decode(b)
		if err != nil {
			return Object{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		c := FromDVV(o)
		if err := c.Validate(); err != nil { // NB: dvv allows an empty actor name
			return Object{}, err
		}
		return c, nil
	}
	d := &decoder{b: b}
	if v := d.byte(); d.err == nil && v != formatCRDT {
		return Object{}, corruptf("unknown format version %d", v)
	}
	n := d.count(1)
	d.actors = make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		a := string(d.bytes())
		if d.err == nil && (a == "" || i > 0 && a <= d.actors[i-1]) {
			d.fail("actors not canonical")
		}
		d.actors = append(d.actors, a)
	}
	var o Object
	n = d.count(2)
	o.ctx.vv = make(dvv.VV, n)
	last := -1
	for i := 0; i < n && d.err == nil; i++ {
		idx, c := d.u64(), d.u64()
		if d.err != nil {
			break
		}
		if idx >= uint64(len(d.actors)) || int(idx) <= last || c == 0 {
			d.fail("context not canonical")
			break
		}
		last = int(idx)
		o.ctx.vv[d.actors[idx]] = c
	}
	n = d.count(3)
	for i := 0; i < n && d.err == nil; i++ {
		o.ctx.cloud = append(o.ctx.cloud, cdot{dot: d.dot(), prev: d.u64()})
	}
	prevTag := tagEnd
	for d.err == nil {
		tag := int(d.byte())
		if d.err != nil || tag == tagEnd {
			break
		}
		if tag <= prevTag {
			d.fail("section %d out of order", tag)
			break
		}
		prevTag = tag
		switch tag {
		case tagStr:
			if o.str = d.value(); o.str.empty() {
				d.fail("empty string section")
			}
		case tagExp:
			if o.exp = d.exps(); len(o.exp) == 0 {
				d.fail("empty expiry section")
			}
		case tagHash:
			n := d.count(4)
			if n == 0 {
				d.fail("empty hash section")
			}
			for i := 0; i < n && d.err == nil; i++ {
				o.hash = append(o.hash, field{name: string(d.bytes()), v: d.value(), exp: d.exps()})
			}
		case tagSet:
			n := d.count(3)
			if n == 0 {
				d.fail("empty set section")
			}
			for i := 0; i < n && d.err == nil; i++ {
				m := member{name: string(d.bytes())}
				k := d.count(2)
				for j := 0; j < k && d.err == nil; j++ {
					m.dots = append(m.dots, d.dot())
				}
				o.set = append(o.set, m)
			}
		case tagZSet:
			n := d.count(4)
			if n == 0 {
				d.fail("empty zset section")
			}
			for i := 0; i < n && d.err == nil; i++ {
				o.zset = append(o.zset, field{name: string(d.bytes()), v: d.value()})
			}
		case tagList:
			n := d.count(4)
			if n == 0 {
				d.fail("empty list section")
			}
			// NB: one allocation for the items and few for their parts
			// (arenas sized by n, which the input bounds), not two per item.
			o.list = make([]item, 0, n)
			var comps []lcomp
			var vals []lval
			for i := 0; i < n && d.err == nil; i++ {
				var it item
				k := d.count(2)
				if cap(comps)-len(comps) < k {
					comps = make([]lcomp, 0, max(k, 2*n))
				}
				it.pos = comps[len(comps) : len(comps)+k : len(comps)+k]
				comps = comps[:len(comps)+k]
				for j := 0; j < k && d.err == nil; j++ {
					it.pos[j] = lcomp{n: d.i64(), d: d.dot()}
				}
				k = d.count(1)
				own := k%2 == 1
				k /= 2
				if cap(vals)-len(vals) < k {
					vals = make([]lval, 0, max(k, n))
				}
				it.vals = vals[len(vals) : len(vals)+k : len(vals)+k]
				vals = vals[:len(vals)+k]
				for j := 0; j < k && d.err == nil; j++ {
					if j == 0 && own && len(it.pos) > 0 {
						it.vals[j] = lval{dot: it.pos[len(it.pos)-1].d, val: d.bytes()}
						continue
					}
					it.vals[j] = lval{dot: d.dot(), val: d.bytes()}
				}
				if d.err == nil && k > 0 && !own && len(it.pos) > 0 && it.vals[0].dot == it.pos[len(it.pos)-1].d {
					d.fail("list item not canonical")
				}
				o.list = append(o.list, it)
			}
		case tagHLL:
			n := d.count(3)
			if n == 0 {
				d.fail("empty hll section")
			}
			for i := 0; i < n && d.err == nil; i++ {
				o.hll = append(o.hll, hllEntry{dot: d.dot(), val: d.bytes()})
			}
		default:
			d.fail("unknown section %d", tag)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.fail("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return Object{}, d.err
	}
	if err := o.Validate(); err != nil {
		return Object{}, err
	}
	if o.legacy() {
		return Object{}, corruptf("plain string object in format 3")
	}
	if !slices.Equal(o.actors(), d.actors) {
		return Object{}, corruptf("actor table not canonical")
	}
	return o, nil
}
