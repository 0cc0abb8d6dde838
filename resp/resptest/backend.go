// Package resptest provides an in-memory resp.Backend for tests: a map of
// versioned objects guarded by a mutex, with one actor issuing dots from a
// counter and an injectable clock, so RESP tests need neither disk nor
// network nor wall-clock time.
//
// The fake keeps the contract of the real coordinator that matters to the
// RESP layer: Update calls fn with the key's current object and the clock,
// aborts with fn's error unchanged and nothing written, fills in the dot and
// timestamp, and applies dvv.Update; R and W outside 1..N yield
// coordinator.ErrQuorumRange; contexts that cannot be extended yield
// peer.ErrBadContext. Errors can be injected with SetError.
package resptest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Clock is a manual clock in Unix milliseconds, safe for concurrent use.
type Clock struct{ ms atomic.Int64 }

// NewClock returns a clock reading ms.
func NewClock(ms int64) *Clock {
	c := &Clock{}
	c.ms.Store(ms)
	return c
}

// NowMs returns the clock's time.
func (c *Clock) NowMs() int64 { return c.ms.Load() }

// Advance moves the clock forward by ms.
func (c *Clock) Advance(ms int64) { c.ms.Add(ms) }

// Set sets the clock to ms.
func (c *Clock) Set(ms int64) { c.ms.Store(ms) }

// Backend is an in-memory resp.Backend. The zero value is not usable; build
// one with NewBackend.
type Backend struct {
	// N is the replication factor R and W are checked against (default 3).
	N int

	actor string
	now   func() int64

	mu      sync.Mutex
	objs    map[string]dvv.Object
	counter uint64
	err     error
	lastR   coordinator.ReadOptions
	lastW   coordinator.WriteOptions
	updates int
}

// NewBackend returns an empty backend whose dots belong to actor and whose
// time is read from now (Unix milliseconds).
func NewBackend(actor string, now func() int64) *Backend {
	return &Backend{N: 3, actor: actor, now: now, objs: make(map[string]dvv.Object)}
}

// NowMs returns the backend clock.
func (b *Backend) NowMs() int64 { return b.now() }

// SetError makes every following call fail with err (nil clears it).
func (b *Backend) SetError(err error) {
	b.mu.Lock()
	b.err = err
	b.mu.Unlock()
}

// LastRead returns the options of the most recent Get.
func (b *Backend) LastRead() coordinator.ReadOptions {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastR
}

// LastWrite returns the options of the most recent Update.
func (b *Backend) LastWrite() coordinator.WriteOptions {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.lastW
}

// Writes returns how many Updates stored a new version.
func (b *Backend) Writes() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.updates
}

// Object returns the stored object of key.
func (b *Backend) Object(key string) dvv.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.objs[key]
}

// Put stores obj as key's object, replacing it (to build siblings by hand).
func (b *Backend) Put(key string, obj dvv.Object) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objs[key] = obj
}

// WriteAs makes a write of key coordinated by another actor, superseding
// ctx: the way a concurrent write through another node produces siblings.
func (b *Backend) WriteAs(actor, key string, ctx dvv.VV, s dvv.Sibling) dvv.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.objs[key]
	c, _ := dvv.NextCounter(cur, ctx, actor)
	s.Dot = dvv.Dot{Actor: actor, Counter: c}
	s.Timestamp = b.now() * 1e6
	next := dvv.Update(cur, ctx, s)
	b.objs[key] = next
	return next
}

func (b *Backend) check(r, w int) error {
	if b.err != nil {
		return b.err
	}
	if r < 0 || r > b.N || w < 0 || w > b.N {
		return fmt.Errorf("%w: R=%d W=%d N=%d", coordinator.ErrQuorumRange, r, w, b.N)
	}
	return nil
}

// Get returns key's object (the zero Object if absent).
func (b *Backend) Get(_ context.Context, key []byte, opt coordinator.ReadOptions) (dvv.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastR = opt
	if err := b.check(opt.R, 0); err != nil {
		return dvv.Object{}, err
	}
	return b.objs[string(key)], nil
}

// Update runs fn on key's current object and stores the new version.
func (b *Backend) Update(_ context.Context, key []byte, opt coordinator.WriteOptions, fn peer.UpdateFunc) (prev, next dvv.Object, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastW = opt
	if err := b.check(0, opt.W); err != nil {
		return dvv.Object{}, dvv.Object{}, err
	}
	prev = b.objs[string(key)]
	now := b.now()
	ctx, s, err := fn(prev, now)
	if err != nil {
		return prev, prev, err
	}
	floor, ok := dvv.NextCounter(prev, ctx, b.actor)
	if !ok {
		return prev, prev, fmt.Errorf("%w: counter overflow", peer.ErrBadContext)
	}
	b.counter = max(b.counter+1, floor)
	s.Dot = dvv.Dot{Actor: b.actor, Counter: b.counter}
	s.Timestamp = now * 1e6
	next = dvv.Update(prev, ctx, s)
	b.objs[string(key)] = next
	b.updates++
	return prev, next, nil
}

// Scan visits up to count stored objects (tombstones included) in key
// order from cursor, an index into the sorted keys; it returns 0 when done.
func (b *Backend) Scan(_ context.Context, cursor uint64, count int, fn func(key []byte, o dvv.Object) bool) (uint64, error) {
	b.mu.Lock()
	if err := b.check(0, 0); err != nil {
		b.mu.Unlock()
		return 0, err
	}
	keys := make([]string, 0, len(b.objs))
	for k := range b.objs {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	objs := make([]dvv.Object, len(keys))
	for i, k := range keys {
		objs[i] = b.objs[k]
	}
	b.mu.Unlock()
	if count < 1 {
		count = 1
	}
	i := cursor
	for ; i < uint64(len(keys)) && i < cursor+uint64(count); i++ {
		if !fn([]byte(keys[i]), objs[i]) {
			i++
			break
		}
	}
	if i >= uint64(len(keys)) {
		return 0, nil
	}
	return i, nil
}
