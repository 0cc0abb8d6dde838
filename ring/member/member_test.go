package member

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring/member/membertest"
)

// Test timing: memberlist runs about 10× faster than its LAN defaults.
// Faster still works on an idle machine, but under the race detector and
// parallel tests memberlist then starts declaring live nodes dead.
const (
	testProbeInterval = 100 * time.Millisecond
	testProbeTimeout  = 40 * time.Millisecond
	testGossip        = 20 * time.Millisecond
	testPushPull      = 300 * time.Millisecond
	// waitLimit bounds every poll; conditions normally hold in well under
	// a second.
	waitLimit = 10 * time.Second
)

// fakeState is a counter-versioned StateHandler: an 8-byte big-endian
// version followed by a payload. MergeState keeps the higher version.
type fakeState struct {
	mu      sync.Mutex
	version uint64
	payload []byte
}

func (s *fakeState) LocalState() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := binary.BigEndian.AppendUint64(nil, s.version)
	return append(b, s.payload...)
}

func (s *fakeState) MergeState(remote []byte) bool {
	if len(remote) < 8 {
		return false
	}
	v := binary.BigEndian.Uint64(remote)
	s.mu.Lock()
	defer s.mu.Unlock()
	if v <= s.version {
		return false
	}
	s.version, s.payload = v, bytes.Clone(remote[8:])
	return true
}

func (s *fakeState) set(v uint64, payload []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.version, s.payload = v, bytes.Clone(payload)
}

func (s *fakeState) get() (uint64, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.version, bytes.Clone(s.payload)
}

// recorder keeps every Events call.
type recorder struct {
	mu     sync.Mutex
	events []Member
}

func (r *recorder) record(m Member) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, m)
}

// states returns the liveness sequence reported for id.
func (r *recorder) states(id string) []Liveness {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Liveness
	for _, e := range r.events {
		if e.ID == id {
			out = append(out, e.State)
		}
	}
	return out
}

// testLogger logs warnings to the test's output, or everything
// (memberlist's lines included) to stderr when DYNAKV_TEST_DEBUG is set:
// memberlist's goroutines may still log briefly after Shutdown, when the
// test's output is closed.
func testLogger(t *testing.T) *slog.Logger {
	if os.Getenv("DYNAKV_TEST_DEBUG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})).With("test", t.Name())
	}
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testNode struct {
	id    string
	m     *Membership
	state *fakeState
	rec   *recorder
}

func testConfig(t *testing.T, id string) Config {
	return Config{
		NodeID:           id,
		Meta:             []byte("resp://" + id),
		ProbeInterval:    testProbeInterval,
		ProbeTimeout:     testProbeTimeout,
		GossipInterval:   testGossip,
		PushPullInterval: testPushPull,
		Logger:           testLogger(t),
	}
}

// start starts a node on network nw at addr ("" = real sockets on
// 127.0.0.1:0), with cfg adjusted by tweak, and shuts it down at cleanup.
func start(t *testing.T, nw *membertest.Network, id, addr string, join []string, tweak func(*Config)) *testNode {
	t.Helper()
	n := &testNode{id: id, state: &fakeState{}, rec: &recorder{}}
	cfg := testConfig(t, id)
	cfg.State = n.state
	cfg.Events = n.rec.record
	cfg.Join = join
	if nw != nil {
		cfg.Transport = nw.MustListen(addr)
	} else {
		cfg.BindAddr = "127.0.0.1:0"
	}
	if tweak != nil {
		tweak(&cfg)
	}
	m, err := Start(cfg)
	if err != nil {
		t.Fatalf("start %s: %v", id, err)
	}
	n.m = m
	t.Cleanup(func() { _ = m.Shutdown() })
	return n
}

// eventually polls cond until it returns nil or waitLimit passes.
func eventually(t *testing.T, what string, cond func() error) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		err := cond()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: still not true after %v: %v", what, waitLimit, err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// sees reports whether every observer sees member id in state want.
func sees(observers []*testNode, id string, want Liveness) func() error {
	return func() error {
		for _, o := range observers {
			if got := o.m.Liveness(id); got != want {
				return fmt.Errorf("%s sees %s as %v, want %v", o.id, id, got, want)
			}
		}
		return nil
	}
}

// eventsFor waits until observer o's Events for id satisfy ok.
func eventsFor(t *testing.T, o *testNode, id string, what string, ok func([]Liveness) bool) {
	t.Helper()
	eventually(t, o.id+": events for "+id+" "+what, func() error {
		if st := o.rec.states(id); !ok(st) {
			return fmt.Errorf("events %v", st)
		}
		return nil
	})
}

func hasVersion(nodes []*testNode, v uint64, payload []byte) func() error {
	return func() error {
		for _, n := range nodes {
			got, p := n.state.get()
			if got != v {
				return fmt.Errorf("%s has version %d, want %d", n.id, got, v)
			}
			if !bytes.Equal(p, payload) {
				return fmt.Errorf("%s has version %d with a %d-byte payload, want %d bytes", n.id, got, len(p), len(payload))
			}
		}
		return nil
	}
}

// cluster starts n1..nk on an in-memory network, all joining n1, and waits
// until everyone sees everyone Alive.
func cluster(t *testing.T, nw *membertest.Network, k int, tweak func(*Config)) []*testNode {
	t.Helper()
	var nodes []*testNode
	for i := 1; i <= k; i++ {
		var join []string
		if i > 1 {
			join = []string{"127.0.0.1:7001"}
		}
		nodes = append(nodes, start(t, nw, fmt.Sprintf("n%d", i), fmt.Sprintf("127.0.0.1:%d", 7000+i), join, tweak))
	}
	for _, n := range nodes {
		eventually(t, "all alive", sees(nodes, n.id, Alive))
	}
	return nodes
}

func payload(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + i%26)
	}
	return b
}

