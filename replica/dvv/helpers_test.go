package dvv_test

import (
	"bytes"
	"fmt"
	"github.com/dynakv/dynakv/internal/testseed"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// testSeed returns the seed for t (see internal/testseed: -seed replays).
func testSeed(t testing.TB) int64 { return int64(testseed.Seed(t)) }

func newRand(seed int64, stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), stream))
}

// sib builds a live sibling.
func sib(actor string, counter uint64, ts int64, value string) dvv.Sibling {
	return dvv.Sibling{Dot: dvv.Dot{Actor: actor, Counter: counter}, Timestamp: ts, Value: []byte(value)}
}

// tomb builds a tombstone sibling.
func tomb(actor string, counter uint64, ts int64) dvv.Sibling {
	return dvv.Sibling{Dot: dvv.Dot{Actor: actor, Counter: counter}, Timestamp: ts, Tombstone: true}
}

func dot(actor string, counter uint64) dvv.Dot { return dvv.Dot{Actor: actor, Counter: counter} }

// dots lists the dots of o's siblings, in order.
func dots(o dvv.Object) []dvv.Dot {
	out := make([]dvv.Dot, 0, len(o.Siblings))
	for _, s := range o.Siblings {
		out = append(out, s.Dot)
	}
	return out
}

func hasDot(o dvv.Object, d dvv.Dot) bool {
	for _, s := range o.Siblings {
		if s.Dot == d {
			return true
		}
	}
	return false
}

func findDot(o dvv.Object, d dvv.Dot) (dvv.Sibling, bool) {
	for _, s := range o.Siblings {
		if s.Dot == d {
			return s, true
		}
	}
	return dvv.Sibling{}, false
}

// covers is the test's own reading of "a version vector covers a dot",
// independent of VV.Covers.
func covers(v map[string]uint64, d dvv.Dot) bool {
	return d.Counter > 0 && v[d.Actor] >= d.Counter
}

// copyVV returns a deep copy of v, without zero entries.
func copyVV(v dvv.VV) dvv.VV {
	out := dvv.VV{}
	for a, c := range v {
		if c != 0 {
			out[a] = c
		}
	}
	return out
}

// cloneObject returns a deep copy of o sharing no memory with it.
func cloneObject(o dvv.Object) dvv.Object {
	var out dvv.Object
	if o.Context != nil {
		out.Context = make(dvv.VV, len(o.Context))
		for a, c := range o.Context {
			out.Context[a] = c
		}
	}
	if o.Siblings != nil {
		out.Siblings = make([]dvv.Sibling, len(o.Siblings))
		for i, s := range o.Siblings {
			if s.Value != nil {
				s.Value = bytes.Clone(s.Value)
			}
			out.Siblings[i] = s
		}
	}
	return out
}

// sameObject compares two objects field by field, without going through
// the encoding (nil and empty values are the same; zero context entries are
// absent). It returns a description of the first difference, or "".
func sameObject(a, b dvv.Object) string {
	ca, cb := copyVV(a.Context), copyVV(b.Context)
	if len(ca) != len(cb) {
		return fmt.Sprintf("contexts differ: %v vs %v", ca, cb)
	}
	for k, v := range ca {
		if cb[k] != v {
			return fmt.Sprintf("contexts differ: %v vs %v", ca, cb)
		}
	}
	if len(a.Siblings) != len(b.Siblings) {
		return fmt.Sprintf("sibling counts differ: %v vs %v", dots(a), dots(b))
	}
	for i := range a.Siblings {
		if d := sameSibling(a.Siblings[i], b.Siblings[i]); d != "" {
			return fmt.Sprintf("sibling %d: %s", i, d)
		}
	}
	return ""
}

func sameSibling(x, y dvv.Sibling) string {
	if x.Dot != y.Dot || x.Timestamp != y.Timestamp || x.Expiry != y.Expiry ||
		x.Tombstone != y.Tombstone || !bytes.Equal(x.Value, y.Value) {
		return fmt.Sprintf("%+v vs %+v", x, y)
	}
	return ""
}

