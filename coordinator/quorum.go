package coordinator

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// readTargets returns the replicas a read of key asks: the healthy ones of
// its top N, or all of the top N when fewer than r are healthy (the
// suspected ones are then probed); and the top N.
//
// NB: Dynamo §4.6 reads from "the first N healthy nodes" of the walk.
// Here a fallback beyond the top N holds only hints, which reads cannot
// see, so an answer from it would count toward R with nothing in it and
// could hide the last acknowledged write (R + W > N would no longer mean
// anything). Reads therefore count only the key's own replicas.
func (c *Coordinator) readTargets(key []byte, r int) (targets, top []string) {
	top = c.replicas(key)
	for _, id := range top {
		if c.Healthy(id) {
			targets = append(targets, id)
		}
	}
	if len(targets) < r {
		return top, top
	}
	return targets, top
}

// quorum resolves a per-request override against the default.
func (c *Coordinator) quorum(override, def int) (int, error) {
	if override == 0 {
		return def, nil
	}
	if override < 1 || override > c.cfg.N {
		return 0, fmt.Errorf("%w: %d not in 1..%d", ErrQuorumRange, override, c.cfg.N)
	}
	return override, nil
}

// replica returns the Replica of node id: the local store for this node.
func (c *Coordinator) replica(id string) peer.Store {
	if id == c.self {
		return c.local
	}
	if c.peers == nil {
		return nil
	}
	return c.peers(id)
}

type reply struct {
	id  string
	obj crdt.Object
	err error
}

// fanOutTo calls op on every node in ids concurrently, each reply going to
// out (which the caller sizes for every send it will make, so late replies
// never block). The calls are background work (Wait waits for them).
func (c *Coordinator) fanOutTo(ctx context.Context, out chan<- reply, ids []string, op func(ctx context.Context, r peer.Store) (crdt.Object, error)) {
	for _, id := range ids {
		r := c.replica(id)
		if r == nil {
			out <- reply{id: id, err: fmt.Errorf("coordinator: no route to %s", id)}
			continue
		}
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			o, err := op(ctx, r)
			if err == nil || !errors.Is(ctx.Err(), context.Canceled) {
				// NB: a call that failed after the caller cancelled the
				// fan-out (a read's calls left once R replicas answered)
				// says nothing of the node's health, whatever error the
				// transport made of the cancellation.
				c.ObserveCall(id, err)
			}
			out <- reply{id: id, obj: o, err: err}
		}()
	}
}

// Get reads key at quorum R: the merge of the first R replies.
// Concurrent reads of one key at the configured R share one quorum read
// that started after each of them arrived (sharedRead), so a hot key's
// readers do not each fetch and decode its whole object from the other
// replicas.
func (c *Coordinator) Get(ctx context.Context, key []byte, opt ReadOptions) (crdt.Object, error) {
	if opt.Replier != nil {
		*opt.Replier = c.self
	}
	if opt.Local {
		return c.local.Get(ctx, key)
	}
	r, err := c.quorum(opt.R, c.cfg.R)
	if err != nil {
		return crdt.Object{}, err
	}
	ids, top := c.readTargets(key, r)
	if len(ids) == 1 && ids[0] == c.self && r == 1 {
		return c.local.Get(ctx, key) // single-node fast path
	}
	if opt.R == 0 && !opt.mergesSelf {
		// NB: concurrent reads of one key at the configured quorum share
		// one quorum read (sharedRead), as ReadFirst writes do.
		o, replier, err := c.sharedRead(ctx, flightGet, key, func(ctx context.Context) (crdt.Object, string, error) {
			var replier string
			o, err := c.read(ctx, key, r, ids, top, ReadOptions{Replier: &replier})
			return o, replier, err
		})
		if opt.Replier != nil && replier != "" {
			*opt.Replier = replier
		}
		return o, err
	}
	return c.read(ctx, key, r, ids, top, opt)
}

