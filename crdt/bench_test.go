package crdt

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// benchObject builds a hash (hash true) or set of n elements written by
// three actors.
func benchObject(b *testing.B, n int, hash bool) (Object, uint64) {
	var o Object
	c := uint64(1)
	for i := 0; i < n; i += 100 {
		st := Stamp{Dot: dvv.Dot{Actor: fmt.Sprintf("node-%d", i/100%3), Counter: c}, Now: 1}
		var d Object
		var err error
		if hash {
			var fs []FieldValue
			for j := i; j < min(i+100, n); j++ {
				fs = append(fs, FieldValue{Field: fmt.Appendf(nil, "field:%08d", j), Value: fmt.Appendf(nil, "value-%d", j)})
			}
			d, _, err = HSet(o, st, fs)
		} else {
			var ms [][]byte
			for j := i; j < min(i+100, n); j++ {
				ms = append(ms, fmt.Appendf(nil, "member:%08d", j))
			}
			d, _, err = SAdd(o, st, ms)
		}
		if err != nil {
			b.Fatal(err)
		}
		o = Merge(o, d)
		c = Top(o, st.Dot.Actor) + 1
	}
	return o, c
}

// BenchmarkHSet: one HSET of an existing field on hashes of 10, 1,000 and
// 10,000 fields: the mutator plus the delta's encoding (what ships), and
// for comparison the whole object's encoding.
func BenchmarkHSet(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		o, c := benchObject(b, n, true)
		field := fmt.Appendf(nil, "field:%08d", n/2)
		b.Run(fmt.Sprintf("elems=%d/delta", n), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for i := 0; b.Loop(); i++ {
				st := Stamp{Dot: dvv.Dot{Actor: "node-0", Counter: c + uint64(i)}, Now: 1}
				d, _, _ := HSet(o, st, []FieldValue{{Field: field, Value: []byte("new")}})
				size = len(d.Encode())
			}
			b.ReportMetric(float64(size), "bytes/delta")
		})
		b.Run(fmt.Sprintf("elems=%d/whole", n), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = len(o.Encode())
			}
			b.ReportMetric(float64(size), "bytes/object")
		})
	}
}

// BenchmarkSAdd: one SADD of a new member, as BenchmarkHSet.
func BenchmarkSAdd(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		o, c := benchObject(b, n, false)
		b.Run(fmt.Sprintf("elems=%d/delta", n), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for i := 0; b.Loop(); i++ {
				st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: c + uint64(i)}, Now: 1}
				d, _, _ := SAdd(o, st, [][]byte{[]byte("member:new")})
				size = len(d.Encode())
			}
			b.ReportMetric(float64(size), "bytes/delta")
		})
		b.Run(fmt.Sprintf("elems=%d/whole", n), func(b *testing.B) {
			b.ReportAllocs()
			size := 0
			for b.Loop() {
				size = len(o.Encode())
			}
			b.ReportMetric(float64(size), "bytes/object")
		})
	}
}

// BenchmarkMerge: joining one SADD delta into a replica (what a receiving
// replica does; proportional to the object, as it copies it).
func BenchmarkMerge(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		o, c := benchObject(b, n, false)
		d, _, _ := SAdd(o, Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: c}, Now: 1}, [][]byte{[]byte("member:new")})
		b.Run(fmt.Sprintf("elems=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = Merge(o, d)
			}
		})
	}
}

// bulkObject builds, directly, a hash (hash true) or set of the n elements
// named prefix%08d: every other field is a counter (an INCRBY entry), the
// rest plain registers, so that removing or overwriting fields needs
// counter records as well as dots. All dots are actor's 1…n.
func bulkObject(n int, hash bool, prefix, actor string) Object {
	var o Object
	for i := range n {
		d := dvv.Dot{Actor: actor, Counter: uint64(i + 1)}
		name := fmt.Sprintf("%s%08d", prefix, i)
		switch {
		case !hash:
			o.set = append(o.set, member{name: name, dots: []dvv.Dot{d}})
		case i%2 == 1:
			o.hash = append(o.hash, field{name: name, v: value{ctrs: []ctr{{dot: d, inc: uint64(i)}}}})
		default:
			o.hash = append(o.hash, field{name: name, v: value{regs: []reg{{dot: d, ts: 1, val: []byte("v")}}}})
		}
	}
	if n > 0 {
		o.ctx = context{vv: dvv.VV{actor: uint64(n)}}
	}
	return o
}

