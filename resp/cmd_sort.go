package resp

import (
	"bytes"
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/ring"
)

// SORT and SORT_RO, as Redis 7.0's sort.c: key [BY pattern] [LIMIT offset
// count] [GET pattern …] [ASC|DESC] [ALPHA] [STORE destination].
//
// Inputs: sortSources maps each type SORT accepts to the function that
// lists its elements in the type's native order; sets are here, and the
// list and sorted-set stores plug in with one entry each (a list's
// elements head to tail, a sorted set's by score, lowest first), which
// also gives them Redis's "BY constant" behaviour (native order, DESC
// reversing it, LIMIT applied to it). The STORE destination is a list:
// sortStore writes it (and
// deletes the destination when the result is empty, as Redis does).
//
// In a cluster (Config.Cluster set) BY and GET patterns are resolved only
// within the sorted key's slot: a pattern whose keys may fall in another
// slot (one with a wildcard before its hash tag, or none at all) is
// refused with Redis's error (7.2's wording, which allows the patterns
// that imply the key's slot; 7.0 refused every pattern in cluster mode);
// "GET #" and patterns without '*' (which read no key) are always
// allowed. STORE's destination must share the key's slot (CROSSSLOT).

// sortSources lists the elements of each kind SORT accepts, in the kind's
// native order; native reports whether that order means anything (lists
// and sorted sets: BY constant keeps it; a set's members come sorted).
var sortSources = map[crdt.Kind]struct {
	elems  func(o crdt.Object, now int64) ([][]byte, error)
	native bool
}{
	crdt.KindSet:  {elems: crdt.Members},
	crdt.KindList: {elems: listElems, native: true},
	crdt.KindZSet: {elems: zsetElems, native: true},
}

// listElems is a list's elements, head to tail.
func listElems(o crdt.Object, now int64) ([][]byte, error) { return crdt.ListRange(o, now, 0, -1) }

// zsetElems is a sorted set's members by score, then member.
func zsetElems(o crdt.Object, now int64) ([][]byte, error) {
	ms, err := crdt.ZMembers(o, now)
	out := make([][]byte, len(ms))
	for i, m := range ms {
		out[i] = m.Member
	}
	return out, err
}

// sortStore writes SORT's STORE result, a list of elems, as key's whole
// value (superseding what cur holds, its TTL included), as RENAME writes
// a value (keyValue.write).
var sortStore = func(cur crdt.Object, st crdt.Stamp, elems [][]byte) (crdt.Object, error) {
	return keyValue{kind: crdt.KindList, elems: elems}.write(cur, st)
}

const (
	msgSortBy    = "ERR BY option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
	msgSortGet   = "ERR GET option of SORT denied in Cluster mode when keys formed by the pattern may be in different slots."
	msgSortScore = "ERR One or more scores can't be converted into double"
)

// sortSpec is a parsed SORT call.
type sortSpec struct {
	by           []byte // nil: the elements themselves
	dontSort     bool   // BY without '*'
	gets         [][]byte
	desc, alpha  bool
	start, count int64 // LIMIT; count −1: all
	store        []byte
}

// sortKeys is SORT's key positions (the key, and STORE's destination).
func sortKeys(args [][]byte) []int {
	pos := []int{1}
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		switch {
		case equalFold(args[j], "limit") && left >= 2:
			j += 2
		case (equalFold(args[j], "by") || equalFold(args[j], "get")) && left >= 1:
			j++
		case equalFold(args[j], "store") && left >= 1:
			pos = append(pos, j+1)
			j++
		}
	}
	return pos
}

// patternSlot is Redis's patternHashSlot: the slot every key a pattern
// can form hashes to, or −1 when they may fall in different slots.
func patternSlot(p []byte) int {
	s := -1
	for i, ch := range p {
		switch {
		case ch == '*' || ch == '?' || ch == '[' || ch == '\\':
			return -1
		case s == -1 && ch == '{':
			s = i
		case s >= 0 && ch == '}' && i == s+1:
			s = -2
		case s >= 0 && ch == '}':
			return int(ring.Slot(p))
		}
	}
	return int(ring.Slot(p))
}

