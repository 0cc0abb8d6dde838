package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/dynakv/dynakv/resp"
)

// ErrTLS reports a TLS certificate, key or CA file that cannot be read
// or used; Start fails with it.
var ErrTLS = errors.New("node: TLS")

// ListenOff is the Listen value that turns the plaintext RESP listener
// off (Redis's port 0): clients then connect over TLS only.
const ListenOff = "off"

// The values of TLSConfig.AuthClients, Redis's tls-auth-clients.
const (
	AuthClientsYes      = "yes"      // a client must present a certificate the CA signed
	AuthClientsNo       = "no"       // no client certificate is asked for
	AuthClientsOptional = "optional" // a certificate is checked if the client presents one
)

// TLSConfig is the node's TLS, Redis's tls-* parameters (Redis's TLS
// documentation, "TLS Support"). With Port set the node serves RESP over
// TLS too; with Cluster, node-to-node calls travel over TLS.
type TLSConfig struct {
	// Port is Redis's tls-port: "" or "0" is off; a port number listens
	// on Listen's host; a host:port listens there (its port 0 picks a
	// free one, as Listen's). The plaintext listener stays unless Listen
	// is ListenOff (Redis's port 0), in which case Port must be a
	// host:port (--tls-port).
	Port string
	// CertFile and KeyFile are the node's PEM certificate and private key
	// (tls-cert-file, tls-key-file): presented to TLS clients and, with
	// Cluster, to the other nodes, as server and as client. Required with
	// Port.
	CertFile, KeyFile string
	// CACertFile is the PEM bundle of the CAs whose certificates are
	// trusted: clients' (AuthClients) and other nodes' (Cluster)
	// (tls-ca-cert-file). Required unless AuthClients is "no" and Cluster
	// is off, as Redis requires it.
	CACertFile string
	// AuthClients is Redis's tls-auth-clients: "yes" (the default, also
	// for ""), a client must present a certificate a CA of CACertFile
	// signed; "optional", one presented is checked; "no", none is asked
	// for.
	AuthClients string
	// Cluster is Redis's tls-cluster: node-to-node calls (replica
	// operations, hints, transfer, anti-entropy, forwarded client
	// commands) go over TLS to the other nodes' TLS listeners, each side
	// presenting CertFile and checking the other's against CACertFile,
	// and a node accepts the cluster secret (DKV.AUTH) only on a TLS
	// connection whose client certificate the CA signed. As Redis, the
	// certificates are checked against the CA, not against host names,
	// so one certificate may serve every node; it must allow both server
	// and client authentication (extendedKeyUsage serverAuth,clientAuth,
	// or none). Every node of a cluster must have the same setting. The
	// ring then records each node's TLS address (Advertise names it).
	Cluster bool
	// ClusterListen is the TLS counterpart of Config.ClusterListen: a
	// TLS cluster-client listener, whose address CLUSTER SLOTS and NODES
	// show TLS clients and CLUSTER SHARDS shows as "tls-port"
	// (--tls-cluster-listen). "" is the TLS listener's host with its
	// port + 10000 when that is below 32768, else a free port; "off" is
	// none. Unused without Port.
	ClusterListen string
}

// on reports whether the TLS listener is configured.
func (c TLSConfig) on() bool { return c.Port != "" && c.Port != "0" }

// validateTLS checks the TLS fields' combinations (not the files:
// loadTLS).
func (c Config) validateTLS() error {
	t := c.TLS
	switch {
	case t.AuthClients != "" && t.AuthClients != AuthClientsYes && t.AuthClients != AuthClientsNo && t.AuthClients != AuthClientsOptional:
		return fmt.Errorf("%w: --tls-auth-clients %q: must be one of yes, no, optional", ErrConfig, t.AuthClients)
	case c.Listen == ListenOff && !t.on():
		return fmt.Errorf("%w: --listen off needs --tls-port: no client listener", ErrConfig)
	case t.Cluster && !t.on():
		return fmt.Errorf("%w: --tls-cluster yes needs --tls-port: the other nodes connect there", ErrConfig)
	case c.Listen == ListenOff && !t.Cluster && (len(c.Join) > 0 || c.Ring.Replicas > 1):
		return fmt.Errorf("%w: with --listen off the other nodes can only connect over TLS: a cluster needs --tls-cluster yes", ErrConfig)
	case !t.on():
		return nil
	case t.CertFile == "" || t.KeyFile == "":
		return fmt.Errorf("%w: --tls-port needs --tls-cert-file and --tls-key-file", ErrConfig)
	case t.CACertFile == "" && (t.AuthClients != AuthClientsNo || t.Cluster):
		return fmt.Errorf("%w: --tls-ca-cert-file must be specified when --tls-cluster or --tls-auth-clients are enabled", ErrConfig)
	}
	if _, err := c.tlsBind(); err != nil {
		return err
	}
	return nil
}