// bulkNames returns n names prefix%08d in a shuffled (seeded, fixed) order,
// as a client may send them.
func bulkNames(n int, prefix string) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = fmt.Appendf(nil, "%s%08d", prefix, i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// bulkCmd is one multi-element command on o with the given names.
type bulkCmd struct {
	name string
	hash bool
	del  bool // removes: the names are present in the object
	run  func(o Object, st Stamp, names [][]byte) (Object, error)
}

var bulkCmds = []bulkCmd{
	{"HSET", true, false, func(o Object, st Stamp, names [][]byte) (Object, error) {
		fs := make([]FieldValue, len(names))
		for i, n := range names {
			fs[i] = FieldValue{Field: n, Value: []byte("new")}
		}
		d, _, err := HSet(o, st, fs)
		return d, err
	}},
	{"SADD", false, false, func(o Object, st Stamp, names [][]byte) (Object, error) {
		d, _, err := SAdd(o, st, names)
		return d, err
	}},
	{"HDEL", true, true, func(o Object, st Stamp, names [][]byte) (Object, error) {
		d, _, err := HDel(o, st, names)
		return d, err
	}},
	{"SREM", false, true, func(o Object, st Stamp, names [][]byte) (Object, error) {
		d, _, err := SRem(o, st, names)
		return d, err
	}},
	{"HEXPIRE", true, true, func(o Object, st Stamp, names [][]byte) (Object, error) {
		d, _, err := HExpire(o, st, 1e15, ExpireAlways, names)
		return d, err
	}},
}

// bulkCase returns the object and the names of one command of n elements
// on a key of base other elements: a write adds n new names; a removal
// (or HEXPIRE) names n elements the key holds besides its base ones.
func bulkCase(c bulkCmd, base, n int) (Object, [][]byte) {
	if !c.del {
		return bulkObject(base, c.hash, "base:", "node-0"), bulkNames(n, "elem:")
	}
	o := Merge(bulkObject(base, c.hash, "base:", "node-0"), bulkObject(n, c.hash, "elem:", "node-2"))
	if len(o.hash)+len(o.set) != base+n {
		panic("bulkCase: elements lost in the merge")
	}
	return o, bulkNames(n, "elem:")
}

// BenchmarkBulk: one command of 10, 1,000 and 10,000 elements on an empty
// key and on a key of 10,000 elements (for removals: a key holding the
// named elements, besides 0 or 10,000 others). The cost must be linear in
// elements plus object size.
func BenchmarkBulk(b *testing.B) {
	for _, c := range bulkCmds {
		for _, base := range []int{0, 10000} {
			for _, n := range []int{10, 1000, 10000} {
				o, names := bulkCase(c, base, n)
				st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: 1}, Now: 1}
				b.Run(fmt.Sprintf("%s/base=%d/elems=%d", c.name, base, n), func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						if _, err := c.run(o, st, names); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// BenchmarkLargeObject: the per-write costs, besides the mutator, of a
// store that keeps whole objects, on a set or hash of 10, 1,000 and
// 10,000 elements: decoding it, merging one SADD/HSET delta into it (what
// every write and every receiving replica does) and encoding the result.
func BenchmarkLargeObject(b *testing.B) {
	for _, hash := range []bool{false, true} {
		kind := map[bool]string{false: "set", true: "hash"}[hash]
		for _, n := range []int{10, 1000, 10000} {
			o, c := benchObject(b, n, hash)
			st := Stamp{Dot: dvv.Dot{Actor: "node-1", Counter: c}, Now: 1}
			var d Object
			if hash {
				d, _, _ = HSet(o, st, []FieldValue{{Field: fmt.Appendf(nil, "field:%08d", n/2), Value: []byte("new")}})
			} else {
				d, _, _ = SAdd(o, st, [][]byte{[]byte("member:new")})
			}
			enc := o.Encode()
			b.Run(fmt.Sprintf("%s/elems=%d/decode", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					if _, err := Decode(enc); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(fmt.Sprintf("%s/elems=%d/merge-delta", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					_ = Merge(o, d)
				}
			})
			b.Run(fmt.Sprintf("%s/elems=%d/encode", kind, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(enc)))
				for b.Loop() {
					_ = o.Encode()
				}
			})
		}
	}
}
