package resp

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/acl"
	"github.com/tidwall/redcon"
)

// Conn is one client connection as command handlers see it: its session
// state (protocol version, authentication, name) and the writer of its
// replies. A Conn is used by one goroutine at a time, the connection's
// own; handlers must not keep it after they return.
//
// Replies are encoded for the connection's protocol: RESP2 until the
// client switches with HELLO 3, then RESP3 (maps, sets, nulls, verbatim
// strings). Each handler must write exactly one reply (which may be an
// aggregate with its elements).
type Conn struct {
	srv *Server
	rc  redcon.Conn // nil when driven directly (tests, fuzzing)
	// workers are zero Conns kept for the workers of this connection's
	// next concurrent batch (runConcurrent, workerConns): at most
	// keptWorkers, one per key group of a pipelined batch; a Conn is too
	// big to allocate for every group of every batch.
	workers []Conn
	id      int64
	addr    string
	laddr   string
	created time.Time

	// clusterAware: arrived on the cluster-client listener, so keyspace
	// counts cover only the slots this node is master of (scan.go).
	clusterAware bool
	// tls: arrived on a TLS listener, so the CLUSTER commands show the
	// nodes' TLS ports (Redis answers a TLS client so).
	tls bool

	authed bool
	user   atomic.Pointer[acl.User] // the ACL user it is authenticated as (acl.go); nil on a zero Conn
	asUser *acl.User                // on a peer connection, inside DKV.ACL: the forwarded command's user
	peer   bool                     // presented the cluster secret (DKV.AUTH): another node
	quit   bool
	out    []byte    // replies of the current command, handed to redcon after it
	adm    connAdmin // server and admin commands' state (cmd_admin.go)

	tx      txState                // MULTI queue and WATCHed keys (cmd_tx.go)
	unitCtx context.Context        // while inside runUnit: the unit's context, else nil
	noBlock bool                   // running EXEC's block or a DKV.NOBLOCK: blocking commands don't block
	push    atomic.Pointer[pusher] // set once the connection subscribes or monitors (cmd_pubsub.go)

	lastCmd    atomic.Pointer[Command]
	lastActive atomic.Int64 // Unix nanoseconds

	// mu guards the fields below against CLIENT LIST of other connections:
	// they are written under mu; the owner reads them without.
	mu      sync.Mutex
	proto   int
	name    string
	libName string
	libVer  string
	db      int // the selected database (SELECT), 0..ring.Databases-1
}

func newConn(s *Server, rc redcon.Conn, addr, laddr string) *Conn {
	now := time.Now()
	c := &Conn{
		srv:     s,
		rc:      rc,
		id:      s.nextID.Add(1),
		addr:    addr,
		laddr:   laddr,
		created: now,
		proto:   2,
		authed:  s.defaultAuthed(),
	}
	c.user.Store(s.acl.users.Default())
	c.lastActive.Store(now.UnixNano())
	return c
}

// ID returns the connection's id (CLIENT ID).
func (c *Conn) ID() int64 { return c.id }

// Protocol returns the connection's RESP version, 2 or 3.
func (c *Conn) Protocol() int { return c.proto }

// Authenticated reports whether the client may run commands.
func (c *Conn) Authenticated() bool { return c.authed }

// Peer reports whether the connection is another node's: it presented
// the cluster secret with DKV.AUTH.
func (c *Conn) Peer() bool { return c.peer }

// RemoteAddr returns the client's address.
func (c *Conn) RemoteAddr() string { return c.addr }

// Name returns the name the client gave itself (CLIENT SETNAME).
func (c *Conn) Name() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.name
}

// Context returns the context handlers pass to the backend: the server's,
// cancelled when the server closes, or inside a unit (runUnit) the
// unit's, which marks its keys' locks as held.
func (c *Conn) Context() context.Context {
	if c.unitCtx != nil {
		return c.unitCtx
	}
	return c.srv.ctx
}

// WriteOK writes the simple string OK.
func (c *Conn) WriteOK() { c.out = append(c.out, "+OK\r\n"...) }

// WriteSimple writes a simple (status) string; newlines become spaces.
func (c *Conn) WriteSimple(s string) { c.out = redcon.AppendString(c.out, s) }

// WriteError writes an error reply. msg starts with its code, as in
// "ERR syntax error" or "NOQUORUM …"; newlines become spaces, so a reply
// can never break the stream.
func (c *Conn) WriteError(msg string) { c.out = appendError(c.out, msg) }

// WriteErr writes the error reply Redis clients expect for err (see the
// package documentation for the mapping).
func (c *Conn) WriteErr(err error) { c.WriteError(errorReply(err)) }

// WriteInt writes an integer.
func (c *Conn) WriteInt(n int64) { c.out = redcon.AppendInt(c.out, n) }

// WriteBulk writes a bulk string.
func (c *Conn) WriteBulk(b []byte) { c.out = redcon.AppendBulk(c.out, b) }

// WriteBulkString writes a bulk string.
func (c *Conn) WriteBulkString(s string) { c.out = redcon.AppendBulkString(c.out, s) }

// WriteNull writes a null: the null bulk string in RESP2, "_" in RESP3.
func (c *Conn) WriteNull() {
	if c.proto == 3 {
		c.out = append(c.out, "_\r\n"...)
	} else {
		c.out = append(c.out, "$-1\r\n"...)
	}
}

// WriteNullArray writes a null array: "*-1" in RESP2, "_" in RESP3.
func (c *Conn) WriteNullArray() {
	if c.proto == 3 {
		c.out = append(c.out, "_\r\n"...)
	} else {
		c.out = append(c.out, "*-1\r\n"...)
	}
}

// WriteArray writes the header of an array of n elements, which the
// caller writes next.
func (c *Conn) WriteArray(n int) { c.out = redcon.AppendArray(c.out, n) }

// WriteMap writes the header of a map of n key-value pairs (2n elements
// follow): a RESP3 map, or a flat array in RESP2.
func (c *Conn) WriteMap(n int) {
	if c.proto == 3 {
		c.out = appendHeader(c.out, '%', n)
	} else {
		c.out = redcon.AppendArray(c.out, 2*n)
	}
}

// WriteSet writes the header of a set of n elements: a RESP3 set, or an
// array in RESP2.
func (c *Conn) WriteSet(n int) {
	if c.proto == 3 {
		c.out = appendHeader(c.out, '~', n)
	} else {
		c.out = redcon.AppendArray(c.out, n)
	}
}

// WriteVerbatim writes text as a RESP3 verbatim string of format "txt",
// or as a bulk string in RESP2 (as Redis replies INFO and CLIENT LIST).
func (c *Conn) WriteVerbatim(text string) {
	if c.proto != 3 {
		c.WriteBulkString(text)
		return
	}
	c.out = appendHeader(c.out, '=', len(text)+4)
	c.out = append(c.out, "txt:"...)
	c.out = append(c.out, text...)
	c.out = append(c.out, '\r', '\n')
}

// WriteRaw writes bytes that must already be a RESP reply.
func (c *Conn) WriteRaw(b []byte) { c.out = append(c.out, b...) }

func appendHeader(b []byte, t byte, n int) []byte {
	b = append(b, t)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendError(b []byte, msg string) []byte {
	b = append(b, '-')
	for i := 0; i < len(msg); i++ {
		if ch := msg[i]; ch == '\r' || ch == '\n' {
			b = append(b, ' ')
		} else {
			b = append(b, ch)
		}
	}
	return append(b, '\r', '\n')
}
