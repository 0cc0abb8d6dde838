package replica

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/osmem"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Config configures a Store. The zero value of every field but Dir and
// NodeID is a usable default.
type Config struct {
	// Dir is the data directory (created if missing).
	Dir string
	// FS is the file system; nil means the real one. Tests pass
	// vfs.NewCrashableMem() to simulate crashes.
	FS vfs.FS
	// NodeID names this node; it is the actor of the dots it issues.
	NodeID string
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// NoSync skips fsync on writes: faster, and an acknowledged write may be
	// lost if the process or machine dies. Off (durable) by default.
	NoSync bool
	// SweepInterval is how often expired siblings become tombstones and
	// reapable tombstones are removed; 0 means 100ms, negative disables the
	// sweeper (tests call Sweep directly).
	SweepInterval time.Duration
	// TombstoneGrace is how long a tombstone-only object is kept before it
	// may be reaped; 0 means 1 minute.
	TombstoneGrace time.Duration
	// CanReap decides whether a tombstone-only object whose grace has passed
	// may be removed (the cluster checks that every primary holds it). nil
	// means never reap.
	CanReap func(key []byte, o crdt.Object) bool
	// MaxClockAhead bounds how far a client context's counters may run ahead
	// of this node's clock before the context is refused as forged; 0 means
	// 10 minutes.
	MaxClockAhead time.Duration
	// MaxHintBytes bounds the bytes of pending hints; a hint beyond it is
	// refused (and counted as dropped). 0 means 1 GiB.
	MaxHintBytes int64
	// Logger receives the store's logs; nil means slog.Default().
	Logger *slog.Logger
	// CacheBytes is the size of pebble's block cache (uncompressed sstable
	// blocks: every read, including the read before each write, that the
	// memtables cannot answer); 0 means DefaultCacheBytes.
	CacheBytes int64
	// OnExpired, if set, is told of each key the sweeper found live until
	// its expiry and tombstoned for it (a key whose last hash fields
	// expired too), after the tombstone is stored: the "expired" keyspace
	// event. Every replica's sweeper calls it for its own copy, so the
	// callee decides which one speaks. It runs on the sweeper's goroutine,
	// holds no lock, and must not block for long.
	OnExpired func(key []byte)
	// Observer, if set, is told of every change of a stored object (the
	// anti-entropy trees). Open first replays every stored object to it.
	Observer Observer
	// Flushed, if set, names the keys of database epochs a FLUSHDB or
	// FLUSHALL has closed (ring.State.Flushed on the node's current
	// ring). The store never stores such a key again: Merge, MergeMany
	// and PutHint drop it (and succeed: the data was flushed, which is
	// what its sender must converge to), Update refuses it with
	// ErrFlushed; Purge deletes the ones already stored. It is called
	// on every write and must be fast; nil means nothing is flushed.
	Flushed func(key []byte) bool
	// ObjectCacheBytes bounds the cache of decoded objects of recently
	// written keys (estimated heap bytes, see objCache): a write to a
	// cached key skips pebble's read and the decoding of its whole
	// object. 0 means 64 MiB; negative turns the cache off.
	ObjectCacheBytes int64
}

// Observer sees every change of a stored object, as canonical encodings
// (nil for an absent key), together with the key's Cursor position. The
// store calls Observe under the key's lock, after the change is visible to
// readers and in the order changes of the key are made, so an observer
// that applies each call atomically mirrors the store exactly. Observe must
// be fast and must not call back into the store.
type Observer interface {
	Observe(c Cursor, key, old, new []byte)
}

// DefaultCacheBytes is the default block cache size (Config.CacheBytes):
// 128 MiB, sixteen times pebble's own default, so the index, filter and
// data blocks of a few million small keys stay cached.
const DefaultCacheBytes = 128 << 20

