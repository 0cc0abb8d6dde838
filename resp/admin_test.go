package resp

import (
	"context"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/resp/resptest"
)

// adminScript holds the server and admin commands whose replies do not
// depend on timing, compared byte for byte with redis-server 7.0 (see
// conformance.Compare for the line format).
const adminScript = `
CONFIG SET maxmemory 100mb maxclients 100
CONFIG GET maxmemory
CONFIG GET maxclients
CONFIG SET maxmemory 1 maxmemory 2
CONFIG SET maxmemory 1 foo 2
CONFIG SET maxmemory abc
CONFIG SET maxmemory 1gb timeout 5
CONFIG GET timeout
CONFIG SET timeout -1
CONFIG SET timeout 0
CONFIG SET timeout 1.5
CONFIG SET slowlog-max-len abc
CONFIG SET slowlog-max-len -1
CONFIG SET slowlog-log-slower-than -5
CONFIG SET slowlog-max-len 5 maxmemory abc
CONFIG GET slowlog-max-len
CONFIG SET latency-monitor-threshold -1
CONFIG GET latency-monitor-threshold
CONFIG SET maxclients 0
CONFIG SET maxmemory 1 maxmemory
CONFIG SET maxmemory
CONFIG SET maxmemory 0
CONFIG SET maxmemory-policy foo
CONFIG SET maxmemory-policy noeviction
CONFIG GET maxmemory-policy
CONFIG SET latency-tracking maybe
CONFIG GET latency-tracking
CONFIG REWRITE
CONFIG HELP
CONFIG RESETSTAT
CONFIG FOO
CLIENT KILL
CLIENT KILL 1.2.3.4:5
CLIENT KILL id
CLIENT KILL id x
CLIENT KILL id 0
CLIENT KILL id 999
CLIENT KILL addr 1.2.3.4:5
CLIENT KILL type foo
CLIENT KILL type pubsub
CLIENT KILL user nobody
CLIENT KILL skipme maybe
CLIENT KILL foo bar
CLIENT KILL laddr x:1 id 99
CLIENT NO-EVICT
CLIENT NO-EVICT maybe
CLIENT NO-EVICT on
CLIENT NO-EVICT off
CLIENT PAUSE
CLIENT PAUSE x
CLIENT PAUSE -1
CLIENT PAUSE 10 foo
CLIENT UNPAUSE
CLIENT REPLY foo
CLIENT GETREDIR
CLIENT UNBLOCK
CLIENT UNBLOCK x
CLIENT UNBLOCK 99
CLIENT UNBLOCK 99 foo
CLIENT UNBLOCK 99 error
CLIENT UNBLOCK 99 timeout
WAIT
WAIT 1 x
WAIT x 1
WAIT 0 0
WAIT 1 -1
WAIT -1 0
WAIT -1 10
WAIT 1 10
WAIT 0 -1
WAIT -1 -1
WAIT x -1
WAIT 1 1.5
WAIT 99999999999999999999 0
WAIT 0 9223372036854775807
WAIT 0 9223372036854775808
WAIT 1 2 3
MULTI
WAIT 1 0
WAIT 5 0
WAIT -1 0
EXEC
TIME x
SLOWLOG GET x
SLOWLOG GET -2
SLOWLOG RESET
SLOWLOG HELP
SLOWLOG FOO
LATENCY LATEST
LATENCY HISTORY command
LATENCY RESET
LATENCY RESET foo bar
LATENCY DOCTOR
LATENCY HELP
LATENCY GRAPH command
LATENCY GRAPH
SET k v
SET n 123
SET n2 123456
HSET h a 1
SADD s a b
MEMORY USAGE nokey
MEMORY USAGE k samples
MEMORY USAGE k samples x
MEMORY USAGE k samples -1
MEMORY USAGE k foo 1
MEMORY HELP
MEMORY FOO
OBJECT FREQ k
OBJECT FREQ nokey
OBJECT IDLETIME nokey
OBJECT REFCOUNT k
OBJECT REFCOUNT n
OBJECT REFCOUNT n2
OBJECT REFCOUNT nokey
OBJECT HELP
OBJECT FOO
MEMORY PURGE
COMMAND DOCS get set config|set client|kill slowlog|get object|freq wait nosuch
RESET
CLIENT GETNAME
`

