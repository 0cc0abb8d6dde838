package transfer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// The in-process tier: nodes with real pebble stores on crashable memory
// file systems, talking through peertest (seeded), sharing one ring holder,
// on one fake clock. Each round runs every node's Step in a fixed order, so
// a run is replayed by its seed.

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// clockLimiter throttles on the fake clock: taking n keys advances it by
// n/rate seconds, as a real limiter would make the caller wait.
type clockLimiter struct {
	clock *fakeClock
	rate  int
	mu    sync.Mutex
	max   int // largest n asked
}

func (l *clockLimiter) WaitN(ctx context.Context, n int) error {
	l.mu.Lock()
	l.max = max(l.max, n)
	l.mu.Unlock()
	l.clock.Advance(time.Duration(n) * time.Second / time.Duration(l.rate))
	return ctx.Err()
}

// sharedRing is the cluster's ring holder: one state, changed only by a
// successor of the current version.
type sharedRing struct {
	mu sync.Mutex
	st *ring.State
}

func (r *sharedRing) Current() *ring.State {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

func (r *sharedRing) Change(next *ring.State) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if next.Version() != r.st.Version()+1 {
		return fmt.Errorf("stale change: version %d on %d", next.Version(), r.st.Version())
	}
	r.st = next
	return nil
}

// nodeRing is one node's view of the ring holder: a crashed node changes
// nothing.
type nodeRing struct {
	h  *harness
	id string
}

func (r nodeRing) Current() *ring.State { return r.h.ring.Current() }
func (r nodeRing) Change(next *ring.State) error {
	if r.h.crashed(r.id) {
		return errors.New("crashed")
	}
	return r.h.ring.Change(next)
}

type tnode struct {
	id    string
	fs    *vfs.MemFS
	store *replica.Store
	tr    *Transfer
	mark  *memMark
}

// memMark is an in-memory Intent with cluster.MarkLeaving's checks (the
// crash safety of the real mark is package cluster's test).
type memMark struct {
	st      interface{ Current() *ring.State }
	self    ring.NodeID
	mu      sync.Mutex
	leaving bool
}

func (m *memMark) Leaving() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.leaving
}

func (m *memMark) MarkLeaving() error {
	st := m.st.Current()
	switch mem, ok := st.Member(m.self); {
	case !ok:
		return fmt.Errorf("%w: not in the ring", ErrLeave)
	case mem.Status == ring.StatusJoined:
		if _, _, err := st.Leave(m.self); err != nil {
			return fmt.Errorf("%w: %w", ErrLeave, err)
		}
	}
	m.mu.Lock()
	m.leaving = true
	m.mu.Unlock()
	return nil
}

type harness struct {
	t      *testing.T
	cfg    Config
	clock  *fakeClock
	limit  *clockLimiter
	net    *peertest.Network
	ring   *sharedRing
	nodes  map[string]*tnode
	order  []string
	keys   map[string]crdt.Object // every key loaded, with its object
	logger *slog.Logger

	mu   sync.Mutex
	down map[string]bool // crashed processes
	sent map[string]int  // keys in MergeMany calls attempted, by receiver
	hook func(from, to string, entries []replica.Entry) (after func() error)
	// afterStep, if set, runs after each node's Step in a round.
	afterStep func(id string)
	calls     int
}

func newHarness(t *testing.T, seed uint64, batch int) *harness {
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	cfg := DefaultConfig()
	cfg.Batch = batch
	cfg.Rate = 1000
	return &harness{
		t: t, cfg: cfg, clock: clock,
		limit:  &clockLimiter{clock: clock, rate: cfg.Rate},
		net:    peertest.New(seed),
		ring:   &sharedRing{},
		nodes:  map[string]*tnode{},
		keys:   map[string]crdt.Object{},
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		down:   map[string]bool{},
		sent:   map[string]int{},
	}
}

func (h *harness) crashed(id string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.down[id]
}