// memTableBytes is the size of each pebble memtable: pebble's default,
// 4 MiB. 32 MiB (recent writes answered from memory, fewer flushes) was
// tried without a measurable gain on the shared 2-core machine.
const memTableBytes = 4 << 20

// DefaultConfig returns the defaults; Dir and NodeID must be filled in.
func DefaultConfig() Config {
	return Config{
		// Durable: every acknowledged write is fsynced.
		NoSync: false,
		// 100 ms: expired siblings turn into tombstones within a tenth of a
		// second, and a sweep of an idle store costs nothing.
		SweepInterval: 100 * time.Millisecond,
		// 1 minute: long enough for a delete to reach every replica on a
		// healthy cluster before its tombstone may go (the cluster's
		// CanReap adds its own conditions).
		TombstoneGrace: time.Minute,
		// 10 minutes: far beyond any sane clock skew between nodes, short
		// enough to refuse a forged context that would pin the clock.
		MaxClockAhead: 10 * time.Minute,
		// 1 GiB of hints for nodes that are down (hints.Config.MaxBytes).
		MaxHintBytes: 1 << 30,
		// 64 MiB: a few big collections (a 10,000-field hash is about
		// 4 MiB decoded) or some 100,000 small keys, next to pebble's
		// own block cache.
		ObjectCacheBytes: 64 << 20,
		CacheBytes:       DefaultCacheBytes,
	}
}

// EnsureDefaults fills the zero fields that have a default (Now: time.Now,
// Logger: slog.Default()).
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.SweepInterval == 0 {
		c.SweepInterval = d.SweepInterval
	}
	if c.TombstoneGrace == 0 {
		c.TombstoneGrace = d.TombstoneGrace
	}
	if c.MaxClockAhead == 0 {
		c.MaxClockAhead = d.MaxClockAhead
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.MaxHintBytes == 0 {
		c.MaxHintBytes = d.MaxHintBytes
	}
	if c.ObjectCacheBytes == 0 {
		c.ObjectCacheBytes = d.ObjectCacheBytes
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = d.CacheBytes
	}
}

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("replica: invalid config")

// Validate reports the first invalid field, wrapping ErrConfig. A negative
// SweepInterval is valid (no sweeper).
func (c Config) Validate() error {
	switch {
	case c.Dir == "":
		return fmt.Errorf("%w: empty Dir", ErrConfig)
	case c.NodeID == "":
		return fmt.Errorf("%w: empty NodeID", ErrConfig)
	case c.TombstoneGrace < 0 || c.MaxClockAhead < 0:
		return fmt.Errorf("%w: negative TombstoneGrace or MaxClockAhead", ErrConfig)
	case c.MaxHintBytes < 0:
		return fmt.Errorf("%w: negative MaxHintBytes %d", ErrConfig, c.MaxHintBytes)
	case c.CacheBytes < 0:
		return fmt.Errorf("%w: negative CacheBytes %d", ErrConfig, c.CacheBytes)
	}
	return nil
}

// clockReserve is how far ahead of the issued dots the persisted clock
// ceiling is pushed; one synced write per this much time under load.
const clockReserve = uint64(10 * time.Second / time.Microsecond)

const lockStripes = 1024

// Store is the pebble-backed local replica. See the package doc for its
// invariants and concurrency rules.
type Store struct {
	cfg         Config
	db          *pebble.DB
	wo          *pebble.WriteOptions
	incarnation uint64
	locks       [lockStripes]sync.Mutex
	queues      [lockStripes]queueStripe // writes waiting per key (combine.go)

	clockMu sync.Mutex
	last    uint64 // last dot counter issued from the clock
	ceiling uint64 // persisted: no issued counter reaches it

	stats Stats
	cache *objCache // decoded objects of recently written keys

	hintBytes                              atomic.Int64
	hintMu                                 sync.Mutex // orders the age index's changes and HintHorizon
	hintStored, hintDelivered, hintDropped atomic.Int64

	// life guards the db against Close: operations hold it shared, Close
	// takes it exclusively, so no call reaches a closed pebble DB.
	life     sync.RWMutex
	isClosed bool
	closed   chan struct{}
	wg       sync.WaitGroup
}

