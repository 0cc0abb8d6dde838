// Package transfer is ownership transfer (Dynamo §4.9 "adding/removing
// storage nodes", called ownership handoff in Riak): when a ring change
// gives a partition new replicas, the ring marks it moving
// (ring.State.Moving) and keeps serving it from its old replicas. One of
// them, the sender (the first of the old set that is alive), streams the
// partition's keys from its own replica to each incoming replica in
// MergeMany batches (merged with crdt.Merge, so keys written meanwhile, which the
// incoming replicas also get from coordinators, are never lost), throttled
// by a Limiter shared by every task of the node. The cursor of the last
// acknowledged batch of each (partition, receiver) is saved with the move
// it belongs to (Store, through internal/atomicfile on a vfs.FS), so a
// sender or receiver that crashes resumes where it stopped. When every
// incoming replica has the whole partition, the sender confirms it with
// ring.State.Complete, a new ring version; every node that no longer holds
// a partition (ring.State.Holds) then drops its copy. CLUSTER LEAVE marks
// the node leaving (saved, so a restart goes on leaving); its partitions
// move away as above, and once it is in no moving partition's old set it
// removes itself from the ring. ("Hints", hinted handoff, is another
// mechanism, in package hints.)
//
// The package is a pure planner and a thin driver, as etcd's raft:
//   - plan.go decides — Sender, Tasks, Send, Still, Completed, Prune,
//     Drops, DropDue, NextLeave, LeaveStatus — from (ring.State, self,
//     progress, liveness, now) alone: no I/O, no clock, no locks.
//   - stream.go (Transfer) carries the decisions out through small
//     interfaces declared here: Ring (current state, change), Source (the
//     local replica), Peer (MergeMany), Limiter; its clock is Deps.Now.
//   - progress.go (Store) persists progress and the leaving mark.
//   - status.go (Status) is what INFO renders.
//
// Invariants:
//   - A partition's old replicas never drop it before a ring version
//     confirms that every incoming replica received all of it, for the
//     move in force (progress of an earlier move of the same partition
//     never counts: it is keyed by the old set, MoveKey).
//   - Progress is saved only after the receiver acknowledged the batch,
//     so a crash of either side resends at most one batch per task;
//     merges are idempotent, so resending is harmless.
//   - A finished task is remembered Config.KeepDone past its move, so a
//     confirmation lost to a concurrent ring change is made again without
//     streaming again.
//   - Each object is encoded once per batch: its size is counted on the
//     encoding the peer client sends (peer.Entry.Encoded).
//   - Reading Status changes nothing: the rate comes from samples the
//     driver takes on its clock.
//
// Concurrency: Step (and Run, which calls it) must run in one goroutine;
// Status, Leaving, Wake and StartLeave are safe to call from any
// goroutine at any time. The planner's functions are safe for concurrent
// use (ring.State is immutable).
package transfer
