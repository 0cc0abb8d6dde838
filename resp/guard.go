package resp

import (
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// readBufferSize is how much a connection reads from the network at once.
const readBufferSize = 16 << 10

// bigArgLen is the size from which an argument makes its command big
// (frameLimits.bigArg): such commands bypass redcon's reader, which would
// hold them twice or more (a buffer grown by doubling, then a copy).
const bigArgLen = 1 << 20

// bigMarker is the name of the placeholder command the framer lets through
// in place of a big command: random per process, so no client can send it.
var bigMarker = func() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "\x00dynakv-big-" + hex.EncodeToString(b[:])
}()

// bigPlaceholder is the framed placeholder command.
var bigPlaceholder = string(appendBulkBytes(appendArrayHeader(nil, 1), []byte(bigMarker)))

// bigCommand returns the arguments of the big command args stands for
// (the next one the framer queued) if args is the placeholder, else args.
// It is called on the connection's redcon goroutine, the one that reads.
func bigCommand(rc interface{ NetConn() net.Conn }, args [][]byte) ([][]byte, bool) {
	if len(args) != 1 || string(args[0]) != bigMarker {
		return args, false
	}
	g, ok := rc.NetConn().(*guardConn)
	if !ok {
		return args, false
	}
	if big := g.f.takeBig(); big != nil {
		return big, true
	}
	return args, false
}

// guardConn is a client connection as redcon sees it: Read returns only
// what the framer let through, so redcon's reader never sees a malformed,
// partial-forever or oversized command. On a violation, once every
// command before it has been read (redcon reads again only after it has
// answered and flushed all it read before), the guard writes the error
// reply straight to the socket and fails the read, and redcon closes the
// connection.
type guardConn struct {
	net.Conn
	srv  *Server
	f    *framer
	rbuf []byte

	// Read state, owned by the connection's redcon goroutine.
	rerr    error
	replied bool

	// noIdle exempts the connection from IdleTimeout: it is in push mode
	// (subscribed or monitoring), and Redis never times out Pub/Sub or
	// MONITOR clients.
	noIdle atomic.Bool

	// peer: the connection presented the cluster secret (Server.markPeer);
	// its bytes count as peer traffic, not client traffic.
	peer atomic.Bool

	closeOnce sync.Once
}

func (g *guardConn) Read(p []byte) (int, error) {
	for {
		if pend := g.f.pending(); len(pend) > 0 {
			n := copy(p, pend)
			g.f.consume(n)
			return n, nil
		}
		if g.f.err != nil {
			if !g.replied {
				g.replied = true
				g.srv.log.Debug("resp: protocol violation", "remote", g.RemoteAddr().String(), "error", g.f.err.Reply)
				_ = g.SetWriteDeadline(time.Now().Add(errorWriteTimeout))
				n, _ := g.Conn.Write(appendError(nil, g.f.err.Reply))
				g.countOut(n)
			}
			return 0, g.f.err
		}
		if g.rerr != nil {
			return 0, g.rerr
		}
		if t := time.Duration(g.srv.adm.idleTimeout.Load()); t > 0 { // timeout, settable
			if g.noIdle.Load() {
				_ = g.SetReadDeadline(time.Time{})
			} else {
				_ = g.SetReadDeadline(time.Now().Add(t))
			}
		}
		if g.rbuf == nil {
			g.rbuf = make([]byte, readBufferSize)
		}
		n, err := g.Conn.Read(g.rbuf)
		if g.peer.Load() {
			g.srv.stats.peerNetIn.Add(int64(n))
		} else {
			g.srv.stats.netIn.Add(int64(n))
		}
		g.f.feed(g.rbuf[:n])
		if err != nil {
			g.rerr = err
		}
	}
}

func (g *guardConn) Write(p []byte) (int, error) {
	if t := g.srv.cfg.WriteTimeout; t > 0 {
		_ = g.SetWriteDeadline(time.Now().Add(t))
	}
	n, err := g.Conn.Write(p)
	g.countOut(n)
	return n, err
}

// countOut counts n bytes written, as client or peer traffic.
func (g *guardConn) countOut(n int) {
	if g.peer.Load() {
		g.srv.stats.peerNetOut.Add(int64(n))
	} else {
		g.srv.stats.netOut.Add(int64(n))
	}
}

// Close closes the connection once and releases its client slot.
func (g *guardConn) Close() error {
	err := net.ErrClosed
	g.closeOnce.Do(func() {
		err = g.Conn.Close()
		g.srv.release(g)
	})
	return err
}

// errorWriteTimeout bounds the writes of a final error reply (protocol
// violation, too many clients), so a client that does not read cannot
// hold the goroutine.
const errorWriteTimeout = time.Second

// guardListener admits connections: it enforces MaxClients, wraps each
// connection in a guardConn (over TLS on a TLS listener), and backs off
// on accept errors instead of letting redcon spin on them.
type guardListener struct {
	net.Listener
	srv  *Server
	kind listenerKind
}

func (l *guardListener) Accept() (net.Conn, error) {
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil, err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.srv.log.Warn("resp: accept failed", "error", err, "retry_in", delay)
			select {
			case <-l.srv.ctx.Done():
				return nil, net.ErrClosed
			case <-time.After(delay):
			}
			continue
		}
		delay = 0
		if l.kind.tls != nil {
			// NB: no handshake here (it would hold the accept loop);
			// tlsServerConn's first Read does it. admit's refusal is
			// written over TLS, under its write deadline.
			c = &tlsServerConn{Conn: tls.Server(c, l.kind.tls)}
		}
		g, err := l.srv.admit(c)
		if err != nil {
			return nil, err
		}
		if g != nil {
			return g, nil
		}
	}
}
