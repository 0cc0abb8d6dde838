package peerclient_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/resp/resptest"
)

// benchKeys is the keyspace of the peer benchmarks, so merges overwrite
// and gets hit.
const benchKeys = 4096

func benchKey(i int) []byte { return fmt.Appendf(nil, "key:%012d", i%benchKeys) }

// benchNode serves a store (in-memory file system, no fsync) through
// peerserver on a loopback listener (a port the system picks) and returns
// a client of it with the node's default pool (pooled: with
// Config.NoPipeline), and the store.
func benchNode(b *testing.B, pooled bool) (*peerclient.Client, *replica.Store) {
	b.Helper()
	store, err := replica.Open(replica.Config{Dir: "/s", FS: vfs.NewMem(), NodeID: "n1", SweepInterval: -1, NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	clock := resptest.NewClock(1_700_000_000_000)
	s := resp.New(resp.Config{ClusterSecret: secret}, resptest.NewBackend("n1", clock.NowMs), nil)
	if err := peerserver.Register(s, peer.Local{Store: store}); err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	c, err := peerclient.New(peerclient.Config{ID: "n1", Addr: ln.Addr().String(), Secret: secret, Timeout: 5 * time.Second, NoPipeline: pooled})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		c.Close()
		_ = s.Close()
		<-served
		_ = store.Close()
	})
	return c, store
}

// setObject returns the object a SET of a 3-byte value makes on store
// (under a key of its own, outside the benchmark keyspace).
func setObject(b *testing.B, store *replica.Store) crdt.Object {
	b.Helper()
	value := []byte("xxx")
	_, o, _, err := store.Update(context.Background(), []byte("seed"), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: value}, nil
	}))
	if err != nil {
		b.Fatal(err)
	}
	return o
}

// BenchmarkPeerCall: one node-to-node call's round trip over loopback TCP,
// client encoding, server dispatch and store included (the store does not
// fsync, so the network path is what is measured): Merge of a SET's
// object as a coordinator ships it, and Get as a quorum read asks it, one
// caller at a time and 25×GOMAXPROCS callers sharing the client
// ("parallel"), on the multiplexed connections and ("pooled") with
// Config.NoPipeline, a connection per call. Run with
// `go test -run '^$' -bench PeerCall -benchtime 2000x ./peer/peerclient/`.
func BenchmarkPeerCall(b *testing.B) {
	ctx := context.Background()
	for _, mode := range []struct {
		parallel, pooled bool
	}{{false, false}, {true, false}, {false, true}, {true, true}} {
		parallel, pooled := mode.parallel, mode.pooled
		suffix := map[bool]string{false: "", true: "/parallel"}[parallel] + map[bool]string{false: "", true: "/pooled"}[pooled]
		run := func(b *testing.B, call func(i int) error) {
			b.ReportAllocs()
			if !parallel {
				for i := 0; b.Loop(); i++ {
					if err := call(i); err != nil {
						b.Fatal(err)
					}
				}
				return
			}
			b.SetParallelism(25) // 25×GOMAXPROCS callers: the benchmark's 50 clients on 2 cores
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for i := 0; pb.Next(); i++ {
					if err := call(i); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		b.Run("merge"+suffix, func(b *testing.B) {
			c, store := benchNode(b, pooled)
			o := setObject(b, store)
			run(b, func(i int) error { return c.Merge(ctx, benchKey(i), o) })
		})
		b.Run("get"+suffix, func(b *testing.B) {
			c, store := benchNode(b, pooled)
			o := setObject(b, store)
			entries := make([]peer.Entry, benchKeys)
			for i := range entries {
				entries[i] = peer.Entry{Key: benchKey(i), Object: o}
			}
			if err := store.MergeMany(ctx, entries); err != nil {
				b.Fatal(err)
			}
			run(b, func(i int) error {
				got, err := c.Get(ctx, benchKey(i))
				if err == nil && got.IsZero() {
					err = fmt.Errorf("Get %q: no object", benchKey(i))
				}
				return err
			})
		})
	}
}
