package resp

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
)

// route is where one key's write runs: here (local), or on node to.
type route struct {
	to    string // "" when local
	local bool
}

// routeWrite runs a write command in a cluster. If this node may
// coordinate every key, the handler runs here; if every key goes to the
// same other node, the whole command is forwarded there. Otherwise a
// command made only of key groups after its name (FirstKey 1, LastKey -1:
// DEL, UNLINK, MSET) is split into one command per key group, each run
// here or forwarded, in order, and their replies combined (see combine);
// any other multi-key write whose keys go different ways is refused with
// CROSSSLOT, as Redis Cluster does.
//
// A peer connection never forwards (the loop guard), and routes without
// the token's "via" node: the node that forwarded the write already chose
// this one, so if this node is one of the key's replicas it coordinates
// the write itself (any replica may, Dynamo §4.5), even when its own
// view of health would have picked another replica (otherwise two nodes
// that disagree on a third's health refuse a write a quorum could serve).
// A write for a key this node does not replicate at all
// (the two nodes' rings disagree) gets the forwarding-loop reply, error
// code codeForwardLoop. The client's node then routes the write again
// after a pause (see forwardRetries), since rings disagree only while a
// change spreads by gossip; the refused write did not run anywhere, so
// running it again is safe.
func (c *Conn) routeWrite(cmd *Command, args [][]byte) {
	if c.peer {
		c.routeWriteOnce(cmd, args)
		return
	}
	for attempt := 0; ; attempt++ {
		rep := c.capture(func() { c.routeWriteOnce(cmd, args) })
		if attempt == len(forwardRetries) || !isForwardLoop(rep.raw) || c.srv.ctx.Err() != nil {
			c.out = append(c.out, rep.raw...)
			return
		}
		c.srv.sleep(forwardRetries[attempt])
	}
}

// codeForwardLoop is the error code of the reply to a write that reached,
// on a peer connection, a node that does not replicate its key (see
// routeWrite). It is Redis Cluster's TRYAGAIN (a request to retry while
// the cluster's layout changes), which Redis cluster clients retry by
// themselves; the node that forwarded the write recognises the loop by
// this code alone (isForwardLoop), never by the message text.
const codeForwardLoop = "TRYAGAIN"

// msgForwardLoop is the whole forwarding-loop error reply, without '-'.
const msgForwardLoop = codeForwardLoop + " forwarding loop: this node does not replicate the key either (the ring is changing)"

// isForwardLoop reports whether raw is an error reply with the
// forwarding-loop code.
func isForwardLoop(raw []byte) bool { return errorCode(raw) == codeForwardLoop }

// errorCode returns the code (the first word) of a raw error reply, ""
// for any other reply.
func errorCode(raw []byte) string {
	if len(raw) == 0 || raw[0] != '-' {
		return ""
	}
	line, _, _ := bytes.Cut(raw[1:], []byte("\r\n"))
	code, _, _ := bytes.Cut(line, []byte(" "))
	return string(code)
}

// forwardRetries are the pauses before routing again a write that met a
// forwarding loop: about a second in all, several gossip rounds.
var forwardRetries = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}

// routeWriteOnce is one routing of a write (see routeWrite).
func (c *Conn) routeWriteOnce(cmd *Command, args [][]byte) {
	cl := c.srv.cfg.Cluster
	pos := keyPositions(cmd, args)
	if len(pos) == 0 {
		cmd.Handler(c, args)
		return
	}
	routes := make([]route, len(pos))
	uniform := true
	routeKey := cl.Route
	if c.peer {
		routeKey = cl.RoutePeer
	}
	if !c.peer && cmd.TokenArg > 0 && cmd.TokenArg < len(args) {
		// Dynamo §6.4: the replica that answered the token's read first
		// coordinates the write, if it may. (Not on a peer connection:
		// see routeWrite.)
		if _, via, err := dvv.DecodeTokenVia(string(args[cmd.TokenArg])); err == nil && via != "" {
			routeKey = func(key []byte) (string, bool) { return cl.RouteVia(key, via) }
		}
	}
	for i, p := range pos {
		// NB: routed by the stored key, whose slot is the user key's.
		if to, local := routeKey(c.storedKey(args[p])); local {
			routes[i] = route{local: true}
		} else {
			routes[i] = route{to: to}
		}
		uniform = uniform && routes[i] == routes[0]
	}
	if uniform {
		c.runRouted(cmd, args, routes[0])
		return
	}
	step := cmd.KeyStep
	if cmd.FirstKey != 1 || cmd.LastKey != -1 || cmd.noSplit {
		c.WriteError(msgCrossSlot)
		return
	}
	if (len(args)-1)%step != 0 {
		// A malformed call (MSET with a missing value): the handler
		// rejects it before writing anything.
		cmd.Handler(c, args)
		return
	}
	replies := make([]subReply, 0, len(routes))
	for i, r := range routes {
		sub := make([][]byte, 0, 1+step)
		sub = append(sub, args[0])
		sub = append(sub, args[1+i*step:1+(i+1)*step]...)
		rep := c.capture(func() { c.runRouted(cmd, sub, r) })
		replies = append(replies, rep)
		if rep.kind == '-' {
			break // stop at the first error, as the handlers do
		}
	}
	c.combine(replies)
}

