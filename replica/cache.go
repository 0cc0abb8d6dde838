package replica

import (
	"container/list"
	"sync"

	"github.com/dynakv/dynakv/crdt"
)

// objCache holds the decoded objects of recently written keys with their
// stored encodings, so that a write's read-before-write (and a Get) skips
// pebble's read and crdt.Decode, which on a big collection cost far more
// than the write's delta (BenchmarkLargeObject in package crdt: decoding a
// 10,000-member set takes about ten times its encoding). It is bounded in
// estimated heap bytes (entryCost) and evicts the least recently used
// entries.
//
// Consistency (see the package doc): an entry is put or removed only
// under its key's lock, by the writer that made the stored state, and only
// after that state is visible in pebble; a write removes the entry before
// it commits and puts the new one after, so a lock-free reader sees either
// the cached state or pebble's, never one older than the other. A reader
// that misses never fills the cache (it holds no lock, and could put a
// state a concurrent writer has just replaced).
type objCache struct {
	mu    sync.Mutex
	max   int64 // budget in estimated bytes; 0: the cache is off
	used  int64
	lru   *list.List // of *cacheEntry, most recent first
	byKey map[string]*list.Element
}

// cacheEntry is one cached object: the decoded state and its stored
// canonical encoding (the Observer's "old" of the next write).
type cacheEntry struct {
	key  string
	obj  crdt.Object
	raw  []byte
	cost int64
}

// entryCost estimates the heap held by a cached object encoded in n bytes:
// the encoding itself plus its decoded form, which allocates up to about
// 20 bytes per encoded byte for hashes of short fields (BenchmarkLargeObject's
// decode B/op), and the entry's own bookkeeping.
func entryCost(n int) int64 { return int64(n)*16 + 256 }

func newObjCache(max int64) *objCache {
	return &objCache{max: max, lru: list.New(), byKey: map[string]*list.Element{}}
}

// get returns the cached object of data key dk and its encoding.
func (c *objCache) get(dk []byte) (crdt.Object, []byte, bool) {
	if c.max <= 0 {
		return crdt.Object{}, nil, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.byKey[string(dk)]
	if !ok {
		return crdt.Object{}, nil, false
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*cacheEntry)
	return e.obj, e.raw, true
}

// put caches o, stored as raw (nil: the key is absent, which removes it),
// evicting the least recently used entries beyond the budget. An object
// bigger than a quarter of the budget is not cached. The caller holds the
// key's lock and o is the state pebble shows.
func (c *objCache) put(dk []byte, o crdt.Object, raw []byte) {
	if c.max <= 0 {
		return
	}
	cost := entryCost(len(raw))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeLocked(string(dk))
	if raw == nil || cost > c.max/4 {
		return
	}
	e := &cacheEntry{key: string(dk), obj: o, raw: raw, cost: cost}
	c.byKey[e.key] = c.lru.PushFront(e)
	c.used += cost
	for c.used > c.max {
		c.removeLocked(c.lru.Back().Value.(*cacheEntry).key)
	}
}

// remove drops dk's entry. The caller holds the key's lock.
func (c *objCache) remove(dk []byte) {
	if c.max <= 0 {
		return
	}
	c.mu.Lock()
	c.removeLocked(string(dk))
	c.mu.Unlock()
}

func (c *objCache) removeLocked(k string) {
	el, ok := c.byKey[k]
	if !ok {
		return
	}
	c.used -= el.Value.(*cacheEntry).cost
	c.lru.Remove(el)
	delete(c.byKey, k)
}

// len returns the number of cached objects and their estimated bytes.
func (c *objCache) len() (int, int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.byKey), c.used
}
