package node

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/tlstest"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/ring/member/membertest"
	"github.com/redis/go-redis/v9"
)

// tlsNodeConfig returns a lone node's Config with TLS on (a TLS listener
// on a free port, certificates of a fresh CA), and the CA.
func tlsNodeConfig(t *testing.T) (Config, *tlstest.CA) {
	t.Helper()
	dir := t.TempDir()
	ca := tlstest.NewCA(t, dir, "ca")
	node := ca.Issue(t, "node")
	gossip := membertest.NewNetwork()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen = "n1", filepath.Join(dir, "data"), "127.0.0.1:0"
	cfg.ClusterListen, cfg.TLS.ClusterListen = ClusterListenOff, ClusterListenOff
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.GossipTuning = func(mc *member.Config) { mc.Transport = gossip.MustListen(cfg.Gossip) }
	cfg.TLS.Port = "127.0.0.1:0"
	cfg.TLS.CertFile, cfg.TLS.KeyFile, cfg.TLS.CACertFile = node.CertFile, node.KeyFile, ca.File
	return cfg, ca
}

// TestTLSConfigErrors: settings that cannot work fail Start with
// ErrConfig, certificate files that cannot be used with ErrTLS naming the
// file, and a failed Start leaves its listeners closed.
func TestTLSConfigErrors(t *testing.T) {
	base, _ := tlsNodeConfig(t)
	notPEM := filepath.Join(t.TempDir(), "junk.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Config)
		want error
		text string
	}{
		{"missing certificate", func(c *Config) { c.TLS.CertFile = "/nonexistent/node.crt" }, ErrTLS, "/nonexistent/node.crt"},
		{"key not PEM", func(c *Config) { c.TLS.KeyFile = notPEM }, ErrTLS, notPEM},
		{"missing CA", func(c *Config) { c.TLS.CACertFile = "/nonexistent/ca.crt" }, ErrTLS, "/nonexistent/ca.crt"},
		{"CA not PEM", func(c *Config) { c.TLS.CACertFile = notPEM }, ErrTLS, "no PEM certificate"},
		{"auth-clients maybe", func(c *Config) { c.TLS.AuthClients = "maybe" }, ErrConfig, "yes, no, optional"},
		{"no certificate", func(c *Config) { c.TLS.CertFile = "" }, ErrConfig, "--tls-cert-file"},
		{"no CA, auth-clients yes", func(c *Config) { c.TLS.CACertFile = "" }, ErrConfig, "--tls-ca-cert-file"},
		{"tls-cluster without tls-port", func(c *Config) { c.TLS.Port, c.TLS.Cluster = "", true }, ErrConfig, "--tls-cluster"},
		{"listen off without tls-port", func(c *Config) { c.Listen, c.TLS.Port = ListenOff, "" }, ErrConfig, "--listen off"},
		{"listen off, bare tls-port", func(c *Config) { c.Listen, c.TLS.Port = ListenOff, "6380" }, ErrConfig, "host:port"},
		{"listen off, cluster without tls-cluster", func(c *Config) { c.Listen, c.Ring.Replicas, c.ClusterSecret = ListenOff, 3, "s" }, ErrConfig, "--tls-cluster yes"},
		{"tls-port not a port", func(c *Config) { c.TLS.Port = "tls" }, ErrConfig, "--tls-port"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := base
			tc.edit(&cfg)
			n, err := Start(cfg)
			if err == nil {
				n.Close()
				t.Fatal("Start succeeded")
			}
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
				t.Errorf("Start: %v; want %v naming %q", err, tc.want, tc.text)
			}
		})
	}
}

