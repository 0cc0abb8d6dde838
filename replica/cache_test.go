package replica

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
)

// checkCache verifies that every object s caches is exactly what pebble
// stores under its key: the same encoding, and a decoded object that
// encodes to it; and that the cache stays within its budget.
func checkCache(t *testing.T, s *Store) {
	t.Helper()
	c := s.cache
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.used > max(c.max, 0) {
		t.Fatalf("cache holds %d estimated bytes, over its budget of %d", c.used, c.max)
	}
	var sum int64
	for k, el := range c.byKey {
		e := el.Value.(*cacheEntry)
		sum += e.cost
		_, raw, err := s.read([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, e.raw) || !bytes.Equal(e.obj.Encode(), raw) {
			t.Fatalf("cached %q is not the stored object", userKey([]byte(k)))
		}
	}
	if sum != c.used || len(c.byKey) != c.lru.Len() {
		t.Fatalf("cache accounting: %d entries (%d in the list), %d bytes counted, %d summed", len(c.byKey), c.lru.Len(), c.used, sum)
	}
}

// mirror is an Observer that keeps the last encoding it was told of per
// key, and checks that each change starts from the previous one.
type mirror struct {
	t    *testing.T
	last map[string][]byte
}

func (r *mirror) Observe(_ Cursor, key, old, new []byte) {
	if !bytes.Equal(r.last[string(key)], old) {
		r.t.Fatalf("observer told %q changed from a state it was not in", key)
	}
	if new == nil {
		delete(r.last, string(key))
		return
	}
	r.last[string(key)] = bytes.Clone(new)
}

// Stores with the object cache off, on, and on with a budget so small it
// evicts all the time, run the same seeded history of writes, merges from
// another replica, expiries and sweeps, reaping and partition drops: they
// store the same bytes, answer Get alike, tell their observers the same
// changes, and every cached object is the stored one.
func TestObjectCacheIsTransparent(t *testing.T) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, 13))
	clock := newFakeClock()
	budgets := []int64{-1, 0, 32 << 10}
	var stores []*Store
	var recs []*mirror
	for i, budget := range budgets {
		rec := &mirror{t: t, last: map[string][]byte{}}
		s := openMem(t, vfs.NewMem(), clock, func(c *Config) {
			c.ObjectCacheBytes, c.Observer = budget, rec
			c.CanReap = func([]byte, crdt.Object) bool { return true }
			c.TombstoneGrace = time.Second
		})
		defer s.Close()
		if got := s.cache.max; (budget < 0) != (got <= 0) {
			t.Fatalf("store %d: budget %d gave a cache of %d", i, budget, got)
		}
		stores, recs = append(stores, s), append(recs, rec)
	}
	other := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.NodeID = "n2" })
	defer other.Close()
	ctx := context.Background()
	keys := []string{"s1", "s2", "s3", "h1", "h2", "h3"}
	// mutator returns the step's command on key, drawing its element
	// names from rr (each store gets its own rr of the step's seed, so all
	// run the same command).
	mutator := func(key []byte, rr *rand.Rand) crdt.Mutator {
		name := func() []byte { return fmt.Appendf(nil, "e%d", rr.IntN(40)) }
		return func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			var d crdt.Object
			var err error
			switch k := rr.IntN(10); {
			case k == 0:
				d, _ = crdt.Del(o, st)
			case k == 1:
				d, _ = crdt.Expire(o, st, st.Now+1000, crdt.ExpireAlways)
			case key[0] == 's' && k < 4:
				d, _, err = crdt.SRem(o, st, [][]byte{name()})
			case key[0] == 's':
				d, _, err = crdt.SAdd(o, st, [][]byte{name(), name()})
			case k < 4:
				d, _, err = crdt.HDel(o, st, [][]byte{name()})
			default:
				d, _, err = crdt.HSet(o, st, []crdt.FieldValue{{Field: name(), Value: []byte("v")}})
			}
			return d, err
		}
	}
	for step := range 600 {
		key := []byte(keys[r.IntN(len(keys))])
		op, opSeed := r.IntN(18), r.Uint64()
		if op < 3 {
			// A write on the other replica, merged into every store below.
			if _, _, _, err := other.Update(ctx, key, mutator(key, rand.New(rand.NewPCG(opSeed, 1)))); err != nil {
				t.Fatal(err)
			}
		}
		if op == 3 || op == 4 {
			clock.Advance(2 * time.Second)
		}
		for i, s := range stores {
			var err error
			switch {
			case op < 3:
				var o crdt.Object
				if o, err = other.Get(ctx, key); err == nil {
					_, err = s.MergeObject(key, o)
				}
			case op < 5:
				_, err = s.Sweep(100)
			case op < 6:
				_, err = s.DropSlots(0, 1<<16)
			default:
				_, _, _, err = s.Update(ctx, key, mutator(key, rand.New(rand.NewPCG(opSeed, 1))))
			}
			if err != nil {
				t.Fatalf("step %d, store %d: %v", step, i, err)
			}
		}
		for _, k := range keys {
			want, _, _ := stores[0].read(dataKey([]byte(k)))
			for i, s := range stores[1:] {
				got, _, err := s.read(dataKey([]byte(k)))
				if err != nil || !crdt.Equal(got, want) {
					t.Fatalf("step %d: store %d stores %q differently (%v)", step, i+1, k, err)
				}
				if g := get(t, s, k); !crdt.Equal(g, want) {
					t.Fatalf("step %d: store %d reads %q differently", step, i+1, k)
				}
				if !bytes.Equal(recs[i+1].last[k], recs[0].last[k]) {
					t.Fatalf("step %d: store %d told its observer of %q differently", step, i+1, k)
				}
			}
			if !bytes.Equal(recs[0].last[k], want.Encode()) && !(want.IsZero() && recs[0].last[k] == nil) {
				t.Fatalf("step %d: the observer's %q is not the stored object", step, k)
			}
		}
		for _, s := range stores {
			checkCache(t, s)
		}
	}
	st := stores[1].Stats()
	if st.CacheHits.Load() == 0 || st.Reaped.Load() == 0 || st.Expired.Load() == 0 {
		t.Fatalf("the history did not exercise the cache (%d hits), reaping (%d) and expiry (%d)", st.CacheHits.Load(), st.Reaped.Load(), st.Expired.Load())
	}
}

