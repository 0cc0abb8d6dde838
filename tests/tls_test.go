package tests

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/tlstest"
	"github.com/redis/go-redis/v9"
)

// tlsProc is a process started with a TLS listener (--tls-port).
type tlsProc struct {
	*Proc
	TLSAddr        string // --tls-port's address
	TLSClusterAddr string // --tls-cluster-listen's
}

// tlsFlags returns the flags of a TLS listener and its TLS cluster-client
// listener on free ports, with cert's files and the CA's.
func tlsFlags(t *testing.T, ca *tlstest.CA, cert tlstest.Cert, extra ...string) (flags []string, addr, clusterAddr string) {
	addr, clusterAddr = freeAddr(t), freeAddr(t)
	return append([]string{"--tls-port", addr, "--tls-cluster-listen", clusterAddr,
		"--tls-cert-file", cert.CertFile, "--tls-key-file", cert.KeyFile, "--tls-ca-cert-file", ca.File}, extra...), addr, clusterAddr
}

// startTLSServer starts `dynakv server` with its plaintext listener and
// a TLS one whose certificate ca signed.
func startTLSServer(t *testing.T, ca *tlstest.CA, id string, extra ...string) *tlsProc {
	t.Helper()
	flags, addr, caddr := tlsFlags(t, ca, ca.Issue(t, id), extra...)
	return &tlsProc{Proc: StartServer(t, id, flags...), TLSAddr: addr, TLSClusterAddr: caddr}
}

// tlsClient returns a go-redis client of the process's TLS listener with
// tls config cfg, closed at cleanup.
func (p *tlsProc) tlsClient(t *testing.T, cfg *tls.Config) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: p.TLSAddr, TLSConfig: cfg, MaxRetries: -1})
	t.Cleanup(func() { c.Close() })
	return c
}

// redisCliTLS skips t unless redis-cli is installed with TLS support.
func redisCliTLS(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools)")
	}
	if out, _ := exec.Command("redis-cli", "--help").CombinedOutput(); !strings.Contains(string(out), "--tls") {
		t.Skip("this redis-cli was built without TLS (no --tls in redis-cli --help)")
	}
}

// TestTLSRedisCli: redis-cli --tls with the CA and a client certificate
// runs PING, SET and GET on a node's TLS port; without a certificate
// (tls-auth-clients yes, the default) and in plaintext on the TLS port it
// is refused, and the node goes on serving.
func TestTLSRedisCli(t *testing.T) {
	heavy(t)
	redisCliTLS(t)
	ca := tlstest.NewCA(t, t.TempDir(), "ca")
	p := startTLSServer(t, ca, "n1")
	client := ca.Issue(t, "client")
	host, port, _ := net.SplitHostPort(p.TLSAddr)
	cli := func(args ...string) (string, error) {
		out, err := exec.Command("redis-cli", append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	tlsArgs := []string{"--tls", "--cacert", ca.File, "--cert", client.CertFile, "--key", client.KeyFile}
	for _, tc := range []struct{ args, want string }{
		{"PING", "PONG"},
		{"SET greeting hello", "OK"},
		{"GET greeting", "hello"},
		{"CONFIG GET tls-auth-clients", "tls-auth-clients\nyes"},
	} {
		if out, err := cli(append(tlsArgs, strings.Fields(tc.args)...)...); err != nil || out != tc.want {
			t.Errorf("redis-cli --tls %s = %q, %v; want %q", tc.args, out, err, tc.want)
		}
	}
	for name, args := range map[string][]string{
		"no client certificate": {"--tls", "--cacert", ca.File, "PING"},
		"plaintext":             {"PING"},
	} {
		if out, err := cli(args...); !strings.Contains(out, "Error") && err == nil || strings.Contains(out, "PONG") {
			t.Errorf("redis-cli, %s, on the TLS port: %q, %v; want refused", name, out, err)
		}
	}
	if out, err := cli(append(tlsArgs, "GET", "greeting")...); err != nil || out != "hello" {
		t.Errorf("after the refusals: %q, %v", out, err)
	}
	if !p.Alive() {
		t.Fatalf("node died:\n%s", p.Log())
	}
}

// TestTLSGoRedis: go-redis with a tls.Config (the CA, a client
// certificate) works on the TLS port, without a certificate it is
// refused, and the plaintext port still serves.
func TestTLSGoRedis(t *testing.T) {
	heavy(t)
	ca := tlstest.NewCA(t, t.TempDir(), "ca")
	p := startTLSServer(t, ca, "n1")
	client := ca.Issue(t, "client")
	ctx := ctxT(t)
	c := p.tlsClient(t, ca.ClientConfig(&client))
	if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
		t.Fatalf("SET over TLS: %v", err)
	}
	if v, err := p.Client(t).Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET on the plaintext port = %q, %v", v, err)
	}
	if err := p.tlsClient(t, ca.ClientConfig(nil)).Ping(ctx).Err(); err == nil {
		t.Error("PING over TLS without a client certificate succeeded (tls-auth-clients yes)")
	}
	plainOnTLS := redis.NewClient(&redis.Options{Addr: p.TLSAddr, MaxRetries: -1, DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second})
	defer plainOnTLS.Close()
	if err := plainOnTLS.Ping(ctx).Err(); err == nil {
		t.Error("plaintext PING on the TLS port succeeded")
	}
	if v, err := c.Get(ctx, "k").Result(); err != nil || v != "v" {
		t.Fatalf("GET over TLS after the refusals = %q, %v", v, err)
	}
}

