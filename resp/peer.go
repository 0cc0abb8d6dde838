package resp

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"sync/atomic"

	"github.com/dynakv/dynakv/peer"
)

// peerCommands are the internal commands resp itself serves, registered
// when Config.ClusterSecret is set: DKV.AUTH, which turns a connection into
// a peer connection. The replica operations (DKV.GET, DKV.MERGE, …) are
// served by package peerserver, which the node registers with Register.
func peerCommands() []Command {
	return []Command{
		// DKV.AUTH is the one internal command allowed on any connection
		// (even before AUTH): it turns the connection into a peer one.
		{Name: strings.ToLower(peer.CmdAuth), Arity: 2, Flags: FlagNoAuth | FlagFast | FlagLoading | FlagStale, Handler: cmdPeerAuth},
		{Name: strings.ToLower(peer.CmdForward3), Arity: -2, Flags: FlagPeer, Handler: cmdForward3},
		blockCommand, // DKV.EXEC (cmd_tx.go)
		{Name: strings.ToLower(peer.CmdPublish), Arity: -4, Flags: FlagPeer, Handler: cmdPeerPublish},
		{Name: strings.ToLower(peer.CmdNotifyConfig), Arity: 2, Flags: FlagPeer, Handler: cmdPeerNotifyConfig},
		{Name: strings.ToLower(peer.CmdDB), Arity: -3, Flags: FlagPeer, Handler: cmdPeerDB},
		{Name: strings.ToLower(peer.CmdNoBlock), Arity: -2, Flags: FlagPeer, Handler: cmdPeerNoBlock},
		{Name: strings.ToLower(peer.CmdACL), Arity: -4, Flags: FlagPeer, Handler: cmdPeerACL},
	}
}

// cmdPeerAuth is DKV.AUTH secret: with the cluster secret (compared in
// constant time) the connection becomes a peer connection, authenticated
// even when RequirePass is set; with anything else the client gets
// "-WRONGPASS invalid cluster secret" and the connection is closed, so a
// guesser gets one try per connection. Under Config.PeerTLS the
// connection must also be TLS with a certificate PeerTLS accepts; if not,
// the reply is the same.
func cmdPeerAuth(c *Conn, args [][]byte) {
	// NB: comparing digests keeps the secret's length out of the timing.
	got, want := sha256.Sum256(args[1]), sha256.Sum256([]byte(c.srv.cfg.ClusterSecret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 || c.peerTLSCheck() != nil {
		c.WriteError(msgBadSecret)
		c.quit = true
		return
	}
	c.authed = true
	c.srv.markPeer(c)
	// exec counted this DKV.AUTH as a client's command, and admit the
	// connection as a client's (total_connections_received): both are
	// the peer's. (Not below zero, should CONFIG RESETSTAT come between.)
	st := &c.srv.stats
	decr(&st.commands)
	decr(&st.connsReceived)
	st.peerCommands.Add(1)
	c.WriteOK()
}

// cmdForward3 is DKV.FWD3 command [arg ...]: the forwarded command of a
// RESP3 client, run as on a RESP3 connection (its reply in RESP3), then the
// peer connection goes back to its own protocol.
func cmdForward3(c *Conn, args [][]byte) {
	proto := c.proto
	c.proto = 3
	defer func() { c.proto = proto }()
	c.exec(args[1:])
}

// decr decrements v unless it is already 0.
func decr(v *atomic.Int64) {
	for n := v.Load(); n > 0 && !v.CompareAndSwap(n, n-1); n = v.Load() {
	}
}
