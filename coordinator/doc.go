// Package coordinator turns one client request into a quorum operation over
// a key's replicas (Dynamo §4.5): a write is a crdt.Mutator the
// coordinator's own replica runs with a fresh dot of this node; the delta it
// returns is made durable there, sent to the other replicas of the key's
// preference list (each merges it with crdt.Merge) and acknowledged after W
// replicas have stored it; a get asks the replicas and answers with the
// crdt.Merge of the first R replies.
//
// Invariants:
//   - the coordinator of a write is a replica of the key (a node in the
//     top N of its preference list): Update refuses keys this node does not
//     replicate with ErrNotReplica, and the RESP layer forwards those;
//   - a write is acknowledged only after W replicas stored it; otherwise
//     the caller gets ErrNoQuorum, and the write may have partly landed (its
//     outcome is unknown, as in Dynamo);
//   - a write ships its delta, never the whole object: its cost on the wire
//     is proportional to the change (an SADD of one member to a set of
//     10,000 sends one member);
//   - one Merge (crdt.Merge) everywhere: replica writes, read repair (which
//     sends the merged object to each replica that answered with less),
//     hints, and (in their packages) anti-entropy and transfer;
//   - a read returns the crdt.Merge of at least R replies, never less,
//     asked after the read arrived (concurrent reads of a key share such
//     a quorum read: sharedRead);
//   - while a key's partition is handed off to new replicas, its
//     preference list (RingPlacement: ring.State.ServingList) starts with
//     the old replicas, which keep serving reads and write quorums, and a
//     Placement that is also Receivers names the new ones: every write is
//     sent to them as well, outside the quorum, with a hint kept here for
//     one that cannot be reached;
//   - routing is decided here, from the same top N (topN) and the same
//     notion of healthy (Healthy: the failure detector's verdict and this
//     coordinator's own suspicion after failed calls) that coordination
//     uses: Route and RouteVia name the node to coordinate a write, and
//     the slot table's masters follow Healthy too;
//   - both quorum waits (Get's R, Update's W) are decided by one pure
//     Tally (tally.go), never by arithmetic of their own;
//   - while a replica of a key is unhealthy, a read also merges the hints
//     the fallbacks after the top N hold for the key (outside R), so a
//     write acknowledged by a fallback is not missed (Dynamo §4.6);
//   - ReadAll is the R = N read of tombstone reaping: it fails with
//     ErrReadAll unless every replica answered.
//
// # Conditional writes under a partition
//
// Route sends every write of a plain client to the key's first healthy
// replica, so while no node fails one node decides every conditional write
// of a key (SET NX/XX, GETSET, INCR's reply, HSETNX, SMOVE) on its own
// replica, which holds every write it coordinated: they are serialized
// there, as on one Redis master. When the nodes disagree on who is healthy
// (a partition, or gossip that has not converged), two nodes may each be
// the first healthy replica in their own view and coordinate writes of the
// same key at once, each deciding on what it holds: both SET NX of a lock
// may answer OK, two INCRs may reply the same value, both HSETNX may
// succeed. Nothing is lost: the replicas converge once the sides exchange
// their writes (hints, read repair, anti-entropy), by the rules of package
// crdt — every increment counts once, concurrent SET NX values become
// siblings (a plain GET reads the later by timestamp), an add wins over a
// concurrent remove. A lock taken with SET NX is therefore exclusive only
// while no node fails, as with Redis's asynchronous replication; W = N does
// not change this (it bounds durability, not who decides).
//
// # Key locks and units
//
// Every write this node coordinates (Update) holds its key's lock,
// shared with the other writes of the key, from its ReadFirst read
// through the local replica's apply (up to the write being visible
// there: replica.Store.UpdateAsync), and releases it before the local
// replica's fsync and the wait for W acknowledgements, which overlap: the
// delta is sent to the other replicas while the local copy syncs, and the
// local copy is one of the W once durable (a failed local sync counts as
// a failed replica): the local replica decides concurrent writes of one key
// one after the other, each on the state the previous one made, and
// stores them together (replica.Store.Update combines them), so a hot key
// is not one fsync per write. Concurrent ReadFirst writes of a key share
// their quorum read (readInto: a write joins the next read to start, so
// its read still starts after it arrived), which makes no read repair
// (the write's delta goes to every replica); plain reads repair, one
// repair of a key at a time. Locks are per key, created on
// first use and dropped when no write holds or awaits them, and waiters
// are served in arrival order. Unit(ctx, keys, fn) takes the locks of
// several keys exclusively, each once and in byte order (so two units
// never wait for each other), and runs fn with a context that marks them held: the Gets
// and Updates fn makes with it form one unit (an EXEC block, a script,
// MSETNX, SMOVE) that no other write coordinated here interleaves with,
// and fn's Updates of held keys do not lock again. A write inside a unit
// to a key the unit did not declare, and a nested Unit's new keys, wait
// at most Timeout for their lock (ErrLockWait), so undeclared keys
// cannot make two units wait for each other forever. A wait also ends
// with its context (ErrLockWait). Reads never lock. Locks exclude only
// what this coordinator runs: under a partition another coordinator may
// write the same keys (see below).
//
// Concurrency: a Coordinator is safe for concurrent use; each request fans
// out to replicas in goroutines and returns as soon as its quorum is met
// (or can no longer be met). Replies that arrive later are drained in the
// background.
package coordinator