// start opens (or reopens, on fs) node id's store and transfer driver.
func (h *harness) start(id string, fs *vfs.MemFS) *tnode {
	h.t.Helper()
	if fs == nil {
		fs = vfs.NewCrashableMem()
		if err := fs.MkdirAll("/data", 0o755); err != nil {
			h.t.Fatal(err)
		}
		syncDir(h.t, fs, "/")
	}
	s, err := replica.Open(replica.Config{Dir: "/data", FS: fs, NodeID: id, Now: h.clock.Now, SweepInterval: -1, Logger: h.logger})
	if err != nil {
		h.t.Fatal(err)
	}
	n := &tnode{id: id, fs: fs, store: s, mark: &memMark{st: h.ring, self: ring.NodeID(id)}}
	if old, ok := h.nodes[id]; ok {
		n.mark = old.mark // the mark outlives a crash
	}
	h.net.Add(s)
	tr, err := New(h.cfg, Deps{
		Self:  ring.NodeID(id),
		Ring:  nodeRing{h, id},
		Local: s,
		Peer: func(to ring.NodeID) Peer {
			r := h.net.Peers(id)(string(to))
			if r == nil {
				return nil
			}
			return &countingPeer{h: h, from: id, to: string(to), p: r}
		},
		Alive:   func(x ring.NodeID) bool { return h.net.Up(string(x)) && !h.crashed(string(x)) },
		Limiter: h.limit,
		Store:   NewStore(fs, "/data"),
		Mark:    n.mark,
		Now:     h.clock.Now,
		Logger:  h.logger,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	n.tr = tr
	h.mu.Lock()
	h.down[id] = false
	h.mu.Unlock()
	if _, ok := h.nodes[id]; !ok {
		h.order = append(h.order, id)
	}
	h.nodes[id] = n
	return n
}

// crash stops node id as a crash would: only what it synced survives (the
// returned file system), and it makes no more calls or ring changes.
func (h *harness) crash(id string) *vfs.MemFS {
	n := h.nodes[id]
	clone := n.fs.CrashClone(vfs.CrashCloneCfg{})
	h.mu.Lock()
	h.down[id] = true
	h.mu.Unlock()
	_ = n.store.Close()
	return clone
}

func syncDir(t testing.TB, fs vfs.FS, dir string) {
	d, err := fs.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Sync(); err != nil {
		t.Fatal(err)
	}
	d.Close()
}

// countingPeer counts the keys of every MergeMany attempted and checks
// that each object was encoded once, for the call (Entry.Encoded).
type countingPeer struct {
	h        *harness
	from, to string
	p        Peer
}

func (c *countingPeer) MergeMany(ctx context.Context, entries []replica.Entry) error {
	h := c.h
	if h.crashed(c.from) {
		return errors.New("sender crashed")
	}
	for _, e := range entries {
		if e.Encoded == nil || !bytes.Equal(e.Encoded, e.Object.Encode()) {
			h.t.Errorf("entry %q sent without its encoding", e.Key)
		}
	}
	h.mu.Lock()
	h.sent[c.to] += len(entries)
	h.calls++
	hook := h.hook
	h.mu.Unlock()
	var after func() error
	if hook != nil {
		after = hook(c.from, c.to, entries)
	}
	err := c.p.MergeMany(ctx, entries)
	if after != nil && err == nil {
		err = after()
	}
	return err
}

// load starts nodes ids in a ring of N = 2, Q = 16, and writes k keys on
// each key's replicas.
func (h *harness) load(rng *rand.Rand, k int, ids ...string) {
	h.t.Helper()
	var ms []ring.Member
	for _, id := range ids {
		h.start(id, nil)
		ms = append(ms, ring.Member{ID: ring.NodeID(id), Addr: id + ":1", GossipAddr: id + ":2", Weight: 1})
	}
	st, err := ring.New(ring.Config{Partitions: 16, Replicas: 2}, ms)
	if err != nil {
		h.t.Fatal(err)
	}
	h.ring.st = st
	ctx := context.Background()
	for i := range k {
		key := fmt.Sprintf("key:%d:%d", i, rng.Uint32())
		reps := st.PreferenceList(st.KeyPartition([]byte(key)), st.Replicas())
		first := h.nodes[string(reps[0])].store
		_, obj, _, err := first.Update(ctx, []byte(key), crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Value: []byte("v" + key)}, nil
		}))
		if err != nil {
			h.t.Fatal(err)
		}
		for _, id := range reps[1:] {
			if err := h.nodes[string(id)].store.Merge(ctx, []byte(key), obj); err != nil {
				h.t.Fatal(err)
			}
		}
		h.keys[key] = obj
	}
}