func TestMembersSeeEachOtherAlive(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, membertest.NewNetwork(), 3, nil)
	for _, o := range nodes {
		ms := o.m.Members()
		if len(ms) != 3 {
			t.Fatalf("%s: %d members, want 3: %v", o.id, len(ms), ms)
		}
		for i, mem := range ms {
			id := fmt.Sprintf("n%d", i+1)
			// State was checked by cluster (a loaded machine may
			// make a member briefly Suspect since).
			want := Member{ID: id, GossipAddr: fmt.Sprintf("127.0.0.1:%d", 7001+i), Meta: []byte("resp://" + id), State: mem.State}
			if mem.ID != want.ID || mem.GossipAddr != want.GossipAddr || !bytes.Equal(mem.Meta, want.Meta) {
				t.Errorf("%s: member %d = %+v, want %+v", o.id, i, mem, want)
			}
			eventsFor(t, o, id, "start with alive", func(st []Liveness) bool { return len(st) > 0 && st[0] == Alive })
		}
		if got := o.m.Local(); got.ID != o.id || got.State != Alive || got.GossipAddr == "" {
			t.Errorf("%s: Local() = %+v", o.id, got)
		}
	}
	if got := nodes[0].m.Liveness("nobody"); got != Unknown {
		t.Errorf("Liveness(nobody) = %v, want unknown", got)
	}
}

// TestStateSpreads checks both gossip paths with push/pull out of the way:
// a small state inline over UDP, and a 20 KB one as a notice plus TCP pulls.
func TestStateSpreads(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		size int
	}{
		{"inline", 100},
		{"large", 20 << 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			nodes := cluster(t, membertest.NewNetwork(), 3, func(c *Config) {
				c.PushPullInterval = time.Hour // only gossip can carry it
			})
			p := payload(tc.size)
			nodes[1].state.set(7, p)
			nodes[1].m.Broadcast()
			eventually(t, "state reaches all", hasVersion(nodes, 7, p))

			// A second change supersedes the first everywhere.
			nodes[2].state.set(8, p[:len(p)/2])
			nodes[2].m.Broadcast()
			eventually(t, "second state reaches all", hasVersion(nodes, 8, p[:len(p)/2]))
		})
	}
}

// TestRequestStatePulls: with push/pull out of the way and no broadcast, a
// member that asks (RequestState, what a node waiting to be admitted does)
// gets the newer state of the others.
func TestRequestStatePulls(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, membertest.NewNetwork(), 3, func(c *Config) {
		c.PushPullInterval = time.Hour
	})
	p := payload(20 << 10)
	nodes[1].state.set(9, p) // changed without Broadcast: nobody is told
	nodes[0].m.RequestState()
	eventually(t, "requested state arrives", hasVersion(nodes[:1], 9, p))
}

func TestBroadcastChoosesInlineOrNotice(t *testing.T) {
	t.Parallel()
	n := start(t, membertest.NewNetwork(), "n1", "127.0.0.1:7001", nil, nil)
	for _, tc := range []struct {
		size int
		kind byte
	}{{10, kindState}, {inlineLimit - 1 - 8, kindState}, {inlineLimit - 8, kindNotice}, {16 << 10, kindNotice}} {
		n.state.set(1, payload(tc.size))
		n.m.Broadcast()
		msgs := n.m.queue.GetBroadcasts(0, 1<<20)
		if len(msgs) != 1 || msgs[0][0] != tc.kind {
			t.Fatalf("state of %d bytes: queued %d messages, first kind %v, want one of kind %d", tc.size+8, len(msgs), msgs, tc.kind)
		}
		if tc.kind == kindNotice && len(msgs[0]) > 100 {
			t.Errorf("notice is %d bytes", len(msgs[0]))
		}
	}
	// A newer broadcast replaces a queued one.
	n.m.Broadcast()
	n.m.Broadcast()
	if got := n.m.queue.NumQueued(); got != 1 {
		t.Errorf("%d broadcasts queued after two Broadcasts, want 1", got)
	}
}

