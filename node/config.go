package node

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/transfer"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("node: invalid config")

// Config is the node's Config tree: the node's own fields, then one
// Config per part, each built from that part's DefaultConfig. cmd/dynakv
// binds its flags to DefaultConfig's values. Fields a part's Config has
// that the node derives (IDs, addresses, directories, clocks, loggers,
// callbacks) are set by Start and ignored here; each is named below.
type Config struct {
	ID              string   // stable node ID (required; --id)
	DataDir         string   // data directory (required; --data)
	Listen          string   // address for Redis clients; port 0 picks one; ListenOff: none, TLS only (--listen)
	Advertise       string   // RESP address told to peers and clients; "" is the listener's (--advertise)
	Gossip          string   // address for cluster gossip, TCP and UDP (--gossip)
	GossipAdvertise string   // gossip address told to peers; "" is Gossip (--gossip-advertise)
	Join            []string // gossip addresses of nodes to join; none (or only this node's own): start a new ring (--join)
	ClusterSecret   string   // shared secret of gossip and node-to-node calls (--cluster-secret)
	// JoinTimeout bounds how long Start waits to be admitted to a ring.
	JoinTimeout time.Duration
	// HTTP is the address of the operational HTTP listener (package
	// monitor: /metrics, the status page at /, /healthz, /readyz); ""
	// is off (--http). It opens before the node joins.
	HTTP string

	// ClusterListen is the cluster-client address: a second RESP listener
	// whose address CLUSTER SLOTS, SHARDS, NODES and REPLICAS advertise,
	// so cluster-aware clients (go-redis ClusterClient, redis-cli
	// --cluster) connect there; on its connections DBSIZE, KEYS, SCAN,
	// RANDOMKEY and INFO keyspace cover only the slots this node is master
	// of, so their sums over the masters count each key once, while
	// Listen's connections see the whole keyspace (--cluster-listen).
	// "" is Listen's host with Listen's port + 10000 when that is below
	// 32768 (outside Linux's ephemeral ports), else a port the system
	// picks; "off" is none (CLUSTER SLOTS then shows Listen's address).
	// Its advertised host is Advertise's (or Listen's).
	ClusterListen string

	// TLS holds Redis's tls-* settings: a TLS RESP listener (tls-port)
	// and its TLS cluster-client listener, client certificates
	// (tls-auth-clients) and node-to-node TLS (tls-cluster); see
	// TLSConfig. Off by default.
	TLS TLSConfig

	// Ring shapes a new ring, N and Q (--replicas, --partitions); a node
	// that joins takes them from the ring it joins.
	Ring ring.Config
	// Coordinator holds R, W and the request timeout (--read-quorum,
	// --write-quorum, --timeout). Its N is the ring's; Healthy is the
	// cluster's. Its Timeout is also the default of every other part's
	// per-call Timeout (hints, transfer, reaper, peer calls) left 0.
	Coordinator coordinator.Config
	// Store configures the local replica (--nosync). Start sets Dir,
	// NodeID, Now, Logger, CanReap and Observer, TombstoneGrace from
	// Reaper.Grace and MaxHintBytes from Hints.MaxBytes.
	Store replica.Config
	// RESP configures the client server (--requirepass, --maxclients,
	// --idle-timeout). Start sets ClusterSecret, Cluster and InfoSections.
	RESP resp.Config
	// Hints configures hinted handoff (--hint-*).
	Hints hints.Config
	// Transfer configures ownership transfer (--transfer-rate,
	// --transfer-batch; --handoff-* are aliases).
	Transfer transfer.Config
	// AE configures the anti-entropy scheduler (--ae-*). A negative
	// AE.Interval turns anti-entropy off (no trees kept).
	AE antientropy.SchedulerConfig
	// Reaper holds the tombstone grace (--tombstone-grace): a tombstone is
	// kept at least this long, and with N > 1 until every replica has it
	// and no member holds a hint older than the delete plus the grace.
	Reaper antientropy.ReaperConfig
	// Cluster tunes the ring-state holder (admission and ask intervals)
	// and holds the node's weight (--weight). Start sets Self, Addr,
	// GossipAddr, Dir, Bootstrap, Ring, OnChange and Logger.
	Cluster cluster.Config

	// Logger receives the node's logs; nil means slog.Default().
	Logger *slog.Logger
	// ClockOffset is added to the wall clock wherever the node reads it
	// for data: the store's clock (the timestamps of writes and
	// tombstones, expiries, the tombstone grace), anti-entropy and
	// transfer. Only fault tests set it (the hidden --clock-offset of
	// `dynakv server`, tests/jepsen's clock skew); 0 in production.
	ClockOffset time.Duration
	// GossipTuning, if set, adjusts the memberlist configuration: the seam
	// where tests put an in-memory gossip transport and short intervals
	// (tests/dynamo_paper_test.go).
	GossipTuning func(*member.Config)
}