// read is Get's quorum read of key from ids (of the key's top N replicas,
// top) at quorum r.
func (c *Coordinator) read(ctx context.Context, key []byte, r int, ids, top []string, opt ReadOptions) (crdt.Object, error) {
	skipped := slices.DeleteFunc(slices.Clone(top), func(id string) bool { return slices.Contains(ids, id) })
	// NB: the fan-out outlives the request: replies after the R-th feed
	// read repair, so it runs on a context detached from the caller's.
	fanCtx, cancelFan := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	op := func(ctx context.Context, rep peer.Store) (crdt.Object, error) { return rep.Get(ctx, key) }
	replies := make(chan reply, len(top))
	// NB: the local replica is read here, after the other replicas were
	// asked and while they answer: no goroutine of its own, and its reply
	// is the first one counted.
	remote := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == c.self })
	c.fanOutTo(fanCtx, replies, remote, op)
	if len(remote) < len(ids) {
		o, err := c.local.Get(fanCtx, key)
		replies <- reply{id: c.self, obj: o, err: err}
	}
	sent := len(ids)
	// While a replica of the key is unhealthy (or
	// fails this read), an acknowledged write may live only on the
	// replicas not asked and as hints on fallbacks (Dynamo §4.6); the
	// fallbacks' hints for the key are read too and merged in, outside R.
	var hintIDs []string
	var hints chan reply // made by the first askHints
	askHints := func() {
		if hints == nil {
			hints = make(chan reply, c.cfg.N)
			hintIDs = c.hintSources(key)
			c.askHints(fanCtx, hints, hintIDs, key)
		}
	}
	if slices.ContainsFunc(top, func(id string) bool { return !c.Healthy(id) }) {
		askHints()
	}
	waitCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var merged crdt.Object
	// NB: room for every replica's reply and the hints' merge, which
	// readRepair appends too.
	answered := make([]reply, 0, len(top)+1)
	failed := 0
	var lastErr error
wait:
	for {
		t := Tally{Need: r, Sent: sent, Acked: len(answered), Failed: failed, Reserve: len(skipped)}
		switch t.Result() {
		case Won, Lost:
			break wait
		case NeedReserve:
			// The replicas asked cannot make R: ask the suspected ones too.
			c.fanOutTo(fanCtx, replies, skipped, op)
			sent += len(skipped)
			skipped = nil
			continue
		}
		select {
		case rp := <-replies:
			if rp.err != nil {
				failed++
				lastErr = rp.err
				askHints()
				continue
			}
			merged = crdt.Merge(merged, rp.obj)
			if len(answered) == 0 && opt.Replier != nil {
				*opt.Replier = rp.id
			}
			answered = append(answered, rp)
		case <-waitCtx.Done():
			lastErr = waitCtx.Err()
			break wait
		}
	}
	due := sent - len(answered) - failed
	if len(answered) >= r && len(hintIDs) > 0 {
		// The hints count toward nothing, but the read waits for them (up
		// to its timeout) and read repair writes them to the replicas.
		if h := collectHints(waitCtx, hints, len(hintIDs)); !h.IsZero() {
			merged = crdt.Merge(merged, h)
			answered = append(answered, reply{obj: h}) // no id: not repaired itself
		}
	}
	if !opt.mergesSelf && c.repairs.add(string(key)) {
		c.bg.Add(1)
		go c.readRepair(fanCtx, cancelFan, key, replies, due, answered, top)
	} else {
		// NB: a ReadFirst write's read repairs nothing: its caller merges
		// it into the local replica, and the write's delta goes to the
		// other replicas, which on a hot key are only a few deltas behind
		// (a repair would ship them the whole object on every write).
		// Nor does a read while a repair of the key is under way: the
		// next read's replies are written back.
		cancelFan()
	}
	if len(answered) < r {
		if errors.Is(lastErr, context.DeadlineExceeded) {
			c.stats.ReadTimeouts.Add(1)
		} else {
			c.stats.ReadsLost.Add(1)
		}
		return crdt.Object{}, noQuorum("read", len(answered), r, len(top), lastErr)
	}
	c.stats.ReadsOK.Add(1)
	return merged, nil
}