// join adds node id to the ring (a fresh store) and returns the tasks of
// the resulting moves: keys each receiver needs, by receiver.
func (h *harness) join(id string) map[string]int {
	h.t.Helper()
	h.start(id, nil)
	next, _, err := h.ring.Current().Join(ring.Member{ID: ring.NodeID(id), Addr: id + ":1", GossipAddr: id + ":2", Weight: 1})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := h.ring.Change(next); err != nil {
		h.t.Fatal(err)
	}
	if len(next.MovingPartitions()) == 0 {
		h.t.Fatal("the join moves nothing")
	}
	need := map[string]int{}
	for key := range h.keys {
		p := next.KeyPartition([]byte(key))
		for _, to := range next.Incoming(p) {
			need[string(to)]++
		}
	}
	return need
}

// round runs one Step on every running node, in a fixed order, and
// advances the clock by a tick.
func (h *harness) round() {
	for _, id := range h.order {
		if !h.crashed(id) {
			h.nodes[id].tr.Step(context.Background())
		}
		if h.afterStep != nil {
			h.afterStep(id)
		}
	}
	h.clock.Advance(h.cfg.Tick)
}

// settle runs rounds until nothing moves, then one more (the drops), and
// fails after max rounds.
func (h *harness) settle(max int) int {
	h.t.Helper()
	for i := range max {
		h.round()
		if len(h.ring.Current().MovingPartitions()) == 0 {
			h.round()
			return i + 1
		}
	}
	h.t.Fatalf("still moving after %d rounds: %v", max, h.ring.Current().MovingPartitions())
	return 0
}

// checkPlaced asserts that every key is on each of its replicas with its
// object, and on no other node.
func (h *harness) checkPlaced() {
	h.t.Helper()
	st := h.ring.Current()
	ctx := context.Background()
	missing, extra := 0, 0
	for key, want := range h.keys {
		reps := st.PreferenceList(st.KeyPartition([]byte(key)), st.Replicas())
		for _, id := range h.order {
			got, err := h.nodes[id].store.Get(ctx, []byte(key))
			if err != nil {
				h.t.Fatal(err)
			}
			switch {
			case slices.Contains(reps, ring.NodeID(id)) && !crdt.Equal(got, want):
				if missing++; missing <= 5 {
					h.t.Errorf("%s on %s: %v, want %v", key, id, got, want)
				}
			case !slices.Contains(reps, ring.NodeID(id)) && !got.IsZero():
				if extra++; extra <= 5 {
					h.t.Errorf("%s still on %s, which no longer holds it", key, id)
				}
			}
		}
	}
	if missing+extra > 0 {
		h.t.Fatalf("%d copies missing, %d not dropped", missing, extra)
	}
}

