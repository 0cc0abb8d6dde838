package antientropy_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// node is one replica of the in-process harness: a store on an in-memory
// file system whose trees are kept by the store's Observer.
type node struct {
	id    string
	store *replica.Store
	trees *antientropy.Trees
}

var testLayout = func() antientropy.Layout {
	l, err := antientropy.NewLayout(4, 1024)
	if err != nil {
		panic(err)
	}
	return l
}()

// clock is the harness's injected clock (Unix ms), shared by every node.
var clock = time.UnixMilli(1_800_000_000_000)

func newNode(t testing.TB, id string) *node {
	t.Helper()
	trees := antientropy.NewTrees(testLayout)
	s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1,
		Now: func() time.Time { return clock }, Observer: trees})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &node{id: id, store: s, trees: trees}
}

// peer is a Peer over another harness node; fail, if set, decides per call
// whether it fails (a fault-injecting transport).
type peer struct {
	n     *node
	calls int
	fail  func(call int) bool
}

var errInjected = errors.New("injected fault")

func (p *peer) fault() error {
	p.calls++
	if p.fail != nil && p.fail(p.calls) {
		return errInjected
	}
	return nil
}

func (p *peer) ID() string { return p.n.id }

func (p *peer) TreeLevel(_ context.Context, part, leaves, depth, from, to int) ([]antientropy.Hash, error) {
	if err := p.fault(); err != nil {
		return nil, err
	}
	if leaves != p.n.trees.Layout().Leaves() {
		return nil, antientropy.ErrShape
	}
	return p.n.trees.Level(part, depth, from, to)
}

func (p *peer) ScanRanges(ctx context.Context, ranges []replica.Range, count int) (replica.Cursor, []replica.Entry, error) {
	if err := p.fault(); err != nil {
		return 0, nil, err
	}
	return p.n.store.ScanRanges(ctx, ranges, count)
}

func (p *peer) MergeMany(ctx context.Context, entries []replica.Entry) error {
	if err := p.fault(); err != nil {
		return err
	}
	return p.n.store.MergeMany(ctx, entries)
}

