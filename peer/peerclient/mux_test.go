package peerclient_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
)

// TestPipelinedCalls: many concurrent Merges, Gets and forwards on the
// multiplexed connections (forwards on two of them) each get their own
// reply: every merged object is stored, every Get returns its key's
// object, every forwarded GET its key's value.
func TestPipelinedCalls(t *testing.T) {
	store, addr := node(t, 0)
	c, err := peerclient.New(peerclient.Config{ID: "n1", Addr: addr, Secret: secret, Timeout: 30 * time.Second, PoolSize: 8, ForwardConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	const callers = 64
	key := func(i int) []byte { return fmt.Appendf(nil, "k%03d", i) }
	var wg sync.WaitGroup
	errs := make(chan error, 3*callers)
	for i := range callers {
		wg.Go(func() {
			if err := c.Merge(ctx, key(i), object("n2", key(i))); err != nil {
				errs <- fmt.Errorf("Merge %s: %w", key(i), err)
			}
			if raw, err := c.Forward(ctx, [][]byte{[]byte("SET"), key(i), key(i)}); err != nil || string(raw) != "+OK\r\n" {
				errs <- fmt.Errorf("Forward SET %s: %q %v", key(i), raw, err)
			}
		})
	}
	wg.Wait()
	for i := range callers {
		wg.Go(func() {
			if got, err := c.Get(ctx, key(i)); err != nil || !crdt.Equal(got, object("n2", key(i))) {
				errs <- fmt.Errorf("Get %s = %v, %v", key(i), got, err)
			}
			want := fmt.Sprintf("$4\r\n%s\r\n", key(i))
			if raw, err := c.Forward(ctx, [][]byte{[]byte("GET"), key(i)}); err != nil || string(raw) != want {
				errs <- fmt.Errorf("Forward GET %s = %q, %v; want %q", key(i), raw, err, want)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for i := range callers {
		if o, err := store.Get(ctx, key(i)); err != nil || !crdt.Equal(o, object("n2", key(i))) {
			t.Errorf("stored %s = %v, %v", key(i), o, err)
		}
	}
}

// listen accepts connections on a loopback port until the test ends and
// runs serve on each, in its own goroutine, closing the connection after.
func listen(t *testing.T, serve func(nc net.Conn)) (addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer nc.Close()
				serve(nc)
			}()
		}
	}()
	return ln.Addr().String()
}

// fakeNode accepts peer connections and answers DKV.AUTH with +OK and
// every other command with reply(command name); it sends each command's
// name on got as it arrives, and holds the reply to the first one until
// release is closed.
func fakeNode(t *testing.T, release <-chan struct{}, reply func(name string) string) (addr string, got <-chan string) {
	t.Helper()
	names := make(chan string, 100)
	var first sync.Once
	addr = listen(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for {
			raw, err := peerclient.ReadReply(br, nil, 1<<20)
			if err != nil {
				return
			}
			// NB: the name is the first bulk of "*n\r\n$len\r\nNAME\r\n…".
			name := strings.Split(string(raw), "\r\n")[2]
			if name == peer.CmdAuth {
				nc.Write([]byte("+OK\r\n"))
				continue
			}
			names <- name
			first.Do(func() { <-release })
			nc.Write([]byte(reply(name)))
		}
	})
	return addr, names
}

// TestMergeBatchRefused: Merges made while one is on its way go as one
// DKV.MERGEMANY; when the node refuses the batch with an error reply, each
// Merge is sent again alone and gets its own outcome.
func TestMergeBatchRefused(t *testing.T) {
	release := make(chan struct{})
	addr, got := fakeNode(t, release, func(name string) string {
		if name == peer.CmdMergeMany {
			return "-ERR corrupt object\r\n"
		}
		return "+OK\r\n"
	})
	c := client(t, addr, 30*time.Second)
	ctx := context.Background()
	errs := make(chan error, 3)
	merge := func(k string) { errs <- c.Merge(ctx, []byte(k), object("n2", []byte(k))) }
	go merge("a")
	if name := <-got; name != peer.CmdMerge {
		t.Fatalf("first command %q, want %s", name, peer.CmdMerge)
	}
	go merge("b")
	go merge("c")
	for start := time.Now(); peerclient.MergesWaiting(c) < 2; runtime.Gosched() {
		if time.Since(start) > 10*time.Second {
			t.Fatalf("%d Merges waiting behind the first, want 2", peerclient.MergesWaiting(c))
		}
	}
	close(release)
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("Merge: %v", err)
		}
	}
	var names []string
	for range 3 {
		names = append(names, <-got)
	}
	if want := []string{peer.CmdMergeMany, peer.CmdMerge, peer.CmdMerge}; strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("commands after the first: %q, want %q", names, want)
	}
}

// TestMergeErrorReply: a Merge the node refuses returns the node's error
// text, wrapping peer.ErrRemote.
func TestMergeErrorReply(t *testing.T) {
	release := make(chan struct{})
	close(release)
	addr, _ := fakeNode(t, release, func(string) string { return "-OOM command not allowed when used memory > 'maxmemory'.\r\n" })
	err := client(t, addr, 30*time.Second).Merge(context.Background(), []byte("k"), object("n2", []byte("v")))
	if !errors.Is(err, peer.ErrRemote) || !strings.Contains(err.Error(), "OOM command not allowed") {
		t.Errorf("Merge refused with OOM: %v", err)
	}
}

// TestCancelDuringDial: a call cancelled while its lane's connection is
// being dialled (the node has not yet answered DKV.AUTH) fails with
// context.Canceled, not as a deadline (which callers hold against the
// node's health); the dial goes on for the other caller waiting on it,
// whose call succeeds once the node answers.
func TestCancelDuringDial(t *testing.T) {
	authed := make(chan struct{}, 1)
	release := make(chan struct{})
	addr := listen(t, func(nc net.Conn) {
		br := bufio.NewReader(nc)
		for {
			raw, err := peerclient.ReadReply(br, nil, 1<<20)
			if err != nil {
				return
			}
			if strings.Split(string(raw), "\r\n")[2] == peer.CmdAuth {
				authed <- struct{}{}
				<-release
				nc.Write([]byte("+OK\r\n"))
				continue
			}
			nc.Write([]byte("$0\r\n\r\n")) // a zero object
		}
	})
	c := client(t, addr, 30*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.Get(ctx, []byte("a"))
		first <- err
	}()
	<-authed // the first call's dial waits for the node
	second := make(chan error, 1)
	go func() {
		_, err := c.Get(context.Background(), []byte("b"))
		second <- err
	}()
	cancel()
	if err := <-first; !errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call cancelled during the dial: %v; want context.Canceled, not a deadline", err)
	}
	close(release)
	if err := <-second; err != nil {
		t.Fatalf("call waiting on the same dial: %v", err)
	}
}
