package node

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/dynakv/dynakv/replica"
)

// errForward reports a forwarded command that got no reply.
var errForward = errors.New("node: forward")

// forwarder keeps raw RESP connections to other nodes for
// resp.Cluster.Forward: a client command is written as is, and the one
// reply it gets is returned as raw RESP2 bytes, never decoded.
//
// NB: this is the stand-in until the peer package's client forwards raw;
// it keeps at most maxIdle idle connections per address and dials anew
// past that. Safe for concurrent use.
type forwarder struct {
	secret string
	mu     sync.Mutex
	idle   map[string][]*rawConn // by address
	closed bool
}

const maxIdle = 16

type rawConn struct {
	nc net.Conn
	br *bufio.Reader
}

// newForwarder returns a forwarder whose connections are closed when ctx
// ends (the node's life).
func newForwarder(ctx context.Context, secret string) *forwarder {
	f := &forwarder{secret: secret, idle: map[string][]*rawConn{}}
	context.AfterFunc(ctx, f.close)
	return f
}

// do sends args to addr and returns the raw reply; timeout bounds the
// whole call (sooner if ctx has an earlier deadline).
func (f *forwarder) do(ctx context.Context, addr string, timeout time.Duration, args [][]byte) ([]byte, error) {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	rc, err := f.get(ctx, addr, deadline)
	if err != nil {
		return nil, err
	}
	if err := rc.nc.SetDeadline(deadline); err != nil {
		rc.nc.Close()
		return nil, fmt.Errorf("%w: %s: %w", errForward, addr, err)
	}
	rep, err := rc.call(args)
	if err != nil {
		rc.nc.Close()
		return nil, fmt.Errorf("%w: %s: %w", errForward, addr, err)
	}
	f.put(addr, rc)
	return rep, nil
}

// get returns an idle connection to addr or dials and authenticates one.
func (f *forwarder) get(ctx context.Context, addr string, deadline time.Time) (*rawConn, error) {
	f.mu.Lock()
	if l := f.idle[addr]; len(l) > 0 {
		rc := l[len(l)-1]
		f.idle[addr] = l[:len(l)-1]
		f.mu.Unlock()
		return rc, nil
	}
	f.mu.Unlock()
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errForward, err)
	}
	rc := &rawConn{nc: nc, br: bufio.NewReader(nc)}
	_ = nc.SetDeadline(deadline)
	rep, err := rc.call([][]byte{[]byte(replica.CmdAuth), []byte(f.secret)})
	if err == nil && !bytes.Equal(rep, []byte("+OK\r\n")) {
		err = fmt.Errorf("peer connection refused: %s", bytes.TrimSpace(bytes.TrimPrefix(rep, []byte("-"))))
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%w: %s: %w", errForward, addr, err)
	}
	return rc, nil
}

func (f *forwarder) put(addr string, rc *rawConn) {
	_ = rc.nc.SetDeadline(time.Time{})
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || len(f.idle[addr]) >= maxIdle {
		rc.nc.Close()
		return
	}
	f.idle[addr] = append(f.idle[addr], rc)
}

// close closes the idle connections.
func (f *forwarder) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	for addr, l := range f.idle {
		for _, rc := range l {
			rc.nc.Close()
		}
		delete(f.idle, addr)
	}
}

// call writes args as a RESP array of bulk strings and reads one reply.
func (rc *rawConn) call(args [][]byte) ([]byte, error) {
	b := make([]byte, 0, 64)
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(len(args)), 10)
	b = append(b, "\r\n"...)
	for _, a := range args {
		b = append(b, '$')
		b = strconv.AppendInt(b, int64(len(a)), 10)
		b = append(b, "\r\n"...)
		b = append(b, a...)
		b = append(b, "\r\n"...)
	}
	if _, err := rc.nc.Write(b); err != nil {
		return nil, err
	}
	return readReply(rc.br, nil, 0)
}

// readReply appends one complete RESP2 reply read from br to out.
func readReply(br *bufio.Reader, out []byte, depth int) ([]byte, error) {
	if depth > 32 {
		return nil, errors.New("reply nested too deep")
	}
	line, err := br.ReadBytes('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' {
		return nil, fmt.Errorf("bad reply line %q", line)
	}
	out = append(out, line...)
	switch line[0] {
	case '+', '-', ':':
		return out, nil
	case '$', '*':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || n < -1 {
			return nil, fmt.Errorf("bad reply length %q", line)
		}
		if n == -1 {
			return out, nil
		}
		if line[0] == '$' {
			start := len(out)
			out = append(out, make([]byte, n+2)...)
			if _, err := io.ReadFull(br, out[start:]); err != nil {
				return nil, err
			}
			return out, nil
		}
		for range n {
			if out, err = readReply(br, out, depth+1); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("bad reply type %q", line[0])
}
