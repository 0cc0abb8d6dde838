package transfer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// Sentinel errors.
var (
	// ErrConfig reports an invalid Config.
	ErrConfig = errors.New("transfer: invalid config")
	// ErrProgress reports progress or the leaving mark that cannot be read
	// or saved.
	ErrProgress = errors.New("transfer: progress")
	// ErrLeave reports a CLUSTER LEAVE that cannot be done.
	ErrLeave = errors.New("transfer: cannot leave")
	// ErrNoRoute reports a receiver the driver has no peer for.
	ErrNoRoute = errors.New("transfer: no route to receiver")
	// ErrStale reports a stream stopped because a ring change made its
	// task no longer this node's (it resumes or is pruned next round).
	ErrStale = errors.New("transfer: task no longer needed")
)

// Ring is the ring-state holder transfer works through (the cluster).
type Ring interface {
	// Current returns the ring state in force; nil before this node is
	// in a ring.
	Current() *ring.State
	// Change persists, installs and spreads next, a successor of a state
	// Current returned (a confirmation or a leave step). A holder may
	// refuse a successor of a stale state; the driver makes its change
	// again on a later round.
	Change(next *ring.State) error
}

// Source is this node's replica, which the sender streams from and which
// drops partitions it no longer holds (replica.Store).
type Source interface {
	// ScanRange returns up to about count entries of the slots [from,
	// to) from cursor c, and the cursor to resume from (0: done).
	ScanRange(ctx context.Context, from, to int, c peer.Cursor, count int) (peer.Cursor, []peer.Entry, error)
	// HasSlots reports whether any key of the slots [from, to) is stored.
	HasSlots(from, to int) (bool, error)
	// DropSlots deletes every key of the slots [from, to) locally and
	// returns how many.
	DropSlots(from, to int) (int, error)
}

// Peer is an incoming replica as the sender sees it (peerclient.Client,
// peertest's link).
type Peer interface {
	// MergeMany merges each entry into the peer's copy of its key
	// (crdt.Merge), returning once all are stored.
	MergeMany(ctx context.Context, entries []peer.Entry) error
}

// Limiter throttles the keys streamed (golang.org/x/time/rate.Limiter).
// Its burst must be at least Config.Batch: the driver never asks for more.
type Limiter interface {
	// WaitN blocks until n keys may be sent or ctx ends.
	WaitN(ctx context.Context, n int) error
}

// Intent is the persisted mark of a CLUSTER LEAVE (cluster.Cluster
// implements it). MarkLeaving refuses a node that cannot leave (not in the
// ring, or its last joined member), saves the mark crash-safely and tells
// the other members; Leaving reports whether the mark is set, including
// one saved before a restart.
type Intent interface {
	Leaving() bool
	MarkLeaving() error
}

// Deps are what the driver works with. Every field but Limiter and Logger
// is required.
type Deps struct {
	Self  ring.NodeID            // this node
	Ring  Ring                   // the ring state holder
	Local Source                 // this node's replica
	Peer  func(ring.NodeID) Peer // the receiver's peer; nil: no route now
	Alive func(ring.NodeID) bool // liveness (true for Self)
	// Limiter throttles the stream; nil: unthrottled. Shared by every
	// task of this node.
	Limiter Limiter
	Store   *Store // progress
	// Mark is the node's persisted intent to leave. Package cluster owns
	// it, because it is gossiped so that a node that left is not admitted
	// again; nil: the node cannot leave.
	Mark   Intent
	Now    func() time.Time // the clock of decisions and samples
	Logger *slog.Logger     // nil: slog.Default()
}

// sample is one rate measurement: keys sent since start at a time.
type sample struct {
	at   time.Time
	keys int64
}

// Transfer is the driver of ownership transfer on one node.
type Transfer struct {
	cfg Config
	d   Deps
	log *slog.Logger

	poke chan struct{}

	// Owned by Step's goroutine.
	lastDrop     uint64
	dropAt       time.Time
	lastComplete time.Time

	mu      sync.Mutex // guards what Status reads
	prog    map[Task]Progress
	leaving bool
	active  *Task
	sent    int64 // keys sent since start
	bytes   int64 // bytes sent since start (keys plus encoded objects)
	done    int64 // tasks finished since start
	dropped int64 // keys dropped since start
	window  []sample
}

// New returns a driver with the saved progress and leaving mark loaded.
// cfg gets its defaults; an invalid cfg is an error wrapping ErrConfig.
// Unreadable progress is logged and ignored (the transfer starts over:
// merging again is harmless).
func New(cfg Config, d Deps) (*Transfer, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Ring == nil || d.Local == nil || d.Peer == nil || d.Alive == nil || d.Store == nil || d.Now == nil {
		return nil, fmt.Errorf("%w: missing dependency", ErrConfig)
	}
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	t := &Transfer{cfg: cfg, d: d, log: log.With("component", "transfer"), poke: make(chan struct{}, 1)}
	prog, err := d.Store.Load()
	if err != nil {
		t.log.Warn("handoff progress unreadable; starting over", "err", err)
	}
	t.prog = prog
	if len(prog) > 0 {
		done := 0
		for _, p := range prog {
			if p.Done {
				done++
			}
		}
		// NB: the message names "handoff" for the operators' and the
		// multi-process tests' log searches.
		t.log.Info("handoff progress loaded", "tasks", len(prog), "done", done)
	}
	if d.Mark != nil {
		t.leaving = d.Mark.Leaving()
	}
	return t, nil
}