// TestTransferCompletes: a fourth node joins; the senders stream every
// moving partition to its incoming replicas, confirm, and the old replicas
// drop what they no longer hold. Every key ends on exactly its replicas,
// each key is sent once to each receiver that needs it, and the throttle
// never takes more than a batch at once.
func TestTransferCompletes(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 1))
	h := newHarness(t, seed, 16)
	h.load(rng, 800, "n1", "n2", "n3")
	need := h.join("n4")
	rounds := h.settle(50)
	h.checkPlaced()
	for to, k := range need {
		if h.sent[to] != k {
			t.Errorf("sent %d keys to %s, which needed %d", h.sent[to], to, k)
		}
	}
	if h.limit.max > h.cfg.Batch {
		t.Errorf("the limiter was asked for %d keys at once, more than a batch (%d)", h.limit.max, h.cfg.Batch)
	}
	var keys, dropped int64
	for _, n := range h.nodes {
		s := n.tr.Status()
		keys += s.KeysSent
		dropped += s.KeysDropped
		if s.Moving != 0 || s.ToSend != 0 || s.ETA != 0 {
			t.Errorf("%s: status after the transfer %+v", n.id, s)
		}
	}
	total := 0
	for _, k := range need {
		total += k
	}
	if keys != int64(total) || dropped != int64(total) {
		t.Errorf("status: %d keys sent, %d dropped; want %d each (N is unchanged)", keys, dropped, total)
	}
	t.Logf("%d rounds, %d keys moved, needs %v", rounds, total, need)
}

// TestTransferResumesAfterDropsAndPartition: with a third of the calls
// dropped and the first sender cut off from the others, the transfer
// makes no confirmation for the partitions that sender streams to the
// other side; after the heal it resumes and completes.
func TestTransferResumesAfterDropsAndPartition(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 2))
	h := newHarness(t, seed, 16)
	h.load(rng, 800, "n1", "n2", "n3")
	h.join("n4")
	st := h.ring.Current()
	var cut []int // partitions n1 must stream across the cut
	for _, p := range st.MovingPartitions() {
		if Sender(st, p, aliveExcept()) == "n1" && len(st.Incoming(p)) > 0 {
			cut = append(cut, p)
		}
	}
	if len(cut) == 0 {
		t.Fatal("n1 sends nothing: the test proves nothing")
	}
	h.net.SetDropRate(0.3)
	h.net.Partition([]string{"n1"}, []string{"n2", "n3", "n4"})
	for range 20 {
		h.round()
	}
	st = h.ring.Current()
	for _, p := range cut {
		if _, moving := st.Moving(p); !moving {
			t.Fatalf("partition %d confirmed while its sender n1 was cut off from its receivers", p)
		}
	}
	h.net.Heal()
	h.settle(200)
	h.net.SetDropRate(0)
	h.round() // a drop pass without drops
	h.checkPlaced()
}

// TestTransferResumesAfterReceiverCrash: the receiver crashes while it
// merges a batch (the batch is stored, its acknowledgement lost); after
// its restart from what it synced the senders resume from their saved
// cursors: keys sent to it are at most what it needs plus that one batch.
func TestTransferResumesAfterReceiverCrash(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 3))
	h := newHarness(t, seed, 16)
	h.load(rng, 800, "n1", "n2", "n3")
	need := h.join("n4")
	var crashedFS *vfs.MemFS
	calls := 0
	h.hook = func(from, to string, _ []replica.Entry) func() error {
		if to != "n4" {
			return nil
		}
		if calls++; calls != 5 {
			return nil
		}
		return func() error {
			crashedFS = h.crash("n4")
			h.net.SetDown("n4", true)
			return errors.New("n4 crashed before acknowledging")
		}
	}
	for range 3 {
		h.round()
	}
	if crashedFS == nil {
		t.Fatal("n4 never crashed")
	}
	h.hook = nil
	h.net.SetDown("n4", false)
	h.start("n4", crashedFS)
	h.settle(50)
	h.checkPlaced()
	if got, want := h.sent["n4"], need["n4"]; got < want || got > want+h.cfg.Batch {
		t.Fatalf("sent %d keys to n4, which needs %d: want at most one batch (%d) more", got, want, h.cfg.Batch)
	}
	t.Logf("n4 needed %d keys, was sent %d", need["n4"], h.sent["n4"])
}