// set writes key=value on n as its coordinator, with an empty context.
func set(t testing.TB, n *node, key, value string) {
	t.Helper()
	_, _, _, err := n.store.Update(context.Background(), []byte(key), crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
		return nil, dvv.Sibling{Value: []byte(value)}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// del deletes key on n, superseding what n holds.
func del(t testing.TB, n *node, key string) {
	t.Helper()
	_, _, _, err := n.store.Update(context.Background(), []byte(key), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Tombstone: true}, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
}

// copyTo merges key's object of a into b (a replicated write).
func copyTo(t testing.TB, a, b *node, key string) {
	t.Helper()
	o, err := a.store.Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.store.Merge(context.Background(), []byte(key), o); err != nil {
		t.Fatal(err)
	}
}

// exchangeAll runs an exchange of every partition from a with b.
func exchangeAll(t testing.TB, a, b *node) antientropy.Result {
	t.Helper()
	var total antientropy.Result
	for p := range testLayout.Partitions() {
		res, err := antientropy.Exchange(context.Background(), a.trees, p, a.store, &peer{n: b}, antientropy.Options{Page: 50})
		if err != nil {
			t.Fatalf("exchange of partition %d: %v", p, err)
		}
		total.Add(res)
	}
	return total
}

// dump returns every key's encoded object on n.
func dump(t testing.TB, n *node) map[string]string {
	t.Helper()
	out := map[string]string{}
	var c replica.Cursor
	for {
		next, es, err := n.store.ScanRanges(context.Background(), []replica.Range{{From: c}}, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			out[string(e.Key)] = string(e.Object.Encode())
		}
		if next == 0 {
			return out
		}
		c = next
	}
}

// converged fails t unless a and b hold the same objects and the same
// trees.
func converged(t testing.TB, a, b *node) {
	t.Helper()
	da, db := dump(t, a), dump(t, b)
	if len(da) != len(db) {
		t.Fatalf("%s holds %d keys, %s holds %d", a.id, len(da), b.id, len(db))
	}
	for k, v := range da {
		if db[k] != v {
			t.Fatalf("key %q differs between %s and %s", k, a.id, b.id)
		}
	}
	for p := range testLayout.Partitions() {
		if a.trees.Root(p) != b.trees.Root(p) {
			t.Fatalf("partition %d: roots differ with equal stores", p)
		}
	}
}

// TestExchangeRestoresWipedReplica: a replica that lost everything gets
// every key back from one exchange per partition, and a second round finds
// nothing to do and costs one hash per partition.
func TestExchangeRestoresWipedReplica(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	for i := range 3000 {
		set(t, a, fmt.Sprintf("key:%d", i), fmt.Sprintf("v%d", i))
	}
	res := exchangeAll(t, b, a) // the wiped one asks
	if res.Pulled != 3000 || res.Pushed != 0 {
		t.Fatalf("wiped replica pulled %d and pushed %d keys, want 3000 and 0", res.Pulled, res.Pushed)
	}
	converged(t, a, b)
	again := exchangeAll(t, a, b)
	if again.Repaired() != 0 || again.Keys != 0 || again.Hashes != testLayout.Partitions() {
		t.Fatalf("converged exchange: %+v, want nothing repaired and one hash per partition", again)
	}
}

// TestExchangeRepairsBothWaysAndOnlyDifferingKeys: two replicas of 20,000
// keys diverge on 100 (keys only one has, keys with different versions,
// concurrent writes, a delete); one exchange makes them equal, and the
// keys it reads are about the differing ones, not the partitions.
func TestExchangeRepairsBothWaysAndOnlyDifferingKeys(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 1)
	a, b := newNode(t, "a"), newNode(t, "b")
	const total, differ = 20000, 100
	for i := range total {
		k := fmt.Sprintf("key:%d", i)
		set(t, a, k, "v")
		copyTo(t, a, b, k)
	}
	touched := map[int]bool{}
	for len(touched) < differ {
		i := r.IntN(total)
		if touched[i] {
			continue
		}
		touched[i] = true
		k := fmt.Sprintf("key:%d", i)
		switch r.IntN(4) {
		case 0:
			set(t, a, k, "newer on a")
		case 1:
			set(t, b, k, "newer on b")
		case 2: // concurrent: siblings after the merge
			set(t, a, k, "x")
			set(t, b, k, "y")
		default:
			del(t, b, k)
		}
	}
	for i := range 20 { // keys only one side has
		set(t, []*node{a, b}[i%2], fmt.Sprintf("only:%d", i), "o")
	}
	res := exchangeAll(t, a, b)
	converged(t, a, b)
	want := differ + 20
	if res.Repaired() < want || res.Repaired() > 2*want {
		t.Fatalf("seed %d: repaired %d keys (pulled %d, pushed %d) for %d differing", seed, res.Repaired(), res.Pulled, res.Pushed, want)
	}
	// 4096 leaves over 20,000 keys: about 5 keys a leaf. Each differing
	// key costs its leaf's keys on both sides (a few differing keys may
	// share a leaf).
	perLeaf := float64(total) / float64(testLayout.Partitions()*testLayout.Leaves())
	if limit := int(float64(want) * 2 * (perLeaf + 1)); res.Keys > limit {
		t.Fatalf("seed %d: read %d keys to repair %d (limit %d): the exchange is not confined to differing leaves", seed, res.Keys, want, limit)
	}
	t.Logf("%d differing keys of %d: %d leaves, %d hashes, %d keys read, %d B in, %d B out",
		want, total, res.DifferingLeaves, res.Hashes, res.Keys, res.BytesIn, res.BytesOut)
	if again := exchangeAll(t, b, a); again.Repaired() != 0 {
		t.Fatalf("second exchange repaired %d keys", again.Repaired())
	}
}

// TestExchangeKeepsDeletesDeleted: a delete that reached one replica wins
// over the older value on the other, in whichever direction the exchange
// runs; no live value comes back.
func TestExchangeKeepsDeletesDeleted(t *testing.T) {
	for _, dir := range []string{"deleter asks", "stale asks"} {
		t.Run(dir, func(t *testing.T) {
			a, b := newNode(t, "a"), newNode(t, "b")
			for i := range 200 {
				k := fmt.Sprintf("key:%d", i)
				set(t, a, k, "v")
				copyTo(t, a, b, k)
				if i%2 == 0 {
					del(t, a, k)
				}
			}
			if dir == "deleter asks" {
				exchangeAll(t, a, b)
			} else {
				exchangeAll(t, b, a)
			}
			converged(t, a, b)
			for i := 0; i < 200; i += 2 {
				o, _ := b.store.Get(context.Background(), fmt.Appendf(nil, "key:%d", i))
				if live := liveSiblings(o, clock.UnixMilli()); len(live) != 0 {
					t.Fatalf("deleted key:%d is live again on b: %q", i, live[0].Value)
				}
			}
		})
	}
}

// TestExchangeFaults: an exchange cut short by a failing peer reports the
// error (wrapping peer.ErrRemote or the cause), stores nothing half-merged, and a
// later exchange over a working link converges. Seeded: the call that
// fails is drawn from the seed.
func TestExchangeFaults(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 2)
	a, b := newNode(t, "a"), newNode(t, "b")
	for i := range 2000 {
		n := []*node{a, b}[r.IntN(2)]
		set(t, n, fmt.Sprintf("key:%d", r.IntN(1500)), fmt.Sprintf("v%d", i))
	}
	failed := 0
	for p := range testLayout.Partitions() {
		at := 1 + r.IntN(20)
		_, err := antientropy.Exchange(context.Background(), a.trees, p, a.store, &peer{n: b, fail: func(c int) bool { return c == at }}, antientropy.Options{Page: 20})
		if err != nil {
			if !errors.Is(err, errInjected) {
				t.Fatalf("seed %d: error %v does not wrap the transport's", seed, err)
			}
			failed++
		}
	}
	if failed == 0 {
		t.Fatalf("seed %d: no exchange met its fault", seed)
	}
	exchangeAll(t, a, b)
	converged(t, a, b)
}

