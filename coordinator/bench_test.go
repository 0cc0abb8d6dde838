package coordinator_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/ring"
)

// benchKeys is the keyspace of the coordinator benchmarks, so writes
// overwrite and reads hit.
const benchKeys = 4096

func benchKey(i int) []byte { return fmt.Appendf(nil, "key:%012d", i%benchKeys) }

// benchCluster starts three in-process nodes n1..n3 sharing one ring
// (Q=64, N=3) on a fault-free peertest network, with stores on the
// in-memory file system, and returns n1's coordinator: the CPU and
// allocation cost of the quorum path without the network and the disk.
func benchCluster(b *testing.B, cfg coordinator.Config) *coordinator.Coordinator {
	b.Helper()
	net := peertest.New(1)
	cfg.Healthy = net.Up
	var members []ring.Member
	for i := 1; i <= 3; i++ {
		members = append(members, ring.Member{ID: ring.NodeID(fmt.Sprintf("n%d", i)), Addr: "x:1", GossipAddr: "x:2", Weight: 1})
	}
	st, err := ring.New(ring.Config{Partitions: 64, Replicas: cfg.N}, members)
	if err != nil {
		b.Fatal(err)
	}
	place := coordinator.RingPlacement(func() *ring.State { return st })
	stores := map[string]*replica.Store{}
	for _, m := range members {
		id := string(m.ID)
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1, NoSync: true})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		stores[id] = s
		net.Add(s)
	}
	co, err := coordinator.New(cfg, stores["n1"], place, net.Peers("n1"))
	if err != nil {
		b.Fatal(err)
	}
	return co
}

// BenchmarkCoordinator: a SET (Update, blind and ReadFirst as SET … GET or
// NX make it) and a GET at N=3 R=2 W=2 through n1's coordinator, one
// caller at a time and GOMAXPROCS callers ("parallel"). Run with
// `go test -run '^$' -bench Coordinator -benchtime 2000x ./coordinator/`.
func BenchmarkCoordinator(b *testing.B) {
	ctx := context.Background()
	cfg := coordinator.Config{N: 3, R: 2, W: 2, Timeout: 5 * time.Second}
	put := func(co *coordinator.Coordinator, i int, opt coordinator.WriteOptions) error {
		_, _, err := co.Update(ctx, benchKey(i), opt, setFn("xxx"))
		return err
	}
	for _, w := range []struct {
		name string
		opt  coordinator.WriteOptions
	}{{"put", coordinator.WriteOptions{}}, {"put/readfirst", coordinator.WriteOptions{ReadFirst: true}}} {
		b.Run(w.name, func(b *testing.B) {
			co := benchCluster(b, cfg)
			b.ReportAllocs()
			for i := 0; b.Loop(); i++ {
				if err := put(co, i, w.opt); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("put/parallel", func(b *testing.B) {
		co := benchCluster(b, cfg)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if err := put(co, i, coordinator.WriteOptions{}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	filled := func(b *testing.B) *coordinator.Coordinator {
		co := benchCluster(b, cfg)
		for i := range benchKeys {
			if err := put(co, i, coordinator.WriteOptions{W: 3}); err != nil {
				b.Fatal(err)
			}
		}
		return co
	}
	b.Run("get", func(b *testing.B) {
		co := filled(b)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			if o, err := co.Get(ctx, benchKey(i), coordinator.ReadOptions{}); err != nil || o.IsZero() {
				b.Fatalf("Get: %v, %v", o, err)
			}
		}
	})
	b.Run("get/parallel", func(b *testing.B) {
		co := filled(b)
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if o, err := co.Get(ctx, benchKey(i), coordinator.ReadOptions{}); err != nil || o.IsZero() {
					b.Errorf("Get: %v, %v", o, err)
					return
				}
			}
		})
	})
}
