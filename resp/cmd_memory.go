package resp

import (
	"container/list"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/crdt"
)

// objectOverhead approximates the bytes a key costs beside its key and
// encoded object: pebble's per-entry metadata (sequence number, kind,
// block index share), so MEMORY USAGE of a small key is near Redis's.
const objectOverhead = 40

func memoryCommand() Command {
	return Command{Name: "memory", Arity: -2, Subcommands: []Command{
		{Name: "usage", Arity: -3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Handler: cmdMemoryUsage},
		{Name: "stats", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdMemoryStats},
		{Name: "doctor", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdMemoryDoctor},
		{Name: "malloc-stats", Arity: 2, Flags: FlagLoading | FlagStale, Handler: func(c *Conn, _ [][]byte) {
			c.WriteVerbatim("Stats not supported for the current allocator")
		}},
		{Name: "purge", Arity: 2, Flags: FlagLoading | FlagStale, Handler: func(c *Conn, _ [][]byte) {
			runtime.GC()
			c.WriteOK()
		}},
		{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdMemoryHelp},
	}}
}

// cmdMemoryUsage: MEMORY USAGE key [SAMPLES count] — the bytes the key
// takes in the local store: its name, its encoded object (every version
// and causal context it keeps) and a fixed per-entry overhead. SAMPLES
// is checked and ignored: the size is exact, not sampled.
func cmdMemoryUsage(c *Conn, args [][]byte) {
	for i := 3; i < len(args); i += 2 {
		if !strings.EqualFold(string(args[i]), "samples") || i+1 >= len(args) {
			c.WriteError(msgSyntax)
			return
		}
		n, ok := parseStrictInt(args[i+1])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		if n < 0 {
			c.WriteError(msgSyntax)
			return
		}
	}
	o, err := c.load(args[2])
	if err != nil {
		c.WriteErr(err)
		return
	}
	if !crdt.Live(o, c.now()) {
		c.WriteNull()
		return
	}
	c.WriteInt(int64(len(args[2]) + len(o.Encode()) + objectOverhead))
}

func cmdMemoryStats(c *Conn, _ [][]byte) {
	s := c.srv
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	keys, err := c.dbSize()
	if err != nil {
		c.WriteErr(err)
		return
	}
	used := int64(ms.HeapAlloc + ms.StackInuse)
	peak := max(int64(s.adm.peakMemory.Load()), used)
	perKey := int64(0)
	if keys > 0 {
		perKey = used / keys
	}
	ints := []struct {
		k string
		v int64
	}{
		{"peak.allocated", peak},
		{"total.allocated", used},
		{"startup.allocated", 0},
		{"replication.backlog", 0},
		{"clients.slaves", 0},
		{"clients.normal", 0},
		{"cluster.links", 0},
		{"aof.buffer", 0},
		{"lua.caches", 0},
		{"functions.caches", 0},
		{"overhead.total", int64(ms.StackInuse)},
		{"keys.count", keys},
		{"keys.bytes-per-key", perKey},
		{"dataset.bytes", int64(ms.HeapAlloc)},
		{"allocator.allocated", int64(ms.HeapAlloc)},
		{"allocator.active", int64(ms.HeapInuse)},
		{"allocator.resident", int64(ms.Sys - ms.HeapReleased)},
	}
	c.WriteMap(len(ints) + 1)
	for _, f := range ints {
		c.WriteBulkString(f.k)
		c.WriteInt(f.v)
	}
	c.WriteBulkString("peak.percentage")
	c.writeDouble(100 * float64(used) / float64(max(peak, 1)))
}

// writeDouble writes a double as Redis does: a RESP3 double, or a bulk
// string in RESP2.
func (c *Conn) writeDouble(f float64) {
	s := strconv.FormatFloat(f, 'f', -1, 64)
	if c.proto == 3 {
		c.out = append(c.out, ',')
		c.out = append(c.out, s...)
		c.out = append(c.out, '\r', '\n')
		return
	}
	c.WriteBulkString(s)
}

func cmdMemoryDoctor(c *Conn, _ [][]byte) {
	keys, err := c.dbSize()
	if err != nil {
		c.WriteErr(err)
		return
	}
	if keys == 0 {
		c.WriteVerbatim("Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n")
		return
	}
	c.WriteVerbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n")
}

func cmdMemoryHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"DOCTOR",
		"    Return memory problems reports.",
		"MALLOC-STATS",
		"    Return internal statistics report from the memory allocator.",
		"PURGE",
		"    Attempt to purge dirty pages for reclamation by the allocator.",
		"STATS",
		"    Return information about the memory usage of the server.",
		"USAGE <key> [SAMPLES <count>]",
		"    Return memory in bytes used by <key> and its value. Nested values are",
		"    sampled up to <count> times (default: 5, 0 means sample all).",
		"HELP",
		"    Prints this help.",
	})
}

