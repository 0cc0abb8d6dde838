// Package node is dynakv's composition root: from one Config it builds the
// local replica (pebble store), the cluster view (ring state, gossip,
// peers), the coordinator and the RESP server, starts them, and shuts them
// down in reverse order.
//
// Cluster layer (package cluster, wired in cluster.go). A lone node is a
// ring of one member. The ring state (ring.State: members, weights,
// partition owners, N) is versioned, persisted crash-safely in
// <data>/ring.state before it is used,
// and spread by gossip (ring/member): any node that learns a state merges
// it with ring.Merge, so all nodes converge on one table. Membership
// changes only by explicit act: a node started with --join is admitted by
// the alive joined member with the smallest ID (the reconciler), CLUSTER
// LEAVE makes a node hand its partitions off and remove itself, and
// CLUSTER FORGET removes a dead node. Failure never changes ownership; a
// dead node is routed around. Gossip and node-to-node calls require the
// cluster secret (memberlist encryption key and DKV.AUTH).
//
// Ownership transfer (transfer.go wires package transfer). A ring change
// marks the partitions whose replicas change as moving; the first alive
// node of each one's old set streams it, batched and throttled
// (--transfer-rate, --transfer-batch; --handoff-* are aliases), to each
// incoming replica, saving its progress in <data>/transfer.json, confirms
// the move with a new ring version, and every node that no longer holds a
// partition drops its copy. Ring changes made concurrently on several
// nodes are settled by ring.Merge; the loser's change is made again on the
// next round (the reconciler re-admits, the transfer driver re-confirms, a
// leaving node re-marks itself). CLUSTER LEAVE is persisted in
// <data>/leaving and gossiped in the node's meta so that, once removed, it
// is not admitted again; its data directory must be wiped for it to join
// again. INFO transfer (alias: INFO handoff, with the old field names)
// shows the progress.
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
// Concurrency: Start and Close must not race each other; everything else on
// a running Node is safe for concurrent use. The transfer driver runs in
// one goroutine (see package transfer). The cluster's state is an
// immutable *ring.State installed by package cluster under one writer
// lock; readers take the current pointer and use it without locks.
package node
