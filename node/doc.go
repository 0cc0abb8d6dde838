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
// the alive joined member with the smallest ID (the reconciler), and
// CLUSTER FORGET removes a dead node. Failure never changes ownership; a
// dead node is routed around. Gossip and node-to-node calls require the
// cluster secret (memberlist encryption key and DKV.AUTH).
//
// Anti-entropy (antientropy.go). The store keeps a Merkle tree per
// partition (antientropy.Trees as its Observer, rebuilt when it opens).
// A loop compares each partition this node replicates with each other
// replica, one exchange at a time, spread evenly over --ae-interval, and
// repairs differing keys both ways by DVV merge; keys read are throttled
// to --ae-rate per second; exchanges with a replica that is not alive are
// skipped; CLUSTER REPAIR [partition] queues exchanges ahead of the
// schedule; INFO antientropy (not in the default INFO) reports them. With
// N > 1 a tombstone past --tombstone-grace is reaped only when every other
// replica of its key answers with nothing or with the tombstone itself
// (a value, an uncovered version, or a replica that is down or silent
// keeps it), so an exchange can never bring a deleted value back from a
// replica that missed the delete.
//
// Invariants: a Node owns everything it starts; Start returns only once
// the node is in a ring; Close stops accepting clients first, lets
// in-flight requests finish, leaves gossip, then closes the store, so every
// acknowledged write is on disk when Close returns.
//
// Concurrency: Start and Close must not race each other; everything else on
// a running Node is safe for concurrent use. The cluster's state is an
// immutable *ring.State swapped under a mutex; readers take the current
// pointer and use it without locks.
package node
