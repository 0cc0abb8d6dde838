package resp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// serverAdmin is the server-wide state of the server and admin commands
// (CONFIG's own parameters, the statistics INFO shows, SLOWLOG, LATENCY,
// CLIENT PAUSE, OBJECT IDLETIME). Every field is safe for concurrent use.
type serverAdmin struct {
	stats           atomic.Pointer[statsTable]
	latencyTracking atomic.Bool
	pcts            atomic.Pointer[[]float64] // latency-tracking-info-percentiles
	slow            slowlog
	latency         latencyMonitor
	maxMemory       atomic.Int64
	maxClients      atomic.Int64
	idleTimeout     atomic.Int64 // nanoseconds; 0: never (CONFIG's timeout is in seconds)
	peakMemory      atomic.Uint64
	pause           pauseState
	access          shardedAccess
	rates           rateSampler
}

// rateSampler computes INFO's instantaneous_* rates from the counters'
// change since the previous sample, taken at most every 100 ms when INFO
// is asked (Redis samples in its cron; dynakv has none).
type rateSampler struct {
	mu              sync.Mutex
	at              time.Time
	ops, in, out    int64
	opsPS           int64
	inKBPS, outKBPS float64
}

// sample returns the rates of commands (per second) and of input and
// output (KiB per second) given the counters' current values.
func (r *rateSampler) sample(now time.Time, ops, in, out int64) (int64, float64, float64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if d := now.Sub(r.at); d >= 100*time.Millisecond {
		if !r.at.IsZero() && d < time.Minute {
			sec := d.Seconds()
			r.opsPS = int64(float64(max(ops-r.ops, 0)) / sec)
			r.inKBPS = float64(max(in-r.in, 0)) / 1024 / sec
			r.outKBPS = float64(max(out-r.out, 0)) / 1024 / sec
		}
		r.at, r.ops, r.in, r.out = now, ops, in, out
	}
	return r.opsPS, r.inKBPS, r.outKBPS
}

// rateFields are INFO stats' instantaneous_ops_per_sec,
// instantaneous_input_kbps and instantaneous_output_kbps.
func (s *Server) rateFields(st Stats) []InfoField {
	ops, in, out := s.adm.rates.sample(time.Now(), st.TotalCommandsProcessed, st.NetInputBytes, st.NetOutputBytes)
	return []InfoField{
		{"instantaneous_ops_per_sec", strconv.FormatInt(ops, 10)},
		{"instantaneous_input_kbps", strconv.FormatFloat(in, 'f', 2, 64)},
		{"instantaneous_output_kbps", strconv.FormatFloat(out, 'f', 2, 64)},
	}
}

func (a *serverAdmin) percentiles() []float64 { return *a.pcts.Load() }

// connAdmin is one connection's state of the server and admin commands;
// the connection's own goroutine reads and writes it.
type connAdmin struct {
	dispatched *Command    // the command exec handed to its handler, nil if refused
	resolved   *Command    // the command exec's resolve found (nil: unknown), run or refused
	depth      int         // nested exec calls (EXEC's commands)
	replyOff   bool        // CLIENT REPLY OFF
	skip       int         // CLIENT REPLY SKIP: replies still to drop
	noEvict    atomic.Bool // CLIENT NO-EVICT ON (CLIENT LIST reads it)
	noTouch    atomic.Bool // CLIENT NO-TOUCH ON (CLIENT LIST reads it)
	pending    []writeMark
	lastWrite  []writeMark // WAIT's subject: the connection's last write
	killed     killSignal  // closed by CLIENT KILL: ends a WAIT or a pause
}

// killSignal is a channel closed once, made on first use; safe for
// concurrent use (CLIENT KILL closes another connection's).
type killSignal struct {
	make, close sync.Once
	ch          chan struct{}
}

func (k *killSignal) done() <-chan struct{} {
	k.make.Do(func() { k.ch = make(chan struct{}) })
	return k.ch
}

func (k *killSignal) fire() {
	k.done()
	k.close.Do(func() { close(k.ch) })
}

// writeMark is one key of a write: the key and, when this node
// coordinated it (local), the causal context the write produced
// (crdt.Object.CausalOnly: no values), which WAIT compares (Context,
// which copies it, is taken only then).
type writeMark struct {
	key   []byte
	next  crdt.Object
	local bool
}