// readRepair collects the replies still due after a read, then writes the
// merge of every reply back to each replica of top that answered with
// less (Dynamo §4.7): a replica that missed a write is brought up to date
// by reading the key. Replicas that did not answer are left to hinted
// handoff and anti-entropy. One repair of a key runs at a time (the read
// that would start a second one while it runs repairs nothing): a hot key
// read by every ReadFirst write, with its replicas a few deltas behind,
// would otherwise ship its whole object to them on every read.
func (c *Coordinator) readRepair(ctx context.Context, cancel context.CancelFunc, key []byte, replies <-chan reply, due int, answered []reply, top []string) {
	defer c.bg.Done()
	defer c.repairs.remove(string(key))
	defer cancel()
	for ; due > 0; due-- {
		select {
		case rp := <-replies:
			if rp.err == nil {
				answered = append(answered, rp)
			}
		case <-ctx.Done():
			due = 0
		}
	}
	var final crdt.Object
	for _, rp := range answered {
		final = crdt.Merge(final, rp.obj)
	}
	for _, rp := range answered {
		// Only the key's own replicas are repaired: a fallback that
		// answered holds no copy of the key and must not get one.
		if crdt.Equal(rp.obj, final) || !slices.Contains(top, rp.id) {
			continue
		}
		rep := c.replica(rp.id)
		if rep == nil {
			continue
		}
		rctx, rcancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
		if err := rep.Merge(rctx, key, final); err == nil {
			c.stats.ReadRepairs.Add(1)
		}
		rcancel()
	}
}

func noQuorum(op string, ok, need, n int, cause error) error {
	return fmt.Errorf("%w: %s: %d of %d replicas answered, %d needed (last error: %v)", ErrNoQuorum, op, ok, n, need, cause)
}

