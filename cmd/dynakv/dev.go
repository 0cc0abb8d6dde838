package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dynakv/dynakv/node"
)

// The dev preset: Dynamo's usual N=3, R=2, W=2 on three nodes (fewer with
// fewer nodes). A lone `dynakv server` keeps node.DefaultConfig's N=1.
const (
	devNodes    = 3
	devReplicas = 3
	devQuorum   = 2
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	d := node.DefaultConfig()
	host, port, err := net.SplitHostPort(d.Listen)
	if err != nil {
		return err
	}
	basePort, _ := strconv.Atoi(port)
	fs := flag.NewFlagSet("dynakv dev", flag.ContinueOnError)
	nodes := fs.Int("nodes", devNodes, "number of nodes")
	fs.IntVar(&basePort, "port", basePort, "Redis port of the first node; the others take the next ports")
	fs.StringVar(&host, "host", host, "address to listen on")
	gossipPort := fs.Int("gossip-port", 0, "gossip port of the first node, the others take the next ports (0: free TCP and UDP ports picked at start)")
	httpPort := fs.Int("http-port", 0, "HTTP port (/metrics, status page, /healthz, /readyz) of the first node, the others take the next ports (default: --port + 1000; -1: off)")
	tlsPort := fs.Int("tls-port", 0, "TLS port of the first node, the others take the next ports (0: off; needs --tls-cert-file, --tls-key-file and, unless --tls-auth-clients no, --tls-ca-cert-file)")
	data := fs.String("data", "", "data directory (empty: a temporary one, removed on exit)")
	d.Ring.Replicas, d.Coordinator.R, d.Coordinator.W = devReplicas, devQuorum, devQuorum
	o := nodeFlags(fs, &d, false)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	servePprof(o.pprof, stderr)
	if *nodes < 1 {
		return fmt.Errorf("--nodes must be at least 1")
	}
	if *nodes < d.Ring.Replicas {
		d.Ring.Replicas = *nodes
		d.Coordinator.R = min(d.Coordinator.R, *nodes)
		d.Coordinator.W = min(d.Coordinator.W, *nodes)
	}
	if *httpPort == 0 {
		*httpPort = basePort + 1000
	}
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "dynakv-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	d.Logger = newLogger(stderr, o)
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	d.ClusterSecret = hex.EncodeToString(secret)
	var started []*node.Node
	defer func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Close()
		}
	}()
	var seed string
	for i := 0; i < *nodes; i++ {
		cfg := d
		cfg.ID = "n" + strconv.Itoa(i+1)
		cfg.Listen = net.JoinHostPort(host, strconv.Itoa(basePort+i))
		cfg.DataDir = filepath.Join(dir, cfg.ID)
		if *gossipPort > 0 {
			cfg.Gossip = net.JoinHostPort(host, strconv.Itoa(*gossipPort+i))
		} else if cfg.Gossip, err = freeGossipAddr(host); err != nil {
			return err
		}
		if *tlsPort > 0 {
			cfg.TLS.Port = net.JoinHostPort(host, strconv.Itoa(*tlsPort+i))
		}
		if *httpPort > 0 {
			cfg.HTTP = net.JoinHostPort(host, strconv.Itoa(*httpPort+i))
		}
		if i > 0 {
			cfg.Join = []string{seed}
		} else {
			seed = cfg.Gossip
		}
		n, err := node.StartContext(ctx, cfg)
		if n != nil {
			started = append(started, n)
		}
		if ctx.Err() != nil {
			fmt.Fprintln(stdout, "dynakv dev: stopped while starting")
			return nil // the nodes started so far close above
		}
		if err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "dynakv dev: %d nodes (N=%d R=%d W=%d), data in %s\n", *nodes, d.Ring.Replicas, d.Coordinator.R, d.Coordinator.W, dir)
	for _, n := range started {
		fmt.Fprintf(stdout, "  %s  redis-cli -c -h %s -p %s   (cluster clients: %s)", n.ID(), host, portOf(n.Addr()), n.ClusterAddr())
		if a := n.HTTPAddr(); a != "" {
			fmt.Fprintf(stdout, "   status: http://%s/", a)
		}
		fmt.Fprintln(stdout)
		if a := n.TLSAddr(); a != "" {
			fmt.Fprintf(stdout, "      redis-cli --tls --cacert CA --cert CERT --key KEY -h %s -p %s\n", host, portOf(a))
		}
	}
	fmt.Fprintf(stdout, "try: redis-cli -c -p %d SET hello world\n", basePort)
	<-ctx.Done()
	fmt.Fprintln(stdout, "dynakv dev: shutting down")
	return nil
}

// errNoGossipPort reports that no port was free for both TCP and UDP.
var errNoGossipPort = errors.New("dynakv dev: no port free for both TCP and UDP; set --gossip-port")

// freeGossipAddr returns host with a port that was free a moment ago for
// both TCP and UDP, as memberlist binds both (a TCP-only probe may hand
// out a port whose UDP side is taken).
func freeGossipAddr(host string) (string, error) {
	for range 20 {
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return "", err
		}
		addr := ln.Addr().String()
		pc, err := net.ListenPacket("udp", addr)
		ln.Close()
		if err == nil {
			pc.Close()
			return addr, nil
		}
	}
	return "", errNoGossipPort
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
