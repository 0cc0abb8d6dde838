package member

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
)

// inlineLimit is the largest message (kind byte + state) that is gossiped
// inline over UDP. memberlist packets are at most 1400 bytes (its
// UDPBufferSize) and also carry its own messages and framing, so half a
// packet is what a state broadcast may take; larger states travel as a
// notice plus a TCP transfer (see the package documentation).
const inlineLimit = 700

// Join retry schedule at Start: joinAttempts tries, ProbeInterval apart,
// doubling; then the background retry doubles up to
// rejoinMaxFactor*ProbeInterval between tries.
const (
	joinAttempts    = 3
	rejoinMaxFactor = 10
)

// Membership is this node's handle on the cluster: liveness of every member
// and the spreading of the cluster state. Its methods are safe for
// concurrent use.
type Membership struct {
	cfg   Config
	log   *slog.Logger
	ml    atomic.Pointer[memberlist.Memberlist] // set once Create returns
	table *table
	ev    *eventQueue // nil without Config.Events
	queue *memberlist.TransmitLimitedQueue

	// streams is memberlist's transport: Config.Transport or a
	// NetTransport on BindAddr, wrapped so that Shutdown ends the stream
	// connections this node dialed (see streams).
	streams *streams

	pullMu sync.Mutex
	pulls  map[digest]time.Time // recent state requests, by digest wanted

	meta atomic.Pointer[[]byte] // set by SetMeta; nil: Config.Meta

	selfLeaving atomic.Bool
	leaveAcks   atomic.Pointer[chan string] // set while Leave awaits acks

	// lifeMu serializes Leave and Shutdown. Join does not hold it while
	// it waits on the network: it registers in wg (asyncMu), and Shutdown
	// ends it by closing its streams.
	lifeMu sync.Mutex
	closed bool

	asyncMu sync.Mutex // guards stopped and wg.Add
	stopped bool
	stop    chan struct{}
	wg      sync.WaitGroup
}

// Start creates this node's memberlist, listening on Config.BindAddr (or the
// Config.Transport), and joins the cluster through Config.Join.
//
// Joining is tried a few times with a backoff starting at ProbeInterval. A
// node that reaches no seed still starts, alone, logs a warning, and keeps
// retrying its seeds in the background (backoff capped at 10 ×
// ProbeInterval) until it has a peer, so that nodes started together
// converge whatever their start order. A seed list that names only this
// node itself means "start a new cluster".
func Start(cfg Config) (*Membership, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg.Meta = bytes.Clone(cfg.Meta)
	cfg.SecretKey = bytes.Clone(cfg.SecretKey)

	m := &Membership{
		cfg:   cfg,
		log:   cfg.Logger.With("component", "member", "node", cfg.NodeID),
		pulls: make(map[digest]time.Time),
		stop:  make(chan struct{}),
	}
	if cfg.Events != nil {
		m.ev = newEventQueue(cfg.Events)
	}
	m.table = newTable(cfg.NodeID, m.ev)
	m.queue = &memberlist.TransmitLimitedQueue{
		NumNodes:       m.table.live,
		RetransmitMult: memberlist.DefaultLANConfig().RetransmitMult,
	}

	mc := m.memberlistConfig()
	inner := cfg.Transport
	if inner == nil {
		nt, port, err := netTransport(mc.BindAddr, mc.BindPort, mc)
		if err != nil {
			if m.ev != nil {
				m.ev.close()
			}
			return nil, fmt.Errorf("%w: %w", ErrStart, err)
		}
		if mc.BindPort == 0 { // as memberlist.Create
			mc.BindPort, mc.AdvertisePort = port, port
		}
		inner = nt
	}
	m.streams = newStreams(inner)
	mc.Transport = m.streams
	ml, err := memberlist.Create(mc)
	if err != nil {
		if cfg.Transport == nil {
			_ = m.streams.Shutdown()
		}
		if m.ev != nil {
			m.ev.close()
		}
		return nil, fmt.Errorf("%w: %w", ErrStart, err)
	}
	m.ml.Store(ml)
	m.log.Info("membership started", "gossip", m.Local().GossipAddr)

	m.spawn(m.checkLoop)
	if cfg.ReconnectInterval > 0 {
		m.spawn(m.reconnectLoop)
	}
	if seeds := m.seeds(cfg.Join); len(seeds) > 0 {
		if err := m.initialJoin(seeds); err != nil {
			m.log.Warn("no seed reachable; running alone and retrying in the background", "seeds", seeds, "err", err)
			m.spawn(func() { m.rejoinLoop(seeds) })
		}
	}
	return m, nil
}

