package replica

import (
	"fmt"
	"math"
	"sync"

	"github.com/cespare/xxhash/v2"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Write combining (group commit per key): Update, MergeObject and
// MergeMany do not each take the key's lock and write the whole object;
// they queue their operation on the key's queue, and the writer at the
// head of the queue (the leader) takes the key's lock and applies every
// queued operation it may take in one batch (maxBatchOps, maxBatchBytes):
// the object is read once, each operation applied in arrival order to the
// state the previous one produced, and the result encoded, written,
// observed and synced once. Each caller then gets its own result and
// waits for the batch's durability; the leader hands the queue to the
// next waiting writer before it does, so the next batch is built while
// this one is synced.

// maxBatchOps bounds the operations of one batch: a batch of Updates
// keeps each one's resulting object alive until its caller returns.
const maxBatchOps = 256

// maxBatchBytes bounds the estimated bytes of the objects a batch's
// Updates produce, each kept alive until its caller returns: an Update
// is charged batchObjectCost of the key's stored size plus
// batchOpOverhead (a merge, whose consecutive runs share one result, the
// overhead only). 64 MiB is some 25 Updates of a 40,000-element list.
const maxBatchBytes = 64 << 20

// batchObjectCost estimates the heap a new version of an object stored in
// n bytes adds: crdt.Merge copies the object's element slices (a list
// item or set member header is some 3 to 4 times its encoded bytes) and
// shares the elements themselves.
func batchObjectCost(n int) int { return 4 * n }

// batchOpOverhead is what one queued operation is charged besides the
// object it produces.
const batchOpOverhead = 1 << 10

// writeOp is one caller's write queued on its key (submit).
//
// NB: one field holds a merge's object (its input) and an Update's delta
// (its result): an operation has only one of them, and a writeOp is
// allocated per write, so the field it saves (an Object is 248 bytes)
// brings it into a smaller size class.
type writeOp struct {
	fn crdt.Mutator // an Update's mutator; nil for a merge
	// obj is a merge's object (fn == nil), or an Update's delta, set by
	// the batch's leader (fn != nil).
	obj crdt.Object

	// Set by the batch's leader before the caller is woken.
	prev, next crdt.Object
	err        error
	panicked   any          // what fn panicked with, re-raised in the caller
	wait       func() error // the batch's durability, shared by its callers
	wake       chan bool    // true: lead the next batch; false: done (nil for a writer that led at once)
}

// keyQueue is the writes waiting on one key. While leading is set, a
// leader owns the queue: it alone takes operations from it, and hands it
// to the writer at its head when it is done (or drops the queue, empty).
type keyQueue struct {
	ops     []*writeOp
	leading bool
}

// queueStripe holds the queues of the keys of one lock stripe.
type queueStripe struct {
	mu sync.Mutex
	m  map[string]*keyQueue
}

// submit queues op on key's queue and returns once the batch holding it
// is visible (op's results set; op.wait then waits for its durability).
// The caller holds s.life shared.
func (s *Store) submit(key []byte, op *writeOp) {
	h := xxhashStripe(key)
	qs := &s.queues[h]
	qs.mu.Lock()
	if qs.m == nil {
		qs.m = make(map[string]*keyQueue)
	}
	q := qs.m[string(key)]
	if q == nil {
		q = &keyQueue{}
		qs.m[string(key)] = q
	}
	if q.leading {
		// NB: only a writer that waits needs its channel (the leader
		// wakes the writers it took and the one it hands the queue to,
		// all queued while it led).
		op.wake = make(chan bool, 1)
		q.ops = append(q.ops, op)
		qs.mu.Unlock()
		if lead := <-op.wake; !lead {
			return
		}
	} else {
		q.ops = append(q.ops, op)
		q.leading = true
		qs.mu.Unlock()
	}
	s.lead(key, &s.locks[h], qs, q)
}

// lead applies one batch from the head of q (the leader's own op first)
// under the key's lock, then hands the queue on and wakes the batch's
// other writers.
func (s *Store) lead(key []byte, mu *sync.Mutex, qs *queueStripe, q *keyQueue) {
	dk := dataKey(key)
	mu.Lock()
	cur, raw, err := s.get(dk)
	qs.mu.Lock()
	n := min(len(q.ops), max(1, maxBatchBytes/(batchObjectCost(len(raw))+batchOpOverhead)), maxBatchOps)
	batch := q.ops[:n:n]
	if n == len(q.ops) {
		q.ops = nil
	} else {
		q.ops = append([]*writeOp(nil), q.ops[n:]...)
	}
	qs.mu.Unlock()
	if err != nil {
		for _, op := range batch {
			op.prev, op.next, op.err = cur, cur, err
		}
	} else {
		s.applyBatch(dk, raw, cur, batch)
	}
	mu.Unlock()
	qs.mu.Lock()
	if len(q.ops) > 0 {
		q.ops[0].wake <- true
	} else {
		q.leading = false
		delete(qs.m, string(key))
	}
	qs.mu.Unlock()
	for _, op := range batch[1:] {
		op.wake <- false
	}
}

// applyBatch applies batch's operations, in order, to orig (stored at dk
// as raw), stores the result once and sets each operation's results. The
// caller holds the key's lock.
func (s *Store) applyBatch(dk, raw []byte, orig crdt.Object, batch []*writeOp) {
	cur := orig
	for i := 0; i < len(batch); {
		if batch[i].fn != nil {
			cur = s.applyUpdate(batch[i], cur)
			i++
			continue
		}
		// NB: a run of merges joins its objects first (small deltas of
		// one key, from many coordinators) and merges the join into the
		// object once: crdt.Merge is associative.
		j, obj := i+1, batch[i].obj
		for ; j < len(batch) && batch[j].fn == nil; j++ {
			obj = crdt.Merge(obj, batch[j].obj)
		}
		cur = crdt.Merge(cur, obj)
		for _, op := range batch[i:j] {
			op.prev, op.next = orig, cur
		}
		i = j
	}
	changed, wait, err := s.put(dk, raw, orig, cur)
	if err != nil {
		for _, op := range batch {
			if op.err == nil && op.panicked == nil {
				op.next, op.err = op.prev, err
				if op.fn != nil {
					op.obj = crdt.Object{}
				}
			}
		}
		return
	}
	if !changed {
		for _, op := range batch {
			op.next = op.prev
		}
	}
	if len(batch) > 1 {
		wait = shareWait(wait)
	}
	for _, op := range batch {
		op.wait = wait
	}
}

// applyUpdate runs an Update's mutator on cur with a fresh Stamp and
// returns the new state (cur itself if the operation failed or made no
// change), setting op's results.
func (s *Store) applyUpdate(op *writeOp, cur crdt.Object) crdt.Object {
	op.prev, op.next = cur, cur
	now := s.cfg.Now()
	self := s.cfg.NodeID
	floor := crdt.Top(cur, self)
	if floor == math.MaxUint64 {
		op.err = fmt.Errorf("%w: counter overflow", ErrBadContext)
		return cur
	}
	c, err := s.nextCounter(floor + 1)
	if err != nil {
		op.err = err
		return cur
	}
	st := crdt.Stamp{Dot: dvv.Dot{Actor: self, Counter: c}, Now: now.UnixMilli(), Nanos: now.UnixNano()}
	delta, err := runMutator(op, cur, st)
	if err != nil || op.panicked != nil {
		op.err = err
		return cur
	}
	if delta.IsZero() {
		return cur
	}
	top := crdt.Top(delta, self)
	if err := s.advance(top); err != nil {
		op.err = err
		return cur
	}
	if err := s.checkContext(delta.Context(), now, top); err != nil {
		op.err = err
		return cur
	}
	op.obj, op.next = delta, crdt.Merge(cur, delta)
	return op.next
}

// runMutator runs op's mutator; a panic is kept in op.panicked, for its
// caller to re-raise, rather than unwinding the leader (which may be
// another caller's goroutine).
func runMutator(op *writeOp, cur crdt.Object, st crdt.Stamp) (delta crdt.Object, err error) {
	defer func() {
		if r := recover(); r != nil {
			op.panicked = r
			delta = crdt.Object{}
		}
	}()
	return op.fn(cur, st)
}

// shareWait returns a wait that runs wait once, however many callers call
// it, and gives each the same result.
func shareWait(wait func() error) func() error {
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() { err = wait() })
		return err
	}
}

// joinByKey joins the objects of entries that share a key (crdt.Merge), in
// the order each key first appears, so that a batch holding several
// deltas of one key writes it once.
func joinByKey(entries []Entry) []Entry {
	idx := make(map[string]int, len(entries))
	out := make([]Entry, 0, len(entries))
	for _, e := range entries {
		if i, ok := idx[string(e.Key)]; ok {
			out[i].Object = crdt.Merge(out[i].Object, e.Object)
			continue
		}
		idx[string(e.Key)] = len(out)
		out = append(out, e)
	}
	if len(out) == len(entries) {
		return entries
	}
	return out
}

// xxhashStripe is key's lock stripe (and queue stripe).
func xxhashStripe(key []byte) uint64 { return xxhash.Sum64(key) % lockStripes }
