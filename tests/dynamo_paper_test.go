package tests

// The claims of the Dynamo paper (DeCandia et al., "Dynamo: Amazon's
// Highly Available Key-value Store", SOSP 2007), one test each, in the
// manner of etcd raft's raft_paper_test.go: each test quotes or
// paraphrases the sentence it checks and ends its comment with the
// section. They run in-process (rings, in-memory pebble stores, the
// peer/peertest network, the anti-entropy harness), take well under a
// second each, and are part of `go test ./...`, not of the heavy tier.

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/node"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/ring/member/membertest"
	"github.com/redis/go-redis/v9"
)

// paperPartitions is Q of the rings of these tests.
const paperPartitions = 64

// paperMembers returns members n1..nk of weight 1.
func paperMembers(k int) []ring.Member {
	var ms []ring.Member
	for i := 1; i <= k; i++ {
		ms = append(ms, paperMember(fmt.Sprintf("n%d", i)))
	}
	return ms
}

func paperMember(id string) ring.Member {
	return ring.Member{ID: ring.NodeID(id), Addr: id + ":6379", GossipAddr: id + ":7946", Weight: 1}
}

// paperRing returns a ring of members n1..nk with Q=64 and N=3.
func paperRing(t *testing.T, k int) *ring.State {
	t.Helper()
	st, err := ring.New(ring.Config{Partitions: paperPartitions, Replicas: 3}, paperMembers(k))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// memCluster is k in-process nodes n1..nk on a fault network: each an
// in-memory pebble store and a coordinator over one ring (Q=64). It is the
// minimum of coordinator/coordinator_test.go's harness.
type memCluster struct {
	net    *peertest.Network
	ring   *ring.State
	stores map[string]*replica.Store
	coords map[string]*coordinator.Coordinator
}

func newMemCluster(t *testing.T, k int, cfg coordinator.Config) *memCluster {
	t.Helper()
	c := &memCluster{net: peertest.New(testseed.Seed(t)), stores: map[string]*replica.Store{}, coords: map[string]*coordinator.Coordinator{}}
	cfg.Healthy = c.net.Up // liveness: what gossip would report
	st, err := ring.New(ring.Config{Partitions: paperPartitions, Replicas: cfg.N}, paperMembers(k))
	if err != nil {
		t.Fatal(err)
	}
	c.ring = st
	for _, m := range st.Members() {
		id := string(m.ID)
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		c.stores[id] = s
		c.net.Add(s)
	}
	place := coordinator.RingPlacement(func() *ring.State { return st })
	for id, s := range c.stores {
		co, err := coordinator.New(cfg, s, place, c.net.Peers(id))
		if err != nil {
			t.Fatal(err)
		}
		c.coords[id] = co
		t.Cleanup(co.Wait)
	}
	return c
}

// prefs returns key's walk of the ring: its N replicas first, then the
// fallbacks of a sloppy quorum.
func (c *memCluster) prefs(key string) []string {
	var out []string
	for _, id := range c.ring.Walk(c.ring.KeyPartition([]byte(key))) {
		out = append(out, string(id))
	}
	return out
}

// settle waits for every write's background sends to finish.
func (c *memCluster) settle() {
	for _, co := range c.coords {
		co.Wait()
	}
}

// stored returns the live values of key in node id's own replica.
func (c *memCluster) stored(t *testing.T, id, key string) []string {
	t.Helper()
	o, err := c.stores[id].Get(context.Background(), []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return liveValues(o)
}

// liveValues returns the values of o's live siblings, sorted.
func liveValues(o crdt.Object) []string {
	var out []string
	for _, s := range liveSiblings(o, time.Now().UnixMilli()) {
		out = append(out, string(s.Value))
	}
	slices.Sort(out)
	return out
}

// write returns a mutator writing v with context ctx (nil: a blind
// write).
func write(ctx dvv.VV, v string) crdt.Mutator {
	return crdt.FromUpdate(func(dvv.Object, int64) (dvv.VV, dvv.Sibling, error) {
		return ctx, dvv.Sibling{Value: []byte(v)}, nil
	})
}

// overwrite returns a mutator writing v over everything the replica
// holds (a plain SET).
func overwrite(v string) crdt.Mutator {
	return crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
		return cur.Join(), dvv.Sibling{Value: []byte(v)}, nil
	})
}

