// Package hints is hinted handoff (Dynamo §4.6): the delivery of the
// writes this node keeps for other nodes ("hints") once those nodes are
// back. Storage stays in replica (replica.Store's hint keyspace, keyed by
// target, bounded in bytes by replica.Config.MaxHintBytes); this package
// decides what to send and when.
//
// A delivery pass (Deliverer.Pass), for every target with pending hints:
//   - drops the target's hints if the target is no longer a ring member,
//     and hints older than Config.MaxAge (counted as dropped);
//   - skips a target that is not healthy (no call is made);
//   - merges each remaining hint into the target's replica, at most
//     Config.Parallel at a time, each call bounded by Config.Timeout, and
//     deletes a hint only after the target acknowledged it, and only if no
//     newer write merged into the hint meanwhile (replica.Store.DeleteHint);
//   - after the first failed merge to a target starts no more to it: the
//     hint stays and a later pass retries it.
//
// Invariants: a hint leaves the queue only by an acknowledged delivery of
// exactly what was stored, or by a counted drop (age, size at PutHint,
// target gone). Delivery is a crdt.Merge, so delivering a hint twice, or
// after anti-entropy already brought its versions, is harmless. A hint never
// recreates a key whose tombstone was reaped: see antientropy.Reaper, which
// reaps a tombstone only once every ring member's hint horizon (the time,
// on its writer's dot clock, of the earliest version its pending hints
// hold, replica.Store.HintHorizon) is past the delete plus the grace
// period; the argument is in antientropy's doc.
//
// Time: the package reads no clock of its own. Hint ages are measured on
// the queue's clock (Queue.NowMs, the store's), and the loop (Run) makes a
// pass on each tick of a channel the caller owns (a time.Ticker in the
// node, a plain channel in tests).
//
// Concurrency: a Deliverer is safe for concurrent use, but passes should
// not overlap (Run makes them one at a time); Stats may be read at any time.
package hints