// TestTransferResumesAfterSenderCrash: a sender crashes after a batch is
// acknowledged but before its progress is saved; restarted from its data
// directory it loads the progress and resumes: it resends at most that
// batch, and no finished partition.
func TestTransferResumesAfterSenderCrash(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 4))
	h := newHarness(t, seed, 16)
	h.load(rng, 800, "n1", "n2", "n3")
	need := h.join("n4")
	st := h.ring.Current()
	var sender string
	for _, p := range st.MovingPartitions() {
		if slices.Contains(st.Incoming(p), "n4") {
			sender = string(Sender(st, p, aliveExcept()))
			break
		}
	}
	var crashedFS *vfs.MemFS
	calls := 0
	h.hook = func(from, to string, _ []replica.Entry) func() error {
		if from != sender || crashedFS != nil {
			return nil
		}
		if calls++; calls != 7 {
			return nil
		}
		return func() error {
			crashedFS = h.crash(sender)
			return errors.New("sender crashed")
		}
	}
	// The sender restarts before any other node's Step: nobody takes
	// its partitions over meanwhile.
	h.afterStep = func(id string) {
		if id != sender || crashedFS == nil || !h.crashed(sender) {
			return
		}
		restarted := h.start(sender, crashedFS)
		if p, err := restarted.tr.d.Store.Load(); err != nil || len(p) == 0 {
			t.Fatalf("the restarted sender has no progress: %v, %v", p, err)
		}
	}
	for crashedFS == nil {
		h.round()
	}
	h.settle(50)
	h.checkPlaced()
	total, want := 0, 0
	for to, k := range need {
		total += h.sent[to]
		want += k
	}
	if total < want || total > want+h.cfg.Batch {
		t.Fatalf("sent %d keys for %d: want at most one batch (%d) more", total, want, h.cfg.Batch)
	}
	t.Logf("%s crashed after its 7th batch; %d keys sent for %d", sender, total, want)
}

// TestTransferLeave: a node asked to leave marks itself leaving, streams
// its partitions away, and removes itself; the others hold every key.
func TestTransferLeave(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 5))
	h := newHarness(t, seed, 32)
	h.load(rng, 400, "n1", "n2", "n3", "n4")
	if err := h.nodes["n4"].tr.StartLeave(); err != nil || !h.nodes["n4"].mark.Leaving() {
		t.Fatalf("StartLeave: %v (marked %v)", err, h.nodes["n4"].mark.Leaving())
	}
	if s := h.nodes["n4"].tr.Status().Leave; s != "requested" {
		t.Fatalf("leave status %q before the ring changes", s)
	}
	h.settle(100)
	for range 2 {
		h.round() // removal, then its drops
	}
	st := h.ring.Current()
	if _, ok := st.Member("n4"); ok {
		t.Fatalf("n4 is still a member: %+v", st.Members())
	}
	if s := h.nodes["n4"].tr.Status().Leave; s != "left" {
		t.Fatalf("leave status %q, want left", s)
	}
	h.order = slices.DeleteFunc(h.order, func(id string) bool { return id == "n4" })
	h.checkPlaced()
	// The last joined member cannot leave.
	one := mkState(t, 1, 1, []string{"a"}, []string{"a"}, nil)
	tr, err := New(DefaultConfig(), Deps{Self: "a", Ring: &sharedRing{st: one}, Local: h.nodes["n1"].store,
		Peer: func(ring.NodeID) Peer { return nil }, Alive: aliveExcept(), Store: NewStore(vfs.NewMem(), "/"), Mark: &memMark{st: &sharedRing{st: one}, self: "a"}, Now: h.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.StartLeave(); !errors.Is(err, ErrLeave) {
		t.Fatalf("the last member's leave: %v, want ErrLeave", err)
	}
}

// TestStatusRateIsReadOnly: the rate is measured on the driver's samples,
// so polling Status does not change it, and a single poll already shows
// it (before, each INFO read appended a sample: after one poll the rate
// read 0 and the ETA "unknown").
func TestStatusRateIsReadOnly(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 6))
	h := newHarness(t, seed, 16)
	h.load(rng, 800, "n1", "n2", "n3")
	h.join("n4")
	var busy *tnode
	h.hook = func(from, to string, _ []replica.Entry) func() error {
		if h.calls == 40 {
			return func() error { return errors.New("stop here") }
		}
		return nil
	}
	h.round()
	for _, id := range h.order {
		if h.nodes[id].tr.Status().KeysSent > 0 {
			busy = h.nodes[id]
			break
		}
	}
	if busy == nil {
		t.Fatal("nobody sent anything")
	}
	first := busy.tr.Status()
	// The fake limiter advances the clock by keys/rate: the measured rate
	// is the configured one.
	if first.Rate < float64(h.cfg.Rate)*0.9 || first.Rate > float64(h.cfg.Rate)*1.1 {
		t.Fatalf("rate after one poll = %.1f keys/s, want about %d", first.Rate, h.cfg.Rate)
	}
	if first.ToSend > 0 && first.ETA < 0 {
		t.Fatalf("ETA unknown with a known rate: %+v", first)
	}
	for range 100 {
		h.clock.Advance(time.Second)
		if s := busy.tr.Status(); s != first {
			t.Fatalf("polling changed the status: %+v, then %+v", first, s)
		}
	}
}

