package peerclient_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/resp/resptest"
)

const secret = "s3cret"

// slowStore delays every Get by delay, or until the test ends.
type slowStore struct {
	peer.Store
	delay time.Duration
	done  <-chan struct{}
}

func (s slowStore) Get(ctx context.Context, key []byte) (crdt.Object, error) {
	select {
	case <-time.After(s.delay):
	case <-s.done:
	}
	return s.Store.Get(ctx, key)
}

// node serves a real store's internal commands (Gets delayed by getDelay)
// and a resptest backend's client commands; it returns the store and the
// address.
func node(t *testing.T, getDelay time.Duration) (*replica.Store, string) {
	t.Helper()
	store, err := replica.Open(replica.Config{Dir: "/s", FS: vfs.NewMem(), NodeID: "n1", SweepInterval: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	clock := resptest.NewClock(1_700_000_000_000)
	s := resp.New(resp.Config{ClusterSecret: secret}, resptest.NewBackend("n1", clock.NowMs), nil)
	if err := peerserver.Register(s, peer.Local{Store: slowStore{Store: store, delay: getDelay, done: done}}); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	t.Cleanup(func() {
		close(done)
		_ = s.Close()
		<-served
		_ = store.Close()
	})
	return store, ln.Addr().String()
}

func client(t *testing.T, addr string, timeout time.Duration) *peerclient.Client {
	t.Helper()
	c, err := peerclient.New(peerclient.Config{ID: "n1", Addr: addr, Secret: secret, Timeout: timeout, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func object(actor string, v []byte) crdt.Object {
	return crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: actor, Counter: 1}, Value: v}))
}

// TestCallHonoursRequestDeadline is issue 10's fault 1: a peer that
// answers after 1.5 s serves a request whose deadline is 3 s away, though
// the client's own timeout (for calls without a deadline) is the old fixed
// 1 s. The old go-redis client (replica.Remote) failed it at 1 s, its
// socket timeout.
func TestCallHonoursRequestDeadline(t *testing.T) {
	store, addr := node(t, 1500*time.Millisecond)
	want := object("n2", []byte("v"))
	if err := store.Merge(context.Background(), []byte("k"), want); err != nil {
		t.Fatal(err)
	}
	c := client(t, addr, time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	got, err := c.Get(ctx, []byte("k"))
	if err != nil || !crdt.Equal(got, want) {
		t.Fatalf("Get under a 3 s deadline from a peer answering in 1.5 s = %+v, %v", got, err)
	}
}

// TestCallEndsAtRequestDeadline: a deadline shorter than the client's
// timeout ends the call at the deadline, with an error wrapping
// peer.ErrRemote and context.DeadlineExceeded, and the client keeps
// working afterwards (the aborted connection is not reused).
func TestCallEndsAtRequestDeadline(t *testing.T) {
	_, addr := node(t, time.Hour)
	c := client(t, addr, time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Get(ctx, []byte("k"))
	if !errors.Is(err, peer.ErrRemote) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get past its deadline: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("Get took %v under a 200 ms deadline", d)
	}
	if err := c.Merge(context.Background(), []byte("k"), object("n2", []byte("v"))); err != nil {
		t.Fatalf("Merge after an aborted call: %v", err)
	}
}

// TestCancelAbortsCall: cancelling the context aborts a call in flight.
func TestCancelAbortsCall(t *testing.T) {
	_, addr := node(t, time.Hour)
	c := client(t, addr, time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, []byte("k"))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond) // NB: not needed for correctness; lets the call reach the read
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) || !errors.Is(err, peer.ErrRemote) {
			t.Fatalf("cancelled Get: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not end the call")
	}
}

