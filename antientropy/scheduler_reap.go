package antientropy

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/dynakv/dynakv/crdt"
)

// ErrReaperConfig reports an invalid ReaperConfig.
var ErrReaperConfig = errors.New("antientropy: invalid reaper config")

// ReaperConfig configures tombstone reaping.
type ReaperConfig struct {
	// Grace is how long a tombstone is kept at least (flag
	// --tombstone-grace; the store's replica.Config.TombstoneGrace must be
	// the same). It must exceed the longest a write can be in flight
	// between nodes (the request timeout), and it is also the margin
	// allowed between the clocks of the deleting node and hint holders.
	Grace time.Duration
	// Timeout bounds each call the decision makes (reads of the replicas,
	// hint horizons).
	Timeout time.Duration
	// Recheck is how long a member whose horizon blocked a reap is not
	// asked again (the tombstones it blocks wait meanwhile).
	Recheck time.Duration
}

// DefaultReaperConfig returns the defaults, each explained where set.
func DefaultReaperConfig() ReaperConfig {
	return ReaperConfig{
		Grace:   time.Minute,     // ≫ the 2 s request timeout and ordinary NTP skew
		Timeout: 2 * time.Second, // as the coordinator's default request timeout
		Recheck: time.Second,     // a blocking member costs one call a second, not one per tombstone
	}
}

