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
//     one that cannot be reached;
//   - routing is decided here, from the same top N (topN) and the same
//     notion of healthy (Healthy: the failure detector's verdict and this
//     coordinator's own suspicion after failed calls) that coordination
//     uses: Route and RouteVia name the node to coordinate a write, and
//     the slot table's masters follow Healthy too;
//   - both quorum waits (Get's R, Update's W) are decided by one pure
//     Tally (tally.go), never by arithmetic of their own;
//   - while a replica of a key is unhealthy, a read also merges the hints
//     the fallbacks after the top N hold for the key (outside R), so a
//     write acknowledged by a fallback is not missed (Dynamo §4.6);
//   - ReadAll is the R = N read of tombstone reaping: it fails with
//     ErrReadAll unless every replica answered.
//
// Concurrency: a Coordinator is safe for concurrent use; each request fans
// out to replicas in goroutines and returns as soon as its quorum is met
// (or can no longer be met). Replies that arrive later are drained in the
// background.
package coordinator