// TestProgressSurvivesCrash: saved progress and the leaving mark are
// there after a crash; a save not yet made is not; the legacy file is read
// and replaced; an unreadable file is an ErrProgress.
func TestProgressSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	syncDir(t, fs, "/")
	s := NewStore(fs, "/d")
	p1 := map[Task]Progress{{3, "n4"}: {Move: "n1 n2 ", Cursor: 77, Keys: 32, Bytes: 900}}
	if err := s.Save(p1); err != nil {
		t.Fatal(err)
	}
	after := fs.CrashClone(vfs.CrashCloneCfg{})
	got, err := NewStore(after, "/d").Load()
	if err != nil || len(got) != 1 || got[Task{3, "n4"}] != p1[Task{3, "n4"}] {
		t.Fatalf("after a crash: %v, %v; want %v", got, err, p1)
	}
	p2 := map[Task]Progress{{3, "n4"}: {Move: "n1 n2 ", Done: true, DoneAt: 5, Keys: 40, Bytes: 1000}, {5, "n3"}: {Move: "n4 ", Cursor: 1}}
	if err := s.Save(p2); err != nil {
		t.Fatal(err)
	}
	got, _ = NewStore(fs.CrashClone(vfs.CrashCloneCfg{}), "/d").Load()
	if len(got) != 2 || got[Task{3, "n4"}] != p2[Task{3, "n4"}] || got[Task{5, "n3"}] != p2[Task{5, "n3"}] {
		t.Fatalf("after the second save and a crash: %v", got)
	}
	// The progress file of earlier versions.
	old := vfs.NewMem()
	f, _ := old.Create("/handoff.json", vfs.WriteCategoryUnspecified)
	f.Write([]byte(`[{"p":2,"to":"n5","old":"n1 ","cursor":9,"done":false,"keys":16,"bytes":100}]`))
	f.Close()
	ls := NewStore(old, "/")
	got, err = ls.Load()
	if err != nil || got[Task{2, "n5"}] != (Progress{Move: "n1 ", Cursor: 9, Keys: 16, Bytes: 100}) {
		t.Fatalf("legacy progress: %v, %v", got, err)
	}
	if err := ls.Save(got); err != nil {
		t.Fatal(err)
	}
	if _, err := old.Stat("/handoff.json"); err == nil {
		t.Fatal("the legacy file outlived the first save")
	}
	bad := vfs.NewMem()
	f, _ = bad.Create("/transfer.json", vfs.WriteCategoryUnspecified)
	f.Write([]byte("{torn"))
	f.Close()
	if _, err := NewStore(bad, "/").Load(); !errors.Is(err, ErrProgress) {
		t.Fatalf("unreadable progress: %v, want ErrProgress", err)
	}
}