// TestCrashedMemberSuspectThenDead: a member that stops without leaving is
// suspected first, then declared dead, and Events reports both.
func TestCrashedMemberSuspectThenDead(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, membertest.NewNetwork(), 3, func(c *Config) {
		// Keep memberlist's suspicion (12 probe intervals, 1.2 s) well
		// longer than ours (about one probe round plus two pings, under
		// 0.6 s) so the order holds even on a loaded machine.
		c.SuspicionMult = 12
	})
	survivors, crashed := nodes[:2], nodes[2]
	if err := crashed.m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "crashed member dead", sees(survivors, crashed.id, Dead))
	for _, o := range survivors {
		eventsFor(t, o, crashed.id, "alive … suspect … dead", func(st []Liveness) bool {
			i, j := slices.Index(st, Suspect), slices.Index(st, Dead)
			return st[0] == Alive && i > 0 && j > i && st[len(st)-1] == Dead
		})
	}
}

// TestRestartedMemberRejoins: a crashed member restarted with the same ID is
// Alive again everywhere and gets the state it missed by the join push/pull.
func TestRestartedMemberRejoins(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	nodes := cluster(t, nw, 3, nil)
	a, b, c := nodes[0], nodes[1], nodes[2]
	if err := c.m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "c dead", sees(nodes[:2], c.id, Dead))

	p := payload(16 << 10)
	a.state.set(5, p)
	a.m.Broadcast()
	eventually(t, "state reaches b", hasVersion([]*testNode{b}, 5, p))

	c2 := start(t, nw, c.id, "127.0.0.1:7003", []string{"127.0.0.1:7001"}, nil)
	// The join's push/pull has run inside Start.
	if err := hasVersion([]*testNode{c2}, 5, p)(); err != nil {
		t.Fatalf("right after rejoin: %v", err)
	}
	all := []*testNode{a, b, c2}
	for _, n := range all {
		eventually(t, "all alive after restart", sees(all, n.id, Alive))
	}
	for _, o := range []*testNode{a, b} {
		eventsFor(t, o, c.id, "… dead … alive", func(st []Liveness) bool {
			return slices.Contains(st, Dead) && st[len(st)-1] == Alive
		})
	}
}

