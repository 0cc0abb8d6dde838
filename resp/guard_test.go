package resp

import (
	"bytes"
	"net"
	"strings"
	"testing"
	"time"
)

func protoErr(msg string) string { return "-ERR Protocol error: " + msg + "\r\n" }

func TestGuardMalformed(t *testing.T) {
	ts := startServer(t, Config{})
	tests := []struct {
		name  string
		in    string
		want  []string // replies, the last one the protocol error
		alive bool     // the connection stays open (no violation)
	}{
		{"negative bulk length", "*1\r\n$-1\r\n", []string{protoErr("invalid bulk length")}, false},
		{"max int64 bulk length", "*1\r\n$9223372036854775807\r\n", []string{protoErr("invalid bulk length")}, false},
		{"overflowing bulk length", "*1\r\n$99999999999999999999\r\n", []string{protoErr("invalid bulk length")}, false},
		{"very long bulk length", "*1\r\n$" + strings.Repeat("9", 1000) + "\r\n", []string{protoErr("invalid bulk length")}, false},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", []string{protoErr("invalid bulk length")}, false},
		{"empty bulk length", "*1\r\n$\r\n", []string{protoErr("invalid bulk length")}, false},
		{"bulk length with plus", "*1\r\n$+4\r\nPING\r\n", []string{protoErr("invalid bulk length")}, false},
		{"bulk length with leading zero", "*1\r\n$04\r\nPING\r\n", []string{protoErr("invalid bulk length")}, false},
		{"bulk length over limit", "*1\r\n$536870913\r\n", []string{protoErr("invalid bulk length")}, false},
		{"bulk length without LF", "*1\r\n$4\rPING\r\n", []string{protoErr("invalid bulk length")}, false},
		{"max int64 count", "*9223372036854775807\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"overflowing count", "*99999999999999999999\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"count over limit", "*1048577\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"non-numeric count", "*x\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"empty count", "*\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"count without LF", "*1\r$4\r\nPING\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"count with LF only", "*1\n$4\r\nPING\r\n", []string{protoErr("invalid multibulk length")}, false},
		{"expected dollar", "*1\r\nx3\r\nfoo\r\n", []string{protoErr("expected '$', got 'x'")}, false},
		{"garbage instead of CRLF", "*1\r\n$3\r\nfooXY", []string{protoErr("expected CRLF after bulk data")}, false},
		{"CR without LF after data", "*1\r\n$3\r\nfoo\rX", []string{protoErr("expected CRLF after bulk data")}, false},
		{"binary garbage", "*\x00\xff\xfe\x01", []string{protoErr("invalid multibulk length")}, false},
		{"unbalanced quotes", "SET \"a b\r\n", []string{protoErr("unbalanced quotes in request")}, false},
		{"quote inside argument", "SET a\"b c\r\n", []string{protoErr("unbalanced quotes in request")}, false},
		{"endless inline line", strings.Repeat("a", 70000), []string{protoErr("too big inline request")}, false},
		{
			"valid commands before a bad one",
			"PING\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n*1\r\n$-5\r\n",
			[]string{"+PONG\r\n", "+PONG\r\n", "$2\r\nhi\r\n", protoErr("invalid bulk length")},
			false,
		},
		{
			"valid commands before garbage data",
			"*1\r\n$4\r\nPING\r\nECHO x\r\n*2\r\n$4\r\nECHO\r\n$3\r\nabcdef",
			[]string{"+PONG\r\n", "$1\r\nx\r\n", protoErr("expected CRLF after bulk data")},
			false,
		},
		{"empty commands are no-ops", "*0\r\n*-1\r\n*-2\r\n\r\n   \r\nPING\r\n", []string{"+PONG\r\n"}, true},
		{"inline with quotes", "ECHO \"a\\tb\" 'c'\r\n", []string{"-ERR wrong number of arguments for 'echo' command\r\n"}, true},
		{"inline quoted argument", "ECHO \"x y\\n\"\r\n", []string{"$4\r\nx y\n\r\n"}, true},
		{"inline with LF only", "PING\nPING\n", []string{"+PONG\r\n", "+PONG\r\n"}, true},
		{"binary inline is a command", "\x01\xff a\r\n", []string{"-ERR unknown command '\x01\xff', with args beginning with: 'a' \r\n"}, true},
		{"dollar line is inline", "$3\r\n", []string{"-ERR unknown command '$3', with args beginning with: \r\n"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, ts.addr)
			r.send(tc.in)
			for _, want := range tc.want {
				if got := r.reply(); got != want {
					t.Fatalf("reply %q, want %q", got, want)
				}
			}
			if tc.alive {
				if got := r.do("PING"); got != "+PONG\r\n" {
					t.Fatalf("PING after: %q", got)
				}
			} else {
				r.expectEOF()
			}
			// The server is still there for others.
			if got := dialRaw(t, ts.addr).do("PING"); got != "+PONG\r\n" {
				t.Fatalf("PING on a new connection: %q", got)
			}
		})
	}
}

