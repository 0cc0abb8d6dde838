package resp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/script"
	"github.com/tidwall/redcon"
)

// Backend is what the RESP server serves: the coordinator in a node, an
// in-memory fake (resptest) in tests. Objects are crdt.Objects of any
// type; the server reads them through crdt's views and writes them
// through crdt's mutators. Its methods are called concurrently.
type Backend interface {
	// Get returns the key's object, the merge of R replicas (or the local
	// one with opt.Local); the zero Object if there is none.
	Get(ctx context.Context, key []byte, opt coordinator.ReadOptions) (crdt.Object, error)
	// Update reads the key's current object cur, calls fn(cur, stamp) with
	// a fresh dot of the coordinating node and its clock, merges the delta
	// fn returns into every replica (a zero delta writes nothing) at
	// quorum W, and returns the objects before and after. An error from
	// fn aborts the update with nothing written and is returned unchanged.
	Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn crdt.Mutator) (prev, next crdt.Object, err error)
	// Scan visits stored objects (tombstones and expired values included)
	// from cursor, at least count of them unless exhausted or fn returns
	// false, and returns the cursor to resume from, 0 when done. Cursors
	// are positions in peer.CursorOf's order, the order keys are visited
	// in; resuming from one visits the keys at or after it. A key fn
	// refused counts as visited: the cursor returned then is past it (the
	// SCAN pages of scan.go compute their own cursor instead).
	Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte, o crdt.Object) bool) (next uint64, err error)
	// NowMs is the backend's clock, Unix milliseconds: the time expiries
	// are computed and checked against.
	NowMs() int64
}

// Server is a RESP server in front of a Backend. Build it with New.
type Server struct {
	cfg    Config
	cfgErr error
	b      Backend
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc

	cmds    map[string]*Command
	params  map[string]Param // CONFIG's parameters, fixed once Serve is called
	adm     serverAdmin      // server and admin commands' state (cmd_admin.go)
	scripts *script.Engine   // Lua scripts: cache, time limit (cmd_script.go)
	serving atomic.Bool
	nextID  atomic.Int64
	started time.Time
	runID   string

	localDBs localDatabases // the databases' epochs without Config.Databases
	workers  workerPool     // goroutines of concurrent pipelined commands (pipeline.go)

	mu      sync.Mutex
	closed  bool
	lns     []net.Listener
	conns   map[*guardConn]struct{} // admitted, not yet closed
	npeers  int                     // how many of conns are peer connections (markPeer)
	clients map[int64]*Conn         // handed to redcon and not peers: CLIENT LIST, KILL
	wg      sync.WaitGroup          // one per admitted connection, until redcon is done with it

	acl     aclState // ACL users and log (acl.go)
	aclOnce sync.Once
	aclErr  error // loading Config.ACLFile at the first Serve

	pub pubState // Pub/Sub, keyspace notifications, MONITOR (cmd_pubsub.go)

	blocked blockRegistry // blocked commands' waiters (blocking.go)

	stats struct {
		connsReceived atomic.Int64
		commands      atomic.Int64
		rejected      atomic.Int64
		hits          atomic.Int64
		misses        atomic.Int64
		netIn         atomic.Int64
		netOut        atomic.Int64

		// Peer connections' traffic, kept out of the client counters
		// above (INFO stats shows it as dynakv_peer_* fields).
		peerCommands atomic.Int64
		peerNetIn    atomic.Int64
		peerNetOut   atomic.Int64
	}
}

