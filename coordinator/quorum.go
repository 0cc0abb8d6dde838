package coordinator

import (
	"context"
	"fmt"
	"slices"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// replicas returns the key's top-N preference list.
func (c *Coordinator) replicas(key []byte) []string {
	prefs := c.place.Preference(key)
	return prefs[:min(len(prefs), c.cfg.N)]
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
func (c *Coordinator) replica(id string) replica.Replica {
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
	obj dvv.Object
	err error
}

// fanOut calls op on every node in ids concurrently and returns a channel
// of their replies (buffered, so late replies never block).
func (c *Coordinator) fanOut(ctx context.Context, ids []string, op func(ctx context.Context, r replica.Replica) (dvv.Object, error)) <-chan reply {
	out := make(chan reply, len(ids))
	for _, id := range ids {
		r := c.replica(id)
		if r == nil {
			out <- reply{id: id, err: fmt.Errorf("coordinator: no route to %s", id)}
			continue
		}
		go func() {
			o, err := op(ctx, r)
			out <- reply{id: id, obj: o, err: err}
		}()
	}
	return out
}

// Get reads key at quorum R: the merge of the first R replies.
func (c *Coordinator) Get(ctx context.Context, key []byte, opt ReadOptions) (dvv.Object, error) {
	if opt.Local {
		return c.local.Get(ctx, key)
	}
	r, err := c.quorum(opt.R, c.cfg.R)
	if err != nil {
		return dvv.Object{}, err
	}
	ids := c.replicas(key)
	if len(ids) == 1 && ids[0] == c.self && r == 1 {
		return c.local.Get(ctx, key) // single-node fast path
	}
	// NB: the fan-out outlives the request: replies after the R-th feed
	// read repair, so it runs on a context detached from the caller's.
	fanCtx, cancelFan := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	replies := c.fanOut(fanCtx, ids, func(ctx context.Context, rep replica.Replica) (dvv.Object, error) {
		return rep.Get(ctx, key)
	})
	waitCtx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var merged dvv.Object
	var answered []reply
	failed := 0
	var lastErr error
	for len(answered) < r && len(answered)+failed < len(ids) && waitCtx.Err() == nil {
		select {
		case rp := <-replies:
			if rp.err != nil {
				failed++
				lastErr = rp.err
				continue
			}
			merged = dvv.Merge(merged, rp.obj)
			answered = append(answered, rp)
		case <-waitCtx.Done():
			lastErr = waitCtx.Err()
		}
	}
	c.bg.Add(1)
	go c.readRepair(fanCtx, cancelFan, key, replies, len(ids)-len(answered)-failed, answered)
	if len(answered) < r {
		return dvv.Object{}, noQuorum("read", len(answered), r, len(ids), lastErr)
	}
	return merged, nil
}

// readRepair collects the replies still due after a read, then writes the
// merge of every reply back to each replica that answered with less
// (Dynamo §4.7): a replica that missed a write is brought up to date by
// reading the key. Replicas that did not answer are left to hinted handoff
// and anti-entropy.
func (c *Coordinator) readRepair(ctx context.Context, cancel context.CancelFunc, key []byte, replies <-chan reply, due int, answered []reply) {
	defer c.bg.Done()
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
	var final dvv.Object
	for _, rp := range answered {
		final = dvv.Merge(final, rp.obj)
	}
	for _, rp := range answered {
		if dvv.Equal(rp.obj, final) {
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

// Update writes key as its coordinator: the local replica makes the new
// version with fn, then it is sent to the other replicas; Update returns
// once W replicas (the local one included) have stored it.
func (c *Coordinator) Update(ctx context.Context, key []byte, opt WriteOptions, fn replica.UpdateFunc) (prev, next dvv.Object, err error) {
	w, err := c.quorum(opt.W, c.cfg.W)
	if err != nil {
		return prev, next, err
	}
	ids := c.replicas(key)
	if !slices.Contains(ids, c.self) {
		return prev, next, fmt.Errorf("%w: %q", ErrNotReplica, key)
	}
	if opt.ReadFirst && len(ids) > 1 {
		cur, err := c.Get(ctx, key, ReadOptions{})
		if err != nil {
			return prev, next, err
		}
		if !cur.IsZero() {
			if err := c.local.Merge(ctx, key, cur); err != nil {
				return prev, next, err
			}
		}
	}
	prev, next, err = c.local.Update(ctx, key, fn)
	if err != nil || len(ids) == 1 {
		return prev, next, err
	}
	others := slices.DeleteFunc(slices.Clone(ids), func(id string) bool { return id == c.self })
	// NB: the sends to the other replicas outlive this call: Update returns
	// after W acknowledgements, and the remaining N−W replicas must still
	// get the write. So they run on a context detached from the request's
	// cancellation, bounded only by the timeout.
	sendCtx, cancelSends := context.WithTimeout(context.WithoutCancel(ctx), c.cfg.Timeout)
	replies := c.fanOut(sendCtx, others, func(ctx context.Context, rep replica.Replica) (dvv.Object, error) {
		return dvv.Object{}, rep.Merge(ctx, key, next)
	})
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	acks, failed := 1, 0
	defer func() {
		// Let the sends still in flight finish in the background.
		left := len(others) - (acks - 1) - failed
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
	for acks < w && acks+failed < len(ids) {
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
			return prev, next, noQuorum("write", acks, w, len(ids), lastErr)
		}
	}
	if acks < w {
		return prev, next, noQuorum("write", acks, w, len(ids), lastErr)
	}
	return prev, next, nil
}

// Single is the Placement of a one-node store: every key lives on self.
type Single string

// Preference returns the single node.
func (s Single) Preference([]byte) []string { return []string{string(s)} }
