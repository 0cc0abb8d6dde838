package dvv_test

import (
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// benchObject returns an object with n live siblings from n actors, each
// with a 64-byte value: what a key looks like after n concurrent writes.
func benchObject(n int) dvv.Object {
	var o dvv.Object
	for i := range n {
		a := fmt.Sprintf("node-%02d", i)
		c, _ := dvv.NextCounter(o, nil, a)
		o = dvv.Update(o, nil, dvv.Sibling{
			Dot:       dvv.Dot{Actor: a, Counter: c + 1000},
			Timestamp: 1_700_000_000_000_000_000 + int64(i),
			Value:     make([]byte, 64),
		})
	}
	return o
}

var sizes = []int{1, 4, 16}

func BenchmarkUpdate(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("siblings=%d", n), func(b *testing.B) {
			o := benchObject(n)
			ctx := o.Join()
			c, _ := dvv.NextCounter(o, ctx, "node-00")
			s := dvv.Sibling{Dot: dvv.Dot{Actor: "node-00", Counter: c}, Timestamp: 2, Value: make([]byte, 64)}
			b.ReportAllocs()
			for b.Loop() {
				dvv.Update(o, ctx, s) // a VSET resolving all siblings
			}
		})
	}
}

func BenchmarkMerge(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("siblings=%d", n), func(b *testing.B) {
			x := benchObject(n)
			// y has seen x, superseded its first sibling and added one.
			y := dvv.Update(x, dvv.VV{"node-00": x.Context["node-00"]}, dvv.Sibling{
				Dot: dvv.Dot{Actor: "zz", Counter: 1}, Timestamp: 3, Value: make([]byte, 64),
			})
			b.ReportAllocs()
			for b.Loop() {
				dvv.Merge(x, y)
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("siblings=%d", n), func(b *testing.B) {
			o := benchObject(n)
			buf := o.Encode()
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf = o.AppendEncode(buf[:0])
			}
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, n := range sizes {
		b.Run(fmt.Sprintf("siblings=%d", n), func(b *testing.B) {
			enc := benchObject(n).Encode()
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := dvv.Decode(enc); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