// parseSort parses the options of SORT (readOnly: SORT_RO, no STORE),
// replying Redis's error and returning ok false on a bad one.
func (c *Conn) parseSort(args [][]byte, readOnly bool) (sp sortSpec, ok bool) {
	sp.count = -1
	cluster := c.srv.cfg.Cluster != nil
	keySlot := int(ring.Slot(args[1]))
	for j := 2; j < len(args); j++ {
		left := len(args) - j - 1
		a := args[j]
		switch {
		case equalFold(a, "asc"):
			sp.desc = false
		case equalFold(a, "desc"):
			sp.desc = true
		case equalFold(a, "alpha"):
			sp.alpha = true
		case equalFold(a, "limit") && left >= 2:
			s, ok1 := parseStrictInt(args[j+1])
			if !ok1 {
				c.WriteError(msgNotInt)
				return sp, false
			}
			n, ok2 := parseStrictInt(args[j+2])
			if !ok2 {
				c.WriteError(msgNotInt)
				return sp, false
			}
			sp.start, sp.count = s, n
			j += 2
		case !readOnly && equalFold(a, "store") && left >= 1:
			sp.store = args[j+1]
			j++
		case equalFold(a, "by") && left >= 1:
			sp.by = args[j+1]
			sp.dontSort = bytes.IndexByte(sp.by, '*') < 0
			if !sp.dontSort && cluster && patternSlot(sp.by) != keySlot {
				c.WriteError(msgSortBy)
				return sp, false
			}
			j++
		case equalFold(a, "get") && left >= 1:
			p := args[j+1]
			if cluster && string(p) != "#" && bytes.IndexByte(p, '*') >= 0 && patternSlot(p) != keySlot {
				c.WriteError(msgSortGet)
				return sp, false
			}
			sp.gets = append(sp.gets, p)
			j++
		default:
			c.WriteError(msgSyntax)
			return sp, false
		}
	}
	return sp, true
}

func cmdSort(c *Conn, args [][]byte)   { sortGeneric(c, args, false) }
func cmdSortRO(c *Conn, args [][]byte) { sortGeneric(c, args, true) }

// sortGeneric is SORT and SORT_RO; with STORE it runs as a unit over the
// key and the destination.
func sortGeneric(c *Conn, args [][]byte, readOnly bool) {
	sp, ok := c.parseSort(args, readOnly)
	if !ok {
		return
	}
	if sp.store == nil {
		c.sortRun(args[1], sp)
		return
	}
	keys := [][]byte{args[1], sp.store}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.runUnit(keys, func() { c.sortRun(args[1], sp) })
}

// sortItem is one element being sorted and its sort key.
type sortItem struct {
	elem  []byte
	score float64
	by    []byte // ALPHA BY's value; nil: missing
}

// sortRun reads key, sorts it as sp says and replies (or stores).
func (c *Conn) sortRun(key []byte, sp sortSpec) {
	o, err := c.load(key)
	if err != nil {
		c.WriteErr(err)
		return
	}
	now := c.now()
	kind := crdt.TypeOf(o, now)
	var elems [][]byte
	native := false
	if kind != crdt.KindNone {
		src, ok := sortSources[kind]
		if !ok {
			c.WriteErr(crdt.ErrWrongType)
			return
		}
		if elems, err = src.elems(o, now); err != nil {
			c.WriteErr(err)
			return
		}
		native = src.native
	}
	dontSort := sp.dontSort
	alpha, by := sp.alpha, sp.by
	if dontSort && !native && sp.store != nil {
		// Redis sorts a set's members when it stores them (a set's order
		// is its hash table's): ALPHA, by the elements.
		dontSort, alpha, by = false, true, nil
	}
	n := int64(len(elems))
	start := min(max(sp.start, 0), n)
	count := min(max(sp.count, -1), n)
	end := n - 1
	if count >= 0 {
		end = start + count - 1
	}
	if start >= n {
		start, end = n-1, n-2
	}
	end = min(end, n-1)

	items := make([]sortItem, len(elems))
	for i, e := range elems {
		items[i].elem = e
	}
	switch {
	case dontSort && native && sp.desc:
		slices.Reverse(items)
	case !dontSort:
		scoreErr := false
		for i := range items {
			var v []byte
			if by != nil {
				val, ok, err := c.sortLookup(by, items[i].elem)
				if err != nil {
					c.WriteErr(err)
					return
				}
				if !ok {
					continue
				}
				v = val
			} else {
				v = items[i].elem
			}
			if alpha {
				if by != nil {
					items[i].by = v
				}
				continue
			}
			f, ok := sortScore(v)
			if !ok {
				scoreErr = true
			}
			items[i].score = f
		}
		if scoreErr {
			c.WriteError(msgSortScore)
			return
		}
		slices.SortStableFunc(items, func(x, y sortItem) int {
			r := sortCompare(x, y, alpha, by != nil)
			if sp.desc {
				return -r
			}
			return r
		})
	}
	var out [][]byte
	var nulls []bool
	for j := start; j <= end; j++ {
		it := items[j]
		if len(sp.gets) == 0 {
			out = append(out, it.elem)
			nulls = append(nulls, false)
			continue
		}
		for _, p := range sp.gets {
			v, ok, err := c.sortLookup(p, it.elem)
			if err != nil {
				c.WriteErr(err)
				return
			}
			out = append(out, v)
			nulls = append(nulls, !ok)
		}
	}
	if sp.store != nil {
		c.sortStoreReply(sp.store, out)
		return
	}
	c.WriteArray(len(out))
	for i, v := range out {
		if nulls[i] {
			c.WriteNull()
		} else {
			c.WriteBulk(v)
		}
	}
}