// New returns a server for backend b. cfg's zero fields take their
// defaults; an invalid cfg is reported by Serve. A nil logger discards.
func New(cfg Config, b Backend, logger *slog.Logger) *Server {
	cfg.EnsureDefaults()
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	ctx, cancel := context.WithCancel(context.Background())
	var id [20]byte
	_, _ = rand.Read(id[:])
	s := &Server{
		cfg:     cfg,
		cfgErr:  cfg.Validate(),
		b:       b,
		log:     logger,
		ctx:     ctx,
		cancel:  cancel,
		cmds:    make(map[string]*Command),
		started: time.Now(),
		runID:   hex.EncodeToString(id[:]),
		conns:   make(map[*guardConn]struct{}),
		clients: make(map[int64]*Conn),
	}
	s.registerParams()
	s.initScripts()
	s.initPubSub()
	for _, cmd := range s.builtinCommands() {
		if err := s.Register(cmd, false); err != nil {
			panic(err) // a bug in the built-in table
		}
	}
	s.initAdmin()
	s.initACL()
	for _, p := range cfg.Params {
		s.addParam(p)
	}
	if cfg.ClusterSecret != "" {
		for _, cmd := range peerCommands() {
			if err := s.register(cmd, false, true); err != nil {
				panic(err) // a bug in the internal table
			}
		}
	}
	return s
}

// ListenAndServe listens on the TCP address addr and serves it.
func (s *Server) ListenAndServe(addr string) error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("resp: listen: %w", err)
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln and serves them until Close, then
// returns ErrServerClosed. It takes ownership of ln. It may be called for
// several listeners.
func (s *Server) Serve(ln net.Listener) error { return s.serve(ln, listenerKind{}) }

// ServeClusterClients is Serve for the cluster-client listener: the
// address CLUSTER SLOTS advertises. Its connections are cluster-aware:
// DBSIZE, KEYS, SCAN, RANDOMKEY and INFO keyspace cover only the slots
// this node is master of, so clients that sum them over the masters
// count each key once (see scan.go).
func (s *Server) ServeClusterClients(ln net.Listener) error {
	return s.serve(ln, listenerKind{clusterAware: true})
}

func (s *Server) serve(ln net.Listener, kind listenerKind) error {
	if s.cfgErr != nil {
		ln.Close()
		return s.cfgErr
	}
	s.aclOnce.Do(func() { s.aclErr = s.loadACLFile() }) // once the table is complete
	if s.aclErr != nil {
		ln.Close()
		return s.aclErr
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrServerClosed
	}
	gl := &guardListener{Listener: ln, srv: s, kind: kind}
	s.lns = append(s.lns, gl)
	s.serving.Store(true)
	s.mu.Unlock()

	accept := func(rc redcon.Conn) bool { return s.accept(rc, kind) }
	rs := redcon.NewServerNetwork(ln.Addr().Network(), ln.Addr().String(), s.handle, accept, s.closedConn)
	rs.AcceptError = func(err error) { s.log.Warn("resp: accept", "error", err) }
	err := rs.Serve(gl)
	s.mu.Lock()
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return ErrServerClosed
	}
	if err == nil {
		err = errors.New("resp: listener closed")
	}
	return err
}

// Addr returns the address of the first listener, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.lns) == 0 {
		return nil
	}
	return s.lns[0].Addr()
}

// Close stops accepting, closes every client connection, cancels the
// context of backend calls in flight and returns once every connection's
// handler has finished. Serve then returns ErrServerClosed.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.wg.Wait()
		return nil
	}
	s.closed = true
	lns := s.lns
	conns := make([]*guardConn, 0, len(s.conns))
	for g := range s.conns {
		conns = append(conns, g)
	}
	s.mu.Unlock()
	s.cancel()
	var err error
	for _, ln := range lns {
		if e := ln.Close(); e != nil && !errors.Is(e, net.ErrClosed) {
			err = e
		}
	}
	for _, g := range conns {
		g.Close()
	}
	s.wg.Wait()
	return err
}