func cfgN3R2W2() coordinator.Config {
	return coordinator.Config{N: 3, R: 2, W: 2, Timeout: 5 * time.Second}
}

// TestDynamoIncrementalScalability: "One of the key design requirements
// for Dynamo is that it must scale incrementally. This requires a
// mechanism to dynamically partition the data over the set of nodes ...
// The principle advantage of consistent hashing is that departure or
// arrival of a node only affects its immediate neighbors and other nodes
// remain unaffected" (with Q equal partitions, §6.2's third strategy, the
// new node takes its share from the others). Adding a node to a ring of Q
// partitions moves exactly the new node's share of them, the fewest that
// can give it its share; every moved partition goes to the new node, and
// every other partition keeps its owner.
// Reference: §4.2
func TestDynamoIncrementalScalability(t *testing.T) {
	st := paperRing(t, 3)
	for k := 4; k <= 8; k++ {
		id := ring.NodeID(fmt.Sprintf("n%d", k))
		next, res, err := st.Join(paperMember(string(id)))
		if err != nil {
			t.Fatal(err)
		}
		moved := 0
		for p := 0; p < paperPartitions; p++ {
			if before, after := st.Owner(p), next.Owner(p); before != after {
				moved++
				if after != id {
					t.Fatalf("adding %s moved partition %d from %s to %s, not to the new node", id, p, before, after)
				}
			}
		}
		share := len(next.PartitionsOf(id))
		if lo, hi := paperPartitions/k, (paperPartitions+k-1)/k; share < lo || share > hi {
			t.Fatalf("%s owns %d of %d partitions, want its share of 1/%d (%d..%d)", id, share, paperPartitions, k, lo, hi)
		}
		if moved != share || moved != res.MinMoved {
			t.Fatalf("adding %s moved %d partitions; its share is %d, the minimum %d", id, moved, share, res.MinMoved)
		}
		st = next
	}
}

// TestDynamoPreferenceListHasNDistinctNodes: "Each data item is
// replicated at N hosts ... The list of nodes that is responsible for
// storing a particular key is called the preference list ... the
// preference list for a key is constructed by skipping positions in the
// ring to ensure that the list contains only distinct physical nodes."
// On rings of 3 to 8 nodes every partition's preference list is the first
// N distinct owners met walking the ring from it; and a write acknowledged
// by W=N replicas is stored on exactly those N nodes.
// Reference: §4.3
func TestDynamoPreferenceListHasNDistinctNodes(t *testing.T) {
	const n = 3
	st := paperRing(t, 3)
	for k := 3; k <= 8; k++ {
		if k > 3 {
			var err error
			if st, _, err = st.Join(paperMember(fmt.Sprintf("n%d", k))); err != nil {
				t.Fatal(err)
			}
		}
		for p := 0; p < paperPartitions; p++ {
			// The paper's definition, walked here independently.
			var want []ring.NodeID
			for q := p; len(want) < n; q = (q + 1) % paperPartitions {
				if o := st.Owner(q); !slices.Contains(want, o) {
					want = append(want, o)
				}
			}
			if got := st.PreferenceList(p, n); !slices.Equal(got, want) {
				t.Fatalf("%d nodes, partition %d: preference list %v, want the first %d distinct owners %v", k, p, got, n, want)
			}
		}
	}
	c := newMemCluster(t, 5, coordinator.Config{N: n, R: 2, W: n, Timeout: 5 * time.Second})
	for i := range 50 {
		key := fmt.Sprintf("k%d", i)
		top := c.prefs(key)[:n]
		if _, _, err := c.coords[top[0]].Update(context.Background(), []byte(key), coordinator.WriteOptions{}, overwrite("v")); err != nil {
			t.Fatal(err)
		}
		var holders []string
		for id := range c.stores {
			if len(c.stored(t, id, key)) > 0 {
				holders = append(holders, id)
			}
		}
		slices.Sort(holders)
		if want := slices.Sorted(slices.Values(top)); !slices.Equal(holders, want) {
			t.Fatalf("%s is stored on %v, want its %d distinct replicas %v", key, holders, n, want)
		}
	}
}

