package crdt

import (
	"math"
	"strconv"

	"github.com/dynakv/dynakv/replica/dvv"
)

// dotLess orders dots for "latest write" decisions: by counter (dynakv's
// counters are hybrid-logical clocks, microseconds), then by actor.
func dotLess(x, y dvv.Dot) bool {
	if x.Counter != y.Counter {
		return x.Counter < y.Counter
	}
	return x.Actor < y.Actor
}

// contribution returns what a live counter entry adds past its actor's
// record. ok is false for an entry the record has passed (removed).
func (v value) contribution(c ctr) (i int64, f float64, ok bool) {
	r, has := v.rec(c.dot.Actor)
	if has && !c.after(r) {
		return 0, 0, false
	}
	// NB: wrapping uint64 arithmetic; the true sum fits int64 when the
	// counter does.
	i = int64((c.inc - r.inc) - (c.dec - r.dec))
	f = (c.finc - r.finc) - (c.fdec - r.fdec)
	return i, f, true
}

// view is what a plain read of a value sees at a time.
type view struct {
	ok      bool
	winner  reg     // the latest live plain register (if plain)
	plain   bool    // winner exists
	counter bool    // a counter: base registers or live entries exist
	latest  dvv.Dot // the value's latest live dot
}

func (v value) view(now int64) view {
	var w view
	for _, r := range v.regs {
		if !r.live(now) {
			continue
		}
		if dotLess(w.latest, r.dot) {
			w.latest = r.dot
		}
		if r.flags&regBase != 0 {
			w.counter = true
			continue
		}
		if !w.plain || r.ts > w.winner.ts || r.ts == w.winner.ts && r.dot.Compare(w.winner.dot) > 0 {
			w.winner, w.plain = r, true
		}
	}
	for _, c := range v.ctrs {
		if _, _, ok := v.contribution(c); ok {
			w.counter = true
			if dotLess(w.latest, c.dot) {
				w.latest = c.dot
			}
		}
	}
	w.ok = w.plain || w.counter
	return w
}

// number is a parsed numeric string.
type number struct {
	i       int64
	f       float64
	isFloat bool
}

// parseNumber parses a Redis integer (strict: no sign-only, no spaces, no
// leading zeros beyond "0") or, failing that, a float.
func parseNumber(b []byte) (number, bool) {
	if i, ok := parseInt(b); ok {
		return number{i: i}, true
	}
	f, ok := parseFloat(b)
	return number{f: f, isFloat: true}, ok
}

// parseInt is Redis's string2ll: an optional '-', digits, no leading zeros,
// within int64.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 {
		return 0, false
	}
	s := string(b)
	if s == "0" {
		return 0, true
	}
	d := s
	if d[0] == '-' {
		d = d[1:]
	}
	if d == "" || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	i, err := strconv.ParseInt(s, 10, 64)
	return i, err == nil
}

// parseFloat is Redis's string2ld as INCRBYFLOAT uses it: no spaces, no
// NaN, finite.
func parseFloat(b []byte) (float64, bool) {
	if len(b) == 0 || len(b) > 5000 || b[0] == ' ' || b[len(b)-1] == ' ' {
		return 0, false
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// FormatFloat renders a float as INCRBYFLOAT replies it: the shortest
// decimal that reads back as f, without exponent. (Redis computes in long
// double and prints 17 digits; results agree while they fit a float64.)
func FormatFloat(f float64) []byte {
	if f == 0 {
		return []byte("0")
	}
	return strconv.AppendFloat(nil, f, 'f', -1, 64)
}

// sum returns the counter value of v (its bases, contributions and, when
// concurrent with them, the latest plain value as base). ok is false when
// a part is not numeric; the caller then reads the latest plain value.
func (v value) sum(now int64, w view) (n number, ok bool) {
	add := func(x number) {
		if x.isFloat {
			n.isFloat = true
		}
		n.i += x.i
		n.f += x.f
	}
	if w.plain {
		x, ok := parseNumber(w.winner.val)
		if !ok {
			return n, false
		}
		add(x)
	}
	for _, r := range v.regs {
		if r.live(now) && r.flags&regBase != 0 {
			x, ok := parseNumber(r.val)
			if !ok {
				return n, false
			}
			add(x)
		}
	}
	for _, c := range v.ctrs {
		i, f, ok := v.contribution(c)
		if !ok {
			continue
		}
		n.i += i
		if f != 0 {
			n.isFloat = true
			n.f += f
		}
	}
	if n.isFloat {
		n.f += float64(n.i)
		n.i = 0
	}
	return n, true
}

// read returns the bytes a plain read of v returns at now.
func (v value) read(now int64) ([]byte, bool) {
	w := v.view(now)
	if !w.ok {
		return nil, false
	}
	if !w.counter {
		return w.winner.val, true
	}
	n, ok := v.sum(now, w)
	if !ok {
		// A non-numeric value concurrent with a counter: the latest wins.
		if w.plain && !dotLess(w.winner.dot, w.latest) {
			return w.winner.val, true
		}
		n, _ = value{regs: onlyBases(v.regs), ctrs: v.ctrs, recs: v.recs}.sum(now, view{})
	}
	if n.isFloat {
		return FormatFloat(n.f), true
	}
	return strconv.AppendInt(nil, n.i, 10), true
}

func onlyBases(rs []reg) []reg {
	var out []reg
	for _, r := range rs {
		if r.flags&regBase != 0 {
			out = append(out, r)
		}
	}
	return out
}

// dots appends every dot v's registers and entries carry.
func (v value) dots(dst []dvv.Dot) []dvv.Dot {
	for _, r := range v.regs {
		dst = append(dst, r.dot)
	}
	for _, c := range v.ctrs {
		dst = append(dst, c.dot)
	}
	return dst
}

// removal returns the delta part that removes everything of v: its dots
// (for the context) and a record per live counter entry.
func (v value) removal(dots []dvv.Dot) (value, []dvv.Dot) {
	var out value
	for _, c := range v.ctrs {
		out.recs = append(out.recs, c)
	}
	sortRecs(out.recs)
	return out, v.dots(dots)
}

// effective returns the deadline an expiry register sets: none if empty or
// if any entry is a PERSIST, else the latest deadline.
func effective(es []expiry) int64 {
	var at int64
	for _, e := range es {
		if e.at == 0 {
			return 0
		}
		at = max(at, e.at)
	}
	return at
}
