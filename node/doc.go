// Package node is dynakv's composition root: from one Config it builds the
// local replica (pebble store), the placement, the coordinator and the RESP
// server, starts them, and shuts them down in reverse order.
//
// Invariants: a Node owns everything it starts; Close stops accepting
// clients first, lets in-flight requests finish, then closes the store, so
// every acknowledged write is on disk when Close returns.
//
// Concurrency: Start and Close must not race each other; everything else on
// a running Node is safe for concurrent use.
package node
