package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/dynakv/dynakv/node"
)

func runDev(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dynakv dev", flag.ContinueOnError)
	port := fs.Int("port", 6379, "Redis port of the node")
	host := fs.String("host", "127.0.0.1", "address to listen on")
	data := fs.String("data", "", "data directory (empty: a temporary one, removed on exit)")
	build := nodeFlags(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	cfg := build()
	dir := *data
	if dir == "" {
		tmp, err := os.MkdirTemp("", "dynakv-dev-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	logger, err := newLogger(stderr, cfg.LogLevel, cfg.LogJSON)
	if err != nil {
		return err
	}
	cfg.ID = "n1"
	cfg.Listen = fmt.Sprintf("%s:%d", *host, *port)
	cfg.DataDir = filepath.Join(dir, cfg.ID)
	cfg.Logger = logger
	n, err := node.Start(cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "dynakv dev: node %s serving Redis clients on %s (data in %s)\n", cfg.ID, n.Addr(), dir)
	fmt.Fprintf(stdout, "try: redis-cli -p %d SET hello world\n", *port)
	<-ctx.Done()
	fmt.Fprintln(stdout, "dynakv dev: shutting down")
	return n.Close()
}