// Leaving reports whether a leave was asked (now or before a restart).
func (t *Transfer) Leaving() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.leaving
}

// Wake makes Run do a round now (after a ring change).
func (t *Transfer) Wake() {
	select {
	case t.poke <- struct{}{}:
	default:
	}
}

// Run does a round every Config.Tick or on Wake, until ctx ends.
func (t *Transfer) Run(ctx context.Context) {
	tk := time.NewTicker(t.cfg.Tick)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
		case <-t.poke:
		}
		t.Step(ctx)
	}
}

// Step does one round: drop partitions no longer held, take the next leave
// step, forget stale progress, stream every task still to send (confirming
// finished partitions every CompleteEvery), confirm, and take a rate
// sample. It returns early when ctx ends. Step must not run concurrently
// with itself.
func (t *Transfer) Step(ctx context.Context) {
	defer t.sample()
	st := t.d.Ring.Current()
	if st == nil {
		return
	}
	t.drop(st)
	t.leave(st)
	t.prune(st)
	for _, tk := range Send(st, t.d.Self, t.d.Alive, t.snapshot()) {
		if ctx.Err() != nil {
			return
		}
		if err := t.stream(ctx, tk); err != nil {
			t.log.Debug("handoff interrupted; will resume", "partition", tk.Partition, "to", tk.To, "err", err)
			continue
		}
		if t.d.Now().Sub(t.lastComplete) >= t.cfg.CompleteEvery {
			// Confirm as we go, so that a long transfer frees the old
			// replicas' copies progressively.
			t.complete()
		}
	}
	t.complete()
}

func (t *Transfer) snapshot() map[Task]Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return clone(t.prog)
}

// prune forgets stale progress (Prune).
func (t *Transfer) prune(st *ring.State) {
	t.mu.Lock()
	stale := Prune(st, t.prog, t.d.Now(), t.cfg.KeepDone)
	for _, tk := range stale {
		delete(t.prog, tk)
	}
	prog := clone(t.prog)
	t.mu.Unlock()
	if len(stale) > 0 {
		if err := t.d.Store.Save(prog); err != nil {
			t.log.Warn("cannot save handoff progress", "err", err)
		}
	}
}

// stream sends partition tk.Partition to tk.To from the saved cursor to
// the end, batch by batch, saving the cursor after each acknowledged
// batch: a crash of either side resends at most the batch in flight.
func (t *Transfer) stream(ctx context.Context, tk Task) error {
	recv := t.d.Peer(tk.To)
	if recv == nil {
		return fmt.Errorf("%w %s", ErrNoRoute, tk.To)
	}
	st := t.d.Ring.Current()
	from, to := ring.SlotRange(tk.Partition, st.Partitions())
	move := MoveKey(st, tk.Partition)
	t.mu.Lock()
	pg, ok := t.prog[tk]
	if !ok || pg.Move != move {
		pg = Progress{Move: move}
		t.prog[tk] = pg
	}
	t.active = &tk
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		t.active = nil
		t.mu.Unlock()
	}()
	if pg.Keys > 0 {
		t.log.Info("handoff resumed", "partition", tk.Partition, "to", tk.To, "keys_sent_before", pg.Keys)
	}
	start := t.d.Now()
	cur := peer.Cursor(pg.Cursor)
	for {
		if !Still(t.d.Ring.Current(), t.d.Self, t.d.Alive, tk) {
			return fmt.Errorf("%w: partition %d to %s", ErrStale, tk.Partition, tk.To)
		}
		if !t.d.Alive(tk.To) {
			return fmt.Errorf("%w: %s is down", ErrNoRoute, tk.To)
		}
		next, entries, err := t.d.Local.ScanRange(ctx, from, to, cur, t.cfg.Batch)
		if err != nil {
			return err
		}
		if err := t.wait(ctx, len(entries)); err != nil {
			return err
		}
		// Encode each object once: its size is counted from the
		// encoding that the peer client sends (peer.Entry.Encoded).
		var size int64
		for i := range entries {
			if entries[i].Encoded == nil {
				entries[i].Encoded = entries[i].Object.Encode()
			}
			size += int64(len(entries[i].Key) + len(entries[i].Encoded))
		}
		if len(entries) > 0 {
			cctx, cancel := context.WithTimeout(ctx, t.cfg.Timeout+time.Duration(len(entries))*time.Millisecond)
			err = recv.MergeMany(cctx, entries)
			cancel()
			if err != nil {
				return err
			}
		}
		now := t.d.Now()
		t.mu.Lock()
		pg.Cursor = uint64(next)
		pg.Keys += int64(len(entries))
		pg.Bytes += size
		pg.Done = next == 0
		t.sent += int64(len(entries))
		t.bytes += size
		if pg.Done {
			pg.DoneAt = now.UnixMilli()
			t.done++
		}
		t.prog[tk] = pg
		prog := clone(t.prog)
		t.sampleLocked(now)
		t.mu.Unlock()
		if err := t.d.Store.Save(prog); err != nil {
			return err
		}
		if pg.Done {
			// NB: "handoff partition done" is what operators and the
			// multi-process tests search the log for.
			// An empty partition's transfer is not worth a line at info
			// level: a new ring moves every partition at once.
			lvl := slog.LevelInfo
			if pg.Keys == 0 {
				lvl = slog.LevelDebug
			}
			t.log.Log(ctx, lvl, "handoff partition done", "partition", tk.Partition, "to", tk.To, "keys", pg.Keys, "bytes", pg.Bytes,
				"took", t.d.Now().Sub(start).Round(time.Millisecond))
			return nil
		}
		cur = next
	}
}

