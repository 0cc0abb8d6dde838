package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/transfer"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("node: invalid config")

// Config is everything a node needs; cmd/dynakv fills it from flags.
type Config struct {
	ID              string   // stable node ID
	Listen          string   // address for Redis clients (port 0 picks one)
	Advertise       string   // RESP address told to peers and clients (default: the listener's)
	Gossip          string   // address for cluster gossip
	GossipAdvertise string   // gossip address told to peers (default: Gossip)
	DataDir         string   // data directory
	Join            []string // gossip addresses of nodes to join
	ClusterSecret   string   // shared secret of node-to-node calls
	// Hints configures hinted handoff (flags --hint-*).
	Hints  hints.Config
	Weight int // relative capacity: share of partitions
	// Transfer tunes ownership transfer (--transfer-rate, --transfer-batch);
	// its Timeout is taken from Timeout.
	Transfer transfer.Config

	// AE configures the anti-entropy scheduler (flags --ae-*). A negative
	// AE.Interval turns anti-entropy off (no trees kept).
	AE antientropy.SchedulerConfig
	// TombstoneGrace is how long a deleted key's tombstone is kept at
	// least; with N > 1 it goes only once every replica has it and no
	// member holds a hint older than the delete plus the grace
	// (antientropy.Reaper).
	TombstoneGrace time.Duration

	// Replicas (N) and Partitions (Q) shape a new ring; a node that joins
	// takes them from the ring it joins.
	Replicas    int
	ReadQuorum  int // R
	WriteQuorum int // W
	Partitions  int // Q
	Timeout     time.Duration
	// JoinTimeout bounds how long Start waits to be admitted to a ring.
	JoinTimeout time.Duration

	RequirePass string
	MaxClients  int
	IdleTimeout time.Duration
	NoSync      bool

	LogLevel string
	LogJSON  bool
	Logger   *slog.Logger

	// GossipTuning, if set, adjusts the memberlist configuration (tests
	// shorten its intervals).
	GossipTuning func(*member.Config)
}

// DefaultConfig returns a lone node's defaults: N = R = W = 1, Q = 256.
func DefaultConfig() Config {
	cc := coordinator.DefaultConfig()
	return Config{
		Listen:         "127.0.0.1:6379",
		Gossip:         "127.0.0.1:7946",
		Weight:         1,
		Transfer:       transfer.DefaultConfig(),
		Hints:          hintsDefaults(),
		AE:             antientropy.DefaultSchedulerConfig(),
		TombstoneGrace: antientropy.DefaultReaperConfig().Grace,
		Replicas:       cc.N,
		ReadQuorum:     cc.R,
		WriteQuorum:    cc.W,
		Partitions:     ring.DefaultPartitions,
		Timeout:        cc.Timeout,
		JoinTimeout:    30 * time.Second,
		MaxClients:     resp.DefaultConfig().MaxClients,
		LogLevel:       "info",
	}
}

// hintsDefaults is hints.DefaultConfig with Timeout left 0, so that hint
// merges take --timeout (set in validate).
func hintsDefaults() hints.Config {
	h := hints.DefaultConfig()
	h.Timeout = 0
	return h
}

func (c *Config) validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: --id is required", ErrConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: --data is required", ErrConfig)
	case c.Weight < 1 || c.Weight > ring.MaxWeight:
		return fmt.Errorf("%w: --weight must be in 1..%d", ErrConfig, ring.MaxWeight)
	case c.ClusterSecret == "" && (len(c.Join) > 0 || c.Replicas > 1):
		return fmt.Errorf("%w: a cluster (--join or --replicas > 1) needs --cluster-secret, the same on every node", ErrConfig)
	}
	if err := ring.ValidatePartitions(c.Partitions); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if err := c.Transfer.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.Transfer.EnsureDefaults()
	if c.Hints.Timeout == 0 {
		c.Hints.Timeout = c.Timeout // each hint merge is a node-to-node call of a request
	}
	c.Hints.EnsureDefaults()
	if err := c.Hints.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	if c.AE.Interval >= 0 {
		c.AE.EnsureDefaults()
		if err := c.AE.Validate(); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	rc := antientropy.ReaperConfig{Grace: c.TombstoneGrace}
	rc.EnsureDefaults()
	if err := rc.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	c.TombstoneGrace = rc.Grace
	if c.JoinTimeout == 0 {
		c.JoinTimeout = 30 * time.Second
	}
	return nil
}