// runRouted runs args here or forwards them, as r says. A forward that
// never left this node (peer.ErrNotSent: the coordinator could not be
// reached, e.g. it died before gossip noticed) is routed once more by
// Route, which now avoids that node (the failed call made it suspected):
// it runs here if this node is the key's coordinator now, or goes to the
// next one. A forward that may have arrived is never sent twice.
func (c *Conn) runRouted(cmd *Command, args [][]byte, r route) {
	switch {
	case r.local:
		cmd.Handler(c, args)
	case c.peer:
		c.WriteError(msgForwardLoop)
	default:
		if cmd.forward != nil {
			args = cmd.forward(c, args)
		}
		ctx, cancel := c.forwardContext(cmd)
		defer cancel()
		unblocked := func() bool { return false }
		if cmd.Flags&FlagBlocking != 0 { // CLIENT UNBLOCK may end it (blocking.go)
			var done func()
			ctx, unblocked, done = c.blockForward(ctx)
			defer done()
		}
		rep, err := c.srv.cfg.Cluster.Forward(ctx, r.to, c.proto, c.forwardArgs(args))
		if errors.Is(err, peer.ErrNotSent) {
			if pos := keyPositions(cmd, args); len(pos) > 0 {
				switch to, local := c.srv.cfg.Cluster.Route(c.storedKey(args[pos[0]])); {
				case local:
					cmd.Handler(c, args)
					return
				case to != r.to:
					r.to = to
					rep, err = c.srv.cfg.Cluster.Forward(ctx, to, c.proto, c.forwardArgs(args))
				}
			}
		}
		if unblocked() {
			return
		}
		c.relay(r.to, rep, err)
	}
}

// longForwardWait is how long a forward of a longForward command (EVAL,
// EVALSHA, a DKV.EXEC block) may wait for its reply: in effect without
// bound, as a Redis client waits for its script. Only the script ending
// (SCRIPT KILL included), the server's context (closing), the client
// closing its connection (seen within clientCheckEvery) or the peer
// connection breaking (the other node died or closed it) end the wait.
const longForwardWait = 100 * 365 * 24 * time.Hour

// clientCheckEvery is how often a long forward checks whether its client
// has closed the connection (clientGone) when it cannot wait for the close
// (awaitClientGone): the client pipelined more commands, or the platform
// cannot tell. A variable for tests.
var clientCheckEvery = time.Second

