package antientropy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"
)

// Scheduler errors.
var (
	// ErrSchedulerConfig reports an invalid SchedulerConfig.
	ErrSchedulerConfig = errors.New("antientropy: invalid scheduler config")
	// ErrPartition reports a partition number outside the ring.
	ErrPartition = errors.New("antientropy: no such partition")
	// ErrSchedulerDeps reports a Scheduler or Reaper built without a
	// required dependency.
	ErrSchedulerDeps = errors.New("antientropy: missing dependency")
)

// SchedulerConfig configures the anti-entropy scheduler. Zero fields take
// their default from EnsureDefaults.
type SchedulerConfig struct {
	// Interval is the period in which each partition this node replicates
	// is compared once with each of its other replicas (flag --ae-interval).
	Interval time.Duration
	// Rate bounds the keys exchanges read per second (flag --ae-rate); the
	// node builds the shared Limiter from it.
	Rate int
	// Page is the most keys fetched from either side in one call.
	Page int
	// Timeout bounds one exchange.
	Timeout time.Duration
	// FirstDelay is the wait before the first scheduled exchange after the
	// scheduler starts (the membership settles meanwhile).
	FirstDelay time.Duration
}

// DefaultSchedulerConfig returns the defaults, each explained where set.
func DefaultSchedulerConfig() SchedulerConfig {
	return SchedulerConfig{
		Interval:   time.Minute,      // every replica pair of every partition compared once a minute
		Rate:       20000,            // keys/s read by exchanges: about 1% of one core's store throughput
		Page:       256,              // keys per ScanRanges/MergeMany call: ~1 round trip per 256 differing keys
		Timeout:    10 * time.Minute, // one exchange, even of a partition that differs entirely
		FirstDelay: time.Second,      // let gossip report the peers alive before the first exchange
	}
}

// EnsureDefaults sets every zero field to its DefaultSchedulerConfig value.
func (c *SchedulerConfig) EnsureDefaults() {
	d := DefaultSchedulerConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.Rate == 0 {
		c.Rate = d.Rate
	}
	if c.Page == 0 {
		c.Page = d.Page
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.FirstDelay == 0 {
		c.FirstDelay = d.FirstDelay
	}
}

// Validate rejects negative periods, rates and sizes; call it after
// EnsureDefaults.
func (c *SchedulerConfig) Validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("%w: interval %v is negative", ErrSchedulerConfig, c.Interval)
	case c.Rate < 0:
		return fmt.Errorf("%w: rate %d keys/s is negative", ErrSchedulerConfig, c.Rate)
	case c.Page < 0:
		return fmt.Errorf("%w: page %d is negative", ErrSchedulerConfig, c.Page)
	case c.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", ErrSchedulerConfig, c.Timeout)
	case c.FirstDelay < 0:
		return fmt.Errorf("%w: first delay %v is negative", ErrSchedulerConfig, c.FirstDelay)
	}
	return nil
}

// Clock is the scheduler's and reaper's time source (time.Now in the node,
// a manual clock in tests).
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function such as time.Now to Clock.
type ClockFunc func() time.Time

// Now returns f().
func (f ClockFunc) Now() time.Time { return f() }

// RingView is what the scheduler needs of the ring: its partitions and
// each partition's replicas.
type RingView interface {
	// Partitions returns Q, or 0 before this node is in a ring.
	Partitions() int
	// Replicas returns the node IDs of partition p's replicas (the top N of
	// its preference list), in order.
	Replicas(p int) []string
}

// Liveness reports whether a node is believed up (gossip plus local
// suspicion).
type Liveness interface {
	Alive(id string) bool
}

// Limiter throttles the keys exchanges read: WaitN blocks until n more
// keys may be read or ctx ends (golang.org/x/time/rate.Limiter, shared
// with other throttled work). The scheduler never asks for more than
// SchedulerConfig.Page keys in one call.
type Limiter interface {
	WaitN(ctx context.Context, n int) error
}