// Node is a running dynakv node.
type Node struct {
	cfg      Config
	log      *slog.Logger
	store    *replica.Store
	cluster  *nodeCluster
	transfer *transfer.Transfer
	ae       *antientropy.Scheduler // nil when anti-entropy is off
	hints    *hints.Deliverer
	coord    *coordinator.Coordinator
	co       atomic.Pointer[coordinator.Coordinator] // coord, for the store's sweeper (set once built)
	srv      *resp.Server
	ln       net.Listener
	cancel   context.CancelFunc
	done     chan error
}

// Start builds and starts a node. It returns once the node is in a ring
// and clients can connect.
func Start(cfg Config) (n *Node, err error) {
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
	ctx, cancel := context.WithCancel(context.Background())
	n = &Node{cfg: cfg, log: log, cancel: cancel, done: make(chan error, 1)}
	// NB: the error returns below set the named result n to nil, so the
	// cleanup keeps its own reference.
	started := n
	defer func() {
		if err != nil {
			started.teardown()
		}
	}()
	if n.ln, err = net.Listen("tcp", cfg.Listen); err != nil {
		return nil, fmt.Errorf("node: listen: %w", err)
	}
	addr := cfg.Advertise
	if addr == "" {
		addr = n.ln.Addr().String()
	}
	if n.cluster, err = newCluster(cfg, addr, log); err != nil {
		return nil, err
	}
	if n.transfer, err = newTransfer(n); err != nil {
		return nil, err
	}
	n.cluster.onChange = func(old, next *ring.State) {
		if k := len(next.MovingPartitions()); k > 0 {
			log.Info("ring change: partitions moving", "moving", k, "version", next.Version())
		}
		n.transfer.Wake()
	}
	if err = n.cluster.startGossip(ctx, cfg); err != nil {
		return nil, err
	}
	if err = n.cluster.waitJoined(ctx, cfg.JoinTimeout); err != nil {
		return nil, err
	}
	st := n.cluster.current()
	rc := replica.Config{Dir: cfg.DataDir, NodeID: cfg.ID, NoSync: cfg.NoSync, MaxHintBytes: cfg.Hints.MaxBytes,
		TombstoneGrace: cfg.TombstoneGrace, Logger: log, Now: time.Now}
	if st.Replicas() == 1 {
		// The only replica of every key: a tombstone past its grace period
		// can go.
		rc.CanReap = func([]byte, dvv.Object) bool { return true }
	} else {
		reaper, err := n.newReaper(rc.Now)
		if err != nil {
			return nil, err
		}
		rc.CanReap = reaper.CanReap
	}
	var trees *antientropy.Trees
	if cfg.AE.Interval >= 0 {
		layout, err := antientropy.NewLayout(st.Partitions(), 0)
		if err != nil {
			return nil, fmt.Errorf("node: anti-entropy: %w", err)
		}
		trees = antientropy.NewTrees(layout)
		rc.Observer = trees
	}
	t0 := time.Now()
	if n.store, err = replica.Open(rc); err != nil {
		return nil, err
	}
	if trees != nil {
		log.Info("anti-entropy trees built", "partitions", st.Partitions(), "leaves", trees.Layout().Leaves(), "took", time.Since(t0).Round(time.Millisecond))
		if n.ae, err = n.newScheduler(trees); err != nil {
			return nil, err
		}
	}
	cc := coordinator.Config{N: st.Replicas(), R: cfg.ReadQuorum, W: cfg.WriteQuorum, Timeout: cfg.Timeout, Healthy: n.cluster.alive}
	if st.Replicas() != cfg.Replicas {
		log.Warn("the ring's replica count differs from --replicas; using the ring's", "ring", st.Replicas(), "flag", cfg.Replicas)
	}
	if n.coord, err = coordinator.New(cc, n.store, coordinator.RingPlacement(n.cluster.current), n.cluster.Peers); err != nil {
		return nil, err
	}
	n.co.Store(n.coord)
	respCfg := resp.DefaultConfig()
	respCfg.RequirePass = cfg.RequirePass
	respCfg.MaxClients = cfg.MaxClients
	respCfg.IdleTimeout = cfg.IdleTimeout
	respCfg.ClusterSecret = cfg.ClusterSecret
	respCfg.Cluster = respCluster{c: n.cluster, t: n.transfer, ae: n.ae, co: n.coord}
	respCfg.InfoSections = append([]resp.InfoSection{n.infoReplication(), n.cluster.infoCluster()}, infoTransfer(n.transfer)...)
	if n.ae != nil {
		respCfg.InfoSections = append(respCfg.InfoSections, infoAE(n.ae))
		go n.ae.Run(ctx)
	}
	n.srv = resp.New(respCfg, backendShim{n.coord}, log) // shim: removed when the coordinator carries crdt objects
	if cfg.ClusterSecret != "" {
		local := peer.Local{Store: n.store}
		if trees != nil {
			local.Trees = trees
		}
		if err = peerserver.Register(n.srv, local); err != nil {
			return nil, err
		}
	}
	if n.hints, err = hints.New(cfg.Hints, hints.Deps{
		Queue: n.store, Healthy: n.coord.Healthy, IsMember: n.cluster.isMember, Logger: log,
		Peers: func(id string) hints.Target {
			if r := n.cluster.peer(id); r != nil {
				return r
			}
			return nil
		},
	}); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(cfg.Hints.Interval)
		defer t.Stop()
		n.hints.Run(ctx, t.C)
	}()
	go n.transfer.Run(ctx)
	go func() {
		err := n.srv.Serve(n.ln)
		if err != nil && !errors.Is(err, resp.ErrServerClosed) {
			log.Error("RESP server stopped", "err", err)
		}
		n.done <- err
	}()
	log.Info("node started", "listen", n.ln.Addr().String(), "data", cfg.DataDir,
		"incarnation", fmt.Sprintf("%016x", n.store.Incarnation()), "ring_version", st.Version(),
		"members", len(st.Members()), "N", cc.N, "R", cc.R, "W", cc.W)
	return n, nil
}