// memberlistConfig translates m.cfg (already defaulted and valid).
func (m *Membership) memberlistConfig() *memberlist.Config {
	c := m.cfg
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.NodeID
	if c.Transport == nil {
		host, port, _ := splitIPPort(c.BindAddr, false)
		mc.BindAddr, mc.BindPort = host, port
		mc.AdvertisePort = port // memberlist replaces it when port is 0
	} else {
		mc.Transport = c.Transport
	}
	if c.AdvertiseAddr != "" {
		host, port, _ := splitIPPort(c.AdvertiseAddr, true)
		mc.AdvertiseAddr = host
		if port != 0 {
			mc.AdvertisePort = port
		}
	}
	mc.ProbeInterval = c.ProbeInterval
	mc.ProbeTimeout = c.ProbeTimeout
	mc.SuspicionMult = c.SuspicionMult
	mc.GossipInterval = c.GossipInterval
	mc.PushPullInterval = c.PushPullInterval
	// memberlist's LAN default is 30 s at a 1 s ProbeInterval; scaled so
	// that faster test timings keep the same proportions.
	mc.GossipToTheDeadTime = 30 * c.ProbeInterval
	mc.SecretKey = c.SecretKey
	mc.TCPTimeout = c.TCPTimeout
	d := &delegate{m: m}
	mc.Delegate = d
	mc.Events = d
	mc.Ping = d
	mc.Logger = log.New(logWriter{m.cfg.Logger.With("component", "memberlist", "node", c.NodeID)}, "", 0)
	return mc
}

// Members returns every member this node knows of, itself included, with
// its liveness, sorted by ID. Members that died or left stay listed (as Dead
// or Left) for the life of the Membership.
func (m *Membership) Members() []Member { return m.table.list() }

// Local returns this node as a member: its ID, its advertised gossip
// address (useful with BindAddr port 0), its Meta and its liveness.
func (m *Membership) Local() Member {
	// memberlist reports the local node alive during Create, so it is
	// always in the table.
	mem, _ := m.table.member(m.cfg.NodeID)
	return mem
}

// Liveness returns the liveness of member id, or Unknown.
func (m *Membership) Liveness(id string) Liveness { return m.table.get(id) }

// Broadcast queues the current Config.State.LocalState to be gossiped to
// the cluster, replacing any state broadcast still queued. Call it after
// changing the local state. It does not block on the network.
//
// A state of up to ~700 bytes travels inline in UDP gossip. A larger one is
// announced by a small notice carrying its SHA-256; members whose state
// differs fetch it from this node over TCP. Either way each member that
// merges a change re-broadcasts it, so it spreads epidemically, and the
// periodic push/pull repairs what gossip misses.
func (m *Membership) Broadcast() {
	state := m.cfg.State.LocalState()
	var msg []byte
	if 1+len(state) <= inlineLimit {
		msg = encodeState(state)
	} else {
		msg = encodeNotice(digestOf(state), m.cfg.NodeID)
	}
	m.queue.QueueBroadcast(&stateBroadcast{msg: msg})
}

// SetMeta replaces this node's Meta (at most memberlist's meta limit, 512
// bytes) and gossips it, waiting up to timeout for the update to be sent.
// Members see it in Member.Meta once it reaches them.
func (m *Membership) SetMeta(meta []byte, timeout time.Duration) error {
	b := bytes.Clone(meta)
	m.meta.Store(&b)
	if err := m.ml.Load().UpdateNode(timeout); err != nil {
		return fmt.Errorf("member: update meta: %w", err)
	}
	return nil
}