// EnsureDefaults sets every zero field to its DefaultReaperConfig value.
func (c *ReaperConfig) EnsureDefaults() {
	d := DefaultReaperConfig()
	if c.Grace == 0 {
		c.Grace = d.Grace
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.Recheck == 0 {
		c.Recheck = d.Recheck
	}
}

// Validate rejects negative durations; call it after EnsureDefaults.
func (c *ReaperConfig) Validate() error {
	switch {
	case c.Grace < 0:
		return fmt.Errorf("%w: grace %v is negative", ErrReaperConfig, c.Grace)
	case c.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", ErrReaperConfig, c.Timeout)
	case c.Recheck < 0:
		return fmt.Errorf("%w: recheck %v is negative", ErrReaperConfig, c.Recheck)
	}
	return nil
}

// ReapRing is what the reaper needs of the ring.
type ReapRing interface {
	// Members returns every ring member's ID, or nil before this node is
	// in a ring.
	Members() []string
	// KeyReplicas returns the key's replicas (the top N of its serving
	// list).
	KeyReplicas(key []byte) []string
	// Moving reports whether the key's partition is being transferred.
	Moving(key []byte) bool
}

// ReaperDeps are what a Reaper works with.
type ReaperDeps struct {
	Self     string   // this node's ID (required)
	Clock    Clock    // the store's clock (required)
	Ring     ReapRing // required
	Liveness Liveness // required
	// ReadAll reads the key from each of its replicas
	// (coordinator.Coordinator.ReadAll): the object per replica ID, or an
	// error if any replica did not answer (required).
	ReadAll func(ctx context.Context, key []byte) (map[string]crdt.Object, error)
	// Horizon returns node id's hint horizon (replica.Store.HintHorizon, or
	// DKV.HINTHORIZON for another node): Unix ms on that node's clock
	// (required).
	Horizon func(ctx context.Context, id string) (int64, error)
}

// Reaper decides whether a tombstone-only object may be removed (the
// store's replica.Config.CanReap when N > 1). A tombstone written at T
// (its newest tombstone sibling's timestamp, ms) may go at now only if:
//
//  1. now ≥ T + Grace;
//  2. the key's partition is not being transferred (old and new replicas
//     both hold copies until the move is over);
//  3. every other replica of the key answers, with an object that holds no
//     live value and nothing the tombstone does not cover (so anti-entropy
//     can bring nothing back);
//  4. every ring member is alive and reports, within Recheck, a hint
//     horizon after T + Grace: no member holds a hint with a version
//     written (by the writer's hybrid dot clock) at or before then
//     (replica.Store.HintHorizon). A hint of a version written before the
//     delete may carry a version the delete covers; delivered after the
//     tombstone is gone, it would bring the key back (issue 10, fault 2).
//     Pending hints are compared on the writers' dot clocks, which T is
//     read from too, so a hint holder's skew does not matter. The Grace
//     margin covers the writes still in flight when the delete was made
//     (a failed send becomes a hint up to a request timeout later), which
//     no horizon can see yet: for them, the reaper's clock must be within
//     Grace − Timeout − Recheck of the deleter's.
//
// A member's answer is used for Recheck after it was given, no longer:
// about one call per member per Recheck, not per key. Horizons are not
// monotone (a hint arriving later may hold older versions), so an older
// answer proves nothing, and a member that is down or cut off blocks every
// reap until it answers again.
//
// NB: the reaper used to keep each member's largest answer for good,
// taking horizons as monotone, and skipped members (even unreachable
// ones) whose answer was past the tombstone. With the holder's clock run
// ahead, that answer lay in the future; a hint of a version older than the
// delete arrived afterwards, and the tombstone was reaped while that hint
// was pending on a member cut off from the reapers (tests/jepsen,
// schedule 8679050689893925424; TestReaperAsksAgainAfterRecheck).
//
// Concurrency: CanReap is safe for concurrent use.
type Reaper struct {
	cfg  ReaperConfig
	deps ReaperDeps

	mu      sync.Mutex
	horizon map[string]int64     // largest horizon each member reported
	asked   map[string]time.Time // when each member was last asked
}

// NewReaper returns a Reaper; cfg gets EnsureDefaults and must Validate.
func NewReaper(cfg ReaperConfig, deps ReaperDeps) (*Reaper, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Self == "" || deps.Clock == nil || deps.Ring == nil || deps.Liveness == nil || deps.ReadAll == nil || deps.Horizon == nil {
		return nil, ErrSchedulerDeps
	}
	return &Reaper{cfg: cfg, deps: deps, horizon: map[string]int64{}, asked: map[string]time.Time{}}, nil
}

// TombstoneTime returns when the tombstone o was made (Unix ms, the
// clock of the node that made its last event), and false if o holds live
// content or nothing at all at nowMs (crdt.TombstoneTime).
func TombstoneTime(o crdt.Object, nowMs int64) (int64, bool) {
	return crdt.TombstoneTime(o, nowMs)
}

// CanReap reports whether the tombstone-only object o of key may be
// removed (see Reaper). Any doubt (a call fails, a node is down) keeps it.
func (r *Reaper) CanReap(key []byte, o crdt.Object) bool {
	now := r.deps.Clock.Now().UnixMilli()
	t, ok := TombstoneTime(o, now)
	if !ok || now < t+r.cfg.Grace.Milliseconds() {
		return false
	}
	members := r.deps.Ring.Members()
	if len(members) == 0 || r.deps.Ring.Moving(key) {
		return false
	}
	if !r.horizonsPast(members, t+r.cfg.Grace.Milliseconds()) {
		return false
	}
	reps := r.deps.Ring.KeyReplicas(key)
	for _, id := range reps {
		if id != r.deps.Self && !r.deps.Liveness.Alive(id) {
			return false
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	theirs, err := r.deps.ReadAll(ctx, key)
	cancel()
	if err != nil {
		return false
	}
	for _, id := range reps {
		if id == r.deps.Self {
			continue
		}
		obj, ok := theirs[id]
		if !ok {
			return false
		}
		if crdt.Live(obj, now) || !crdt.Equal(crdt.Merge(o, obj), o) {
			return false // a value, or something the tombstone does not cover
		}
	}
	return true
}

// horizonsPast reports whether every member's hint horizon is after ms.
// An answer is used for Recheck after it was given and no longer (a
// horizon is not monotone: a hint that arrives later may hold older
// versions, see replica.Store.HintHorizon), so each member is asked about
// once per Recheck; a member down or cut off blocks, as does one that
// fails to answer.
func (r *Reaper) horizonsPast(members []string, ms int64) bool {
	members = slices.Clone(members)
	slices.Sort(members)
	for _, id := range members {
		now := r.deps.Clock.Now()
		r.mu.Lock()
		h, asked := r.horizon[id], r.asked[id]
		r.mu.Unlock()
		if id != r.deps.Self && !r.deps.Liveness.Alive(id) {
			return false
		}
		if age := now.Sub(asked); !asked.IsZero() && age >= 0 && age < r.cfg.Recheck {
			if h > ms {
				continue
			}
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
		h, err := r.deps.Horizon(ctx, id)
		cancel()
		if err != nil {
			h = math.MinInt64
		}
		r.mu.Lock()
		r.asked[id], r.horizon[id] = now, h
		r.mu.Unlock()
		if h <= ms {
			return false
		}
	}
	return true
}
