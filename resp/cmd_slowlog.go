package resp

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Redis's slow log limits on what an entry keeps of a command.
const (
	slowlogMaxArgc   = 32  // SLOWLOG_ENTRY_MAX_ARGC
	slowlogMaxString = 128 // SLOWLOG_ENTRY_MAX_STRING
)

// slowEntry is one SLOWLOG entry.
type slowEntry struct {
	id         int64
	unix       int64 // seconds
	usec       int64
	args       []string
	addr, name string
}

// slowlog is SLOWLOG's ring of the slowest commands, newest first:
// slowlog-log-slower-than (µs; negative: off, 0: every command) and
// slowlog-max-len, both set with CONFIG SET.
type slowlog struct {
	slower atomic.Int64
	maxLen atomic.Int64

	mu      sync.Mutex
	entries []slowEntry // oldest first: a new entry is appended, not prepended (a copy of the log per slow command)
	nextID  int64
}

func (l *slowlog) maybeLog(c *Conn, cmd *Command, args [][]byte, start time.Time, d time.Duration) {
	t := l.slower.Load()
	if t < 0 || d.Microseconds() < t || cmd.Flags&FlagNoAuth != 0 { // AUTH and HELLO carry passwords
		return
	}
	argc := min(len(args), slowlogMaxArgc)
	e := slowEntry{unix: start.Unix(), usec: d.Microseconds(), addr: c.addr, name: c.Name(), args: make([]string, argc)}
	for i := range argc {
		if i == slowlogMaxArgc-1 && len(args) > slowlogMaxArgc {
			e.args[i] = fmt.Sprintf("... (%d more arguments)", len(args)-slowlogMaxArgc+1)
			break
		}
		a := args[i]
		if len(a) > slowlogMaxString {
			e.args[i] = string(a[:slowlogMaxString]) + fmt.Sprintf("... (%d more bytes)", len(a)-slowlogMaxString)
		} else {
			e.args[i] = string(a)
		}
	}
	redactSecrets(cmd, e.args) // ACL SETUSER's passwords (acl.go)
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append(l.entries, e)
	l.trimLocked()
}

func (l *slowlog) trim() {
	l.mu.Lock()
	l.trimLocked()
	l.mu.Unlock()
}

// trimLocked drops the oldest entries beyond slowlog-max-len. The slice
// keeps its backing array until append moves the live entries to a new
// one, so the log holds at most about twice its length.
func (l *slowlog) trimLocked() {
	if n := l.maxLen.Load(); int64(len(l.entries)) > n {
		l.entries = l.entries[int64(len(l.entries))-n:]
	}
}

func slowlogCommand() Command {
	return Command{Name: "slowlog", Arity: -2, Subcommands: []Command{
		{Name: "get", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogGet},
		{Name: "len", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogLen},
		{Name: "reset", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdSlowlogReset},
		{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdSlowlogHelp},
	}}
}

func cmdSlowlogGet(c *Conn, args [][]byte) {
	const msgCount = "ERR count should be greater than or equal to -1"
	n := int64(10)
	switch len(args) {
	case 2:
	case 3:
		v, ok := parseStrictInt(args[2])
		if !ok || v < -1 {
			c.WriteError(msgCount)
			return
		}
		n = v
	default:
		c.WriteError("ERR wrong number of arguments for 'slowlog|get' command")
		return
	}
	l := &c.srv.adm.slow
	l.mu.Lock()
	entries := l.entries
	if n >= 0 && int64(len(entries)) > n {
		entries = entries[int64(len(entries))-n:]
	}
	entries = slices.Clone(entries)
	l.mu.Unlock()
	slices.Reverse(entries) // newest first, as Redis replies
	c.WriteArray(len(entries))
	for _, e := range entries {
		c.WriteArray(6)
		c.WriteInt(e.id)
		c.WriteInt(e.unix)
		c.WriteInt(e.usec)
		c.WriteArray(len(e.args))
		for _, a := range e.args {
			c.WriteBulkString(a)
		}
		c.WriteBulkString(e.addr)
		c.WriteBulkString(e.name)
	}
}

func cmdSlowlogLen(c *Conn, _ [][]byte) {
	l := &c.srv.adm.slow
	l.mu.Lock()
	n := len(l.entries)
	l.mu.Unlock()
	c.WriteInt(int64(n))
}

