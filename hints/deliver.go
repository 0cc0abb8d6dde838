package hints

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
)

// ErrDeps reports a Deliverer built without a required dependency.
var ErrDeps = errors.New("hints: missing dependency")

// Queue is the local store's side of hinted handoff (replica.Store).
type Queue interface {
	// HintTargets returns the number of pending hints per target node.
	HintTargets() (map[string]int, error)
	// Hints returns up to limit pending hints for target, in key order.
	Hints(target string, limit int) ([]replica.Hint, error)
	// DeleteHint removes target's hint of key if it still equals
	// delivered; dropped counts it as a discard instead of a delivery.
	DeleteHint(target string, key []byte, delivered crdt.Object, dropped bool) error
	// NowMs is the clock hints' creation times are on (Unix ms).
	NowMs() int64
}

// Target is the replica a hint is delivered to (peerclient.Client, or a
// peertest link in tests).
type Target interface {
	Merge(ctx context.Context, key []byte, obj crdt.Object) error
}

// Deps are what a Deliverer works with.
type Deps struct {
	// Queue holds the hints (required).
	Queue Queue
	// Peers resolves a node ID to its replica; nil for an unknown node
	// (required).
	Peers func(id string) Target
	// Healthy reports whether a node is believed up; hints to a node that
	// is not are left for a later pass without a call. nil: every node is.
	Healthy func(id string) bool
	// IsMember reports whether a node is still in the ring; hints for a
	// node that is not are dropped. nil: every node is.
	IsMember func(id string) bool
	// Logger receives delivery logs; nil means slog.Default().
	Logger *slog.Logger
}

// PassStats is what one pass did: hints delivered (acknowledged by their
// target, and deleted unless a newer write merged into them meanwhile),
// dropped (too old, or their target left the ring) and failed (the merge
// did not succeed; the hint stays).
type PassStats struct {
	Delivered, Dropped, Failed int
}

// Stats are a Deliverer's counters since it was built.
type Stats struct {
	Passes      int64 // passes run
	Delivered   int64 // hints acknowledged by their target and deleted
	DroppedAge  int64 // hints dropped for being older than MaxAge
	DroppedGone int64 // hints dropped because their target left the ring
	Failed      int64 // merge attempts that failed (the hint stayed)
}

// Deliverer hands hints off to their targets. Build it with New.
type Deliverer struct {
	cfg  Config
	deps Deps

	passes, delivered, droppedAge, droppedGone, failed atomic.Int64
	perTarget                                          sync.Map // target ID → *TargetStats
}

// TargetStats are a Deliverer's counters for one target node, read with
// Load: hints delivered to it, dropped (too old, or it left the ring) and
// failed merge attempts.
type TargetStats struct {
	Delivered, Dropped, Failed atomic.Int64
}

// target returns id's counters, creating them.
func (d *Deliverer) target(id string) *TargetStats {
	if v, ok := d.perTarget.Load(id); ok {
		return v.(*TargetStats)
	}
	v, _ := d.perTarget.LoadOrStore(id, &TargetStats{})
	return v.(*TargetStats)
}

// TargetStats calls fn with each target's counters, for every target
// this Deliverer has delivered, dropped or failed hints of since it was
// built (a node that left the ring stays listed).
func (d *Deliverer) TargetStats(fn func(target string, s *TargetStats)) {
	d.perTarget.Range(func(k, v any) bool {
		fn(k.(string), v.(*TargetStats))
		return true
	})
}

// New returns a Deliverer; cfg gets EnsureDefaults and must Validate.
func New(cfg Config, deps Deps) (*Deliverer, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if deps.Queue == nil || deps.Peers == nil {
		return nil, ErrDeps
	}
	if deps.Logger == nil {
		deps.Logger = slog.Default()
	}
	return &Deliverer{cfg: cfg, deps: deps}, nil
}

// Config returns the configuration in use (defaults filled in).
func (d *Deliverer) Config() Config { return d.cfg }

