// Package replica is the local replica of a dynakv node: a pebble store of
// versioned objects (crdt.Object) with tombstones, absolute-time TTL and the
// node's dot clock, and hint storage. The Store is the local side of the
// node-to-node contract (peer.Store); coordinators, hints, transfer and
// anti-entropy reach a replica, local or remote, through package peer,
// whose types (Cursor, Range, Entry, Hint) this package aliases.
//
// Writes: Update runs a crdt.Mutator (a command as a pure function) on the
// key's object under its lock with a fresh Stamp and merges the delta it
// returns; Merge, MergeMany and hints join objects and deltas with
// crdt.Merge. Data written before package crdt (dvv's encoding) decodes
// as a string object and re-encodes to the same bytes.
//
// Write combining (combine.go): Update, Merge and MergeMany queue their
// operation on the key's queue; the writer at its head (the leader) takes
// the key's lock, reads the object once and applies the queued operations
// in arrival order, each to the state the previous one made (an Update
// with its own fresh dot; a run of merges joined first, then merged
// once), then encodes, writes, observes and syncs the result once, and
// returns each caller its own result (prev, next and delta of its own
// operation; a mutator's error or panic is its caller's alone and leaves
// the state as it was). A batch is bounded by maxBatchOps operations and
// maxBatchBytes of estimated object copies (each Update's result is a new
// version, alive until its caller returns); the queue is never longer
// than the writers waiting on it. Before syncing, the leader hands the
// queue to the next writer, so the next batch is applied while this one
// is synced (pebble's group commit shares the fsyncs). MergeMany joins the
// entries of one key before queueing them.
//
// Keyspace (one pebble DB per node):
//
//	'd' slot(2, BE) hash(8, BE) key      → encoded crdt.Object
//	'e' when(8, BE ms) <data key>        → ""  (next expiry or reap time)
//	'm' name                             → node metadata (incarnation, clock)
//
// Data keys sort by slot, so a partition (a slot range) is one contiguous
// range, and within a slot by a 64-bit hash of the key, which gives SCAN a
// numeric cursor (see Cursor).
//
// Invariants:
//   - every stored object satisfies crdt.Object.Validate; bytes that do not
//     decode are reported as ErrCorrupt and never panic;
//   - each object with a pending event (a deadline of the key, a hash
//     field or a legacy sibling, crdt.NextEvent; or, for a tombstone, its
//     crdt.TombstoneTime plus the grace period) has an 'e' entry at the
//     time nextEvent computes from the object itself; at that time the
//     sweeper collects what expired (crdt.Collect: no new dot, so every
//     replica that collects agrees) or asks CanReap;
//   - a mutator's dot exceeds every event of this node in the key's
//     context, and after it the clock is past every dot its delta used
//     (crdt.Top), so one command may take several consecutive dots;
//   - dots issued by Update are strictly increasing across all keys and
//     restarts of a data directory (a hybrid-logical clock: max of the
//     previous dot + 1 and the wall clock in microseconds, persisted as a
//     reserved ceiling), so a key deleted, reaped and written again never
//     reuses a dot that another replica or a client's token still holds;
//   - with Config.Sync (the default) a write is on stable storage before
//     Update or Merge returns (MergeMany: before it returns, for all): a
//     combined batch is one pebble batch, synced before any of its
//     callers returns;
//   - Config.Observer (the anti-entropy trees) sees every change of a data
//     key, as (old, new) encodings, under the key's lock and after the
//     change is visible, in the order the key's changes are made (a
//     combined batch is one change: the state before it and after it); Open
//     replays every stored object to it first, and Replay holds every key
//     lock while it runs, so an observer that applies each call atomically
//     mirrors the store exactly;
//   - a tombstone (crdt.Tombstone: a context, no live content) is reaped
//     only when Config.CanReap allows
//     (asked without the key's lock, since it may ask other nodes) and the
//     object has not changed since it was asked about.
//
// Object cache and the cost of a write: every change stores the key's
// whole object (its canonical encoding, which the Observer's Merkle
// digests, read repair, transfer and hints all take as the key's state),
// so a small write to a big collection costs a merge and an encoding of
// the whole object; writers of one key at once share the encoding, the
// pebble write and the fsync (write combining above), but each still
// pays a merge, which copies the object's element slices (a push to a
// 10,000-element list about 0.2 ms in all, BenchmarkCollection
// lpush/hot; a pop's merge also looks into every element, crdt's
// mergeItems). What it no longer costs is a pebble read and a
// crdt.Decode of it, by far the larger part (about 7× the encoding on a
// 10,000-member set): Config.ObjectCacheBytes (--object-cache-bytes,
// 64 MiB) keeps the decoded objects and encodings of recently written
// keys, least recently used out first, bounded in estimated heap bytes
// (16 per encoded byte; an object over a quarter of the budget is not
// kept). The cache always holds pebble's current state of a key: only a
// holder of the key's lock puts or removes an entry (a write's
// read-before-write fills it, a write removes it before its commit and
// puts the new state after, a delete, reap, drop or purge removes it), so
// a lock-free Get sees the cached state or pebble's, which agree; a Get
// that misses does not fill it. Iterators (Scan, Replay, Ranges, the
// sweeper's index walk) read pebble. Objects Get, Update and MergeObject
// return may be shared with the cache, so callers must not write into the
// byte slices crdt's views return (none does: crdt's mutators copy).
//
// Rejected (see BenchmarkCollection): writing only the delta as a pebble
// merge operand (a pebble.Merger joining encodings with crdt.Merge) would
// make a write's I/O O(delta), but the Observer still needs the whole new
// encoding, and pebble records the merger's name in the OPTIONS file and
// every sstable and refuses to open data written under another name
// (pebble.concatenate, the default every existing data directory has), so
// it needs a migration; per-element sub-keys would change the keyspace
// that Scan, transfer, hints and the Merkle digests read as one object per
// key. Both become worth it together with a digest that is updated per
// element rather than per encoding. Write combining removes the encoding
// and the I/O per write on a hot key (they are per batch), not the
// per-write merge; a hot collection of n elements still costs O(n) per
// write in memory copies, and per-element storage (or a mutable object
// per batch) is what would remove that.
//
// Keys are stored keys (ring.StoredKey: the database and its flush epoch
// before the user key), placed by ring.StoredSlot. Flushes: with
// Config.Flushed set, a key of a database epoch that a FLUSHDB or
// FLUSHALL closed is never stored again — Merge, MergeMany and PutHint
// drop it (so nothing flushed returns by read repair, anti-entropy,
// transfer or hints), Update refuses it with ErrFlushed — and Purge
// deletes the ones stored before, without tombstones.
//
// Hints: each pending hint that holds a value is indexed by the time of
// its earliest version on the writer's dot clock (crdt.EarliestDot), not
// by when it arrived on this node's clock, so HintHorizon (what tombstone
// reaping asks every member) holds however this node's clock is skewed;
// it is not monotone (hints.go).
//
// Ownership handoff uses MergeMany (many merges sharing their fsyncs;
// DKV.MERGEMANY over the network) and DropSlots, a local physical delete of a
// partition's data keys and their 'e' entries that writes no tombstones
// (the keys live on elsewhere).
//
// Concurrency: a Store is safe for concurrent use. Writers of one key are
// serialised by a striped lock, which only a batch's leader takes for
// Update and merges (the sweeper, drops, reaps and Replay take it
// directly); a mutator may run on another caller's goroutine, and must not
// call into the store; reads take no lock (a pebble read of one key
// is atomic; the object cache has its own short mutex). The sweeper runs
// in its own goroutine until Close.
package replica