// Update writes key as its coordinator: the local replica runs the
// mutator fn on its object with a fresh dot of this node (replica.Store
// Update) and merges the delta it returns, then the delta alone (not the
// whole object: an SADD to a large set ships one member) is sent to the
// other healthy replicas, or as hints to fallbacks for the unhealthy ones
// (Dynamo §4.6), each merging it with crdt.Merge; Update returns once W
// replicas (the local one included) have stored it. It returns the local
// replica's objects before and after the write. A mutator returning the
// zero delta writes nothing and returns (prev, prev). An error from fn
// aborts the write with nothing stored and is returned unchanged.
//
// The key's lock (locks.go) is held from before the read of ReadFirst
// until the local replica has applied the mutator, not while the write
// waits for W: writes of one key coordinated here decide one after the
// other, and none runs inside a Unit holding the key (an Update with the
// Unit's context is the Unit's own and does not lock again).
//
// Deltas may reach a replica in any order or more than once: a replica
// that missed an earlier one keeps the later delta's dots in its context's
// cloud until the missing one arrives (by hint, read repair or
// anti-entropy), and converges then (crdt's invariants).
func (c *Coordinator) Update(ctx context.Context, key []byte, opt WriteOptions, fn crdt.Mutator) (prev, next crdt.Object, err error) {
	w, err := c.quorum(opt.W, c.cfg.W)
	if err != nil {
		return prev, next, err
	}
	prefs := c.place.Preference(key)
	ids := c.topN(prefs)
	if !slices.Contains(ids, c.self) {
		return prev, next, fmt.Errorf("%w: %q", ErrNotReplica, key)
	}
	prev, next, delta, wait, err := c.apply(ctx, key, opt.ReadFirst && len(ids) > 1, fn)
	if err != nil {
		return prev, next, err
	}
	if delta.IsZero() || len(ids) == 1 {
		if err := wait(); err != nil {
			return prev, prev, err
		}
		if !delta.IsZero() {
			c.sendIncoming(ctx, key, ids, delta)
		}
		return prev, next, nil
	}
	// NB: from here the local replica's sync runs while the delta travels
	// to the other replicas (Dynamo §4.5's W counts durable copies, the
	// local one among them; it is one of the replies awaited below): a
	// write pays one fsync's latency, not the local one's and then a
	// remote one's. Every path from here calls wait, or leaves it to the
	// goroutine that does (the store cannot close before it is called).
	c.sendIncoming(ctx, key, ids, delta)
	dests, reserve, localHints := c.writeDests(prefs, ids, w)
	for _, target := range append(slices.Clone(localHints), reserve...) {
		// No healthy fallback: this replica keeps the hint for the dead one.
		if err := c.local.PutHint(ctx, target, key, delta); err != nil {
			_ = wait()
			return prev, next, err
		}
	}
	// NB: the sends to the other replicas outlive this call: Update returns
	// after W acknowledgements, and the remaining replicas must still get
	// the write. So they run on a context detached from the request's
	// cancellation, bounded only by the timeout. A send that fails leaves a
	// hint here, so the replica gets the write once it is back.
	sendCtx, cancelSends := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	others := make([]string, len(dests))
	for i, d := range dests {
		others[i] = d.node
	}
	hintFor := func(node string) string {
		for _, d := range dests {
			if d.node == node {
				return d.hintFor
			}
		}
		return ""
	}
	op := func(ctx context.Context, rep peer.Store) (crdt.Object, error) {
		target := hintFor(rep.ID())
		var err error
		if target == "" {
			err = rep.Merge(ctx, key, delta)
			target = rep.ID()
		} else {
			err = rep.PutHint(ctx, target, key, delta)
		}
		if err != nil {
			if herr := c.local.PutHint(context.WithoutCancel(ctx), target, key, delta); herr != nil {
				err = fmt.Errorf("%w (and no local hint: %v)", err, herr)
			}
		}
		return crdt.Object{}, err
	}
	replies := make(chan reply, 1+len(dests)+len(reserve))
	c.fanOutTo(sendCtx, replies, others, op)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		replies <- reply{id: c.self, err: wait()}
	}()
	sent := 1 + len(others) // the local replica's sync and the sends
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	acks, failed := 0, 0
	defer func() {
		// Let the sends still in flight finish in the background.
		left := sent - acks - failed
		c.bg.Add(1)
		go func() {
			defer c.bg.Done()
			for ; left > 0; left-- {
				<-replies
			}
			cancelSends()
		}()
	}()
	var lastErr error
	for {
		t := Tally{Need: w, Sent: sent, Acked: acks, Failed: failed, Reserve: len(reserve)}
		switch t.Result() {
		case Won:
			c.stats.WritesOK.Add(1)
			return prev, next, nil
		case Lost:
			c.stats.WritesLost.Add(1)
			return prev, next, noQuorum("write", acks, w, len(ids), lastErr)
		case NeedReserve:
			// The sends under way cannot make W: try the replicas we
			// suspected too (their hints stay here until delivered).
			c.fanOutTo(sendCtx, replies, reserve, op)
			sent += len(reserve)
			reserve = nil
			continue
		}
		select {
		case rp := <-replies:
			if rp.err != nil {
				failed++
				lastErr = rp.err
				continue
			}
			acks++
		case <-ctx.Done():
			lastErr = ctx.Err()
			if errors.Is(lastErr, context.DeadlineExceeded) {
				c.stats.WriteTimeouts.Add(1)
			} else {
				c.stats.WritesLost.Add(1)
			}
			return prev, next, noQuorum("write", acks, w, len(ids), lastErr)
		}
	}
}