// initAdmin sets up the admin state and registers the parameters and
// commands of this file; New calls it.
func (s *Server) initAdmin() {
	a := &s.adm
	a.stats.Store(newStatsTable())
	a.latencyTracking.Store(true)
	a.pcts.Store(&[]float64{50, 99, 99.9})
	a.slow.slower.Store(10000)
	a.slow.maxLen.Store(128)
	a.maxClients.Store(int64(s.cfg.MaxClients))
	a.idleTimeout.Store(int64(s.cfg.IdleTimeout))
	a.pause.changed = make(chan struct{})
	a.access.init()
	s.registerAdminParams()
	for _, cmd := range append([]Command{
		slowlogCommand(), latencyCommand(), memoryCommand(),
		{Name: "time", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdTime},
		{Name: "wait", Arity: 3, Handler: cmdWait},
		{Name: "reset", Arity: 1, Flags: FlagNoAuth | FlagLoading | FlagStale | FlagFast, Handler: cmdReset},
	}, compatCommands()...) { // ROLE, LASTSAVE, ACL, refusals (cmd_compat.go)
		if err := s.Register(cmd, false); err != nil {
			panic(err) // a bug in the table
		}
	}
}

// errNotParsed is CONFIG SET's integer parse failure.
var errNotParsed = errors.New("argument couldn't be parsed into an integer")

// errMemory is CONFIG SET's memory value parse failure.
var errMemory = errors.New("argument must be a memory value")

// registerAdminParams adds the run-time parameters of the server itself.
func (s *Server) registerAdminParams() {
	a := &s.adm
	intParam := func(name string, v *atomic.Int64, lo, hi int64, after func()) Param {
		return Param{Name: name, Get: func() string { return strconv.FormatInt(v.Load(), 10) }, Set: func(x string) error {
			n, err := strconv.ParseInt(x, 10, 64)
			if err != nil {
				return errNotParsed
			}
			if n < lo || n > hi {
				return fmt.Errorf("argument must be between %d and %d inclusive", lo, hi)
			}
			v.Store(n)
			if after != nil {
				after()
			}
			return nil
		}}
	}
	s.addParam(intParam("maxclients", &a.maxClients, 1, math.MaxUint32, nil))
	var timeoutSec atomic.Int64
	timeoutSec.Store(int64(s.cfg.IdleTimeout / time.Second))
	s.addParam(intParam("timeout", &timeoutSec, 0, math.MaxInt32, func() { a.idleTimeout.Store(timeoutSec.Load() * int64(time.Second)) }))
	s.addParam(intParam("slowlog-log-slower-than", &a.slow.slower, -1, math.MaxInt64, nil))
	s.addParam(intParam("slowlog-max-len", &a.slow.maxLen, 0, math.MaxInt64, a.slow.trim))
	s.addParam(intParam("latency-monitor-threshold", &a.latency.threshold, 0, math.MaxInt64, nil))
	// maxmemory bounds the Go heap a write may push memory to
	// (overMaxMemory: denyoom commands get -OOM). dynakv keeps its data in
	// pebble on disk, so the heap is not the data set Redis's maxmemory
	// bounds, and dynakv evicts nothing.
	s.addParam(Param{Name: "maxmemory", Get: func() string { return strconv.FormatInt(a.maxMemory.Load(), 10) }, Set: func(x string) error {
		n, ok := parseMemory(x)
		if !ok {
			return errMemory
		}
		a.maxMemory.Store(n)
		return nil
	}})
	s.addParam(Param{Name: "maxmemory-policy", Get: func() string { return "noeviction" }, Set: func(x string) error {
		switch strings.ToLower(x) {
		case "noeviction":
			return nil
		case "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random":
			return errors.New("dynakv evicts no keys: only noeviction is supported")
		}
		return errors.New("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction")
	}})
	s.addParam(Param{Name: "latency-tracking", Get: func() string { return yesNo(a.latencyTracking.Load()) }, Set: func(x string) error {
		switch strings.ToLower(x) {
		case "yes":
			a.latencyTracking.Store(true)
		case "no":
			a.latencyTracking.Store(false)
		default:
			return errors.New("argument must be 'yes' or 'no'")
		}
		return nil
	}})
	s.addParam(Param{Name: "latency-tracking-info-percentiles", Get: func() string {
		var parts []string
		for _, p := range a.percentiles() {
			parts = append(parts, strconv.FormatFloat(p, 'f', -1, 64))
		}
		return strings.Join(parts, " ")
	}, Set: func(x string) error {
		var ps []float64
		for _, f := range strings.Fields(x) {
			p, err := strconv.ParseFloat(f, 64)
			if err != nil || p < 0 || p > 100 {
				return errors.New("latency-tracking-info-percentiles parameter should be between 0.0 and 100.0")
			}
			ps = append(ps, p)
		}
		a.pcts.Store(&ps)
		return nil
	}})
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// parseMemory parses a Redis memory value: bytes, or a number with k,
// kb, m, mb, g or gb (k = 1000, kb = 1024), case-insensitive.
func parseMemory(v string) (int64, bool) {
	l := strings.ToLower(v)
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"kb", 1 << 10}, {"mb", 1 << 20}, {"gb", 1 << 30}, {"k", 1000}, {"m", 1000 * 1000}, {"g", 1000 * 1000 * 1000}, {"b", 1}} {
		if strings.HasSuffix(l, u.suf) {
			l, mul = strings.TrimSuffix(l, u.suf), u.m
			break
		}
	}
	n, err := strconv.ParseInt(l, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mul {
		return 0, false
	}
	return n * mul, true
}