// TestConformanceAdmin compares adminScript's replies with redis-server
// 7.0's, in RESP2 and RESP3.
func TestConformanceAdmin(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			ref.Do(t, "CONFIG", "SET", "maxmemory", "0", "maxclients", "10000", "timeout", "0", "slowlog-max-len", "128")
			n := conformance.Compare(t, ref, dut, adminScript, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}

func TestConfigSetAllOrNothing(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	if got := r.do("CONFIG", "SET", "slowlog-max-len", "7", "latency-monitor-threshold", "-3"); !strings.HasPrefix(got, "-ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold')") {
		t.Fatalf("bad second value: %q", got)
	}
	if got := r.do("CONFIG", "GET", "slowlog-max-len"); got != "*2\r\n$15\r\nslowlog-max-len\r\n$3\r\n128\r\n" {
		t.Fatalf("the first parameter was not rolled back: %q", got)
	}
	if got := r.do("CONFIG", "SET", "slowlog-max-len", "7", "latency-monitor-threshold", "3", "maxmemory", "2mb"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET of three: %q", got)
	}
	for p, want := range map[string]string{"slowlog-max-len": "7", "latency-monitor-threshold": "3", "maxmemory": "2097152"} {
		if got := r.do("CONFIG", "GET", p); !strings.HasSuffix(got, "$"+strconv.Itoa(len(want))+"\r\n"+want+"\r\n") {
			t.Errorf("CONFIG GET %s = %q, want %s", p, got, want)
		}
	}
	if got := r.do("INFO", "memory"); !strings.Contains(got, "maxmemory:2097152\r\n") || !strings.Contains(got, "maxmemory_human:2.00M\r\n") {
		t.Errorf("INFO memory does not report maxmemory: %q", got)
	}
	if got := r.do("CONFIG", "SET", "maxmemory-policy", "allkeys-lru"); !strings.Contains(got, "dynakv evicts no keys") {
		t.Errorf("maxmemory-policy allkeys-lru: %q", got)
	}
	// maxclients applies to the next connection at once.
	if got := r.do("CONFIG", "SET", "maxclients", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxclients 1: %q", got)
	}
	r2 := dialRaw(t, ts.addr)
	if got := r2.reply(); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("second client with maxclients 1: %q", got)
	}
}

func TestInfoStatsSections(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("SET", "k", "v")
	r.do("GET", "k")
	r.do("GET", "k")
	r.do("GET")            // rejected: arity
	r.do("HGET", "k", "f") // failed: WRONGTYPE
	r.do("NOSUCH")         // an error, no command
	info := r.do("INFO", "commandstats", "errorstats", "latencystats")
	for _, re := range []string{
		`cmdstat_get:calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0\r\n`,
		`cmdstat_hget:calls=1,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=1\r\n`,
		`cmdstat_set:calls=1,`,
		`errorstat_ERR:count=2\r\n`,
		`errorstat_WRONGTYPE:count=1\r\n`,
		`latency_percentiles_usec_get:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}\r\n`,
	} {
		if !regexp.MustCompile(re).MatchString(info) {
			t.Errorf("INFO lacks %s:\n%s", re, info)
		}
	}
	all := r.do("INFO")
	for _, sec := range []string{"# Memory\r\nused_memory:", "# Persistence\r\nloading:0", "# CPU\r\nused_cpu_sys:", "# Errorstats\r\n", "total_error_replies:3\r\n"} {
		if !strings.Contains(all, sec) {
			t.Errorf("INFO lacks %q", sec)
		}
	}
	if strings.Contains(all, "# Commandstats") || strings.Contains(all, "# Latencystats") {
		t.Errorf("default INFO has commandstats or latencystats (Redis leaves them out)")
	}
	r.do("CONFIG", "RESETSTAT")
	if info := r.do("INFO", "commandstats", "errorstats"); strings.Contains(info, "cmdstat_get") || strings.Contains(info, "errorstat_") {
		t.Errorf("after CONFIG RESETSTAT:\n%s", info)
	}
	r.do("CONFIG", "SET", "latency-tracking-info-percentiles", "50 90")
	r.do("GET", "k")
	if info := r.do("INFO", "latencystats"); !regexp.MustCompile(`latency_percentiles_usec_get:p50=[\d.]+,p90=[\d.]+\r\n`).MatchString(info) {
		t.Errorf("latencystats with percentiles 50 90:\n%s", info)
	}
}