// Join contacts the given "host:port" gossip addresses and merges their
// membership and state with this node's. It returns how many were reached;
// the error wraps ErrJoin when none was, ErrClosed when Shutdown came
// first or ended the join.
//
// Each address takes at most about Config.TCPTimeout per step (dial,
// send, answer): one that is no member's gossip port (a RESP port, or one
// that accepts and never answers) fails after that. Join holds no lock
// meanwhile: Leave, Shutdown and the other methods go on, and Shutdown
// ends a Join in progress at once (closing its connection).
func (m *Membership) Join(addrs []string) (int, error) {
	m.asyncMu.Lock()
	if m.stopped {
		m.asyncMu.Unlock()
		return 0, ErrClosed
	}
	m.wg.Add(1) // so Shutdown waits for the merge of an answer in flight
	m.asyncMu.Unlock()
	defer m.wg.Done()

	n, err := m.ml.Load().Join(addrs)
	if n > 0 {
		return n, nil
	}
	select {
	case <-m.stop:
		return 0, ErrClosed
	default:
	}
	if err == nil {
		return 0, fmt.Errorf("%w: no address given", ErrJoin)
	}
	return 0, joinError(addrs, err)
}

// joinError is memberlist's join error err for addrs, wrapping ErrJoin.
func joinError(addrs []string, err error) error {
	return fmt.Errorf("%w: no gossip answer from %s (is each a member's gossip port?): %s",
		ErrJoin, strings.Join(addrs, ", "), oneLine(err))
}

// oneLine is err's message on one line: memberlist's join error is a
// multierror, "N errors occurred:" then one "\t* " line per address.
func oneLine(err error) string {
	var parts []string
	for l := range strings.SplitSeq(err.Error(), "\n") {
		if l, ok := strings.CutPrefix(l, "\t* "); ok {
			parts = append(parts, l)
		}
	}
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, "; ")
}

// Leave announces a graceful departure: the other members will see this
// node as Left rather than Dead. It waits up to timeout for the
// announcement to go out (an error wrapping ErrLeave means it may not have
// reached anyone, and others may see Dead). The node keeps gossiping until
// Shutdown, which should follow. timeout must be positive. Leave is
// idempotent.
func (m *Membership) Leave(timeout time.Duration) error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if timeout <= 0 {
		return fmt.Errorf("%w: timeout %v must be positive", ErrLeave, timeout)
	}
	ml := m.ml.Load()
	m.selfLeaving.Store(true)
	deadline := time.Now().Add(timeout)

	// memberlist's own leave message does not tell the others "left" from
	// "dead" through its public API, so announce it first, reliably.
	var peers []*memberlist.Node
	for _, mem := range m.table.list() {
		if mem.ID != m.cfg.NodeID && (mem.State == Alive || mem.State == Suspect) {
			if n := nodeOf(mem); n != nil {
				peers = append(peers, n)
			}
		}
	}
	// Each peer acks once it has recorded the announcement, so it is
	// recorded before memberlist's leave message can arrive.
	acks := make(chan string, len(peers))
	m.leaveAcks.Store(&acks)
	defer m.leaveAcks.Store(nil)
	msg := encodeID(kindLeave, m.cfg.NodeID)
	for _, n := range peers {
		m.spawn(func() {
			if err := ml.SendReliable(n, msg); err != nil {
				m.log.Debug("leave announcement failed", "to", n.Name, "err", err)
			}
		})
	}
	if got := awaitAcks(acks, len(peers), timeout/2); got < len(peers) {
		m.log.Warn("not every member acknowledged the leave; those may see this node as dead",
			"acked", got, "members", len(peers))
	}

	if err := ml.Leave(max(time.Until(deadline), time.Millisecond)); err != nil {
		return fmt.Errorf("%w: %w", ErrLeave, err)
	}
	m.log.Info("left the cluster")
	return nil
}

// awaitAcks waits until n distinct IDs arrived on acks, or timeout; it
// returns how many did.
func awaitAcks(acks <-chan string, n int, timeout time.Duration) int {
	t := time.NewTimer(timeout)
	defer t.Stop()
	acked := make(map[string]bool, n)
	for len(acked) < n {
		select {
		case id := <-acks:
			acked[id] = true
		case <-t.C:
			return len(acked)
		}
	}
	return n
}

