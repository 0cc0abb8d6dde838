package resp

import (
	"bufio"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/resp/resptest"
)

// TestConformanceTypes compares every command of issue 11 (strings,
// hashes, sets, TYPE, OBJECT ENCODING, SCAN TYPE, KEYS), error cases
// included, byte for byte with a real Redis 7 (redis-server from PATH)
// in RESP2 and in RESP3, over a fresh in-process server each time. The
// hash-field expiry commands (Redis 7.4) are left out when the reference
// is older (Debian's is 7.0); TestHashFieldExpiry covers them.
func TestConformanceTypes(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			n := conformance.Compare(t, ref, dut, conformance.Types, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}

// startServerAt is startServer with the fake clock at ms (the wall clock,
// to compare TTLs with a real Redis).
func startServerAt(t *testing.T, ms int64) *testServer {
	ts := startServer(t, Config{})
	ts.clock.Set(ms)
	return ts
}

var _ = resptest.NewClock

// TestConformanceCommandInfo compares, for every data command Redis 7.0
// knows, COMMAND INFO's name, arity, flags and key positions (first,
// last, step: what cluster clients route by) with a real Redis, and checks
// that COMMAND DOCS names its group and version as Redis does.
func TestConformanceCommandInfo(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	rc, rr := dialPair(t, redisAddr)
	oc, or := dialPair(t, ts.addr)
	n := 0
	for _, cmd := range dataCommands() {
		names := []string{cmd.Name}
		for _, sc := range cmd.Subcommands {
			names = append(names, cmd.Name+"|"+sc.Name)
		}
		for _, name := range names {
			want := exchange(t, rc, rr, []string{"COMMAND", "INFO", name})
			if want == "*1\r\n*-1\r\n" || want == "*1\r\n$-1\r\n" || cmd.Group == "dynamo" {
				continue // not in this Redis (7.4's HEXPIRE family, dynakv's own)
			}
			got := exchange(t, oc, or, []string{"COMMAND", "INFO", name})
			w, g := infoHead(t, want), infoHead(t, got)
			if w != g {
				t.Errorf("COMMAND INFO %s:\n redis: %q\n   ours: %q", name, w, g)
			}
			wd := docsHead(t, exchange(t, rc, rr, []string{"COMMAND", "DOCS", name}))
			gd := docsHead(t, exchange(t, oc, or, []string{"COMMAND", "DOCS", name}))
			if wd != gd {
				t.Errorf("COMMAND DOCS %s:\n redis: %q\n   ours: %q", name, wd, gd)
			}
			n++
		}
	}
	t.Logf("%d commands compared", n)
}

// infoHead renders the first six fields of a COMMAND INFO entry (flags
// sorted).
func infoHead(t *testing.T, raw string) string {
	n, err := conformance.ParseNode(bufio.NewReader(strings.NewReader(raw)))
	if err != nil || len(n.Kids()) != 1 || len(n.Kids()[0].Kids()) < 6 {
		t.Fatalf("COMMAND INFO reply %q", raw)
	}
	e := n.Kids()[0].Kids()
	var flags []string
	for _, f := range e[2].Kids() {
		flags = append(flags, f.String())
	}
	slices.Sort(flags)
	return e[0].String() + e[1].String() + strings.Join(flags, "") + e[3].String() + e[4].String() + e[5].String()
}

// docsHead renders the summary, since and group of a COMMAND DOCS reply.
func docsHead(t *testing.T, raw string) string {
	n, err := conformance.ParseNode(bufio.NewReader(strings.NewReader(raw)))
	if err != nil || len(n.Kids()) != 2 {
		t.Fatalf("COMMAND DOCS reply %q", raw)
	}
	m := n.Kids()[1].Kids()
	var out []string
	for i := 0; i+1 < len(m); i += 2 {
		switch k := m[i].String(); k {
		case "$7\r\nsummary\r\n", "$5\r\nsince\r\n", "$5\r\ngroup\r\n":
			out = append(out, k+m[i+1].String())
		}
	}
	slices.Sort(out)
	return strings.Join(out, "")
}

// incrByFloatScript: INCRBYFLOAT and HINCRBYFLOAT sequences with SET, DEL
// and INCRBY between them, whose results a float64 holds, compared with
// redis-server byte for byte (see TestConformanceIncrByFloat).
var incrByFloatScript = []string{
	"FLUSHALL",
	"SET f 10.5", "INCRBYFLOAT f 0.1", "GET f", "DEL f", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f 0.2", "GET f",
	"SET f 10.5", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f 0.1", "INCRBYFLOAT f -10.8",
	"SET f 1.1", "INCRBYFLOAT f 2.2", "SET f 0.1", "INCRBYFLOAT f 0.2",
	"SET f 5.0e3", "INCRBYFLOAT f 2.0e2",
	"INCRBYFLOAT g 1e22", "SET g 3", "INCRBYFLOAT g 1.5", "INCRBYFLOAT g 1e-20",
	"DEL g", "INCRBYFLOAT g 1e22", "DEL g", "INCRBYFLOAT g 0.3333333333333333", "INCRBYFLOAT g 0.3333333333333333",
	"DEL g", "INCRBYFLOAT g 1e17", "SET g 1", "INCRBYFLOAT g 1",
	"INCRBYFLOAT h 1e22", "INCRBYFLOAT h -1e22", "INCRBYFLOAT h 0.5",
	"SET i 0.01", "INCRBYFLOAT i 10.5", "INCRBYFLOAT i 0.2", "INCRBY i 1",
	"DEL i", "INCRBYFLOAT i 0.7", "INCRBY i 3", "INCRBYFLOAT i -0.1", "INCRBYFLOAT i -0.3", "GET i",
	"SET i -0", "INCRBYFLOAT i 0", "SET i 123456789012345678", "INCRBYFLOAT i 0",
	"HINCRBYFLOAT hh a 0.1", "HINCRBYFLOAT hh a 0.2", "HDEL hh a", "HINCRBYFLOAT hh a 0.1", "HINCRBYFLOAT hh a 0.7",
	"HSET hh b 10.5", "HINCRBYFLOAT hh b 0.1", "HINCRBYFLOAT hh b 0.1",
	"HINCRBYFLOAT hh c 1e22", "HSET hh c 3", "HINCRBYFLOAT hh c 1.5", "HGET hh c", "HDEL hh c", "HINCRBYFLOAT hh c 0.25",
}

// TestConformanceIncrByFloat sends incrByFloatScript to redis-server and
// to the server and compares the replies byte for byte.
func TestConformanceIncrByFloat(t *testing.T) { compareTwoConns(t, incrByFloatScript) }
