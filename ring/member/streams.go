package member

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// errStreamsClosed is what a stream dial returns once the transport has
// shut down.
var errStreamsClosed = errors.New("member: transport shut down")

// streams wraps memberlist's transport so that Shutdown ends the stream
// (TCP) connections this node dialed: push/pull and joins (Join, the
// rejoin and reconnect loops) and SendReliable.
//
// memberlist bounds each step of an outbound stream (dial, send, receive)
// only by its TCPTimeout, and its Shutdown closes its listeners but not
// the connections it dialed. So a join to an address that accepts and
// never answers (a RESP port waiting for the end of an inline command, a
// black hole) held the caller, and a Shutdown waiting for it, for up to
// TCPTimeout per step and address. With streams, Shutdown closes them,
// so the join fails at once; a dial started after Shutdown fails with
// errStreamsClosed. Dials of memberlist's own NetTransport are also
// cancelled by Shutdown (a SYN to a black hole), those of another
// transport run to their timeout.
type streams struct {
	memberlist.NodeAwareTransport
	net bool // the inner transport is a *memberlist.NetTransport

	ctx    context.Context // cancelled by Shutdown
	cancel context.CancelFunc

	mu     sync.Mutex
	closed bool
	conns  map[*stream]struct{}
}

// newStreams wraps t, which must be a memberlist.NodeAwareTransport (both
// memberlist's NetTransport and membertest's Transport are) or is given
// one with nodeAware.
func newStreams(t memberlist.Transport) *streams {
	nat, ok := t.(memberlist.NodeAwareTransport)
	if !ok {
		nat = nodeAware{t}
	}
	_, isNet := t.(*memberlist.NetTransport)
	ctx, cancel := context.WithCancel(context.Background())
	return &streams{NodeAwareTransport: nat, net: isNet, ctx: ctx, cancel: cancel, conns: make(map[*stream]struct{})}
}

// DialTimeout implements memberlist.Transport.
func (s *streams) DialTimeout(addr string, timeout time.Duration) (net.Conn, error) {
	return s.DialAddressTimeout(memberlist.Address{Addr: addr}, timeout)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport: the inner
// transport's dial (a cancellable one for NetTransport, as its own:
// net.Dialer{Timeout}), tracked until closed.
func (s *streams) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	if err := s.ctx.Err(); err != nil {
		return nil, errStreamsClosed
	}
	var c net.Conn
	var err error
	if s.net {
		d := net.Dialer{Timeout: timeout}
		c, err = d.DialContext(s.ctx, "tcp", a.Addr)
	} else {
		c, err = s.NodeAwareTransport.DialAddressTimeout(a, timeout)
	}
	if err != nil {
		if s.ctx.Err() != nil {
			return nil, errStreamsClosed
		}
		return nil, err
	}
	st := &stream{Conn: c, s: s}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		_ = c.Close()
		return nil, errStreamsClosed
	}
	s.conns[st] = struct{}{}
	return st, nil
}

// Shutdown implements memberlist.Transport: the inner transport's, then
// the dialed streams still open are closed.
func (s *streams) Shutdown() error {
	err := s.NodeAwareTransport.Shutdown()
	s.cancel()
	s.mu.Lock()
	s.closed = true
	open := s.conns
	s.conns = nil
	s.mu.Unlock()
	for c := range open {
		_ = c.Conn.Close()
	}
	return err
}

// stream is a dialed connection, forgotten by streams when closed.
type stream struct {
	net.Conn
	s *streams
}

// Close implements net.Conn.
func (c *stream) Close() error {
	c.s.mu.Lock()
	delete(c.s.conns, c)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// nodeAware adapts a plain memberlist.Transport, as memberlist's own
// (unexported) shim does: node names are dropped.
type nodeAware struct{ memberlist.Transport }

// WriteToAddress implements memberlist.NodeAwareTransport.
func (t nodeAware) WriteToAddress(b []byte, a memberlist.Address) (time.Time, error) {
	return t.WriteTo(b, a.Addr)
}

// DialAddressTimeout implements memberlist.NodeAwareTransport.
func (t nodeAware) DialAddressTimeout(a memberlist.Address, timeout time.Duration) (net.Conn, error) {
	return t.DialTimeout(a.Addr, timeout)
}

// netTransport creates memberlist's UDP/TCP transport on host:port, as
// memberlist.Create does when given none (up to 10 tries when port is 0:
// the UDP and TCP sockets must get the same free port); it returns the
// transport and the port bound.
func netTransport(host string, port int, mc *memberlist.Config) (*memberlist.NetTransport, int, error) {
	nc := &memberlist.NetTransportConfig{BindAddrs: []string{host}, BindPort: port, Logger: mc.Logger, MetricLabels: mc.MetricLabels}
	tries := 1
	if port == 0 {
		tries = 10
	}
	var err error
	for range tries {
		var nt *memberlist.NetTransport
		if nt, err = memberlist.NewNetTransport(nc); err == nil {
			if port == 0 {
				port = nt.GetAutoBindPort()
			}
			return nt, port, nil
		}
		if !strings.Contains(err.Error(), "address already in use") {
			break
		}
	}
	return nil, 0, fmt.Errorf("could not set up network transport: %w", err)
}