// DefaultConfig returns a lone node's defaults, composed of each part's
// DefaultConfig. ID and DataDir must be filled in.
func DefaultConfig() Config {
	c := Config{
		// Redis's own port, on loopback: a bare `dynakv server` is a
		// drop-in local Redis; a cluster node sets a reachable address.
		Listen: "127.0.0.1:6379",
		// memberlist's default port, on loopback like Listen.
		Gossip: "127.0.0.1:7946",
		// 30 s: admission takes one gossip round and a reconcile tick
		// (under a second); the rest is room for a slow seed.
		JoinTimeout: 30 * time.Second,
		// N = 1, Q = 256 (ring.DefaultConfig): the one default N of dynakv,
		// so that a lone node works out of the box; a cluster sets N
		// (dynakv dev: N = 3, R = W = 2).
		Ring: ring.DefaultConfig(),
		// R = W = 1, 2 s request timeout.
		Coordinator: coordinator.DefaultConfig(),
		// Durable writes (fsync), 100 ms sweeps.
		Store: replica.DefaultConfig(),
		// Redis's limits: 10000 clients, 512 MiB values, no idle timeout.
		RESP: resp.DefaultConfig(),
		// One delivery pass a second, hints kept a day, 1 GiB at most.
		Hints: hints.DefaultConfig(),
		// 20000 keys/s in batches of 256.
		Transfer: transfer.DefaultConfig(),
		// Every replica pair compared once a minute, 20000 keys/s.
		AE: antientropy.DefaultSchedulerConfig(),
		// Tombstones kept a minute at least.
		Reaper: antientropy.DefaultReaperConfig(),
		// Weight 1, admission every 500 ms.
		Cluster: cluster.DefaultConfig(),
		// TLS off; once on, Redis's default: clients need a certificate.
		TLS: TLSConfig{AuthClients: AuthClientsYes},
	}
	// 0: each of these calls takes the request timeout, Coordinator.Timeout
	// (--timeout), so one flag bounds every call a request makes.
	c.Hints.Timeout, c.Transfer.Timeout, c.Reaper.Timeout = 0, 0, 0
	c.Coordinator.N = c.Ring.Replicas
	return c
}

// EnsureDefaults fills the zero fields that have a default, each part by
// its own EnsureDefaults; the parts' per-call timeouts left 0 take
// Coordinator.Timeout.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Listen == "" {
		c.Listen = d.Listen
	}
	if c.Gossip == "" {
		c.Gossip = d.Gossip
	}
	if c.JoinTimeout == 0 {
		c.JoinTimeout = d.JoinTimeout
	}
	if c.Ring.Partitions == 0 {
		c.Ring.Partitions = d.Ring.Partitions
	}
	if c.Ring.Replicas == 0 {
		c.Ring.Replicas = d.Ring.Replicas
	}
	c.Coordinator.EnsureDefaults()
	for _, t := range []*time.Duration{&c.Hints.Timeout, &c.Transfer.Timeout, &c.Reaper.Timeout} {
		if *t == 0 {
			*t = c.Coordinator.Timeout
		}
	}
	c.Store.EnsureDefaults()
	mode := c.RESP.Mode
	c.RESP.EnsureDefaults()
	c.RESP.Mode = mode // "" stays: "cluster" once Start sets RESP.Cluster
	c.Hints.EnsureDefaults()
	c.Transfer.EnsureDefaults()
	if c.AE.Interval >= 0 {
		c.AE.EnsureDefaults()
	}
	c.Reaper.EnsureDefaults()
	c.Cluster.EnsureDefaults()
	if c.TLS.AuthClients == "" {
		c.TLS.AuthClients = d.TLS.AuthClients
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
}