// resetStats is CONFIG RESETSTAT: the counters of INFO stats,
// commandstats, errorstats and latencystats start again from zero.
func (s *Server) resetStats() {
	s.adm.stats.Store(newStatsTable())
	st := &s.stats
	for _, v := range []*atomic.Int64{&st.connsReceived, &st.commands, &st.rejected, &st.hits, &st.misses, &st.netIn, &st.netOut, &st.peerCommands, &st.peerNetIn, &st.peerNetOut} {
		v.Store(0)
	}
}

// INFO sections of the server itself.

func humanBytes(n uint64) string {
	f := float64(n)
	for _, u := range []string{"B", "K", "M", "G", "T", "P"} {
		if f < 1024 || u == "P" {
			if u == "B" {
				return strconv.FormatUint(n, 10) + "B"
			}
			return strconv.FormatFloat(f, 'f', 2, 64) + u
		}
		f /= 1024
	}
	return ""
}

func (s *Server) memoryFields() []InfoField {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	used := ms.HeapAlloc + ms.StackInuse
	rss := ms.Sys - ms.HeapReleased
	peak := s.adm.peakMemory.Load()
	for used > peak && !s.adm.peakMemory.CompareAndSwap(peak, used) {
		peak = s.adm.peakMemory.Load()
	}
	peak = max(peak, used)
	mx := uint64(s.adm.maxMemory.Load())
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	frag := 0.0
	if used > 0 {
		frag = float64(rss) / float64(used)
	}
	return []InfoField{
		{"used_memory", u(used)},
		{"used_memory_human", humanBytes(used)},
		{"used_memory_rss", u(rss)},
		{"used_memory_rss_human", humanBytes(rss)},
		{"used_memory_peak", u(peak)},
		{"used_memory_peak_human", humanBytes(peak)},
		{"used_memory_peak_perc", strconv.FormatFloat(100*float64(used)/float64(max(peak, 1)), 'f', 2, 64) + "%"},
		{"used_memory_lua", "0"},
		{"used_memory_scripts", "0"},
		{"maxmemory", u(mx)},
		{"maxmemory_human", humanBytes(mx)},
		{"maxmemory_policy", "noeviction"},
		{"mem_fragmentation_ratio", strconv.FormatFloat(frag, 'f', 2, 64)},
		{"mem_allocator", "go-" + runtime.Version()},
		{"lazyfree_pending_objects", "0"},
		{"go_heap_objects", u(ms.HeapObjects)},
		{"go_gc_cycles", strconv.FormatUint(uint64(ms.NumGC), 10)},
	}
}