// SchedulerDeps are what a Scheduler works with.
type SchedulerDeps struct {
	Self     string   // this node's ID (required)
	Clock    Clock    // required
	Ring     RingView // required
	Liveness Liveness // required
	// Peers resolves a node ID to the other side of an exchange; nil for
	// an unknown node (required).
	Peers func(id string) Peer
	// Limiter throttles exchanges; nil means unthrottled.
	Limiter Limiter
	// Trees and Local are this node's side of exchanges (required unless
	// Exchange is set).
	Trees *Trees
	Local Local
	// Exchange runs one exchange; nil means Exchange(ctx, Trees, p, Local,
	// peer, …) with the config's page and the Limiter. Tests replace it.
	Exchange func(ctx context.Context, p int, peer Peer) (Result, error)
	// Logger receives exchange logs; nil means slog.Default().
	Logger *slog.Logger
}

// Job is one exchange: a partition with one other replica of it.
type Job struct {
	Partition int
	Peer      string
}

// jobStatus is what the last exchange of a job found.
type jobStatus struct {
	at     time.Time
	inSync bool // the trees were equal
}

// Scheduler spreads anti-entropy exchanges (Dynamo §4.7) over the
// interval: a round is every partition this node replicates with each of
// its other replicas, in partition order, one job every Interval/len(round)
// after the previous one ends. A job whose peer is not alive is skipped
// (and counted); a job the ring no longer supports (this node or the peer
// is not a replica any more) is dropped silently. Enqueue puts jobs ahead
// of the round (CLUSTER REPAIR).
//
// Concurrency: Step and Run drive the scheduler from one goroutine (never
// both, never two at once); Enqueue, Status and Config are safe from any
// goroutine.
type Scheduler struct {
	cfg  SchedulerConfig
	deps SchedulerDeps

	// Owned by the driving goroutine.
	round  []Job
	gap    time.Duration
	nextAt time.Time

	mu       sync.Mutex
	urgent   []Job
	status   map[Job]jobStatus
	total    Result
	done     int64 // exchanges finished
	failed   int64
	skipped  int64 // peer not alive
	lastKeys int   // keys repaired by the last exchange
	running  bool
	poke     chan struct{}
	// urgentRunning reports that the exchange running was queued by
	// Enqueue; drainedAt is when the last of the queued exchanges ended
	// (zero: never).
	urgentRunning bool
	drainedAt     time.Time
}

