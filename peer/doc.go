// Package peer is the contract of the node-to-node protocol: the wire names
// of the internal commands, the one Replica interface every replica
// operation goes through (the local store plus its Merkle trees, a node
// across the network, or a faulty link in tests), the data types those
// operations carry (Cursor, Range, Entry, Hint, Hash) and their sentinel
// errors.
//
// The protocol's two sides live in sub-packages, so that this package stays
// light (it imports only the pure ring, crdt and replica/dvv packages):
//
//   - peerclient: the network Replica, a RESP2 client of another node
//     (multiplexed and auto-pipelined), which also forwards client
//     commands and returns their raw replies;
//   - peerserver: the handlers of the internal commands, registered into a
//     resp.Server;
//   - peertest: an in-process network of Replicas with seeded faults.
//
// Invariants: every Replica operation is idempotent at the receiver (Merge
// and MergeMany are crdt.Merge, PutHint merges into the pending hint of the
// key, the rest only read), so a caller may retry any call whose outcome
// it did not learn.
// A Cursor is comparable across nodes (slot in the top 14 bits, then the
// top 50 bits of the key's xxhash64), which is what lets ScanRange,
// ScanRanges and the Merkle trees of antientropy line up across replicas.
//
// Concurrency: the types here are values; implementations of Replica must
// be safe for concurrent use.
package peer
