package cluster

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// testRing is small so that Join's reclaim stays fast.
var testRing = ring.Config{Partitions: 64, Replicas: 3}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// newTest builds a bootstrapped Cluster "a" on fs (nil: a fresh
// crashable in-memory FS) in dir.
func newTest(t *testing.T, fs vfs.FS, dir string, tweak func(*Config)) *Cluster {
	t.Helper()
	cfg := DefaultConfig()
	cfg.Self = "a"
	cfg.Addr = "10.0.0.1:6379"
	cfg.GossipAddr = "10.0.0.1:7946"
	cfg.Dir = dir
	cfg.FS = fs
	cfg.Bootstrap = true
	cfg.Ring = testRing
	cfg.Logger = quiet()
	if tweak != nil {
		tweak(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// crashableDir returns a crashable in-memory FS holding a synced /data.
func crashableDir(t *testing.T) *vfs.MemFS {
	t.Helper()
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("/data", 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"/", "/data"} {
		f, err := fs.OpenDir(d)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	return fs
}

func mem(id string) ring.Member {
	return ring.Member{ID: ring.NodeID(id), Addr: id + ":6379", GossipAddr: id + ":7946", Weight: 1}
}

func join(m ring.Member) func(*ring.State) (*ring.State, error) {
	return func(cur *ring.State) (*ring.State, error) {
		next, _, err := cur.Join(m)
		return next, err
	}
}

func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Self, ok.Addr, ok.Dir = "a", "h:1", "/d"
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid config rejected: %v", err)
	}
	for name, f := range map[string]func(*Config){
		"no self":            func(c *Config) { c.Self = "" },
		"no addr":            func(c *Config) { c.Addr = "" },
		"no dir":             func(c *Config) { c.Dir = "" },
		"weight 0":           func(c *Config) { c.Weight = 0 },
		"negative reconcile": func(c *Config) { c.ReconcileInterval = -time.Second },
		"negative ask":       func(c *Config) { c.AskInterval = -1 },
		"negative meta":      func(c *Config) { c.MetaTimeout = -1 },
		"bad ring":           func(c *Config) { c.Bootstrap = true; c.Ring.Partitions = 3 },
	} {
		c := ok
		f(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", name, err)
		}
	}
	var z Config
	z.EnsureDefaults()
	if d := DefaultConfig(); z.ReconcileInterval != d.ReconcileInterval || z.AskInterval != d.AskInterval || z.Weight != 1 || z.FS == nil || z.After == nil {
		t.Fatalf("EnsureDefaults left zero fields: %+v", z)
	}
}

// Fault 6a: concurrent persists shared one temporary name ("rename
// ring.state.tmp: no such file or directory"), and concurrent local changes
// computed from stale copies overwrote each other. Every concurrent Update
// on a real directory succeeds and none is lost.
func TestConcurrentUpdatesPersistAndKeepEveryChange(t *testing.T) {
	dir := t.TempDir()
	c := newTest(t, vfs.Default, dir, nil)
	const writers, each = 4, 6
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := c.Update(join(mem(fmt.Sprintf("n%d-%d", w, i)))); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("Update: %v", err)
	}
	st := c.Current()
	if got, want := len(st.Members()), 1+writers*each; got != want {
		t.Fatalf("members = %d, want %d: concurrent changes were lost", got, want)
	}
	b, err := os.ReadFile(filepath.Join(dir, StateFile))
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := ring.Decode(b)
	if err != nil || !onDisk.Equal(st) {
		t.Fatalf("ring.state on disk (%v) is not the installed state v%d", err, st.Version())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, StateFile+".tmp*")); len(left) > 0 {
		t.Fatalf("temporary files left behind: %v", left)
	}
}

