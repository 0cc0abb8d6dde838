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
func clientGone(nc net.Conn) bool {
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
		gone = n == 0 && e == nil
		return true // never wait for readiness
	})
	return err == nil && gone
}
