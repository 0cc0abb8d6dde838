// Package ring is the placement core of dynakv: it maps keys to hash slots,
// slots to partitions and partitions to the nodes that own them, and
// computes preference lists. It is pure: no network, no disk, no clock, no
// goroutines. Membership transport (memberlist), persistence and liveness
// live elsewhere; they hand this package members and get tables back.
//
// # Keys, slots, partitions
//
// A key's slot is Slot(key): CRC-16/XMODEM modulo Slots (16384), with Redis
// hash tags, exactly as Redis Cluster computes it, so CLUSTER KEYSLOT agrees
// with Redis. The slots are cut into Q equal partitions (Q a power of two
// dividing 16384, DefaultPartitions = 256): partition p owns the slots
// [p*16384/Q, (p+1)*16384/Q) (SlotRange, PartitionOf). These are the Dynamo
// paper's "Q equal-sized partitions" (strategy 3).
//
// # The ring
//
// A State is one version of the ring: its members (ID, client and gossip
// addresses, weight, status), the replica count N and the table that gives
// each partition an owner. The preference list of partition p is its
// owner, then the owners of p+1, p+2, … skipping nodes already listed;
// its first N nodes hold p's replicas, and Walk continues it to every
// joined member for sloppy-quorum fallbacks.
//
// Every State satisfies these invariants, checked when it is built and when
// it is decoded:
//   - Q is a valid partition count and 1 ≤ N ≤ MaxReplicas;
//   - members are sorted by ID, IDs are distinct and valid (1..MaxIDLen
//     bytes, no space or control character), weights are 1..MaxWeight;
//   - at least one member is joined, and every partition is owned by a
//     joined member; leaving members own nothing;
//   - a moving partition's old set is a non-empty list of distinct
//     members.
//
// The table itself comes from Claim, which gives each joined member a share
// of the partitions proportional to its weight (±1), moves exactly the
// fewest partitions that achieve this when members change, and, as a best
// effort that never costs a move, keeps any N consecutive partitions on N
// distinct nodes. Claim's documentation states its guarantees, its
// trade-offs and their measured cost.
//
// # Changing the ring
//
// Membership changes only by explicit act, never by failure: New makes the
// first version from a bootstrap set; Join adds a node; Leave gives a node's
// partitions to the others while keeping it as a leaving member, so that
// peers can pull its data, and Remove drops it once handoff is done; Forget
// drops a dead node for good; Update changes a member's addresses or
// weight. Each returns a new State with Version one higher, and the
// ClaimResult telling how many partitions moved.
//
// # Pending ownership
//
// A change that gives a partition's keys a replica that did not hold them
// makes the partition moving: the State keeps its old set (the replicas it
// was served from) until Complete confirms that every Incoming replica has
// received all of its keys. ServingList puts the old set first, so reads
// and write quorums stay on replicas that hold the data; Incoming replicas
// get every write besides the handoff stream; Holds tells a node whether
// it may drop its copy. A further change keeps a moving partition's old
// set (minus forgotten nodes): the data is still there. A leaving member
// cannot be removed while it is in an old set (ErrMoving). States without
// moving partitions encode exactly as before pending ownership existed.
//
// Nodes spread States by gossip and keep, with Merge, the one that Newer
// prefers: the higher Version, and between different States of equal
// Version (two changes made concurrently) the one with the larger Digest.
// Every node thus converges on the same State; the losing concurrent change
// is dropped, and the node that made it must make it again on top of the
// winner. Encode gives the canonical bytes of a State (for the data
// directory and for gossip); Decode rejects, with an error wrapping
// ErrInvalidState and without panicking, anything that is not a valid
// State.
//
// # Databases and flush epochs (dbkey.go, flush.go)
//
// Replicas store a user key of Redis database db (SELECT) at the
// database's flush epoch under StoredKey(db, epoch, key): database 0 at
// epoch 0 bare (the key itself, as before databases existed), any other
// with a prefix byte that a bare key never starts with (such a key is
// prefixed too), so the encoding is injective. StoredSlot, the slot of a
// stored key, is Slot of its user key: every layer that places stored
// keys (KeyPartition, peer.CursorOf, the replica's key order, and through
// them anti-entropy, transfer and hints) uses it, so every database and
// epoch of a key share its slot and replicas. A State holds each
// database's flush epoch; FLUSHDB/FLUSHALL raise it in a new version
// (WithFlushEpochs), every successor keeps it, and Flushed names the
// stored keys of older epochs. NB: a key stored before this encoding
// whose first byte is 0xFF is no longer found under its name (such keys
// are stored escaped now), and one whose next bytes parse as a database
// and an epoch shows in that database.
//
// # Concurrency
//
// A State is immutable once built: its methods never modify it, and the
// slices they return are copies. A *State may therefore be shared by any
// number of goroutines without locks; a node keeps its current one behind
// an atomic pointer and swaps it whole. Every function of the package is
// safe for concurrent use and deterministic.
//
// # Errors
//
// Errors wrap one of the package's sentinels (ErrInvalidPartitions,
// ErrInvalidReplicas, ErrInvalidMember, ErrDuplicateMember,
// ErrUnknownMember, ErrNoMembers, ErrNotLeaving, ErrMoving, ErrInvalidState) with %w;
// test them with errors.Is.
package ring
