package resp

import (
	"math"
	"math/bits"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file keeps what INFO commandstats, errorstats and latencystats,
// SLOWLOG and LATENCY report: every command a client connection runs is
// observed once, by Conn.observe, which exec defers (the one hook in the
// dispatcher). Peer connections are not observed: a forwarded write is
// counted on the node its client sent it to. The commands a script runs
// are counted by observeScriptCall, on the node that runs the script.

// maxErrorCodes bounds the distinct error codes errorstats tracks, as
// Redis does (ERRORSTATS_LIMIT); codes beyond it are not counted.
const maxErrorCodes = 128

// callStats is one command's row of commandstats and latencystats.
type callStats struct {
	calls, usec, rejected, failed atomic.Int64
	hist                          histogram
}

// statsTable holds the counters CONFIG RESETSTAT clears: it is replaced
// whole, so a reset never races with an update.
type statsTable struct {
	cmds   sync.Map // *Command → *callStats
	mu     sync.Mutex
	errs   map[string]int64 // error code → count
	errTot atomic.Int64     // total_error_replies
}

func newStatsTable() *statsTable { return &statsTable{errs: map[string]int64{}} }

func (t *statsTable) of(cmd *Command) *callStats {
	if v, ok := t.cmds.Load(cmd); ok {
		return v.(*callStats)
	}
	v, _ := t.cmds.LoadOrStore(cmd, &callStats{})
	return v.(*callStats)
}

func (t *statsTable) countError(code string) {
	t.errTot.Add(1)
	t.mu.Lock()
	if _, ok := t.errs[code]; ok || len(t.errs) < maxErrorCodes {
		t.errs[code]++
	}
	t.mu.Unlock()
}

// histogram is a log-linear latency histogram in nanoseconds: 16 linear
// sub-buckets per power of two (about 6% resolution), lock-free.
type histogram struct {
	b [64 * 16]atomic.Int64
}

func histBucket(ns int64) int {
	if ns < 16 {
		return int(max(ns, 0))
	}
	e := bits.Len64(uint64(ns)) - 5 // ns >> e is in [16, 32)
	return (e+1)*16 + int(ns>>e) - 16
}

// histUpper is the largest value of bucket i, in nanoseconds.
func histUpper(i int) int64 {
	if i < 16 {
		return int64(i)
	}
	e := i/16 - 1
	return (int64(i%16+16)+1)<<e - 1
}

func (h *histogram) add(ns int64) { h.b[histBucket(ns)].Add(1) }

// percentile returns the p-th percentile (0..100), in nanoseconds.
func (h *histogram) percentile(p float64) int64 {
	var total int64
	for i := range h.b {
		total += h.b[i].Load()
	}
	if total == 0 {
		return 0
	}
	want := int64(math.Ceil(p / 100 * float64(total)))
	var seen int64
	for i := range h.b {
		if seen += h.b[i].Load(); seen >= max(want, 1) {
			return histUpper(i)
		}
	}
	return histUpper(len(h.b) - 1)
}

// callMark is what observe needs of a command's start.
type callMark struct {
	start   time.Time
	mark    int // len(c.out) before the command
	prevCmd *Command
	prevRes *Command
}

// begin starts observing a command (exec: defer c.observe(c.begin())).
func (c *Conn) begin() callMark {
	m := callMark{start: time.Now(), mark: len(c.out), prevCmd: c.adm.dispatched, prevRes: c.adm.resolved}
	c.adm.dispatched, c.adm.resolved = nil, nil
	c.adm.depth++
	return m
}

// observe accounts a command exec ran (or refused): commandstats,
// errorstats, latencystats, the slow log and the latency monitor; then
// CLIENT REPLY's suppression of the reply.
func (c *Conn) observe(m callMark, args [][]byte) {
	c.adm.depth--
	cmd, resolved := c.adm.dispatched, c.adm.resolved
	c.adm.dispatched, c.adm.resolved = m.prevCmd, m.prevRes
	if c.peer {
		return
	}
	s := c.srv
	t := s.adm.stats.Load()
	isErr := len(c.out) > m.mark && c.out[m.mark] == '-'
	if isErr {
		line := c.out[m.mark+1:]
		if i := strings.IndexAny(string(line[:min(len(line), 64)]), " \r"); i >= 0 {
			line = line[:i]
		}
		t.countError(string(line))
	}
	if cmd == nil { // refused by the dispatcher
		if resolved != nil && !resolved.hidden && isErr {
			t.of(resolved).rejected.Add(1)
		}
	} else {
		d := time.Since(m.start)
		st := t.of(cmd)
		st.calls.Add(1)
		st.usec.Add(d.Microseconds())
		if isErr {
			st.failed.Add(1)
		}
		if s.adm.latencyTracking.Load() {
			st.hist.add(d.Nanoseconds())
		}
		c.srv.adm.slow.maybeLog(c, cmd, args, m.start, d)
		c.srv.adm.latency.maybeRecord(cmd, m.start, d)
		if cmd.Flags&FlagWrite != 0 && !isErr {
			c.noteWriteKeys(cmd, args)
		}
		c.touchKeys(cmd, args, m.start)
	}
	if c.adm.depth == 0 {
		c.applyReplyMode(m.mark, cmd)
	}
}

// observeScriptCall accounts a command a script ran through redis.call
// or redis.pcall, as Redis 7.0 does (call() for the script's client, and
// scriptCall's refusals): in commandstats and latencystats, a call that
// ran (d >= 0) adds to calls and usec, and to failed_calls if reply is an
// error; one refused (d < 0: arity, ACL, a write from a read-only
// script…) adds to rejected_calls. Unlike observe it runs on peer
// connections too: a script forwarded to its keys' coordinator runs its
// commands there, and only there can they be counted.
func (c *Conn) observeScriptCall(cmd *Command, reply []byte, d time.Duration) {
	st := c.srv.adm.stats.Load().of(cmd)
	if d < 0 {
		st.rejected.Add(1)
		return
	}
	st.calls.Add(1)
	st.usec.Add(d.Microseconds())
	if len(reply) > 0 && reply[0] == '-' {
		st.failed.Add(1)
	}
	if c.srv.adm.latencyTracking.Load() {
		st.hist.add(d.Nanoseconds())
	}
}

// commandStatsFields renders INFO commandstats.
func (s *Server) commandStatsFields() []InfoField {
	t := s.adm.stats.Load()
	var out []InfoField
	t.cmds.Range(func(k, v any) bool {
		cmd, st := k.(*Command), v.(*callStats)
		calls, usec := st.calls.Load(), st.usec.Load()
		per := 0.0
		if calls > 0 {
			per = float64(usec) / float64(calls)
		}
		out = append(out, InfoField{"cmdstat_" + cmd.fullName, "calls=" + strconv.FormatInt(calls, 10) +
			",usec=" + strconv.FormatInt(usec, 10) +
			",usec_per_call=" + strconv.FormatFloat(per, 'f', 2, 64) +
			",rejected_calls=" + strconv.FormatInt(st.rejected.Load(), 10) +
			",failed_calls=" + strconv.FormatInt(st.failed.Load(), 10)})
		return true
	})
	slices.SortFunc(out, func(a, b InfoField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// errorStatsFields renders INFO errorstats.
func (s *Server) errorStatsFields() []InfoField {
	t := s.adm.stats.Load()
	t.mu.Lock()
	out := make([]InfoField, 0, len(t.errs))
	for code, n := range t.errs {
		out = append(out, InfoField{"errorstat_" + code, "count=" + strconv.FormatInt(n, 10)})
	}
	t.mu.Unlock()
	slices.SortFunc(out, func(a, b InfoField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// latencyStatsFields renders INFO latencystats: each command's
// percentiles (latency-tracking-info-percentiles) in microseconds.
func (s *Server) latencyStatsFields() []InfoField {
	t := s.adm.stats.Load()
	pcts := s.adm.percentiles()
	var out []InfoField
	t.cmds.Range(func(k, v any) bool {
		cmd, st := k.(*Command), v.(*callStats)
		if st.calls.Load() == 0 {
			return true
		}
		var b strings.Builder
		for i, p := range pcts {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("p" + strconv.FormatFloat(p, 'f', -1, 64) + "=")
			b.WriteString(strconv.FormatFloat(float64(st.hist.percentile(p))/1000, 'f', 3, 64))
		}
		out = append(out, InfoField{"latency_percentiles_usec_" + cmd.fullName, b.String()})
		return true
	})
	slices.SortFunc(out, func(a, b InfoField) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// CommandStat is one command's counters as INFO commandstats and
// latencystats show them, for exporters (package monitor's /metrics):
// they read the same counters as INFO, so CONFIG RESETSTAT resets both.
type CommandStat struct {
	// Name is the command's full name as INFO shows it: "get",
	// "client|list".
	Name string
	// Calls, Rejected and Failed are INFO commandstats' calls,
	// rejected_calls and failed_calls.
	Calls, Rejected, Failed int64
	// Usec is the total time the calls took, in microseconds.
	Usec int64
	// Buckets are the cumulative counts of calls that took at most each
	// of the bounds passed to CommandStats (a call whose histogram bucket
	// straddles a bound counts under the next bound: the histogram's
	// resolution is about 6%). Latency tracking off (CONFIG SET
	// latency-tracking no) leaves them zero.
	Buckets []uint64
	// Observed is the number of calls in the latency histogram (Calls
	// while latency tracking is on).
	Observed uint64
}

// CommandStats returns every command's counters that has been called or
// rejected since the last CONFIG RESETSTAT, sorted by name, with the
// latency histogram's cumulative counts at bounds (ascending).
func (s *Server) CommandStats(bounds []time.Duration) []CommandStat {
	t := s.adm.stats.Load()
	var out []CommandStat
	t.cmds.Range(func(k, v any) bool {
		cmd, st := k.(*Command), v.(*callStats)
		cs := CommandStat{Name: cmd.fullName, Calls: st.calls.Load(), Usec: st.usec.Load(),
			Rejected: st.rejected.Load(), Failed: st.failed.Load(), Buckets: make([]uint64, len(bounds))}
		j := 0
		for i := range st.hist.b {
			n := st.hist.b[i].Load()
			if n == 0 {
				continue
			}
			cs.Observed += uint64(n)
			for j < len(bounds) && histUpper(i) > bounds[j].Nanoseconds() {
				j++
			}
			if j < len(bounds) {
				cs.Buckets[j] += uint64(n)
			}
		}
		for i := 1; i < len(cs.Buckets); i++ {
			cs.Buckets[i] += cs.Buckets[i-1]
		}
		out = append(out, cs)
		return true
	})
	slices.SortFunc(out, func(a, b CommandStat) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// ErrorStats returns INFO errorstats' counts by error code ("ERR",
// "NOQUORUM", "WRONGTYPE"…), since the last CONFIG RESETSTAT.
func (s *Server) ErrorStats() map[string]int64 {
	t := s.adm.stats.Load()
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[string]int64, len(t.errs))
	for code, n := range t.errs {
		out[code] = n
	}
	return out
}
