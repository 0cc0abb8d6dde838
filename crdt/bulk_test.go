package crdt

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/replica/dvv"
)

// bulkRun is one multi-element operation of n elements, prepared (not
// measured) by a bulk case; run performs it.
type bulkRun func() error

// bulkCases are the multi-element operations whose cost must be linear in
// elements plus object size: the commands of BenchmarkBulk, and the
// removals of many hash fields that come without a hash command (a write of
// another type resolving a conflicted key, the sweeper collecting expired
// fields). Removed fields are half counters, so the delta also needs their
// records.
func bulkCases() map[string]func(n int) bulkRun {
	st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: 1}, Now: 1}
	cases := map[string]func(n int) bulkRun{}
	for _, c := range bulkCmds {
		cases[c.name] = func(n int) bulkRun {
			o, names := bulkCase(c, 0, n)
			return func() error { _, err := c.run(o, st, names); return err }
		}
	}
	// A hash of n fields and a later set member: the key reads as a set,
	// and SADD supersedes every field.
	cases["SADD resolving a hash"] = func(n int) bulkRun {
		o := bulkObject(n, true, "f:", "node-0")
		o.set = []member{{name: "m", dots: []dvv.Dot{{Actor: "node-0", Counter: uint64(n + 1)}}}}
		o.ctx = context{vv: dvv.VV{"node-0": uint64(n + 1)}}
		return func() error {
			_, _, err := SAdd(o, st, [][]byte{[]byte("m2")})
			return err
		}
	}
	// A hash of n fields, each with an expiry passed at 2.
	cases["Collect"] = func(n int) bulkRun {
		o := bulkObject(n, true, "f:", "node-0")
		for i := range o.hash {
			o.hash[i].exp = []expiry{{dot: dvv.Dot{Actor: "node-3", Counter: uint64(i + 1)}, at: 2}}
		}
		o.ctx.vv["node-3"] = uint64(n)
		return func() error {
			if _, changed := Collect(o, 2); !changed {
				return fmt.Errorf("nothing collected")
			}
			return nil
		}
	}
	return cases
}

// allocated returns the bytes run allocates on the heap.
func allocated(t *testing.T, run bulkRun) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := run(); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestBulkCostLinear: a command (or collection) of 16,000 elements
// allocates less than 48 times what one of 1,000 does. Linear cost gives
// about 16 (plus map and slice growth); the old per-element merge into the
// delta copied the delta per element, about 16² = 256. Heap bytes are
// counted, not time: the same code on the same input allocates the same
// amount.
func TestBulkCostLinear(t *testing.T) {
	const small, large, bound = 1000, 16000, 48
	for name, mk := range bulkCases() {
		t.Run(name, func(t *testing.T) {
			a, b := mk(small), mk(large)
			allocated(t, a) // warm up (lazily made runtime state)
			s, l := allocated(t, a), allocated(t, b)
			t.Logf("%d elements: %d bytes; %d elements: %d bytes (×%.1f)", small, s, large, l, float64(l)/float64(s))
			if l >= bound*s {
				t.Errorf("%d elements allocate %d bytes, %.0f× the %d bytes of %d elements (bound %d×): not linear", large, l, float64(l)/float64(s), s, small, bound)
			}
		})
	}
}

// TestFlushEqualsFieldByField: joining the collected hash entries in one
// pass (flush) gives the delta hash that joining them one at a time gave
// (the old putField), on random entries: repeated names, the same dot in
// several entries, registers, counter entries, records and expiries.
func TestFlushEqualsFieldByField(t *testing.T) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	actors := []string{"a", "b", "c"}
	dot := func() dvv.Dot {
		return dvv.Dot{Actor: actors[r.IntN(len(actors))], Counter: uint64(1 + r.IntN(6))}
	}
	entry := func() field {
		f := field{name: fmt.Sprintf("f%d", r.IntN(5))}
		switch r.IntN(4) {
		case 0:
			f.v.regs = []reg{{dot: dot(), ts: int64(r.IntN(3)), flags: uint8(r.IntN(3)), val: []byte{byte('x' + r.IntN(2))}}}
		case 1:
			f.v.ctrs = []ctr{{dot: dot(), inc: uint64(r.IntN(4)), dec: uint64(r.IntN(4))}}
		case 2:
			for _, a := range actors {
				if r.IntN(2) == 0 {
					f.v.recs = append(f.v.recs, ctr{dot: dvv.Dot{Actor: a, Counter: uint64(1 + r.IntN(6))}, inc: uint64(r.IntN(4))})
				}
			}
		default:
			f.exp = []expiry{{dot: dot(), at: int64(r.IntN(3))}}
		}
		return f
	}
	for i := range 2000 {
		var w write
		var want []field
		base := []field{entry()} // what the delta held before (clearAll's records)
		w.d.hash = mergeFields(nil, base, context{}, context{})
		want = w.d.hash
		for range r.IntN(12) {
			f := entry()
			want = mergeFields(want, []field{f}, context{}, context{})
			w.putField(f)
		}
		w.flush()
		if !Equal(Object{hash: w.d.hash}, Object{hash: want}) {
			t.Fatalf("seed %d, case %d: flush gave %+v, one at a time %+v", seed, i, w.d.hash, want)
		}
	}
}