// Validate reports the first invalid field, wrapping ErrConfig (and the
// part's own sentinel): missing ID or DataDir, a cluster without a secret,
// and every part's Validate (negative timeouts, rates and sizes).
func (c Config) Validate() error {
	switch {
	case c.ID == "":
		return fmt.Errorf("%w: --id is required", ErrConfig)
	case c.DataDir == "":
		return fmt.Errorf("%w: --data is required", ErrConfig)
	case c.ClusterSecret == "" && (len(c.Join) > 0 || c.Ring.Replicas > 1):
		return fmt.Errorf("%w: a cluster (--join or --replicas > 1) needs --cluster-secret, the same on every node", ErrConfig)
	case c.JoinTimeout < 0:
		return fmt.Errorf("%w: negative join timeout %v", ErrConfig, c.JoinTimeout)
	}
	// A node that joins takes N from the ring it joins; R and W are
	// checked against it when the coordinator is built.
	co := c.Coordinator
	co.N = c.Ring.Replicas
	if len(c.Join) > 0 {
		co.N = ring.MaxReplicas
	}
	store := c.Store
	store.Dir, store.NodeID = c.DataDir, c.ID
	cl := c.Cluster
	cl.Self, cl.Addr, cl.Dir, cl.Bootstrap = ring.NodeID(c.ID), c.Listen, c.DataDir, false
	if err := c.validateTLS(); err != nil {
		return err
	}
	errs := []error{c.Ring.Validate(), co.Validate(), store.Validate(), c.RESP.Validate(),
		c.Hints.Validate(), c.Transfer.Validate(), c.Reaper.Validate(), cl.Validate()}
	if c.AE.Interval >= 0 {
		errs = append(errs, c.AE.Validate())
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	return nil
}

// ClusterListenOff is the ClusterListen value that turns the
// cluster-client listener off.
const ClusterListenOff = "off"

// clusterListenOffset is the default distance from the client port to the
// cluster-client port, Redis Cluster's bus offset.
const clusterListenOffset = 10000

// clusterListenAddr returns the address the cluster-client listener binds
// (see Config.ClusterListen), "" when it is off.
func (c Config) clusterListenAddr() (string, error) {
	if c.Listen == ListenOff && c.ClusterListen == "" {
		return "", nil
	}
	return clientListenAddr(c.ClusterListen, c.Listen, "--listen")
}

// tlsClusterListenAddr is clusterListenAddr for the TLS cluster-client
// listener (TLSConfig.ClusterListen), derived from the TLS listener's
// address bind; "" when TLS is off.
func (c Config) tlsClusterListenAddr(bind string) (string, error) {
	if bind == "" {
		return "", nil
	}
	return clientListenAddr(c.TLS.ClusterListen, bind, "--tls-port")
}

// clientListenAddr returns the address a cluster-client listener binds:
// set, the flag's value, unless it is "" (base's host and port +
// clusterListenOffset if below 32768, else port 0) or ClusterListenOff
// (""). flag names base in errors.
func clientListenAddr(set, base, flag string) (string, error) {
	switch set {
	case ClusterListenOff:
		return "", nil
	case "":
	default:
		return set, nil
	}
	host, p, err := net.SplitHostPort(base)
	if err != nil {
		return "", fmt.Errorf("%w: %s %q: %w", ErrConfig, flag, base, err)
	}
	port, _ := strconv.Atoi(p)
	cport := 0 // the system picks
	if port > 0 && port+clusterListenOffset < 32768 {
		cport = port + clusterListenOffset
	}
	return net.JoinHostPort(host, strconv.Itoa(cport)), nil
}

// advertisedClusterAddr returns the cluster-client address told to peers:
// the host of the advertised RESP address adv with the port the
// cluster-client listener got.
func advertisedClusterAddr(adv string, ln net.Addr) string {
	host, _, err := net.SplitHostPort(adv)
	if err != nil {
		host = adv
	}
	_, port, err := net.SplitHostPort(ln.String())
	if err != nil {
		return ln.String()
	}
	return net.JoinHostPort(host, port)
}