// Shutdown stops this node's gossip without announcing anything: the others
// will suspect it and then declare it Dead (call Leave first for Left). It
// closes the stream connections this node dialed (ending joins and state
// transfers in flight) and waits for background work, Join calls and
// queued Events calls to finish. Shutdown is idempotent; other methods
// return ErrClosed afterwards.
func (m *Membership) Shutdown() error {
	m.lifeMu.Lock()
	defer m.lifeMu.Unlock()
	if m.closed {
		return nil
	}
	m.closed = true

	m.asyncMu.Lock()
	m.stopped = true
	close(m.stop)
	m.asyncMu.Unlock()

	err := m.ml.Load().Shutdown()
	m.wg.Wait()
	if m.ev != nil {
		m.ev.close()
	}
	if err != nil {
		return fmt.Errorf("member: shutdown: %w", err)
	}
	return nil
}

// spawn runs f in a tracked goroutine, unless Shutdown has begun.
func (m *Membership) spawn(f func()) bool {
	m.asyncMu.Lock()
	defer m.asyncMu.Unlock()
	if m.stopped {
		return false
	}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		f()
	}()
	return true
}

// sleep waits d or until Shutdown; it reports whether to go on.
func (m *Membership) sleep(d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-m.stop:
		return false
	}
}

// seeds drops this node's own addresses from addrs.
func (m *Membership) seeds(addrs []string) []string {
	self := map[string]bool{
		m.Local().GossipAddr: true,
		m.cfg.BindAddr:       true,
		m.cfg.AdvertiseAddr:  true,
	}
	var out []string
	for _, a := range addrs {
		if a != "" && !self[a] {
			out = append(out, a)
		}
	}
	return out
}

// peers counts the other members memberlist considers alive.
func (m *Membership) peers() int { return m.ml.Load().NumMembers() - 1 }

// tryJoin joins seeds; it returns nil once this node has a peer, else why
// not, wrapping ErrJoin.
func (m *Membership) tryJoin(seeds []string) error {
	n, err := m.ml.Load().Join(seeds)
	if n > 0 && m.peers() > 0 {
		m.log.Info("joined the cluster", "seeds_reached", n, "members", m.peers()+1)
		return nil
	}
	if err != nil {
		err = joinError(seeds, err)
	} else {
		err = fmt.Errorf("%w: seeds answered but no peer is alive", ErrJoin)
	}
	m.log.Debug("join attempt failed", "seeds", seeds, "err", err)
	return err
}

// initialJoin tries the seeds joinAttempts times, with backoff; it returns
// nil once joined, else the last attempt's error (ErrClosed if Shutdown
// came first).
func (m *Membership) initialJoin(seeds []string) error {
	backoff := m.cfg.ProbeInterval
	var err error
	for i := range joinAttempts {
		if i > 0 {
			if !m.sleep(backoff) {
				return ErrClosed
			}
			backoff *= 2
		}
		if err = m.tryJoin(seeds); err == nil {
			return nil
		}
	}
	return err
}

// rejoinLoop retries the seeds until this node has a peer (by joining, or
// because someone joined it) or shuts down.
func (m *Membership) rejoinLoop(seeds []string) {
	backoff := m.cfg.ProbeInterval
	for m.sleep(backoff) {
		if m.peers() > 0 || m.tryJoin(seeds) == nil {
			return
		}
		backoff = min(2*backoff, rejoinMaxFactor*m.cfg.ProbeInterval)
	}
}