// admit decides on a new connection: a guardConn to serve, nil if it was
// turned away (too many clients), or an error if the server is closed.
func (s *Server) admit(c net.Conn) (*guardConn, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		c.Close()
		return nil, net.ErrClosed
	}
	if int64(len(s.conns)-s.npeers) >= s.adm.maxClients.Load() { // maxclients, settable; peers do not count
		s.mu.Unlock()
		s.stats.rejected.Add(1)
		refuse := func() {
			_ = c.SetDeadline(time.Now().Add(errorWriteTimeout))
			_, _ = c.Write([]byte("-ERR max number of clients reached\r\n"))
			c.Close()
		}
		if _, ok := c.(*tlsServerConn); ok {
			// NB: the write runs the handshake, a round trip with the
			// client: not on the accept loop.
			go refuse()
		} else {
			refuse()
		}
		return nil, nil
	}
	g := &guardConn{Conn: c, srv: s, f: newFramer(s.cfg.frameLimits())}
	s.conns[g] = struct{}{}
	s.wg.Add(1)
	s.mu.Unlock()
	s.stats.connsReceived.Add(1)
	return g, nil
}

// release frees a closed connection's client slot.
func (s *Server) release(g *guardConn) {
	s.mu.Lock()
	if _, ok := s.conns[g]; ok && g.peer.Load() {
		s.npeers--
	}
	delete(s.conns, g)
	s.mu.Unlock()
}

// markPeer makes c a peer connection (DKV.AUTH): from now on it is not a
// client. CLIENT LIST, CLIENT INFO and CLIENT KILL no longer see it,
// connected_clients no longer counts it, and it frees its MaxClients slot,
// so clients filling maxclients cannot cut the nodes off from each other
// (a new peer connection still needs a free slot until its DKV.AUTH). Its
// commands and bytes are counted apart (Stats.Peer*).
func (s *Server) markPeer(c *Conn) {
	c.peer = true
	var g *guardConn
	if c.rc != nil {
		g, _ = c.rc.NetConn().(*guardConn)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.clients, c.id)
	if g != nil && !g.peer.Load() {
		g.peer.Store(true)
		if _, ok := s.conns[g]; ok {
			s.npeers++
		}
	}
}

// accept is redcon's accept callback: the connection's session begins;
// of the listener's kind (cluster-aware, TLS).
func (s *Server) accept(rc redcon.Conn, kind listenerKind) bool {
	var laddr string
	if nc := rc.NetConn(); nc != nil {
		laddr = nc.LocalAddr().String()
	}
	c := newConn(s, rc, rc.RemoteAddr(), laddr)
	c.clusterAware = kind.clusterAware
	c.tls = kind.tls != nil
	rc.SetContext(c)
	s.mu.Lock()
	s.clients[c.id] = c
	s.mu.Unlock()
	return true
}

// closedConn is redcon's callback after a connection's handler ended.
func (s *Server) closedConn(rc redcon.Conn, err error) {
	if c, ok := rc.Context().(*Conn); ok {
		c.closePush()
		s.mu.Lock()
		delete(s.clients, c.id)
		s.mu.Unlock()
	}
	var ne net.Error
	switch {
	case err == nil, errors.Is(err, net.ErrClosed), errors.Is(err, ErrProtocol):
	case errors.As(err, &ne) && ne.Timeout():
		s.log.Debug("resp: idle client closed", "remote", rc.RemoteAddr())
	default:
		s.log.Debug("resp: connection closed", "remote", rc.RemoteAddr(), "error", err)
	}
	s.wg.Done()
}

// handle is redcon's command handler: it runs one command, turning a
// panic into "-ERR internal error", and hands the reply to redcon. If the
// command and the next one redcon holds for the connection (the client
// pipelined them) may run concurrently, it takes the rest of the batch and
// runs it (handleBatch, pipeline.go).
func (s *Server) handle(rc redcon.Conn, cmd redcon.Command) {
	c := rc.Context().(*Conn)
	if c.quit {
		return
	}
	if next := rc.PeekPipeline(); len(next) > 0 && c.concurrentCall(cmd.Args) && c.concurrentCall(next[0].Args) {
		rest := rc.ReadPipeline()
		cmds := make([]redcon.Command, 0, 1+len(rest))
		s.handleBatch(rc, c, append(append(cmds, cmd), rest...))
		return
	}
	s.handleOne(rc, c, cmd.Args)
}

