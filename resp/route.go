package resp

import (
	"bytes"
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/replica/dvv"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// route is where one key's write runs: here (local), or on node to.
type route struct {
	to    string // "" when local
	local bool
}

// ViaRouter is implemented by a Cluster that can route a versioned write
// to the replica its context token names (the one that answered the read
// first), when that node is a healthy replica of the key; otherwise it
// routes as Route does.
type ViaRouter interface {
	RouteVia(key []byte, via string) (to string, local bool)
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
// A peer connection never forwards (the loop guard): a write that arrives
// from another node for a key this node does not coordinate either (the
// two nodes' rings disagree) gets "-ERR forwarding loop". The client's
// node then routes the write again after a pause (see forwardRetries),
// since rings disagree only while a change spreads by gossip; the refused
// write did not run anywhere, so running it again is safe.
func (c *Conn) routeWrite(cmd *Command, args [][]byte) {
	if c.peer {
		c.routeWriteOnce(cmd, args)
		return
	}
	for attempt := 0; ; attempt++ {
		rep := c.capture(func() { c.routeWriteOnce(cmd, args) })
		if attempt == len(forwardRetries) || rep.kind != '-' || rep.text != msgForwardLoop || c.srv.ctx.Err() != nil {
			c.out = append(c.out, rep.raw...)
			return
		}
		c.srv.sleep(forwardRetries[attempt])
	}
}

// forwardRetries are the pauses before routing again a write that met a
// forwarding loop: about a second in all, several gossip rounds.
var forwardRetries = []time.Duration{50 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond, 400 * time.Millisecond}

// routeWriteOnce is one routing of a write (see routeWrite).
func (c *Conn) routeWriteOnce(cmd *Command, args [][]byte) {
	cl := c.srv.cfg.Cluster
	pos := keyPositions(cmd, len(args))
	if len(pos) == 0 {
		cmd.Handler(c, args)
		return
	}
	routes := make([]route, len(pos))
	uniform := true
	routeKey := cl.Route
	if vr, ok := cl.(ViaRouter); ok && cmd.TokenArg > 0 && cmd.TokenArg < len(args) {
		// Dynamo §6.4: the replica that answered the token's read first
		// coordinates the write, if it may.
		if _, via, err := dvv.DecodeTokenVia(string(args[cmd.TokenArg])); err == nil && via != "" {
			routeKey = func(key []byte) (string, bool) { return vr.RouteVia(key, via) }
		}
	}
	for i, p := range pos {
		if to, local := routeKey(args[p]); local {
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
	if cmd.FirstKey != 1 || cmd.LastKey != -1 {
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

// runRouted runs args here or forwards them, as r says.
func (c *Conn) runRouted(cmd *Command, args [][]byte, r route) {
	switch {
	case r.local:
		cmd.Handler(c, args)
	case c.peer:
		c.WriteError(msgForwardLoop)
	default:
		c.forward(cmd, args, r.to)
	}
}

// keyPositions returns the positions of the key arguments of a call of
// cmd with n arguments.
func keyPositions(cmd *Command, n int) []int {
	if cmd.FirstKey <= 0 || cmd.KeyStep <= 0 {
		return nil
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

// forward sends args to node to and writes its reply, converted to the
// connection's protocol.
func (c *Conn) forward(cmd *Command, args [][]byte, to string) {
	v, err := c.srv.cfg.Cluster.Forward(c.srv.ctx, to, args)
	if err != nil {
		c.writeForwardError(to, err)
		return
	}
	c.writeForwarded(v, !valueReply(cmd, args))
}

// writeForwardError writes the reply for a Forward error: a null for
// redis.Nil, an error reply's text verbatim, and for a node that could not
// be reached (or refused the peer connection) NOQUORUM: the write may or
// may not have landed.
func (c *Conn) writeForwardError(to string, err error) {
	var re redis.Error
	switch {
	case errors.Is(err, redis.Nil):
		c.WriteNull()
	case errors.As(err, &re) && !peerLinkError(re.Error()):
		c.WriteError(re.Error())
	case c.srv.ctx.Err() != nil:
		c.WriteError(msgShuttingDown)
	default:
		c.WriteError("NOQUORUM cannot reach replica " + to + " of key: " + err.Error())
	}
}

// peerLinkError reports whether an error reply is about the peer
// connection itself (the other node refused the cluster secret), not
// about the forwarded command.
func peerLinkError(msg string) bool {
	for _, p := range []string{"WRONGPASS ", "NOAUTH ", "NOPERM "} {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

// valueReply reports whether cmd, called with args, replies with a stored
// value (which may read "OK") rather than a status: go-redis decodes both
// "+OK" and "$2\r\nOK" as "OK", and a forwarded "OK" is written back as a
// status unless the command returns values.
func valueReply(cmd *Command, args [][]byte) bool {
	switch cmd.Name {
	case "getset", "getdel", "getex", "vset", "vdel":
		return true
	case "set":
		for _, a := range args[min(3, len(args)):] {
			if equalFold(a, "get") {
				return true
			}
		}
	}
	return false
}

// writeForwarded writes a reply decoded by go-redis in the connection's
// protocol; status says whether a top-level "OK" is the status +OK.
func (c *Conn) writeForwarded(v any, status bool) {
	switch v := v.(type) {
	case nil:
		c.WriteNull()
	case string:
		if status && v == "OK" {
			c.WriteOK()
		} else {
			c.WriteBulkString(v)
		}
	case []byte:
		c.WriteBulk(v)
	case int64:
		c.WriteInt(v)
	case int:
		c.WriteInt(int64(v))
	case bool:
		switch {
		case c.proto == 3 && v:
			c.WriteRaw([]byte("#t\r\n"))
		case c.proto == 3:
			c.WriteRaw([]byte("#f\r\n"))
		case v:
			c.WriteInt(1)
		default:
			c.WriteInt(0)
		}
	case float64:
		s := strconv.FormatFloat(v, 'g', -1, 64)
		switch {
		case math.IsInf(v, 1):
			s = "inf"
		case math.IsInf(v, -1):
			s = "-inf"
		case math.IsNaN(v):
			s = "nan"
		}
		if c.proto == 3 {
			c.WriteRaw([]byte("," + s + "\r\n"))
		} else {
			c.WriteBulkString(s)
		}
	case []any:
		c.WriteArray(len(v))
		for _, e := range v {
			c.writeForwarded(e, false)
		}
	case map[any]any:
		c.WriteMap(len(v))
		for k, e := range v {
			c.writeForwarded(k, false)
			c.writeForwarded(e, false)
		}
	case error: // an error element of an array
		c.WriteError(v.Error())
	default:
		c.WriteBulkString(fmt.Sprint(v))
	}
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
