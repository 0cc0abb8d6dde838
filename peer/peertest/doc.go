// Package peertest is an in-process network of peer.Replicas for tests
// (the successor of replica/faultnet): it hands each node a view of the
// other nodes' replicas through which every peer operation (Get, Merge,
// MergeMany, PutHint, HintsFor, HintHorizon, ScanRange, ScanRanges,
// TreeLevel) can be dropped (seeded, replayable), cut between groups
// (partitions) or between two nodes, refused by downed nodes, delayed on an
// injectable clock, held until released (a slow replica, without sleeps),
// or delivered with its reply lost; and it counts attempted and delivered
// calls per node and per operation.
//
// A call's fate is decided once, when it starts: unknown, down or
// partitioned target, cut link, seeded drop. A delivered call then waits
// for any Hold and Delay of its target (or for its context), runs on the
// target's Replica, and, with a reply drop, reports failure although the
// target applied it (as a timeout after the write would). Every failure
// wraps both ErrUnreachable and peer.ErrRemote, as the network client's
// failures wrap peer.ErrRemote.
//
// Determinism: drops follow the seed given to New, in the order calls
// reach the network; concurrent callers may interleave differently from
// run to run, so a replay is exact only for calls made in a fixed order.
//
// Concurrency: a Network is safe for concurrent use; fault settings take
// effect for calls that start after the change.
package peertest
