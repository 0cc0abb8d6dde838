package resp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/resp/resptest"
)

// TestPipelineOrder: a pipelined batch mixing concurrent commands of a few
// keys with barriers gets its replies in order, each key's commands in
// their order (INCR counts up per key), and the barriers (MULTI/EXEC,
// SELECT) see every command before them and none after.
func TestPipelineOrder(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	var send, want strings.Builder
	counts := map[string]int{}
	for i := range 150 { // more than maxConcurrent: run in slices
		k := fmt.Sprintf("ctr%d", i%3)
		counts[k]++
		send.WriteString(multibulk("INCR", k))
		fmt.Fprintf(&want, ":%d\r\n", counts[k])
	}
	for _, cmd := range [][]string{
		{"SET", "a", "1"}, {"APPEND", "a", "2"}, {"MULTI"}, {"INCR", "a"}, {"EXEC"},
		{"GET", "a"}, {"SELECT", "1"}, {"GET", "a"}, {"SET", "a", "x"}, {"SELECT", "0"}, {"GET", "a"},
		{"GET", "ctr0"}, {"DEL", "ctr1"}, {"GET", "ctr1"}, {"INCR", "ctr1"},
	} {
		send.WriteString(multibulk(cmd...))
	}
	want.WriteString("+OK\r\n:2\r\n+OK\r\n+QUEUED\r\n*1\r\n:13\r\n$2\r\n13\r\n+OK\r\n$-1\r\n+OK\r\n+OK\r\n$2\r\n13\r\n")
	fmt.Fprintf(&want, "$2\r\n%d\r\n:1\r\n$-1\r\n:1\r\n", counts["ctr0"])
	r.send(send.String())
	var got strings.Builder
	for range 150 + 15 {
		got.WriteString(r.reply())
	}
	if got.String() != want.String() {
		t.Fatalf("replies:\n%q\nwant:\n%q", got.String(), want.String())
	}
}

// gateBackend is the fake backend, except that a write of key "a" waits
// until a write of key "b" has begun: it completes only if the two run
// concurrently.
type gateBackend struct {
	*resptest.Backend
	bStarted chan struct{}
}

func (g *gateBackend) Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn crdt.Mutator) (prev, next crdt.Object, err error) {
	switch {
	case bytes.HasSuffix(key, []byte("b")):
		close(g.bStarted)
	case bytes.HasSuffix(key, []byte("a")):
		select {
		case <-g.bStarted:
		case <-time.After(5 * time.Second):
			return prev, next, errors.New("ERR the write of b did not start while the write of a waited")
		}
	}
	return g.Backend.Update(ctx, key, opt, fn)
}

// TestPipelineConcurrent: pipelined writes of different keys run
// concurrently (the write of a waits for the write of b, which comes after
// it in the pipeline), and their replies come in order.
func TestPipelineConcurrent(t *testing.T) {
	clock := resptest.NewClock(startMs)
	b := &gateBackend{Backend: resptest.NewBackend("n1", clock.NowMs), bStarted: make(chan struct{})}
	s := New(Config{}, b, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		s.Close()
		<-done
	})
	r := dialRaw(t, ln.Addr().String())
	r.send(multibulk("SET", "a", "1") + multibulk("SET", "b", "2") + multibulk("GET", "a"))
	for i, want := range []string{"+OK\r\n", "+OK\r\n", "$1\r\n1\r\n"} {
		if got := r.reply(); got != want {
			t.Fatalf("reply %d: %q, want %q", i, got, want)
		}
	}
}

// TestConcurrentCommands: which commands may run concurrently.
func TestConcurrentCommands(t *testing.T) {
	s := New(Config{}, resptest.NewBackend("n1", resptest.NewClock(startMs).NowMs), nil)
	for name, want := range map[string]bool{
		"get": true, "set": true, "incr": true, "hset": true, "sadd": true, "expire": true, "vset": true,
		"mset": false, "del": false, "multi": false, "exec": false, "eval": false, "select": false,
		"subscribe": false, "publish": false, "move": false, "rename": false, "watch": false, "ping": false,
		"client": false, "flushdb": false, "wait": false,
	} {
		cmd := s.cmds[name]
		if cmd == nil {
			t.Errorf("%s: not registered", name)
			continue
		}
		if cmd.concurrent != want {
			t.Errorf("%s: concurrent %v, want %v", name, cmd.concurrent, want)
		}
	}
}

// TestPipelineWorkersReused: a connection's later concurrent batches run
// on the worker Conns its earlier batch left (workerConns), which start
// from zero each time: a batch after SELECT 1 reads db 1, not the db the
// workers ran in before, and between batches the kept workers hold
// nothing (no reply buffer of a big GET).
func TestPipelineWorkersReused(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	big := strings.Repeat("x", 1<<20)
	var send strings.Builder
	for i := range keptWorkers {
		send.WriteString(multibulk("SET", fmt.Sprintf("k%d", i), big))
	}
	for i := range keptWorkers {
		send.WriteString(multibulk("GET", fmt.Sprintf("k%d", i)))
	}
	r.send(send.String())
	for i := range 2 * keptWorkers {
		if got := r.reply(); i < keptWorkers && got != "+OK\r\n" || i >= keptWorkers && len(got) < len(big) {
			t.Fatalf("reply %d of the first batches: %.40q", i, got)
		}
	}
	conn := func() *Conn {
		ts.mu.Lock()
		defer ts.mu.Unlock()
		for _, c := range ts.clients {
			return c
		}
		return nil
	}
	assertIdle := func(when string) {
		t.Helper()
		c := conn()
		if c == nil || cap(c.workers) == 0 {
			t.Fatalf("%s: the connection kept no workers", when)
		}
		ws := c.workers[:cap(c.workers)]
		for i := range ws {
			if !reflect.ValueOf(&ws[i]).Elem().IsZero() {
				t.Fatalf("%s: kept worker %d is not zero (out holds %d bytes)", when, i, cap(ws[i].out))
			}
		}
	}
	assertIdle("after the batches in db 0")
	send.Reset()
	send.WriteString(multibulk("SELECT", "1"))
	for i := range keptWorkers {
		send.WriteString(multibulk("GET", fmt.Sprintf("k%d", i)))
	}
	r.send(send.String())
	if got := r.reply(); got != "+OK\r\n" {
		t.Fatalf("SELECT 1: %q", got)
	}
	for i := range keptWorkers {
		if got := r.reply(); got != "$-1\r\n" {
			t.Fatalf("GET k%d in db 1 on reused workers: %.40q, want nil", i, got)
		}
	}
	assertIdle("after the batch in db 1")
}
