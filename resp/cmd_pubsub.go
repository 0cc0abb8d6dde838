package resp

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/pubsub"
	"github.com/tidwall/redcon"
)

// pubState is the server's Pub/Sub state: the node's subscriptions, the
// MONITOR clients, the keyspace-notification classes, the subscribers'
// output limits and the queue of keyspace events to fan out.
type pubState struct {
	reg      *pubsub.Registry
	events   atomic.Uint32                 // pubsub.Events: notify-keyspace-events
	limits   atomic.Pointer[pubsub.Limits] // client-output-buffer-limit pubsub
	monitors sync.Map                      // *pusher → struct{}: MONITOR clients
	nmon     atomic.Int32                  // entries of monitors
	fan      fanout
}

func (s *Server) initPubSub() {
	s.pub.reg = pubsub.NewRegistry()
	l := pubsub.DefaultLimits
	s.pub.limits.Store(&l)
	s.pub.fan.s = s
	s.addParam(Param{Name: "notify-keyspace-events",
		Get: func() string { return pubsub.Events(s.pub.events.Load()).String() },
		Set: func(v string) error {
			e, err := pubsub.ParseEvents(v)
			if errors.Is(err, pubsub.ErrEventClass) {
				return errors.New("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
			}
			s.pub.events.Store(uint32(e))
			go s.spreadNotifyConfig(e.String())
			return nil
		}})
	s.addParam(Param{Name: "client-output-buffer-limit",
		Get: func() string {
			l := s.pub.limits.Load()
			// NB: only the pubsub class is enforced; normal clients are
			// bounded by WriteTimeout, and there are no Redis replicas.
			return "normal 0 0 0 slave 268435456 67108864 60 pubsub " +
				strconv.FormatInt(l.Hard, 10) + " " + strconv.FormatInt(l.Soft, 10) + " " +
				strconv.Itoa(int(l.SoftFor/time.Second))
		},
		Set: s.setOutputLimits})
}

// setOutputLimits is CONFIG SET client-output-buffer-limit: "class hard
// soft seconds" groups (sizes in Redis's memory units); the pubsub class
// is kept, normal and replica (slave) are accepted and ignored.
func (s *Server) setOutputLimits(v string) error {
	f := strings.Fields(v)
	if len(f) == 0 || len(f)%4 != 0 {
		return errors.New("Wrong number of arguments in buffer limit configuration.")
	}
	var next *pubsub.Limits
	for i := 0; i < len(f); i += 4 {
		class := strings.ToLower(f[i])
		if class != "normal" && class != "slave" && class != "replica" && class != "pubsub" {
			return errors.New("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := parseMemory(f[i+1])
		soft, ok2 := parseMemory(f[i+2])
		secs, err := strconv.ParseInt(f[i+3], 10, 64)
		if !ok1 || !ok2 || err != nil || secs < 0 {
			return errors.New("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		if class == "pubsub" {
			next = &pubsub.Limits{Hard: hard, Soft: soft, SoftFor: time.Duration(secs) * time.Second}
		}
	}
	if next != nil {
		s.pub.limits.Store(next)
	}
	return nil
}

func pubsubCommands() []Command {
	const sub = FlagPubSub | FlagNoScript | FlagLoading | FlagStale
	return []Command{
		{Name: "subscribe", Arity: -2, Flags: sub, Group: "pubsub", Since: "2.0.0", Summary: "Listen for messages published to the given channels", Handler: cmdSubscribe},
		{Name: "psubscribe", Arity: -2, Flags: sub, Group: "pubsub", Since: "2.0.0", Summary: "Listen for messages published to channels matching the given patterns", Handler: cmdSubscribe},
		{Name: "ssubscribe", Arity: -2, Flags: sub, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "pubsub", Since: "7.0.0", Summary: "Listen for messages published to the given shard channels", Handler: cmdSubscribe},
		{Name: "unsubscribe", Arity: -1, Flags: sub, Group: "pubsub", Since: "2.0.0", Summary: "Stop listening for messages posted to the given channels", Handler: cmdUnsubscribe},
		{Name: "punsubscribe", Arity: -1, Flags: sub, Group: "pubsub", Since: "2.0.0", Summary: "Stop listening for messages posted to channels matching the given patterns", Handler: cmdUnsubscribe},
		{Name: "sunsubscribe", Arity: -1, Flags: sub, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "pubsub", Since: "7.0.0", Summary: "Stop listening for messages posted to the given shard channels", Handler: cmdUnsubscribe},
		{Name: "publish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, Group: "pubsub", Since: "2.0.0", Summary: "Post a message to a channel", Handler: cmdPublish},
		{Name: "spublish", Arity: 3, Flags: FlagPubSub | FlagLoading | FlagStale | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "pubsub", Since: "7.0.0", Summary: "Post a message to a shard channel", Handler: cmdPublish},
		{Name: "pubsub", Arity: -2, Subcommands: []Command{
			{Name: "channels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Handler: cmdPubsubChannels},
			{Name: "shardchannels", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Handler: cmdPubsubChannels},
			{Name: "numsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Handler: cmdPubsubNumSub},
			{Name: "shardnumsub", Arity: -2, Flags: FlagPubSub | FlagLoading | FlagStale, Handler: cmdPubsubNumSub},
			{Name: "numpat", Arity: 2, Flags: FlagPubSub | FlagLoading | FlagStale, Handler: cmdPubsubNumPat},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdPubsubHelp},
		}},
		{Name: "monitor", Arity: 1, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Group: "server", Since: "1.0.0", Summary: "Listen for all requests received by the server in real time", Handler: cmdMonitor},
	}
}

// kindOf returns the subscription kind of a (UN)SUBSCRIBE or PUBLISH
// command by its name: PSUBSCRIBE and PUNSUBSCRIBE patterns; SSUBSCRIBE,
// SUNSUBSCRIBE and SPUBLISH shard channels; the others channels.
func kindOf(name []byte) pubsub.Kind {
	switch strings.ToLower(string(name)) {
	case "psubscribe", "punsubscribe":
		return pubsub.Pattern
	case "ssubscribe", "sunsubscribe", "spublish":
		return pubsub.Shard
	}
	return pubsub.Channel
}

// cmdSubscribe is SUBSCRIBE, PSUBSCRIBE and SSUBSCRIBE: one confirmation
// per name, pushed in order before any message on it. SSUBSCRIBE's
// channels must share a slot in a cluster (CROSSSLOT otherwise), as in
// Redis Cluster; their messages still reach this node from any node.
func cmdSubscribe(c *Conn, args [][]byte) {
	k := kindOf(args[0])
	if k == pubsub.Shard && !c.sameSlot(args[1:]) {
		c.WriteError(msgCrossSlot)
		return
	}
	p := c.enterPush()
	c.srv.pub.reg.Subscribe(p, k, args[1:]...)
}

// cmdUnsubscribe is UNSUBSCRIBE, PUNSUBSCRIBE and SUNSUBSCRIBE: one
// confirmation per name, or per subscription of that kind without names
// (one with a null name if there was none).
func cmdUnsubscribe(c *Conn, args [][]byte) {
	k := kindOf(args[0])
	if k == pubsub.Shard && !c.sameSlot(args[1:]) {
		c.WriteError(msgCrossSlot)
		return
	}
	p := c.enterPush()
	c.srv.pub.reg.Unsubscribe(p, k, args[1:]...)
}

// cmdPublish is PUBLISH and SPUBLISH: the message goes to this node's
// subscribers and, in a cluster, once to every other live node (see
// Server.publish); the reply is the number of receivers on every node
// that answered.
func cmdPublish(c *Conn, args [][]byte) {
	c.WriteInt(c.srv.publish(args[1], args[2], kindOf(args[0]) == pubsub.Shard))
}

// cmdPeerPublish is DKV.PUBLISH S|C channel message [channel message …]:
// another node's fan-out, published to this node's subscribers only
// (shard channels with S); the reply is the number of receivers.
func cmdPeerPublish(c *Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.WriteError(msgSyntax)
		return
	}
	shard := string(args[1]) == "S"
	n := 0
	for i := 2; i+1 < len(args); i += 2 {
		n += c.srv.pub.reg.Publish(args[i], args[i+1], shard)
	}
	c.WriteInt(int64(n))
}

func cmdPubsubChannels(c *Conn, args [][]byte) {
	var pat []byte
	if len(args) > 3 {
		c.WriteError("ERR unknown subcommand or wrong number of arguments for '" + cstr(args[1], 128) + "'. Try PUBSUB HELP.")
		return
	}
	if len(args) == 3 {
		pat = args[2]
	}
	chs := c.srv.pub.reg.Channels(pat, (args[1][0]|0x20) == 's')
	c.WriteArray(len(chs))
	for _, ch := range chs {
		c.WriteBulk(ch)
	}
}

func cmdPubsubNumSub(c *Conn, args [][]byte) {
	shard := (args[1][0] | 0x20) == 's'
	c.WriteArray(2 * (len(args) - 2)) // a flat array in RESP3 too, as Redis 7.0 replies
	for _, ch := range args[2:] {
		c.WriteBulk(ch)
		c.WriteInt(int64(c.srv.pub.reg.NumSub(ch, shard)))
	}
}

func cmdPubsubNumPat(c *Conn, _ [][]byte) { c.WriteInt(int64(c.srv.pub.reg.NumPat())) }

func cmdPubsubHelp(c *Conn, _ [][]byte) {
	lines := []string{
		"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CHANNELS [<pattern>]",
		"    Return the currently active channels matching a <pattern> (default: '*').",
		"NUMPAT",
		"    Return number of subscriptions to patterns.",
		"NUMSUB [<channel> ...]",
		"    Return the number of subscribers for the specified channels, excluding",
		"    pattern subscriptions(default: no channels).",
		"SHARDCHANNELS [<pattern>]",
		"    Return the currently active shard level channels matching a <pattern> (default: '*').",
		"SHARDNUMSUB [<shardchannel> ...]",
		"    Return the number of subscribers for the specified shard level channel(s)",
		"HELP",
		"    Prints this help.",
	}
	c.WriteArray(len(lines))
	for _, l := range lines {
		c.WriteSimple(l)
	}
}

// pubsubCounts returns the connection's channel, pattern and shard
// channel subscriptions, for CLIENT LIST's sub, psub and ssub. Any
// goroutine may call it.
func (c *Conn) pubsubCounts() (sub, psub, ssub int) {
	p := c.push.Load()
	if p == nil {
		return 0, 0, 0
	}
	return c.srv.pub.reg.Counts(p)
}

// clientType is the connection's type for CLIENT KILL TYPE: "pubsub"
// while it has a subscription (Redis's rule), else "normal".
func (c *Conn) clientType() string {
	if sub, psub, ssub := c.pubsubCounts(); sub+psub+ssub > 0 {
		return "pubsub"
	}
	return "normal"
}

// PubSubStats returns how many channels, patterns and shard channels have
// subscribers on this node (INFO stats' pubsub_channels, pubsub_patterns
// and pubsubshard_channels).
func (s *Server) PubSubStats() (channels, patterns, shard int) { return s.pub.reg.Sizes() }

// subscribedRESP2 reports whether the connection is in RESP2's subscribed
// mode, where only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT and RESET
// may run.
func (c *Conn) subscribedRESP2() bool {
	p := c.push.Load()
	if p == nil || c.proto != 2 {
		return false
	}
	plain, shard := c.srv.pub.reg.Subscribed(p)
	return plain+shard > 0
}

// allowedSubscribed reports whether cmd may run in RESP2's subscribed
// mode; if not, it writes Redis's error and returns false. The dispatcher
// calls it before running a command.
func (c *Conn) allowedSubscribed(cmd *Command) bool {
	if !c.subscribedRESP2() {
		return true
	}
	switch cmd.Name {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe", "ping", "quit", "reset":
		return true
	}
	c.WriteError("ERR Can't execute '" + cmd.fullName + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context")
	return false
}

// fanoutTimeout bounds PUBLISH's wait for the other nodes' counts.
const fanoutTimeout = 2 * time.Second

// publish delivers a message to this node's subscribers and, in a
// cluster, sends it once to every other live member (DKV.PUBLISH, which
// publishes there only), concurrently; it returns the receivers counted
// by this node and by every node that answered within fanoutTimeout. A
// node that does not answer is left out of the count (its subscribers may
// or may not get the message).
func (s *Server) publish(channel, msg []byte, shard bool) int64 {
	n := int64(s.pub.reg.Publish(channel, msg, shard))
	peers := s.livePeers()
	if len(peers) == 0 {
		return n
	}
	flag := []byte("C")
	if shard {
		flag = []byte("S")
	}
	args := [][]byte{[]byte(peer.CmdPublish), flag, channel, msg}
	ctx, cancel := context.WithTimeout(s.ctx, fanoutTimeout)
	defer cancel()
	var total atomic.Int64
	var wg sync.WaitGroup
	for _, id := range peers {
		wg.Go(func() {
			rep, err := s.cfg.Cluster.Forward(ctx, id, 2, args)
			if err != nil {
				s.log.Debug("resp: publish fan-out failed", "node", id, "error", err)
				return
			}
			total.Add(intReply(rep))
		})
	}
	wg.Wait()
	return n + total.Load()
}

// spreadNotifyConfig sends a new notify-keyspace-events value to every
// other live node (DKV.NOTIFYCFG), so that one CONFIG SET, as a client of
// a single Redis sends it, configures the whole cluster: events are
// emitted by each key's coordinator, under its own setting. Best effort: a
// node that is down, or restarts, keeps or takes its own setting (Redis's
// default, none, after a restart) until the next CONFIG SET.
func (s *Server) spreadNotifyConfig(v string) {
	args := [][]byte{[]byte(peer.CmdNotifyConfig), []byte(v)}
	var wg sync.WaitGroup
	for _, id := range s.livePeers() {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(s.ctx, fanoutTimeout)
			defer cancel()
			if _, err := s.cfg.Cluster.Forward(ctx, id, 2, args); err != nil {
				s.log.Warn("resp: notify-keyspace-events not spread", "node", id, "error", err)
			}
		})
	}
	wg.Wait()
}

// cmdPeerNotifyConfig is DKV.NOTIFYCFG flags: another node's CONFIG SET
// notify-keyspace-events, applied here only.
func cmdPeerNotifyConfig(c *Conn, args [][]byte) {
	e, err := pubsub.ParseEvents(string(args[1]))
	if err != nil {
		c.WriteError(msgSyntax)
		return
	}
	c.srv.pub.events.Store(uint32(e))
	c.WriteOK()
}

// intReply returns the value of a raw integer reply, 0 for anything else.
func intReply(rep []byte) int64 {
	if len(rep) < 3 || rep[0] != ':' {
		return 0
	}
	line, _, _ := bytes.Cut(rep[1:], []byte("\r\n"))
	n, _ := strconv.ParseInt(string(line), 10, 64)
	return n
}

// livePeers returns the other ring members the failure detector holds
// alive: where a message fans out. Without a cluster secret no node
// accepts peer commands, so there are none.
func (s *Server) livePeers() []string {
	cl := s.cfg.Cluster
	if cl == nil || s.cfg.ClusterSecret == "" {
		return nil
	}
	me := cl.MyID()
	var out []string
	for _, n := range cl.Nodes() {
		if n.Alive && !n.Myself && n.ID != me {
			out = append(out, n.ID)
		}
	}
	return out
}

// pusher is a connection in push mode: once it subscribes or monitors,
// everything it is sent (its replies, messages, MONITOR lines) goes
// through its Outbox in order, and its writer goroutine writes it to the
// socket. It is the connection's pubsub.Subscriber. While the connection
// runs a command the outbox is held (handle), so that what is published
// meanwhile follows the command's reply; a (un)subscription's
// confirmations are part of that reply (they are pushed by the Registry
// on the connection's own goroutine, from the handler).
type pusher struct {
	c    *Conn
	ob   *pubsub.Outbox
	nc   net.Conn      // the guarded socket; nil when the Conn is driven directly
	done chan struct{} // closed when the connection ends
	once sync.Once
}

// enterPush puts the connection in push mode (once), from a handler: the
// replies of earlier commands that redcon still buffers are written at
// once, and from the end of this command on every byte goes through the
// outbox, which starts held (handle releases it with this command's
// reply). It runs on the connection's goroutine.
func (c *Conn) enterPush() *pusher {
	if p := c.push.Load(); p != nil {
		return p
	}
	p := &pusher{c: c, done: make(chan struct{})}
	p.ob = pubsub.NewOutbox(func() pubsub.Limits { return *c.srv.pub.limits.Load() }, time.Now)
	p.ob.Hold()
	if c.rc != nil {
		if w := redcon.BaseWriter(c.rc); w != nil {
			_ = w.Flush() // earlier replies of this pipeline first
		}
		p.nc = c.rc.NetConn()
		if g, ok := p.nc.(*guardConn); ok {
			g.noIdle.Store(true)
		}
	}
	c.push.Store(p)
	if p.nc != nil {
		go p.run()
	}
	return p
}

// hold holds the outbox while the connection runs a command (handle).
func (p *pusher) hold() { p.ob.Hold() }

// release queues a command's reply, then what was published while it ran.
func (p *pusher) release(reply []byte) {
	if err := p.ob.Release(reply); errors.Is(err, pubsub.ErrOverLimit) {
		p.overLimit()
	}
}

// queue appends bytes for the client, closing the connection if that
// takes it over its output limit.
func (p *pusher) queue(b []byte) {
	if len(b) == 0 {
		return
	}
	if err := p.ob.Append(b); errors.Is(err, pubsub.ErrOverLimit) {
		p.overLimit()
	}
}

func (p *pusher) overLimit() {
	p.c.srv.log.Warn("resp: client closed for overcoming of output buffer limits", "id", p.c.id, "addr", p.c.addr)
	if p.nc != nil {
		p.nc.Close()
	}
}

// Push encodes a message for the connection's protocol: a RESP3 push
// frame, or a RESP2 array. A confirmation is written to the command's
// reply: the Registry pushes it on the connection's goroutine, from the
// (UN)SUBSCRIBE handler, the one goroutine that owns c.out.
func (p *pusher) Push(m pubsub.Message) {
	if m.IsConfirmation() {
		p.c.out = encodeMessage(p.c.out, m, p.c.proto)
		return
	}
	p.c.mu.Lock()
	proto := p.c.proto
	p.c.mu.Unlock()
	p.queue(encodeMessage(nil, m, proto))
}

func encodeMessage(b []byte, m pubsub.Message, proto int) []byte {
	n := 3
	if m.Kind == "pmessage" {
		n = 4
	}
	if proto == 3 {
		b = appendHeader(b, '>', n)
	} else {
		b = redcon.AppendArray(b, n)
	}
	b = redcon.AppendBulkString(b, m.Kind)
	if m.Kind == "pmessage" {
		b = redcon.AppendBulk(b, m.Pattern)
	}
	switch {
	case m.Channel != nil:
		b = redcon.AppendBulk(b, m.Channel)
	case proto == 3:
		b = append(b, "_\r\n"...)
	default:
		b = append(b, "$-1\r\n"...)
	}
	if m.IsConfirmation() {
		return redcon.AppendInt(b, int64(m.Count))
	}
	return redcon.AppendBulk(b, m.Payload)
}

// run is the writer goroutine: it writes what the outbox holds until the
// connection ends or the outbox closes (a write error or the limit closes
// the socket, so redcon ends the connection).
func (p *pusher) run() {
	for {
		select {
		case <-p.done:
			return
		case <-p.ob.Ready():
		}
		b, err := p.ob.Take()
		if err != nil {
			if errors.Is(err, pubsub.ErrOverLimit) {
				p.nc.Close()
			}
			return
		}
		if len(b) > 0 {
			_, err = p.nc.Write(b)
		}
		p.ob.Done()
		if err != nil {
			p.nc.Close()
			return
		}
	}
}

// drain waits, a bounded time, until everything queued is written: QUIT's
// +OK goes out before the socket closes.
func (p *pusher) drain() {
	if p.nc == nil {
		return
	}
	ch := make(chan struct{})
	go func() { _ = p.ob.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(errorWriteTimeout):
	}
}

// close ends push mode when the connection has ended: subscriptions and
// monitoring stop, the outbox and writer go.
func (p *pusher) close() {
	p.once.Do(func() {
		s := p.c.srv
		s.pub.reg.Drop(p)
		if _, ok := s.pub.monitors.LoadAndDelete(p); ok {
			s.pub.nmon.Add(-1)
		}
		p.ob.Close()
		close(p.done)
	})
}

// closePush is the hook of the connection's end (Server.closedConn).
func (c *Conn) closePush() {
	if p := c.push.Load(); p != nil {
		p.close()
	}
}

// resetPubSub is RESET's part: unsubscribe from everything and stop
// monitoring, without confirmations. The connection stays in push mode
// (its output keeps its order).
func (c *Conn) resetPubSub() {
	if p := c.push.Load(); p != nil {
		c.srv.pub.reg.Drop(p)
		if _, ok := c.srv.pub.monitors.LoadAndDelete(p); ok {
			c.srv.pub.nmon.Add(-1)
		}
	}
}

// cmdMonitor is MONITOR: +OK, then every command this node runs, one line
// each in Redis's format (see feedMonitors).
func cmdMonitor(c *Conn, _ [][]byte) {
	p := c.enterPush()
	c.WriteOK()
	if _, loaded := c.srv.pub.monitors.LoadOrStore(p, struct{}{}); !loaded {
		c.srv.pub.nmon.Add(1)
	}
}

// feedMonitors sends a command about to run to every MONITOR client, as
// Redis's replicationFeedMonitors renders it:
// +1339518083.107412 [0 127.0.0.1:60866] "keys" "*". Administrative and
// internal commands, AUTH and HELLO are not shown, as in Redis.
func (c *Conn) feedMonitors(cmd *Command, args [][]byte) {
	if cmd.Flags&(FlagAdmin|FlagPeer) != 0 || cmd.hidden || cmd.Name == "auth" || cmd.Name == "hello" {
		return
	}
	now := time.Now()
	line := make([]byte, 0, 64)
	line = append(line, '+')
	line = strconv.AppendInt(line, now.Unix(), 10)
	line = append(line, '.')
	us := strconv.Itoa(now.Nanosecond() / 1000)
	line = append(line, "000000"[len(us):]...)
	line = append(line, us...)
	line = append(line, " ["...)
	line = strconv.AppendInt(line, int64(c.notifyDB()), 10)
	line = append(line, ' ')
	line = append(line, c.addr...)
	line = append(line, ']')
	for _, a := range args {
		line = append(line, ' ')
		line = appendRepr(line, a)
	}
	line = append(line, '\r', '\n')
	c.srv.pub.monitors.Range(func(k, _ any) bool {
		k.(*pusher).queue(line)
		return true
	})
}

// appendRepr quotes b as Redis's sdscatrepr does.
func appendRepr(out, b []byte) []byte {
	out = append(out, '"')
	for _, ch := range b {
		switch ch {
		case '\\', '"':
			out = append(out, '\\', ch)
		case '\n':
			out = append(out, '\\', 'n')
		case '\r':
			out = append(out, '\\', 'r')
		case '\t':
			out = append(out, '\\', 't')
		case '\a':
			out = append(out, '\\', 'a')
		case '\b':
			out = append(out, '\\', 'b')
		default:
			if ch >= 0x20 && ch < 0x7f {
				out = append(out, ch)
			} else {
				out = append(out, '\\', 'x', "0123456789abcdef"[ch>>4], "0123456789abcdef"[ch&15])
			}
		}
	}
	return append(out, '"')
}

// pubsubFields are INFO stats' Pub/Sub lines: this node's channels,
// patterns and shard channels with subscribers.
func pubsubFields(s *Server) []InfoField {
	ch, pat, shard := s.PubSubStats()
	return []InfoField{
		{"pubsub_channels", strconv.Itoa(ch)},
		{"pubsub_patterns", strconv.Itoa(pat)},
		{"pubsubshard_channels", strconv.Itoa(shard)},
	}
}