// Addr returns the address Redis clients connect to.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Close stops the server, waits for in-flight requests, leaves gossip and
// closes the store.
func (n *Node) Close() error {
	err := n.srv.Close()
	<-n.done
	n.coord.Wait() // sends beyond W and read repairs still in flight
	n.ln = nil     // closed by Serve
	if e := n.teardown(); e != nil && err == nil {
		err = e
	}
	n.log.Info("node stopped")
	return err
}

// teardown releases what Start acquired, in reverse order.
func (n *Node) teardown() error {
	n.cancel()
	if n.cluster != nil {
		n.cluster.close()
	}
	var err error
	if n.store != nil {
		err = n.store.Close()
	}
	if n.ln != nil {
		n.ln.Close()
	}
	return err
}

// infoReplication is INFO's replication section.
func (n *Node) infoReplication() resp.InfoSection {
	return resp.InfoSection{Name: "replication", Default: true, Fields: func() []resp.InfoField {
		cc := n.coord.Config()
		f := []resp.InfoField{
			{Name: "role", Value: "master"},
			{Name: "replicas_n", Value: strconv.Itoa(cc.N)},
			{Name: "read_quorum", Value: strconv.Itoa(cc.R)},
			{Name: "write_quorum", Value: strconv.Itoa(cc.W)},
			{Name: "read_repairs", Value: strconv.FormatInt(n.coord.Stats().ReadRepairs.Load(), 10)},
		}
		hs := n.store.HintStats()
		targets, _ := n.store.HintTargets()
		pending := 0
		var per []string
		for id, c := range targets {
			pending += c
			per = append(per, id+"="+strconv.Itoa(c))
		}
		slices.Sort(per)
		return append(f,
			resp.InfoField{Name: "hints_pending", Value: strconv.Itoa(pending)},
			resp.InfoField{Name: "hints_pending_by_target", Value: strings.Join(per, ",")},
			resp.InfoField{Name: "hints_stored", Value: strconv.FormatInt(hs.Stored, 10)},
			resp.InfoField{Name: "hints_delivered", Value: strconv.FormatInt(hs.Delivered, 10)},
			resp.InfoField{Name: "hints_dropped", Value: strconv.FormatInt(hs.Dropped, 10)},
			resp.InfoField{Name: "hints_delivery_failures", Value: strconv.FormatInt(n.hints.Stats().Failed, 10)},
		)
	}}
}
