package replica_test

import (
	"context"
	"fmt"
	"runtime"
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
	// One key under hotWriters writers (redis-benchmark's SET without -r):
	// their writes are combined into shared batches and fsyncs.
	for _, disk := range []bool{false, true} {
		fs := map[bool]string{false: "mem", true: "disk"}[disk]
		b.Run("write/hot/"+fs+"/parallel", func(b *testing.B) {
			s := openBench(b, disk)
			fn := setMutator()
			b.ReportAllocs()
			b.SetParallelism(hotWriters(b))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, _, _, err := s.Update(ctx, benchKey(0), fn); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// hotWriters is how many goroutines per GOMAXPROCS the hot-key benchmarks
// run: 50 writers in all, redis-benchmark's default client count.
func hotWriters(b *testing.B) int { return max(1, 50/runtime.GOMAXPROCS(0)) }

// BenchmarkCollection: one SADD or HSET of an existing element (a new
// version, same size) on a set or hash of 10, 1,000 and 10,000 elements
// through Update, as a coordinator's write runs, on the in-memory file
// system without fsync (CPU only) and on disk with fsync. The goal
// is the cost of a small write whatever the collection's size. Run with
// `go test -run '^$' -bench Collection -benchtime 200x ./replica/`.
func BenchmarkCollection(b *testing.B) {
	ctx := context.Background()
	for _, hash := range []bool{false, true} {
		kind := map[bool]string{false: "sadd", true: "hset"}[hash]
		for _, n := range []int{10, 1000, 10000} {
			for _, disk := range []bool{false, true} {
				fs := map[bool]string{false: "mem", true: "disk"}[disk]
				b.Run(fmt.Sprintf("%s/elems=%d/%s", kind, n, fs), func(b *testing.B) {
					s := openBench(b, disk)
					key := []byte("coll")
					names := make([][]byte, n)
					fields := make([]crdt.FieldValue, n)
					for i := range names {
						names[i] = fmt.Appendf(nil, "m:%012d", i)
						fields[i] = crdt.FieldValue{Field: names[i], Value: []byte("v")}
					}
					write := func(i int, all bool) error {
						_, _, _, err := s.Update(ctx, key, func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
							var d crdt.Object
							var err error
							switch {
							case hash && all:
								d, _, err = crdt.HSet(o, st, fields)
							case hash:
								d, _, err = crdt.HSet(o, st, fields[i%n:i%n+1])
							case all:
								d, _, err = crdt.SAdd(o, st, names)
							default:
								d, _, err = crdt.SAdd(o, st, names[i%n:i%n+1])
							}
							return d, err
						})
						return err
					}
					if err := write(0, true); err != nil {
						b.Fatal(err)
					}
					b.ReportAllocs()
					for i := 0; b.Loop(); i++ {
						if err := write(i*7919, false); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
	// LPUSH of new elements to one list of 10,000 elements (and growing)
	// from 50 writers at once, redis-benchmark's LPUSH test: the writers'
	// pushes are combined, so the list is encoded and written once per
	// batch rather than once per push.
	for _, disk := range []bool{false, true} {
		fs := map[bool]string{false: "mem", true: "disk"}[disk]
		b.Run("lpush/hot/elems=10000/"+fs+"/parallel", func(b *testing.B) {
			s := openBench(b, disk)
			key := []byte("list")
			push := func(vals [][]byte) error {
				_, _, _, err := s.Update(ctx, key, func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
					d, _, err := crdt.ListPush(o, st, vals, true, false)
					return d, err
				})
				return err
			}
			vals := make([][]byte, 10000)
			for i := range vals {
				vals[i] = []byte("xxx")
			}
			if err := push(vals); err != nil {
				b.Fatal(err)
			}
			one := [][]byte{[]byte("xxx")}
			b.ReportAllocs()
			b.SetParallelism(hotWriters(b))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := push(one); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
