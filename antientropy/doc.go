// Package antientropy holds dynakv's anti-entropy (Dynamo §4.7): a pure
// core — a Merkle tree per partition, kept current as writes land, and the
// top-down comparison of two such trees, which do no I/O, read no clock and
// start no goroutines — and its drivers, the exchange, the Scheduler and
// the tombstone Reaper, which reach other nodes only through injected
// interfaces and read time only from an injected Clock.
//
// # The tree
//
// A Tree has a fixed shape: Leaves() buckets (a power of two, default
// 1024) under a complete binary tree. A key belongs to bucket LeafOf(key),
// the top log2(Leaves()) bits of xxhash64(key). The digest of a present key
// is 128 bits: two xxhash64 with different seeds over
// uvarint(len(key)) ‖ key ‖ object.Encode(), the canonical encoding of
// crdt.Object (context, siblings, tombstones, expiry). A bucket's hash is the
// sum of its keys' digests, lane by lane, modulo 2^64; an absent key (the
// zero Object, or any object that encodes like it) contributes nothing. So
// Update(key, old, new) is O(1) at the leaf: subtract old's digest, add
// new's. An inner node's hash is the two seeded xxhash64 of its children's
// hashes; Update only marks the path to the root stale (stopping at the
// first stale node), and reads recompute stale nodes, so a write costs two
// digests and a read of a level is always current. UpdateEncoded takes the
// canonical encodings instead of the objects, for the store that already
// holds them (encoding is most of the cost of Update).
//
// # Invariants
//
//   - Two trees with the same number of leaves have equal hashes at a node
//     if they hold the same multiset of (key, encoded object) pairs under
//     it, whatever the order and history of updates that built them
//     (addition is commutative and invertible). Conversely, different
//     contents give different hashes except with probability about 2^-128
//     per compared node for contents not chosen to collide.
//   - An empty bucket hashes to zero; an empty tree's inner nodes are the
//     same in every empty tree.
//   - Update with old equal to new changes nothing; an update followed by
//     its reverse restores every hash.
//
// Choice of hash and its limits: xxhash64 is fast and not cryptographic,
// and sums of digests are linear, so a party that controls both keys and
// values could craft two different buckets with equal sums (a generalised
// birthday attack is feasible against any additive set hash of this size,
// and easier still against a non-cryptographic one). Anti-entropy guards
// against accidents (lost messages, crashes, bugs), not against clients
// forging collisions across replicas they cannot write to anyway; the
// worst case of a collision is a divergence left for read repair or the
// next change of the bucket. A sum rather than an XOR keeps the multiset
// claim exact: a pair recorded twice by a buggy caller does not cancel.
//
// The tree trusts its caller: Update's old must be the object last
// recorded for the key. A wrong old leaves a bucket that never matches a
// peer's until the tree is Reset and rebuilt from the store.
//
// # Concurrency
//
// A Tree is not safe for concurrent use, reads included (they recompute
// stale nodes in place). The replica store holds one lock per partition's
// tree around Update, which it calls in the same critical section that
// writes the key, so the tree matches the store; Level and Clone take the
// same lock. Diff reads its local tree, so it runs either under that lock
// or, better, on a Clone taken under it.
//
// # Trees of a store
//
// Layout places a key in its partition's tree by its position in the
// store's key order (peer.Cursor: slot, then key hash) rather than by
// LeafOf: partition p's cursor range is split into Leaves equal parts, so
// a run of leaves is one contiguous range that either replica pages
// through (replica.Store.ScanRanges). Trees holds one Tree per partition (allocated
// on first use, each under its own mutex) and is the store's
// replica.Observer: the store calls Observe under the key's lock with the
// key's old and new encodings, in the order the key changes, and replays
// every stored object when it opens; Rebuild recomputes one partition's
// tree while the store holds every key lock. DefaultLeavesFor keeps a
// node's trees at about 8 MiB whatever Q is.
//
// # Exchange
//
// Exchange compares one partition with one Peer: Diff on a Snapshot of
// the local tree against the peer's levels (DKV.TREE over the network,
// peerclient), then pages through the peer's keys in the runs of differing
// leaves (DKV.RANGE, many runs a call) and the local keys of the same
// span, merges each
// key's two objects with crdt.Merge, stores the merge locally where it adds
// something and sends it back (DKV.MERGEMANY) where the peer's copy lacks
// something; both are batched across runs, so a batch costs one fsync. Repairs go both ways in one exchange, and
// they read only the keys of differing leaves (about keys-per-leaf for
// each differing key). Merge is commutative and idempotent, so repairs
// racing with writes are safe: at worst the next exchange finds the leaf
// differing again. Options.Throttle is the caller's rate limit.
//
// # Scheduler (scheduler.go)
//
// Scheduler spreads exchanges over SchedulerConfig.Interval: a round is
// every partition this node replicates with each other replica, one job
// Interval/len(round) after the previous ends; jobs with a peer that is not
// alive are skipped and counted, jobs the ring no longer supports are
// dropped; Enqueue (CLUSTER REPAIR) runs jobs ahead of the round; keys read
// pass through an injected Limiter (golang.org/x/time/rate, shared with
// other throttled work); Status renders INFO antientropy. Step is the
// whole decision on an injected Clock (tests drive it by hand); Run only
// sleeps between Steps.
//
// # Tombstone reaping (scheduler_reap.go)
//
// A tombstone is the only memory of a delete: once it is gone, any older
// version of the key that arrives is taken as new. Reaper (the store's
// CanReap) removes a tombstone written at T only when no older version can
// still arrive: through anti-entropy (every other replica holds nothing it
// does not cover), through ownership transfer (no transfer of the
// partition under way), through writes in flight (T + Grace has passed,
// and Grace exceeds the request timeout that bounds every node-to-node
// send), and through hinted handoff: every ring member reports, within
// Recheck, a hint horizon (the time of the earliest version, on its
// writer's dot clock, among its pending hints that hold a value, and at
// most its clock) after T + Grace. Hints of
// tombstones only do not count: delivered late, they recreate a
// tombstone, never a value. This is Cassandra's "gc_grace ≥ hint
// window" made exact: instead of waiting out the longest a hint may live
// (--hint-max-age, 24 h), the reaper asks whether any hint that old still
// exists anywhere.
//
// Why a hint can then never recreate a reaped key. A hint that could carry
// a version V the tombstone covers holds V since V's write, made before
// the delete; the hint was created when V's coordinator sent it to the
// fallback (or, after a failed send, kept it itself), at most one request
// timeout after the write. While such a hint is pending, its holder's
// horizon is at most V's time on V's writer's dot clock, which is at most
// T (T is read from the tombstone's context, which covers V's dot), so no
// tombstone of the key is reaped, however the holder's clock runs; if its
// holder is down or silent, nothing is reaped either. Once delivered, V is
// on a replica of the key, which then holds a value the tombstone covers
// and blocks the reap until anti-entropy or read repair has brought the
// tombstone there too; from then on V is superseded wherever it is. A hint
// created later (a newer write, merged into no older hint) holds only
// versions written after the delete was visible, which the tombstone does
// not cover and which must survive anyway. So no guard is needed at
// delivery, and none exact is cheap: the target of a late hint no longer
// has the tombstone to compare against.
//
// NB, the limits of that argument: a write still in flight when its
// holder answered (its hint not yet stored) is seen by no horizon, so the
// reaper's clock must be within Grace − Timeout − Recheck of the
// deleter's; a peer call that outlives the request timeout; a node outside
// the ring still holding hints for members (it is not asked for its
// horizon); and a hint delivered to a target that is no longer a replica
// of its key. Horizons are not monotone (a hint arriving later may hold
// older versions), so the Reaper uses a member's answer for Recheck only.
// Until tests/jepsen's schedule 8679050689893925424 showed otherwise,
// horizons were creation times on the holder's clock, never going back,
// and the Reaper kept each member's largest answer: a holder whose clock
// had run 17 s ahead stamped a hint of a version older than a delete with
// a future time, the tombstone was reaped while the hint was pending on a
// cut-off node, and its delivery brought the deleted key back.
//
// # Where this refines the design (docs/architecture.md)
//
//   - Leaves are cursor ranges (slot, then key hash), not buckets of the key
//     hash alone, so a differing leaf is one range scan instead of one per
//     slot of the partition.
//   - Every replica runs exchanges for each of its partitions with each
//     other replica (a converged pair is compared from both ends, one hash
//     each), which keeps INFO's "last compared" true on every node and
//     needs no agreement on who starts.
//   - The wire cost of a sparse difference is dominated by the path of
//     hashes (2 per level per differing leaf); fewer leaves per tree would
//     trade hash bytes for keys read per differing key. Leaves per tree are
//     fixed by DefaultLeavesFor and must agree across replicas.
package antientropy
