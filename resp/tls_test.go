package resp

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/tlstest"
)

// tlsServer is a testServer that also serves a TLS listener, at tlsAddr.
type tlsServer struct {
	*testServer
	tlsAddr string
	ca      *tlstest.CA
	cert    tlstest.Cert // signed by ca: what the tests' clients present
}

// startTLSServer starts a server with a plaintext listener and a TLS one
// whose certificate a fresh CA signed and whose ClientAuth is auth.
func startTLSServer(t *testing.T, cfg Config, auth tls.ClientAuthType) *tlsServer {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	srvCert := ca.Issue(t, "server")
	ts := startServer(t, cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sc := &tls.Config{Certificates: []tls.Certificate{srvCert.TLS}, ClientCAs: ca.Pool, ClientAuth: auth}
	go func() { _ = ts.ServeTLS(ln, sc) }() // ends with the server's Close (startServer's cleanup)
	return &tlsServer{testServer: ts, tlsAddr: ln.Addr().String(), ca: ca, cert: ca.Issue(t, "client")}
}

// dialTLS connects to the TLS listener with cfg (no handshake yet: the
// first read or write does it).
func (ts *tlsServer) dialTLS(t *testing.T, cfg *tls.Config) *rawClient {
	t.Helper()
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", ts.tlsAddr, cfg)
	if err != nil {
		// TLS 1.2 reports a refused client certificate here.
		t.Logf("dial: %v", err)
		return nil
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// refused reports whether the server refused r (nil: refused at the
// handshake) when it sends PING: no reply, the connection ended.
func refused(r *rawClient) error {
	if r == nil {
		return nil
	}
	_ = r.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.conn.Write([]byte("PING\r\n")); err != nil {
		return nil
	}
	s, err := readReply(r.br)
	var ne net.Error
	switch {
	case err == nil:
		return fmt.Errorf("got a reply %q", s)
	case errors.As(err, &ne) && ne.Timeout():
		return errors.New("timed out instead of a closed connection")
	}
	return nil
}

// waitClients polls until the server counts n connected clients: the
// refused connections were released, their goroutines done.
func waitClients(t *testing.T, s *Server, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for s.Stats().ConnectedClients != n {
		if time.Now().After(deadline) {
			t.Fatalf("connected clients %d, want %d", s.Stats().ConnectedClients, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTLSListener: Redis's tls-port with tls-auth-clients yes. A client
// with a certificate the CA signed is served; a client without one, a
// client whose certificate another CA signed and a plaintext client on
// the TLS port are refused (connection closed, as Redis does) and leave
// nothing behind; CONFIG GET port and tls-port and INFO's tcp_port name
// the two listeners.
func TestTLSListener(t *testing.T) {
	ts := startTLSServer(t, Config{}, tls.RequireAndVerifyClientCert)
	good := ts.dialTLS(t, ts.ca.ClientConfig(&ts.cert))
	if got := good.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING over TLS = %q", got)
	}
	if got := good.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET over TLS = %q", got)
	}
	if got := good.do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET over TLS = %q", got)
	}
	_, tlsPort, _ := net.SplitHostPort(ts.tlsAddr)
	_, port, _ := net.SplitHostPort(ts.addr)
	want := fmt.Sprintf("*4\r\n$4\r\nport\r\n$%d\r\n%s\r\n$8\r\ntls-port\r\n$%d\r\n%s\r\n", len(port), port, len(tlsPort), tlsPort)
	if got := good.do("CONFIG", "GET", "port", "tls-port"); got != want {
		t.Errorf("CONFIG GET port tls-port = %q, want %q", got, want)
	}
	if got := good.do("INFO", "server"); !strings.Contains(got, "tcp_port:"+port+"\r\n") {
		t.Errorf("INFO server lacks tcp_port:%s", port)
	}

	other := tlstest.NewCA(t, t.TempDir(), "other")
	stranger := other.Issue(t, "stranger")
	for name, r := range map[string]*rawClient{
		"no certificate":           ts.dialTLS(t, ts.ca.ClientConfig(nil)),
		"another CA's certificate": ts.dialTLS(t, ts.ca.ClientConfig(&stranger)),
		"plaintext":                dialRaw(t, ts.tlsAddr),
	} {
		if err := refused(r); err != nil {
			t.Errorf("%s on the TLS port: %v", name, err)
		}
	}
	waitClients(t, ts.Server, 1) // the good client only
	if got := good.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING over TLS after the refusals = %q", got)
	}
}

// TestTLSAuthClientsOptionalAndNo: tls-auth-clients optional serves a
// client without a certificate and refuses one whose certificate another
// CA signed; no serves both.
func TestTLSAuthClientsOptionalAndNo(t *testing.T) {
	for _, tc := range []struct {
		name            string
		auth            tls.ClientAuthType
		strangerRefused bool
	}{
		{"optional", tls.VerifyClientCertIfGiven, true},
		{"no", tls.NoClientCert, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := startTLSServer(t, Config{}, tc.auth)
			if got := ts.dialTLS(t, ts.ca.ClientConfig(nil)).do("PING"); got != "+PONG\r\n" {
				t.Errorf("PING without a certificate = %q", got)
			}
			stranger := tlstest.NewCA(t, t.TempDir(), "other").Issue(t, "stranger")
			r := ts.dialTLS(t, ts.ca.ClientConfig(&stranger))
			if tc.strangerRefused {
				if err := refused(r); err != nil {
					t.Errorf("another CA's certificate: %v", err)
				}
			} else if got := r.do("PING"); got != "+PONG\r\n" {
				t.Errorf("PING with another CA's certificate = %q", got)
			}
		})
	}
}

// TestTLSPortOnly: with only a TLS listener (Redis's port 0), CONFIG GET
// port is 0.
func TestTLSPortOnly(t *testing.T) {
	s := New(Config{}, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.ServeTLS(ln, &tls.Config{}) }()
	defer func() { s.Close(); <-done }()
	for s.Addr() == nil {
		time.Sleep(time.Millisecond)
	}
	if got := s.portString(false); got != "0" {
		t.Errorf("port = %s, want 0", got)
	}
	if got := s.portString(true); got != strconv.Itoa(ln.Addr().(*net.TCPAddr).Port) {
		t.Errorf("tls-port = %s, want %v", got, ln.Addr())
	}
}

// TestPeerAuthNeedsTLS: under Config.PeerTLS (tls-cluster yes) the
// cluster secret is refused on a plaintext connection and on a TLS one
// whose certificate PeerTLS refuses, with the wrong secret's reply, and
// accepted on a TLS one it accepts.
func TestPeerAuthNeedsTLS(t *testing.T) {
	cfg := Config{ClusterSecret: testSecret, PeerTLS: func(st tls.ConnectionState) error {
		if len(st.PeerCertificates) == 0 {
			return errors.New("no certificate")
		}
		return nil
	}}
	ts := startTLSServer(t, cfg, tls.RequestClientCert)
	auth := multibulk("DKV.AUTH", testSecret)
	plain := dialRaw(t, ts.addr)
	plain.send(auth)
	if got := plain.reply(); got != "-"+msgBadSecret+"\r\n" {
		t.Errorf("DKV.AUTH on plaintext = %q", got)
	}
	plain.expectEOF()
	anon := ts.dialTLS(t, ts.ca.ClientConfig(nil))
	anon.send(auth)
	if got := anon.reply(); got != "-"+msgBadSecret+"\r\n" {
		t.Errorf("DKV.AUTH over TLS without a certificate = %q", got)
	}
	anon.expectEOF()
	peer := ts.dialTLS(t, ts.ca.ClientConfig(&ts.cert))
	if got := peer.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
		t.Errorf("DKV.AUTH over TLS with a certificate = %q", got)
	}
	if got := peer.do("DKV.AUTH", "wrong"); got != "-"+msgBadSecret+"\r\n" {
		t.Errorf("DKV.AUTH with a wrong secret over TLS = %q", got)
	}
}

// TestClusterTLSPorts: as Redis (shouldReturnTlsInfo), CLUSTER SLOTS and
// NODES show a TLS client the TLS ports and a plaintext one the plaintext
// ports, a node with one kind only its port either way; CLUSTER SHARDS
// shows "port" and "tls-port", each only if the node has it.
func TestClusterTLSPorts(t *testing.T) {
	n1 := ClusterNode{ID: "n1", Host: "127.0.0.1", Port: 7001, TLSPort: 8001, Alive: true}
	n2 := ClusterNode{ID: "n2", Host: "127.0.0.1", TLSPort: 8002, Alive: true} // TLS only
	cl := &staticCluster{me: "n1", version: 1, nodes: []ClusterNode{n1, n2},
		shards: []Shard{{Start: 0, End: 16383, Replicas: []ClusterNode{n1, n2}}}}
	ts := startTLSServer(t, Config{Cluster: cl, ClusterSecret: testSecret}, tls.RequireAndVerifyClientCert)
	node := func(port int, id string) string {
		return fmt.Sprintf("*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n$2\r\n%s\r\n*0\r\n", port, id)
	}
	slots := func(p1, p2 int) string { return "*1\r\n*4\r\n:0\r\n:16383\r\n" + node(p1, "n1") + node(p2, "n2") }
	plain, secure := dialRaw(t, ts.addr), ts.dialTLS(t, ts.ca.ClientConfig(&ts.cert))
	if got, want := plain.do("CLUSTER", "SLOTS"), slots(7001, 8002); got != want {
		t.Errorf("CLUSTER SLOTS, plaintext =\n%q\nwant\n%q", got, want)
	}
	if got, want := secure.do("CLUSTER", "SLOTS"), slots(8001, 8002); got != want {
		t.Errorf("CLUSTER SLOTS, TLS =\n%q\nwant\n%q", got, want)
	}
	if got := secure.do("CLUSTER", "NODES"); !strings.Contains(got, "n1 127.0.0.1:8001@18001 myself,master") {
		t.Errorf("CLUSTER NODES, TLS = %q", got)
	}
	if got := plain.do("CLUSTER", "NODES"); !strings.Contains(got, "n1 127.0.0.1:7001@17001 myself,master") {
		t.Errorf("CLUSTER NODES, plaintext = %q", got)
	}
	shards := plain.do("CLUSTER", "SHARDS")
	for _, want := range []string{
		"$2\r\nid\r\n$2\r\nn1\r\n$4\r\nport\r\n:7001\r\n$8\r\ntls-port\r\n:8001\r\n$2\r\nip\r\n",
		"$2\r\nid\r\n$2\r\nn2\r\n$8\r\ntls-port\r\n:8002\r\n$2\r\nip\r\n",
	} {
		if !strings.Contains(shards, want) {
			t.Errorf("CLUSTER SHARDS lacks %q:\n%q", want, shards)
		}
	}
	if !strings.Contains(shards, "*16\r\n$2\r\nid\r\n$2\r\nn1") || !strings.Contains(shards, "*14\r\n$2\r\nid\r\n$2\r\nn2") {
		t.Errorf("CLUSTER SHARDS map sizes (8 and 7 fields) wrong:\n%q", shards)
	}
}

// TestTLSHandshakeTimeout: a client that connects to the TLS port and
// sends nothing (a plaintext client waiting for a greeting) is closed
// once the handshake times out, and its slot is released.
func TestTLSHandshakeTimeout(t *testing.T) {
	d := handshakeTimeout
	t.Cleanup(func() { handshakeTimeout = d }) // after the server's Close
	handshakeTimeout = 50 * time.Millisecond
	ts := startTLSServer(t, Config{}, tls.RequireAndVerifyClientCert)
	silent := dialRaw(t, ts.tlsAddr)
	silent.expectEOF()
	waitClients(t, ts.Server, 0)
}

// TestTLSMaxClients: a TLS client beyond maxclients gets Redis's error
// over TLS (the handshake runs off the accept loop) and is closed.
func TestTLSMaxClients(t *testing.T) {
	ts := startTLSServer(t, Config{MaxClients: 1}, tls.RequireAndVerifyClientCert)
	first := ts.dialTLS(t, ts.ca.ClientConfig(&ts.cert))
	if got := first.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING = %q", got)
	}
	second := ts.dialTLS(t, ts.ca.ClientConfig(&ts.cert))
	if got := second.reply(); got != "-ERR max number of clients reached\r\n" {
		t.Errorf("beyond maxclients: %q", got)
	}
	second.expectEOF()
	if got := first.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING after the refusal = %q", got)
	}
}