func TestHistogramPercentiles(t *testing.T) {
	var h histogram
	for i := int64(1); i <= 1000; i++ {
		h.add(i * 1000) // 1..1000 µs
	}
	for _, c := range []struct {
		p    float64
		want int64
	}{{50, 500_000}, {99, 990_000}, {99.9, 999_000}, {100, 1_000_000}} {
		got := h.percentile(c.p)
		if got < c.want || float64(got) > float64(c.want)*1.07 {
			t.Errorf("p%v = %d ns, want %d within the bucket width (+6.25%%)", c.p, got, c.want)
		}
	}
	for ns := int64(0); ns < 1<<20; ns = ns*5/4 + 1 {
		if i := histBucket(ns); histUpper(i) < ns || i > 0 && histUpper(i-1) >= ns {
			t.Fatalf("%d ns in bucket %d of upper bound %d (previous %d)", ns, i, histUpper(i), histUpper(i-1))
		}
	}
}

func TestSlowlog(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("CLIENT", "SETNAME", "app")
	r.do("CONFIG", "SET", "slowlog-log-slower-than", "0", "slowlog-max-len", "3")
	r.do("AUTH", "default", "secret") // never logged: it carries a password
	long := strings.Repeat("x", 200)
	r.do("SET", "k", long)
	got := r.do("SLOWLOG", "GET", "1")
	want := "*1\r\n*6\r\n:"
	if !strings.HasPrefix(got, want) || !strings.Contains(got, "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$147\r\n"+strings.Repeat("x", 128)+"... (72 more bytes)\r\n") || !strings.HasSuffix(got, "$"+strconv.Itoa(len(r.conn.LocalAddr().String()))+"\r\n"+r.conn.LocalAddr().String()+"\r\n$3\r\napp\r\n") {
		t.Fatalf("SLOWLOG GET 1 = %q", got)
	}
	args := []string{"DEL"}
	for i := range 40 {
		args = append(args, "k"+strconv.Itoa(i))
	}
	r.do(args...)
	if got := r.do("SLOWLOG", "GET", "1"); !strings.Contains(got, "*32\r\n$3\r\nDEL\r\n") || !strings.Contains(got, "$23\r\n... (10 more arguments)\r\n") {
		t.Fatalf("SLOWLOG of 41 arguments = %q", got)
	}
	if got := r.do("SLOWLOG", "LEN"); got != ":3\r\n" {
		t.Fatalf("SLOWLOG LEN with slowlog-max-len 3 = %q", got)
	}
	if strings.Contains(r.do("SLOWLOG", "GET", "-1"), "secret") {
		t.Fatalf("AUTH's password is in the slow log")
	}
	r.do("SLOWLOG", "RESET")
	if got := r.do("SLOWLOG", "LEN"); got != ":1\r\n" { // SLOWLOG RESET itself
		t.Fatalf("SLOWLOG LEN after RESET = %q", got)
	}
	r.do("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	r.do("SLOWLOG", "RESET")
	r.do("PING")
	if got := r.do("SLOWLOG", "LEN"); got != ":0\r\n" {
		t.Fatalf("SLOWLOG LEN with logging off = %q", got)
	}
}

func TestLatencyMonitor(t *testing.T) {
	ts := startServer(t, Config{})
	m := &ts.Server.adm.latency
	m.record("command", 1000, 5)
	m.record("command", 1000, 7) // same second: the larger stays
	m.record("command", 1002, 3)
	m.record("fast-command", 1001, 2)
	r := dialRaw(t, ts.addr)
	if got := r.do("LATENCY", "LATEST"); got != "*2\r\n*4\r\n$7\r\ncommand\r\n:1002\r\n:3\r\n:7\r\n*4\r\n$12\r\nfast-command\r\n:1001\r\n:2\r\n:2\r\n" {
		t.Errorf("LATENCY LATEST = %q", got)
	}
	if got := r.do("LATENCY", "HISTORY", "command"); got != "*2\r\n*2\r\n:1000\r\n:7\r\n*2\r\n:1002\r\n:3\r\n" {
		t.Errorf("LATENCY HISTORY command = %q", got)
	}
	if got := r.do("LATENCY", "DOCTOR"); !strings.Contains(got, "1. command: 2 latency spikes (average 5ms") {
		t.Errorf("LATENCY DOCTOR = %q", got)
	}
	for i := range latencySamples + 10 {
		m.record("x", int64(2000+i), 1)
	}
	if got := r.do("LATENCY", "HISTORY", "x"); !strings.HasPrefix(got, "*160\r\n*2\r\n:2010\r\n") {
		t.Errorf("LATENCY HISTORY keeps %d samples: %.40q", latencySamples, got)
	}
	if got := r.do("LATENCY", "RESET", "command", "nosuch"); got != ":1\r\n" {
		t.Errorf("LATENCY RESET command nosuch = %q", got)
	}
	if got := r.do("LATENCY", "RESET"); got != ":2\r\n" {
		t.Errorf("LATENCY RESET = %q", got)
	}
	// A command over the threshold is recorded: threshold 0 ms is off,
	// so use the monitor directly with a 1 ms threshold and a 2 ms call.
	m.threshold.Store(1)
	cmd := ts.Server.lookupFull([]byte("get"))
	m.maybeRecord(cmd, time.Unix(3000, 0), 2*time.Millisecond)
	m.maybeRecord(cmd, time.Unix(3001, 0), 500*time.Microsecond) // under it
	if got := r.do("LATENCY", "HISTORY", "fast-command"); got != "*1\r\n*2\r\n:3000\r\n:2\r\n" {
		t.Errorf("fast-command history = %q", got)
	}
	r.do("GET", "k")
	if got := r.do("LATENCY", "HISTOGRAM", "get", "nosuch"); !strings.HasPrefix(got, "*2\r\n$3\r\nget\r\n*4\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n") {
		t.Errorf("LATENCY HISTOGRAM get = %q", got)
	}
}

func TestClientReply(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.send(multibulk("CLIENT", "REPLY", "OFF") + multibulk("SET", "a", "1") + multibulk("NOSUCH") + multibulk("CLIENT", "REPLY", "ON"))
	if got := r.reply(); got != "+OK\r\n" {
		t.Fatalf("first reply after REPLY OFF … ON = %q, want ON's +OK", got)
	}
	r.send(multibulk("CLIENT", "REPLY", "SKIP") + multibulk("GET", "a") + multibulk("ECHO", "x"))
	if got := r.reply(); got != "$1\r\nx\r\n" {
		t.Fatalf("first reply after REPLY SKIP, GET = %q, want ECHO's", got)
	}
	if got := r.do("GET", "a"); got != "$1\r\n1\r\n" {
		t.Fatalf("the write under REPLY OFF did not run: %q", got)
	}
}

func TestClientKill(t *testing.T) {
	ts := startServer(t, Config{})
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	idB := strings.TrimSuffix(strings.TrimPrefix(b.do("CLIENT", "ID"), ":"), "\r\n")
	if got := a.do("CLIENT", "KILL", "ID", idB); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID %s = %q", idB, got)
	}
	b.expectEOF()
	c := dialRaw(t, ts.addr)
	c.do("PING")
	if got := a.do("CLIENT", "KILL", c.conn.LocalAddr().String()); got != "+OK\r\n" {
		t.Fatalf("CLIENT KILL addr (old form) = %q", got)
	}
	c.expectEOF()
	d := dialRaw(t, ts.addr)
	d.do("PING")
	if got := a.do("CLIENT", "KILL", "TYPE", "normal"); got != ":1\r\n" { // SKIPME yes
		t.Fatalf("CLIENT KILL TYPE normal = %q", got)
	}
	d.expectEOF()
	if got := a.do("CLIENT", "KILL", "USER", "default", "SKIPME", "no"); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL SKIPME no = %q", got)
	}
	a.expectEOF()
}

