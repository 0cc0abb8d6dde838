//go:build unix

package resp

import (
	"net"
	"syscall"
)

// clientGone reports whether the client closed its end of nc (a raw
// socket, not a guardConn): a non-blocking peek reads end of file. Unread
// bytes (a pipelined command) and an open idle socket both say no; the
// peek consumes nothing, so redcon reads them later as usual.
func clientGone(nc net.Conn) bool { return peekGone(nc, false) }

// awaitClientGone waits until the client closes nc (a raw socket, not a
// guardConn) and returns true, without polling: the runtime's poller
// parks it until the socket turns readable. It returns false, not
// knowing, once the socket is readable with bytes unread (the client
// pipelined a command behind the one being served: closing would then
// read as readable too, so only polling clientGone tells), or when the
// wait fails: nc's read deadline passed (the caller interrupts the wait
// by setting one in the past), or the socket is closed here.
func awaitClientGone(nc net.Conn) bool { return peekGone(nc, true) }

// peekGone peeks at nc for end of file; with wait, an empty socket is
// waited on until it turns readable.
func peekGone(nc net.Conn, wait bool) bool {
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	gone := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, e := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		if wait && (e == syscall.EAGAIN || e == syscall.EWOULDBLOCK) {
			return false // nothing to read: wait until there is
		}
		gone = n == 0 && e == nil
		return true // done; without wait, never wait for readiness
	})
	return err == nil && gone
}