// TestExchangeRejectsOtherShape: a peer whose trees have another number of
// leaves makes the exchange fail, repairing nothing.
func TestExchangeRejectsOtherShape(t *testing.T) {
	a := newNode(t, "a")
	other, _ := antientropy.NewLayout(4, 512)
	b := &node{id: "b", trees: antientropy.NewTrees(other)}
	set(t, a, "k", "v")
	_, err := antientropy.Exchange(context.Background(), a.trees, 0, a.store, &peer{n: b}, antientropy.Options{})
	if !errors.Is(err, antientropy.ErrShape) {
		t.Fatalf("exchange with a differently shaped peer: %v, want ErrShape", err)
	}
}

// TestTreesMatchRebuild: trees kept by the Observer through writes,
// merges, deletes and expiry equal trees rebuilt from the store, and a
// store reopened from the same files rebuilds the same roots.
func TestTreesMatchRebuild(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 3)
	fs := vfs.NewMem()
	now := clock
	trees := antientropy.NewTrees(testLayout)
	open := func(tr *antientropy.Trees) *replica.Store {
		s, err := replica.Open(replica.Config{Dir: "/s", FS: fs, NodeID: "a", SweepInterval: -1,
			Now: func() time.Time { return now }, Observer: tr, CanReap: func([]byte, crdt.Object) bool { return true }, TombstoneGrace: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := open(trees)
	n := &node{id: "a", store: s, trees: trees}
	for i := range 3000 {
		k := fmt.Sprintf("key:%d", r.IntN(500))
		switch r.IntN(5) {
		case 0:
			del(t, n, k)
		case 1:
			_, _, _, err := s.Update(context.Background(), []byte(k), crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
				return nil, dvv.Sibling{Value: []byte("ttl"), Expiry: now.UnixMilli() + int64(r.IntN(3000))}, nil
			}))
			if err != nil {
				t.Fatal(err)
			}
		case 2:
			if err := s.Merge(context.Background(), []byte(k), randObject(r)); err != nil {
				t.Fatal(err)
			}
		default:
			set(t, n, k, fmt.Sprintf("v%d", i))
		}
		if i%500 == 0 {
			now = now.Add(time.Second)
			if _, err := s.Sweep(10000); err != nil { // expiry and reaping
				t.Fatal(err)
			}
		}
	}
	if st := s.Stats(); st.Expired.Load() == 0 || st.Reaped.Load() == 0 {
		t.Fatalf("seed %d: the run expired %d and reaped %d: it does not exercise the sweeper", seed, st.Expired.Load(), st.Reaped.Load())
	}
	rebuilt := antientropy.NewTrees(testLayout)
	for p := range testLayout.Partitions() {
		if err := rebuilt.Rebuild(p, s); err != nil {
			t.Fatal(err)
		}
		if trees.Root(p) != rebuilt.Root(p) {
			t.Fatalf("seed %d: partition %d: kept root %v, rebuilt %v", seed, p, trees.Root(p), rebuilt.Root(p))
		}
	}
	s.Close()
	reopened := antientropy.NewTrees(testLayout)
	s2 := open(reopened)
	defer s2.Close()
	for p := range testLayout.Partitions() {
		if trees.Root(p) != reopened.Root(p) {
			t.Fatalf("seed %d: partition %d: root after reopening differs", seed, p)
		}
	}
}

// TestLayout: leaves tile each partition's cursor range in order, Locate
// agrees with LeafRange, and the last leaf runs to the end (hi 0).
func TestLayout(t *testing.T) {
	seed := testSeed(t)
	r := newRand(seed, 4)
	for _, q := range []int{1, 4, 256, 16384} {
		for _, leaves := range []int{1, 16, 1024} {
			l, err := antientropy.NewLayout(q, leaves)
			if err != nil {
				t.Fatal(err)
			}
			for range 2000 {
				c := replica.Cursor(r.Uint64())
				p, leaf := l.Locate(c)
				lo, hi := l.LeafRange(p, leaf, leaf+1)
				if c < lo || (hi != 0 && c >= hi) {
					t.Fatalf("Q=%d leaves=%d: cursor %x in partition %d leaf %d outside [%x, %x)", q, leaves, c, p, leaf, lo, hi)
				}
			}
			if _, hi := l.LeafRange(q-1, leaves-1, leaves); hi != 0 {
				t.Fatalf("Q=%d leaves=%d: last leaf ends at %x, want 0 (the end)", q, leaves, hi)
			}
			if lo, _ := l.LeafRange(0, 0, 1); lo != 0 {
				t.Fatalf("first leaf starts at %x", lo)
			}
		}
	}
	if _, err := antientropy.NewLayout(3, 0); !errors.Is(err, antientropy.ErrRange) {
		t.Fatalf("NewLayout(3): %v", err)
	}
}