// OBJECT FREQ, IDLETIME, REFCOUNT

// loadLive reads key for an OBJECT subcommand: ok false (and a reply
// written) when there is no live key or the read failed.
func (c *Conn) loadLive(key []byte) (crdt.Object, bool) {
	o, err := c.load(key)
	if err != nil {
		c.WriteErr(err)
		return o, false
	}
	if !crdt.Live(o, c.now()) {
		c.WriteNull()
		return o, false
	}
	return o, true
}

// cmdObjectFreq: dynakv evicts nothing, so its policy is noeviction and,
// as Redis under a non-LFU policy, it keeps no access frequency.
func cmdObjectFreq(c *Conn, args [][]byte) {
	if _, ok := c.loadLive(args[2]); ok {
		c.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
	}
}

// cmdObjectIdletime: seconds since this node last ran a command on the
// key (see accessLog); for a key it has not seen since it started, the
// time since it started.
func cmdObjectIdletime(c *Conn, args [][]byte) {
	if _, ok := c.loadLive(args[2]); ok {
		last, seen := c.srv.adm.access.last(string(args[2]))
		if !seen {
			last = c.srv.started
		}
		c.WriteInt(int64(time.Since(last) / time.Second))
	}
}

// cmdObjectRefcount: 2147483647 for an integer of 0..9999 (Redis's
// shared integers), 1 otherwise.
func cmdObjectRefcount(c *Conn, args [][]byte) {
	o, ok := c.loadLive(args[2])
	if !ok {
		return
	}
	if v, isStr, _ := crdt.Get(o, c.now()); isStr {
		if n, ok := parseStrictInt(v); ok && n >= 0 && n < 10000 && strconv.FormatInt(n, 10) == string(v) {
			c.WriteInt(1<<31 - 1)
			return
		}
	}
	c.WriteInt(1)
}

// accessLogSize bounds the keys whose last access OBJECT IDLETIME knows.
const accessLogSize = 10000

// accessLog remembers when this node last ran a command on each of the
// latest keys it served, limit of them (an LRU list; the server keeps
// accessLogSize keys in all, see shardedAccess): OBJECT IDLETIME's
// approximation of Redis's per-object access clock. Commands of a
// connection with CLIENT NO-TOUCH ON, and OBJECT itself, do not count.
type accessLog struct {
	mu    sync.Mutex
	limit int
	order list.List // of *accessEntry, most recent first
	byKey map[string]*list.Element
}

type accessEntry struct {
	key string
	at  time.Time
}

func (l *accessLog) touch(key string, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.byKey == nil {
		l.byKey = map[string]*list.Element{}
	}
	if e, ok := l.byKey[key]; ok {
		e.Value.(*accessEntry).at = at
		l.order.MoveToFront(e)
		return
	}
	l.byKey[key] = l.order.PushFront(&accessEntry{key, at})
	if l.order.Len() > l.limit {
		e := l.order.Back()
		l.order.Remove(e)
		delete(l.byKey, e.Value.(*accessEntry).key)
	}
}

func (l *accessLog) last(key string) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.byKey[key]; ok {
		return e.Value.(*accessEntry).at, true
	}
	return time.Time{}, false
}

// accessShards splits the access log, so that connections touching
// different keys rarely wait for one another's lock.
const accessShards = 16

// shardedAccess is the server's access log: accessShards accessLogs of
// accessLogSize/accessShards keys each, a key's shard chosen by its hash.
type shardedAccess [accessShards]accessLog

func (a *shardedAccess) shard(key string) *accessLog {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(key); i++ {
		h = (h ^ uint32(key[i])) * 16777619
	}
	return &a[h%accessShards]
}

func (a *shardedAccess) init() {
	for i := range a {
		a[i].limit = accessLogSize / accessShards
	}
}

func (a *shardedAccess) touch(key string, at time.Time) { a.shard(key).touch(key, at) }

func (a *shardedAccess) last(key string) (time.Time, bool) { return a.shard(key).last(key) }

// touchKeys records an access to cmd's keys (observe calls it).
func (c *Conn) touchKeys(cmd *Command, args [][]byte, at time.Time) {
	if c.adm.noTouch.Load() || cmd.FirstKey == 0 && cmd.movableKeys == nil || strings.HasPrefix(cmd.fullName, "object|") {
		return
	}
	if cmd.FirstKey == 1 && cmd.LastKey == 1 && len(args) > 1 { // the common case, without commandKeys' slice
		c.srv.adm.access.touch(string(args[1]), at)
		return
	}
	for _, k := range commandKeys(cmd, args) {
		c.srv.adm.access.touch(string(k), at)
	}
}