func TestClientPause(t *testing.T) {
	ts := startServer(t, Config{})
	admin, writer, reader := dialRaw(t, ts.addr), dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	if got := admin.do("CLIENT", "PAUSE", "100000", "WRITE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT PAUSE = %q", got)
	}
	writer.send(multibulk("SET", "k", "v"))
	if got := reader.do("GET", "k"); got != "$-1\r\n" { // reads go on, the write waits
		t.Fatalf("GET during a write pause = %q", got)
	}
	if got := admin.do("CLIENT", "UNPAUSE"); got != "+OK\r\n" {
		t.Fatalf("CLIENT UNPAUSE = %q", got)
	}
	if got := writer.reply(); got != "+OK\r\n" {
		t.Fatalf("the paused SET = %q", got)
	}
	if got := reader.do("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET after UNPAUSE = %q", got)
	}
}

func TestClientFlagsAndReset(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("CLIENT", "NO-EVICT", "ON")
	r.do("CLIENT", "NO-TOUCH", "ON")
	if got := r.do("CLIENT", "INFO"); !strings.Contains(got, " flags=eT ") {
		t.Fatalf("CLIENT INFO flags = %q", got)
	}
	if got := r.do("CLIENT", "TRACKING", "ON"); !strings.HasPrefix(got, "-ERR CLIENT TRACKING is not supported by dynakv: ") {
		t.Fatalf("CLIENT TRACKING ON = %q", got)
	}
	r.do("HELLO", "3", "SETNAME", "app")
	r.send(multibulk("CLIENT", "REPLY", "OFF"))
	if got := r.do("RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET = %q", got)
	}
	if got := r.do("CLIENT", "GETNAME"); got != "$-1\r\n" { // RESP2 again, no name
		t.Fatalf("CLIENT GETNAME after RESET = %q", got)
	}
	if got := r.do("CLIENT", "INFO"); !strings.Contains(got, " flags=N ") || !strings.Contains(got, " resp=2 ") {
		t.Fatalf("CLIENT INFO after RESET = %q", got)
	}
	ts2 := startServer(t, Config{RequirePass: "pw"})
	p := dialRaw(t, ts2.addr)
	p.do("AUTH", "pw")
	if got := p.do("RESET"); got != "+RESET\r\n" {
		t.Fatalf("RESET = %q", got)
	}
	if got := p.do("GET", "k"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("GET after RESET with requirepass = %q", got)
	}
}

