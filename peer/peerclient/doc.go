// Package peerclient is the network side of peer.Replica: a RESP2 client
// of another node's internal commands (peer.CmdGet, …), which also
// forwards client commands to the node that should coordinate it and
// returns their replies as raw RESP bytes.
//
// Connections (issue 13): the small replica calls are multiplexed and
// auto-pipelined. Reads (DKV.GET, DKV.HINTGET, DKV.HINTHORIZON) share one
// connection to the node and writes (DKV.MERGE, DKV.MERGEMANY, DKV.HINT)
// another (a lane each): a caller appends its command to the lane's write
// buffer and queues for its reply; one writer goroutine writes what has
// gathered in one syscall, one reader goroutine hands the replies, which
// come back in order, to their callers. So the calls made during a round
// trip go in the next write, and the node, which reads them in one read,
// answers them in one write. Merges made while a batch of them is on its
// way go as one DKV.MERGEMANY (one fsync on the node instead of one per
// call, which the node's in-order execution of a connection's commands
// would queue one after another). Forwarded client commands, scans, tree
// levels, calls of more than 64 KiB and every call under
// Config.NoPipeline take a pooled connection each for their round trip;
// forwards may share Config.ForwardConns lanes instead.
//
// Deadlines (fault 1 of issue 10): every call runs under the caller's
// context. Its deadline, when it has one, bounds the whole call (dial,
// authentication, write and read), and cancelling the context ends the
// call at once; a context without a deadline is bounded by Config.Timeout
// instead. No fixed socket timeout caps a call below its request's
// deadline, so a large value has as long as the request allows. On a
// lane, the read of each reply is bounded by its call's deadline: a reply
// that does not come in time fails the lane's connection and the calls
// queued behind it (their replies would come after), and the next call
// dials again. A cancelled call fails wrapping context.Canceled even when
// its socket I/O ended in a timeout (cancelling sets the deadline to the
// past): callers count a deadline, never a cancellation, against the
// node's health. A lane's dial serves every caller waiting for the lane,
// so it ends at the deadline of the call that started it but not with
// that call's cancellation.
//
// TLS: Config.Dialer may return *tls.Conn connections (the node's
// tls-cluster dials with a crypto/tls dialer; the handshake is part of
// the dial, under the call's deadline). An idle pooled connection is
// checked at its socket under the TLS layer (connCheck).
//
// Size: a reply's bulk strings may be as large as Config.MaxBulkLen
// (peer.MaxBulkLen, 512 MiB, by default), the largest value a client may
// write; a larger one is refused as a peer.ErrProtocol error and the
// connection is closed.
//
// Invariants: a pooled connection is returned to the pool only after a
// complete reply was read within its deadline, so it never holds a stale
// reply; a lane's replies are matched to its calls in the order the calls
// were appended to its write buffer (under one lock), and a reply nobody
// asked for fails the connection; every connection presents the cluster
// secret (DKV.AUTH) before its first command; every open connection,
// lanes' included, holds one of Config.PoolSize slots.
//
// Concurrency: a Client is safe for concurrent use; at most Config.PoolSize
// connections are open at once (calls that need one more wait for a slot,
// within their context). A lane's writer and reader goroutines end when
// its connection fails or the Client is closed.
package peerclient
