package crdt

// hashWrite starts a hash command: the type is checked, other types'
// content superseded.
func hashWrite(o Object, st Stamp) (*write, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindHash); err != nil {
		return nil, err
	}
	w.resolve(KindHash)
	return w, nil
}

// seenField returns field name as the command sees it: its value, or the
// empty value (with its records) if it has expired, in which case the
// delta removes it. live reports whether it has a readable value.
func (w *write) seenField(name string) (v value, i int, found, live bool) {
	i, found = findField(w.seen.hash, name)
	if !found {
		return value{}, i, false, false
	}
	f := &w.seen.hash[i]
	if d := effective(f.exp); d != 0 && d <= w.st.Now {
		w.removeField(i)
		return recsOf(f.v), i, true, false
	}
	return f.v, i, true, f.v.view(w.st.Now).ok
}

// HSet is HSET and HMSET: each field gets the new value as a plain
// register (superseding its value, counter and expiry as seen). A repeated
// field takes its last value, as Redis. It returns how many fields were
// new. Each field takes its own dot (see Top).
func HSet(o Object, st Stamp, pairs []FieldValue) (Object, int64, error) {
	w, err := hashWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	last := make(map[string]int, len(pairs))
	for i, p := range pairs {
		last[string(p.Field)] = i
	}
	var added int64
	for i, p := range pairs {
		name := string(p.Field)
		if last[name] != i {
			continue
		}
		_, idx, found, live := w.seenField(name)
		if !live {
			added++
		}
		if found {
			w.removeField(idx)
		}
		w.putField(field{name: name, v: value{regs: []reg{{dot: w.next(), ts: st.ts(), val: p.Value}}}})
	}
	return w.delta(), added, nil
}

// HSetNX is HSETNX: set is false (zero delta) if the field exists.
func HSetNX(o Object, st Stamp, name, val []byte) (Object, bool, error) {
	w, err := hashWrite(o, st)
	if err != nil {
		return Object{}, false, err
	}
	if _, _, _, live := w.seenField(string(name)); live {
		return Object{}, false, nil
	}
	d, _, err := HSet(o, st, []FieldValue{{Field: name, Value: val}})
	return d, err == nil, err
}

// HDel is HDEL: removes the fields seen (observed-remove: a concurrent
// HSET or HINCRBY of a field survives). n is how many existed; 0 means no
// write (zero delta).
func HDel(o Object, st Stamp, names [][]byte) (Object, int64, error) {
	w, err := hashWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	var n int64
	done := map[string]bool{}
	for _, b := range names {
		name := string(b)
		if done[name] {
			continue
		}
		done[name] = true
		if _, idx, _, live := w.seenField(name); live {
			n++
			w.removeField(idx)
		}
	}
	if n == 0 {
		return Object{}, 0, nil
	}
	return w.delta(), n, nil
}

// hincr is HINCRBY and HINCRBYFLOAT's common part: the field's counter
// delta, keeping the field's expiry.
func (w *write) hincr(name string, v value, by incr) {
	cd := w.counterDelta(v, by)
	w.putField(field{name: name, v: cd})
}

// HIncrBy is HINCRBY: the field's counter (every increment counts).
// ErrHashNotInteger, ErrOverflow, ErrWrongType.
func HIncrBy(o Object, st Stamp, name []byte, by int64) (Object, int64, error) {
	w, err := hashWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	v, _, _, _ := w.seenField(string(name))
	cur, err := readInt(v, st.Now, ErrHashNotInteger)
	if err != nil {
		return Object{}, 0, err
	}
	n, err := addInt(cur, by)
	if err != nil {
		return Object{}, 0, err
	}
	w.hincr(string(name), v, incr{i: by})
	return w.delta(), n, nil
}

