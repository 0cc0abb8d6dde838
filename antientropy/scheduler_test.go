package antientropy_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/antientropy"
)

// manualClock is an injected clock moved by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeRing is a ring of fixed replica lists per partition.
type fakeRing struct {
	mu   sync.Mutex
	reps [][]string
}

func (r *fakeRing) Partitions() int { r.mu.Lock(); defer r.mu.Unlock(); return len(r.reps) }
func (r *fakeRing) Replicas(p int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.reps[p])
}

// liveness is a set of nodes that are down.
type liveness map[string]bool

func (l liveness) Alive(id string) bool { return !l[id] }

// ran is one exchange the fake Exchange saw.
type ran struct {
	job antientropy.Job
	at  time.Duration // since the test's start
}

// schedWorld is a scheduler for node a over a fake ring whose exchanges
// take took on the clock and are recorded.
type schedWorld struct {
	clock *manualClock
	start time.Time
	ring  *fakeRing
	down  liveness
	ran   []ran
	fail  map[antientropy.Job]bool
	took  time.Duration
	s     *antientropy.Scheduler
}

func newSchedWorld(t *testing.T, cfg antientropy.SchedulerConfig) *schedWorld {
	t.Helper()
	start := time.Unix(1_800_000_000, 0)
	w := &schedWorld{clock: &manualClock{t: start}, start: start, down: liveness{}, fail: map[antientropy.Job]bool{},
		ring: &fakeRing{reps: [][]string{
			{"a", "b", "c"}, // 0
			{"b", "c", "d"}, // 1: a is no replica
			{"c", "a", "b"}, // 2
			{"a", "d", "b"}, // 3
		}}}
	s, err := antientropy.NewScheduler(cfg, antientropy.SchedulerDeps{
		Self: "a", Clock: w.clock, Ring: w.ring, Liveness: w.down,
		Peers: func(id string) antientropy.Peer { return &peer{n: &node{id: id}} },
		Exchange: func(_ context.Context, p int, pr antientropy.Peer) (antientropy.Result, error) {
			j := antientropy.Job{Partition: p, Peer: pr.ID()}
			w.ran = append(w.ran, ran{j, w.clock.Now().Sub(w.start)})
			w.clock.Advance(w.took)
			if w.fail[j] {
				return antientropy.Result{}, errInjected
			}
			return antientropy.Result{DifferingLeaves: 1, Pulled: 2}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	w.s = s
	return w
}

// stepUntil steps the scheduler with the clock moving by tick until d has
// passed.
func (w *schedWorld) stepUntil(d, tick time.Duration) {
	for w.clock.Now().Sub(w.start) < d {
		for w.s.Step(context.Background()) {
		}
		w.clock.Advance(tick)
	}
}

func (w *schedWorld) status() map[string]string {
	out := map[string]string{}
	for _, f := range w.s.Status() {
		out[f.Name] = f.Value
	}
	return out
}

var roundJobs = []antientropy.Job{{0, "b"}, {0, "c"}, {2, "c"}, {2, "b"}, {3, "d"}, {3, "b"}}

// TestSchedulerSpreadsRoundOverInterval (Dynamo §4.7): after FirstDelay,
// the 6 exchanges of a round (every partition a replicates, with each
// other replica, in partition order) run one Interval/6 after the end of
// the previous one, and the next round follows the same way.
func TestSchedulerSpreadsRoundOverInterval(t *testing.T) {
	w := newSchedWorld(t, antientropy.SchedulerConfig{Interval: time.Minute, FirstDelay: time.Second})
	w.took = 2 * time.Second
	w.stepUntil(2*time.Minute+30*time.Second, 100*time.Millisecond)
	var want []ran
	at := time.Second
	for range 2 {
		for _, j := range roundJobs {
			want = append(want, ran{j, at})
			at += w.took + 10*time.Second
		}
	}
	if len(w.ran) < len(want) {
		t.Fatalf("ran %d exchanges, want at least %d: %v", len(w.ran), len(want), w.ran)
	}
	for i, r := range want {
		got := w.ran[i]
		if got.job != r.job || got.at < r.at || got.at > r.at+100*time.Millisecond {
			t.Fatalf("exchange %d = %+v, want %+v (within one 100ms tick)", i, got, r)
		}
	}
	if st := w.status(); st["exchanges"] != fmt.Sprint(len(w.ran)) || st["partitions"] != "3" || st["partitions_in_sync"] != "0" {
		t.Fatalf("status %v", st)
	}
}

// TestSchedulerSkips: an exchange with a peer that is not alive is
// skipped and counted; one the ring no longer supports (the peer is no
// longer a replica) is dropped without a call; a failed exchange is
// counted and the round goes on.
func TestSchedulerSkips(t *testing.T) {
	w := newSchedWorld(t, antientropy.SchedulerConfig{Interval: 6 * time.Second, FirstDelay: time.Nanosecond})
	w.down["c"] = true
	w.fail[antientropy.Job{Partition: 3, Peer: "b"}] = true
	w.clock.Advance(time.Nanosecond)
	if !w.s.Step(context.Background()) { // builds the round, runs (0,b)
		t.Fatal("first step ran nothing")
	}
	// The ring moves on: d is no longer a replica of partition 3.
	w.ring.mu.Lock()
	w.ring.reps[3] = []string{"a", "e", "b"}
	w.ring.mu.Unlock()
	w.stepUntil(6*time.Second, time.Second)
	var got []antientropy.Job
	for _, r := range w.ran {
		got = append(got, r.job)
	}
	want := []antientropy.Job{{0, "b"}, {2, "b"}, {3, "b"}}
	if !slices.Equal(got[:3], want) {
		t.Fatalf("exchanges run = %v, want %v first (c down, (3,d) gone)", got, want)
	}
	st := w.status()
	if st["exchanges_skipped_down"] != "2" || st["exchanges_failed"] != "1" || st["exchanges"] != "2" {
		t.Fatalf("status %v, want 2 skipped (c down), 1 failed, 2 done", st)
	}
}

// TestSchedulerEnqueue: CLUSTER REPAIR's Enqueue queues the exchanges of a
// partition (or all) ahead of the schedule, even before anything is due;
// a partition a does not replicate queues nothing; one outside the ring
// is ErrPartition. Pending and INFO's repair_pending count the queue down
// to 0, and repair_drained_s_ago says when it drained.
func TestSchedulerEnqueue(t *testing.T) {
	w := newSchedWorld(t, antientropy.SchedulerConfig{Interval: time.Hour, FirstDelay: time.Hour})
	if w.s.Step(context.Background()) {
		t.Fatal("a step ran a job before anything was due or queued")
	}
	if n, err := w.s.Enqueue(2); n != 2 || err != nil {
		t.Fatalf("Enqueue(2) = %d, %v; want 2", n, err)
	}
	if n, err := w.s.Enqueue(1); n != 0 || err != nil {
		t.Fatalf("Enqueue(1) = %d, %v; want 0 (a is no replica of 1)", n, err)
	}
	if _, err := w.s.Enqueue(4); !errors.Is(err, antientropy.ErrPartition) {
		t.Fatalf("Enqueue(4) = %v, want ErrPartition", err)
	}
	if st := w.status(); st["exchanges_queued"] != "2" || st["repair_pending"] != "2" || st["repair_drained_s_ago"] != "never" {
		t.Fatalf("queued = %s, pending = %s, drained = %s; want 2, 2, never", st["exchanges_queued"], st["repair_pending"], st["repair_drained_s_ago"])
	}
	for w.s.Step(context.Background()) {
	}
	if n, at := w.s.Pending(); n != 0 || at.IsZero() {
		t.Fatalf("Pending() = %d, %v after the queue ran; want 0 and the time it drained", n, at)
	}
	if st := w.status(); st["repair_pending"] != "0" || st["repair_drained_s_ago"] == "never" {
		t.Fatalf("INFO after draining: repair_pending = %s, repair_drained_s_ago = %s", st["repair_pending"], st["repair_drained_s_ago"])
	}
	if len(w.ran) != 2 || w.ran[0].job != (antientropy.Job{2, "c"}) || w.ran[1].job != (antientropy.Job{2, "b"}) {
		t.Fatalf("ran %v, want partition 2 with c then b", w.ran)
	}
	if n, _ := w.s.Enqueue(-1); n != len(roundJobs) {
		t.Fatalf("Enqueue(-1) = %d, want %d", n, len(roundJobs))
	}
}

// countingLimiter records the sizes asked of it.
type countingLimiter struct {
	mu    sync.Mutex
	asked []int
}

func (l *countingLimiter) WaitN(_ context.Context, n int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.asked = append(l.asked, n)
	return nil
}

// TestSchedulerThrottlesRealExchange: with the default Exchange over real
// stores, every key compared passes through the injected Limiter, at most
// a page per call, and the replicas converge.
func TestSchedulerThrottlesRealExchange(t *testing.T) {
	a, b := newNode(t, "a"), newNode(t, "b")
	for i := range 500 {
		set(t, a, fmt.Sprintf("key:%d", i), "v")
	}
	lim := &countingLimiter{}
	clk := &manualClock{t: clock}
	ring := &fakeRing{reps: [][]string{{"a", "b"}, {"b", "a"}, {"a", "b"}, {"b", "a"}}}
	s, err := antientropy.NewScheduler(antientropy.SchedulerConfig{Page: 64}, antientropy.SchedulerDeps{
		Self: "a", Clock: clk, Ring: ring, Liveness: liveness{}, Limiter: lim,
		Peers: func(string) antientropy.Peer { return &peer{n: b} },
		Trees: a.trees, Local: a.store,
	})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Enqueue(-1); n != 4 {
		t.Fatalf("queued %d exchanges, want 4", n)
	}
	for s.Step(context.Background()) {
	}
	converged(t, a, b)
	total := 0
	for _, n := range lim.asked {
		if n > 64 {
			t.Fatalf("the limiter was asked for %d keys at once, more than a page", n)
		}
		total += n
	}
	st := map[string]string{}
	for _, f := range s.Status() {
		st[f.Name] = f.Value
	}
	if fmt.Sprint(total) != st["keys_compared"] || total < 500 {
		t.Fatalf("limiter passed %d keys, status says %s compared; want equal and ≥ 500", total, st["keys_compared"])
	}
}

// TestSchedulerConfigValidate: negative values are rejected.
func TestSchedulerConfigValidate(t *testing.T) {
	for _, c := range []antientropy.SchedulerConfig{
		{Interval: -1}, {Rate: -1}, {Page: -1}, {Timeout: -1}, {FirstDelay: -1},
	} {
		c.EnsureDefaults()
		if err := c.Validate(); !errors.Is(err, antientropy.ErrSchedulerConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrSchedulerConfig", c, err)
		}
	}
	var c antientropy.SchedulerConfig
	c.EnsureDefaults()
	if c != antientropy.DefaultSchedulerConfig() {
		t.Fatalf("zero config with defaults = %+v", c)
	}
}