// TestLargeValue: a 64 MiB object merges and reads back byte-identical,
// and forwarding a SET of 64 MiB returns the raw +OK.
func TestLargeValue(t *testing.T) {
	store, addr := node(t, 0)
	c := client(t, addr, 30*time.Second)
	big := bytes.Repeat([]byte("0123456789abcdef"), 4<<20)
	want := object("n2", big)
	if err := c.Merge(context.Background(), []byte("big"), want); err != nil {
		t.Fatalf("Merge of 64 MiB: %v", err)
	}
	if o, err := store.Get(context.Background(), []byte("big")); err != nil || !crdt.Equal(o, want) {
		t.Fatalf("stored object differs: %v", err)
	}
	got, err := c.Get(context.Background(), []byte("big"))
	if err != nil || !crdt.Equal(got, want) {
		t.Fatalf("Get of 64 MiB: %v", err)
	}
	raw, err := c.Forward(context.Background(), [][]byte{[]byte("SET"), []byte("k"), big})
	if err != nil || string(raw) != "+OK\r\n" {
		t.Fatalf("Forward SET of 64 MiB = %q, %v", raw[:min(len(raw), 64)], err)
	}
	raw, err = c.Forward(context.Background(), [][]byte{[]byte("GET"), []byte("k")})
	if err != nil || !bytes.Equal(raw, append(append([]byte("$67108864\r\n"), big...), "\r\n"...)) {
		t.Fatalf("Forward GET of 64 MiB: %d bytes, %v", len(raw), err)
	}
}

