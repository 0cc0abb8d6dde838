package node

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// Ownership handoff. When a ring change gives a partition new replicas, the
// ring marks it moving (ring.State.Moving) and keeps serving it from its
// old replicas. One of them, the sender (the first of the old set that is
// alive), streams the partition's keys to each incoming replica in
// batches (DKV.MERGEMANY, merged with dvv, so keys written meanwhile — which
// the incoming replicas also get from coordinators — are never lost),
// throttled to Config.HandoffRate keys per second. Its progress, the
// cursor of the last batch acknowledged per (partition, receiver), is
// persisted in <data>/handoff.json, so a sender or receiver that crashes
// resumes where it stopped; merges are idempotent, so re-sending a batch
// is harmless. When every incoming replica has the whole partition, the
// sender confirms it with ring.State.Complete, a new ring version: the new
// replicas serve the partition, and every node that no longer holds it
// (ring.State.Holds) drops its copy.
//
// CLUSTER LEAVE marks this node leaving (persisted in <data>/leaving, and
// in its gossip meta so the leader does not admit it again): its
// partitions move to the others as above, and once it is in no moving
// partition's old set it removes itself from the ring.

// Files in the data directory.
const (
	progressFile = "handoff.json"
)

// Defaults of the handoff.
const (
	// DefaultHandoffRate is the default throttle, in keys per second.
	DefaultHandoffRate = 20000
	// DefaultHandoffBatch is the default number of keys per DKV.MERGEMANY:
	// also the granularity of the saved progress.
	DefaultHandoffBatch = 256
	maxHandoffBatch     = 100000
	handoffTick         = 200 * time.Millisecond
	// completeEvery is how often a sender busy with many partitions
	// confirms those it has finished (each confirmation is a ring version).
	completeEvery = time.Second
)

// ErrLeave reports a CLUSTER LEAVE that cannot be done.
var ErrLeave = cluster.ErrLeave

// task is one partition to stream to one incoming replica.
type task struct {
	P  int         `json:"p"`
	To ring.NodeID `json:"to"`
}

// progress is how far a task went.
type progress struct {
	Old    string `json:"old"`    // the partition's old set, which identifies the move
	Cursor uint64 `json:"cursor"` // next position to send from
	Done   bool   `json:"done"`
	DoneAt int64  `json:"done_at,omitempty"` // Unix ms
	Keys   int64  `json:"keys"`
	Bytes  int64  `json:"bytes"`
}

// keepDone is how long a finished task's progress outlives its move:
// a confirmation can lose to a concurrent ring change and be made again,
// and must not stream the partition again.
const keepDone = time.Minute

// oldKey identifies the move of partition p in st by its old set.
func oldKey(st *ring.State, p int) string {
	old, _ := st.Moving(p)
	b := make([]byte, 0, 16*len(old))
	for _, id := range old {
		b = append(b, id...)
		b = append(b, ' ')
	}
	return string(b)
}

type progressEntry struct {
	task
	progress
}

// handoffs is the node's ownership handoff.
type handoffs struct {
	n     *Node
	log   *slog.Logger
	rate  int      // keys per second, 0: unthrottled
	batch int      // keys per DKV.MERGEMANY
	limit *limiter // rate keys per second over every partition and receiver, bursts of a batch
	dir   string

	mu       sync.Mutex
	prog     map[task]*progress
	leaving  bool
	active   *task
	sent     int64 // keys sent since start
	bytes    int64
	done     int64 // tasks finished since start
	dropped  int64 // keys dropped
	window   []sample
	lastDrop uint64 // ring version of the last drop pass
	dropAt   time.Time
	poke     chan struct{}
}

// sample is a rate measurement point.
type sample struct {
	at   time.Time
	keys int64
}

func newHandoffs(n *Node) (*handoffs, error) {
	h := &handoffs{
		n:     n,
		log:   n.log.With("component", "handoff"),
		rate:  n.cfg.HandoffRate,
		batch: n.cfg.HandoffBatch,
		dir:   n.cfg.DataDir,
		prog:  map[task]*progress{},
		poke:  make(chan struct{}, 1),
	}
	h.limit = newLimiter(float64(h.rate), float64(h.batch), time.Now)
	b, err := os.ReadFile(filepath.Join(h.dir, progressFile))
	switch {
	case err == nil:
		var es []progressEntry
		if err := json.Unmarshal(b, &es); err != nil {
			h.log.Warn("handoff progress unreadable; starting over", "err", err)
		}
		for _, e := range es {
			p := e.progress
			h.prog[e.task] = &p
		}
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("node: read handoff progress: %w", err)
	}
	if len(h.prog) > 0 {
		done := 0
		for _, p := range h.prog {
			if p.Done {
				done++
			}
		}
		h.log.Info("handoff progress loaded", "tasks", len(h.prog), "done", done)
	}
	h.leaving = n.cluster.Leaving()
	return h, nil
}