// persistenceFields: dynakv has no RDB or AOF; every write is in pebble's
// WAL (fsynced unless --nosync) before it is acknowledged.
func (s *Server) persistenceFields() []InfoField {
	start := strconv.FormatInt(s.started.Unix(), 10)
	return []InfoField{
		{"loading", "0"},
		{"async_loading", "0"},
		{"rdb_changes_since_last_save", "0"},
		{"rdb_bgsave_in_progress", "0"},
		{"rdb_last_save_time", start},
		{"rdb_last_bgsave_status", "ok"},
		{"rdb_last_bgsave_time_sec", "-1"},
		{"rdb_current_bgsave_time_sec", "-1"},
		{"aof_enabled", "0"},
		{"aof_rewrite_in_progress", "0"},
		{"aof_rewrite_scheduled", "0"},
		{"aof_last_rewrite_time_sec", "-1"},
		{"aof_current_rewrite_time_sec", "-1"},
		{"aof_last_bgrewrite_status", "ok"},
		{"aof_last_write_status", "ok"},
	}
}

func (s *Server) cpuFields() []InfoField {
	var self, kids syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	_ = syscall.Getrusage(syscall.RUSAGE_CHILDREN, &kids)
	tv := func(t syscall.Timeval) string {
		return strconv.FormatFloat(float64(t.Sec)+float64(t.Usec)/1e6, 'f', 6, 64)
	}
	return []InfoField{
		{"used_cpu_sys", tv(self.Stime)},
		{"used_cpu_user", tv(self.Utime)},
		{"used_cpu_sys_children", tv(kids.Stime)},
		{"used_cpu_user_children", tv(kids.Utime)},
	}
}

// CLIENT subcommands.

// clientConns returns every client connection, c included, by id; peer
// connections are not clients (Server.markPeer).
func (s *Server) clientConns(c *Conn) []*Conn {
	s.mu.Lock()
	conns := make([]*Conn, 0, len(s.clients)+1)
	for _, cc := range s.clients {
		conns = append(conns, cc)
	}
	s.mu.Unlock()
	if !c.peer && !slices.Contains(conns, c) { // a connection driven directly
		conns = append(conns, c)
	}
	slices.SortFunc(conns, func(a, b *Conn) int { return cmp.Compare(a.id, b.id) })
	return conns
}

// kill closes cc's connection: at once for another connection, after
// its reply for c itself (Redis's CLIENT_CLOSE_AFTER_REPLY).
func (c *Conn) kill(cc *Conn) {
	if cc == c {
		c.quit = true
		return
	}
	cc.adm.killed.fire()
	if cc.rc != nil {
		if nc := cc.rc.NetConn(); nc != nil {
			_ = nc.Close()
		}
	}
}

