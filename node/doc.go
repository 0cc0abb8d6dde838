// Package node is dynakv's composition root: from one Config it builds the
// local replica (pebble store), the cluster view (ring state, gossip,
// peers), the coordinator and the RESP server, starts them, and shuts them
// down in reverse order.
//
// Cluster layer (cluster.go). A lone node is a ring of one member. The
// ring state (ring.State: members, weights, partition owners, N) is
// versioned, persisted atomically in <data>/ring.state before it is used,
// and spread by gossip (ring/member): any node that learns a state merges
// it with ring.Merge, so all nodes converge on one table. Membership
// changes only by explicit act: a node started with --join is admitted by
// the alive joined member with the smallest ID (the reconciler), CLUSTER
// LEAVE makes a node hand its partitions off and remove itself, and
// CLUSTER FORGET removes a dead node. Failure never changes ownership; a
// dead node is routed around. Gossip and node-to-node calls require the
// cluster secret (memberlist encryption key and DKV.AUTH).
//
// Ownership handoff (handoff.go). A ring change marks the partitions whose
// replicas change as moving (ring pending ownership); their old replicas
// serve them until the handoff is confirmed. For each moving partition
// the first alive node of its old set streams it, batched and throttled
// (--handoff-rate), to each incoming replica, saving the cursor of every
// acknowledged batch in <data>/handoff.json, so either side may crash and
// the stream resumes; it then confirms the move with a new ring version
// (ring.State.Complete), and every node that no longer holds a partition
// drops its copy. Ring changes made concurrently on several nodes are
// settled by ring.Merge; the loser's change is made again on the next
// round (the reconciler re-admits, the handoff loop re-confirms, a leaving
// node re-marks itself). CLUSTER LEAVE is persisted in <data>/leaving and
// gossiped in the node's meta so that, once removed, it is not admitted
// again; its data directory must be wiped for it to join again. INFO
// handoff shows the progress; a log line marks each partition sent.
//
// Anti-entropy (antientropy.go) is antientropy.Scheduler over the
// cluster: the store keeps a Merkle tree per partition (antientropy.Trees
// as its Observer, rebuilt when it opens) and the scheduler compares each
// partition this node replicates with each other replica, spread over
// --ae-interval, throttled to --ae-rate keys per second by a
// golang.org/x/time/rate limiter; CLUSTER REPAIR queues exchanges
// (Scheduler.Enqueue). With N > 1 a tombstone is reaped by
// antientropy.Reaper's rule: past --tombstone-grace, no transfer of its
// partition under way, every other replica holding nothing the tombstone
// does not cover, and every ring member's hint horizon past the delete
// plus the grace. Hinted handoff is hints.Deliverer, one pass per
// --hint-interval tick.
//
// Invariants: a Node owns everything it starts; Start returns only once
// the node is in a ring; Close stops accepting clients first, lets
// in-flight requests finish, leaves gossip, then closes the store, so every
// acknowledged write is on disk when Close returns.
//
// Invariants of the handoff: a partition's old replicas never drop it
// before a ring version confirms that every incoming replica received all
// of it (ring.State.Holds); the sender sends from its own replica and
// merges with dvv, so resending is harmless; writes made during the move
// reach the incoming replicas through the coordinators (or hints).
//
// Concurrency: Start and Close must not race each other; everything else on
// a running Node is safe for concurrent use. The handoff runs in one
// goroutine (one partition at a time per sender); its progress and
// counters are guarded by a mutex, read by INFO. The cluster's state is an
// immutable *ring.State swapped under a mutex; readers take the current
// pointer and use it without locks.
package node