// forwardContext returns the context of a forward of cmd: the server's
// context, whose lack of a deadline leaves Cluster.Forward its own
// timeout (the request timeout), or for a longForward command one with a
// deadline longForwardWait away, which replaces that timeout: a script
// that runs longer than the request timeout on the keys' coordinator
// gets its own reply, not NOQUORUM while it goes on running there. That
// context is also cancelled when the client closes its connection (the
// script goes on on the coordinator, as a Redis script outlives its
// client), at once (awaitClientGone) unless the client pipelined more
// commands behind this one, else within clientCheckEvery: a blocked pop
// forwarded to its keys' coordinator must stop waiting there before a
// push it would take for a client that left. The caller must call the
// CancelFunc when the forward returns; it returns once the watch of the
// client's connection has ended.
func (c *Conn) forwardContext(cmd *Command) (context.Context, context.CancelFunc) {
	if !cmd.longForward {
		return c.srv.ctx, func() {}
	}
	ctx, cancel := context.WithDeadline(c.srv.ctx, time.Now().Add(longForwardWait))
	nc := c.netConn()
	if nc == nil {
		return ctx, cancel
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if awaitClientGone(nc) {
			cancel()
			return
		}
		t := time.NewTicker(clientCheckEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if clientGone(nc) {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, func() {
		cancel()
		// NB: a read deadline in the past ends awaitClientGone's wait; the
		// connection's goroutine reads again only after this returns, with
		// no deadline (guardConn.Read sets IdleTimeout's).
		_ = nc.SetReadDeadline(time.Unix(1, 0))
		<-watched
		_ = nc.SetReadDeadline(time.Time{})
	}
}

// keyPositions returns the positions of the key arguments of args, a call
// of cmd (of a FlagMovableKeys command, as its movableKeys says).
func keyPositions(cmd *Command, args [][]byte) []int {
	n := len(args)
	if cmd.movableKeys != nil {
		return cmd.movableKeys(args)
	}
	if cmd.FirstKey <= 0 || cmd.KeyStep <= 0 {
		return nil
	}
	if cmd.FirstKey == 1 && cmd.LastKey == 1 && n > 1 {
		return firstKeyOnly // NB: shared; callers only read positions
	}
	last := cmd.LastKey
	if last < 0 {
		last = n + last
	}
	var pos []int
	for i := cmd.FirstKey; i <= last && i < n; i += cmd.KeyStep {
		pos = append(pos, i)
	}
	return pos
}

// firstKeyOnly is keyPositions' answer for a single-key command, shared
// by every call so the hot path does not allocate it; never modified.
var firstKeyOnly = []int{1}

// subReply is the reply of one part of a split command.
type subReply struct {
	kind byte   // its RESP type byte: '-' error, ':' integer, '+' status, …
	n    int64  // the integer
	text string // the status or error text
	raw  []byte // the whole reply, as encoded for the client
}

// capture runs f, which writes exactly one reply, and returns that reply
// instead of sending it.
func (c *Conn) capture(f func()) subReply {
	mark := len(c.out)
	f()
	raw := bytes.Clone(c.out[mark:])
	c.out = c.out[:mark]
	r := subReply{raw: raw}
	if len(raw) < 3 {
		return r
	}
	r.kind = raw[0]
	line, _, _ := bytes.Cut(raw[1:], []byte("\r\n"))
	switch r.kind {
	case '-', '+':
		r.text = string(line)
	case ':':
		n, err := strconv.ParseInt(string(line), 10, 64)
		if err != nil {
			r.kind = 0
		}
		r.n = n
	}
	return r
}

// combine writes the reply of a split command from its parts' replies: the
// first error if any (the parts after it did not run), the sum if all are
// integers (DEL, UNLINK), +OK if all are +OK (MSET), else the first reply.
func (c *Conn) combine(replies []subReply) {
	allInt, allOK := true, true
	var sum int64
	for _, r := range replies {
		if r.kind == '-' {
			c.WriteRaw(r.raw)
			return
		}
		allInt = allInt && r.kind == ':'
		allOK = allOK && r.kind == '+' && r.text == "OK"
		sum += r.n
	}
	switch {
	case allInt:
		c.WriteInt(sum)
	case allOK:
		c.WriteOK()
	default:
		c.WriteRaw(replies[0].raw)
	}
}

// relay writes the reply of a command forwarded to node to (Cluster.Forward:
// one raw RESP2 reply, or err) byte for byte, except that a null is written
// in the connection's protocol (RESP3's _ for a RESP3 client). A node that
// could not be reached, that refused
// the peer connection (WRONGPASS, NOAUTH or NOPERM: about the link, not
// the command) or whose reply is not one RESP reply yields NOQUORUM: the
// write may or may not have landed.
func (c *Conn) relay(to string, rep []byte, err error) {
	switch {
	case err != nil && c.srv.ctx.Err() != nil:
		c.WriteError(msgShuttingDown)
	case err != nil:
		c.WriteError("NOQUORUM cannot reach replica " + to + " of key: " + err.Error())
	case len(rep) < 3 || !bytes.HasSuffix(rep, []byte("\r\n")):
		c.WriteError("NOQUORUM cannot reach replica " + to + " of key: malformed reply " + strconv.Quote(string(rep)))
	case peerLinkError(errorCode(rep)):
		line, _, _ := bytes.Cut(rep[1:], []byte("\r\n"))
		c.WriteError("NOQUORUM cannot reach replica " + to + " of key: " + string(line))
	case c.proto == 3 && (bytes.Equal(rep, []byte("$-1\r\n")) || bytes.Equal(rep, []byte("*-1\r\n"))):
		c.WriteNull()
	default:
		c.WriteRaw(rep)
	}
}

// peerLinkError reports whether an error code is about the peer
// connection itself (the other node refused the cluster secret), not
// about the forwarded command.
func peerLinkError(code string) bool {
	return code == "WRONGPASS" || code == "NOAUTH" || code == "NOPERM"
}

// sleep pauses for d, or until the server closes.
func (s *Server) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.ctx.Done():
	}
}
