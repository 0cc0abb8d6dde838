//go:build !unix

package resp

import "net"

// clientGone cannot tell on this platform: a long forward then waits
// until its reply, the server closing or the peer connection breaking.
func clientGone(net.Conn) bool { return false }

// awaitClientGone cannot tell on this platform either: it returns false
// at once, and the caller polls clientGone.
func awaitClientGone(net.Conn) bool { return false }
