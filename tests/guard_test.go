package tests

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestMalformedInputNeverKillsTheProcess sends malformed and oversized
// requests over raw TCP to a real process: each gets a protocol error and a
// closed connection, and the process keeps serving.
func TestMalformedInputNeverKillsTheProcess(t *testing.T) {
	heavy(t)
	p := StartServer(t, "n1")
	cases := []struct{ name, in, want string }{
		{"huge bulk length", "*1\r\n$9223372036854775807\r\n", "-ERR Protocol error: invalid bulk length"},
		{"overflowing bulk length", "*1\r\n$99999999999999999999\r\n", "-ERR Protocol error: invalid bulk length"},
		{"negative bulk length", "*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length"},
		{"non-numeric bulk length", "*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length"},
		{"huge argument count", "*2147483648\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"overflowing argument count", "*99999999999999999999999\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"missing dollar", "*1\r\nxyz\r\n", "-ERR Protocol error: expected '$', got 'x'"},
		{"garbage after bulk", "*1\r\n$3\r\nfooXY", "-ERR Protocol error"},
		{"endless inline line", strings.Repeat("a", 200<<10), "-ERR Protocol error: too big inline request"},
		{"valid then bad", "PING\r\n*1\r\n$4\r\nPING\r\n*1\r\n$-9\r\n", "+PONG\r\n+PONG\r\n-ERR Protocol error: invalid bulk length"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", p.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			conn.SetDeadline(time.Now().Add(10 * time.Second))
			go func() { io.WriteString(conn, tc.in) }()
			got, _ := io.ReadAll(bufio.NewReader(conn)) // until the server closes
			if !strings.HasPrefix(string(got), tc.want) {
				t.Fatalf("reply %q, want prefix %q", got, tc.want)
			}
		})
	}
	garbage := make([]byte, 64<<10)
	for i := range garbage {
		garbage[i] = byte(i*131 + i>>3)
	}
	if conn, err := net.Dial("tcp", p.Addr); err == nil {
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		conn.Write(garbage)
		io.ReadAll(conn)
		conn.Close()
	}
	if !p.Alive() {
		t.Fatalf("process died:\n%s", p.Log())
	}
	c := p.Client(t)
	if err := c.Ping(ctxT(t)).Err(); err != nil {
		t.Fatalf("PING after malformed input: %v", err)
	}
}