// TestForwardRawReplies: Forward returns every reply as its raw bytes,
// error replies included; only an unreachable node is a Go error.
func TestForwardRawReplies(t *testing.T) {
	_, addr := node(t, 0)
	c := client(t, addr, 5*time.Second)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "v"}, "+OK\r\n"},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"GET", "absent"}, "$-1\r\n"},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command\r\n"},
		{[]string{"DEL", "k", "absent"}, ":1\r\n"},
		{[]string{"NOSUCH"}, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n"},
	} {
		args := make([][]byte, len(tc.args))
		for i, a := range tc.args {
			args[i] = []byte(a)
		}
		if got, err := c.Forward(context.Background(), args); err != nil || string(got) != tc.want {
			t.Errorf("Forward %q = %q, %v; want %q", tc.args, got, err, tc.want)
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	if _, err := client(t, dead, time.Second).Forward(context.Background(), [][]byte{[]byte("SET"), []byte("k"), []byte("v")}); !errors.Is(err, peer.ErrRemote) || !errors.Is(err, peer.ErrNotSent) {
		t.Errorf("Forward to a closed port: %v, want ErrRemote and ErrNotSent (never sent)", err)
	}
	if _, err := client(t, addr, time.Second).Forward(context.Background(), nil); !errors.Is(err, peer.ErrRemote) {
		t.Errorf("Forward of nothing: %v", err)
	}
}

// TestWrongSecret: a node that refuses the secret is an error naming the
// refusal, on every call.
func TestWrongSecret(t *testing.T) {
	_, addr := node(t, 0)
	c, err := peerclient.New(peerclient.Config{ID: "n1", Addr: addr, Secret: "guess"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 2 {
		if _, err := c.Forward(context.Background(), [][]byte{[]byte("PING")}); !errors.Is(err, peer.ErrRemote) || !strings.Contains(err.Error(), "WRONGPASS") || !errors.Is(err, peer.ErrNotSent) {
			t.Errorf("Forward with a wrong secret: %v (want ErrNotSent: the command was never sent)", err)
		}
	}
}

// TestReadReply: the bounded reader returns complete replies raw and
// refuses what exceeds its limits or is not RESP2.
func TestReadReply(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		max      int64
		bad      bool
	}{
		{in: "+OK\r\n", want: "+OK\r\n"},
		{in: "-ERR x y\r\n", want: "-ERR x y\r\n"},
		{in: ":-12\r\n", want: ":-12\r\n"},
		{in: "$3\r\na\r\n\r\n", want: "$3\r\na\r\n\r\n"},
		{in: "$-1\r\n", want: "$-1\r\n"},
		{in: "*-1\r\n", want: "*-1\r\n"},
		{in: "*2\r\n*1\r\n:1\r\n$0\r\n\r\n+next\r\n", want: "*2\r\n*1\r\n:1\r\n$0\r\n\r\n"},
		{in: "$4\r\na\r\nb\r\n", want: "$4\r\na\r\nb\r\n"}, // CRLF inside a bulk
		// RESP3, for commands forwarded for RESP3 clients (DKV.FWD3).
		{in: "_\r\n:1\r\n", want: "_\r\n"},
		{in: ",1.5\r\n", want: ",1.5\r\n"},
		{in: "~2\r\n$1\r\na\r\n$1\r\nb\r\n+next\r\n", want: "~2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{in: "%1\r\n$1\r\nk\r\n*1\r\n:2\r\n+next\r\n", want: "%1\r\n$1\r\nk\r\n*1\r\n:2\r\n"},
		{in: "=7\r\ntxt:abc\r\n", want: "=7\r\ntxt:abc\r\n"},
		{in: "*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n+s\r\n", want: "*3\r\n$1\r\nx\r\n*2\r\n:1\r\n$-1\r\n+s\r\n"},
		{in: "*0\r\n", want: "*0\r\n"},
		{in: "?x\r\n", bad: true},
		{in: "$5\r\nab\r\n", bad: true},
		{in: "$4\r\nabcd\r\n", max: 3, bad: true},
		{in: "$3\r\nabcd\r\n", bad: true},
		{in: "$-2\r\n", bad: true},
		{in: ":x\r\n", bad: true},
		{in: "%1\r\n", bad: true},
		{in: "+OK\n", bad: true},
		{in: strings.Repeat("*1\r\n", 17) + ":1\r\n", bad: true},
		{in: "*3\r\n:1\r\n", bad: true},
	} {
		max := tc.max
		if max == 0 {
			max = peer.MaxBulkLen
		}
		got, err := peerclient.ReadReply(bufio.NewReader(strings.NewReader(tc.in)), nil, max)
		if tc.bad {
			if err == nil {
				t.Errorf("ReadReply(%q) = %q, want an error", tc.in, got)
			}
			continue
		}
		if err != nil || string(got) != tc.want {
			t.Errorf("ReadReply(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

// TestConfig: defaults fill zero fields; negative values are refused.
func TestConfig(t *testing.T) {
	for _, cfg := range []peerclient.Config{
		{},
		{Addr: "x:1", Timeout: -1},
		{Addr: "x:1", PoolSize: -1},
		{Addr: "x:1", MaxBulkLen: -1},
	} {
		if _, err := peerclient.New(cfg); !errors.Is(err, peerclient.ErrConfig) {
			t.Errorf("New(%+v) = %v, want ErrConfig", cfg, err)
		}
	}
	cfg := peerclient.Config{Addr: "x:1"}
	cfg.EnsureDefaults()
	if cfg != (peerclient.Config{Addr: "x:1", Timeout: 2 * time.Second, PoolSize: 64, MaxBulkLen: peer.MaxBulkLen}) {
		t.Errorf("defaults: %+v", cfg)
	}
}

// TestPoolWaitBounded: with every pooled connection busy, a call waits
// for one no longer than its deadline (here Config.Timeout, as its
// context has none).
func TestPoolWaitBounded(t *testing.T) {
	_, addr := node(t, time.Hour)
	c, err := peerclient.New(peerclient.Config{ID: "n1", Addr: addr, Secret: secret, Timeout: 200 * time.Millisecond, PoolSize: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	busy := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, []byte("k")) // holds the one connection
		busy <- err
	}()
	time.Sleep(100 * time.Millisecond) // NB: lets the first call take the connection
	start := time.Now()
	if err := c.Merge(context.Background(), []byte("k"), object("n2", []byte("v"))); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Merge waiting for a busy pool: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Merge waited %v for a connection, Timeout 200ms", d)
	}
	cancel()
	<-busy
}

// TestDeadPooledConnectionNotReused: a pooled connection whose server end
// closed (a peer killed and gone) is noticed before reuse, so the next
// call dials afresh instead of failing with EOF on the dead socket
// (tests/cluster_test.go saw "forward: EOF" after a kill). The fake server
// answers DKV.AUTH and one command per connection, then closes it.
func TestDeadPooledConnectionNotReused(t *testing.T) {
	addr := listen(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for _, reply := range []string{"+OK\r\n", ":7\r\n"} {
			if _, err := peerclient.ReadReply(br, nil, 1<<20); err != nil {
				return
			}
			nc.Write([]byte(reply))
		}
	})
	c := client(t, addr, time.Second)
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		raw, err := c.Forward(ctx, [][]byte{[]byte("INCR"), []byte("k")})
		cancel()
		if err != nil || string(raw) != ":7\r\n" {
			t.Fatalf("call %d: %q %v (a dead pooled connection was reused)", i, raw, err)
		}
		time.Sleep(20 * time.Millisecond) // NB: lets the server's close reach the client
	}
}