// tlsBind returns the address the TLS listener binds ("" when off).
func (c Config) tlsBind() (string, error) {
	p := c.TLS.Port
	if !c.TLS.on() {
		return "", nil
	}
	if _, _, err := net.SplitHostPort(p); err == nil {
		return p, nil
	}
	if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%w: --tls-port %q: not a port or host:port", ErrConfig, p)
	}
	if c.Listen == ListenOff {
		return "", fmt.Errorf("%w: --tls-port %s: with --listen off give a host:port", ErrConfig, p)
	}
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return "", fmt.Errorf("%w: --listen %q: %w", ErrConfig, c.Listen, err)
	}
	return net.JoinHostPort(host, p), nil
}

// tlsSetup is the loaded TLS material: the listeners' config, the peer
// dialer's and the check of other nodes' client certificates.
type tlsSetup struct {
	server *tls.Config // the TLS listeners'
	client *tls.Config // node-to-node calls' (with Cluster)
	roots  *x509.CertPool
}

// loadTLS reads the certificate, key and CA files; nil when the TLS
// listener is off. Errors wrap ErrTLS and name the file.
func loadTLS(c TLSConfig) (*tlsSetup, error) {
	if !c.on() {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("%w: --tls-cert-file %q, --tls-key-file %q: %w", ErrTLS, c.CertFile, c.KeyFile, err)
	}
	var roots *x509.CertPool
	if c.CACertFile != "" {
		pem, err := os.ReadFile(c.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("%w: --tls-ca-cert-file: %w", ErrTLS, err)
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%w: --tls-ca-cert-file %q: no PEM certificate in it", ErrTLS, c.CACertFile)
		}
	}
	s := &tlsSetup{roots: roots}
	// Redis's default tls-protocols: TLS 1.2 and 1.3.
	s.server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: roots, MinVersion: tls.VersionTLS12}
	switch c.AuthClients {
	default: // yes, and "" (its default)
		s.server.ClientAuth = tls.RequireAndVerifyClientCert
	case AuthClientsOptional:
		s.server.ClientAuth = tls.VerifyClientCertIfGiven
	case AuthClientsNo:
		s.server.ClientAuth = tls.NoClientCert
		if c.Cluster {
			// NB: the other nodes' certificates are asked for but not
			// checked here, so a client's is ignored as Redis ignores
			// it; DKV.AUTH checks a peer's (peerCert).
			s.server.ClientAuth = tls.RequestClientCert
		}
	}
	if c.Cluster {
		s.client = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
			// NB: the default check also matches the dialled host
			// against the certificate; as Redis, only the chain to the
			// CA is checked (VerifyConnection), so nodes may share one
			// certificate and be dialled by IP address.
			InsecureSkipVerify: true,
			VerifyConnection: func(st tls.ConnectionState) error {
				return s.verify(st, x509.ExtKeyUsageServerAuth)
			},
		}
	}
	return s, nil
}

// verify checks that st's peer certificate chains to a CA of the bundle
// and allows usage.
func (s *tlsSetup) verify(st tls.ConnectionState, usage x509.ExtKeyUsage) error {
	if len(st.PeerCertificates) == 0 {
		return fmt.Errorf("%w: no certificate presented", ErrTLS)
	}
	inter := x509.NewCertPool()
	for _, c := range st.PeerCertificates[1:] {
		inter.AddCert(c)
	}
	_, err := st.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: s.roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{usage}})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrTLS, err)
	}
	return nil
}

// peerCert is resp.Config.PeerTLS: another node's client certificate
// must chain to the CA.
func (s *tlsSetup) peerCert(st tls.ConnectionState) error {
	return s.verify(st, x509.ExtKeyUsageClientAuth)
}

// dialer is the peer clients' dialer under tls-cluster: TCP, then the
// TLS handshake within the call's context.
func (s *tlsSetup) dialer() *tls.Dialer {
	return &tls.Dialer{NetDialer: &net.Dialer{}, Config: s.client}
}

// tlsParams are the CONFIG parameters of the TLS settings, as Redis's
// CONFIG GET shows them (read-only here: dynakv is configured by its
// command line). tls-port is the RESP server's own.
func tlsParams(c TLSConfig) []resp.Param {
	yesNo := map[bool]string{true: "yes", false: "no"}
	var out []resp.Param
	for _, p := range [][2]string{
		{"tls-cert-file", c.CertFile},
		{"tls-key-file", c.KeyFile},
		{"tls-ca-cert-file", c.CACertFile},
		{"tls-auth-clients", c.AuthClients},
		{"tls-cluster", yesNo[c.Cluster]},
	} {
		v := p[1]
		out = append(out, resp.Param{Name: p[0], Get: func() string { return v }})
	}
	return out
}
