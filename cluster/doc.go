// Package cluster holds a node's view of the ring: the current ring.State
// (loaded from and persisted to the data directory, adopted from gossip,
// changed locally and broadcast), the admission of joining nodes by the
// reconciler, the leaving mark, and the liveness view used for routing.
//
// It follows Dynamo §4.8 (explicit membership): an administrator adds a
// node by starting it with --join, and the reconciler (the alive joined
// member with the smallest ID; Dynamo has no leader, so this is only who
// admits) adds it to the ring; ring states spread by gossip and two states
// that meet are settled by ring.Merge (higher version, then larger digest),
// so every node converges on the same ring.
//
// Gossip itself sits behind the small Membership interface, implemented by
// *member.Membership; tests run the same logic over ring/member/membertest
// or over a fake. Time is injected (Config.After): nothing here calls
// time.Now.
//
// Invariants:
//   - The installed state only moves forward: every state installed after
//     the first is ring.Newer than the one it replaces. Adopt, Update and
//     Change read the current state, decide, persist and install under one
//     writer lock, so a concurrent local change is never overwritten by a
//     state merged from a stale copy (issue 10, fault 6b).
//   - A state is installed only after it is durable: ring.state is written
//     through internal/atomicfile over Config.FS (unique temporary name,
//     file and directory fsync), so a crash after a change keeps it, and a
//     crash before keeps the previous one. The leaving mark is written the
//     same way.
//
// Flushes (flush.go): FLUSHDB and FLUSHALL are ring changes that raise a
// database's flush epoch (ring.State.WithFlushEpochs); Flush waits until
// every alive member gossips the new epochs in its Meta, and states the
// guarantee and its window.
//
// Concurrency: every exported method is safe for concurrent use. Config's
// OnChange is called after installation, without locks held, possibly
// from several goroutines at once (memberlist's and the caller of Update);
// it must not block for long. MergeState is called on memberlist's
// goroutines and may wait for a persist (one fsync).
package cluster