// wait takes n keys from the limiter, at most a batch at a time (the
// limiter's burst), since a page may exceed the batch by the keys sharing
// its last cursor position.
func (t *Transfer) wait(ctx context.Context, n int) error {
	if t.d.Limiter == nil {
		return nil
	}
	for n > 0 {
		k := min(n, t.cfg.Batch)
		if err := t.d.Limiter.WaitN(ctx, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

// complete confirms, in one ring change, every moving partition whose
// incoming replicas all have it from this node (Completed).
func (t *Transfer) complete() {
	t.lastComplete = t.d.Now()
	st := t.d.Ring.Current()
	if st == nil {
		return
	}
	done := Completed(st, t.d.Self, t.d.Alive, t.snapshot())
	if len(done) == 0 {
		return
	}
	next, k, err := st.Complete(done)
	if err != nil || k == 0 {
		return
	}
	if err := t.d.Ring.Change(next); err != nil {
		t.log.Warn("cannot confirm handoffs", "err", err)
		return
	}
	t.log.Info("handoffs confirmed", "partitions", k, "still_moving", len(next.MovingPartitions()))
}

// drop deletes this node's copy of every partition it no longer holds, on
// every ring version and every DropEvery.
func (t *Transfer) drop(st *ring.State) {
	now := t.d.Now()
	if !DropDue(st, t.lastDrop, t.dropAt, now, t.cfg.DropEvery) {
		return
	}
	t.lastDrop, t.dropAt = st.Version(), now
	for _, p := range Drops(st, t.d.Self) {
		from, to := ring.SlotRange(p, st.Partitions())
		if has, err := t.d.Local.HasSlots(from, to); err != nil || !has {
			continue
		}
		k, err := t.d.Local.DropSlots(from, to)
		if err != nil {
			t.log.Warn("cannot drop a partition handed off", "partition", p, "err", err)
			continue
		}
		t.mu.Lock()
		t.dropped += int64(k)
		t.mu.Unlock()
		t.log.Info("dropped partition handed off", "partition", p, "keys", k)
	}
}

// StartLeave sets the leaving mark (Deps.Mark, which persists it and tells
// the other members) and wakes the driver, which then marks the node
// leaving in the ring and removes it once its partitions have moved.
// Errors wrap ErrLeave.
func (t *Transfer) StartLeave() error {
	if t.d.Mark == nil {
		return fmt.Errorf("%w: this node keeps no leaving mark", ErrLeave)
	}
	if err := t.d.Mark.MarkLeaving(); err != nil {
		if errors.Is(err, ErrLeave) {
			return err
		}
		return fmt.Errorf("%w: %w", ErrLeave, err)
	}
	t.mu.Lock()
	t.leaving = true
	t.mu.Unlock()
	t.Wake()
	return nil
}

// leave takes the next step of a leave (NextLeave).
func (t *Transfer) leave(st *ring.State) {
	var next *ring.State
	var err error
	step := NextLeave(st, t.d.Self, t.Leaving())
	switch step {
	case LeaveMark:
		next, _, err = st.Leave(t.d.Self)
	case LeaveRemove:
		next, err = st.Remove(t.d.Self)
	default:
		return
	}
	if err == nil {
		err = t.d.Ring.Change(next)
	}
	if err != nil {
		t.log.Warn("cannot leave", "err", err)
		return
	}
	if step == LeaveMark {
		t.log.Info("leaving the ring: handing partitions off", "moving", len(next.MovingPartitions()))
	} else {
		t.log.Info("left the ring; the process can be stopped")
	}
}

// sample records the keys sent so far for Status's rate.
func (t *Transfer) sample() {
	now := t.d.Now()
	t.mu.Lock()
	t.sampleLocked(now)
	t.mu.Unlock()
}

// sampleLocked appends a sample and forgets those older than RateWindow,
// keeping two at least (the caller holds mu).
func (t *Transfer) sampleLocked(now time.Time) {
	t.window = append(t.window, sample{now, t.sent})
	for len(t.window) > 2 && now.Sub(t.window[0].at) > t.cfg.RateWindow {
		t.window = t.window[1:]
	}
}
