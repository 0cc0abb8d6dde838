package antientropy_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

func BenchmarkUpdate(b *testing.B) {
	r := newRand(1, 0)
	const n = 1 << 16
	keys := make([][]byte, n)
	objs := make([]crdt.Object, n)
	for i := range keys {
		keys[i], objs[i] = key(i), randObject(r)
	}
	b.Run("objects", func(b *testing.B) {
		tr := antientropy.New(0)
		cur := make([]crdt.Object, n)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j := i % n
			next := objs[(i*7+3+i/n)%n]
			tr.Update(keys[j], cur[j], next)
			cur[j] = next
		}
	})
	b.Run("encoded", func(b *testing.B) {
		encs := make([][]byte, n)
		for i, o := range objs {
			encs[i] = o.Encode()
		}
		tr := antientropy.New(0)
		cur := make([][]byte, n)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			j := i % n
			next := encs[(i*7+3+i/n)%n]
			tr.UpdateEncoded(keys[j], cur[j], next)
			cur[j] = next
		}
	})
}

// BenchmarkRoot: the cost of reading the root after N updates (the lazy
// recomputation of the inner nodes they made stale). Each op clones a tree
// left stale by N updates, then reads its root; updates=0 is the cost of
// the clone alone, to subtract.
func BenchmarkRoot(b *testing.B) {
	r := newRand(2, 0)
	for _, n := range []int{0, 1, 100, 10_000} {
		b.Run(fmt.Sprintf("updates=%d", n), func(b *testing.B) {
			base := antientropy.New(0)
			base.Root()
			for i := range n {
				base.Update(key(i), crdt.Object{}, randObject(r))
			}
			for b.Loop() {
				base.Clone().Root()
			}
		})
	}
}

// BenchmarkDiff: 10 differing keys of 100,000, trees in memory.
func BenchmarkDiff(b *testing.B) {
	r := newRand(3, 0)
	const n = 100_000
	x, y := antientropy.New(0), antientropy.New(0)
	for i := range n {
		o := randObject(r)
		x.Update(key(i), crdt.Object{}, o)
		y.Update(key(i), crdt.Object{}, o)
	}
	for i := range 10 {
		y.Update(key(i*9973), crdt.Object{}, object("n9", uint64(i+1), "x"))
	}
	x.Root()
	y.Root()
	b.ReportAllocs()
	var fetched int
	for b.Loop() {
		var err error
		if _, fetched, err = antientropy.Diff(x, y, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(fetched), "hashes/op")
}

// BenchmarkStoreWrite: what keeping the trees current costs a write: the
// same blind writes (NoSync, so the fsync does not hide the CPU cost) to a
// store with and without Trees as its Observer, alternating per round in
// one run (go test -bench StoreWrite -count 4 ./antientropy).
func BenchmarkStoreWrite(b *testing.B) {
	for _, withTrees := range []bool{false, true} {
		b.Run(fmt.Sprintf("trees=%v", withTrees), func(b *testing.B) {
			cfg := replica.Config{Dir: "/b", FS: vfs.NewMem(), NodeID: "a", SweepInterval: -1, NoSync: true}
			if withTrees {
				l, _ := antientropy.NewLayout(256, 0)
				cfg.Observer = antientropy.NewTrees(l)
			}
			s, err := replica.Open(cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			value := make([]byte, 64)
			fn := crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
				return nil, dvv.Sibling{Value: value}, nil
			})
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, _, err := s.Update(context.Background(), key(i%100000), fn); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