// HIncrByFloat is HINCRBYFLOAT; it returns the new value as replied.
// ErrHashNotFloat, ErrNaN, ErrWrongType.
func HIncrByFloat(o Object, st Stamp, name []byte, by float64) (Object, []byte, error) {
	w, err := hashWrite(o, st)
	if err != nil {
		return Object{}, nil, err
	}
	v, _, _, _ := w.seenField(string(name))
	cur, err := readFloat(v, st.Now, ErrHashNotFloat)
	if err != nil {
		return Object{}, nil, err
	}
	if _, ok := parseFloat(FormatFloat(cur + by)); !ok {
		return Object{}, nil, ErrNaN
	}
	w.hincr(string(name), v, incr{f: by, isFloat: true})
	d := w.delta()
	i, _ := findField(d.hash, string(name))
	if target, ok := redisIncrFloat(readBytes(v, st.Now), by); ok {
		roundFloatIncr(v, d.hash[i].v, w.seen.ctx, d.ctx, st.Now, st.Dot.Actor, target)
	}
	after, _ := mergeValue(v, d.hash[i].v, w.seen.ctx, d.ctx).read(st.Now)
	return d, after, nil
}

// Field expiry codes, per field, as HEXPIRE and HPERSIST reply them.
const (
	FieldMissing  = -2 // no such field (or key)
	FieldNoExpiry = -1 // HPERSIST: the field has no expiry
	FieldNotMet   = 0  // HEXPIRE: the condition was not met
	FieldSet      = 1  // the expiry was set (or removed)
	FieldDeleted  = 2  // HEXPIRE with a deadline at or before now: field deleted
)

// HExpire is HEXPIRE, HPEXPIRE, HEXPIREAT and HPEXPIREAT with an absolute
// deadline at (Unix ms): per field, a new entry of its expiry register
// (later deadline wins over a concurrent one, HPERSIST over both). codes
// holds one Field* code per name; the delta is zero if nothing changed.
func HExpire(o Object, st Stamp, at int64, cond ExpireCond, names [][]byte) (Object, []int64, error) {
	return fieldExpiry(o, st, names, func(w *write, i int, cur int64) int64 {
		if !cond.met(cur, at) {
			return FieldNotMet
		}
		if at <= st.Now {
			w.removeField(i)
			return FieldDeleted
		}
		w.setFieldExp(i, at)
		return FieldSet
	})
}

// HPersist is HPERSIST: per field, a PERSIST entry of its expiry register.
func HPersist(o Object, st Stamp, names [][]byte) (Object, []int64, error) {
	return fieldExpiry(o, st, names, func(w *write, i int, cur int64) int64 {
		if cur == 0 {
			return FieldNoExpiry
		}
		w.setFieldExp(i, 0)
		return FieldSet
	})
}

func (w *write) setFieldExp(i int, at int64) {
	f := w.seen.hash[i]
	for _, e := range f.exp {
		w.dots = append(w.dots, e.dot)
	}
	w.putField(field{name: f.name, exp: []expiry{{dot: w.next(), at: at}}})
}

func fieldExpiry(o Object, st Stamp, names [][]byte, fn func(w *write, i int, cur int64) int64) (Object, []int64, error) {
	w := newWrite(o, st)
	codes := make([]int64, len(names))
	for i := range codes {
		codes[i] = FieldMissing
	}
	t, err := w.check(KindHash)
	if err != nil || t == KindNone {
		return Object{}, codes, err
	}
	w.resolve(KindHash)
	changed := false
	first := make(map[string]int, len(names)) // name → its first index in names
	for k, b := range names {
		name := string(b)
		_, i, _, live := w.seenField(name)
		if j, dup := first[name]; !live || dup {
			if live {
				codes[k] = codes[j]
			}
			continue
		}
		first[name] = k
		codes[k] = fn(w, i, effective(w.seen.hash[i].exp))
		changed = changed || codes[k] == FieldSet || codes[k] == FieldDeleted
	}
	if !changed {
		return Object{}, codes, nil
	}
	return w.delta(), codes, nil
}
