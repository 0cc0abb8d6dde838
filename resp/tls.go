package resp

import (
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"time"
)

// ErrPeerTLS reports a DKV.AUTH refused because the connection is not a
// TLS one whose certificate Config.PeerTLS accepts (tls-cluster yes).
var ErrPeerTLS = errors.New("resp: peer connection without an accepted TLS certificate")

// handshakeTimeout bounds a TLS handshake: a connection that has not
// finished it by then is closed, so a client that connects and says
// nothing (or a plaintext client waiting for a greeting) cannot hold a
// client slot and a goroutine past it, whatever IdleTimeout is. A
// variable for TestTLSHandshakeTimeout only.
var handshakeTimeout = 10 * time.Second

// listenerKind is what a listener's connections are: cluster-aware (the
// cluster-client listener) and TLS (a non-nil config, the server side's).
type listenerKind struct {
	clusterAware bool
	tls          *tls.Config
}

// ServeTLS is Serve for a TLS listener (Redis's tls-port): ln accepts
// plain TCP connections and each is served over TLS with cfg (its
// certificates and ClientAuth, Redis's tls-auth-clients). A connection
// that does not complete the handshake within 10 s, or sends something
// that is not a TLS handshake (a plaintext client), is closed, as Redis
// closes it. CLUSTER SLOTS, SHARDS' "port" and NODES answer its clients
// with the TLS ports (ClusterNode.TLSPort), as Redis answers TLS clients.
func (s *Server) ServeTLS(ln net.Listener, cfg *tls.Config) error {
	return s.serve(ln, listenerKind{tls: cfg})
}

// ServeClusterClientsTLS is ServeClusterClients over TLS (see ServeTLS).
func (s *Server) ServeClusterClientsTLS(ln net.Listener, cfg *tls.Config) error {
	return s.serve(ln, listenerKind{clusterAware: true, tls: cfg})
}

// tlsServerConn is an accepted connection of a TLS listener. Its first
// Read runs the handshake under handshakeTimeout; redcon's goroutine, the
// only reader, does it, so the accept loop never waits for a client.
type tlsServerConn struct {
	*tls.Conn
	shaken bool // owned by the reader
}

func (c *tlsServerConn) Read(p []byte) (int, error) {
	if !c.shaken {
		c.shaken = true
		_ = c.Conn.SetDeadline(time.Now().Add(handshakeTimeout))
		if err := c.Conn.Handshake(); err != nil {
			return 0, err
		}
		_ = c.Conn.SetDeadline(time.Time{})
	}
	return c.Conn.Read(p)
}

// connTLS returns the TLS state of the connection under nc (a guardConn
// of a TLS listener), false for a plaintext one.
func connTLS(nc net.Conn) (tls.ConnectionState, bool) {
	if g, ok := nc.(*guardConn); ok {
		nc = g.Conn
	}
	if t, ok := nc.(*tlsServerConn); ok {
		return t.ConnectionState(), true
	}
	return tls.ConnectionState{}, false
}

// peerTLSCheck is DKV.AUTH's check under Config.PeerTLS: nil if the
// connection is TLS, its handshake done, and PeerTLS accepts its state.
func (c *Conn) peerTLSCheck() error {
	if c.srv.cfg.PeerTLS == nil {
		return nil
	}
	if c.rc == nil {
		return ErrPeerTLS
	}
	st, ok := connTLS(c.rc.NetConn())
	if !ok || !st.HandshakeComplete {
		return ErrPeerTLS
	}
	if err := c.srv.cfg.PeerTLS(st); err != nil {
		return errors.Join(ErrPeerTLS, err)
	}
	return nil
}

// listenerPort returns the port of the first listener of the kind given
// that is not cluster-aware (the plaintext one is Redis's port, the TLS
// one its tls-port), 0 if there is none.
func (s *Server) listenerPort(tlsOn bool) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, ln := range s.lns {
		g := ln.(*guardListener)
		if g.kind.clusterAware || (g.kind.tls != nil) != tlsOn {
			continue
		}
		if a, ok := g.Addr().(*net.TCPAddr); ok {
			return a.Port
		}
	}
	return 0
}

// portString is listenerPort as CONFIG GET shows it.
func (s *Server) portString(tlsOn bool) string { return strconv.Itoa(s.listenerPort(tlsOn)) }
