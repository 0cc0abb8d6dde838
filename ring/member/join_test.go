package member

import (
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/syncbuf"
	"github.com/dynakv/dynakv/ring/member/membertest"
	"github.com/hashicorp/memberlist"
)

// silentPeer listens at addr on nw and accepts every stream without ever
// reading or answering, as a port where nothing speaks memberlist (a RESP
// port waiting for the end of an inline command). Each accepted stream is
// sent on accepted. hangUp closes them all (idempotent); it runs at
// cleanup, and a test whose node may be stuck in a join (before the fix)
// registers it again after starting the node, so it runs before the
// node's Shutdown.
func silentPeer(t *testing.T, nw *membertest.Network, addr string) (accepted <-chan net.Conn, hangUp func()) {
	tr := nw.MustListen(addr)
	acc := make(chan net.Conn, 16)
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		for {
			select {
			case c := <-tr.StreamCh():
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
				acc <- c
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	hangUp = func() {
		once.Do(func() {
			close(done)
			_ = tr.Shutdown()
			mu.Lock()
			defer mu.Unlock()
			for _, c := range conns {
				_ = c.Close()
			}
		})
	}
	t.Cleanup(hangUp)
	return acc, hangUp
}

// within runs f and fails the test if it does not return within waitLimit.
func within(t *testing.T, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() { defer close(done); f() }()
	select {
	case <-done:
	case <-time.After(waitLimit):
		t.Fatalf("%s did not return within %v", what, waitLimit)
	}
}

// TestJoinSilentAddressDoesNotBlock: a Join to an address that accepts and
// never answers holds no lock, so Leave and Shutdown called meanwhile
// return at once (no answer could end the join: TCPTimeout is an hour),
// Shutdown ends the Join, and the Join reports ErrClosed.
func TestJoinSilentAddressDoesNotBlock(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	accepted, hangUp := silentPeer(t, nw, "127.0.0.1:7009")
	a := start(t, nw, "a", "127.0.0.1:7001", nil, func(c *Config) { c.TCPTimeout = time.Hour })
	t.Cleanup(hangUp) // before a's Shutdown, should the test fail

	joined := make(chan error, 1)
	go func() {
		_, err := a.m.Join([]string{"127.0.0.1:7009"})
		joined <- err
	}()
	select {
	case <-accepted: // the join is waiting on the silent peer
	case err := <-joined:
		t.Fatalf("Join returned before the silent peer accepted: %v", err)
	case <-time.After(waitLimit):
		t.Fatal("the silent peer never got the join's connection")
	}
	within(t, "Leave during a Join", func() {
		if err := a.m.Leave(time.Second); err != nil {
			t.Errorf("Leave during a Join = %v", err)
		}
	})
	within(t, "Shutdown during a Join", func() {
		if err := a.m.Shutdown(); err != nil {
			t.Errorf("Shutdown during a Join = %v", err)
		}
	})
	// Shutdown waited for the Join: its result is there.
	select {
	case err := <-joined:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Join ended by Shutdown = %v, want ErrClosed", err)
		}
	default:
		t.Error("Shutdown returned before the Join it ended")
	}
	if _, err := a.m.Join([]string{"127.0.0.1:7009"}); !errors.Is(err, ErrClosed) {
		t.Errorf("Join after Shutdown = %v, want ErrClosed", err)
	}
}

// TestJoinSilentAddressTimesOut: without Shutdown, a Join to an address
// that never answers fails after TCPTimeout with ErrJoin, naming the
// address and saying it may be no gossip port.
func TestJoinSilentAddressTimesOut(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	_, hangUp := silentPeer(t, nw, "127.0.0.1:7009")
	a := start(t, nw, "a", "127.0.0.1:7001", nil, func(c *Config) { c.TCPTimeout = 50 * time.Millisecond })
	t.Cleanup(hangUp)
	var err error
	within(t, "Join of a silent address", func() { _, err = a.m.Join([]string{"127.0.0.1:7009"}) })
	if !errors.Is(err, ErrJoin) || errors.Is(err, ErrClosed) {
		t.Fatalf("Join of a silent address = %v, want ErrJoin", err)
	}
	for _, want := range []string{"127.0.0.1:7009", "gossip port", "failed to join 127.0.0.1:7009"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Join error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("Join error %q is not one line", err)
	}
}

// TestStreamsAfterShutdown: once the transport wrapper has shut down, a
// dial fails at once, and a stream dialed before is closed.
func TestStreamsAfterShutdown(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	accepted, _ := silentPeer(t, nw, "127.0.0.1:7009")
	s := newStreams(nw.MustListen("127.0.0.1:7001"))
	c, err := s.DialAddressTimeout(memberlist.Address{Addr: "127.0.0.1:7009"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	<-accepted
	if err := s.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err == nil {
		t.Error("write on a stream after Shutdown succeeded")
	}
	if _, err := s.DialAddressTimeout(memberlist.Address{Addr: "127.0.0.1:7009"}, time.Hour); !errors.Is(err, errStreamsClosed) {
		t.Errorf("dial after Shutdown = %v, want errStreamsClosed", err)
	}
}

// TestStartSilentSeedWarns: a node whose only seed never answers starts
// alone once its join attempts have timed out (TCPTimeout each), and its
// warning says why: the seed's address and the question whether it is a
// gossip port.
func TestStartSilentSeedWarns(t *testing.T) {
	t.Parallel()
	nw := membertest.NewNetwork()
	_, hangUp := silentPeer(t, nw, "127.0.0.1:7009")
	var logs syncbuf.Buffer
	b := start(t, nw, "b", "127.0.0.1:7002", []string{"127.0.0.1:7009"}, func(c *Config) {
		c.TCPTimeout = 20 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	t.Cleanup(hangUp)
	if ms := b.m.Members(); len(ms) != 1 {
		t.Errorf("b has members %v, want itself alone", ms)
	}
	got := logs.String()
	for _, want := range []string{"no seed reachable", "failed to join 127.0.0.1:7009", "gossip port"} {
		if !strings.Contains(got, want) {
			t.Errorf("start log lacks %q:\n%s", want, got)
		}
	}
}