// Stats are the store's counters, read with Load.
type Stats struct {
	Writes     atomic.Int64 // objects stored by Update and Merge (a combined batch counts once)
	Expired    atomic.Int64 // objects whose expired content the sweeper collected (crdt.Collect)
	Reaped     atomic.Int64 // tombstone-only objects removed
	CorruptGet atomic.Int64 // reads that found undecodable bytes
	// FlushedDrops counts writes of flushed keys dropped by Merge,
	// MergeMany and PutHint (Config.Flushed).
	FlushedDrops atomic.Int64
	// Purged counts stored keys of flushed epochs deleted by Purge.
	Purged atomic.Int64
	// CacheHits and CacheMisses count the object reads (a write's
	// read-before-write, Get) that the object cache answered or not.
	CacheHits, CacheMisses atomic.Int64
}

// Open opens (creating if needed) the store in cfg.Dir and starts its
// sweeper.
func Open(cfg Config) (*Store, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := pebbleOptions(cfg)
	db, err := pebble.Open(cfg.Dir, opts)
	opts.Cache.Unref() // the DB holds its own reference until Close
	if err != nil {
		return nil, fmt.Errorf("replica: open %s: %w", cfg.Dir, err)
	}
	s := &Store{cfg: cfg, db: db, wo: pebble.Sync, closed: make(chan struct{}), cache: newObjCache(cfg.ObjectCacheBytes)}
	if cfg.NoSync {
		s.wo = pebble.NoSync
	}
	if err := s.loadMeta(); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.loadHintBytes(); err != nil {
		db.Close()
		return nil, fmt.Errorf("replica: hints: %w", err)
	}
	if o := cfg.Observer; o != nil {
		err := s.Replay(0, 0, func(c Cursor, key, enc []byte) { o.Observe(c, key, nil, enc) }, nil)
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	if cfg.SweepInterval > 0 {
		s.wg.Add(1)
		go s.sweepLoop()
	}
	return s, nil
}

// pebbleOptions are the pebble options of a store of cfg: a block cache
// of CacheBytes (the caller releases its reference once the DB is open),
// bigger memtables (memTableBytes), and a bloom filter in every sstable,
// so a point read (Get, and the read before every write) skips the
// sstables that do not hold its key instead of searching each one's
// index. They change no durability setting: writes are synced as commit
// says.
func pebbleOptions(cfg Config) *pebble.Options {
	opts := &pebble.Options{
		FS:           cfg.FS,
		Logger:       quietLogger{cfg.Logger},
		Cache:        pebble.NewCache(cfg.CacheBytes),
		MemTableSize: memTableBytes,
		EventListener: &pebble.EventListener{FlushEnd: func(info pebble.FlushInfo) {
			// A flush this big holds a big value's batch (memtables are
			// memTableBytes): it freed that batch and made garbage of the
			// same order in the table writer's buffers. Give it back to
			// the OS now rather than minutes later; off pebble's flush
			// goroutine, since a full collection takes a while.
			if info.Done && info.InputBytes >= osmem.BigBytes {
				go osmem.Return()
			}
		}},
	}
	for i := range opts.Levels {
		opts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	return opts
}

func (s *Store) loadMeta() error {
	inc, err := s.getMeta("incarnation")
	if err != nil {
		return err
	}
	if inc == 0 {
		var b [8]byte
		_, _ = rand.Read(b[:])
		inc = binary.BigEndian.Uint64(b[:]) | 1
		if err := s.db.Set(metaKey("incarnation"), b8(inc), pebble.Sync); err != nil {
			return fmt.Errorf("replica: write incarnation: %w", err)
		}
	}
	s.incarnation = inc
	ceil, err := s.getMeta("clock")
	if err != nil {
		return err
	}
	s.last, s.ceiling = ceil, ceil
	return nil
}

func b8(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func (s *Store) getMeta(name string) (uint64, error) {
	v, closer, err := s.db.Get(metaKey(name))
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("replica: read %s: %w", name, err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: meta %s has %d bytes", ErrCorrupt, name, len(v))
	}
	return binary.BigEndian.Uint64(v), nil
}

// Close stops the sweeper and closes the database.
func (s *Store) Close() error {
	s.life.Lock()
	if s.isClosed {
		s.life.Unlock()
		return ErrClosed
	}
	s.isClosed = true
	close(s.closed)
	s.life.Unlock()
	s.wg.Wait()
	return s.db.Close()
}

// enter starts an operation on the db; it fails once Close has begun. The
// caller must call s.life.RUnlock when done.
func (s *Store) enter() error {
	s.life.RLock()
	if s.isClosed {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

// ID returns the node ID.
func (s *Store) ID() string { return s.cfg.NodeID }

// Incarnation returns the random number drawn when this data directory was
// created; a wiped node comes back with a new one.
func (s *Store) Incarnation() uint64 { return s.incarnation }

// Stats returns the store's counters.
func (s *Store) Stats() *Stats { return &s.stats }

// NowMs returns the store clock in Unix milliseconds.
func (s *Store) NowMs() int64 { return s.cfg.Now().UnixMilli() }

// nextCounter issues a dot counter from the node clock: strictly above the
// previous one and at least the wall clock in microseconds. Crossing the
// persisted ceiling pushes it ahead durably first, so a restart never
// reissues a counter.
//
// floor is the least counter the caller accepts (above the key's own
// events of this node).
func (s *Store) nextCounter(floor uint64) (uint64, error) {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	c := max(s.last+1, uint64(s.cfg.Now().UnixMicro()), floor)
	if err := s.reserve(c); err != nil {
		return 0, err
	}
	s.last = c
	return c, nil
}

// advance moves the clock to at least top: the last counter a mutator used
// (one per new entry), so no later write reissues one.
func (s *Store) advance(top uint64) error {
	s.clockMu.Lock()
	defer s.clockMu.Unlock()
	if top <= s.last {
		return nil
	}
	if err := s.reserve(top); err != nil {
		return err
	}
	s.last = top
	return nil
}

// reserve pushes the persisted ceiling beyond c if c reaches it. The
// caller holds clockMu.
func (s *Store) reserve(c uint64) error {
	if c < s.ceiling {
		return nil
	}
	ceil := c + clockReserve
	if ceil < c {
		ceil = math.MaxUint64
	}
	if err := s.db.Set(metaKey("clock"), b8(ceil), pebble.Sync); err != nil {
		return fmt.Errorf("replica: persist clock: %w", err)
	}
	s.ceiling = ceil
	return nil
}

func (s *Store) lock(key []byte) *sync.Mutex {
	return &s.locks[xxhash.Sum64(key)%lockStripes]
}

// Get returns the stored object of key; the zero Object if there is none.
// The object may be the one the object cache holds: like every Object it
// is immutable, and the byte slices crdt's views return from it (Get,
// HGet, Siblings' values) are read-only.
func (s *Store) Get(_ context.Context, key []byte) (crdt.Object, error) {
	if err := s.enter(); err != nil {
		return crdt.Object{}, err
	}
	defer s.life.RUnlock()
	dk := dataKey(key)
	if o, _, ok := s.cache.get(dk); ok {
		s.stats.CacheHits.Add(1)
		return o, nil
	}
	s.stats.CacheMisses.Add(1)
	// NB: without the key's lock, a miss must not fill the cache (see
	// objCache).
	o, _, err := s.read(dk)
	return o, err
}

// get returns the object stored at data key dk and its stored bytes (nil
// if absent), from the object cache if it holds it, else from pebble,
// filling the cache. The caller holds the key's lock.
func (s *Store) get(dk []byte) (crdt.Object, []byte, error) {
	if o, raw, ok := s.cache.get(dk); ok {
		s.stats.CacheHits.Add(1)
		return o, raw, nil
	}
	s.stats.CacheMisses.Add(1)
	o, raw, err := s.read(dk)
	if err == nil && raw != nil {
		s.cache.put(dk, o, raw)
	}
	return o, raw, err
}

// read returns the object stored in pebble at data key dk and its stored
// bytes (nil if absent).
func (s *Store) read(dk []byte) (crdt.Object, []byte, error) {
	v, closer, err := s.db.Get(dk)
	if errors.Is(err, pebble.ErrNotFound) {
		return crdt.Object{}, nil, nil
	}
	if err != nil {
		return crdt.Object{}, nil, fmt.Errorf("replica: get: %w", err)
	}
	raw := bytes.Clone(v)
	closer.Close()
	o, err := crdt.Decode(raw)
	if err != nil {
		s.stats.CorruptGet.Add(1)
		return crdt.Object{}, nil, fmt.Errorf("%w: key %q: %w", ErrCorrupt, userKey(dk), err)
	}
	return o, raw, nil
}

// Update makes a new version of key as its coordinator: it reads the
// current object cur, gives fn a fresh Stamp (a dot of this node above
// every earlier one on the key, from the node-wide hybrid-logical clock
// in µs, and the store's time), merges the delta fn returns into cur
// (crdt.Merge), moves the clock past crdt.Top(delta, self) (a command
// making k entries uses k consecutive counters) and stores the result
// durably. It returns the object before and after and the delta: what the
// other replicas need to be told (the coordinator ships it). A zero delta
// writes nothing (prev, prev, zero). An error from fn aborts the write
// with nothing stored and is returned unchanged; a delta whose context
// runs far ahead of the clock (a forged VSET token) is refused with
// ErrBadContext.
//
// Concurrent writes of one key are combined (combine.go): fn may run on
// another caller's goroutine, after the writes queued before it and on
// the state they made, and its write is stored, observed and synced
// together with theirs; prev and next are this write's own before and
// after. A panic in fn is re-raised here.
func (s *Store) Update(ctx context.Context, key []byte, fn crdt.Mutator) (prev, next, delta crdt.Object, err error) {
	prev, next, delta, wait, err := s.UpdateAsync(ctx, key, fn)
	if err != nil {
		return prev, next, delta, err
	}
	if err := wait(); err != nil {
		return prev, prev, crdt.Object{}, err
	}
	return prev, next, delta, nil
}

// UpdateAsync is Update returning as soon as the write is visible (to
// readers of this store and to its Observer), before it is durable: wait
// blocks until it is (fsynced, unless Config.NoSync) and returns the
// sync's error, which means the write may be lost in a crash although it
// was visible. A coordinator sends the delta to the other replicas while
// its own replica syncs (Dynamo §4.5: W durable acknowledgements, the
// local one among them), instead of paying the two fsyncs one after the
// other. When err is nil the caller must call wait exactly once (the
// store cannot close before it has); when err is not nil, wait is nil and
// the results are as Update's.
func (s *Store) UpdateAsync(_ context.Context, key []byte, fn crdt.Mutator) (prev, next, delta crdt.Object, wait func() error, err error) {
	if err := s.enter(); err != nil {
		return prev, next, delta, nil, err
	}
	if s.flushed(key) {
		s.life.RUnlock()
		return prev, prev, delta, nil, fmt.Errorf("%w: %q", ErrFlushed, key)
	}
	op := &writeOp{fn: fn}
	s.submit(key, op)
	if op.panicked != nil {
		s.life.RUnlock()
		panic(op.panicked)
	}
	if op.err != nil {
		s.life.RUnlock()
		return op.prev, op.prev, crdt.Object{}, nil, op.err
	}
	var once sync.Once
	var werr error
	wait = func() error {
		once.Do(func() {
			defer s.life.RUnlock()
			werr = op.wait()
		})
		return werr
	}
	return op.prev, op.next, op.obj, wait, nil
}

// checkContext refuses contexts whose counters run far ahead of this
// node's clock (beyond top, the last counter this write issued): dot
// counters are microsecond clocks, so such a context can only come from a
// forged client token, and storing it would silently supersede future
// writes.
func (s *Store) checkContext(ctx dvv.VV, now time.Time, top uint64) error {
	limit := uint64(now.Add(s.cfg.MaxClockAhead).UnixMicro())
	for a, c := range ctx {
		if c > limit && c > top {
			return fmt.Errorf("%w: counter of %q is ahead of the clock", ErrBadContext, a)
		}
	}
	return nil
}

// Merge synchronises obj into the stored object of key.
func (s *Store) Merge(_ context.Context, key []byte, obj crdt.Object) error {
	_, err := s.MergeObject(key, obj)
	return err
}

// MergeObject synchronises obj into the stored object of key and returns
// the merged object (which, when concurrent writes of the key were
// combined with this one, includes those queued before it). Objects that
// break crdt invariants (crdt.Object.Validate) are refused.
func (s *Store) MergeObject(key []byte, obj crdt.Object) (crdt.Object, error) {
	if err := obj.Validate(); err != nil {
		return crdt.Object{}, fmt.Errorf("replica: merge %q: %w", key, err)
	}
	if err := s.enter(); err != nil {
		return crdt.Object{}, err
	}
	defer s.life.RUnlock()
	op, err := s.merge(key, obj)
	if err != nil {
		return crdt.Object{}, err
	}
	return op.next, op.wait()
}

// MergeMany merges each entry's object into its key's stored object, as
// MergeObject does, and returns once all of them are durable: the merges
// share fsyncs, so a batch costs about one. Entries of the same key are
// joined first (crdt.Merge) and written once. It stops at the first
// error; entries before it are stored.
func (s *Store) MergeMany(_ context.Context, entries []Entry) error {
	for _, e := range entries {
		if err := e.Object.Validate(); err != nil {
			return fmt.Errorf("replica: merge %q: %w", e.Key, err)
		}
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.life.RUnlock()
	entries = joinByKey(entries)
	waits := make([]func() error, 0, len(entries))
	var err error
	for _, e := range entries {
		var op *writeOp
		if op, err = s.merge(e.Key, e.Object); err != nil {
			break
		}
		waits = append(waits, op.wait)
	}
	// NB: every wait must run (each closes its batch); the WAL is synced in
	// order, so all but the first return at once.
	for i := len(waits) - 1; i >= 0; i-- {
		if e := waits[i](); e != nil && err == nil {
			err = e
		}
	}
	return err
}

// merge queues the merge of obj into key's object (submit) and returns it
// once visible, or its error; a flushed key is dropped (op.wait does
// nothing, op.next is zero).
func (s *Store) merge(key []byte, obj crdt.Object) (*writeOp, error) {
	if s.flushed(key) {
		s.stats.FlushedDrops.Add(1)
		return &writeOp{wait: noWait}, nil
	}
	op := &writeOp{obj: obj}
	s.submit(key, op)
	return op, op.err
}

func noWait() error { return nil }

// flushed reports whether key belongs to a flushed database epoch.
func (s *Store) flushed(key []byte) bool { return s.cfg.Flushed != nil && s.cfg.Flushed(key) }

// write stores next in place of prev (both of data key dk; prevRaw is
// prev's stored bytes) with its event index entry, in one batch, and tells
// the observer. The caller holds the key's lock. The write is visible when
// write returns; the returned wait blocks until it is durable.
func (s *Store) write(dk, prevRaw []byte, prev, next crdt.Object) (wait func() error, err error) {
	return s.writeEncoded(dk, prevRaw, prev, next, next.Encode())
}

// unchanged reports whether next, encoded as enc, is the stored state
// prev, stored as raw (nil if the key has none).
func unchanged(raw, enc []byte, prev crdt.Object) bool {
	if raw == nil {
		return bytes.Equal(enc, prev.Encode())
	}
	return bytes.Equal(enc, raw)
}

// bigBatch is the encoded size from which a write sizes its batch up front
// rather than letting pebble grow it by doubling (which, for a value of
// size S, allocates up to 4×S in all and holds 2×S), and encodes a plain
// string object straight into it (put). It is above pebble's default
// retained batch size (1 MiB), so such buffers are never pooled.
const bigBatch = 2 << 20

// put stores next in place of prev as write does, unless it is the same
// state (changed is then false and nothing is written).
//
// NB: it compares next's encoding with prevRaw instead of calling
// crdt.Equal(prev, next), which would encode both objects again: the
// encoding is canonical, so equal bytes are equal states; were prevRaw
// ever a non-canonical encoding of an equal state, put would only rewrite
// it canonically. A big plain string object is encoded straight into the
// batch (its length is known beforehand), so the value is not held a
// third time in a separate encoding.
func (s *Store) put(dk, prevRaw []byte, prev, next crdt.Object) (changed bool, wait func() error, err error) {
	if n := next.EncodedLen(); n >= bigBatch {
		b := s.newBatch(len(dk), n)
		op := b.SetDeferred(len(dk), n)
		copy(op.Key, dk)
		if enc := next.AppendEncode(op.Value[:0]); len(enc) == n {
			if unchanged(prevRaw, enc, prev) {
				b.Close()
				return false, noWait, nil
			}
			_ = op.Finish()
			wait, err = s.finishWrite(b, dk, prevRaw, prev, next, enc)
			return true, wait, err
		}
		b.Close() // NB: EncodedLen was wrong; encode the ordinary way
	}
	enc := next.Encode()
	if unchanged(prevRaw, enc, prev) {
		return false, noWait, nil
	}
	wait, err = s.writeEncoded(dk, prevRaw, prev, next, enc)
	return true, wait, err
}

// writeEncoded is write with next's encoding, enc, already computed.
func (s *Store) writeEncoded(dk, prevRaw []byte, prev, next crdt.Object, enc []byte) (wait func() error, err error) {
	b := s.newBatch(len(dk), len(enc))
	_ = b.Set(dk, enc, nil)
	return s.finishWrite(b, dk, prevRaw, prev, next, enc)
}

// newBatch returns a batch for a write of an object of encLen bytes at a
// data key of keyLen bytes, sized up front if it is big.
//
// NB: the size is the power of two pebble's Batch.init picks for the
// first record (the object's; event entries follow it), or more: with less,
// init replaces the buffer by one of that size (NewBatchWithSize alone
// saves nothing). The options (WithInitialSizeBytes) are not used: pebble
// keeps them in the pooled Batch, and every later batch would start that
// big. The buffer's unused tail is never touched. Being over pebble's
// retained maximum (1 MiB), the buffer is not pooled after Close either,
// so an encoding in it stays valid for the observer.
func (s *Store) newBatch(keyLen, encLen int) *pebble.Batch {
	if encLen < bigBatch {
		return s.db.NewBatch()
	}
	n := 1 << 10
	for n < batchHeaderSlack+3*keyLen+encLen {
		n *= 2
	}
	return s.db.NewBatchWithSize(n)
}

// finishWrite adds to b, which holds next's record (encoded as enc), its
// event index entry, commits it and tells the observer.
func (s *Store) finishWrite(b *pebble.Batch, dk, prevRaw []byte, prev, next crdt.Object, enc []byte) (wait func() error, err error) {
	pt, nt := s.nextEvent(prev), s.nextEvent(next)
	if pt != nt && pt != 0 {
		_ = b.Delete(eventKey(pt, dk), nil)
	}
	if nt != 0 && nt != pt {
		_ = b.Set(eventKey(nt, dk), nil, nil)
	}
	s.stats.Writes.Add(1)
	s.cache.remove(dk) // NB: until the commit is visible, readers use pebble
	wait, err = s.commit(b)
	if err == nil {
		s.cache.put(dk, next, enc)
	}
	if err == nil && s.cfg.Observer != nil {
		s.cfg.Observer.Observe(cursorOf(dk), userKey(dk), prevRaw, enc)
	}
	return wait, err
}

// delete removes the object at dk (which was prev, stored as prevRaw) and
// its index entry, and tells the observer. The caller holds the key's lock.
func (s *Store) delete(dk, prevRaw []byte, prev crdt.Object) (wait func() error, err error) {
	b := s.db.NewBatch()
	if t := s.nextEvent(prev); t != 0 {
		_ = b.Delete(eventKey(t, dk), nil)
	}
	_ = b.Delete(dk, nil)
	s.cache.remove(dk)
	wait, err = s.commit(b)
	if err == nil && s.cfg.Observer != nil {
		s.cfg.Observer.Observe(cursorOf(dk), userKey(dk), prevRaw, nil)
	}
	return wait, err
}

// batchHeaderSlack covers a batch's header and its records' kinds,
// lengths and event-key prefixes.
const batchHeaderSlack = 128

// commit applies b and returns the wait for its durability.
//
// NB: with Sync, the batch is applied with ApplyNoSyncWait: it is visible
// (to readers and to the next writer of the key) as soon as it is in the
// memtable, and the caller waits for the WAL fsync after releasing the
// key's lock. Writers of one hot key thus share group commits instead of
// queueing one fsync each behind the lock. Acknowledging only after
// SyncWait keeps durability: a later write that read this one is behind it
// in the WAL, so its own fsync covers this one too.
func (s *Store) commit(b *pebble.Batch) (wait func() error, err error) {
	if s.cfg.NoSync {
		defer b.Close()
		if err := b.Commit(pebble.NoSync); err != nil {
			return nil, fmt.Errorf("replica: write: %w", err)
		}
		return noWait, nil
	}
	if err := s.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		b.Close()
		return nil, fmt.Errorf("replica: write: %w", err)
	}
	return func() error {
		defer b.Close()
		if err := b.SyncWait(); err != nil {
			return fmt.Errorf("replica: sync: %w", err)
		}
		return nil
	}, nil
}

// nextEvent returns when the sweeper must next look at o (Unix ms), or 0 for
// never: the earliest deadline it holds (crdt.NextEvent: the key's, a hash
// field's, a legacy sibling's), or, for a tombstone, its time
// (crdt.TombstoneTime) plus the grace period.
func (s *Store) nextEvent(o crdt.Object) int64 {
	if at := crdt.NextEvent(o); at != 0 {
		return at
	}
	// NB: with no deadline left, liveness does not depend on the time.
	if t, ok := crdt.TombstoneTime(o, math.MaxInt64); ok {
		return max(t+s.cfg.TombstoneGrace.Milliseconds(), 1)
	}
	return 0
}

// quietLogger routes pebble's logs to slog at debug level (errors at error).
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Infof(format string, args ...any) {
	q.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
}
func (q quietLogger) Errorf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
}
func (q quietLogger) Fatalf(format string, args ...any) {
	q.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	panic(fmt.Sprintf(format, args...))
}

// Metrics returns pebble's own metrics of the store's database (levels,
// compactions, cache, WAL, DiskSpaceUsage), for /metrics; ErrClosed once
// Close has begun.
func (s *Store) Metrics() (*pebble.Metrics, error) {
	if err := s.enter(); err != nil {
		return nil, err
	}
	defer s.life.RUnlock()
	return s.db.Metrics(), nil
}
