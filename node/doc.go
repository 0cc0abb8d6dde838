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