func TestObjectAndMemory(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("SET", "n", "42")
	r.do("SET", "s", "hello")
	if got := r.do("OBJECT", "REFCOUNT", "n"); got != ":2147483647\r\n" {
		t.Errorf("OBJECT REFCOUNT of a shared integer = %q", got)
	}
	if got := r.do("OBJECT", "REFCOUNT", "s"); got != ":1\r\n" {
		t.Errorf("OBJECT REFCOUNT s = %q", got)
	}
	if got := r.do("OBJECT", "IDLETIME", "s"); got != ":0\r\n" {
		t.Errorf("OBJECT IDLETIME right after SET = %q", got)
	}
	ts.Server.adm.access.touch("s", time.Now().Add(-time.Minute))
	if got := r.do("OBJECT", "IDLETIME", "s"); got != ":60\r\n" {
		t.Errorf("OBJECT IDLETIME a minute after = %q", got)
	}
	r.do("CLIENT", "NO-TOUCH", "ON")
	r.do("GET", "s")
	if got := r.do("OBJECT", "IDLETIME", "s"); got != ":60\r\n" {
		t.Errorf("OBJECT IDLETIME after a NO-TOUCH GET = %q", got)
	}
	r.do("CLIENT", "NO-TOUCH", "OFF")
	r.do("GET", "s")
	if got := r.do("OBJECT", "IDLETIME", "s"); got != ":0\r\n" {
		t.Errorf("OBJECT IDLETIME after a GET = %q", got)
	}
	var l accessLog
	l.limit = 2
	l.touch("a", time.Unix(1, 0))
	l.touch("b", time.Unix(2, 0))
	l.touch("c", time.Unix(3, 0))
	if _, ok := l.last("a"); ok {
		t.Errorf("the access log keeps more than its limit")
	}
	o := ts.b.Object("s")
	want := len("s") + len(o.Encode()) + objectOverhead
	if got := r.do("MEMORY", "USAGE", "s", "SAMPLES", "0"); got != ":"+strconv.Itoa(want)+"\r\n" {
		t.Errorf("MEMORY USAGE s = %q, want %d", got, want)
	}
	if got := r.do("MEMORY", "STATS"); !strings.Contains(got, "$10\r\nkeys.count\r\n:2\r\n") {
		t.Errorf("MEMORY STATS = %q", got)
	}
	if got := r.do("MEMORY", "DOCTOR"); !strings.HasPrefix(got, "$") || !strings.Contains(got, "Sam") {
		t.Errorf("MEMORY DOCTOR = %q", got)
	}
}