// apply is the part of a write that holds the key's lock (lockKey,
// shared with the other writes of the key): the read at quorum R merged
// into the local replica (readFirst, shared with concurrent writes of the
// key: readInto), then the mutator run on the local replica, up to the
// write being visible there. The local replica's sync (wait, to be called
// once when err is nil) and the wait for W acknowledgements come after,
// without the lock.
func (c *Coordinator) apply(ctx context.Context, key []byte, readFirst bool, fn crdt.Mutator) (prev, next, delta crdt.Object, wait func() error, err error) {
	release, err := c.lockKey(ctx, key)
	if err != nil {
		return prev, next, delta, nil, err
	}
	defer release()
	if readFirst {
		if err := c.readInto(ctx, key); err != nil {
			return prev, next, delta, nil, err
		}
	}
	return c.local.UpdateAsync(ctx, key, fn)
}

// readInto reads key at quorum R and merges the result into the local
// replica (readMerge), sharing the work with concurrent ReadFirst writes
// of the key (sharedRead): a hot key costs one quorum read of its whole
// object per round of writes, not one per write.
func (c *Coordinator) readInto(ctx context.Context, key []byte) error {
	_, _, err := c.sharedRead(ctx, flightReadFirst, key, func(ctx context.Context) (crdt.Object, string, error) {
		return crdt.Object{}, "", c.readMerge(ctx, key)
	})
	return err
}

// Kinds of shared reads (sharedRead): a plain Get, and a ReadFirst
// write's read merged into the local replica.
const (
	flightGet byte = iota
	flightReadFirst
)

// readFlights are the shared reads in progress, per kind and key
// (sharedRead).
type readFlights struct {
	mu sync.Mutex
	m  map[string]*keyFlights
}

// keyFlights is one key's shared reads of one kind: the one running, and
// the next one, which the callers that arrive meanwhile wait for.
type keyFlights struct {
	running, next *readFlight
}

// readFlight is one shared read and its outcome.
type readFlight struct {
	done    chan struct{} // closed when the outcome is set
	obj     crdt.Object
	replier string
	err     error
}

// sharedRead runs read for the caller, sharing it with the concurrent
// callers of the same kind on key: a caller joins the next read to start,
// which starts when the running one (if any) ends, so every caller's read
// starts after the caller arrived (it sees every write acknowledged
// before) and a hot key costs one quorum read per round, not one per
// caller. The reads run in the background under the coordinator's
// Timeout; the caller's wait ends with ctx.
func (c *Coordinator) sharedRead(ctx context.Context, kind byte, key []byte, read func(ctx context.Context) (crdt.Object, string, error)) (crdt.Object, string, error) {
	k := string(append([]byte{kind}, key...))
	c.flights.mu.Lock()
	if c.flights.m == nil {
		c.flights.m = make(map[string]*keyFlights)
	}
	kf := c.flights.m[k]
	if kf == nil {
		kf = &keyFlights{}
		c.flights.m[k] = kf
	}
	var f *readFlight
	if kf.running == nil {
		f = &readFlight{done: make(chan struct{})}
		kf.running = f
		c.bg.Add(1)
		go c.runReads(context.WithoutCancel(ctx), k, kf, f, read)
	} else {
		if kf.next == nil {
			kf.next = &readFlight{done: make(chan struct{})}
		}
		f = kf.next
	}
	c.flights.mu.Unlock()
	select {
	case <-f.done:
		return f.obj, f.replier, f.err
	case <-ctx.Done():
		return crdt.Object{}, "", ctx.Err()
	}
}

// runReads runs f, then the reads queued behind it, until none is.
func (c *Coordinator) runReads(ctx context.Context, k string, kf *keyFlights, f *readFlight, read func(ctx context.Context) (crdt.Object, string, error)) {
	defer c.bg.Done()
	for f != nil {
		rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
		f.obj, f.replier, f.err = read(rctx)
		cancel()
		c.flights.mu.Lock()
		close(f.done)
		f, kf.next = kf.next, nil
		kf.running = f
		if f == nil {
			delete(c.flights.m, k)
		}
		c.flights.mu.Unlock()
	}
}