func (h *handoffs) wake() {
	select {
	case h.poke <- struct{}{}:
	default:
	}
}

// save persists the progress (the caller holds mu).
func (h *handoffs) saveLocked() error {
	es := make([]progressEntry, 0, len(h.prog))
	for t, p := range h.prog {
		es = append(es, progressEntry{t, *p})
	}
	slices.SortFunc(es, func(a, b progressEntry) int {
		if a.P != b.P {
			return a.P - b.P
		}
		return strings.Compare(string(a.To), string(b.To))
	})
	b, err := json.Marshal(es)
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(h.dir, progressFile), b)
}

// writeFileAtomic writes b to path through a synced temporary file.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	return err
}

// sender returns the node that streams moving partition p: the first node
// of its old set that is alive.
func (h *handoffs) sender(st *ring.State, p int) ring.NodeID {
	old, _ := st.Moving(p)
	for _, id := range old {
		if h.n.cluster.alive(string(id)) {
			return id
		}
	}
	return ""
}

// tasks returns what this node must stream in st.
func (h *handoffs) tasks(st *ring.State) []task {
	var ts []task
	self := h.n.cluster.self
	for _, p := range st.MovingPartitions() {
		if h.sender(st, p) != self {
			continue
		}
		for _, to := range st.Incoming(p) {
			ts = append(ts, task{p, to})
		}
	}
	return ts
}

// loop runs the handoff until ctx ends.
func (h *handoffs) loop(ctx context.Context) {
	t := time.NewTicker(handoffTick)
	defer t.Stop()
	var lastComplete time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-h.poke:
		}
		st := h.n.cluster.current()
		if st == nil {
			continue
		}
		h.drop(st)
		h.leave(st)
		ts := h.tasks(st)
		h.prune(st)
		for _, tk := range ts {
			if ctx.Err() != nil {
				return
			}
			if h.isDone(st, tk) || !h.n.cluster.alive(string(tk.To)) {
				continue
			}
			if err := h.stream(ctx, tk); err != nil {
				h.log.Debug("handoff interrupted; will resume", "partition", tk.P, "to", tk.To, "err", err)
				continue
			}
			if time.Since(lastComplete) > completeEvery {
				// Confirm as we go, so that a long handoff frees the
				// old replicas' copies progressively.
				h.complete()
				lastComplete = time.Now()
			}
		}
		h.complete()
		lastComplete = time.Now()
	}
}

func (h *handoffs) isDone(st *ring.State, tk task) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.prog[tk]
	return p != nil && p.Done && p.Old == oldKey(st, tk.P)
}

// prune forgets the progress of moves that are over: the partition moves
// with another old set or without this receiver, or it was finished and
// confirmed more than keepDone ago. A partition that moves again later
// thus starts over.
func (h *handoffs) prune(st *ring.State) {
	h.mu.Lock()
	defer h.mu.Unlock()
	changed := false
	now := time.Now().UnixMilli()
	for tk, pg := range h.prog {
		_, moving := st.Moving(tk.P)
		stale := !moving && (!pg.Done || now-pg.DoneAt > keepDone.Milliseconds()) ||
			moving && (pg.Old != oldKey(st, tk.P) || !slices.Contains(st.Incoming(tk.P), tk.To))
		if stale {
			delete(h.prog, tk)
			changed = true
		}
	}
	if changed {
		if err := h.saveLocked(); err != nil {
			h.log.Warn("cannot save handoff progress", "err", err)
		}
	}
}

// valid reports whether tk is still this node's to stream.
func (h *handoffs) valid(tk task) bool {
	st := h.n.cluster.current()
	return st != nil && h.sender(st, tk.P) == h.n.cluster.self && slices.Contains(st.Incoming(tk.P), tk.To)
}