func TestTime(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	got := r.do("TIME")
	m := regexp.MustCompile(`^\*2\r\n\$\d+\r\n(\d+)\r\n\$\d+\r\n(\d+)\r\n$`).FindStringSubmatch(got)
	if m == nil {
		t.Fatalf("TIME = %q", got)
	}
	if us, _ := strconv.Atoi(m[2]); us >= 1e6 {
		t.Fatalf("TIME microseconds %d >= 1e6", us)
	}
}

// replicatedBackend is the fake backend with three replicas for WAIT:
// n1 and n2 hold what the backend holds, n3 holds nothing.
type replicatedBackend struct{ *resptest.Backend }

func (b replicatedBackend) ReadAll(_ context.Context, key []byte) (map[string]crdt.Object, error) {
	o := b.Object(string(key))
	return map[string]crdt.Object{"n1": o, "n2": o, "n3": {}}, nil
}

func (b replicatedBackend) Config() coordinator.Config { return coordinator.Config{N: 3} }

func TestWait(t *testing.T) {
	clock := resptest.NewClock(startMs)
	s := New(Config{}, replicatedBackend{resptest.NewBackend("n1", clock.NowMs)}, nil)
	c := newConn(s, nil, "test", "test")
	run := func(args ...string) string {
		var argv [][]byte
		for _, a := range args {
			argv = append(argv, []byte(a))
		}
		c.out = c.out[:0]
		c.serve(argv)
		return string(c.out)
	}
	if got := run("WAIT", "2", "0"); got != ":2\r\n" { // no write yet: every replica
		t.Fatalf("WAIT before any write = %q", got)
	}
	run("SET", "k", "v")
	if got := run("WAIT", "1", "0"); got != ":1\r\n" { // n2 holds it
		t.Fatalf("WAIT 1 0 = %q", got)
	}
	if got := run("WAIT", "2", "1"); got != ":1\r\n" { // n3 never does
		t.Fatalf("WAIT 2 1 = %q", got)
	}
	if got := run("GET", "k"); got != "$1\r\nv\r\n" {
		t.Fatalf("GET = %q", got)
	}
	if len(c.adm.lastWrite) != 1 || string(c.adm.lastWrite[0].key) != "k" || !c.adm.lastWrite[0].local {
		t.Fatalf("last write = %+v", c.adm.lastWrite)
	}
}

