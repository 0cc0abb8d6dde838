package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/dynakv/dynakv/node"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dynakv dev", flag.ContinueOnError)
	nodes := fs.Int("nodes", 3, "number of nodes")
	port := fs.Int("port", 6379, "Redis port of the first node; the others take the next ports")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	data := fs.String("data", "", "data directory (empty: a temporary one, removed on exit)")
	// A dev cluster is Dynamo's usual N=3, R=2, W=2 (fewer with fewer nodes).
	d := node.DefaultConfig()
	d.Replicas, d.ReadQuorum, d.WriteQuorum = 3, 2, 2
	build := nodeFlags(fs, d)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	servePprof(stderr)
	if *nodes < 1 {
		return fmt.Errorf("--nodes must be at least 1")
	}
	base := build()
	if *nodes < base.Replicas {
		base.Replicas = *nodes
		base.ReadQuorum = min(base.ReadQuorum, *nodes)
		base.WriteQuorum = min(base.WriteQuorum, *nodes)
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
	logger, err := newLogger(stderr, base.LogLevel, base.LogJSON)
	if err != nil {
		return err
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	var started []*node.Node
	defer func() {
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Close()
		}
	}()
	var seed string
	for i := 0; i < *nodes; i++ {
		cfg := base
		cfg.ID = "n" + strconv.Itoa(i+1)
		cfg.Listen = net.JoinHostPort(*host, strconv.Itoa(*port+i))
		cfg.DataDir = filepath.Join(dir, cfg.ID)
		cfg.ClusterSecret = hex.EncodeToString(secret)
		cfg.Logger = logger
		if cfg.Gossip, err = freeAddr(*host); err != nil {
			return err
		}
		if i > 0 {
			cfg.Join = []string{seed}
		} else {
			seed = cfg.Gossip
		}
		n, err := node.Start(cfg)
		if err != nil {
			return err
		}
		started = append(started, n)
	}
	fmt.Fprintf(stdout, "dynakv dev: %d nodes (N=%d R=%d W=%d), data in %s\n", *nodes, base.Replicas, base.ReadQuorum, base.WriteQuorum, dir)
	for _, n := range started {
		fmt.Fprintf(stdout, "  %s  redis-cli -c -h %s -p %s\n", n.ID(), *host, portOf(n.Addr()))
	}
	fmt.Fprintf(stdout, "try: redis-cli -c -p %d SET hello world\n", *port)
	<-ctx.Done()
	fmt.Fprintln(stdout, "dynakv dev: shutting down")
	return nil
}

// freeAddr returns host with a TCP port that was free a moment ago (for
// the in-process nodes' gossip).
func freeAddr(host string) (string, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func portOf(addr string) string {
	_, p, _ := net.SplitHostPort(addr)
	return p
}