func cmdClientKill(c *Conn, args [][]byte) {
	conns := c.srv.clientConns(c)
	if len(args) == 3 { // the old form: CLIENT KILL addr
		for _, cc := range conns {
			if cc.addr == string(args[2]) {
				c.kill(cc)
				c.WriteOK()
				return
			}
		}
		c.WriteError("ERR No such client")
		return
	}
	if len(args)%2 != 0 {
		c.WriteError(msgSyntax)
		return
	}
	var id int64
	var addr, laddr, typ, user string
	skipMe := true
	for i := 2; i < len(args); i += 2 {
		v := string(args[i+1])
		switch strings.ToLower(string(args[i])) {
		case "id":
			n, ok := parseStrictInt(args[i+1])
			if !ok || n <= 0 {
				c.WriteError("ERR client-id should be greater than 0")
				return
			}
			id = n
		case "addr":
			addr = v
		case "laddr":
			laddr = v
		case "type":
			switch t := strings.ToLower(v); t {
			case "normal", "master", "replica", "slave", "pubsub":
				typ = t
			default:
				c.WriteError("ERR Unknown client type '" + cstr(args[i+1], 128) + "'")
				return
			}
		case "user":
			if c.srv.acl.users.User(v) == nil {
				c.WriteError("ERR No such user '" + cstr(args[i+1], 128) + "'")
				return
			}
			user = v
		case "skipme":
			switch strings.ToLower(v) {
			case "yes":
				skipMe = true
			case "no":
				skipMe = false
			default:
				c.WriteError(msgSyntax)
				return
			}
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	n := 0
	for _, cc := range conns {
		switch {
		case id != 0 && cc.id != id,
			addr != "" && cc.addr != addr,
			laddr != "" && cc.laddr != laddr,
			typ != "" && typ != cc.clientType(),
			user != "" && user != cc.userName(),
			skipMe && cc == c:
			continue
		}
		c.kill(cc)
		n++
	}
	c.WriteInt(int64(n))
}

// onOff parses CLIENT NO-EVICT / NO-TOUCH's ON|OFF.
func onOff(c *Conn, arg []byte) (bool, bool) {
	switch strings.ToLower(string(arg)) {
	case "on":
		return true, true
	case "off":
		return false, true
	}
	c.WriteError(msgSyntax)
	return false, false
}

// cmdClientNoEvict: CLIENT NO-EVICT ON|OFF. dynakv evicts no clients, so
// the flag is only kept and shown (CLIENT LIST flags e).
func cmdClientNoEvict(c *Conn, args [][]byte) {
	if v, ok := onOff(c, args[2]); ok {
		c.adm.noEvict.Store(v)
		c.WriteOK()
	}
}

// cmdClientNoTouch: CLIENT NO-TOUCH ON|OFF (Redis 7.2): the connection's
// commands leave OBJECT IDLETIME unchanged (OBJECT TOUCH).
func cmdClientNoTouch(c *Conn, args [][]byte) {
	if v, ok := onOff(c, args[2]); ok {
		c.adm.noTouch.Store(v)
		c.WriteOK()
	}
}

func cmdClientReply(c *Conn, args [][]byte) {
	switch strings.ToLower(string(args[2])) {
	case "on":
		c.adm.replyOff, c.adm.skip = false, 0
		c.WriteOK()
	case "off":
		c.adm.replyOff = true
		c.WriteOK() // dropped by applyReplyMode
	case "skip":
		if !c.adm.replyOff {
			c.adm.skip = 2 // this reply and the next command's
		}
		c.WriteOK()
	default:
		c.WriteError(msgSyntax)
	}
}

// applyReplyMode drops the reply of a top-level command written from
// mark on, under CLIENT REPLY OFF or SKIP.
func (c *Conn) applyReplyMode(mark int, _ *Command) {
	switch {
	case c.adm.replyOff:
		c.out = c.out[:mark]
	case c.adm.skip > 0:
		c.out = c.out[:mark]
		c.adm.skip--
	}
}

func cmdClientTracking(c *Conn, _ [][]byte) {
	c.WriteError("ERR CLIENT TRACKING is not supported by dynakv: a key's replicas change on several nodes without passing through the node a client is connected to, so invalidation messages could not be complete")
}

func cmdClientGetRedir(c *Conn, _ [][]byte) { c.WriteInt(-1) }

// cmdClientUnblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: 1 if client id
// was blocked (BLPOP…) and is now unblocked with its timeout reply or
// the UNBLOCKED error (Server.Unblock), else 0.
func cmdClientUnblock(c *Conn, args [][]byte) {
	id, ok := parseStrictInt(args[2])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	reason := unblockTimeout
	if len(args) == 4 {
		reason = strings.ToLower(string(args[3]))
		if r := strings.ToLower(string(args[3])); r != "timeout" && r != "error" {
			c.WriteError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
			return
		}
	} else if len(args) > 4 {
		c.WriteError(msgSyntax)
		return
	}
	if c.srv.Unblock(id, reason) {
		c.WriteInt(1)
		return
	}
	c.WriteInt(0)
}

// pauseState is CLIENT PAUSE: until `until`, client commands wait
// (every command with all, write commands otherwise).
type pauseState struct {
	mu      sync.Mutex
	until   time.Time
	all     bool
	changed chan struct{} // closed and replaced on every change
}

func (p *pauseState) set(until time.Time, all bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// A new pause never shortens or weakens one in force, as in Redis.
	if time.Now().Before(p.until) {
		if until.Before(p.until) {
			until = p.until
		}
		all = all || p.all
	}
	p.until, p.all = until, all
	close(p.changed)
	p.changed = make(chan struct{})
}

// wait blocks a client command while a pause applies to it. CLIENT
// UNPAUSE itself is never paused, so an operator can always end a pause;
// peer connections (other nodes' forwarded writes) are not paused.
func (s *Server) waitPause(c *Conn, cmd *Command) {
	if c.peer || cmd.fullName == "client|unpause" {
		return
	}
	p := &s.adm.pause
	for {
		p.mu.Lock()
		until, all, ch := p.until, p.all, p.changed
		p.mu.Unlock()
		d := time.Until(until)
		if d <= 0 || !all && cmd.Flags&FlagWrite == 0 {
			return
		}
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
		case <-s.ctx.Done():
			t.Stop()
			return
		case <-c.adm.killed.done():
			t.Stop()
			return
		}
		t.Stop()
	}
}

// timeoutMs parses the millisecond timeout of CLIENT PAUSE and WAIT, or
// writes Redis's error and returns false.
func (c *Conn) timeoutMs(arg []byte) (int64, bool) {
	ms, ok := parseStrictInt(arg)
	switch {
	case !ok:
		c.WriteError("ERR timeout is not an integer or out of range")
		return 0, false
	case ms < 0:
		c.WriteError("ERR timeout is negative")
		return 0, false
	}
	return ms, true
}

func cmdClientPause(c *Conn, args [][]byte) {
	ms, ok := c.timeoutMs(args[2])
	if !ok {
		return
	}
	all := true
	if len(args) == 4 {
		switch strings.ToLower(string(args[3])) {
		case "write":
			all = false
		case "all":
		default:
			c.WriteError("ERR CLIENT PAUSE mode must be WRITE or ALL")
			return
		}
	} else if len(args) > 4 {
		c.WriteError(msgSyntax)
		return
	}
	c.srv.adm.pause.set(time.Now().Add(time.Duration(ms)*time.Millisecond), all)
	c.WriteOK()
}

func cmdClientUnpause(c *Conn, _ [][]byte) {
	p := &c.srv.adm.pause
	p.mu.Lock()
	p.until, p.all = time.Time{}, false
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
	c.WriteOK()
}

// clientFlags is the connection's CLIENT LIST flags field.
func (c *Conn) clientFlags() string {
	f := ""
	if c.adm.noEvict.Load() {
		f += "e"
	}
	if c.adm.noTouch.Load() {
		f += "T"
	}
	if c.srv.isBlocked(c.id) {
		f += "b"
	}
	if f == "" {
		f = "N"
	}
	return f
}

// RESET, TIME, WAIT

// reset returns the connection to its state when it connected: RESP2, no
// name, database 0, replies on, no NO-EVICT/NO-TOUCH, and (when a
// password is required) not authenticated. Other parts of the
// connection's state (MULTI, WATCH, subscriptions, SELECT) join here.
func (c *Conn) reset() {
	c.mu.Lock()
	c.proto = 2
	c.name = ""
	c.mu.Unlock()
	c.authed = c.srv.defaultAuthed()
	c.user.Store(c.srv.acl.users.Default())
	a := &c.adm
	a.replyOff, a.skip, a.pending, a.lastWrite = false, 0, nil, nil
	a.noEvict.Store(false)
	a.noTouch.Store(false)
	c.resetTx()
	c.resetPubSub()
}

func cmdReset(c *Conn, _ [][]byte) {
	c.reset()
	c.WriteSimple("RESET")
}

func cmdTime(c *Conn, _ [][]byte) {
	now := time.Now()
	c.WriteArray(2)
	c.WriteBulkString(strconv.FormatInt(now.Unix(), 10))
	c.WriteBulkString(strconv.Itoa(now.Nanosecond() / 1000))
}

// noteWrite records a write this node coordinated (Conn.mutate calls it):
// the key and the causal context the write left, for WAIT.
func (c *Conn) noteWrite(key []byte, next crdt.Object) {
	// NB: the context alone: the connection keeps its last write's mark
	// until its next write, which must not keep a big value alive.
	c.adm.pending = append(c.adm.pending, writeMark{key: key, next: next.CausalOnly(), local: true})
}

// noteWriteKeys makes the successful write command just run the
// connection's last write: the writes it coordinated here, or its keys
// when it was forwarded.
func (c *Conn) noteWriteKeys(cmd *Command, args [][]byte) {
	if len(c.adm.pending) > 0 {
		// NB: the last write's slice becomes the next pending one: a
		// connection's writes reuse two slices instead of allocating one
		// each. (runConcurrent takes a worker's lastWrite with its
		// ownership, so no slice is shared.)
		old := c.adm.lastWrite
		clear(old)
		c.adm.lastWrite, c.adm.pending = c.adm.pending, old[:0]
		return
	}
	var marks []writeMark
	for _, k := range commandKeys(cmd, args) {
		marks = append(marks, writeMark{key: k})
	}
	if marks != nil {
		c.adm.lastWrite = marks
	}
}

// replicaReader is the part of the coordinator WAIT uses.
type replicaReader interface {
	ReadAll(ctx context.Context, key []byte) (map[string]crdt.Object, error)
	Config() coordinator.Config
}

// acked returns how many replicas besides one (the copy the coordinator
// wrote first, Redis's master) hold the connection's last write: for
// each key, the replicas whose object descends the write's causal
// context (or, for a write forwarded to another node, the merge of every
// replica's context), the least over the keys. Without a write it is
// N−1; without a coordinator (a test backend), 0.
func (c *Conn) acked() int {
	rr, ok := c.srv.b.(replicaReader)
	if !ok {
		return 0
	}
	if len(c.adm.lastWrite) == 0 {
		return rr.Config().N - 1
	}
	least := math.MaxInt
	for _, w := range c.adm.lastWrite {
		objs, _ := rr.ReadAll(c.srv.ctx, w.key)
		var ref dvv.VV
		if w.local {
			ref = w.next.Context()
		} else {
			for _, o := range objs {
				ref = ref.Join(o.Context())
			}
		}
		n := 0
		for _, o := range objs {
			if o.Context().Descends(ref) {
				n++
			}
		}
		least = min(least, max(n-1, 0))
	}
	return least
}

// WAIT asks the replicas again after waitPoll, doubling the pause up to
// waitPollMax, so a long WAIT (0: no limit) costs little.
const (
	waitPoll    = 10 * time.Millisecond
	waitPollMax = time.Second
)

// maxWaitMs is the longest WAIT timeout, in ms, kept as a deadline (what
// a time.Duration holds, about 292 years); a longer one is no limit.
const maxWaitMs = int64(math.MaxInt64 / time.Millisecond)

// waitDeadline returns WAIT's deadline for a timeout of ms milliseconds
// (at least 0, as timeoutMs parsed it) from now, and whether there is
// one: 0 is no limit, and so is a timeout beyond maxWaitMs, whose
// deadline would overflow.
func waitDeadline(now time.Time, ms int64) (time.Time, bool) {
	if ms <= 0 || ms > maxWaitMs {
		return time.Time{}, false
	}
	return now.Add(time.Duration(ms) * time.Millisecond), true
}

// cmdWait: WAIT numreplicas timeout — the number of replicas (besides
// the coordinator's own copy) that hold the connection's last write,
// once it reaches numreplicas or after timeout ms (0: no limit). As in
// Redis 7.0 (waitCommand): numreplicas is any integer (at most 0: reply
// at once), a timeout beyond what a deadline can hold waits without
// limit (Redis's deadline overflows and never fires), and inside MULTI
// (EXEC's block: mayBlock) WAIT replies the current count at once.
func cmdWait(c *Conn, args [][]byte) {
	want, ok := parseStrictInt(args[1])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	ms, ok := c.timeoutMs(args[2])
	if !ok {
		return
	}
	if !c.mayBlock() {
		c.WriteInt(int64(c.acked()))
		return
	}
	deadline, limited := waitDeadline(time.Now(), ms)
	pause := waitPoll
	for {
		n := c.acked()
		left := time.Until(deadline)
		if int64(n) >= want || limited && left <= 0 {
			c.WriteInt(int64(n))
			return
		}
		if limited {
			pause = min(pause, left)
		}
		t := time.NewTimer(pause)
		select {
		case <-c.srv.ctx.Done():
			t.Stop()
			c.WriteInt(int64(n))
			return
		case <-c.adm.killed.done(): // the reply goes nowhere
			t.Stop()
			c.WriteInt(int64(n))
			return
		case <-t.C:
		}
		pause = min(2*pause, waitPollMax)
	}
}