// TestWaitInMulti: inside EXEC's block WAIT replies the replicas that
// hold the last write at once, as Redis does in MULTI, rather than wait
// for more (n3 never holds it).
func TestWaitInMulti(t *testing.T) {
	clock := resptest.NewClock(startMs)
	c := dialRaw(t, serveBackend(t, Config{}, replicatedBackend{resptest.NewBackend("n1", clock.NowMs)}))
	c.do("SET", "k", "v")
	c.do("MULTI")
	c.do("WAIT", "3", "0")
	c.do("WAIT", "-1", "0")
	if got := c.do("EXEC"); got != "*2\r\n:1\r\n:1\r\n" {
		t.Fatalf("EXEC [WAIT 3 0, WAIT -1 0] = %q", got)
	}
}

// TestWaitDeadline: WAIT's timeout in ms becomes a deadline, except 0 and
// timeouts too long for a time.Duration (no limit, as Redis's overflowed
// deadline never fires).
func TestWaitDeadline(t *testing.T) {
	now := time.Unix(1000, 0)
	for _, tc := range []struct {
		ms      int64
		want    time.Time
		limited bool
	}{
		{0, time.Time{}, false},
		{1, now.Add(time.Millisecond), true},
		{maxWaitMs, now.Add(time.Duration(maxWaitMs) * time.Millisecond), true},
		{maxWaitMs + 1, time.Time{}, false},
		{math.MaxInt64, time.Time{}, false},
	} {
		got, limited := waitDeadline(now, tc.ms)
		if !got.Equal(tc.want) || limited != tc.limited {
			t.Errorf("waitDeadline(%d) = %v, %v; want %v, %v", tc.ms, got, limited, tc.want, tc.limited)
		}
	}
}

// TestWaitKilled: a WAIT that cannot be satisfied (timeout 0: no limit)
// ends when CLIENT KILL closes its connection, so the server's Close does
// not wait for it forever.
func TestWaitKilled(t *testing.T) {
	clock := resptest.NewClock(startMs)
	s := New(Config{}, replicatedBackend{resptest.NewBackend("n1", clock.NowMs)}, nil)
	ln, err := netListen(t)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() {
		s.Close()
		<-done
	}()
	waiter, admin := dialRaw(t, ln.Addr().String()), dialRaw(t, ln.Addr().String())
	waiter.do("SET", "k", "v")
	id := strings.TrimSuffix(strings.TrimPrefix(waiter.do("CLIENT", "ID"), ":"), "\r\n")
	waiter.send(multibulk("WAIT", "3", "0")) // n3 never holds it
	if got := admin.do("CLIENT", "KILL", "ID", id); got != ":1\r\n" {
		t.Fatalf("CLIENT KILL ID = %q", got)
	}
	waiter.expectEOF()
}

func TestRateSampler(t *testing.T) {
	var r rateSampler
	t0 := time.Unix(1000, 0)
	if ops, _, _ := r.sample(t0, 100, 0, 0); ops != 0 {
		t.Fatalf("first sample: %d ops/s, want 0", ops)
	}
	if ops, _, _ := r.sample(t0.Add(50*time.Millisecond), 150, 0, 0); ops != 0 {
		t.Fatalf("a sample 50 ms later is not taken: %d ops/s", ops)
	}
	ops, in, out := r.sample(t0.Add(500*time.Millisecond), 600, 1024, 2048)
	if ops != 1000 || in != 2 || out != 4 {
		t.Fatalf("500 commands, 1 KiB in and 2 KiB out in 0.5 s: %d ops/s, %v and %v KiB/s", ops, in, out)
	}
}
