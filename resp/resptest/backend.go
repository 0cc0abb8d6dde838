package resptest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
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

	units units // the keys units hold (unit.go)

	mu      sync.Mutex
	objs    map[string]crdt.Object
	err     error
	lastR   coordinator.ReadOptions
	lastW   coordinator.WriteOptions
	updates int
}

// NewBackend returns an empty backend whose dots belong to actor and whose
// time is read from now (Unix milliseconds).
func NewBackend(actor string, now func() int64) *Backend {
	return &Backend{N: 3, actor: actor, now: now, objs: make(map[string]crdt.Object)}
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
func (b *Backend) Object(key string) crdt.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.objs[key]
}

// Put stores obj as key's object, replacing it (to build states by hand).
func (b *Backend) Put(key string, obj crdt.Object) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.objs[key] = obj
}

// WriteAs makes a string write of key coordinated by another actor,
// superseding ctx (VSET's rule): the way a concurrent write through another
// node produces siblings. It returns the new object.
func (b *Backend) WriteAs(actor, key string, ctx dvv.VV, val []byte) crdt.Object {
	b.mu.Lock()
	defer b.mu.Unlock()
	cur := b.objs[key]
	st := crdt.Stamp{Dot: dvv.Dot{Actor: actor, Counter: crdt.Top(cur, actor) + 1}, Now: b.now()}
	d, err := crdt.VSet(cur, st, ctx, val)
	if err != nil {
		panic(err)
	}
	next := crdt.Merge(cur, d)
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
func (b *Backend) Get(_ context.Context, key []byte, opt coordinator.ReadOptions) (crdt.Object, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastR = opt
	if err := b.check(opt.R, 0); err != nil {
		return crdt.Object{}, err
	}
	return b.objs[string(key)], nil
}

// Update runs fn on key's current object with a fresh dot of the backend's
// actor and merges the delta it returns.
func (b *Backend) Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn crdt.Mutator) (prev, next crdt.Object, err error) {
	release, err := b.lockUpdate(ctx, key)
	if err != nil {
		return prev, next, err
	}
	defer release()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.lastW = opt
	if err := b.check(0, opt.W); err != nil {
		return crdt.Object{}, crdt.Object{}, err
	}
	prev = b.objs[string(key)]
	top := crdt.Top(prev, b.actor)
	if top == math.MaxUint64 {
		return prev, prev, fmt.Errorf("%w: counter overflow", peer.ErrBadContext)
	}
	st := crdt.Stamp{Dot: dvv.Dot{Actor: b.actor, Counter: top + 1}, Now: b.now()}
	d, err := fn(prev, st)
	if err != nil {
		return prev, prev, err
	}
	if d.IsZero() {
		return prev, prev, nil
	}
	next = crdt.Merge(prev, d)
	if crdt.Top(next, b.actor) == math.MaxUint64 {
		return prev, prev, fmt.Errorf("%w: counter overflow", peer.ErrBadContext)
	}
	b.objs[string(key)] = next
	b.updates++
	return prev, next, nil
}

// Scan visits stored objects (tombstones included) in the stores' order,
// peer.CursorOf's (ties by key), from position cursor, until it has
// visited count of them and finished the run sharing the last position,
// or fn returns false; it returns the position of the first key not
// visited (the key fn refused counts as visited, as in replica.Store), 0
// when done.
func (b *Backend) Scan(_ context.Context, cursor uint64, count int, fn func(key []byte, o crdt.Object) bool) (uint64, error) {
	b.mu.Lock()
	if err := b.check(0, 0); err != nil {
		b.mu.Unlock()
		return 0, err
	}
	type item struct {
		pos uint64
		key string
		obj crdt.Object
	}
	items := make([]item, 0, len(b.objs))
	for k, o := range b.objs {
		if p := uint64(peer.CursorOf([]byte(k))); p >= cursor {
			items = append(items, item{p, k, o})
		}
	}
	b.mu.Unlock()
	slices.SortFunc(items, func(x, y item) int {
		if x.pos != y.pos {
			return cmp.Compare(x.pos, y.pos)
		}
		return strings.Compare(x.key, y.key)
	})
	count = max(count, 1)
	for i, it := range items {
		if i >= count && it.pos != items[i-1].pos {
			return it.pos, nil
		}
		if !fn([]byte(it.key), it.obj) {
			if i+1 < len(items) {
				return items[i+1].pos, nil
			}
			return 0, nil
		}
	}
	return 0, nil
}
