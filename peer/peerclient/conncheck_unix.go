//go:build unix

package peerclient

import (
	"errors"
	"io"
	"net"
	"syscall"
)

// errUnread reports an idle connection holding bytes nobody asked for.
var errUnread = errors.New("peerclient: unread bytes on an idle connection")

// connCheck reports whether an idle connection is still open and holds no
// unread bytes, by peeking at the socket without blocking (the way
// go-redis checks pooled connections). NB: a read with an expired deadline
// cannot tell: Go's poller returns the timeout before it reads, so a
// connection whose peer died would pass. A TLS connection (tls-cluster)
// is checked at its socket: after a complete reply it holds no record
// either (the session tickets of TLS 1.3 come before the first reply), so
// bytes there are a close_notify alert or a reply nobody asked for.
func connCheck(c net.Conn) error {
	if tc, ok := c.(interface{ NetConn() net.Conn }); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return err
	}
	var check error
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case n == 0 && e == nil:
			check = io.EOF
		case n > 0:
			check = errUnread
		case errors.Is(e, syscall.EAGAIN) || errors.Is(e, syscall.EWOULDBLOCK):
			check = nil
		default:
			check = e
		}
		return true
	})
	if err != nil {
		return err
	}
	return check
}