// readMerge reads key at quorum R and merges what it read into the local replica; the read makes no read
// repair (see Get).
func (c *Coordinator) readMerge(ctx context.Context, key []byte) error {
	cur, err := c.Get(ctx, key, ReadOptions{mergesSelf: true})
	if err != nil || cur.IsZero() {
		return err
	}
	return c.local.Merge(ctx, key, cur)
}

// Receivers is a Placement that also names, for a key whose partition is
// being handed off to new replicas, those replicas (ring.State.Incoming):
// they get every write besides the key's replicas, so that no write made
// during the handoff is missing when they take over.
type Receivers interface {
	Incoming(key []byte) []string
}

// sendIncoming sends a write to the key's incoming replicas (see
// Receivers) other than those in ids, in the background: they do not count
// toward W, and one that cannot be reached gets a hint kept here.
func (c *Coordinator) sendIncoming(ctx context.Context, key []byte, ids []string, obj crdt.Object) {
	rc, ok := c.place.(Receivers)
	if !ok {
		return
	}
	for _, id := range rc.Incoming(key) {
		if id == c.self || slices.Contains(ids, id) {
			continue
		}
		c.sendIncomingTo(ctx, id, key, obj)
	}
}

// sendIncomingTo is sendIncoming's send to one incoming replica, id.
//
// NB: apart from sendIncoming so that obj, which the goroutine captures,
// is moved to the heap only when a partition is moving, not on every
// write.
func (c *Coordinator) sendIncomingTo(ctx context.Context, id string, key []byte, obj crdt.Object) {
	rep := c.replica(id)
	c.bg.Add(1)
	go func() {
		defer c.bg.Done()
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
		defer cancel()
		if rep != nil && c.Healthy(id) {
			if err := rep.Merge(sctx, key, obj); err == nil {
				return
			}
		}
		// NB: should even the hint fail, the new replica misses this
		// write unless the handoff stream has yet to pass the key;
		// read repair brings it once the replica serves reads.
		_ = c.local.PutHint(sctx, id, key, obj)
	}()
}

// dest is where one copy of a write goes: a replica itself (hintFor
// empty), or a fallback that keeps a hint for replica hintFor.
type dest struct{ node, hintFor string }

// writeDests chooses, from a key's preference list prefs (whose top N
// is top), where the
// coordinator sends a write besides its own store (Dynamo's sloppy quorum):
// each healthy replica of the top N, and for each unhealthy one the next
// healthy node beyond the top N, which keeps a hint for it. Of the unhealthy replicas with no fallback left,
// those gossip calls alive but this coordinator suspects are in reserve
// (probed only if the write cannot reach W without them), and the rest in
// localHints; the coordinator keeps hints for both.
func (c *Coordinator) writeDests(prefs, top []string, w int) (dests []dest, reserve, localHints []string) {
	next := len(top)
	var suspected []string
	for _, id := range top {
		if id == c.self {
			continue
		}
		if c.Healthy(id) {
			dests = append(dests, dest{node: id})
			continue
		}
		for next < len(prefs) && !c.Healthy(prefs[next]) {
			next++
		}
		if next < len(prefs) {
			dests = append(dests, dest{node: prefs[next], hintFor: id})
			next++
			continue
		}
		if c.gossipAlive(id) {
			suspected = append(suspected, id)
			continue
		}
		localHints = append(localHints, id)
	}
	// Probe at once as many suspected replicas as W needs; keep the others
	// in reserve.
	for _, id := range suspected {
		if 1+len(dests) < w {
			dests = append(dests, dest{node: id})
		} else {
			reserve = append(reserve, id)
		}
	}
	return dests, reserve, localHints
}

// keySet is a set of keys safe for concurrent use.
type keySet struct {
	mu sync.Mutex
	m  map[string]struct{}
}

// add adds key and reports whether it was absent.
func (s *keySet) add(key string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[key]; ok {
		return false
	}
	if s.m == nil {
		s.m = make(map[string]struct{})
	}
	s.m[key] = struct{}{}
	return true
}

// remove removes key.
func (s *keySet) remove(key string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
}
