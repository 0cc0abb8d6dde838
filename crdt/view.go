package crdt

import (
	"cmp"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

func sortRecs(rs []ctr) {
	slices.SortFunc(rs, func(x, y ctr) int { return cmp.Compare(x.dot.Actor, y.dot.Actor) })
}

// Deadline returns the key's expiry (Unix ms; 0: none) by the register
// rule: PERSIST over EXPIRE, then the latest deadline. A legacy string
// sibling's own expiry is not included (see Expiry).
func (o Object) deadline() int64 { return effective(o.exp) }

func (o Object) expired(now int64) bool {
	d := o.deadline()
	return d != 0 && d <= now
}

// liveField reports whether f has a readable value at now.
func (f *field) live(now int64) bool {
	if d := effective(f.exp); d != 0 && d <= now {
		return false
	}
	return f.v.view(now).ok
}

func findField(fs []field, name string) (int, bool) {
	return slices.BinarySearchFunc(fs, name, func(f field, n string) int { return cmp.Compare(f.name, n) })
}

func findMember(ms []member, name string) (int, bool) {
	return slices.BinarySearchFunc(ms, name, func(m member, n string) int { return cmp.Compare(m.name, n) })
}

// latest returns, per component, whether it has live content at now and its
// latest live dot. Components other than want are scanned fully only when
// more than one is non-empty.
func (o Object) kinds(now int64) (str, hash, set bool, ls, lh, lset dvv.Dot) {
	var w view
	w = o.str.view(now)
	str, ls = w.ok, w.latest
	full := (len(o.hash) > 0) && (str || len(o.set) > 0) || len(o.set) > 0 && str ||
		len(o.hll) > 0 && (str || len(o.hash) > 0 || len(o.set) > 0)
	for i := range o.hash {
		f := &o.hash[i]
		if d := effective(f.exp); d != 0 && d <= now {
			continue
		}
		fv := f.v.view(now)
		if fv.ok {
			hash = true
			if dotLess(lh, fv.latest) {
				lh = fv.latest
			}
			if !full {
				break
			}
		}
	}
	for _, m := range o.set {
		set = true
		if !full {
			break
		}
		for _, d := range m.dots {
			if dotLess(lset, d) {
				lset = d
			}
		}
	}
	return
}

// TypeOf returns the type of the key at now (Unix ms): KindNone if it has
// no live content or has expired; when writes of several types were
// concurrent, the type holding the latest live dot (by counter, then
// actor), until the next write resolves the conflict.
func TypeOf(o Object, now int64) Kind {
	if o.expired(now) {
		return KindNone
	}
	s, h, st, ls, lh, lst := o.kinds(now)
	var ll dvv.Dot // NB: scanned only when another type is live too
	if len(o.list) > 0 && (s || h || st || len(o.zset) > 0 || len(o.hll) > 0) {
		ll = o.listLatest()
	}
	hl, lhl := o.hllLatest()
	k, best := KindNone, dvv.Dot{}
	for _, c := range []struct {
		ok bool
		d  dvv.Dot
		k  Kind
	}{{s, ls, KindString}, {h, lh, KindHash}, {st, lst, KindSet}, zsetKind(o, now), {len(o.list) > 0, ll, KindList}, {hl, lhl, KindHLL}} {
		if c.ok && (k == KindNone || dotLess(best, c.d)) {
			k, best = c.k, c.d
		}
	}
	return k
}

// Live reports whether the key exists at now (Unix ms).
func Live(o Object, now int64) bool { return TypeOf(o, now) != KindNone }

// IsCounter reports whether the string at o is a counter (INCR family):
// OBJECT ENCODING's "int" for integers.
func IsCounter(o Object, now int64) bool {
	return TypeOf(o, now) == KindString && o.str.view(now).counter
}

// Expiry returns the key's expiry at now (absolute Unix ms) and whether it
// has one: the expiry register's, or a legacy sibling's own (the winner's,
// as dvv read it). ok is false for a missing key too.
func Expiry(o Object, now int64) (at int64, ok bool) {
	if !Live(o, now) {
		return 0, false
	}
	at = o.deadline()
	if w := o.str.view(now); w.plain && w.winner.exp != 0 && (at == 0 || w.winner.exp < at) && TypeOf(o, now) == KindString {
		at = w.winner.exp
	}
	return at, at != 0
}

// Get returns the value of a string key at now: the latest plain sibling
// (timestamp, then dot) or the counter's value as a decimal string.
// ErrWrongType if the key holds another type.
func Get(o Object, now int64) ([]byte, bool, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return nil, false, nil
	case KindString:
		b, ok := o.str.read(now)
		return b, ok, nil
	case KindHLL:
		return o.hllBytes(), true, nil
	}
	return nil, false, ErrWrongType
}