// Writers of one key and lock-free readers at once (run it with -race):
// a write is visible to Get once Update returns (read your writes), and a
// reader never sees the set shrink (the cache and pebble never disagree
// on which state is current).
func TestObjectCacheConcurrentReadsAreMonotonic(t *testing.T) {
	s := openMem(t, vfs.NewMem(), newFakeClock(), nil)
	defer s.Close()
	ctx := context.Background()
	key := []byte("s")
	card := func() int64 {
		o, err := s.Get(ctx, key)
		if err != nil {
			t.Error(err)
			return 0
		}
		n, err := crdt.SCard(o, s.NowMs())
		if err != nil {
			t.Error(err)
		}
		return n
	}
	const writers, each = 4, 100
	done := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		var last int64
		for {
			select {
			case <-done:
				return
			default:
			}
			if n := card(); n < last {
				t.Errorf("a reader saw the set shrink from %d to %d members", last, n)
				return
			} else {
				last = n
			}
		}
	}()
	errs := make(chan error, writers)
	for w := range writers {
		go func() {
			for i := range each {
				m := fmt.Appendf(nil, "w%d-%d", w, i)
				_, _, _, err := s.Update(ctx, key, func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
					d, _, err := crdt.SAdd(o, st, [][]byte{m})
					return d, err
				})
				if err == nil {
					if o, gerr := s.Get(ctx, key); gerr != nil {
						err = gerr
					} else if ok, _ := crdt.IsMember(o, s.NowMs(), m); !ok {
						err = fmt.Errorf("member %s written but not read back", m)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range writers {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	close(done)
	<-readerDone
	if n := card(); n != writers*each {
		t.Fatalf("SCARD %d, want %d", n, writers*each)
	}
}
