package crdt

import (
	"cmp"
	"slices"

	"github.com/dynakv/dynakv/replica/dvv"
)

// setWrite starts a set command: the type is checked, other types'
// content superseded.
func setWrite(o Object, st Stamp) (*write, error) {
	w := newWrite(o, st)
	if _, err := w.check(KindSet); err != nil {
		return nil, err
	}
	w.resolve(KindSet)
	return w, nil
}

// SAdd is SADD: each member gets a new dot (its own, see Top) superseding
// its dots seen, so an add wins over a concurrent remove. added counts the
// members that were not present.
func SAdd(o Object, st Stamp, members [][]byte) (Object, int64, error) {
	w, err := setWrite(o, st)
	if err != nil {
		return Object{}, 0, err
	}
	var added int64
	var ms []member
	done := map[string]bool{}
	for _, b := range members {
		name := string(b)
		if done[name] {
			continue
		}
		done[name] = true
		if i, ok := findMember(w.seen.set, name); ok {
			w.removeMember(i)
		} else {
			added++
		}
		ms = append(ms, member{name: name, dots: []dvv.Dot{w.next()}})
	}
	sortMembers(ms)
	w.d.set = mergeMembers(w.d.set, ms, context{}, context{})
	return w.delta(), added, nil
}

// sortMembers sorts ms by name. NB: O(k log k): an insertion sort here made
// one SADD of k members in arbitrary order cost O(k²).
func sortMembers(ms []member) {
	slices.SortFunc(ms, func(x, y member) int { return cmp.Compare(x.name, y.name) })
}

// SRem is SREM: removes the dots seen of each member present (a concurrent
// SADD survives). n counts them; 0 means no write (zero delta).
func SRem(o Object, st Stamp, members [][]byte) (Object, int64, error) {
	d, popped, err := SPop(o, st, members)
	return d, int64(len(popped)), err
}

// removeDistinct calls remove once for each distinct name among members,
// in order, and returns the members it reports removed (SREM, SPOP and
// ZREM: a name given twice is removed once and returned once).
func removeDistinct(members [][]byte, remove func(name string) bool) [][]byte {
	var out [][]byte
	done := map[string]bool{}
	for _, b := range members {
		name := string(b)
		if done[name] {
			continue
		}
		done[name] = true
		if remove(name) {
			out = append(out, b)
		}
	}
	return out
}

// SPop is SPOP (and SREM's core) with the members the caller chose: it
// removes those present and returns them, in the given order.
func SPop(o Object, st Stamp, chosen [][]byte) (Object, [][]byte, error) {
	w, err := setWrite(o, st)
	if err != nil {
		return Object{}, nil, err
	}
	out := removeDistinct(chosen, func(name string) bool {
		i, ok := findMember(w.seen.set, name)
		if ok {
			w.removeMember(i)
		}
		return ok
	})
	if len(out) == 0 {
		return Object{}, nil, nil
	}
	return w.delta(), out, nil
}

// SMove is SMOVE from src to dst (two keys; st is used on each): ErrWrongType
// if either holds another type; moved false (zero deltas) if member is not
// in src.
func SMove(src, dst Object, st Stamp, m []byte) (dsrc, ddst Object, moved bool, err error) {
	if t := TypeOf(dst, st.Now); t != KindNone && t != KindSet {
		return Object{}, Object{}, false, ErrWrongType
	}
	dsrc, n, err := SRem(src, st, [][]byte{m})
	if err != nil || n == 0 {
		return Object{}, Object{}, false, err
	}
	ddst, _, err = SAdd(dst, st, [][]byte{m})
	if err != nil {
		return Object{}, Object{}, false, err
	}
	return dsrc, ddst, true, nil
}