// reconnectLoop tries, every ReconnectInterval, to join each member this
// node sees Dead (a push/pull with it, as serf's reconnect does). Once a
// member is dead memberlist neither probes it nor, after
// GossipToTheDeadTime, gossips to it, so the sides of a partition that
// lasted longer would never hear from each other again after it heals.
// The push/pull shows the other side that it is believed dead, so it
// refutes with a higher incarnation, which the next round (or its gossip)
// brings back: both sides see each other alive within a few intervals.
// One member at a time, checking for Shutdown between them, since an
// unreachable one may take memberlist's TCP timeout to fail.
func (m *Membership) reconnectLoop() {
	for m.sleep(m.cfg.ReconnectInterval) {
		for _, mem := range m.table.list() {
			if mem.State != Dead || mem.ID == m.cfg.NodeID || mem.GossipAddr == "" {
				continue
			}
			if n, err := m.ml.Load().Join([]string{mem.GossipAddr}); n > 0 {
				m.log.Info("reconnected to a member seen dead", "member", mem.ID, "gossip", mem.GossipAddr)
			} else {
				m.log.Debug("reconnect failed", "member", mem.ID, "gossip", mem.GossipAddr, "err", err)
			}
			select {
			case <-m.stop:
				return
			default:
			}
		}
	}
}

// checkLoop is the suspicion check: every ProbeInterval, each alive member
// that has not shown a sign of life for staleAfter gets one direct ping;
// no answer makes it Suspect.
func (m *Membership) checkLoop() {
	t := time.NewTicker(m.cfg.ProbeInterval)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		for _, mem := range m.table.stale(m.staleAfter()) {
			if !m.spawn(func() { m.confirm(mem) }) {
				return
			}
		}
	}
}

// staleAfter is how long a healthy member can go without acking one of our
// probes. memberlist probes one member per ProbeInterval, round robin over
// a list it reshuffles each round, so with n live members each peer is
// probed about every n-1 intervals; the interval stretches by the local
// health score, as memberlist's does.
func (m *Membership) staleAfter() time.Duration {
	n := max(m.table.live(), 2)
	scale := time.Duration(m.ml.Load().GetHealthScore() + 1)
	return time.Duration(n)*m.cfg.ProbeInterval*scale + m.cfg.ProbeTimeout
}

// confirm pings a stale member directly, twice at most (one lost UDP
// packet or a scheduling hiccup should not make a member Suspect).
func (m *Membership) confirm(mem Member) {
	start := time.Now()
	var err error
	for range 2 {
		if _, err = m.ml.Load().Ping(mem.ID, gossipAddr(mem.GossipAddr)); err == nil {
			break
		}
	}
	if err != nil {
		m.log.Debug("confirmation pings failed", "member", mem.ID, "err", err)
	}
	m.table.pingDone(mem.ID, start, err == nil)
}

// node returns a memberlist.Node addressing member id, or nil. It is
// built from the table: the *Node values memberlist hands out are updated in
// place under its own lock, so reading them later would race.
func (m *Membership) node(id string) *memberlist.Node {
	mem, ok := m.table.member(id)
	if !ok {
		return nil
	}
	return nodeOf(mem)
}

// nodeOf returns a memberlist.Node for mem, enough to address it
// (SendReliable uses only the name and address), or nil.
func nodeOf(mem Member) *memberlist.Node {
	host, port, err := splitIPPort(mem.GossipAddr, false)
	if err != nil {
		return nil
	}
	return &memberlist.Node{Name: mem.ID, Addr: net.ParseIP(host), Port: uint16(port)}
}

// handleMsg processes one of this package's messages from a peer.
func (m *Membership) handleMsg(b []byte) {
	if len(b) == 0 {
		return
	}
	kind, body := b[0], b[1:]
	switch kind {
	case kindState:
		m.merge(body)
	case kindNotice:
		d, sender, err := decodeNotice(body)
		if err != nil || sender == m.cfg.NodeID {
			return
		}
		// memberlist does not relay user messages: a notice comes
		// straight from its sender.
		m.table.contact(sender)
		if d != digestOf(m.cfg.State.LocalState()) {
			m.pull(sender, d)
		}
	case kindPull:
		requester := string(body)
		m.table.contact(requester)
		m.spawn(func() { m.sendState(requester) })
	case kindLeave:
		sender := string(body)
		m.table.leaveIntent(sender)
		m.spawn(func() {
			if n := m.node(sender); n != nil {
				_ = m.ml.Load().SendReliable(n, encodeID(kindLeaveAck, m.cfg.NodeID))
			}
		})
	case kindLeaveAck:
		if acks := m.leaveAcks.Load(); acks != nil {
			select {
			case *acks <- string(body):
			default:
			}
		}
	default:
		m.log.Debug("ignoring message of unknown kind", "kind", kind)
	}
}

