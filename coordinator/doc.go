// Package coordinator turns one client request into a quorum operation over
// a key's replicas (Dynamo §4.5): a put is made durable in the coordinator's
// own replica with a fresh dot, sent to the other replicas of the key's
// preference list, and acknowledged after W replicas have stored it; a get
// asks the replicas and answers with the merge of the first R replies.
//
// Invariants:
//   - the coordinator of a write is a replica of the key (a node in the
//     top N of its preference list): Update refuses keys this node does not
//     replicate with ErrNotReplica, and the RESP layer forwards those;
//   - a write is acknowledged only after W replicas stored it; otherwise
//     the caller gets ErrNoQuorum, and the write may have partly landed (its
//     outcome is unknown, as in Dynamo);
//   - a read returns the dvv.Merge of at least R replies, never less;
//   - while a key's partition is handed off to new replicas, its
//     preference list (RingPlacement: ring.State.ServingList) starts with
//     the old replicas, which keep serving reads and write quorums, and a
//     Placement that is also Receivers names the new ones: every write is
//     sent to them as well, outside the quorum, with a hint kept here for
//     one that cannot be reached.
//
// Concurrency: a Coordinator is safe for concurrent use; each request fans
// out to replicas in goroutines and returns as soon as its quorum is met
// (or can no longer be met). Replies that arrive later are drained in the
// background.
package coordinator
