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
	ln       net.Listener                // the plaintext RESP listener; nil when off (Listen "off")
	cln      net.Listener                // the cluster-client listener; nil when off
	caddr    string                      // its advertised address ("" when off)
	tls      *tlsSetup                   // the TLS material; nil when TLS is off
	tln      net.Listener                // the TLS RESP listener (tls-port); nil when off
	tcln     net.Listener                // the TLS cluster-client listener; nil when off
	tcaddr   string                      // its advertised address ("" when off)
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
// and clients can connect. It is StartContext without a way to stop it.
func Start(cfg Config) (*Node, error) { return StartContext(context.Background(), cfg) }

// StartContext is Start that stops when stop is cancelled before the node
// has started (a SIGTERM while it waits, up to Config.JoinTimeout, to be
// admitted to a ring): it then tears down what it had started and returns
// an error wrapping stop's (errors.Is(err, context.Canceled)). stop does
// not bound the node's life once StartContext has returned it: Close
// does that.
func StartContext(stop context.Context, cfg Config) (n *Node, err error) {
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
	// NB: stop cancels the node's own context while it starts: what waits
	// (the join) returns, and the start fails below.
	unlink := context.AfterFunc(stop, cancel)
	// NB: the error returns below set the named result n to nil, so the
	// cleanup keeps its own reference.
	started := n
	defer func() {
		if !unlink() && err == nil {
			n, err = nil, stop.Err() // stopped as the start ended
		}
		if err != nil {
			if stop.Err() != nil && !errors.Is(err, stop.Err()) {
				err = fmt.Errorf("node: start stopped (%w): %v", stop.Err(), err)
			}
			started.teardown()
		}
	}()
	if n.tls, err = loadTLS(cfg.TLS); err != nil {
		return nil, err
	}
	if err = n.listen(); err != nil {
		return nil, err
	}
	if err = n.startHTTP(); err != nil {
		return nil, err
	}
	addr := n.advertised()
	if err = n.listenClusterClients(addr); err != nil {
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
	if n.tls != nil {
		respCfg.Params = append(respCfg.Params, tlsParams(cfg.TLS)...)
		if cfg.TLS.Cluster {
			respCfg.PeerTLS = n.tls.peerCert
		}
	}
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
	n.serve()
	n.up.Store(true)
	log.Info("node started", "listen", n.Addr(), "cluster_listen", n.caddr, "tls", n.TLSAddr(), "tls_cluster_listen", n.tcaddr, "http", n.HTTPAddr(), "data", cfg.DataDir,
		"incarnation", fmt.Sprintf("%016x", n.store.Incarnation()), "ring_version", st.Version(),
		"members", len(st.Members()), "N", cc.N, "R", cc.R, "W", cc.W)
	return n, nil
}

// now is the node's clock: the wall clock plus Config.ClockOffset.
func (n *Node) now() time.Time { return time.Now().Add(n.cfg.ClockOffset) }

// Addr returns the address plaintext Redis clients connect to; the TLS
// one (TLSAddr) when the plaintext listener is off.
func (n *Node) Addr() string {
	if n.ln == nil {
		return n.TLSAddr()
	}
	return n.ln.Addr().String()
}

// TLSAddr returns the address of the TLS listener (tls-port), "" when it
// is off.
func (n *Node) TLSAddr() string {
	if n.tln == nil {
		return ""
	}
	return n.tln.Addr().String()
}

// ID returns the node's ID.
func (n *Node) ID() string { return n.cfg.ID }

// Close stops the server, waits for in-flight requests, leaves gossip and
// closes the store.
func (n *Node) Close() error {
	n.up.Store(false)
	n.stopHTTP()
	err := n.srv.Close()
	<-n.done
	n.coord.Wait()                                  // sends beyond W and read repairs still in flight
	n.ln, n.cln, n.tln, n.tcln = nil, nil, nil, nil // closed by the server's Close
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
	for _, ln := range []net.Listener{n.ln, n.cln, n.tln, n.tcln} {
		if ln != nil {
			ln.Close()
		}
	}
	return err
}

// listen opens the RESP listeners: the plaintext one unless Listen is
// ListenOff, the TLS one when TLS is on.
func (n *Node) listen() (err error) {
	if n.cfg.Listen != ListenOff {
		if n.ln, err = net.Listen("tcp", n.cfg.Listen); err != nil {
			return fmt.Errorf("node: listen: %w", err)
		}
	}
	bind, err := n.cfg.tlsBind()
	if err != nil || bind == "" {
		return err
	}
	if n.tln, err = net.Listen("tcp", bind); err != nil {
		return fmt.Errorf("node: TLS listen (--tls-port): %w", err)
	}
	return nil
}

// advertised returns the RESP address told to peers, the one they dial:
// Advertise, else the listener's; under tls-cluster the TLS listener's.
func (n *Node) advertised() string {
	if n.cfg.Advertise != "" {
		return n.cfg.Advertise
	}
	if n.cfg.TLS.Cluster || n.ln == nil {
		return n.tln.Addr().String()
	}
	return n.ln.Addr().String()
}

// listenClusterClients opens the cluster-client listeners (see
// Config.ClusterListen and TLSConfig.ClusterListen) and sets their
// advertised addresses: the host of adv (the advertised RESP address)
// and the listener's port; nil and "" when off.
func (n *Node) listenClusterClients(adv string) error {
	bind, err := n.cfg.clusterListenAddr()
	if err != nil {
		return err
	}
	if bind != "" {
		if n.cln, err = net.Listen("tcp", bind); err != nil {
			return fmt.Errorf("node: cluster-client listen (--cluster-listen): %w", err)
		}
		n.caddr = advertisedClusterAddr(adv, n.cln.Addr())
	}
	if n.tln == nil {
		return nil
	}
	if bind, err = n.cfg.tlsClusterListenAddr(n.tln.Addr().String()); err != nil || bind == "" {
		return err
	}
	if n.tcln, err = net.Listen("tcp", bind); err != nil {
		return fmt.Errorf("node: TLS cluster-client listen (--tls-cluster-listen): %w", err)
	}
	n.tcaddr = advertisedClusterAddr(adv, n.tcln.Addr())
	return nil
}

// clientAddrs returns the addresses this node gossips for the CLUSTER
// commands (cluster.Config's ClientAddr and TLSClientAddr): its
// cluster-client ones, else, for the kind the ring's address (adv) is
// not, its RESP listener's (on adv's host), so every node shows both its
// plaintext and TLS ports.
func (n *Node) clientAddrs(adv string) (plain, tlsAddr string) {
	plain, tlsAddr = n.caddr, n.tcaddr
	if plain == "" && n.cfg.TLS.Cluster && n.ln != nil {
		plain = advertisedClusterAddr(adv, n.ln.Addr())
	}
	if tlsAddr == "" && !n.cfg.TLS.Cluster && n.tln != nil {
		tlsAddr = advertisedClusterAddr(adv, n.tln.Addr())
	}
	return plain, tlsAddr
}

// serve starts serving the listeners; the first of the plaintext and TLS
// RESP ones reports its end on n.done.
func (n *Node) serve() {
	primary := true
	for _, l := range []struct {
		ln    net.Listener
		name  string
		serve func(net.Listener) error
	}{
		{n.ln, "RESP", n.srv.Serve},
		{n.tln, "TLS", func(ln net.Listener) error { return n.srv.ServeTLS(ln, n.tls.server) }},
		{n.cln, "cluster-client", n.srv.ServeClusterClients},
		{n.tcln, "TLS cluster-client", func(ln net.Listener) error { return n.srv.ServeClusterClientsTLS(ln, n.tls.server) }},
	} {
		if l.ln == nil {
			continue
		}
		done := primary
		primary = false
		go func() {
			err := l.serve(l.ln)
			if err != nil && !errors.Is(err, resp.ErrServerClosed) {
				n.log.Error("RESP listener stopped", "listener", l.name, "err", err)
			}
			if done {
				n.done <- err
			}
		}()
	}
}

// ClusterAddr returns the advertised cluster-client address, "" when the
// cluster-client listener is off.
func (n *Node) ClusterAddr() string { return n.caddr }
