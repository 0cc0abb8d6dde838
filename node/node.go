package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("node: invalid config")

// Config is everything a node needs; cmd/dynakv fills it from flags.
type Config struct {
	ID      string   // stable node ID
	Listen  string   // address for Redis clients (port 0 picks one)
	Gossip  string   // address for cluster gossip
	DataDir string   // data directory
	Join    []string // gossip addresses of nodes to join

	Replicas    int // N
	ReadQuorum  int // R
	WriteQuorum int // W
	Partitions  int // Q
	Timeout     time.Duration

	RequirePass string
	MaxClients  int
	IdleTimeout time.Duration
	NoSync      bool

	LogLevel string
	LogJSON  bool
	Logger   *slog.Logger
}

// DefaultConfig returns a single node's defaults: N = R = W = 1, Q = 256.
func DefaultConfig() Config {
	cc := coordinator.DefaultConfig()
	return Config{
		Listen:      "127.0.0.1:6379",
		Gossip:      "127.0.0.1:7946",
		Replicas:    cc.N,
		ReadQuorum:  cc.R,
		WriteQuorum: cc.W,
		Partitions:  ring.DefaultPartitions,
		Timeout:     cc.Timeout,
		MaxClients:  resp.DefaultConfig().MaxClients,
		LogLevel:    "info",
	}
}

func (c *Config) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: --id is required", ErrConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: --data is required", ErrConfig)
	case c.Replicas != 1:
		// The cluster (ring, gossip, remote replicas) is not built yet: a
		// node alone can only hold one replica of each key.
		return fmt.Errorf("%w: --replicas %d needs a cluster; a single node has N=1", ErrConfig, c.Replicas)
	}
	if err := ring.ValidatePartitions(c.Partitions); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return nil
}

// Node is a running dynakv node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *replica.Store
	coord *coordinator.Coordinator
	srv   *resp.Server
	ln    net.Listener
	done  chan error
}

// Start builds and starts a node. It returns once clients can connect.
func Start(cfg Config) (*Node, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	log := cfg.Logger.With("node", cfg.ID)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	store, err := replica.Open(replica.Config{
		Dir:    cfg.DataDir,
		NodeID: cfg.ID,
		NoSync: cfg.NoSync,
		// One node holds the only replica: a tombstone past its grace
		// period can go.
		CanReap: func([]byte, dvv.Object) bool { return true },
		Logger:  log,
	})
	if err != nil {
		return nil, err
	}
	cc := coordinator.Config{N: cfg.Replicas, R: cfg.ReadQuorum, W: cfg.WriteQuorum, Timeout: cfg.Timeout}
	coord, err := coordinator.New(cc, store, coordinator.Single(cfg.ID), nil)
	if err != nil {
		store.Close()
		return nil, err
	}
	rc := resp.DefaultConfig()
	rc.RequirePass = cfg.RequirePass
	rc.MaxClients = cfg.MaxClients
	rc.IdleTimeout = cfg.IdleTimeout
	srv := resp.New(rc, coord, log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("node: listen: %w", err)
	}
	n := &Node{cfg: cfg, log: log, store: store, coord: coord, srv: srv, ln: ln, done: make(chan error, 1)}
	go func() { n.done <- srv.Serve(ln) }()
	log.Info("node started", "listen", ln.Addr().String(), "data", cfg.DataDir,
		"incarnation", fmt.Sprintf("%016x", store.Incarnation()), "N", cc.N, "R", cc.R, "W", cc.W)
	return n, nil
}

// Addr returns the address Redis clients connect to.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// Close stops the server, waits for in-flight requests and closes the store.
func (n *Node) Close() error {
	err := n.srv.Close()
	<-n.done
	if e := n.store.Close(); e != nil && err == nil {
		err = e
	}
	n.log.Info("node stopped")
	return err
}
