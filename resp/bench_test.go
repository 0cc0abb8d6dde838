package resp

import (
	"bufio"
	"fmt"
	"net"
	"runtime"
	"strconv"
	"testing"
	"time"
)

// benchKeys is the keyspace of the dispatch benchmarks, so SETs overwrite
// and GETs hit.
const benchKeys = 4096

// benchConn is a raw client connection that sends pre-encoded commands and
// skips replies without allocating, so the allocations reported are the
// server's (and the fake backend's).
type benchConn struct {
	conn net.Conn
	br   *bufio.Reader
}

func dialBench(b *testing.B, addr string) *benchConn {
	b.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close() })
	return &benchConn{conn: conn, br: bufio.NewReader(conn)}
}

// skipReply reads one simple, error, integer, null or bulk reply and
// fails on an error reply.
func (c *benchConn) skipReply() error {
	line, err := c.br.ReadSlice('\n')
	if err != nil {
		return err
	}
	switch line[0] {
	case '-':
		return fmt.Errorf("error reply %q", line)
	case '$':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil {
			return err
		}
		if n >= 0 {
			_, err = c.br.Discard(n + 2)
		}
		return err
	}
	return nil
}

// roundTrip writes cmds (whole encoded commands) and reads n replies.
func (c *benchConn) roundTrip(cmds []byte, n int) error {
	if _, err := c.conn.Write(cmds); err != nil {
		return err
	}
	for range n {
		if err := c.skipReply(); err != nil {
			return err
		}
	}
	return nil
}

// encodedCommands returns depth commands, as a client sends them, on keys
// from i on: SET key value or GET key.
func encodedCommands(get bool, i, depth int) []byte {
	var out []byte
	for j := range depth {
		key := fmt.Sprintf("key:%012d", (i+j)%benchKeys)
		if get {
			out = fmt.Appendf(out, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
		} else {
			out = fmt.Appendf(out, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$3\r\nxxx\r\n", len(key), key)
		}
	}
	return out
}

// BenchmarkDispatch: SET and GET through a Server on loopback TCP with the
// resptest fake backend, which keeps objects in a map: framing, parsing,
// dispatch, the command's code and the reply, without the coordinator or
// the store. An op is one command and its reply on one connection;
// "pipeline16" sends 16 commands before reading their replies (an op is
// then the batch of 16); "parallel" runs GOMAXPROCS connections. Run with
// `go test -run '^$' -bench Dispatch -benchtime 2000x ./resp/`.
func BenchmarkDispatch(b *testing.B) {
	const batches = 256 // pre-encoded command sequences, cycled
	for _, cmd := range []string{"set", "get"} {
		get := cmd == "get"
		for _, mode := range []string{"", "/pipeline16", "/parallel"} {
			depth := 1
			if mode == "/pipeline16" {
				depth = 16
			}
			b.Run(cmd+mode, func(b *testing.B) {
				ts := startServer(b, Config{})
				fill := dialBench(b, ts.addr)
				if err := fill.roundTrip(encodedCommands(false, 0, benchKeys), benchKeys); err != nil {
					b.Fatal(err)
				}
				seqs := make([][]byte, batches)
				for i := range seqs {
					seqs[i] = encodedCommands(get, i*depth*7, depth)
				}
				b.ReportAllocs()
				if mode != "/parallel" {
					c := dialBench(b, ts.addr)
					for i := 0; b.Loop(); i++ {
						if err := c.roundTrip(seqs[i%batches], depth); err != nil {
							b.Fatal(err)
						}
					}
					return
				}
				conns := make(chan *benchConn, runtime.GOMAXPROCS(0))
				for range cap(conns) {
					conns <- dialBench(b, ts.addr)
				}
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					c := <-conns
					for i := 0; pb.Next(); i++ {
						if err := c.roundTrip(seqs[i%batches], depth); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
		}
	}
}