// stream sends partition tk.P to tk.To from the saved cursor to the end,
// batch by batch, saving the cursor after each acknowledged batch.
func (h *handoffs) stream(ctx context.Context, tk task) error {
	peer := h.n.cluster.peer(string(tk.To))
	if peer == nil {
		return fmt.Errorf("node: no route to %s", tk.To)
	}
	st := h.n.cluster.current()
	from, to := ring.SlotRange(tk.P, st.Partitions())
	h.mu.Lock()
	pg := h.prog[tk]
	if old := oldKey(st, tk.P); pg == nil || pg.Old != old {
		pg = &progress{Old: old}
		h.prog[tk] = pg
	}
	cur := replica.Cursor(pg.Cursor)
	h.active = &tk
	resumed := pg.Keys
	h.mu.Unlock()
	if resumed > 0 {
		h.log.Info("handoff resumed", "partition", tk.P, "to", tk.To, "keys_sent_before", resumed)
	}
	defer func() {
		h.mu.Lock()
		h.active = nil
		h.mu.Unlock()
	}()
	start := time.Now()
	for {
		if !h.valid(tk) {
			return fmt.Errorf("node: handoff of %d to %s no longer needed", tk.P, tk.To)
		}
		next, entries, err := h.n.store.ScanRange(ctx, from, to, cur, h.batch)
		if err != nil {
			return err
		}
		if err := h.limit.wait(ctx, len(entries)); err != nil {
			return err
		}
		var size int64
		for _, e := range entries {
			size += int64(len(e.Key) + len(e.Object.Encode()))
		}
		if len(entries) > 0 {
			cctx, cancel := context.WithTimeout(ctx, h.n.cfg.Timeout+time.Duration(len(entries))*time.Millisecond)
			err = peer.MergeMany(cctx, entries)
			cancel()
			if err != nil {
				return err
			}
		}
		h.mu.Lock()
		pg.Cursor = uint64(next)
		pg.Keys += int64(len(entries))
		pg.Bytes += size
		pg.Done = next == 0
		h.sent += int64(len(entries))
		h.bytes += size
		if pg.Done {
			pg.DoneAt = time.Now().UnixMilli()
			h.done++
		}
		err = h.saveLocked()
		keys, bytes := pg.Keys, pg.Bytes
		h.mu.Unlock()
		if err != nil {
			return fmt.Errorf("node: save handoff progress: %w", err)
		}
		if next == 0 {
			h.log.Info("handoff partition done", "partition", tk.P, "to", tk.To, "keys", keys, "bytes", bytes,
				"took", time.Since(start).Round(time.Millisecond))
			return nil
		}
		cur = next
	}
}

// complete confirms, in one ring change, every moving partition whose
// incoming replicas all have it from this node.
func (h *handoffs) complete() {
	st := h.n.cluster.current()
	if st == nil {
		return
	}
	self := h.n.cluster.self
	var done []ring.Handoff
	h.mu.Lock()
	for _, p := range st.MovingPartitions() {
		if h.sender(st, p) != self {
			continue
		}
		in := st.Incoming(p)
		all := true
		old := oldKey(st, p)
		for _, to := range in {
			if pg := h.prog[task{p, to}]; pg == nil || !pg.Done || pg.Old != old {
				all = false
				break
			}
		}
		if all {
			done = append(done, ring.Handoff{Partition: p, To: in})
		}
	}
	h.mu.Unlock()
	if len(done) == 0 {
		return
	}
	next, k, err := st.Complete(done)
	if err != nil || k == 0 {
		return
	}
	if err := h.n.cluster.change(next); err != nil {
		h.log.Warn("cannot confirm handoffs", "err", err)
		return
	}
	h.log.Info("handoffs confirmed", "partitions", k, "still_moving", len(next.MovingPartitions()))
}

// dropEvery is how often drop looks again at an unchanged ring (a late
// handoff batch may have brought back keys of a dropped partition).
const dropEvery = 30 * time.Second

// drop deletes this node's copy of every partition it no longer holds,
// on every ring version and every dropEvery.
func (h *handoffs) drop(st *ring.State) {
	h.mu.Lock()
	if h.lastDrop == st.Version() && time.Since(h.dropAt) < dropEvery {
		h.mu.Unlock()
		return
	}
	h.lastDrop, h.dropAt = st.Version(), time.Now()
	h.mu.Unlock()
	self := h.n.cluster.self
	for p := range st.Partitions() {
		if st.Holds(self, p) {
			continue
		}
		from, to := ring.SlotRange(p, st.Partitions())
		if has, err := h.n.store.HasSlots(from, to); err != nil || !has {
			continue
		}
		k, err := h.n.store.DropSlots(from, to)
		if err != nil {
			h.log.Warn("cannot drop a partition handed off", "partition", p, "err", err)
			continue
		}
		h.mu.Lock()
		h.dropped += int64(k)
		h.mu.Unlock()
		h.log.Info("dropped partition handed off", "partition", p, "keys", k)
	}
}

// startLeave persists the intent to leave and announces it in gossip
// (cluster.MarkLeaving).
func (h *handoffs) startLeave() error {
	if err := h.n.cluster.MarkLeaving(); err != nil {
		return err
	}
	h.mu.Lock()
	h.leaving = true
	h.mu.Unlock()
	h.wake()
	return nil
}

