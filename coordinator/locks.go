package coordinator

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// ErrLockWait reports that a write or a unit stopped waiting for a key's
// lock: its context ended, or (for a key a unit had not declared) the
// coordinator's Timeout passed while another unit held it.
var ErrLockWait = errors.New("coordinator: gave up waiting for a key's lock")

// lockTable holds the key locks of the writes this coordinator runs: one
// lock per key, created when a first holder or waiter needs it and
// dropped when the last one leaves (refcounted), so the table holds only
// keys in use. A lock is held shared (a write: many at once, since the
// replica decides them one after the other, combining them into one
// stored write, see replica.Store.Update) or exclusively (a unit).
// Waiters are served in arrival order: a shared waiter behind an
// exclusive one waits for it, so a unit is not starved by a stream of
// writes.
type lockTable struct {
	mu sync.Mutex
	m  map[string]*keyLock
}

// keyLock is one key's lock.
type keyLock struct {
	refs    int  // holders and waiters
	shared  int  // shared holders
	excl    bool // held exclusively
	waiting []*lockWaiter
}

// lockWaiter is one waiter of a keyLock, in arrival order.
type lockWaiter struct {
	shared  bool
	granted bool          // set (under lockTable.mu) when it holds the lock
	ch      chan struct{} // closed when granted
}

// free reports whether l can be taken now in the given mode by a waiter
// at the head of its queue.
func (l *keyLock) free(shared bool) bool {
	return !l.excl && (shared || l.shared == 0)
}

// take makes the caller a holder of l in the given mode.
func (l *keyLock) take(shared bool) {
	if shared {
		l.shared++
	} else {
		l.excl = true
	}
}

// grant hands l to the waiters at the head of its queue that can take it.
// The caller holds lockTable.mu.
func (l *keyLock) grant() {
	for len(l.waiting) > 0 && l.free(l.waiting[0].shared) {
		w := l.waiting[0]
		l.waiting = l.waiting[1:]
		l.take(w.shared)
		w.granted = true
		close(w.ch)
	}
}

// lock takes key's lock, shared or exclusive, waiting until ctx ends
// (then the error wraps ErrLockWait and ctx.Err()).
func (t *lockTable) lock(ctx context.Context, key string, shared bool) error {
	t.mu.Lock()
	if t.m == nil {
		t.m = make(map[string]*keyLock)
	}
	l := t.m[key]
	if l == nil {
		l = &keyLock{}
		t.m[key] = l
	}
	l.refs++
	if len(l.waiting) == 0 && l.free(shared) {
		l.take(shared)
		t.mu.Unlock()
		return nil
	}
	w := &lockWaiter{shared: shared, ch: make(chan struct{})}
	l.waiting = append(l.waiting, w)
	t.mu.Unlock()
	select {
	case <-w.ch:
		return nil
	case <-ctx.Done():
	}
	t.mu.Lock()
	if w.granted {
		// NB: granted as the context ended: release it as a holder.
		t.mu.Unlock()
		t.unlock(key, shared)
	} else {
		if i := slices.Index(l.waiting, w); i >= 0 {
			l.waiting = slices.Delete(l.waiting, i, i+1)
		}
		l.grant() // NB: waiters behind an exclusive one may go now
		t.dropLocked(key, l)
		t.mu.Unlock()
	}
	return fmt.Errorf("%w %q: %w", ErrLockWait, key, ctx.Err())
}

// unlock releases key's lock, which the caller holds in the given mode.
func (t *lockTable) unlock(key string, shared bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	l := t.m[key]
	if shared {
		l.shared--
	} else {
		l.excl = false
	}
	l.grant()
	t.dropLocked(key, l)
}

// dropLocked forgets one holder or waiter of l. The caller holds t.mu.
func (t *lockTable) dropLocked(key string, l *keyLock) {
	if l.refs--; l.refs == 0 {
		delete(t.m, key)
	}
}

// waiters returns how many holders and waiters key's lock has (tests).
func (t *lockTable) waiters(key string) int {
	t.mu.Lock()
	defer t.mu.Unlock()
	if l := t.m[key]; l != nil {
		return l.refs
	}
	return 0
}

// unitKey is the context key of the unit a context runs in.
type unitKey struct{}

// unit is what a unit's context carries: the coordinator whose locks it
// holds, and the keys it holds.
type unit struct {
	c    *Coordinator
	keys map[string]struct{}
}

// heldUnit returns the unit ctx runs in on c, or nil.
func (c *Coordinator) heldUnit(ctx context.Context) *unit {
	u, _ := ctx.Value(unitKey{}).(*unit)
	if u == nil || u.c != c {
		return nil
	}
	return u
}

// lockKey takes key's lock, shared, for one write and returns its
// release: a no-op when ctx's unit already holds it. Writes of one key
// hold it together (the local replica orders them); a unit holding it
// excludes them. A key outside ctx's unit waits
// at most the coordinator's Timeout (so two units that each write a key
// the other declared cannot wait for each other forever); any other
// wait lasts until ctx ends.
func (c *Coordinator) lockKey(ctx context.Context, key []byte) (release func(), err error) {
	u := c.heldUnit(ctx)
	if u != nil {
		if _, ok := u.keys[string(key)]; ok {
			return func() {}, nil
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	k := string(key)
	if err := c.locks.lock(ctx, k, true); err != nil {
		return nil, err
	}
	return func() { c.locks.unlock(k, true) }, nil
}

// Unit runs fn as one unit on this coordinator: it takes the locks of
// keys (each once, in byte order, so two units never wait for each
// other), runs fn with a context that marks them held, and releases them
// when fn returns (or panics). While a unit runs, every other write this
// coordinator runs on those keys (Update) waits, so the Gets and Updates
// fn issues with its context are isolated from them; fn's own Updates of
// held keys do not lock again. Keys must be ones this node coordinates
// (Update checks each write). Inside a unit (ctx from an enclosing Unit
// on this coordinator) the keys it already holds are skipped and the
// others are locked with a wait of at most Timeout. If a lock cannot be
// taken, fn does not run and the error wraps ErrLockWait. fn's error is
// returned unchanged.
func (c *Coordinator) Unit(ctx context.Context, keys [][]byte, fn func(ctx context.Context) error) error {
	outer := c.heldUnit(ctx)
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, bytes.Compare)
	sorted = slices.CompactFunc(sorted, bytes.Equal)
	held := make(map[string]struct{}, len(sorted))
	if outer != nil {
		for k := range outer.keys {
			held[k] = struct{}{}
		}
	}
	lockCtx := ctx
	if outer != nil {
		var cancel context.CancelFunc
		lockCtx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	var taken []string
	defer func() {
		for i := len(taken) - 1; i >= 0; i-- {
			c.locks.unlock(taken[i], false)
		}
	}()
	for _, key := range sorted {
		k := string(key)
		if _, ok := held[k]; ok {
			continue
		}
		if err := c.locks.lock(lockCtx, k, false); err != nil {
			return err
		}
		taken = append(taken, k)
		held[k] = struct{}{}
	}
	return fn(context.WithValue(ctx, unitKey{}, &unit{c: c, keys: held}))
}
