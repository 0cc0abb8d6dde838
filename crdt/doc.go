// Package crdt implements dynakv's Redis data types as causal CRDTs: each
// key's Object is a causal context plus dot stores, every command is a pure
// mutator returning a delta, and one Merge joins objects and deltas of any
// type (Almeida, Shoker, Baquero, "Delta State Replicated Data Types",
// JPDC 2018, §5–§7; Riak DT's ORSWOT, EMCntr and map; the conflict rules of
// Redis Enterprise Active-Active).
//
// # Shape
//
// An Object holds
//   - a causal context: a version vector over node actors (every event of
//     an actor on this key up to a counter) plus a "cloud" of single events
//     beyond it, each with its actor's previous event on the key (the dots
//     of deltas received ahead of their predecessors);
//   - a register-and-counter value for a string key: dotted registers (the
//     siblings of replica/dvv, possibly flagged as a counter's base),
//     per-actor counter entries and per-actor removal records;
//   - the key's expiry register (dotted deadlines; 0 is PERSIST);
//   - hash fields: name → register-and-counter value and its own expiry
//     register;
//   - set members: name → dots;
//   - sorted-set members: name → register-and-counter score (zset.go);
//   - list items: position → dotted values (see Lists);
//   - HyperLogLog entries: dot → Redis's HLL bytes (hll.go, section tag 7).
//
// Normally one type is present. Every type is a store in the same object so
// that concurrent writes of different types both survive a merge (below).
// Each type is added the same way: a store field, its section tag in the
// encoding (5 the sorted set's, 6 the list's, 7 the HyperLogLog's), its
// Kind, its join (joinDots for dotted parts), its liveness and latest dot
// in TypeOf, its removal in write.resolve and write.clearAll, and its
// invariants in Validate.
//
// Every command is a function (object, Stamp{new dot, now ms}, arguments) →
// (delta, reply, error). The delta holds only the new entries, the records
// a removal needs, and a context of the new dots and of the dots it
// supersedes, so an HSET or SADD costs the same on 10 or 10,000 elements
// (see BenchmarkHSet, BenchmarkSAdd). One command of k elements (HSET,
// SADD, HDEL, SREM, HEXPIRE…) costs O(k log k) plus its lookups in the
// object, never O(k²): its entries are collected, then sorted and joined
// once (BenchmarkBulk, TestBulkCostLinear). Merge(replica, delta) is the new
// state; a delta may be merged into any replica, in any order, any number
// of times. Merging a small delta into a big object costs a check of each
// element's dots against the delta's context and one copy of the element
// slices (runs the delta leaves alone are copied whole: BenchmarkLargeObject,
// TestMergeRunsMatchElementwise; a list skips the check when the delta's
// context holds no event of the object's, as a push's does); decoding the object costs several times
// more, which is why package replica caches decoded objects. Reads (Get, HGetAll, Members, Expiry, TypeOf…) are pure views
// at a given time.
//
// # Invariants (Validate checks them; Decode rejects what breaks them)
//   - every dot of the content is covered by the context; dots are unique
//     across the whole object (a context removes, in every store, what it
//     covers and the other side lacks), so a command making k entries
//     takes k consecutive counters: Top(delta, actor) is the last one used;
//   - stores are sorted (dots, field and member names, record actors), the
//     cloud is normalized, the encoding is canonical: Equal states encode
//     to equal bytes;
//   - an actor's events on one key form a chain: a mutator's object must
//     hold every earlier event of its actor on the key (the coordinator's
//     own replica does), and its dot must exceed them; mutators panic
//     otherwise, as dvv.Update does;
//   - a counter entry is later than its actor's record.
//
// Merge is commutative, associative and idempotent (tested on simulated
// histories: three replicas, deltas and whole states delivered in random
// orders with duplicates).
//
// # Semantics (docs/data-types.md states them for users)
//
//	string   dot → value (siblings); a plain read is the latest timestamp,
//	         ties by dot (dvv.Winner); VSET/VDEL supersede what the token
//	         covers, as dvv.Update.
//	counter  per actor: its latest dot and running totals (increments and
//	         decrements apart, int64 and float64 apart) — refinement: plus a
//	         per-actor record of the entry a remove observed, so that DEL
//	         (or SET, HDEL) concurrent with INCR on another node leaves only
//	         the concurrent increments, not that node's whole running total.
//	         INCR on a plain value flags that value's register as the base
//	         under its own dot, so two nodes converting it concurrently
//	         count it once. A SET concurrent with increments: the
//	         increments apply on top of the SET value if it is numeric,
//	         else the latest (by dot) of the two is read.
//	hash     field → value as above; HSET (or HINCRBY) of a field survives a
//	         concurrent HDEL, which removes only the dots and counter
//	         entries it saw; HINCRBY fields add up.
//	set      member → dots (ORSWOT): SADD gives a member a new dot, so an
//	         add wins over a concurrent SREM/SPOP.
//	zset     member → score as a register-and-counter value: ZADD writes
//	         a register superseding the registers and increments it saw;
//	         ZINCRBY a counter entry (concurrent ones add up, on top of a
//	         concurrent ZADD); the score is the latest register (LWW) plus
//	         the live increments; ZREM is observed-remove, so a concurrent
//	         ZADD or ZINCRBY wins. Order: score, then member.
//	list     a sequence of items ordered by dense positions (see Lists):
//	         concurrent pushes are all kept; a pop removes the values it
//	         saw, so an element popped concurrently on two nodes is
//	         returned by both (at-least-once, as Redis Active-Active
//	         documents for its lists); LSET is a register on the element.
//	expiry   a dotted register per key and per hash field: EXPIRE writes a
//	         deadline, PERSIST a 0, each superseding the entries seen; of
//	         concurrent entries a PERSIST wins, else the later deadline.
//	         SET and DEL supersede the key's register; commands that keep
//	         the TTL in Redis (APPEND, SETRANGE, INCR, HSET, SADD…) do not
//	         touch it, so a SET without EX concurrent with an EXPIRE
//	         keeps that deadline. Legacy string siblings keep their own
//	         expiry (dvv's), read and collected as before.
//	hll      dot → the whole HLL as Redis's bytes (internal/hll): each
//	         PFADD/PFMERGE/PFCOUNT-cache write supersedes the entries it
//	         saw, so one coordinator's writes leave Redis's exact bytes;
//	         concurrent entries read as their register-wise max (rendered
//	         as PFMERGE would), the HLL of the union. TYPE says string;
//	         string commands read the bytes and write a plain string.
//
// Types: SET and DEL supersede everything of every type they observed;
// other writes are WRONGTYPE on a key of another type, and supersede the
// content of other types they observed (the next write resolves a
// conflict). Writes of different types made concurrently both survive;
// TypeOf shows the type holding the latest live dot — by counter, then
// actor: dynakv's counters are hybrid-logical microseconds, so this is the
// later write by wall clock within clock skew.
//
// Removal is observed-remove everywhere: a remove covers the dots (and
// records the counter entries) its coordinator's state held. When deltas
// are delivered causally (a delta after what its operation observed, the
// delta-merging condition of the paper), that is exactly the operation's
// causal past; when a delta arrives ahead of its predecessors, a later
// remove there covers only what that replica held, and the replicas still
// converge.
//
// Expiry: a key (or field) past its deadline reads as absent; a write to it
// first supersedes everything it held (a fresh key, as in Redis). Collect is
// the sweeper's transition: it clears expired content under the existing
// context without a new dot, so replicas that collect agree. It is local:
// its effect reaches a replica that has not collected only in a whole
// state (read repair, anti-entropy, handoff), and an EXPIRE or PERSIST made
// concurrently with the deadline on another replica loses to it once merged
// (as with dvv today): until then that replica may still read the key.
//
// Tombstones: an object with a non-empty context and no live content. DEL
// writes a tombstone register whose timestamp (DeletedAt) dates it for the
// replica's reaping rule (every replica holds it and a grace period
// passed), as dvv's tombstone siblings do.
//
// Conditional commands (SET NX/XX, GETSET, HSETNX, SMOVE, INCR's reply) are
// decided on the coordinator's state: serialized while one node coordinates
// the key; under a partition two coordinators may both succeed, and the
// states still merge by the rules above.
//
// Floats: INCRBYFLOAT and HINCRBYFLOAT compute in float64 and reply the
// shortest decimal (FormatFloat). Redis computes in long double and
// prints "%.17Lf" (trailing zeros stripped): the increment's entry is
// nudged by a few units in the last place (roundFloatIncr) so that the
// value read is Redis's result rounded to float64 (0.1 + 0.2 reads 0.3,
// not 0.30000000000000004). Results that need more digits than a float64
// has (Redis's "3001.10000000000000009", integers beyond 2⁵³, values
// beyond ±1.8e308) still differ, as do sums where an increment cancels a
// much larger base (SET 100, INCRBYFLOAT -100.01 reads
// -0.010000000000005116: the entry's own rounding is larger than the
// result's last place).
//
// Float counters after a remove: an actor's counter entries hold running
// totals, and a SET or DEL records the totals it observed, so a later
// entry counts only its totals minus that record. An actor whose entries
// were all removed starts its totals again from zero, after a new record
// of zero totals under a fresh dot that supersedes the old one (counter.go,
// counterDelta), so float64 totals never carry a removed history
// (INCRBYFLOAT x 1e17, SET x 1, INCRBYFLOAT x 1 reads 2).
//
// # Lists
//
// A list is a sequence CRDT whose elements are identified by their
// insertion dot and ordered by a position fixed at insertion from the
// neighbours the inserting node saw (its "anchor"). A position is a
// sequence of components (digit int64, dot), compared lexicographically,
// a prefix first; the last component always carries the element's own
// insertion dot, so positions are unique and name their element. An
// element is an item: its position and its value register, a dot store of
// values (the latest dot is read). The store is sorted by position, which
// is the order LRANGE reads; items join by the dot rule per position, and
// an item left without values is gone.
//
//   - LPUSH takes the head's first digit minus one, RPUSH the tail's plus
//     one (one component: O(1) and no growth however many pushes); a push
//     of k elements takes k consecutive dots, shares one first component
//     (the first dot's) and orders its elements by a second digit, so
//     concurrent multi-element pushes at one end each stay contiguous,
//     ordered between them by their first dots.
//   - LINSERT takes a position strictly between the pivot and its
//     neighbour (between: at most one component longer than the left one);
//     concurrent inserts at one place get equal digits and are ordered by
//     their dots, the same on every replica.
//   - Pops, LREM, LTRIM and DEL remove the values they saw
//     (observed-remove); LSET supersedes the element's values seen with a
//     new one, so an LSET concurrent with a pop of its element keeps the
//     element (with the new value).
//
// Why not RGA (anchors naming the left neighbour's dot): a removed element
// must then stay as a tombstone while any element may be anchored to it,
// so a queue (RPUSH, LPOP forever) grows without bound. Dense positions
// need no tombstones: a popped element leaves nothing but its dots in the
// context. The cost is a position per element (one or two components for
// pushes).
//
// # Encoding
//
// A plain string object (registers only, a version-vector context) encodes
// exactly as dvv.Object.Encode (format 1), so every stored object still
// decodes (as a string object) and re-encodes to the same bytes, and nodes
// reading dvv keep reading strings. Anything else is format 3: a version
// byte, the actor table, context, then tagged sections. Decode never panics
// and allocates in proportion to its input (FuzzDecode).
//
// # Concurrency
//
// The package is pure: no I/O, no clock (time comes in Stamp or now), no
// goroutines. Objects are immutable values: no function modifies its
// arguments (Merge may share unchanged parts of its inputs), so an Object
// may be read by any number of goroutines.
package crdt
