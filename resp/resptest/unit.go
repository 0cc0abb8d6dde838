package resptest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// ErrUnitLocked reports an Update that waited too long for a key a unit
// holds: in a test, the sign of a write made inside a unit without the
// unit's context (which would wait for itself forever).
var ErrUnitLocked = errors.New("resptest: key held by a unit (inside runUnit, pass Conn.Context to the backend)")

// unitWait bounds an Update's wait for a unit's key (a deadlock guard).
const unitWait = 10 * time.Second

// units is the fake's key locks: the keys units hold, and a condition
// variable their waiters sleep on.
type units struct {
	mu   sync.Mutex
	cond *sync.Cond
	held map[string]bool
}

type unitCtxKey struct{}

// unitOf returns the keys ctx's unit holds on b, or nil.
func (b *Backend) unitOf(ctx context.Context) map[string]bool {
	u, _ := ctx.Value(unitCtxKey{}).(*unitHeld)
	if u == nil || u.b != b {
		return nil
	}
	return u.keys
}

type unitHeld struct {
	b    *Backend
	keys map[string]bool
}

// lockKeys takes the keys (sorted, each once) for a unit, or for one
// Update when deadline is not zero (then it may fail with ErrUnitLocked).
func (b *Backend) lockKeys(keys []string, deadline time.Time) error {
	u := &b.units
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.cond == nil {
		u.cond = sync.NewCond(&u.mu)
		u.held = map[string]bool{}
	}
	for {
		busy := slices.ContainsFunc(keys, func(k string) bool { return u.held[k] })
		if !busy {
			for _, k := range keys {
				u.held[k] = true
			}
			return nil
		}
		if !deadline.IsZero() && time.Now().After(deadline) {
			return fmt.Errorf("%w: %q", ErrUnitLocked, keys)
		}
		if !deadline.IsZero() {
			// NB: a Cond has no timed wait; wake up now and then to check
			// the deadline guard.
			t := time.AfterFunc(100*time.Millisecond, func() { u.mu.Lock(); u.cond.Broadcast(); u.mu.Unlock() })
			u.cond.Wait()
			t.Stop()
			continue
		}
		u.cond.Wait()
	}
}

func (b *Backend) unlockKeys(keys []string) {
	u := &b.units
	u.mu.Lock()
	for _, k := range keys {
		delete(u.held, k)
	}
	u.cond.Broadcast()
	u.mu.Unlock()
}

// Unit runs fn as a unit over keys (resp.Uniter): every Update of one of
// them with another context waits until fn returns; fn's own Updates
// (with the context it is given) do not. Keys already held by an
// enclosing unit of ctx are kept.
func (b *Backend) Unit(ctx context.Context, keys [][]byte, fn func(ctx context.Context) error) error {
	outer := b.unitOf(ctx)
	held := map[string]bool{}
	for k := range outer {
		held[k] = true
	}
	var take []string
	for _, k := range keys {
		if !held[string(k)] {
			held[string(k)] = true
			take = append(take, string(k))
		}
	}
	slices.Sort(take)
	if err := b.lockKeys(take, time.Time{}); err != nil {
		return err
	}
	defer b.unlockKeys(take)
	return fn(context.WithValue(ctx, unitCtxKey{}, &unitHeld{b: b, keys: held}))
}

// lockUpdate takes key for one Update, unless ctx's unit holds it; it
// returns the release.
func (b *Backend) lockUpdate(ctx context.Context, key []byte) (func(), error) {
	if b.unitOf(ctx)[string(key)] {
		return func() {}, nil
	}
	k := []string{string(key)}
	if err := b.lockKeys(k, time.Now().Add(unitWait)); err != nil {
		return nil, err
	}
	return func() { b.unlockKeys(k) }, nil
}
