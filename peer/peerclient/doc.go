// Package peerclient is the network side of peer.Replica: a pooled RESP2
// client of another node's internal commands (peer.CmdGet, …), which also
// forwards client commands to the node that should coordinate them and
// returns their replies as raw RESP bytes.
//
// Deadlines (fault 1 of issue 10): every call runs under the caller's
// context. Its deadline, when it has one, bounds the whole call (dial,
// authentication, write and read), and cancelling the context aborts the
// call at once; a context without a deadline is bounded by Config.Timeout
// instead. No fixed socket timeout caps a call below its request's
// deadline, so a large value has as long as the request allows.
//
// Size: a reply's bulk strings may be as large as Config.MaxBulkLen
// (peer.MaxBulkLen, 512 MiB, by default), the largest value a client may
// write; a larger one is refused as a peer.ErrProtocol error and the
// connection is closed.
//
// Invariants: a connection is returned to the pool only after a complete
// reply was read within its deadline, so a pooled connection never holds a
// stale reply; every connection presents the cluster secret (DKV.AUTH)
// before its first command.
//
// Concurrency: a Client is safe for concurrent use; at most Config.PoolSize
// calls are in flight at once (more wait for a connection, within their
// context).
package peerclient
