package resp

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/resp/resptest"
	"github.com/redis/go-redis/v9"
)

var _ Backend = (*resptest.Backend)(nil)

// startMs is the fake clock's start: 2023-11-14T22:13:20Z.
const startMs = 1_700_000_000_000

type testServer struct {
	*Server
	b     *resptest.Backend
	clock *resptest.Clock
	addr  string
}

// startServer serves a fresh fake backend on 127.0.0.1:0 until the test
// ends, after running each of before on the server (before Serve).
func startServer(t testing.TB, cfg Config, before ...func(*Server) error) *testServer {
	t.Helper()
	clock := resptest.NewClock(startMs)
	b := resptest.NewBackend("n1", clock.NowMs)
	s := New(cfg, b, nil)
	for _, f := range before { // e.g. Register, which must precede Serve
		if err := f(s); err != nil {
			t.Fatal(err)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := <-done; !errors.Is(err, ErrServerClosed) {
			t.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
	})
	return &testServer{Server: s, b: b, clock: clock, addr: ln.Addr().String()}
}

// client returns a go-redis client speaking protocol proto (2 or 3).
func (ts *testServer) client(t testing.TB, proto int, password string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{
		Addr:            ts.addr,
		Protocol:        proto,
		Password:        password,
		MaxRetries:      -1,
		PoolSize:        2,
		DialTimeout:     5 * time.Second,
		ReadTimeout:     5 * time.Second,
		WriteTimeout:    5 * time.Second,
		ConnMaxIdleTime: time.Minute,
	})
	t.Cleanup(func() { c.Close() })
	return c
}

// forProtocols runs f against go-redis clients of RESP2 and RESP3.
func forProtocols(t *testing.T, f func(t *testing.T, ts *testServer, c *redis.Client)) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServer(t, Config{})
			f(t, ts, ts.client(t, proto, ""))
		})
	}
}

// rawClient speaks raw bytes to the server.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (r *rawClient) send(s string) {
	r.t.Helper()
	_ = r.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(r.conn, s); err != nil {
		r.t.Fatalf("write: %v", err)
	}
}

// reply reads one whole reply, returned raw.
func (r *rawClient) reply() string {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := readReply(r.br)
	if err != nil {
		r.t.Fatalf("read reply: %v (got %q)", err, s)
	}
	return s
}

// do sends a command as a multibulk and returns the raw reply.
func (r *rawClient) do(args ...string) string {
	r.t.Helper()
	r.send(multibulk(args...))
	return r.reply()
}

// expectEOF checks that the server closed the connection.
func (r *rawClient) expectEOF() {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	b, err := r.br.ReadByte()
	if err == nil {
		rest, _ := r.br.Peek(r.br.Buffered())
		r.t.Fatalf("expected EOF, got %q", append([]byte{b}, rest...))
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		r.t.Fatalf("expected EOF, timed out")
	}
}

func multibulk(args ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return b.String()
}

// readReply reads one RESP2 or RESP3 reply and returns its raw bytes.
func readReply(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return line, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return line, fmt.Errorf("bad line %q", line)
	}
	body := line[1 : len(line)-2]
	n := func() (int, error) { return strconv.Atoi(body) }
	switch line[0] {
	case '+', '-', ':', '_', ',', '#', '(':
		return line, nil
	case '$', '=', '!':
		k, err := n()
		if err != nil || k < -1 {
			return line, fmt.Errorf("bad length %q", line)
		}
		if k == -1 {
			return line, nil
		}
		data := make([]byte, k+2)
		if _, err := io.ReadFull(br, data); err != nil {
			return line, err
		}
		if !bytes.HasSuffix(data, []byte("\r\n")) {
			return line, fmt.Errorf("bulk without CRLF")
		}
		return line + string(data), nil
	case '*', '~', '>', '%', '|':
		k, err := n()
		if err != nil || k < -1 {
			return line, fmt.Errorf("bad length %q", line)
		}
		if line[0] == '%' || line[0] == '|' {
			k *= 2
		}
		out := line
		for i := 0; i < k; i++ {
			sub, err := readReply(br)
			out += sub
			if err != nil {
				return out, err
			}
		}
		return out, nil
	}
	return line, fmt.Errorf("unknown type %q", line)
}

// errText returns err's message, or "" for nil.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

var bg = context.Background()

func netListen(t testing.TB) (net.Listener, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, nil
}