// merge hands a peer's state to the StateHandler and re-broadcasts it when
// it changed the local state.
func (m *Membership) merge(state []byte) {
	if m.cfg.State.MergeState(bytes.Clone(state)) {
		m.log.Debug("merged newer cluster state", "bytes", len(state))
		m.Broadcast()
	}
}

// pull asks sender for its state, unless a request for the same digest went
// out in the last ProbeInterval (notices are retransmitted several times).
func (m *Membership) pull(sender string, d digest) {
	now := time.Now()
	m.pullMu.Lock()
	for k, t := range m.pulls {
		if now.Sub(t) >= m.cfg.ProbeInterval {
			delete(m.pulls, k)
		}
	}
	_, recent := m.pulls[d]
	if !recent {
		m.pulls[d] = now
	}
	m.pullMu.Unlock()
	if recent {
		return
	}
	m.spawn(func() {
		n := m.node(sender)
		if n == nil {
			return
		}
		if err := m.ml.Load().SendReliable(n, encodeID(kindPull, m.cfg.NodeID)); err != nil {
			m.log.Debug("state request failed", "to", sender, "err", err)
		}
	})
}

// RequestState asks every other alive member for its state over TCP,
// without waiting for the answers (they are merged as they come). A node
// that waits to appear in the cluster state calls it periodically, so it
// does not depend on one gossiped notice or on the next push/pull.
func (m *Membership) RequestState() {
	for _, mem := range m.Members() {
		if mem.ID == m.cfg.NodeID || mem.State != Alive {
			continue
		}
		id := mem.ID
		m.spawn(func() {
			if n := m.node(id); n != nil {
				if err := m.ml.Load().SendReliable(n, encodeID(kindPull, m.cfg.NodeID)); err != nil {
					m.log.Debug("state request failed", "to", id, "err", err)
				}
			}
		})
	}
}

// sendState sends the local state to member id over TCP.
func (m *Membership) sendState(id string) {
	n := m.node(id)
	if n == nil {
		return
	}
	if err := m.ml.Load().SendReliable(n, encodeState(m.cfg.State.LocalState())); err != nil {
		m.log.Debug("state transfer failed", "to", id, "err", err)
	}
}

// stateBroadcast is a queued state message (inline state or notice). All
// state broadcasts share one name, so a newer one replaces an older one
// still in the queue.
type stateBroadcast struct{ msg []byte }

var _ memberlist.NamedBroadcast = (*stateBroadcast)(nil)

func (b *stateBroadcast) Invalidates(other memberlist.Broadcast) bool {
	_, ok := other.(*stateBroadcast)
	return ok
}
func (b *stateBroadcast) Name() string    { return "dynakv/member/state" }
func (b *stateBroadcast) Message() []byte { return b.msg }
func (b *stateBroadcast) Finished()       {}

// gossipAddr is an "ip:port" as a net.Addr, for memberlist.Ping.
type gossipAddr string

func (a gossipAddr) Network() string { return "udp" }
func (a gossipAddr) String() string  { return string(a) }

// logWriter turns memberlist's log lines ("[LEVEL] memberlist: text") into
// debug records: memberlist is chatty about routine events (failed sends
// to dead nodes, refutations), and what matters is surfaced by this
// package's own logs and Events.
type logWriter struct{ l *slog.Logger }

func (w logWriter) Write(p []byte) (int, error) {
	if !w.l.Enabled(context.Background(), slog.LevelDebug) {
		return len(p), nil
	}
	msg := strings.TrimSpace(string(p))
	level := ""
	if strings.HasPrefix(msg, "[") {
		if i := strings.IndexByte(msg, ']'); i > 0 {
			level, msg = msg[1:i], strings.TrimSpace(msg[i+1:])
		}
	}
	msg = strings.TrimPrefix(msg, "memberlist: ")
	w.l.Debug(msg, "memberlist_level", level)
	return len(p), nil
}