// describe prints an object compactly for failure messages.
func describe(o dvv.Object) string {
	var b strings.Builder
	actors := make([]string, 0, len(o.Context))
	for a := range o.Context {
		actors = append(actors, a)
	}
	slices.Sort(actors)
	b.WriteString("{ctx:")
	for _, a := range actors {
		fmt.Fprintf(&b, " %s=%d", a, o.Context[a])
	}
	b.WriteString(" sibs:")
	for _, s := range o.Siblings {
		fmt.Fprintf(&b, " %s:%d", s.Dot.Actor, s.Dot.Counter)
		if s.Tombstone {
			b.WriteString("(T)")
		}
		if s.Expiry != 0 {
			fmt.Fprintf(&b, "(exp %d)", s.Expiry)
		}
	}
	b.WriteString("}")
	return b.String()
}

var randActors = []string{"n1", "n2", "n3", "n4", "node-with-a-longer-name", "ü", "\x00bin"}

func randCounter(r *rand.Rand) uint64 {
	switch r.IntN(10) {
	case 0:
		return math.MaxUint64 - uint64(r.IntN(3))
	case 1:
		return 1 + r.Uint64N(1<<40)
	default:
		return 1 + uint64(r.IntN(20))
	}
}

func randInt64(r *rand.Rand) int64 {
	switch r.IntN(6) {
	case 0:
		return 0
	case 1:
		return -r.Int64()
	case 2:
		return math.MinInt64
	case 3:
		return math.MaxInt64
	default:
		return r.Int64N(1 << 50)
	}
}

func randValue(r *rand.Rand) []byte {
	switch r.IntN(8) {
	case 0:
		return nil
	case 1:
		return []byte{}
	case 2:
		v := make([]byte, 200+r.IntN(200))
		for i := range v {
			v[i] = byte(r.IntN(256))
		}
		return v
	default:
		v := make([]byte, r.IntN(12))
		for i := range v {
			v[i] = byte(r.IntN(256))
		}
		return v
	}
}

// randVV returns a random version vector, sometimes with zero entries
// (which count as absent).
func randVV(r *rand.Rand) dvv.VV {
	v := dvv.VV{}
	for range r.IntN(len(randActors) + 1) {
		a := randActors[r.IntN(len(randActors))]
		if r.IntN(8) == 0 {
			v[a] = 0
		} else {
			v[a] = randCounter(r)
		}
	}
	if r.IntN(30) == 0 {
		v[""] = randCounter(r) // an empty actor name is legal in a context
	}
	return v
}

// randObject returns a random object that satisfies the package
// invariants; it need not be reachable through Update and Merge.
func randObject(r *rand.Rand) dvv.Object {
	o := dvv.Object{Context: randVV(r)}
	if r.IntN(10) == 0 {
		o.Context = nil
	}
	var actors []string
	for a, c := range o.Context {
		if a != "" && c != 0 {
			actors = append(actors, a)
		}
	}
	slices.Sort(actors) // deterministic for a given seed
	if len(actors) == 0 {
		return o
	}
	seen := map[dvv.Dot]bool{}
	for range r.IntN(7) {
		a := actors[r.IntN(len(actors))]
		c := o.Context[a]
		if c > 1 && r.IntN(2) == 0 {
			c = 1 + r.Uint64N(c)
		}
		d := dvv.Dot{Actor: a, Counter: c}
		if seen[d] {
			continue
		}
		seen[d] = true
		s := dvv.Sibling{Dot: d, Timestamp: randInt64(r)}
		if r.IntN(3) == 0 {
			s.Expiry = randInt64(r)
		}
		if r.IntN(4) == 0 {
			s.Tombstone = true
		} else {
			s.Value = randValue(r)
		}
		o.Siblings = append(o.Siblings, s)
	}
	slices.SortFunc(o.Siblings, func(x, y dvv.Sibling) int { return x.Dot.Compare(y.Dot) })
	return o
}

// mustValid fails t if o breaks an invariant.
func mustValid(t testing.TB, what string, o dvv.Object) {
	t.Helper()
	if err := o.Validate(); err != nil {
		t.Fatalf("%s does not validate: %v\n%s", what, err, describe(o))
	}
}
