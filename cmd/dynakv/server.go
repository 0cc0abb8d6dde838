package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/dynakv/dynakv/node"
)

// options are the command's own flags, beside the node.Config.
type options struct {
	logLevel slog.Level
	logJSON  bool
	pprof    string // address of net/http/pprof; "" is off
}

// aliases maps each alias flag to the flag it stands for. The alias and
// its flag share one variable; parse lets the command line win over either
// name's environment variable, and the flag's own variable over the
// alias's.
var aliases = map[string]string{
	"handoff-rate":  "transfer-rate",
	"handoff-batch": "transfer-batch",
}

// nodeFlags registers on fs every flag of a node.Config, each bound to the
// field of cfg whose current value (node.DefaultConfig's, or a preset) is
// its default, and the command's own options. `server` and `dev` share it;
// dev sets the per-node fields (id, addresses, data) itself.
func nodeFlags(fs *flag.FlagSet, cfg *node.Config, perNode bool) *options {
	o := &options{logLevel: slog.LevelInfo}
	if perNode {
		fs.StringVar(&cfg.ID, "id", cfg.ID, "stable node ID (required)")
		fs.StringVar(&cfg.DataDir, "data", cfg.DataDir, "data directory (required)")
		fs.StringVar(&cfg.Listen, "listen", cfg.Listen, "address for Redis clients (\"off\": none, TLS only, Redis's port 0; needs --tls-port)")
		fs.StringVar(&cfg.Advertise, "advertise", cfg.Advertise, "RESP address given to peers and clients (default: --listen)")
		fs.StringVar(&cfg.ClusterListen, "cluster-listen", cfg.ClusterListen, "cluster-client address: a second RESP listener that CLUSTER SLOTS/SHARDS/NODES advertise; there DBSIZE, KEYS, SCAN, RANDOMKEY and INFO keyspace count only the slots this node is master of, so cluster clients' per-master sums count each key once (default: --listen's port + 10000 if below 32768, else a free port; \"off\": none)")
		fs.StringVar(&cfg.Gossip, "gossip", cfg.Gossip, "address for cluster gossip (TCP and UDP)")
		fs.StringVar(&cfg.GossipAdvertise, "gossip-advertise", cfg.GossipAdvertise, "gossip address given to peers (default: --gossip)")
		fs.Var(listFlag{&cfg.Join}, "join", "comma-separated gossip addresses of nodes to join (none: start a new ring)")
		fs.StringVar(&cfg.HTTP, "http", cfg.HTTP, "address of the HTTP listener for /metrics (Prometheus), the status page (/), /healthz and /readyz (empty: off)")
		fs.StringVar(&cfg.ClusterSecret, "cluster-secret", cfg.ClusterSecret, "shared secret of node-to-node calls (required in a cluster; the same on every node)")
		fs.StringVar(&cfg.TLS.Port, "tls-port", cfg.TLS.Port, "Redis's tls-port: a TLS RESP listener on --listen's host at this port, or at a host:port (0: off); --listen stays plaintext unless \"off\"")
		fs.StringVar(&cfg.TLS.ClusterListen, "tls-cluster-listen", cfg.TLS.ClusterListen, "TLS cluster-client address, the TLS --cluster-listen: the address CLUSTER SLOTS and NODES show TLS clients (default: --tls-port + 10000 if below 32768, else a free port; \"off\": none)")
	}
	fs.StringVar(&cfg.TLS.CertFile, "tls-cert-file", cfg.TLS.CertFile, "PEM certificate of the node, for TLS clients and (--tls-cluster) the other nodes")
	fs.StringVar(&cfg.TLS.KeyFile, "tls-key-file", cfg.TLS.KeyFile, "PEM private key of --tls-cert-file")
	fs.StringVar(&cfg.TLS.CACertFile, "tls-ca-cert-file", cfg.TLS.CACertFile, "PEM bundle of the CAs that sign client and node certificates")
	fs.StringVar(&cfg.TLS.AuthClients, "tls-auth-clients", cfg.TLS.AuthClients, "client certificates on the TLS port: yes (required, signed by the CA), optional (checked if presented), no (not asked for)")
	fs.Var(yesNo{&cfg.TLS.Cluster}, "tls-cluster", "yes: node-to-node calls over TLS, both sides presenting --tls-cert-file signed by the CA (the same on every node)")
	fs.DurationVar(&cfg.JoinTimeout, "join-timeout", cfg.JoinTimeout, "how long to wait to be admitted to a ring")
	fs.IntVar(&cfg.Ring.Replicas, "replicas", cfg.Ring.Replicas, "N: replicas of each key (a new ring's; a joining node takes the ring's)")
	fs.IntVar(&cfg.Ring.Partitions, "partitions", cfg.Ring.Partitions, "Q: ring partitions, a power of two dividing 16384 (a new ring's)")
	fs.IntVar(&cfg.Coordinator.R, "read-quorum", cfg.Coordinator.R, "R: replicas that must answer a read")
	fs.IntVar(&cfg.Coordinator.W, "write-quorum", cfg.Coordinator.W, "W: replicas that must store a write")
	fs.DurationVar(&cfg.Coordinator.Timeout, "timeout", cfg.Coordinator.Timeout, "per-request quorum timeout; also bounds each node-to-node call of hints, transfer and reaping")
	fs.IntVar(&cfg.Cluster.Weight, "weight", cfg.Cluster.Weight, "relative capacity: the node's share of partitions is proportional to it")
	fs.BoolVar(&cfg.Store.NoSync, "nosync", cfg.Store.NoSync, "do not fsync writes (faster; an acknowledged write may be lost in a crash)")
	fs.Int64Var(&cfg.Store.ObjectCacheBytes, "object-cache-bytes", cfg.Store.ObjectCacheBytes, "estimated heap bytes of decoded objects of recently written keys kept in memory, so a write to a big hash or set does not read and decode it again (negative: off)")
	fs.Int64Var(&cfg.Store.CacheBytes, "cache-bytes", cfg.Store.CacheBytes, "size of the storage engine's block cache in bytes (0: 128 MiB)")
	fs.StringVar(&cfg.RESP.RequirePass, "requirepass", cfg.RESP.RequirePass, "password clients must AUTH with (empty: none)")
	fs.StringVar(&cfg.RESP.ACLFile, "aclfile", cfg.RESP.ACLFile, "Redis ACL file of this node's users, read at start and by ACL LOAD, written by ACL SAVE (empty: none)")
	fs.IntVar(&cfg.RESP.MaxClients, "maxclients", cfg.RESP.MaxClients, "maximum simultaneous client connections")
	fs.DurationVar(&cfg.RESP.IdleTimeout, "idle-timeout", cfg.RESP.IdleTimeout, "close client connections idle this long (0: never)")
	fs.IntVar(&cfg.Transfer.Rate, "transfer-rate", cfg.Transfer.Rate, "most keys per second this node streams to new replicas when partitions move (0: unthrottled)")
	fs.IntVar(&cfg.Transfer.Batch, "transfer-batch", cfg.Transfer.Batch, "keys per transfer call; progress is saved after each")
	fs.IntVar(&cfg.Transfer.Rate, "handoff-rate", cfg.Transfer.Rate, "alias of --transfer-rate")
	fs.IntVar(&cfg.Transfer.Batch, "handoff-batch", cfg.Transfer.Batch, "alias of --transfer-batch")
	fs.DurationVar(&cfg.Hints.Interval, "hint-interval", cfg.Hints.Interval, "how often hints are handed off to nodes that are back")
	fs.DurationVar(&cfg.Hints.MaxAge, "hint-max-age", cfg.Hints.MaxAge, "drop hints older than this")
	fs.Int64Var(&cfg.Hints.MaxBytes, "hint-max-bytes", cfg.Hints.MaxBytes, "most bytes of hints kept for other nodes; beyond it hints are dropped (counted in INFO)")
	fs.DurationVar(&cfg.AE.Interval, "ae-interval", cfg.AE.Interval, "anti-entropy: compare each partition with each other replica once per this period (negative, e.g. -1s: off, no trees kept)")
	fs.IntVar(&cfg.AE.Rate, "ae-rate", cfg.AE.Rate, "anti-entropy: most keys read per second by exchanges")
	fs.DurationVar(&cfg.Reaper.Grace, "tombstone-grace", cfg.Reaper.Grace, "keep a deleted key's tombstone at least this long (and until every replica has it and no node holds an older hint)")
	fs.TextVar(&o.logLevel, "log-level", o.logLevel, "log level: debug, info, warn, error")
	fs.BoolVar(&o.logJSON, "log-json", o.logJSON, "log in JSON instead of text")
	fs.StringVar(&o.pprof, "pprof", o.pprof, "serve Go's net/http/pprof profiles on this address (empty: off)")
	return o
}

