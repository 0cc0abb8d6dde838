package resp

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestFramerBigArgSized: an argument of at least bigArg bytes makes its
// command big: the framer lets through the placeholder instead, and
// takeBig returns the command's arguments, the big one in a buffer of
// exactly its announced length (never grown by appending), whatever the
// chunking of the input; small commands around it pass through verbatim,
// in order, and the query-buffer limit still counts the big command whole.
func TestFramerBigArgSized(t *testing.T) {
	lim := frameLimits{maxBulk: 1 << 20, maxArgs: 8, maxInline: 128, maxQuery: 2 << 20, bigArg: 1000}
	big := bytes.Repeat([]byte("0123456789abcdef"), 4000) // 64000 bytes
	in := "*1\r\n$4\r\nPING\r\n" +
		"*5\r\n$3\r\nSET\r\n$1\r\nk\r\n$64000\r\n" + string(big) + "\r\n$2\r\nEX\r\n$2\r\n10\r\n" +
		"GET k\r\n"
	want := "*1\r\n$4\r\nPING\r\n" + bigPlaceholder + "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
	for _, step := range []int{1, 7, 999, len(in)} {
		f := newFramer(lim)
		var out []byte
		for i := 0; i < len(in); i += step {
			f.feed([]byte(in[i:min(i+step, len(in))]))
			for p := f.pending(); len(p) > 0; p = f.pending() {
				out = append(out, p...)
				f.consume(len(p))
			}
		}
		if f.err != nil {
			t.Fatalf("step %d: %v", step, f.err)
		}
		if string(out) != want {
			t.Fatalf("step %d: let through %q, want %q", step, out, want)
		}
		args := f.takeBig()
		if len(args) != 5 || string(args[0]) != "SET" || string(args[1]) != "k" || !bytes.Equal(args[2], big) || string(args[3]) != "EX" || string(args[4]) != "10" {
			t.Fatalf("step %d: big command %d args", step, len(args))
		}
		if cap(args[2]) != len(big) {
			t.Fatalf("step %d: big argument's buffer has cap %d, want exactly %d", step, cap(args[2]), len(big))
		}
		if f.takeBig() != nil {
			t.Fatalf("step %d: a second big command", step)
		}
	}

	f := newFramer(frameLimits{maxBulk: 1 << 20, maxArgs: 8, maxInline: 128, maxQuery: 64100, bigArg: 1000})
	f.feed([]byte("*3\r\n$3\r\nSET\r\n$64000\r\n" + string(big) + "\r\n$200\r\n"))
	if f.err != errQueryBuffer {
		t.Fatalf("over the query buffer: err %v, want %v", f.err, errQueryBuffer)
	}
}

// TestBigValueRoundTrip: through the server, big values (above bigArgLen
// and bigReplyLen, and above returnMemoryAfter) and small commands
// pipelined around them are answered in order and byte-identical.
func TestBigValueRoundTrip(t *testing.T) {
	ts := startServer(t, Config{})
	cl := redis.NewClient(&redis.Options{Addr: ts.addr, ReadTimeout: time.Minute, WriteTimeout: time.Minute})
	defer cl.Close()
	ctx := context.Background()
	for _, n := range []int{bigArgLen - 1, bigArgLen, 3 * bigArgLen, returnMemoryAfter} {
		v := strings.Repeat(fmt.Sprint(n%10), n)
		p := cl.Pipeline()
		ping := p.Ping(ctx)
		set := p.Set(ctx, "big", v, 0)
		get := p.Get(ctx, "big")
		strlen := p.StrLen(ctx, "big")
		if _, err := p.Exec(ctx); err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		if ping.Val() != "PONG" || set.Val() != "OK" || get.Val() != v || strlen.Val() != int64(n) {
			t.Fatalf("%d bytes: replies %q %q %d bytes %d", n, ping.Val(), set.Val(), len(get.Val()), strlen.Val())
		}
	}
}

// TestMaxMemoryOOM: with maxmemory set below what the Go heap already
// holds, a denyoom write (SET) gets Redis's -OOM reply and writes nothing,
// while reads and DEL (not denyoom) still run; in MULTI the refused
// command aborts EXEC as in Redis; maxmemory 0 lifts the limit. (Redis
// 7.0 with maxmemory 1 gives the same replies.) A limit above the heap
// refuses only a write whose copies would cross it.
func TestMaxMemoryOOM(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	const oom = "-OOM command not allowed when used memory > 'maxmemory'.\r\n"
	if got := r.do("SET", "k", "v"); got != "+OK\r\n" {
		t.Fatalf("SET before maxmemory: %q", got)
	}
	if got := r.do("CONFIG", "SET", "maxmemory", "1"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET maxmemory 1: %q", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", "k", "w"}, oom},
		{[]string{"GET", "k"}, "$1\r\nv\r\n"},
		{[]string{"MULTI"}, "+OK\r\n"},
		{[]string{"SET", "k", "w"}, oom},
		{[]string{"EXEC"}, "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{[]string{"DEL", "k"}, ":1\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "0"}, "+OK\r\n"},
		{[]string{"SET", "k", "w"}, "+OK\r\n"},
		{[]string{"CONFIG", "SET", "maxmemory", "256mb"}, "+OK\r\n"},
		{[]string{"SET", "k", "x"}, "+OK\r\n"},
	} {
		if got := r.do(c.args...); got != c.want {
			t.Fatalf("%q: got %q, want %q", c.args, got, c.want)
		}
	}
	// Under 256 MB, a 150 MB value is refused (its two copies on top of
	// the heap would cross the limit); the value is not sent, only the
	// check is run (the slice is never touched, so costs no memory).
	if !(&Conn{srv: ts.Server}).overMaxMemory(ts.cmds["set"], [][]byte{[]byte("SET"), []byte("k"), make([]byte, 150<<20)}) {
		t.Fatal("a 150 MB SET under maxmemory 256mb is not refused")
	}
}
