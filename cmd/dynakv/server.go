package main

import (
	"context"
	"flag"
	"io"
	"strings"

	"github.com/dynakv/dynakv/node"
)

// nodeFlags registers the flags shared by `server` and `dev` on fs and
// returns a function that builds the parsed node.Config.
func nodeFlags(fs *flag.FlagSet, d node.Config) func() node.Config {
	fs.IntVar(&d.Replicas, "replicas", d.Replicas, "N: replicas of each key")
	fs.IntVar(&d.ReadQuorum, "read-quorum", d.ReadQuorum, "R: replicas that must answer a read")
	fs.IntVar(&d.WriteQuorum, "write-quorum", d.WriteQuorum, "W: replicas that must store a write")
	fs.IntVar(&d.Partitions, "partitions", d.Partitions, "Q: ring partitions, a power of two dividing 16384")
	fs.StringVar(&d.RequirePass, "requirepass", "", "password clients must AUTH with (empty: none)")
	fs.IntVar(&d.Weight, "weight", d.Weight, "relative capacity: the node's share of partitions is proportional to it")
	fs.IntVar(&d.Transfer.Rate, "transfer-rate", d.Transfer.Rate, "most keys per second this node streams to new replicas when partitions move (0: unthrottled)")
	fs.IntVar(&d.Transfer.Batch, "transfer-batch", d.Transfer.Batch, "keys per transfer call; progress is saved after each")
	fs.IntVar(&d.Transfer.Rate, "handoff-rate", d.Transfer.Rate, "alias of --transfer-rate")
	fs.IntVar(&d.Transfer.Batch, "handoff-batch", d.Transfer.Batch, "alias of --transfer-batch")
	fs.BoolVar(&d.NoSync, "nosync", false, "do not fsync writes (faster; an acknowledged write may be lost in a crash)")
	fs.DurationVar(&d.Timeout, "timeout", d.Timeout, "per-request quorum timeout")
	fs.DurationVar(&d.Hints.Interval, "hint-interval", d.Hints.Interval, "how often hints are handed off to nodes that are back")
	fs.DurationVar(&d.Hints.MaxAge, "hint-max-age", d.Hints.MaxAge, "drop hints older than this")
	fs.Int64Var(&d.Hints.MaxBytes, "hint-max-bytes", d.Hints.MaxBytes, "most bytes of hints kept for other nodes; beyond it hints are dropped (counted in INFO)")
	fs.DurationVar(&d.AE.Interval, "ae-interval", d.AE.Interval, "anti-entropy: compare each partition with each other replica once per this period (negative, e.g. -1s: off, no trees kept)")
	fs.IntVar(&d.AE.Rate, "ae-rate", d.AE.Rate, "anti-entropy: most keys read per second by exchanges")
	fs.DurationVar(&d.TombstoneGrace, "tombstone-grace", d.TombstoneGrace, "keep a deleted key's tombstone at least this long (and until every replica has it and no node holds an older hint)")
	fs.IntVar(&d.MaxClients, "maxclients", d.MaxClients, "maximum simultaneous client connections")
	fs.DurationVar(&d.IdleTimeout, "idle-timeout", 0, "close client connections idle this long (0: never)")
	fs.StringVar(&pprofAddr, "pprof", "", "serve Go's net/http/pprof profiles on this address (empty: off)")
	level := fs.String("log-level", "info", "log level: debug, info, warn, error")
	json := fs.Bool("log-json", false, "log in JSON instead of text")
	return func() node.Config {
		d.LogLevel, d.LogJSON = *level, *json
		return d
	}
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dynakv server", flag.ContinueOnError)
	id := fs.String("id", "", "stable node ID (required)")
	listen := fs.String("listen", "127.0.0.1:6379", "address for Redis clients")
	gossip := fs.String("gossip", "127.0.0.1:7946", "address for cluster gossip")
	data := fs.String("data", "", "data directory (required)")
	join := fs.String("join", "", "comma-separated gossip addresses of nodes to join")
	secret := fs.String("cluster-secret", "", "shared secret of node-to-node calls (required in a cluster; same on every node)")
	advertise := fs.String("advertise", "", "RESP address given to peers and clients (default: --listen)")
	gossipAdv := fs.String("gossip-advertise", "", "gossip address given to peers (default: --gossip)")
	build := nodeFlags(fs, node.DefaultConfig())
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	servePprof(stderr)
	cfg := build()
	cfg.ID, cfg.Listen, cfg.Gossip, cfg.DataDir = *id, *listen, *gossip, *data
	cfg.ClusterSecret, cfg.Advertise, cfg.GossipAdvertise = *secret, *advertise, *gossipAdv
	if *join != "" {
		cfg.Join = strings.Split(*join, ",")
	}
	logger, err := newLogger(stderr, cfg.LogLevel, cfg.LogJSON)
	if err != nil {
		return err
	}
	cfg.Logger = logger
	n, err := node.Start(cfg)
	if err != nil {
		return err
	}
	<-ctx.Done()
	logger.Info("shutting down", "id", cfg.ID)
	return n.Close()
}
