package crdt

import (
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// BenchmarkListPush: one LPUSH of one element on lists of n elements, as a
// store applies it: the mutator, the merge into the replica, the
// encoding and the decoding of the whole object. Its cost grows with n
// (the object is stored whole).
func BenchmarkListPush(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			var o Object
			ctr := uint64(1 << 50)
			for i := range n / 100 { // 100 pushes of 100
				var vals [][]byte
				for j := range 100 {
					vals = append(vals, []byte(fmt.Sprint(i*100+j)))
				}
				ctr += 1000
				d, _, _ := ListPush(o, Stamp{Dot: dvv.Dot{Actor: "n1", Counter: ctr}, Now: 1}, vals, i%2 == 0, false)
				o = Merge(o, d)
			}
			ctr += 1000
			b.ResetTimer()
			for range b.N {
				ctr++
				d, _, _ := ListPush(o, Stamp{Dot: dvv.Dot{Actor: "n1", Counter: ctr}, Now: 1}, [][]byte{[]byte("xxx")}, true, false)
				next := Merge(o, d)
				if _, err := Decode(next.Encode()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestListEncodedSize logs the encoded bytes per element of a list built
// by single pushes of 3-byte values (redis-benchmark's LPUSH).
func TestListEncodedSize(t *testing.T) {
	var o Object
	ctr := uint64(1 << 50)
	for i := range 2000 {
		ctr += 7
		d, _, _ := ListPush(o, Stamp{Dot: dvv.Dot{Actor: "n1", Counter: ctr}, Now: 1}, [][]byte{[]byte("xxx")}, i%2 == 0, false)
		o = Merge(o, d)
	}
	t.Logf("%.1f encoded bytes per element", float64(len(o.Encode()))/2000)
}
