// Package membertest provides an in-memory network for memberlist, so that
// tests of package member (and in-process cluster harnesses) run clusters
// without sockets.
//
// It plays the role httptest plays for net/http. memberlist ships a
// MockNetwork, but its channels are unbuffered and it has no notion of a node
// that has gone away: a packet sent to a shut-down node blocks the sender
// forever. This Network behaves like an IP network instead:
//
//   - packets (memberlist's UDP path) are delivered through a buffered queue
//     and silently dropped when the destination is down, cut off, or its
//     queue is full;
//   - streams (memberlist's TCP path) are net.Pipe pairs; dialing a down or
//     cut-off address fails at once, like a refused connection;
//   - an address is free again once its transport has shut down, so a node
//     can be "restarted" at the same address with a new transport.
//
// All methods are safe for concurrent use.
package membertest