// gateFS blocks the first Create whose name has prefix until release is
// closed, and reports it on entered.
type gateFS struct {
	vfs.FS
	prefix  string
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (g *gateFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasPrefix(name, g.prefix) {
		first := false
		g.once.Do(func() { first = true })
		if first {
			close(g.entered)
			<-g.release
		}
	}
	return g.FS.Create(name, cat)
}

// Fault 6b: adopt released the lock between ring.Merge(cur, rs) and
// installing the result, so a local change made while the merged state
// was being persisted was overwritten by a state merged from a stale copy.
// Here a gossiped state's persist is held while a local Update runs: the
// Update's member must survive, and no installed state may be older than
// the one it replaced.
func TestAdoptDoesNotOverwriteConcurrentUpdate(t *testing.T) {
	fs := crashableDir(t)
	var mu sync.Mutex
	var regressions []string
	c := newTest(t, fs, "/data", func(cfg *Config) {
		cfg.OnChange = func(old, next *ring.State) {
			if !ring.Newer(next, old) {
				mu.Lock()
				regressions = append(regressions, fmt.Sprintf("v%d replaced v%d", next.Version(), old.Version()))
				mu.Unlock()
			}
		}
	})
	// A peer's state: ours plus member p, one version ahead.
	peer, _, err := c.Current().Join(mem("p"))
	if err != nil {
		t.Fatal(err)
	}
	g := &gateFS{FS: fs, prefix: "/data/" + StateFile, entered: make(chan struct{}), release: make(chan struct{})}
	c.cfg.FS = g
	adopted := make(chan bool)
	go func() { adopted <- c.Adopt(peer) }()
	<-g.entered // Adopt is persisting the merged state
	updated := make(chan error, 1)
	go func() {
		_, err := c.Update(join(mem("local")))
		updated <- err
	}()
	// Give a racing Update the time to finish while Adopt is held (the old
	// code let it); the correct code blocks it until Adopt is done, and
	// passes whatever the timing.
	select {
	case err := <-updated:
		close(g.release)
		updated <- err // hand it back below
	case <-time.After(100 * time.Millisecond):
		close(g.release)
	}
	if !<-adopted {
		t.Fatal("the peer's newer state was not adopted")
	}
	if err := <-updated; err != nil {
		t.Fatalf("Update: %v", err)
	}
	st := c.Current()
	for _, id := range []ring.NodeID{"a", "p", "local"} {
		if _, ok := st.Member(id); !ok {
			t.Errorf("member %s lost from v%d", id, st.Version())
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(regressions) > 0 {
		t.Errorf("installed states went backwards: %v", regressions)
	}
}

// Two clusters change their rings concurrently and swap states through
// Adopt in a seeded random order: every installed state is newer than the
// one it replaced, ring.state always holds the installed state, and once
// the exchanges stop both converge on one state (Dynamo §4.8: the ring
// state spreads by gossip and ring.Merge settles concurrent changes).
func TestConcurrentChangesAndAdoptionsConverge(t *testing.T) {
	seed := testseed.Seed(t)
	fsA, fsB := crashableDir(t), crashableDir(t)
	var mu sync.Mutex
	var regressions []string
	check := func(name string) func(old, next *ring.State) {
		return func(old, next *ring.State) {
			if !ring.Newer(next, old) {
				mu.Lock()
				regressions = append(regressions, fmt.Sprintf("%s: v%d replaced v%d", name, next.Version(), old.Version()))
				mu.Unlock()
			}
		}
	}
	a := newTest(t, fsA, "/data", func(c *Config) { c.OnChange = check("a") })
	b := newTest(t, fsB, "/data", func(c *Config) {
		c.Self = "b"
		c.Bootstrap = false
		c.OnChange = check("b")
	})
	b.Adopt(a.Current())
	var wg sync.WaitGroup
	for w, pair := range [][2]*Cluster{{a, b}, {b, a}} {
		rng := rand.New(rand.NewPCG(seed, uint64(w)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			self, other := pair[0], pair[1]
			for i := range 12 {
				if rng.IntN(2) == 0 {
					if _, err := self.Update(join(mem(fmt.Sprintf("%s%d", self.Self(), i)))); err != nil {
						t.Errorf("Update: %v", err)
					}
				} else {
					other.Adopt(self.Current())
				}
			}
		}()
	}
	wg.Wait()
	a.Adopt(b.Current())
	b.Adopt(a.Current())
	if !a.Current().Equal(b.Current()) {
		t.Fatalf("no convergence: a v%d, b v%d", a.Current().Version(), b.Current().Version())
	}
	for _, c := range []*Cluster{a, b} {
		got, err := ring.Decode(mustRead(t, c.cfg.FS, "/data/"+StateFile))
		if err != nil || !got.Equal(c.Current()) {
			t.Fatalf("%s: ring.state is not the installed state (%v)", c.Self(), err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(regressions) > 0 {
		t.Fatalf("installed states went backwards: %v", regressions)
	}
}

func mustRead(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A crash right after a ring change or CLUSTER LEAVE keeps both: the node
// restarts with the changed ring and still leaving (issue 10: persisted
// control files are crash-safe).
func TestRingStateAndLeavingMarkSurviveCrash(t *testing.T) {
	fs := crashableDir(t)
	c := newTest(t, fs, "/data", nil)
	if _, err := c.Update(join(mem("b"))); err != nil {
		t.Fatal(err)
	}
	want := c.Current()
	restart := func(fs vfs.FS) *Cluster {
		t.Helper()
		// Bootstrap stays set: a restart must load the ring, not make one.
		return newTest(t, fs, "/data", nil)
	}
	r := restart(fs.CrashClone(vfs.CrashCloneCfg{}))
	if got := r.Current(); got == nil || !got.Equal(want) {
		t.Fatalf("after crash: ring %v, want v%d with b", got, want.Version())
	}
	if r.Leaving() {
		t.Fatal("leaving before CLUSTER LEAVE")
	}
	if err := c.MarkLeaving(); err != nil {
		t.Fatal(err)
	}
	r = restart(fs.CrashClone(vfs.CrashCloneCfg{}))
	if !r.Leaving() {
		t.Fatal("the leaving mark was lost in a crash")
	}
	if !strings.Contains(string(r.Meta()), `"l":true`) {
		t.Fatalf("restarted leaving node gossips %s, want Left", r.Meta())
	}
}

// The last joined member cannot leave; a node outside the ring neither.
func TestMarkLeavingRefusesLastMember(t *testing.T) {
	c := newTest(t, crashableDir(t), "/data", nil)
	if err := c.MarkLeaving(); !errors.Is(err, ErrLeave) {
		t.Fatalf("err = %v, want ErrLeave", err)
	}
	if c.Leaving() {
		t.Fatal("marked leaving after a refused leave")
	}
}

// fakeMembership is a Membership whose members and liveness the test sets.
type fakeMembership struct {
	mu        sync.Mutex
	members   []member.Member
	meta      []byte
	broadcast int
	requests  int
}

func (f *fakeMembership) Members() []member.Member {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.members)
}

func (f *fakeMembership) Liveness(id string) member.Liveness {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, m := range f.members {
		if m.ID == id {
			return m.State
		}
	}
	return member.Unknown
}

func (f *fakeMembership) Broadcast() { f.mu.Lock(); f.broadcast++; f.mu.Unlock() }

func (f *fakeMembership) SetMeta(meta []byte, _ time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.meta = slices.Clone(meta)
	return nil
}

func (f *fakeMembership) RequestState() { f.mu.Lock(); f.requests++; f.mu.Unlock() }

func (f *fakeMembership) set(id string, l member.Liveness, md Meta) {
	b, _ := json.Marshal(md)
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range f.members {
		if f.members[i].ID == id {
			f.members[i].State, f.members[i].Meta = l, b
			return
		}
	}
	// The gossip address follows the RESP host, as mem() lays them out.
	host, _, _ := strings.Cut(md.Addr, ":")
	f.members = append(f.members, member.Member{ID: id, GossipAddr: host + ":7946", Meta: b, State: l})
}

// Dynamo §4.8: the reconciler adds alive nodes that ask to join, updates a
// member whose address changed, and never (re)admits a dead node or one
// that left; each change is broadcast.
func TestReconcileAdmits(t *testing.T) {
	c := newTest(t, crashableDir(t), "/data", nil)
	f := &fakeMembership{}
	f.set("a", member.Alive, Meta{Addr: "10.0.0.1:6379", Weight: 1})
	f.set("b", member.Alive, Meta{Addr: "b:6379", Weight: 2})
	f.set("c", member.Dead, Meta{Addr: "c:6379", Weight: 1})
	f.set("d", member.Alive, Meta{Addr: "d:6379", Weight: 1, Left: true})
	f.set("e", member.Alive, Meta{}) // no address yet
	c.Attach(f)
	if n := c.Reconcile(); n != 1 {
		t.Fatalf("Reconcile made %d changes, want 1 (admit b)", n)
	}
	st := c.Current()
	if m, ok := st.Member("b"); !ok || m.Addr != "b:6379" || m.Weight != 2 || m.Status != ring.StatusJoined {
		t.Fatalf("b = %+v, %v; want joined at b:6379 weight 2", m, ok)
	}
	for _, id := range []ring.NodeID{"c", "d", "e"} {
		if _, ok := st.Member(id); ok {
			t.Errorf("%s admitted", id)
		}
	}
	if f.broadcast != 1 {
		t.Errorf("broadcasts = %d, want 1", f.broadcast)
	}
	if n := c.Reconcile(); n != 0 {
		t.Fatalf("second Reconcile made %d changes, want 0", n)
	}
	f.set("b", member.Alive, Meta{Addr: "b2:6379", Weight: 2})
	if n := c.Reconcile(); n != 1 {
		t.Fatalf("Reconcile after b moved made %d changes, want 1", n)
	}
	if m, _ := c.Current().Member("b"); m.Addr != "b2:6379" {
		t.Fatalf("b's address = %s, want b2:6379", m.Addr)
	}
}

// Only the alive joined member with the smallest ID admits: "a" defers to
// an alive "0", and takes over once "0" is dead.
func TestOnlyTheReconcilerAdmits(t *testing.T) {
	c := newTest(t, crashableDir(t), "/data", nil)
	if _, err := c.Update(join(mem("0"))); err != nil {
		t.Fatal(err)
	}
	f := &fakeMembership{}
	f.set("0", member.Alive, Meta{Addr: "0:6379", Weight: 1})
	f.set("a", member.Alive, Meta{Addr: "10.0.0.1:6379", Weight: 1})
	f.set("b", member.Alive, Meta{Addr: "b:6379", Weight: 1})
	c.Attach(f)
	if c.Admits(c.Current()) || c.Reconcile() != 0 {
		t.Fatal("a admitted while the smaller alive 0 is the reconciler")
	}
	f.set("0", member.Dead, Meta{Addr: "0:6379", Weight: 1})
	if !c.Admits(c.Current()) || c.Reconcile() != 1 {
		t.Fatal("a did not take over admission from the dead 0")
	}
}

// Change refuses a state computed from a copy that another change has
// since superseded, instead of overwriting it.
func TestChangeRefusesStale(t *testing.T) {
	c := newTest(t, crashableDir(t), "/data", nil)
	base := c.Current()
	stale, _, err := base.Join(mem("x"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(join(mem("y"))); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Update(join(mem("z"))); err != nil {
		t.Fatal(err)
	}
	if err := c.Change(stale); !errors.Is(err, ErrStale) {
		t.Fatalf("Change(stale) = %v, want ErrStale", err)
	}
	if _, ok := c.Current().Member("z"); !ok {
		t.Fatal("the newer change was overwritten")
	}
}

// CLUSTER FORGET: a dead member goes, a live one, this node and an unknown
// one are refused with ErrForget (an unknown one with ring.ErrUnknownMember
// too, which CLUSTER FORGET renders as "Unknown node").
func TestForget(t *testing.T) {
	c := newTest(t, crashableDir(t), "/data", nil)
	for _, id := range []string{"b", "d"} {
		if _, err := c.Update(join(mem(id))); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeMembership{}
	f.set("b", member.Alive, Meta{Addr: "b:6379"})
	f.set("d", member.Dead, Meta{Addr: "d:6379"})
	c.Attach(f)
	if err := c.Forget("a"); !errors.Is(err, ErrForget) {
		t.Errorf("Forget(self) = %v", err)
	}
	if err := c.Forget("b"); !errors.Is(err, ErrForget) {
		t.Errorf("Forget(alive) = %v", err)
	}
	if err := c.Forget("nobody"); !errors.Is(err, ErrForget) || !errors.Is(err, ring.ErrUnknownMember) {
		t.Errorf("Forget(unknown) = %v", err)
	}
	if err := c.Forget("d"); err != nil {
		t.Fatalf("Forget(dead) = %v", err)
	}
	if _, ok := c.Current().Member("d"); ok {
		t.Fatal("d still in the ring")
	}
}

// A node waiting to be admitted asks the members for their state every
// AskInterval (injected clock), and gives up with ErrNotJoined at the
// timeout.
func TestWaitJoinedAsksThenTimesOut(t *testing.T) {
	ticks := make(chan time.Time)
	deadline := make(chan time.Time, 1)
	c := newTest(t, crashableDir(t), "/data", func(cfg *Config) {
		cfg.Self, cfg.Bootstrap = "b", false
		cfg.After = func(d time.Duration) <-chan time.Time {
			if d == time.Minute {
				return deadline
			}
			return ticks
		}
	})
	f := &fakeMembership{}
	c.Attach(f)
	done := make(chan error)
	go func() { done <- c.WaitJoined(t.Context(), time.Minute) }()
	for range 3 {
		ticks <- time.Time{}
	}
	deadline <- time.Time{}
	if err := <-done; !errors.Is(err, ErrNotJoined) {
		t.Fatalf("WaitJoined = %v, want ErrNotJoined", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.requests < 2 {
		t.Fatalf("asked %d times, want at least 2", f.requests)
	}
}