func TestLeaveShowsLeft(t *testing.T) {
	t.Parallel()
	nodes := cluster(t, membertest.NewNetwork(), 3, nil)
	stay, leaver := nodes[:2], nodes[2]
	if err := leaver.m.Leave(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	if got := leaver.m.Liveness(leaver.id); got != Left {
		t.Errorf("leaver sees itself as %v, want left", got)
	}
	if err := leaver.m.Shutdown(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "left", sees(stay, leaver.id, Left))
	for _, o := range stay {
		// (A loaded machine may make it briefly Suspect before.)
		eventsFor(t, o, leaver.id, "alive … left, never dead", func(st []Liveness) bool {
			return st[0] == Alive && st[len(st)-1] == Left && !slices.Contains(st, Dead)
		})
	}
	if err := leaver.m.Leave(time.Second); !errors.Is(err, ErrClosed) {
		t.Errorf("Leave after Shutdown = %v, want ErrClosed", err)
	}
	if _, err := leaver.m.Join([]string{"127.0.0.1:7001"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Shutdown = %v, want ErrClosed", err)
	}
	if err := leaver.m.Shutdown(); err != nil {
		t.Errorf("second Shutdown = %v", err)
	}
}

// TestStartsAloneThenJoins: with no seed reachable a node starts alone and
// keeps retrying, so it joins once the seed comes up.
func TestStartsAloneThenJoins(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	b := start(t, nw, "b", "127.0.0.1:7002", []string{"127.0.0.1:7001", "127.0.0.1:7002"}, nil)
	if ms := b.m.Members(); len(ms) != 1 {
		t.Fatalf("b alone has members %v", ms)
	}
	a := start(t, nw, "a", "127.0.0.1:7001", nil, nil)
	both := []*testNode{a, b}
	eventually(t, "b joined a", sees(both, "a", Alive))
	eventually(t, "a sees b", sees(both, "b", Alive))

	if _, err := b.m.Join([]string{"127.0.0.1:7999"}); !errors.Is(err, ErrJoin) {
		t.Errorf("Join(nowhere) = %v, want ErrJoin", err)
	}
}

// TestRealNetwork runs the default UDP/TCP transport on 127.0.0.1 with
// gossip encryption, and spreads a 16 KB state.
func TestRealNetwork(t *testing.T) {
	t.Parallel()
	key := bytes.Repeat([]byte{7}, 16)
	withKey := func(c *Config) { c.SecretKey = key; c.PushPullInterval = time.Hour }
	a := start(t, nil, "a", "", nil, withKey)
	seed := a.m.Local().GossipAddr
	b := start(t, nil, "b", "", []string{seed}, withKey)
	c := start(t, nil, "c", "", []string{seed}, withKey)
	all := []*testNode{a, b, c}
	for _, n := range all {
		eventually(t, "all alive", sees(all, n.id, Alive))
	}
	p := payload(16 << 10)
	c.state.set(3, p)
	c.m.Broadcast()
	eventually(t, "large state over real network", hasVersion(all, 3, p))
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	valid := func() Config {
		c := testConfig(t, "n1")
		c.State = &fakeState{}
		c.Transport = membertest.NewNetwork().MustListen("127.0.0.1:0")
		return c
	}
	for _, tc := range []struct {
		name   string
		modify func(*Config)
		want   error
	}{
		{"no id", func(c *Config) { c.NodeID = "" }, ErrInvalidConfig},
		{"no state", func(c *Config) { c.State = nil }, ErrInvalidConfig},
		{"meta too large", func(c *Config) { c.Meta = make([]byte, MaxMetaSize+1) }, ErrMetaTooLarge},
		{"probe timeout", func(c *Config) { c.ProbeTimeout = c.ProbeInterval }, ErrInvalidConfig},
		{"secret key", func(c *Config) { c.SecretKey = []byte("short") }, ErrInvalidConfig},
		{"bind host", func(c *Config) { c.Transport = nil; c.BindAddr = "localhost:7946" }, ErrInvalidConfig},
		{"advertise", func(c *Config) { c.AdvertiseAddr = "nohost:1" }, ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := valid()
			tc.modify(&c)
			m, err := Start(c)
			if err == nil {
				_ = m.Shutdown()
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("Start = %v, want %v", err, tc.want)
			}
		})
	}

	c := valid()
	c.Meta = make([]byte, MaxMetaSize)
	m, err := Start(c)
	if err != nil {
		t.Fatalf("Start with %d-byte meta: %v", MaxMetaSize, err)
	}
	_ = m.Shutdown()
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c := Config{ProbeInterval: 100 * time.Millisecond}.withDefaults()
	d := DefaultConfig()
	if c.ProbeTimeout != 50*time.Millisecond {
		t.Errorf("ProbeTimeout = %v, want half of a short ProbeInterval", c.ProbeTimeout)
	}
	if c.BindAddr != DefaultBindAddr || c.SuspicionMult != d.SuspicionMult || c.GossipInterval != d.GossipInterval ||
		c.PushPullInterval != d.PushPullInterval || c.Logger == nil {
		t.Errorf("withDefaults = %+v", c)
	}
	if d.ProbeInterval != time.Second || d.ProbeTimeout != 500*time.Millisecond || d.PushPullInterval != 30*time.Second {
		t.Errorf("DefaultConfig = %+v, want memberlist's LAN values", d)
	}
}

func TestLivenessString(t *testing.T) {
	t.Parallel()
	for l, want := range map[Liveness]string{Unknown: "unknown", Alive: "alive", Suspect: "suspect", Dead: "dead", Left: "left", 9: "liveness(9)"} {
		if got := l.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(l), got, want)
		}
	}
}

// TestSplitOutlastingGossipToTheDeadHeals: the two sides of a 2|2 split
// see each other Dead, and stay cut past memberlist's gossip-to-the-dead
// window (after which neither side contacts the other on its own); once
// the network heals, the reconnect loop brings every member back Alive
// everywhere. (Found by tests/jepsen's long Docker run: after a long
// split the halves stayed apart.)
func TestSplitOutlastingGossipToTheDeadHeals(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	nodes := cluster(t, nw, 4, func(c *Config) { c.ReconnectInterval = 3 * testProbeInterval })
	left, right := nodes[:2], nodes[2:]
	for _, a := range left {
		for _, b := range right {
			nw.Cut(addrOf(a), addrOf(b))
		}
	}
	for _, a := range left {
		for _, b := range right {
			eventually(t, "split: dead across", sees(left, b.id, Dead))
			eventually(t, "split: dead across", sees(right, a.id, Dead))
		}
	}
	// memberlist's window is wall-clock time (30 probe intervals, see
	// memberlistConfig); there is no clock to inject into it.
	time.Sleep(30*testProbeInterval + 500*time.Millisecond)
	for _, a := range left {
		for _, b := range right {
			nw.Heal(addrOf(a), addrOf(b))
		}
	}
	for _, n := range nodes {
		eventually(t, "healed: all alive", sees(nodes, n.id, Alive))
	}
}

// addrOf is the in-memory address cluster gave n.
func addrOf(n *testNode) string { return n.m.Local().GossipAddr }
