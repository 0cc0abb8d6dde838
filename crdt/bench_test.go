package crdt

import (
	"fmt"
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