// TestTLSNode: a node with both listeners serves a go-redis client over
// TLS with a client certificate, refuses one without (tls-auth-clients
// yes), and CONFIG GET answers the tls-* parameters as Redis's does.
func TestTLSNode(t *testing.T) {
	cfg, ca := tlsNodeConfig(t)
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	client := ca.Issue(t, "client")
	ctx := context.Background()
	c := redis.NewClient(&redis.Options{Addr: n.TLSAddr(), TLSConfig: ca.ClientConfig(&client), MaxRetries: -1})
	defer c.Close()
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	if v, err := c.Get(ctx, "k").Result(); v != "v" || err != nil {
		t.Fatalf("GET over TLS = %q, %v", v, err)
	}
	got, err := c.ConfigGet(ctx, "tls-*").Result()
	if err != nil {
		t.Fatal(err)
	}
	_, tlsPort, _ := net.SplitHostPort(n.TLSAddr())
	want := map[string]string{
		"tls-port": tlsPort, "tls-cert-file": cfg.TLS.CertFile, "tls-key-file": cfg.TLS.KeyFile,
		"tls-ca-cert-file": cfg.TLS.CACertFile, "tls-auth-clients": "yes", "tls-cluster": "no",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("CONFIG GET %s = %q, want %q", k, got[k], v)
		}
	}
	anon := redis.NewClient(&redis.Options{Addr: n.TLSAddr(), TLSConfig: ca.ClientConfig(nil), MaxRetries: -1})
	defer anon.Close()
	if err := anon.Ping(ctx).Err(); err == nil {
		t.Error("PING over TLS without a client certificate succeeded")
	}
	plain := redis.NewClient(&redis.Options{Addr: n.Addr(), MaxRetries: -1})
	defer plain.Close()
	if err := plain.Ping(ctx).Err(); err != nil {
		t.Errorf("PING on the plaintext listener: %v", err)
	}
}

// TestTLSClusterPeerDialer: under tls-cluster the node's replica
// operations answer a peer client dialling with the node's TLS dialer
// (its certificate, checked against the CA) and the cluster secret; a
// plaintext dialer, a TLS dialer with another CA's certificate and one
// without a certificate are refused, and a peer client trusting another
// CA refuses the node. The plaintext listener is off (Redis's port 0).
func TestTLSClusterPeerDialer(t *testing.T) {
	cfg, ca := tlsNodeConfig(t)
	cfg.Listen, cfg.ClusterSecret, cfg.TLS.Cluster, cfg.TLS.AuthClients = ListenOff, "secret", true, AuthClientsNo
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Addr() != n.TLSAddr() {
		t.Errorf("Addr %s, want the TLS address %s with the plaintext listener off", n.Addr(), n.TLSAddr())
	}
	own, err := loadTLS(cfg.TLS)
	if err != nil {
		t.Fatal(err)
	}
	other := tlstest.NewCA(t, t.TempDir(), "other")
	stranger := other.Issue(t, "stranger")
	strangerCfg := cfg.TLS
	strangerCfg.CertFile, strangerCfg.KeyFile = stranger.CertFile, stranger.KeyFile
	strangerTLS, err := loadTLS(strangerCfg) // trusts the right CA, presents another's certificate
	if err != nil {
		t.Fatal(err)
	}
	distrustCfg := cfg.TLS
	distrustCfg.CACertFile = other.File
	distrust, err := loadTLS(distrustCfg) // the right certificate, trusts another CA
	if err != nil {
		t.Fatal(err)
	}
	noCert := own.dialer()
	noCert.Config = noCert.Config.Clone()
	noCert.Config.Certificates = nil
	for _, tc := range []struct {
		name   string
		dialer peerclient.ContextDialer
		ok     bool
	}{
		{"node's TLS dialer", own.dialer(), true},
		{"plaintext", &net.Dialer{}, false},
		{"another CA's certificate", strangerTLS.dialer(), false},
		{"no certificate", noCert, false},
		{"node not trusted", distrust.dialer(), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pcfg := peerclient.DefaultConfig()
			pcfg.ID, pcfg.Addr, pcfg.Secret, pcfg.Dialer, pcfg.Timeout = "n1", n.TLSAddr(), "secret", tc.dialer, 5*time.Second
			pc, err := peerclient.New(pcfg)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
			_, err = pc.HintHorizon(context.Background())
			if (err == nil) != tc.ok {
				t.Errorf("peer call: %v, want ok=%v", err, tc.ok)
			}
		})
	}
	// The same connections carry client commands (the TLS port serves
	// clients too; tls-auth-clients no lets one in without a certificate).
	c := redis.NewClient(&redis.Options{Addr: n.TLSAddr(), TLSConfig: ca.ClientConfig(nil), MaxRetries: -1})
	defer c.Close()
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Errorf("PING without a certificate, tls-auth-clients no: %v", err)
	}
	if v, _ := c.ConfigGet(context.Background(), "port").Result(); v["port"] != "0" {
		t.Errorf("CONFIG GET port = %q, want 0 with the plaintext listener off", v["port"])
	}
}