// Stats returns the counters since New.
func (d *Deliverer) Stats() Stats {
	return Stats{
		Passes: d.passes.Load(), Delivered: d.delivered.Load(),
		DroppedAge: d.droppedAge.Load(), DroppedGone: d.droppedGone.Load(), Failed: d.failed.Load(),
	}
}

// Run makes passes until ctx ends: on each tick, passes until one delivers
// and drops nothing or has a failure (so a large backlog drains in one
// tick, Batch hints per target per pass).
func (d *Deliverer) Run(ctx context.Context, tick <-chan time.Time) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
		}
		for ctx.Err() == nil {
			st, err := d.Pass(ctx)
			if err != nil {
				if ctx.Err() == nil {
					d.deps.Logger.Warn("hinted handoff", "err", err)
				}
				break
			}
			if st.Delivered+st.Dropped > 0 {
				d.deps.Logger.Info("hinted handoff", "delivered", st.Delivered, "dropped", st.Dropped, "failed", st.Failed)
			}
			if st.Delivered+st.Dropped == 0 || st.Failed > 0 {
				break // nothing more to do now
			}
		}
	}
}

// Pass runs one delivery pass over every target (see the package doc).
// An error is the queue's (the store failed); merge failures are counted
// in PassStats.Failed instead.
func (d *Deliverer) Pass(ctx context.Context) (PassStats, error) {
	d.passes.Add(1)
	var st PassStats
	q := d.deps.Queue
	targets, err := q.HintTargets()
	if err != nil {
		return st, err
	}
	now := q.NowMs()
	maxAge := d.cfg.MaxAge.Milliseconds()
	for target := range targets {
		if ctx.Err() != nil {
			return st, ctx.Err()
		}
		gone := d.deps.IsMember != nil && !d.deps.IsMember(target)
		if !gone && d.deps.Healthy != nil && !d.deps.Healthy(target) {
			continue
		}
		hints, err := q.Hints(target, d.cfg.Batch)
		if err != nil {
			return st, err
		}
		var live []replica.Hint
		for _, h := range hints {
			if gone || now-h.CreatedMs > maxAge {
				if err := q.DeleteHint(target, h.Key, h.Object, true); err != nil {
					return st, err
				}
				st.Dropped++
				d.target(target).Dropped.Add(1)
				if gone {
					d.droppedGone.Add(1)
				} else {
					d.droppedAge.Add(1)
				}
				continue
			}
			live = append(live, h)
		}
		if len(live) == 0 {
			continue
		}
		rep := d.deps.Peers(target)
		if rep == nil {
			st.Failed += len(live)
			d.failed.Add(int64(len(live)))
			d.target(target).Failed.Add(int64(len(live)))
			continue
		}
		delivered, failed, err := d.deliver(ctx, rep, target, live)
		st.Delivered += delivered
		st.Failed += failed
		d.delivered.Add(int64(delivered))
		d.failed.Add(int64(failed))
		if delivered+failed > 0 {
			ts := d.target(target)
			ts.Delivered.Add(int64(delivered))
			ts.Failed.Add(int64(failed))
		}
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// deliver merges hints into rep, Parallel at a time, deleting each one the
// target acknowledged. After a failure it starts no more (the target is
// not taking them now; the next pass retries).
func (d *Deliverer) deliver(ctx context.Context, rep Target, target string, hints []replica.Hint) (delivered, failed int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, d.cfg.Parallel)
	stop := false
	for _, h := range hints {
		mu.Lock()
		halt := stop || err != nil
		mu.Unlock()
		if halt {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, d.cfg.Timeout)
			merr := rep.Merge(cctx, h.Key, h.Object)
			cancel()
			var derr error
			if merr == nil {
				derr = d.deps.Queue.DeleteHint(target, h.Key, h.Object, false)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case merr != nil:
				failed++
				stop = true
			case derr != nil:
				err = derr
			default:
				delivered++
			}
		}()
	}
	wg.Wait()
	return delivered, failed, err
}