// TestTLSCluster: three processes with --tls-cluster yes (node-to-node
// calls over TLS, each node's certificate checked against the CA) form a
// ring and replicate: a write over TLS on n1 is read at quorum from n3
// and reaches each replica's own store (VGET LOCAL). CLUSTER SHARDS over
// TLS shows each node's TLS cluster-client port as "tls-port" beside its
// plaintext "port", and a go-redis ClusterClient over TLS, which follows
// CLUSTER SLOTS, writes and reads through the TLS ports.
func TestTLSCluster(t *testing.T) {
	heavy(t)
	ca := tlstest.NewCA(t, t.TempDir(), "ca")
	common := []string{"--cluster-secret", testSecret, "--replicas", "3", "--read-quorum", "2", "--write-quorum", "2",
		"--partitions", "64", "--timeout", "2s", "--tls-cluster", "yes"}
	var procs []*Proc
	var tprocs []*tlsProc
	for i := 1; i <= 3; i++ {
		extra := common
		if i > 1 {
			extra = append(extra, "--join", procs[0].Gossip())
		}
		p := startTLSServer(t, ca, fmt.Sprintf("n%d", i), extra...)
		procs, tprocs = append(procs, p.Proc), append(tprocs, p)
	}
	waitMembers(t, procs, 3)
	waitSettled(t, procs)
	client := ca.Issue(t, "client")
	cfg := ca.ClientConfig(&client)

	ctx := ctxT(t)
	if err := tprocs[0].tlsClient(t, cfg).Set(ctx, "tls-key", "replicated", 0).Err(); err != nil {
		t.Fatalf("SET on n1 over TLS: %v", err)
	}
	if v, err := tprocs[2].tlsClient(t, cfg).Do(ctx, "VGET", "tls-key", "R", "2").Slice(); err != nil || fmt.Sprint(v[1]) != "[replicated]" {
		t.Fatalf("VGET R 2 on n3 = %v, %v", v, err)
	}
	for _, p := range tprocs {
		c := p.tlsClient(t, cfg)
		eventually(t, p.ID+" holds the write", 20*time.Second, func() error {
			v, err := c.Do(ctxT(t), "VGET", "tls-key", "LOCAL").Slice()
			if err == nil && fmt.Sprint(v[1]) != "[replicated]" {
				err = fmt.Errorf("VGET LOCAL = %v", v)
			}
			return err
		})
	}

	shards, err := tprocs[1].tlsClient(t, cfg).ClusterShards(ctx).Result()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, p := range tprocs {
		_, port, _ := net.SplitHostPort(p.TLSClusterAddr)
		want[p.ID] = port
	}
	for _, sh := range shards {
		for _, n := range sh.Nodes {
			if fmt.Sprint(n.TLSPort) != want[n.ID] || n.Port == 0 {
				t.Errorf("CLUSTER SHARDS: %s port %d tls-port %d, want tls-port %s and a plaintext port", n.ID, n.Port, n.TLSPort, want[n.ID])
			}
		}
	}

	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: []string{tprocs[0].TLSClusterAddr}, TLSConfig: cfg, MaxRetries: -1})
	defer cc.Close()
	for i := range 20 {
		k := fmt.Sprintf("cc-%d", i)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("ClusterClient SET %s over TLS: %v", k, err)
		}
		if v, err := cc.Get(ctx, k).Int(); err != nil || v != i {
			t.Fatalf("ClusterClient GET %s over TLS = %d, %v", k, v, err)
		}
	}
	err = cc.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error {
		addr := c.Options().Addr
		for _, p := range tprocs {
			if addr == p.TLSClusterAddr {
				return nil
			}
		}
		return fmt.Errorf("ClusterClient connected to %s, not a TLS cluster-client address", addr)
	})
	if err != nil {
		t.Error(err)
	}
}