func cmdSlowlogReset(c *Conn, _ [][]byte) {
	l := &c.srv.adm.slow
	l.mu.Lock()
	l.entries = nil
	l.mu.Unlock()
	c.WriteOK()
}

func cmdSlowlogHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET [<count>]",
		"    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
		"    Entries are made of:",
		"    id, timestamp, time in microseconds, arguments array, client IP and port,",
		"    client name",
		"LEN",
		"    Return the length of the slowlog.",
		"RESET",
		"    Reset the slowlog.",
		"HELP",
		"    Prints this help.",
	})
}

// latencySamples is Redis's LATENCY_TS_LEN: samples kept per event.
const latencySamples = 160

type latencySample struct{ unix, ms int64 }

// latencyEvent is one event class's history, as Redis's latencyTimeSeries.
type latencyEvent struct {
	samples []latencySample // oldest first, at most latencySamples
	max     int64
}

// latencyMonitor is LATENCY's monitor: with latency-monitor-threshold
// (ms) above 0, a command that takes at least that long is recorded as
// the event "command", or "fast-command" for a fast one, as Redis does.
type latencyMonitor struct {
	threshold atomic.Int64 // ms; 0: off

	mu     sync.Mutex
	events map[string]*latencyEvent
}

func (m *latencyMonitor) maybeRecord(cmd *Command, start time.Time, d time.Duration) {
	t := m.threshold.Load()
	ms := d.Milliseconds()
	if t <= 0 || ms < t {
		return
	}
	name := "command"
	if cmd.Flags&FlagFast != 0 {
		name = "fast-command"
	}
	m.record(name, start.Add(d).Unix(), ms)
}

func (m *latencyMonitor) record(name string, unix, ms int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.events == nil {
		m.events = map[string]*latencyEvent{}
	}
	ev := m.events[name]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[name] = ev
	}
	ev.max = max(ev.max, ms)
	if n := len(ev.samples); n > 0 && ev.samples[n-1].unix == unix {
		ev.samples[n-1].ms = max(ev.samples[n-1].ms, ms)
		return
	}
	ev.samples = append(ev.samples, latencySample{unix, ms})
	if len(ev.samples) > latencySamples {
		ev.samples = ev.samples[1:]
	}
}

func latencyCommand() Command {
	return Command{Name: "latency", Arity: -2, Subcommands: []Command{
		{Name: "latest", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyLatest},
		{Name: "history", Arity: 3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyHistory},
		{Name: "reset", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyReset},
		{Name: "doctor", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyDoctor},
		{Name: "graph", Arity: 3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyGraph},
		{Name: "histogram", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdLatencyHistogram},
		{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdLatencyHelp},
	}}
}

func cmdLatencyLatest(c *Conn, _ [][]byte) {
	m := &c.srv.adm.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	names := sortedKeys(m.events)
	c.WriteArray(len(names))
	for _, n := range names {
		ev := m.events[n]
		last := ev.samples[len(ev.samples)-1]
		c.WriteArray(4)
		c.WriteBulkString(n)
		c.WriteInt(last.unix)
		c.WriteInt(last.ms)
		c.WriteInt(ev.max)
	}
}

func cmdLatencyHistory(c *Conn, args [][]byte) {
	m := &c.srv.adm.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events[string(args[2])]
	if ev == nil {
		c.WriteArray(0)
		return
	}
	c.WriteArray(len(ev.samples))
	for _, s := range ev.samples {
		c.WriteArray(2)
		c.WriteInt(s.unix)
		c.WriteInt(s.ms)
	}
}

func cmdLatencyReset(c *Conn, args [][]byte) {
	m := &c.srv.adm.latency
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	if len(args) == 2 {
		n = len(m.events)
		m.events = nil
	} else {
		for _, a := range args[2:] {
			if _, ok := m.events[string(a)]; ok {
				delete(m.events, string(a))
				n++
			}
		}
	}
	c.WriteInt(int64(n))
}