// NewScheduler returns a Scheduler; cfg gets EnsureDefaults and must
// Validate.
func NewScheduler(cfg SchedulerConfig, deps SchedulerDeps) (*Scheduler, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Self == "" || deps.Clock == nil || deps.Ring == nil || deps.Liveness == nil || deps.Peers == nil ||
		deps.Exchange == nil && (deps.Trees == nil || deps.Local == nil) {
		return nil, ErrSchedulerDeps
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	s := &Scheduler{cfg: cfg, deps: deps, status: map[Job]jobStatus{}, poke: make(chan struct{}, 1)}
	s.nextAt = deps.Clock.Now().Add(cfg.FirstDelay)
	if s.deps.Exchange == nil {
		s.deps.Exchange = s.exchangeTrees
	}
	return s, nil
}

// Config returns the configuration in use (defaults filled in).
func (s *Scheduler) Config() SchedulerConfig { return s.cfg }

// jobs returns the exchanges of partition p (of every partition if p is
// negative) this node takes part in, in partition order.
func (s *Scheduler) jobs(p int) []Job {
	var out []Job
	for q := range s.deps.Ring.Partitions() {
		if p >= 0 && q != p {
			continue
		}
		reps := s.deps.Ring.Replicas(q)
		if !slices.Contains(reps, s.deps.Self) {
			continue
		}
		for _, id := range reps {
			if id != s.deps.Self {
				out = append(out, Job{q, id})
			}
		}
	}
	return out
}

// Enqueue queues the exchanges of partition p (all of them if p is
// negative) ahead of the schedule, and returns how many it queued. A p
// outside the ring is ErrPartition.
func (s *Scheduler) Enqueue(p int) (int, error) {
	if q := s.deps.Ring.Partitions(); p >= q && q > 0 {
		return 0, fmt.Errorf("%w: %d of %d", ErrPartition, p, q)
	}
	jobs := s.jobs(p)
	s.mu.Lock()
	s.urgent = append(s.urgent, jobs...)
	s.mu.Unlock()
	select {
	case s.poke <- struct{}{}:
	default:
	}
	return len(jobs), nil
}

// Pending returns how many exchanges queued by Enqueue have not ended
// (those queued plus the one running, if it was queued), and when the
// queue last drained (the zero time if it never did). CLUSTER REPAIR WAIT
// waits for Pending to reach 0.
func (s *Scheduler) Pending() (n int, drainedAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n = len(s.urgent)
	if s.urgentRunning {
		n++
	}
	return n, s.drainedAt
}

// Step runs at most one exchange: the first queued one, else the next of
// the round if it is due on the clock. It reports whether it ran (or
// skipped) a job; false means nothing is due before NextDue.
func (s *Scheduler) Step(ctx context.Context) bool {
	s.mu.Lock()
	var job Job
	urgent := len(s.urgent) > 0
	if urgent {
		job, s.urgent = s.urgent[0], s.urgent[1:]
		s.urgentRunning = true
	}
	s.mu.Unlock()
	if urgent {
		s.run(ctx, job)
		s.mu.Lock()
		s.urgentRunning = false
		if len(s.urgent) == 0 {
			s.drainedAt = s.deps.Clock.Now()
		}
		s.mu.Unlock()
		return true
	}
	now := s.deps.Clock.Now()
	if now.Before(s.nextAt) {
		return false
	}
	if len(s.round) == 0 {
		s.round = s.jobs(-1)
		if len(s.round) == 0 {
			s.nextAt = now.Add(s.cfg.Interval)
			return false
		}
		// NB: the gap is fixed when the round starts; a round that
		// outlasts the interval (slow exchanges) just ends later.
		s.gap = s.cfg.Interval / time.Duration(len(s.round))
	}
	job, s.round = s.round[0], s.round[1:]
	s.run(ctx, job)
	s.nextAt = s.deps.Clock.Now().Add(s.gap)
	return true
}

// NextDue returns when the next scheduled job is due (queued jobs are due
// at once).
func (s *Scheduler) NextDue() time.Time { return s.nextAt }

// Run drives the scheduler until ctx ends: it steps while jobs are due,
// then sleeps (on a real timer) until the next is due or Enqueue pokes it.
func (s *Scheduler) Run(ctx context.Context) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		for ctx.Err() == nil && s.Step(ctx) {
		}
		if ctx.Err() != nil {
			return
		}
		timer.Reset(max(s.nextAt.Sub(s.deps.Clock.Now()), 0))
		select {
		case <-ctx.Done():
			return
		case <-s.poke:
		case <-timer.C:
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
	}
}

// run runs one job and records its result.
func (s *Scheduler) run(ctx context.Context, job Job) {
	reps := s.deps.Ring.Replicas(job.Partition)
	if !slices.Contains(reps, job.Peer) || !slices.Contains(reps, s.deps.Self) {
		// The ring moved on. NB: a node that handed the partition off has
		// dropped its copy, and an exchange would pull it back.
		return
	}
	if !s.deps.Liveness.Alive(job.Peer) {
		s.mu.Lock()
		s.skipped++
		s.mu.Unlock()
		return
	}
	peer := s.deps.Peers(job.Peer)
	if peer == nil {
		return
	}
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	start := s.deps.Clock.Now()
	res, err := s.deps.Exchange(ctx, job.Partition, peer)
	cancel()
	now := s.deps.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.running = false
	s.total.Add(res)
	if err != nil {
		s.failed++
		s.deps.Logger.Debug("anti-entropy exchange failed", "partition", job.Partition, "peer", job.Peer, "err", err)
		return
	}
	s.done++
	s.lastKeys = res.Repaired()
	s.status[job] = jobStatus{at: now, inSync: res.DifferingLeaves == 0}
	if res.Repaired() > 0 {
		s.deps.Logger.Info("anti-entropy repaired keys", "partition", job.Partition, "peer", job.Peer,
			"leaves", res.DifferingLeaves, "pulled", res.Pulled, "pushed", res.Pushed,
			"bytes_in", res.BytesIn, "bytes_out", res.BytesOut, "took", now.Sub(start).Round(time.Millisecond))
	}
}