// yesNo is a flag of Redis's yes|no values (tls-cluster yes).
type yesNo struct{ b *bool }

func (f yesNo) String() string {
	if f.b != nil && *f.b {
		return "yes"
	}
	return "no"
}

func (f yesNo) Set(s string) error {
	switch strings.ToLower(s) {
	case "yes":
		*f.b = true
	case "no":
		*f.b = false
	default:
		return errNotYesNo
	}
	return nil
}

// errNotYesNo is a yes|no flag's refusal of another value.
var errNotYesNo = errors.New("argument must be 'yes' or 'no'")

// listFlag is a comma-separated list flag.
type listFlag struct{ l *[]string }

func (f listFlag) String() string {
	if f.l == nil {
		return ""
	}
	return strings.Join(*f.l, ",")
}

func (f listFlag) Set(s string) error {
	*f.l = nil
	if s != "" {
		*f.l = strings.Split(s, ",")
	}
	return nil
}

func runServer(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dynakv server", flag.ContinueOnError)
	cfg := node.DefaultConfig()
	o := nodeFlags(fs, &cfg, true)
	hiddenFlags(fs, &cfg)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	servePprof(o.pprof, stderr)
	cfg.Logger = newLogger(stderr, o)
	n, err := node.StartContext(ctx, cfg)
	if ctx.Err() != nil {
		// SIGINT or SIGTERM while starting (e.g. waiting up to
		// --join-timeout for a ring): stop, as a running node would.
		cfg.Logger.Info("stopped while starting", "id", cfg.ID, "err", err)
		if err == nil {
			return n.Close()
		}
		return nil
	}
	if err != nil {
		return err
	}
	<-ctx.Done()
	cfg.Logger.Info("shutting down", "id", cfg.ID)
	return n.Close()
}

// hidden names the flags --help leaves out: fault-test seams, not
// operator settings.
var hidden = map[string]bool{"clock-offset": true}

// hiddenFlags adds the hidden flags to fs and a usage that leaves them
// out. --clock-offset (env DYNAKV_CLOCK_OFFSET) skews the node's clock by
// a duration, e.g. -30s (node.Config.ClockOffset): tests/jepsen's clock
// nemesis.
func hiddenFlags(fs *flag.FlagSet, cfg *node.Config) {
	fs.DurationVar(&cfg.ClockOffset, "clock-offset", cfg.ClockOffset, "testing only: add this to the node's clock")
	fs.Usage = func() {
		shown := flag.NewFlagSet(fs.Name(), flag.ContinueOnError)
		shown.SetOutput(fs.Output())
		fs.VisitAll(func(f *flag.Flag) {
			if !hidden[f.Name] {
				shown.Var(f.Value, f.Name, f.Usage)
				shown.Lookup(f.Name).DefValue = f.DefValue
			}
		})
		fmt.Fprintf(fs.Output(), "Usage of %s:\n", fs.Name())
		shown.PrintDefaults()
	}
}
