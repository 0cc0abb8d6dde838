package replica_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// benchKeys is the keyspace of the store benchmarks: 4,096 distinct keys
// of redis-benchmark's shape, so writes overwrite and reads hit.
const benchKeys = 4096

func benchKey(i int) []byte { return fmt.Appendf(nil, "key:%012d", i%benchKeys) }

// openBench opens a store for a benchmark: on the in-memory file system
// without fsync (the CPU and allocation cost of the write path alone), or
// on the real disk under b.TempDir with an fsync per write, as a node runs.
func openBench(b *testing.B, disk bool) *replica.Store {
	b.Helper()
	cfg := replica.Config{Dir: "/b", FS: vfs.NewMem(), NodeID: "n1", SweepInterval: -1, NoSync: true}
	if disk {
		cfg = replica.Config{Dir: b.TempDir(), NodeID: "n1", SweepInterval: -1}
	}
	s, err := replica.Open(cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// setMutator is SET's mutation: a 3-byte value (redis-benchmark's default
// payload) that supersedes whatever the key held.
func setMutator() crdt.Mutator {
	value := []byte("xxx")
	return crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: value}, nil
	})
}

// fill stores one SET's object under every key of the benchmark keyspace,
// in one MergeMany (one commit).
func fill(b *testing.B, s *replica.Store) {
	b.Helper()
	_, obj, _, err := openBench(b, false).Update(context.Background(), benchKey(0), setMutator())
	if err != nil {
		b.Fatal(err)
	}
	entries := make([]replica.Entry, benchKeys)
	for i := range entries {
		entries[i] = replica.Entry{Key: benchKey(i), Object: obj}
	}
	if err := s.MergeMany(context.Background(), entries); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkStore: the replica store's hot path, as a coordinator calls it
// for every SET (Update: read the current object, stamp, merge, encode,
// commit) and every GET (Get: point read and decode). "mem" is the
// in-memory file system without fsync; "disk" fsyncs each write to the
// machine's disk, one writer at a time ("disk/parallel" lets GOMAXPROCS
// writers share the WAL's group commit). Run with
// `go test -run '^$' -bench Store -benchtime 2000x ./replica/`.
func BenchmarkStore(b *testing.B) {
	ctx := context.Background()
	for _, disk := range []bool{false, true} {
		fs := map[bool]string{false: "mem", true: "disk"}[disk]
		b.Run("write/"+fs, func(b *testing.B) {
			s := openBench(b, disk)
			fn := setMutator()
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if _, _, _, err := s.Update(ctx, benchKey(i), fn); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("read/"+fs, func(b *testing.B) {
			s := openBench(b, disk)
			fill(b, s)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				o, err := s.Get(ctx, benchKey(i))
				if err != nil || o.IsZero() {
					b.Fatalf("Get: %v, %v", o, err)
				}
			}
		})
	}
	b.Run("write/disk/parallel", func(b *testing.B) {
		s := openBench(b, true)
		fn := setMutator()
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, _, _, err := s.Update(ctx, benchKey(i), fn); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}