// Siblings returns the live plain siblings of a string key in dot order
// (VGET): a counter appears as one sibling under its latest dot holding its
// value. ErrWrongType if the key holds another type.
func Siblings(o Object, now int64) ([]dvv.Sibling, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return nil, nil
	case KindString:
	case KindHLL:
		_, l := o.hllLatest()
		return []dvv.Sibling{{Dot: l, Value: o.hllBytes()}}, nil
	default:
		return nil, ErrWrongType
	}
	w := o.str.view(now)
	if w.counter {
		b, _ := o.str.read(now)
		return []dvv.Sibling{{Dot: w.latest, Value: b}}, nil
	}
	var out []dvv.Sibling
	for _, r := range o.str.regs {
		if r.live(now) {
			out = append(out, dvv.Sibling{Dot: r.dot, Timestamp: r.ts, Expiry: r.exp, Value: r.val})
		}
	}
	return out, nil
}

// FieldValue is one hash field and its value.
type FieldValue struct {
	Field, Value []byte
}

func (o Object) hashOK(now int64) (bool, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return false, nil
	case KindHash:
		return true, nil
	}
	return false, ErrWrongType
}

// HGet returns a field's value at now (the latest, or its counter's sum).
func HGet(o Object, now int64, name []byte) ([]byte, bool, error) {
	if ok, err := o.hashOK(now); !ok {
		return nil, false, err
	}
	i, ok := findField(o.hash, string(name))
	if !ok || !o.hash[i].live(now) {
		return nil, false, nil
	}
	b, ok := o.hash[i].v.read(now)
	return b, ok, nil
}

// HGetAll returns the live fields at now, sorted by name.
func HGetAll(o Object, now int64) ([]FieldValue, error) {
	if ok, err := o.hashOK(now); !ok {
		return nil, err
	}
	var out []FieldValue
	for i := range o.hash {
		f := &o.hash[i]
		if !f.live(now) {
			continue
		}
		b, _ := f.v.read(now)
		out = append(out, FieldValue{Field: []byte(f.name), Value: b})
	}
	return out, nil
}

// HLen returns the number of live fields at now.
func HLen(o Object, now int64) (int64, error) {
	fs, err := HGetAll(o, now)
	return int64(len(fs)), err
}

// FieldExpiry returns a field's expiry at now (absolute Unix ms): code is
// -2 when the field (or key) does not exist, -1 when it has no expiry, 1
// when at is its deadline (HTTL/HPEXPIRETIME's codes).
func FieldExpiry(o Object, now int64, name []byte) (at int64, code int64, err error) {
	if ok, err := o.hashOK(now); !ok {
		return 0, -2, err
	}
	i, ok := findField(o.hash, string(name))
	if !ok || !o.hash[i].live(now) {
		return 0, -2, nil
	}
	if at = effective(o.hash[i].exp); at == 0 {
		return 0, -1, nil
	}
	return at, 1, nil
}

func (o Object) setOK(now int64) (bool, error) {
	switch TypeOf(o, now) {
	case KindNone:
		return false, nil
	case KindSet:
		return true, nil
	}
	return false, ErrWrongType
}

// Members returns the members of a set key at now, sorted.
func Members(o Object, now int64) ([][]byte, error) {
	if ok, err := o.setOK(now); !ok {
		return nil, err
	}
	out := make([][]byte, len(o.set))
	for i, m := range o.set {
		out[i] = []byte(m.name)
	}
	return out, nil
}

// IsMember reports whether m is in the set at now.
func IsMember(o Object, now int64, m []byte) (bool, error) {
	if ok, err := o.setOK(now); !ok {
		return false, err
	}
	_, ok := findMember(o.set, string(m))
	return ok, nil
}

// SCard returns the set's cardinality at now.
func SCard(o Object, now int64) (int64, error) {
	if ok, err := o.setOK(now); !ok {
		return 0, err
	}
	return int64(len(o.set)), nil
}

// Tombstone reports whether o is a tombstone at now: it has history (a
// non-empty context) but no live content. The replica's reaping rule
// decides when it may be dropped.
func Tombstone(o Object, now int64) bool { return !o.ctx.empty() && !Live(o, now) }

// NextEvent returns when a sweeper must next look at o (Unix ms; 0: never):
// the earliest deadline among the key's, its fields' and legacy siblings'.
func NextEvent(o Object) int64 {
	var next int64
	low := func(at int64) {
		if at != 0 && (next == 0 || at < next) {
			next = at
		}
	}
	low(o.deadline())
	for _, r := range o.str.regs {
		if r.flags&regTombstone == 0 {
			low(r.exp)
		}
	}
	for i := range o.hash {
		low(effective(o.hash[i].exp))
	}
	return next
}

// DeletedAt returns the newest tombstone register's timestamp (Unix ns; 0:
// none), for the reaper's grace period.
func DeletedAt(o Object) int64 {
	var t int64
	for _, r := range o.str.regs {
		if r.flags&regTombstone != 0 {
			t = max(t, r.ts)
		}
	}
	return t
}

// TTL returns the key's remaining time to live at now in ms, or Redis's
// codes: -2 if the key does not exist, -1 if it has no expiry.
func TTL(o Object, now int64) int64 {
	if !Live(o, now) {
		return -2
	}
	at, ok := Expiry(o, now)
	if !ok {
		return -1
	}
	return max(at-now, 0)
}