// leave drives a leave: mark this node leaving in the ring, and remove it
// once it is in no moving partition's old set.
func (h *handoffs) leave(st *ring.State) {
	h.mu.Lock()
	leaving := h.leaving
	h.mu.Unlock()
	if !leaving {
		return
	}
	self := h.n.cluster.self
	m, ok := st.Member(self)
	if !ok {
		return // left
	}
	var next *ring.State
	var err error
	switch {
	case m.Status == ring.StatusJoined:
		next, _, err = st.Leave(self)
	case !st.Involved(self):
		next, err = st.Remove(self)
	default:
		return
	}
	if err != nil {
		h.log.Warn("cannot leave", "err", err)
		return
	}
	if err := h.n.cluster.change(next); err != nil {
		h.log.Warn("cannot leave", "err", err)
		return
	}
	if m.Status == ring.StatusJoined {
		h.log.Info("leaving the ring: handing partitions off", "moving", len(next.MovingPartitions()))
	} else {
		h.log.Info("left the ring; the process can be stopped")
	}
}

// handoffStatus is this node's part in handoffs, for INFO.
type handoffStatus struct {
	moving, left      int // partitions moving in the ring; tasks of ours not done
	keys, bytes, done int64
	dropped           int64
	rate              float64 // keys per second over the last ten seconds
	eta               float64 // seconds, -1 if unknown
	active, leave     string
}

func (h *handoffs) status() handoffStatus {
	st := h.n.cluster.current()
	s := handoffStatus{leave: "no"}
	if st == nil {
		return s
	}
	s.moving = len(st.MovingPartitions())
	ts := h.tasks(st)
	now := time.Now()
	h.mu.Lock()
	defer h.mu.Unlock()
	var sentLeft int64 // keys already sent of the tasks not done
	for _, tk := range ts {
		if pg := h.prog[tk]; pg == nil || !pg.Done || pg.Old != oldKey(st, tk.P) {
			s.left++
			if pg != nil {
				sentLeft += pg.Keys
			}
		}
	}
	s.keys, s.bytes, s.done, s.dropped = h.sent, h.bytes, h.done, h.dropped
	if h.active != nil {
		s.active = strconv.Itoa(h.active.P) + ">" + string(h.active.To)
	}
	h.window = append(h.window, sample{now, h.sent})
	for len(h.window) > 2 && now.Sub(h.window[0].at) > 10*time.Second {
		h.window = h.window[1:]
	}
	if w := h.window; len(w) > 1 {
		if d := w[len(w)-1].at.Sub(w[0].at).Seconds(); d > 0 {
			s.rate = float64(w[len(w)-1].keys-w[0].keys) / d
		}
	}
	// Estimate: the tasks left are as big as the ones done so far.
	s.eta = -1
	switch {
	case s.left == 0:
		s.eta = 0
	case s.done > 0 && s.rate > 0:
		s.eta = max(0, float64(s.keys/s.done*int64(s.left)-sentLeft)/s.rate)
	}
	m, ok := st.Member(h.n.cluster.self)
	switch {
	case !ok && h.leaving:
		s.leave = "left"
	case ok && m.Status == ring.StatusLeaving:
		s.leave = "leaving"
	case h.leaving:
		s.leave = "requested"
	}
	return s
}

// info is INFO's handoff section: handoff_partitions_moving is ring-wide;
// the other counters are this node's, as a sender, since it started.
func (h *handoffs) info() resp.InfoSection {
	return resp.InfoSection{Name: "handoff", Default: true, Fields: func() []resp.InfoField {
		s := h.status()
		eta := "unknown"
		if s.eta >= 0 {
			eta = strconv.FormatFloat(s.eta, 'f', 1, 64)
		}
		return []resp.InfoField{
			{Name: "handoff_partitions_moving", Value: strconv.Itoa(s.moving)},
			{Name: "handoff_partitions_to_send", Value: strconv.Itoa(s.left)},
			{Name: "handoff_active", Value: s.active},
			{Name: "handoff_partitions_sent", Value: strconv.FormatInt(s.done, 10)},
			{Name: "handoff_keys_sent", Value: strconv.FormatInt(s.keys, 10)},
			{Name: "handoff_bytes_sent", Value: strconv.FormatInt(s.bytes, 10)},
			{Name: "handoff_rate_keys_per_sec", Value: strconv.FormatFloat(s.rate, 'f', 0, 64)},
			{Name: "handoff_eta_seconds", Value: eta},
			{Name: "handoff_keys_dropped", Value: strconv.FormatInt(s.dropped, 10)},
			{Name: "handoff_rate_limit", Value: strconv.Itoa(h.rate)},
			{Name: "leave_status", Value: s.leave},
		}
	}}
}
