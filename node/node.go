package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/cluster"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/monitor"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/transfer"
)

// Node is a running dynakv node.
type Node struct {
	cfg      Config
	log      *slog.Logger
	store    *replica.Store
	cluster  *cluster.Cluster
	peers    *peerclient.Clients
	ml       *member.Membership // gossip; nil until started
	transfer *transfer.Transfer
	ae       *antientropy.Scheduler // nil when anti-entropy is off
	hints    *hints.Deliverer
	coord    *coordinator.Coordinator
	co       atomic.Pointer[coordinator.Coordinator] // coord, for the store's sweeper (set once built)
	srv      *resp.Server
	rs       atomic.Pointer[resp.Server] // srv, for the store's sweeper (set once built)
	ln       net.Listener
	cln      net.Listener // the cluster-client listener; nil when off
	caddr    string       // its advertised address ("" when off)
	cancel   context.CancelFunc
	done     chan error
	purge    chan struct{} // wakes purgeLoop (flush epochs changed)

	// The operational HTTP listener (monitor.go); nil when off.
	hln    net.Listener
	hsrv   *http.Server
	recent *monitor.Recent // the last warnings and errors, for the status page
	up     atomic.Bool     // Start finished: every part above is set
}

// Start builds and starts a node. It returns once the node is in a ring
// and clients can connect.
func Start(cfg Config) (n *Node, err error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	adv := cfg.GossipAdvertise
	if adv == "" {
		adv = cfg.Gossip
	}
	cfg.Join = withoutSelf(cfg.Join, adv)
	recent := monitor.NewRecent(recentRecords)
	log := slog.New(recent.Handler(cfg.Logger.Handler())).With("node", cfg.ID)
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("node: data dir: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n = &Node{cfg: cfg, log: log, cancel: cancel, done: make(chan error, 1), purge: make(chan struct{}, 1), recent: recent}
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
	if err = n.startHTTP(); err != nil {
		return nil, err
	}
	addr := cfg.Advertise
	if addr == "" {
		addr = n.ln.Addr().String()
	}
	if n.cln, n.caddr, err = listenClusterClients(cfg, addr); err != nil {
		return nil, err
	}
	if err = n.newCluster(addr); err != nil {
		return nil, err
	}
	if n.transfer, err = n.newTransfer(); err != nil {
		return nil, err
	}
	if err = n.startGossip(ctx); err != nil {
		return nil, err
	}
	if err = n.cluster.WaitJoined(ctx, cfg.JoinTimeout); err != nil {
		return nil, err
	}
	st := n.cluster.Current()
	rc := cfg.Store
	rc.Dir, rc.NodeID, rc.Logger, rc.Now = cfg.DataDir, cfg.ID, log, n.now
	rc.MaxHintBytes, rc.TombstoneGrace = cfg.Hints.MaxBytes, cfg.Reaper.Grace
	rc.OnExpired = n.expired
	rc.Flushed = n.flushed
	if st.Replicas() == 1 {
		// The only replica of every key: a tombstone past its grace period
		// can go.
		rc.CanReap = func([]byte, crdt.Object) bool { return true }
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
	cc := cfg.Coordinator
	cc.N, cc.Healthy = st.Replicas(), n.cluster.Alive
	if st.Replicas() != cfg.Ring.Replicas {
		log.Warn("the ring's replica count differs from --replicas; using the ring's", "ring", st.Replicas(), "flag", cfg.Ring.Replicas)
	}
	if n.coord, err = coordinator.New(cc, n.store, coordinator.RingPlacement(n.cluster.Current), n.replica); err != nil {
		return nil, err
	}
	n.co.Store(n.coord)
	if st.FlushEpochs() != ([ring.Databases]uint64{}) {
		n.wakePurge() // what this node held of epochs closed while it was down
	}
	go n.purgeLoop(ctx)
	respCfg := cfg.RESP
	respCfg.ClusterSecret = cfg.ClusterSecret
	respCfg.Cluster = respCluster{n}
	respCfg.Databases = respDatabases{n}
	respCfg.InfoSections = n.infoSections()
	if n.ae != nil {
		go n.ae.Run(ctx)
	}
	n.srv = resp.New(respCfg, n.coord, log)
	n.rs.Store(n.srv)
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
		Queue: n.store, Healthy: n.coord.Healthy, IsMember: n.cluster.IsMember, Logger: log,
		Peers: func(id string) hints.Target {
			if r := n.peer(id); r != nil {
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
	if n.cln != nil {
		go func() {
			err := n.srv.ServeClusterClients(n.cln)
			if err != nil && !errors.Is(err, resp.ErrServerClosed) {
				log.Error("RESP cluster-client listener stopped", "err", err)
			}
		}()
	}
	n.up.Store(true)
	log.Info("node started", "listen", n.ln.Addr().String(), "cluster_listen", n.caddr, "http", n.HTTPAddr(), "data", cfg.DataDir,
		"incarnation", fmt.Sprintf("%016x", n.store.Incarnation()), "ring_version", st.Version(),
		"members", len(st.Members()), "N", cc.N, "R", cc.R, "W", cc.W)
	return n, nil
}

// now is the node's clock: the wall clock plus Config.ClockOffset.
func (n *Node) now() time.Time { return time.Now().Add(n.cfg.ClockOffset) }

// Addr returns the address Redis clients connect to.
func (n *Node) Addr() string { return n.ln.Addr().String() }

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Close stops the server, waits for in-flight requests, leaves gossip and
// closes the store.
func (n *Node) Close() error {
	n.up.Store(false)
	n.stopHTTP()
	err := n.srv.Close()
	<-n.done
	n.coord.Wait() // sends beyond W and read repairs still in flight
	n.ln = nil     // closed by Serve
	n.cln = nil    // closed by the server's Close
	if e := n.teardown(); e != nil && err == nil {
		err = e
	}
	n.log.Info("node stopped")
	return err
}

// teardown releases what Start acquired, in reverse order.
func (n *Node) teardown() error {
	n.stopHTTP()
	n.cancel()
	n.closeCluster()
	var err error
	if n.store != nil {
		err = n.store.Close()
	}
	if n.ln != nil {
		n.ln.Close()
	}
	if n.cln != nil {
		n.cln.Close()
	}
	return err
}

// listenClusterClients opens the cluster-client listener (see
// Config.ClusterListen) and returns it with its advertised address, the
// host of adv (the advertised RESP address) and the listener's port; nil
// and "" when it is off.
func listenClusterClients(cfg Config, adv string) (net.Listener, string, error) {
	bind, err := cfg.clusterListenAddr()
	if err != nil || bind == "" {
		return nil, "", err
	}
	ln, err := net.Listen("tcp", bind)
	if err != nil {
		return nil, "", fmt.Errorf("node: cluster-client listen (--cluster-listen): %w", err)
	}
	return ln, advertisedClusterAddr(adv, ln.Addr()), nil
}

// ClusterAddr returns the advertised cluster-client address, "" when the
// cluster-client listener is off.
func (n *Node) ClusterAddr() string { return n.caddr }