func cmdLatencyDoctor(c *Conn, _ [][]byte) {
	m := &c.srv.adm.latency
	m.mu.Lock()
	names := sortedKeys(m.events)
	var b strings.Builder
	switch {
	case m.threshold.Load() == 0 && len(names) == 0:
		b.WriteString("I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n")
	case len(names) == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	default:
		b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		for i, n := range names {
			ev := m.events[n]
			var sum int64
			for _, s := range ev.samples {
				sum += s.ms
			}
			fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation 0ms, period 0 sec). Worst all time event %dms.\n",
				i+1, n, len(ev.samples), sum/int64(len(ev.samples)), ev.max)
		}
		b.WriteString("\nI have a few advices for you:\n\n")
		fmt.Fprintf(&b, "- Check your Dynamo quorum settings (R, W) and the network between nodes: a dynakv command waits for the slowest replica of its quorum. The slow log (SLOWLOG GET) names the commands; INFO latencystats gives their percentiles.\n")
	}
	m.mu.Unlock()
	c.WriteVerbatim(b.String())
}

// cmdLatencyGraph refuses LATENCY GRAPH (Redis's ASCII-art rendering of
// an event's samples) for an event with samples; LATENCY HISTORY gives
// the same samples as numbers.
func cmdLatencyGraph(c *Conn, args [][]byte) {
	m := &c.srv.adm.latency
	m.mu.Lock()
	_, ok := m.events[string(args[2])]
	m.mu.Unlock()
	if !ok {
		c.WriteError("ERR No samples available for event '" + cstr(args[2], 128) + "'")
		return
	}
	c.WriteError("ERR LATENCY GRAPH is not supported by dynakv: LATENCY HISTORY " + cstr(args[2], 128) + " gives the same samples")
}

// cmdLatencyHistogram is LATENCY HISTOGRAM [command …]: per command, its
// calls and a cumulative distribution over power-of-two microsecond
// buckets, as Redis 7 replies it.
func cmdLatencyHistogram(c *Conn, args [][]byte) {
	s := c.srv
	t := s.adm.stats.Load()
	var cmds []*Command
	if len(args) == 2 {
		t.cmds.Range(func(k, _ any) bool { cmds = append(cmds, k.(*Command)); return true })
	} else {
		for _, a := range args[2:] {
			if cmd := s.lookupFull([]byte(strings.ToLower(string(a)))); cmd != nil {
				if v, ok := t.cmds.Load(cmd); ok && v.(*callStats).calls.Load() > 0 {
					cmds = append(cmds, cmd)
				}
			}
		}
	}
	slices.SortFunc(cmds, func(a, b *Command) int { return strings.Compare(a.fullName, b.fullName) })
	c.WriteMap(len(cmds))
	for _, cmd := range cmds {
		st := t.of(cmd)
		c.WriteBulkString(cmd.fullName)
		c.WriteMap(2)
		c.WriteBulkString("calls")
		c.WriteInt(st.calls.Load())
		c.WriteBulkString("histogram_usec")
		// Cumulative counts at 1, 2, 4, … µs up to the largest sample.
		var cum [40]int64
		top := -1
		for i := range st.hist.b {
			n := st.hist.b[i].Load()
			if n == 0 {
				continue
			}
			us := histUpper(i) / 1000
			j := 0
			for j < len(cum)-1 && int64(1)<<j < us {
				j++
			}
			cum[j] += n
			top = max(top, j)
		}
		var run int64
		var pairs [][2]int64
		for j := 0; j <= top; j++ {
			run += cum[j]
			if cum[j] > 0 || j == top {
				pairs = append(pairs, [2]int64{1 << j, run})
			}
		}
		c.WriteMap(len(pairs))
		for _, p := range pairs {
			c.WriteInt(p[0])
			c.WriteInt(p[1])
		}
	}
}

func cmdLatencyHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return a human readable latency analysis report.",
		"GRAPH <event>",
		"    Return an ASCII latency graph for the <event> class.",
		"HISTORY <event>",
		"    Return time-latency samples for the <event> class.",
		"LATEST",
		"    Return the latest latency samples for all events.",
		"RESET [<event> ...]",
		"    Reset latency data of one or more <event> classes.",
		"    (default: reset all data for all event classes)",
		"HISTOGRAM [COMMAND ...]",
		"    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
		"    If no commands are specified then all histograms are replied.",
		"HELP",
		"    Prints this help.",
	})
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