// handleOne runs one command of c, args as redcon parsed them, and hands
// its reply to redcon.
func (s *Server) handleOne(rc redcon.Conn, c *Conn, args [][]byte) {
	if p := c.push.Load(); p != nil {
		p.hold() // push mode: what is published meanwhile follows the reply
	}
	args, big := bigCommand(rc, args)
	c.serve(args)
	big = big && argsLen(args) >= returnMemoryAfter
	args = nil
	s.reply(rc, c, big)
	if c.quit {
		if p := c.push.Load(); p != nil {
			p.drain()
		}
		rc.ReadPipeline() // drop what was pipelined after QUIT
		rc.Close()
	}
}

// reply hands c's replies to redcon (or, in push mode, to the outbox) and
// empties c's buffer; big asks for the memory to be returned after a big
// command.
func (s *Server) reply(rc redcon.Conn, c *Conn, big bool) {
	big = big || len(c.out) >= returnMemoryAfter
	if p := c.push.Load(); p != nil {
		p.release(c.out) // replies and pushes share one ordered outbox
	} else if len(c.out) >= bigReplyLen {
		writeDirect(rc, c.out)
	} else {
		rc.WriteRaw(c.out)
	}
	if cap(c.out) > maxKeptBuffer {
		c.out = nil
	} else {
		c.out = c.out[:0]
	}
	if big {
		s.returnMemory()
	}
}

// serve runs one command, recovering from a panic in its handler.
func (c *Conn) serve(args [][]byte) {
	mark := len(c.out)
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("resp: panic in command handler", "command", cstr(args[0], 64), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.out = appendError(c.out[:mark], msgInternal)
		}
	}()
	c.exec(args)
}

// countLookup records a keyspace hit or miss.
func (s *Server) countLookup(hit bool) {
	if hit {
		s.stats.hits.Add(1)
	} else {
		s.stats.misses.Add(1)
	}
}

var pid = os.Getpid()

// Stats is a snapshot of the server's counters, those INFO shows.
type Stats struct {
	ConnectedClients         int   // client connections being served (peer connections excluded)
	TotalConnectionsReceived int64 // connections admitted since New
	TotalCommandsProcessed   int64 // client commands run (not those refused by the dispatcher, nor peers')
	RejectedConnections      int64 // connections refused for MaxClients
	KeyspaceHits             int64 // key lookups that found a live value
	KeyspaceMisses           int64 // key lookups that did not
	NetInputBytes            int64 // bytes read from clients
	NetOutputBytes           int64 // bytes written to clients

	PeerConnections       int   // other nodes' connections (DKV.AUTH) being served
	PeerCommandsProcessed int64 // commands run on peer connections
	PeerNetInputBytes     int64 // bytes read from peer connections after their DKV.AUTH
	PeerNetOutputBytes    int64 // bytes written to peer connections after their DKV.AUTH
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	n, np := len(s.conns), s.npeers
	s.mu.Unlock()
	st := &s.stats
	return Stats{
		ConnectedClients:         n - np,
		PeerConnections:          np,
		PeerCommandsProcessed:    st.peerCommands.Load(),
		PeerNetInputBytes:        st.peerNetIn.Load(),
		PeerNetOutputBytes:       st.peerNetOut.Load(),
		TotalConnectionsReceived: st.connsReceived.Load(),
		TotalCommandsProcessed:   st.commands.Load(),
		RejectedConnections:      st.rejected.Load(),
		KeyspaceHits:             st.hits.Load(),
		KeyspaceMisses:           st.misses.Load(),
		NetInputBytes:            st.netIn.Load(),
		NetOutputBytes:           st.netOut.Load(),
	}
}