// TestTransferKeepsConcurrentWrites: a key overwritten while its batch is
// on the way (the coordinator writes the old set and the incoming
// replicas, as coordinator.Update does, before the batch with the older
// version arrives) ends with its latest value on every new replica: the
// late batch merges under it and loses nothing.
func TestTransferKeepsConcurrentWrites(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 7))
	h := newHarness(t, seed, 16)
	h.load(rng, 600, "n1", "n2", "n3")
	h.join("n4")
	ctx := context.Background()
	writes := 0
	h.hook = func(from, to string, entries []replica.Entry) func() error {
		// Overwrite the batch's first key everywhere a coordinator would,
		// before the batch (holding the older version) is delivered.
		key := string(entries[0].Key)
		st := h.ring.Current()
		p := st.KeyPartition(entries[0].Key)
		serving := st.ServingList(p)[:st.Replicas()]
		_, obj, _, err := h.nodes[string(serving[0])].store.Update(ctx, entries[0].Key, crdt.FromUpdate(func(cur dvv.Object, _ int64) (dvv.VV, dvv.Sibling, error) {
			return cur.Join(), dvv.Sibling{Value: fmt.Appendf(nil, "w%d", writes)}, nil
		}))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range append(serving[1:], st.Incoming(p)...) {
			if err := h.nodes[string(id)].store.Merge(ctx, entries[0].Key, obj); err != nil {
				t.Fatal(err)
			}
		}
		if crdt.Equal(obj, entries[0].Object) {
			t.Fatal("the write did not change the key")
		}
		h.keys[key] = obj
		writes++
		return nil
	}
	h.settle(50)
	h.checkPlaced()
	if writes == 0 {
		t.Fatal("no write raced a batch")
	}
	t.Logf("%d writes raced a batch", writes)
}

// TestTransferKeepsConcurrentRemovals: a DEL made while a partition is
// streamed (its delta merged into the key's replicas and incoming
// replicas, as a coordinator sends it) is not undone by the batch that
// still holds the deleted value: transfer merges with crdt.Merge, and every
// replica ends with the tombstone.
func TestTransferKeepsConcurrentRemovals(t *testing.T) {
	seed := testseed.Seed(t)
	rng := rand.New(rand.NewPCG(seed, 8))
	h := newHarness(t, seed, 16)
	h.load(rng, 600, "n1", "n2", "n3")
	h.join("n4")
	ctx := context.Background()
	dels := 0
	h.hook = func(from, to string, entries []replica.Entry) func() error {
		e := entries[0]
		if !crdt.Live(e.Object, h.clock.Now().UnixMilli()) {
			return nil
		}
		st := h.ring.Current()
		p := st.KeyPartition(e.Key)
		serving := st.ServingList(p)[:st.Replicas()]
		_, next, delta, err := h.nodes[string(serving[0])].store.Update(ctx, e.Key, func(cur crdt.Object, s crdt.Stamp) (crdt.Object, error) {
			d, _ := crdt.Del(cur, s)
			return d, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if delta.IsZero() {
			return nil
		}
		for _, id := range append(serving[1:], st.Incoming(p)...) {
			if err := h.nodes[string(id)].store.Merge(ctx, e.Key, delta); err != nil {
				t.Fatal(err)
			}
		}
		h.keys[string(e.Key)] = next
		dels++
		return nil
	}
	h.settle(50)
	h.checkPlaced()
	if dels == 0 {
		t.Fatal("no DEL raced a batch")
	}
	for key, o := range h.keys {
		if crdt.Live(o, h.clock.Now().UnixMilli()) {
			continue
		}
		st := h.ring.Current()
		for _, id := range st.PreferenceList(st.KeyPartition([]byte(key)), st.Replicas()) {
			got, _ := h.nodes[string(id)].store.Get(ctx, []byte(key))
			if crdt.Live(got, h.clock.Now().UnixMilli()) {
				t.Fatalf("%s deleted during the transfer is live again on %s", key, id)
			}
		}
	}
	t.Logf("%d DELs raced a batch", dels)
}