func TestGuardSmallLimits(t *testing.T) {
	ts := startServer(t, Config{MaxBulkLen: 16, MaxArgs: 4, MaxInlineLen: 32, MaxQueryBuffer: 64})
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bulk at limit", multibulk("ECHO", strings.Repeat("x", 16)), "$16\r\n" + strings.Repeat("x", 16) + "\r\n"},
		{"bulk over limit", multibulk("ECHO", strings.Repeat("x", 17)), protoErr("invalid bulk length")},
		{"args at limit", multibulk("DEL", "a", "b", "c"), ":0\r\n"},
		{"args over limit", multibulk("DEL", "a", "b", "c", "d"), protoErr("invalid multibulk length")},
		{"inline at limit", "ECHO" + strings.Repeat(" ", 11) + strings.Repeat("y", 16) + "\r\n", "$16\r\n" + strings.Repeat("y", 16) + "\r\n"},
		{"inline over limit", "ECHO" + strings.Repeat(" ", 12) + strings.Repeat("y", 16) + "\r\n", protoErr("too big inline request")},
		{"inline argument over bulk limit", "ECHO " + strings.Repeat("y", 17) + "\r\n", protoErr("invalid bulk length")},
		{"inline with too many args", "DEL a b c d\r\n", protoErr("invalid multibulk length")},
		{"query buffer", multibulk("MSET", strings.Repeat("k", 16), strings.Repeat("v", 16), "k2"), protoErr("query buffer limit exceeded")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := dialRaw(t, ts.addr)
			r.send(tc.in)
			if got := r.reply(); got != tc.want {
				t.Fatalf("reply %q, want %q", got, tc.want)
			}
			if strings.HasPrefix(tc.want, "-ERR Protocol") {
				r.expectEOF()
			}
		})
	}
}

// A command trickling in one byte at a time is assembled whole.
func TestGuardTrickle(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	in := multibulk("SET", "k", "v") + "GET k\r\n"
	for i := 0; i < len(in); i++ {
		r.send(in[i : i+1])
	}
	if got := r.reply(); got != "+OK\r\n" {
		t.Fatalf("SET: %q", got)
	}
	if got := r.reply(); got != "$1\r\nv\r\n" {
		t.Fatalf("GET: %q", got)
	}
}

func TestGuardLargeValue(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 3, "")
	val := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	if err := c.Set(bg, "big", val, 0).Err(); err != nil {
		t.Fatal(err)
	}
	got, err := c.Get(bg, "big").Bytes()
	if err != nil || !bytes.Equal(got, val) {
		t.Fatalf("GET big: %d bytes, %v", len(got), err)
	}
}

func TestMaxClients(t *testing.T) {
	ts := startServer(t, Config{MaxClients: 2})
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	for _, r := range []*rawClient{a, b} {
		if got := r.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING: %q", got)
		}
	}
	c := dialRaw(t, ts.addr)
	if got := c.reply(); got != "-ERR max number of clients reached\r\n" {
		t.Fatalf("third client: %q", got)
	}
	c.expectEOF()
	if got := a.do("INFO", "stats"); !strings.Contains(got, "rejected_connections:1\r\n") {
		t.Fatalf("INFO stats: %q", got)
	}
	if got := a.do("INFO", "clients"); !strings.Contains(got, "connected_clients:2\r\n") || !strings.Contains(got, "maxclients:2\r\n") {
		t.Fatalf("INFO clients: %q", got)
	}
	// A slot frees when a client leaves.
	b.conn.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := dialRaw(t, ts.addr)
		if got := d.do("PING"); got == "+PONG\r\n" {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("no slot freed: %q", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 300 * time.Millisecond})
	r := dialRaw(t, ts.addr)
	if got := r.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	start := time.Now()
	r.expectEOF()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("closed after %v, before the idle timeout", d)
	}
	// Busy clients are not idle: each command resets the deadline.
	r2 := dialRaw(t, ts.addr)
	for i := 0; i < 5; i++ {
		time.Sleep(30 * time.Millisecond)
		if got := r2.do("PING"); got != "+PONG\r\n" {
			t.Fatalf("PING %d: %q", i, got)
		}
	}
}

func TestCloseWaitsAndRefuses(t *testing.T) {
	clockless := New(Config{}, nil, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- clockless.Serve(ln) }()
	r := dialRaw(t, ln.Addr().String())
	if got := r.do("PING"); got != "+PONG\r\n" {
		t.Fatalf("PING: %q", got)
	}
	if err := clockless.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != ErrServerClosed {
		t.Fatalf("Serve: %v", err)
	}
	r.expectEOF()
	if _, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		t.Fatal("still accepting after Close")
	}
	ln2, _ := net.Listen("tcp", "127.0.0.1:0")
	if err := clockless.Serve(ln2); err != ErrServerClosed {
		t.Fatalf("Serve after Close: %v", err)
	}
	if err := clockless.Register(Command{Name: "x", Arity: 1, Handler: cmdPing}, false); err != ErrServing {
		t.Fatalf("Register after Serve: %v", err)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (&Config{}).Validate(); err == nil {
		t.Fatal("validate accepts a Config without defaults")
	}
	c := Config{}
	c.EnsureDefaults()
	if err := c.Validate(); err != nil {
		t.Fatalf("zero Config with defaults: %v", err)
	}
	bad := []Config{
		{MaxClients: -1},
		{IdleTimeout: -time.Second},
		{MaxArgs: 1 << 40},
		{InfoSections: []InfoSection{{Name: "server", Fields: func() []InfoField { return nil }}}},
		{InfoSections: []InfoSection{{Name: "Cluster", Fields: func() []InfoField { return nil }}}},
		{InfoSections: []InfoSection{{Name: "cluster"}}},
	}
	for i, cfg := range bad {
		s := New(cfg, nil, nil)
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		if err := s.Serve(ln); err == nil || !strings.Contains(err.Error(), "invalid config") {
			t.Errorf("config %d: Serve = %v, want ErrConfig", i, err)
		}
	}
}