// exchangeTrees is the default Exchange: the Merkle exchange of this
// node's trees and store with peer, throttled by the Limiter.
func (s *Scheduler) exchangeTrees(ctx context.Context, p int, peer Peer) (Result, error) {
	opt := Options{Page: s.cfg.Page}
	if l := s.deps.Limiter; l != nil {
		opt.Throttle = func(ctx context.Context, n int) error {
			// NB: WaitN refuses more than the limiter's burst at once; ask
			// for at most a page at a time.
			for n > 0 {
				k := min(n, s.cfg.Page)
				if err := l.WaitN(ctx, k); err != nil {
					return err
				}
				n -= k
			}
			return nil
		}
	}
	return Exchange(ctx, s.deps.Trees, p, s.deps.Local, peer, opt)
}

// Field is one name=value line of the scheduler's status, for INFO.
type Field struct{ Name, Value string }

// Status returns the scheduler's counters and per-partition state as INFO
// fields (INFO antientropy): totals first, then one partition_<p> line per
// partition this node replicates.
func (s *Scheduler) Status() []Field {
	jobs := s.jobs(-1)
	now := s.deps.Clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	type pstat struct {
		peers, compared, inSync int
		oldest                  time.Time
	}
	parts := map[int]*pstat{}
	var order []int
	for _, j := range jobs {
		ps := parts[j.Partition]
		if ps == nil {
			ps = &pstat{}
			parts[j.Partition] = ps
			order = append(order, j.Partition)
		}
		ps.peers++
		if st, ok := s.status[j]; ok {
			ps.compared++
			if st.inSync {
				ps.inSync++
			}
			if ps.oldest.IsZero() || st.at.Before(ps.oldest) {
				ps.oldest = st.at
			}
		}
	}
	inSync, oldest := 0, 0.0
	var lines []Field
	for _, p := range order {
		ps := parts[p]
		age, synced := "never", ps.compared == ps.peers && ps.inSync == ps.peers
		if ps.compared == ps.peers {
			d := now.Sub(ps.oldest).Seconds()
			age = strconv.FormatFloat(d, 'f', 1, 64)
			oldest = max(oldest, d)
		} else {
			oldest = math.Inf(1)
		}
		if synced {
			inSync++
		}
		lines = append(lines, Field{"partition_" + strconv.Itoa(p), "last_compared_s=" + age + ",in_sync=" + strconv.FormatBool(synced)})
	}
	oldestS := strconv.FormatFloat(oldest, 'f', 1, 64)
	if math.IsInf(oldest, 1) {
		oldestS = "never"
	}
	repairPending := len(s.urgent)
	if s.urgentRunning {
		repairPending++
	}
	drained := "never"
	if !s.drainedAt.IsZero() {
		drained = strconv.FormatFloat(now.Sub(s.drainedAt).Seconds(), 'f', 1, 64)
	}
	leaves := 0
	if s.deps.Trees != nil {
		leaves = s.deps.Trees.Layout().Leaves()
	}
	return append([]Field{
		{"antientropy_enabled", "1"},
		{"interval_s", strconv.FormatFloat(s.cfg.Interval.Seconds(), 'f', -1, 64)},
		{"rate_keys_per_s", strconv.Itoa(s.cfg.Rate)},
		{"leaves_per_tree", strconv.Itoa(leaves)},
		{"exchanges", strconv.FormatInt(s.done, 10)},
		{"exchanges_failed", strconv.FormatInt(s.failed, 10)},
		{"exchanges_skipped_down", strconv.FormatInt(s.skipped, 10)},
		{"exchanges_queued", strconv.Itoa(len(s.urgent))},
		{"exchange_running", strconv.FormatBool(s.running)},
		{"repair_pending", strconv.Itoa(repairPending)},
		{"repair_drained_s_ago", drained},
		{"keys_compared", strconv.Itoa(s.total.Keys)},
		{"keys_repaired", strconv.Itoa(s.total.Repaired())},
		{"keys_pulled", strconv.Itoa(s.total.Pulled)},
		{"keys_pushed", strconv.Itoa(s.total.Pushed)},
		{"last_exchange_keys_repaired", strconv.Itoa(s.lastKeys)},
		{"hashes_fetched", strconv.Itoa(s.total.Hashes)},
		{"bytes_received", strconv.FormatInt(s.total.BytesIn, 10)},
		{"bytes_sent", strconv.FormatInt(s.total.BytesOut, 10)},
		{"partitions", strconv.Itoa(len(order))},
		{"partitions_in_sync", strconv.Itoa(inSync)},
		{"oldest_compared_s", oldestS},
	}, lines...)
}