// TestDynamoConcurrentWritesBecomeSiblings: "Dynamo uses vector clocks in
// order to capture causality between different versions of the same
// object ... If the counters on the first object's clock are less-than-or-
// equal to all of the nodes in the second clock, then the first is an
// ancestor of the second and can be forgotten. Otherwise, the two changes
// are considered to be in conflict and require reconciliation"; a client
// "must specify which version it is updating ... by passing the context it
// obtained from an earlier read operation". Two writes made with the same context
// on two replicas both survive their exchange, as siblings; a write with
// the context of the merged read supersedes both.
// Reference: §4.4
func TestDynamoConcurrentWritesBecomeSiblings(t *testing.T) {
	ctx := context.Background()
	open := func(id string) *replica.Store {
		s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	sx, sy := open("sx"), open("sy")
	key := []byte("cart")
	exchange := func() { // each replica merges the other's version
		ox, err1 := sx.Get(ctx, key)
		oy, err2 := sy.Get(ctx, key)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if err1, err2 = sx.Merge(ctx, key, oy), sy.Merge(ctx, key, ox); err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
	}
	_, base, _, err := sx.Update(ctx, key, write(nil, "base"))
	if err != nil {
		t.Fatal(err)
	}
	exchange()
	read := base.Context() // both clients read "base" and its context
	if _, _, _, err := sx.Update(ctx, key, write(read, "apple,pear")); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := sy.Update(ctx, key, write(read, "apple,fig")); err != nil {
		t.Fatal(err)
	}
	exchange()
	for _, s := range []*replica.Store{sx, sy} {
		o, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got := liveValues(o); !slices.Equal(got, []string{"apple,fig", "apple,pear"}) {
			t.Fatalf("%s after concurrent writes with the same context: %q, want both as siblings", s.ID(), got)
		}
	}
	merged, err := sy.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := sy.Update(ctx, key, write(merged.Context(), "apple,fig,pear")); err != nil {
		t.Fatal(err)
	}
	exchange()
	for _, s := range []*replica.Store{sx, sy} {
		o, err := s.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if got := liveValues(o); !slices.Equal(got, []string{"apple,fig,pear"}) {
			t.Fatalf("%s after the reconciling write: %q, want only it", s.ID(), got)
		}
	}
}

// TestDynamoReadQuorumOverlapsWriteQuorum: "To maintain consistency among
// its replicas, Dynamo uses a consistency protocol similar to those used
// in quorum systems ... Setting R and W such that R + W > N yields a
// quorum-like system." With N=3 R=2 W=2, a write acknowledged while one
// replica is down (so that replica misses it) is read back through every
// coordinator while any one replica is down, the one that missed it
// included: every read quorum meets every write quorum.
// Reference: §4.5
func TestDynamoReadQuorumOverlapsWriteQuorum(t *testing.T) {
	c := newMemCluster(t, 3, cfgN3R2W2())
	ctx := context.Background()
	ids := []string{"n1", "n2", "n3"}
	for _, missed := range ids {
		for _, readDown := range ids {
			key := fmt.Sprintf("k-missed-%s-read-without-%s", missed, readDown)
			c.net.SetDown(missed, true)
			writer := ids[(slices.Index(ids, missed)+1)%3]
			if _, _, err := c.coords[writer].Update(ctx, []byte(key), coordinator.WriteOptions{}, overwrite("v")); err != nil {
				t.Fatalf("write via %s with %s down: %v", writer, missed, err)
			}
			c.settle()
			if got := c.stored(t, missed, key); len(got) != 0 {
				t.Fatalf("%s holds %s although it was down for the write: %q", missed, key, got)
			}
			c.net.SetDown(missed, false)
			c.net.SetDown(readDown, true)
			for _, reader := range ids {
				if reader == readDown {
					continue
				}
				o, err := c.coords[reader].Get(ctx, []byte(key), coordinator.ReadOptions{})
				if err != nil {
					t.Fatalf("read via %s with %s down (the write missed %s): %v", reader, readDown, missed, err)
				}
				if got := liveValues(o); !slices.Equal(got, []string{"v"}) {
					t.Fatalf("read via %s with %s down (the write missed %s): %q, want the acknowledged write", reader, readDown, missed, got)
				}
			}
			c.settle()
			c.net.SetDown(readDown, false)
		}
	}
}

// TestDynamoSloppyQuorumAndHintedHandoff: "all read and write operations
// are performed on the first N healthy nodes from the preference list,
// which may not always be the first N nodes encountered while walking the
// consistent hashing ring ... if node A is temporarily down or unreachable
// during a write operation then a replica that would normally have lived
// on A will now be sent to node D ... The replica sent to D will have a
// hint in its metadata that suggests which node was the intended recipient
// ... Upon detecting that A has recovered, D will attempt to deliver the
// replica to A. Once the transfer succeeds, D may delete the object from
// its local store." Five nodes, N=3, W=3: with one replica down the write
// is still acknowledged, because the next node of the walk holds a hint
// for it (its own replica does not hold the key); a handoff pass while the
// replica is down delivers nothing; once it is back, one pass puts the
// write in its replica and the hint is gone.
// Reference: §4.6
func TestDynamoSloppyQuorumAndHintedHandoff(t *testing.T) {
	c := newMemCluster(t, 5, coordinator.Config{N: 3, R: 2, W: 3, Timeout: 5 * time.Second})
	ctx := context.Background()
	for i := range 10 {
		key := fmt.Sprintf("k%d", i)
		walk := c.prefs(key)
		coord, down, fallback := walk[0], walk[1], walk[3]
		c.net.SetDown(down, true)
		if _, _, err := c.coords[coord].Update(ctx, []byte(key), coordinator.WriteOptions{}, overwrite("v")); err != nil {
			t.Fatalf("W=3 write of %s with replica %s down: %v (a strict quorum fails here; a sloppy one uses %s)", key, down, err, fallback)
		}
		c.settle()
		hints := func(id string) int {
			ts, err := c.stores[id].HintTargets()
			if err != nil {
				t.Fatal(err)
			}
			return ts[down]
		}
		if h := hints(fallback); h != 1 {
			t.Fatalf("%s: fallback %s holds %d hints for %s, want 1", key, fallback, h, down)
		}
		if got := c.stored(t, fallback, key); len(got) != 0 {
			t.Fatalf("%s: fallback %s stored the key in its own replica: %q", key, fallback, got)
		}
		if st, err := c.handoff(t, fallback).Pass(ctx); err != nil || st.Delivered != 0 {
			t.Fatalf("%s: handoff to %s while it is down: %+v %v", key, down, st, err)
		}
		c.net.SetDown(down, false)
		if st, err := c.handoff(t, fallback).Pass(ctx); err != nil || st.Delivered != 1 {
			t.Fatalf("%s: handoff to %s once it is back: %+v %v, want 1 delivered", key, down, st, err)
		}
		if got := c.stored(t, down, key); !slices.Equal(got, []string{"v"}) {
			t.Fatalf("%s: %s holds %q after hinted handoff", key, down, got)
		}
		if h := hints(fallback); h != 0 {
			t.Fatalf("%s: %d hints left on %s after delivery", key, h, fallback)
		}
	}
}

// handoff returns node id's hinted-handoff deliverer over the fault
// network.
func (c *memCluster) handoff(t *testing.T, id string) *hints.Deliverer {
	peers := c.net.Peers(id)
	d, err := hints.New(hints.Config{}, hints.Deps{Queue: c.stores[id], Healthy: c.net.Up, Peers: func(to string) hints.Target {
		if r := peers(to); r != nil {
			return r
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// aeNode is one replica of the anti-entropy harness (the minimum of
// antientropy/exchange_test.go's): a store on an in-memory file system
// whose Merkle trees its Observer keeps current, and the antientropy.Peer
// other replicas reach it through.
type aeNode struct {
	id    string
	store *replica.Store
	trees *antientropy.Trees
}

func newAENode(t *testing.T, id string, l antientropy.Layout) *aeNode {
	t.Helper()
	trees := antientropy.NewTrees(l)
	now := time.UnixMilli(1_800_000_000_000) // the harness's clock
	s, err := replica.Open(replica.Config{Dir: "/" + id, FS: vfs.NewMem(), NodeID: id, SweepInterval: -1,
		Now: func() time.Time { return now }, Observer: trees})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return &aeNode{id: id, store: s, trees: trees}
}

func (n *aeNode) ID() string { return n.id }

func (n *aeNode) TreeLevel(_ context.Context, part, leaves, depth, from, to int) ([]antientropy.Hash, error) {
	if leaves != n.trees.Layout().Leaves() {
		return nil, antientropy.ErrShape
	}
	return n.trees.Level(part, depth, from, to)
}

func (n *aeNode) ScanRanges(ctx context.Context, ranges []replica.Range, count int) (replica.Cursor, []replica.Entry, error) {
	return n.store.ScanRanges(ctx, ranges, count)
}

func (n *aeNode) MergeMany(ctx context.Context, entries []replica.Entry) error {
	return n.store.MergeMany(ctx, entries)
}

// dump returns every key's encoded object on n.
func (n *aeNode) dump(t *testing.T) map[string]string {
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

// TestDynamoMerkleAntiEntropyConverges: "To detect the inconsistencies
// between replicas faster and to minimize the amount of transferred data,
// Dynamo uses Merkle trees ... each node maintains a separate Merkle tree
// for each key range ... Two nodes exchange the root of the Merkle tree
// corresponding to the key ranges that they host in common. Subsequently,
// using the tree traversal scheme described above the nodes determine if
// they have any differences and perform the appropriate synchronization
// action." Two replicas of 2,000 keys diverge on a seeded choice of keys
// (newer versions on either side, concurrent writes, deletes, keys only
// one side has); one exchange per partition leaves them holding identical
// objects and equal roots, and a second exchange finds nothing: one hash
// per partition, nothing repaired.
// Reference: §4.7
func TestDynamoMerkleAntiEntropyConverges(t *testing.T) {
	l, err := antientropy.NewLayout(4, 256)
	if err != nil {
		t.Fatal(err)
	}
	a, b := newAENode(t, "a", l), newAENode(t, "b", l)
	ctx := context.Background()
	set := func(n *aeNode, key string, fn crdt.Mutator) {
		if _, _, _, err := n.store.Update(ctx, []byte(key), fn); err != nil {
			t.Fatal(err)
		}
	}
	const total = 2000
	for i := range total {
		k := fmt.Sprintf("key:%d", i)
		set(a, k, overwrite("v"))
		o, err := a.store.Get(ctx, []byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if err := b.store.Merge(ctx, []byte(k), o); err != nil {
			t.Fatal(err)
		}
	}
	r := rand.New(rand.NewPCG(testseed.Seed(t), 47))
	for _, i := range r.Perm(total)[:60] {
		k := fmt.Sprintf("key:%d", i)
		switch r.IntN(4) {
		case 0:
			set(a, k, overwrite("newer on a"))
		case 1:
			set(b, k, overwrite("newer on b"))
		case 2:
			set(a, k, overwrite("x"))
			set(b, k, overwrite("y"))
		default:
			set(b, k, crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
				return cur.Join(), dvv.Sibling{Tombstone: true}, nil
			}))
		}
	}
	for i := range 10 {
		set([]*aeNode{a, b}[i%2], fmt.Sprintf("only:%d", i), overwrite("o"))
	}
	exchangeAll := func() antientropy.Result {
		var res antientropy.Result
		for p := range l.Partitions() {
			rp, err := antientropy.Exchange(ctx, a.trees, p, a.store, b, antientropy.Options{Page: 50})
			if err != nil {
				t.Fatalf("exchange of partition %d: %v", p, err)
			}
			res.Add(rp)
		}
		return res
	}
	if res := exchangeAll(); res.Repaired() < 70 {
		t.Fatalf("the exchange repaired %d keys for 70 differing", res.Repaired())
	}
	da, db := a.dump(t), b.dump(t)
	if len(da) != total+10 || len(db) != len(da) {
		t.Fatalf("after the exchange a holds %d keys, b %d, want %d", len(da), len(db), total+10)
	}
	for k, v := range da {
		if db[k] != v {
			t.Fatalf("after the exchange %s differs between the replicas", k)
		}
	}
	for p := range l.Partitions() {
		if a.trees.Root(p) != b.trees.Root(p) {
			t.Fatalf("partition %d: Merkle roots differ after the exchange", p)
		}
	}
	if again := exchangeAll(); again.Repaired() != 0 || again.Keys != 0 || again.Hashes != l.Partitions() {
		t.Fatalf("second exchange: %+v, want nothing repaired, no key read, one hash per partition", again)
	}
}

// TestDynamoMembershipChangesOnlyByExplicitAct: "In Amazon's environment
// node outages are often transient but may last for extended intervals. A
// node outage rarely signifies a permanent departure and therefore should
// not result in rebalancing of the partition assignment or repair of the
// unreachable replicas ... an explicit mechanism to initiate the addition
// and removal of nodes from a Dynamo ring" is used instead. A node that is
// down keeps its partitions: the ring has no operation that takes
// liveness, a restart that re-announces the node (Update, same weight)
// keeps the table, and the coordinators still place its keys on it (their
// writes leave hints for it). Only an explicit Leave or Forget changes
// ownership, and then only the departing node's partitions move.
// Reference: §4.8
func TestDynamoMembershipChangesOnlyByExplicitAct(t *testing.T) {
	c := newMemCluster(t, 4, cfgN3R2W2())
	ctx := context.Background()
	const dead = "n3"
	owned := c.ring.PartitionsOf(dead)
	if len(owned) == 0 {
		t.Fatal("n3 owns nothing: the test proves nothing")
	}
	c.net.SetDown(dead, true)
	hinted := 0
	for i := range 40 {
		key := fmt.Sprintf("k%d", i)
		walk := c.prefs(key)
		if !slices.Contains(walk[:3], dead) {
			continue
		}
		coord := walk[0]
		if coord == dead {
			coord = walk[1]
		}
		if _, _, err := c.coords[coord].Update(ctx, []byte(key), coordinator.WriteOptions{}, overwrite("v")); err != nil {
			t.Fatalf("write of %s with %s down: %v", key, dead, err)
		}
		hinted++
	}
	c.settle()
	held := 0
	for _, s := range c.stores {
		ts, err := s.HintTargets()
		if err != nil {
			t.Fatal(err)
		}
		held += ts[dead]
	}
	if hinted == 0 || held != hinted {
		t.Fatalf("%d writes to keys of the down %s left %d hints for it, want one each", hinted, dead, held)
	}
	restarted, _, err := c.ring.Update(paperMember(dead))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(restarted.Owners(), c.ring.Owners()) {
		t.Fatal("re-announcing the node changed the partition table")
	}
	for _, change := range []struct {
		name string
		do   func() (*ring.State, ring.ClaimResult, error)
	}{
		{"Leave", func() (*ring.State, ring.ClaimResult, error) { return c.ring.Leave(dead) }},
		{"Forget", func() (*ring.State, ring.ClaimResult, error) { return c.ring.Forget(dead) }},
	} {
		next, _, err := change.do()
		if err != nil {
			t.Fatal(err)
		}
		if got := next.PartitionsOf(dead); len(got) != 0 {
			t.Fatalf("after %s %s still owns %v", change.name, dead, got)
		}
		for p := 0; p < paperPartitions; p++ {
			if before := c.ring.Owner(p); before != dead && next.Owner(p) != before {
				t.Fatalf("%s of %s moved partition %d, owned by %s", change.name, dead, p, before)
			}
		}
	}
}

// startNodes starts k in-process nodes n1..nk (N=3 R=2 W=2, Q=64) with
// node.Start, gossiping over an in-memory memberlist network (membertest)
// with short intervals, their RESP listeners on free loopback ports (port
// 0), anti-entropy off; it returns once every node sees all k in its ring
// and nothing moves. They are closed at cleanup.
func startNodes(t *testing.T, k int) []*node.Node {
	t.Helper()
	gossip := membertest.NewNetwork()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	var nodes []*node.Node
	for i := 1; i <= k; i++ {
		cfg := node.DefaultConfig()
		cfg.ID = fmt.Sprintf("n%d", i)
		cfg.Listen = "127.0.0.1:0"
		cfg.Gossip = fmt.Sprintf("127.0.1.%d:7946", i)
		cfg.DataDir = t.TempDir()
		cfg.ClusterSecret = testSecret
		cfg.Ring.Replicas, cfg.Coordinator.R, cfg.Coordinator.W, cfg.Ring.Partitions = 3, 2, 2, paperPartitions
		cfg.Store.NoSync, cfg.AE.Interval, cfg.Logger = true, -1, logger
		if i > 1 {
			cfg.Join = []string{"127.0.1.1:7946"}
		}
		addr := cfg.Gossip
		cfg.GossipTuning = func(mc *member.Config) {
			mc.Transport = gossip.MustListen(addr)
			mc.ProbeInterval, mc.ProbeTimeout = 100*time.Millisecond, 50*time.Millisecond
			mc.GossipInterval, mc.PushPullInterval = 20*time.Millisecond, time.Second
		}
		n, err := node.Start(cfg)
		if err != nil {
			t.Fatalf("start %s: %v", cfg.ID, err)
		}
		t.Cleanup(func() { n.Close() })
		nodes = append(nodes, n)
	}
	for _, n := range nodes {
		c := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
		t.Cleanup(func() { c.Close() })
		eventually(t, fmt.Sprintf("%s sees %d members alive, nothing moving", n.ID(), k), 30*time.Second, func() error {
			ctx := ctxT(t)
			cl, err := c.Info(ctx, "cluster").Result()
			if err != nil {
				return err
			}
			ho, err := c.Info(ctx, "handoff").Result()
			if err != nil {
				return err
			}
			if !strings.Contains(cl, fmt.Sprintf("nodes_alive:%d\r\n", k)) || !strings.Contains(cl, fmt.Sprintf("ring_members:%d\r\n", k)) ||
				!strings.Contains(ho, "handoff_partitions_moving:0\r\n") {
				return fmt.Errorf("INFO cluster:\n%s\nINFO handoff:\n%s", cl, ho)
			}
			return nil
		})
	}
	return nodes
}

// TestDynamoReadsFirstReplierCoordinatesWrite: "the coordinator for a
// write is chosen to be the node that replied fastest to the previous read
// operation which is stored in the context information of the request.
// This optimization enables us to pick the node that has the data that
// was read by the preceding read operation thereby increasing the chances
// of getting 'read-your-writes' consistency." Two parts. (1) The
// coordinator reports as the read's replier the replica that answered
// first: with the key's other replicas held back on the fault network, a
// read through a node that is not a replica names the one that answered.
// (2) The routing: in an in-process cluster of four nodes (node.Start,
// real RESP on loopback ports, gossip in memory), VGET's token names the
// replier, and a VSET with that token sent to any node is coordinated by
// it (node/resp_cluster.go RouteVia in this tree): only its counter
// advances in the new version's context.
// Reference: §6.4
func TestDynamoReadsFirstReplierCoordinatesWrite(t *testing.T) {
	t.Run("replier", func(t *testing.T) {
		c := newMemCluster(t, 4, cfgN3R2W2())
		ctx := context.Background()
		for i := range 12 {
			key := fmt.Sprintf("k%d", i)
			walk := c.prefs(key)
			top, outsider := walk[:3], walk[3]
			if _, _, err := c.coords[top[0]].Update(ctx, []byte(key), coordinator.WriteOptions{W: 3}, overwrite("v")); err != nil {
				t.Fatal(err)
			}
			fastest := top[i%3]
			for _, id := range top {
				if id != fastest {
					c.net.Hold(id)
				}
			}
			var replier string
			o, err := c.coords[outsider].Get(ctx, []byte(key), coordinator.ReadOptions{R: 1, Replier: &replier})
			for _, id := range top {
				c.net.Release(id)
			}
			if err != nil || !slices.Equal(liveValues(o), []string{"v"}) {
				t.Fatalf("read of %s: %q %v", key, liveValues(o), err)
			}
			if replier != fastest {
				t.Fatalf("read of %s answered first by %s (the others held back): replier %q", key, fastest, replier)
			}
		}
	})
	t.Run("routing", func(t *testing.T) {
		nodes := startNodes(t, 4)
		clients := make([]*redis.Client, len(nodes))
		for i, n := range nodes {
			clients[i] = redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
			t.Cleanup(func() { clients[i].Close() })
		}
		coordinated, elsewhere := map[string]bool{}, 0
		for i := range 12 {
			ctx := ctxT(t)
			key := fmt.Sprintf("cart:%d", i)
			if err := clients[0].Do(ctx, "VSET", key, "", "a").Err(); err != nil {
				t.Fatal(err)
			}
			reader, writer := clients[i%4], clients[(i+1)%4]
			writerID := nodes[(i+1)%4].ID()
			res, err := reader.Do(ctx, "VGET", key).Slice()
			if err != nil || len(res) != 2 {
				t.Fatalf("VGET %s: %v %v", key, res, err)
			}
			tok, _ := res[0].(string)
			before, via, err := dvv.DecodeTokenVia(tok)
			if err != nil || via == "" {
				t.Fatalf("VGET %s token %q: via %q, %v", key, tok, via, err)
			}
			next, err := writer.Do(ctx, "VSET", key, tok, "b").Text()
			if err != nil {
				t.Fatalf("VSET %s: %v", key, err)
			}
			after, err := dvv.DecodeToken(next)
			if err != nil {
				t.Fatal(err)
			}
			for actor, n := range after {
				if n > before[actor] && actor != via {
					t.Fatalf("%s: the VSET was coordinated by %s; the token named %s", key, actor, via)
				}
			}
			if after[via] <= before[via] {
				t.Fatalf("%s: %s, named by the token, did not coordinate the VSET (%v → %v)", key, via, before, after)
			}
			coordinated[via] = true
			if writerID != via {
				elsewhere++
			}
		}
		if elsewhere == 0 {
			t.Fatal("every VSET went to the node its token named: the routing was never exercised")
		}
		t.Logf("%d of 12 VSETs sent to another node than the token's; coordinated by %d distinct first repliers", elsewhere, len(coordinated))
	})
}
