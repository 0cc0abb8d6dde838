// Package peerserver is the serving side of the node-to-node protocol: the
// handlers of the internal commands (peer.CmdGet, peer.CmdMerge, …, see
// package peer for their shapes) over this node's own peer.Replica, as
// resp.Command entries that the node registers into its resp.Server
// (Register). DKV.AUTH, which turns a connection into a peer connection,
// stays in resp: it is connection state, not a replica operation.
//
// Invariants: every command carries resp.FlagPeer, so the dispatcher
// refuses it on a connection that has not presented the cluster secret
// and COMMAND does not list it; none carries FlagWrite, so none is routed
// or forwarded. A request whose arguments do not parse, or whose object
// does not decode, is refused with an error reply before the local replica
// is touched (DKV.MERGEMANY refuses the whole batch). Pages are bounded by
// peer.MaxScanCount whatever the count asked.
//
// Concurrency: the handlers run on the server's connection goroutines,
// concurrently; the local replica must be safe for that. They run under
// the server's context (resp.Conn.Context), so closing the server cancels
// them.
package peerserver