// sortStoreReply writes SORT's result as the list at dst (an empty result
// deletes dst) and replies its length.
func (c *Conn) sortStoreReply(dst []byte, out [][]byte) {
	existed := false
	_, err := c.mutate(dst, false, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		if len(out) == 0 {
			d, ok := crdt.Del(cur, st)
			existed = ok
			return d, nil
		}
		return sortStore(cur, st, out)
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(out)))
	switch {
	case len(out) > 0:
		c.notify('l', "sortstore", dst)
	case existed:
		c.notify('g', "del", dst)
	}
}

// sortCompare is Redis's sortCompare before DESC: by score, ties by the
// elements' bytes; ALPHA by the elements, or by the BY values (a missing
// one first).
func sortCompare(x, y sortItem, alpha, byPattern bool) int {
	if !alpha {
		if r := cmp.Compare(x.score, y.score); r != 0 {
			return r
		}
		return bytes.Compare(x.elem, y.elem)
	}
	if !byPattern {
		return bytes.Compare(x.elem, y.elem)
	}
	switch {
	case x.by == nil && y.by == nil:
		return 0
	case x.by == nil:
		return -1
	case y.by == nil:
		return 1
	}
	return bytes.Compare(x.by, y.by)
}

// sortLookup is lookupKeyByPattern: "#" is the element itself; otherwise
// the first '*' is replaced by the element, and "->field" at its end (after
// the '*') reads that hash field; a pattern without '*', a missing key or
// field, or a key of another type read nothing (ok false).
func (c *Conn) sortLookup(pattern, elem []byte) ([]byte, bool, error) {
	if string(pattern) == "#" {
		return elem, true, nil
	}
	star := bytes.IndexByte(pattern, '*')
	if star < 0 {
		return nil, false, nil
	}
	post := pattern[star+1:]
	var field []byte
	if f := bytes.Index(post, []byte("->")); f >= 0 && f+2 < len(post) {
		field = post[f+2:]
		post = post[:f]
	}
	key := make([]byte, 0, len(pattern)+len(elem))
	key = append(append(append(key, pattern[:star]...), elem...), post...)
	o, err := c.load(key)
	if err != nil {
		return nil, false, err
	}
	now := c.now()
	t := crdt.TypeOf(o, now)
	if field != nil {
		if t != crdt.KindHash {
			return nil, false, nil
		}
		v, ok, _ := crdt.HGet(o, now, field)
		return v, ok, nil
	}
	if t != crdt.KindString && t != crdt.KindHLL {
		return nil, false, nil
	}
	v, ok, _ := crdt.Get(o, now)
	return v, ok, nil
}

// sortScore is SORT's strtod: the whole value (leading C spaces allowed,
// the empty string is 0), decimal or hex, ±inf; NaN and values out of a
// double's range (ERANGE) are refused.
func sortScore(v []byte) (float64, bool) {
	s := strings.TrimLeft(string(v), " \t\n\v\f\r")
	if s == "" {
		return 0, len(v) == 0 // only "" converts wholly; spaces alone do not
	}
	if len(s) > 5000 || strings.ContainsRune(s, '_') {
		return 0, false
	}
	h := strings.TrimLeft(s, "+-")
	if len(s)-len(h) > 1 {
		return 0, false
	}
	if len(h) > 2 && (h[:2] == "0x" || h[:2] == "0X") && !strings.ContainsAny(h, "pP") {
		s += "p0" // strtod's hex floats need no binary exponent; Go's do
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) {
		return 0, false
	}
	if f == 0 && strings.ContainsAny(strings.SplitN(strings.ToLower(h), "e", 2)[0], "123456789") && !strings.HasPrefix(strings.ToLower(h), "0x") {
		return 0, false // underflow: ERANGE
	}
	if f != 0 && math.Abs(f) < 0x1p-1022 {
		return 0, false // a subnormal result: ERANGE
	}
	return f, true
}
