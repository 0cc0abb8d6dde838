package resp

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// frame renders an array (head '*') or push (head '>') of bulk strings and integers as Redis sends
// subscription frames ("*3 subscribe foo :1").
func frame(head byte, parts ...any) string {
	var b strings.Builder
	b.WriteByte(head)
	b.WriteString(itoa(len(parts)) + "\r\n")
	for _, p := range parts {
		switch v := p.(type) {
		case int:
			b.WriteString(":" + itoa(v) + "\r\n")
		case nil:
			b.WriteString("$-1\r\n")
		case string:
			b.WriteString("$" + itoa(len(v)) + "\r\n" + v + "\r\n")
		}
	}
	return b.String()
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestSubscribedModeRESP2: Redis's subscribed-mode rules on a RESP2
// connection: confirmations per channel, only (P|S)SUBSCRIBE,
// (P|S)UNSUBSCRIBE, PING, QUIT and RESET allowed (Redis's error text
// otherwise, with the subcommand's full name), PING as ["pong", arg], the
// messages of channels and patterns, and back to normal once every
// subscription is gone.
func TestSubscribedModeRESP2(t *testing.T) {
	ts := startServer(t, Config{})
	sub, pub := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	sub.send(multibulk("SUBSCRIBE", "foo", "bar"))
	for _, want := range []string{frame('*', "subscribe", "foo", 1), frame('*', "subscribe", "bar", 2)} {
		if got := sub.reply(); got != want {
			t.Fatalf("confirmation %q, want %q", got, want)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "x"}, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"},
		{[]string{"CLIENT", "LIST"}, "-ERR Can't execute 'client|list': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"},
		{[]string{"PING"}, frame('*', "pong", "")},
		{[]string{"PING", "hi"}, frame('*', "pong", "hi")},
		{[]string{"PSUBSCRIBE", "f*"}, frame('*', "psubscribe", "f*", 3)},
	} {
		if got := sub.do(c.args...); got != c.want {
			t.Errorf("%q = %q, want %q", c.args, got, c.want)
		}
	}
	if got := pub.do("PUBLISH", "foo", "hello"); got != ":2\r\n" {
		t.Errorf("PUBLISH = %q, want :2 (a channel and a pattern)", got)
	}
	got := []string{sub.reply(), sub.reply()}
	want := []string{frame('*', "message", "foo", "hello"), frame('*', "pmessage", "f*", "foo", "hello")}
	if got[0] != want[0] && got[0] == want[1] {
		got[0], got[1] = got[1], got[0]
	}
	if got[0] != want[0] || got[1] != want[1] {
		t.Errorf("messages %q, want %q", got, want)
	}
	if got := pub.do("PUBSUB", "NUMSUB", "foo", "baz"); got != "*4\r\n$3\r\nfoo\r\n:1\r\n$3\r\nbaz\r\n:0\r\n" {
		t.Errorf("NUMSUB = %q", got)
	}
	sub.send(multibulk("UNSUBSCRIBE"))
	for _, want := range []string{frame('*', "unsubscribe", "foo", 2), frame('*', "unsubscribe", "bar", 1)} {
		if got := sub.reply(); got != want {
			t.Errorf("unsubscribe %q, want %q", got, want)
		}
	}
	if got := sub.do("PUNSUBSCRIBE"); got != frame('*', "punsubscribe", "f*", 0) {
		t.Errorf("PUNSUBSCRIBE = %q", got)
	}
	if got := sub.do("SUNSUBSCRIBE"); got != frame('*', "sunsubscribe", nil, 0) {
		t.Errorf("SUNSUBSCRIBE with none = %q", got)
	}
	if got := sub.do("GET", "x"); got != "$-1\r\n" {
		t.Errorf("GET after unsubscribing = %q", got)
	}
	if got := sub.do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING after unsubscribing = %q", got)
	}
	// QUIT in subscribed mode: +OK reaches the client before the close.
	sub.do("SUBSCRIBE", "foo")
	if got := sub.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT = %q", got)
	}
	sub.expectEOF()
}

// TestPipelinedSubscribe: replies of commands pipelined before and after
// SUBSCRIBE keep their order around the confirmation.
func TestPipelinedSubscribe(t *testing.T) {
	ts := startServer(t, Config{})
	c := dialRaw(t, ts.addr)
	c.send(multibulk("SET", "k", "v") + multibulk("GET", "k") + multibulk("SUBSCRIBE", "a") + multibulk("PING") + multibulk("GET", "k"))
	for _, want := range []string{"+OK\r\n", "$1\r\nv\r\n", frame('*', "subscribe", "a", 1), frame('*', "pong", ""),
		"-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context\r\n"} {
		if got := c.reply(); got != want {
			t.Errorf("reply %q, want %q", got, want)
		}
	}
}

// TestRESP3Push: on a RESP3 connection confirmations and messages are
// push frames and any command runs while subscribed.
func TestRESP3Push(t *testing.T) {
	ts := startServer(t, Config{})
	sub, pub := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	sub.do("HELLO", "3")
	if got := sub.do("SUBSCRIBE", "foo"); got != frame('>', "subscribe", "foo", 1) {
		t.Errorf("SUBSCRIBE = %q", got)
	}
	if got := sub.do("GET", "x"); got != "_\r\n" {
		t.Errorf("GET while subscribed = %q", got)
	}
	if got := sub.do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING while subscribed = %q", got)
	}
	pub.do("PUBLISH", "foo", "m1")
	if got := sub.reply(); got != frame('>', "message", "foo", "m1") {
		t.Errorf("message = %q", got)
	}
	if got := sub.do("UNSUBSCRIBE", "nope"); got != frame('>', "unsubscribe", "nope", 1) {
		t.Errorf("UNSUBSCRIBE nope = %q", got)
	}
	if got := sub.do("SUNSUBSCRIBE"); got != ">3\r\n$12\r\nsunsubscribe\r\n_\r\n:0\r\n" {
		t.Errorf("SUNSUBSCRIBE with none = %q", got)
	}
}

// TestSlowSubscriberDropped: a subscriber that does not read is
// disconnected once its pending output passes the hard limit of
// client-output-buffer-limit pubsub, and the publisher is never held up.
func TestSlowSubscriberDropped(t *testing.T) {
	ts := startServer(t, Config{})
	pub := dialRaw(t, ts.addr)
	if got := pub.do("CONFIG", "SET", "client-output-buffer-limit", "pubsub 64kb 0 0"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET = %q", got)
	}
	sub := dialRaw(t, ts.addr)
	sub.do("SUBSCRIBE", "firehose")
	payload := strings.Repeat("x", 16<<10)
	dropped := false
	// NB: the kernel's socket buffers take some megabytes before the
	// outbox grows; 64 MiB is far beyond them.
	for i := 0; i < 4096 && !dropped; i++ {
		pub.do("PUBLISH", "firehose", payload)
		if i%32 == 31 {
			dropped = pub.do("PUBSUB", "NUMSUB", "firehose") == "*2\r\n$8\r\nfirehose\r\n:0\r\n"
		}
	}
	if !dropped {
		t.Fatal("the subscriber that never reads is still subscribed after 64 MiB")
	}
	_ = sub.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	n, err := io.Copy(io.Discard, sub.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("connection not closed (read %d bytes)", n)
	}
	if got := pub.do("CONFIG", "GET", "client-output-buffer-limit"); !strings.HasSuffix(got, "pubsub 65536 0 0\r\n") {
		t.Errorf("CONFIG GET = %q", got)
	}
}

// TestMonitor: a MONITOR client sees the commands others run in Redis's
// format, not administrative ones.
func TestMonitor(t *testing.T) {
	ts := startServer(t, Config{})
	mon, c := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	if got := mon.do("MONITOR"); got != "+OK\r\n" {
		t.Fatalf("MONITOR = %q", got)
	}
	c.do("CONFIG", "GET", "maxclients")
	c.do("SET", "a b", "x\ty\"\x01")
	line := mon.reply()
	re := regexp.MustCompile(`^\+\d{10}\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "a b" "x\\ty\\"\\x01"` + "\r\n$")
	if !re.MatchString(line) {
		t.Errorf("monitor line %q", line)
	}
}

// TestPublishFanOut: a message published on one node reaches a
// subscriber on the other once, and the reply counts it; a keyspace event
// emitted by a key's coordinator reaches subscribers on both nodes once,
// whichever node the client wrote through.
func TestPublishFanOut(t *testing.T) {
	n1, n2, _ := startPair(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		sub := n2.client(t, proto, "").Subscribe(ctx, "news")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		c1 := n1.client(t, proto, "")
		if n, err := c1.Publish(ctx, "news", "hello").Result(); err != nil || n != 1 {
			t.Errorf("resp%d: PUBLISH on n1 = %d, %v; want 1 (n2's subscriber)", proto, n, err)
		}
		if n, err := n2.client(t, proto, "").Publish(ctx, "news", "second").Result(); err != nil || n != 1 {
			t.Errorf("resp%d: PUBLISH on n2 = %d, %v", proto, n, err)
		}
		for _, want := range []string{"hello", "second"} {
			m, err := sub.ReceiveMessage(ctx)
			if err != nil || m.Channel != "news" || m.Payload != want {
				t.Fatalf("resp%d: got %+v, %v; want %q", proto, m, err, want)
			}
		}
		sub.Close()
		// NB: n2 sees the close when it reads the connection's end; until
		// then the next round's PUBLISH would count this subscriber too.
		for deadline := time.Now().Add(5 * time.Second); ; {
			got, err := n2.client(t, 2, "").PubSubNumSub(ctx, "news").Result()
			if err == nil && got["news"] == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("resp%d: n2's subscribers of news after the close = %v, %v", proto, got, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}

	// One CONFIG SET on n1 configures n2 too (DKV.NOTIFYCFG).
	if err := n1.client(t, 2, "").ConfigSet(ctx, "notify-keyspace-events", "E$").Err(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		got, err := n2.client(t, 2, "").ConfigGet(ctx, "notify-keyspace-events").Result()
		if err == nil && got["notify-keyspace-events"] == "$E" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("n2's notify-keyspace-events = %v, %v; want $E from n1's CONFIG SET", got, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	subs := make([]*redis.PubSub, 2)
	for i, n := range []*testServer{n1, n2} {
		subs[i] = n.client(t, 3, "").PSubscribe(ctx, "__keyevent@0__:*")
		defer subs[i].Close()
		if _, err := subs[i].Receive(ctx); err != nil {
			t.Fatal(err)
		}
	}
	mine, theirs := keysOf(1) // n1 coordinates mine[0], n2 theirs[0]
	c2 := n2.client(t, 2, "")
	for _, k := range []string{mine[0], theirs[0]} {
		if err := c2.Set(ctx, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := c2.Publish(ctx, "end", "").Err(); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		var keys []string
		for len(keys) < 2 {
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			m, err := s.ReceiveMessage(rctx)
			cancel()
			if err != nil {
				t.Fatalf("n%d: %v after %q", i+1, err, keys)
			}
			if m.Channel != "__keyevent@0__:set" {
				t.Errorf("n%d: channel %q", i+1, m.Channel)
			}
			keys = append(keys, m.Payload)
		}
		// NB: events of different coordinators have no order between them.
		slices.Sort(keys)
		want := []string{mine[0], theirs[0]}
		slices.Sort(want)
		if !slices.Equal(keys, want) {
			t.Errorf("n%d got set events for %q, want %s and %s once each", i+1, keys, mine[0], theirs[0])
		}
	}
	// A duplicate would arrive before a later event: emit one more and
	// check it comes next.
	if err := c2.Del(ctx, mine[0]).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c2.Set(ctx, mine[0], "w", 0).Err(); err != nil {
		t.Fatal(err)
	}
	for i, s := range subs {
		rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		m, err := s.ReceiveMessage(rctx)
		cancel()
		if err != nil || m.Channel != "__keyevent@0__:set" || m.Payload != mine[0] {
			t.Errorf("n%d: next event %+v, %v; want set %s (no duplicate before it)", i+1, m, err, mine[0])
		}
	}
}

// TestSubscriberNoIdleTimeout: IdleTimeout closes idle clients but not
// subscribers, as Redis's timeout spares Pub/Sub clients.
func TestSubscriberNoIdleTimeout(t *testing.T) {
	ts := startServer(t, Config{IdleTimeout: 100 * time.Millisecond})
	sub := dialRaw(t, ts.addr)
	sub.do("SUBSCRIBE", "c")
	idle := dialRaw(t, ts.addr)
	idle.do("PING")
	idle.expectEOF() // NB: a time under test: the idle client is closed first
	pub := dialRaw(t, ts.addr)
	if got := pub.do("PUBLISH", "c", "still here"); got != ":1\r\n" {
		t.Fatalf("PUBLISH = %q", got)
	}
	if got := sub.reply(); got != frame('*', "message", "c", "still here") {
		t.Errorf("subscriber got %q", got)
	}
}

// pubsubScript is TestConformancePubSub's script: who (connection a, b or
// c) sends args (none: only read) and how many frames it then reads.
var pubsubScript = []struct {
	who    byte
	args   []string
	frames int
}{
	{'a', []string{"SUBSCRIBE", "foo", "bar"}, 2},
	{'a', []string{"GET", "x"}, 1},
	{'a', []string{"ECHO", "hi"}, 1},
	{'a', []string{"PING"}, 1},
	{'a', []string{"PING", "hi"}, 1},
	{'a', []string{"PING", "a", "b"}, 1},
	{'a', []string{"PSUBSCRIBE", "f*"}, 1},
	{'b', []string{"PUBLISH", "foo", "hello"}, 1},
	{'a', nil, 2},
	{'b', []string{"PUBLISH", "other", "x"}, 1},
	{'b', []string{"PUBSUB", "NUMSUB", "foo", "bar", "baz"}, 1},
	{'b', []string{"PUBSUB", "NUMSUB"}, 1},
	{'b', []string{"PUBSUB", "NUMPAT"}, 1},
	{'b', []string{"PUBSUB", "CHANNELS", "f*"}, 1},
	{'b', []string{"PUBSUB", "CHANNELS", "a", "b"}, 1},
	{'b', []string{"PUBSUB", "NUMPAT", "x"}, 1},
	{'b', []string{"PUBSUB", "HELP"}, 1},
	{'b', []string{"PUBSUB", "SHARDNUMSUB", "s1"}, 1},
	{'a', []string{"SSUBSCRIBE", "s1"}, 1},
	{'b', []string{"SPUBLISH", "s1", "m"}, 1},
	{'a', nil, 1},
	{'b', []string{"PUBSUB", "SHARDCHANNELS"}, 1},
	{'a', []string{"UNSUBSCRIBE", "foo", "nope"}, 2},
	{'a', []string{"UNSUBSCRIBE"}, 1},
	{'a', []string{"UNSUBSCRIBE"}, 1},
	{'a', []string{"PUNSUBSCRIBE"}, 1},
	{'a', []string{"SUNSUBSCRIBE"}, 1},
	{'a', []string{"SUNSUBSCRIBE"}, 1},
	{'a', []string{"GET", "x"}, 1},
	{'a', []string{"SUBSCRIBE"}, 1},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", "KEA"}, 1},
	{'b', []string{"CONFIG", "GET", "notify-keyspace-events"}, 1},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", "gx$KEmn"}, 1},
	{'b', []string{"CONFIG", "GET", "notify-keyspace-events"}, 1},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", "KEQ"}, 1},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", ""}, 1},
	{'b', []string{"CONFIG", "GET", "notify-keyspace-events"}, 1},
	{'b', []string{"CONFIG", "GET", "client-output-buffer-limit"}, 1},
	{'b', []string{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 512kb 10"}, 1},
	{'b', []string{"CONFIG", "GET", "client-output-buffer-limit"}, 1},
	{'b', []string{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 1 2"}, 1},
	{'b', []string{"CONFIG", "SET", "client-output-buffer-limit", "bogus 1 2 3"}, 1},
	{'b', []string{"CONFIG", "SET", "client-output-buffer-limit", "pubsub x 2 3"}, 1},
	{'b', []string{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 32mb 8mb 60"}, 1},
	// Keyspace events, each as two messages (K and E).
	{'c', []string{"PSUBSCRIBE", "__key*"}, 1},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", "KEA"}, 1},
	{'b', []string{"SET", "k", "v", "EX", "100"}, 1},
	{'c', nil, 4}, // set, expire
	{'b', []string{"SET", "k", "w", "NX"}, 1},
	{'b', []string{"PERSIST", "k"}, 1},
	{'c', nil, 2},
	{'b', []string{"APPEND", "k", "x"}, 1},
	{'b', []string{"SETRANGE", "k", "0", "y"}, 1},
	{'b', []string{"SETRANGE", "k", "0", ""}, 1},
	{'b', []string{"INCRBY", "n", "5"}, 1},
	{'b', []string{"DECR", "n"}, 1},
	{'b', []string{"INCRBYFLOAT", "n", "1.5"}, 1},
	{'c', nil, 10},
	{'b', []string{"EXPIRE", "n", "100"}, 1},
	{'b', []string{"GETDEL", "n"}, 1},
	{'b', []string{"DEL", "k", "nokey"}, 1},
	{'c', nil, 6},
	{'b', []string{"HSET", "h", "f", "v", "g", "w"}, 1},
	{'b', []string{"HSETNX", "h", "f", "v"}, 1},
	{'b', []string{"HINCRBY", "h", "i", "1"}, 1},
	{'b', []string{"HINCRBYFLOAT", "h", "j", "1.5"}, 1},
	{'b', []string{"HDEL", "h", "f", "nope"}, 1},
	{'b', []string{"HDEL", "h", "g", "i", "j"}, 1},
	{'c', nil, 12}, // hset, hincrby, hincrbyfloat, hdel, hdel, del
	{'b', []string{"SADD", "s", "a", "b", "c"}, 1},
	{'b', []string{"SADD", "s", "a"}, 1},
	{'b', []string{"SREM", "s", "a"}, 1},
	{'b', []string{"SMOVE", "s", "t", "b"}, 1},
	{'b', []string{"SINTERSTORE", "d", "s", "t"}, 1},
	{'b', []string{"SUNIONSTORE", "d", "s", "t"}, 1},
	{'b', []string{"SPOP", "s"}, 1},
	{'c', nil, 14}, // sadd, srem, srem, sadd, (d did not exist: no del), sunionstore, spop, del
	{'b', []string{"SET", "e", "v", "PX", "1"}, 1},
	{'c', nil, 4},
	{'b', []string{"CONFIG", "SET", "notify-keyspace-events", ""}, 1},
}

// TestConformancePubSub runs pubsubScript against redis-server 7.0 and
// dynakv, in RESP2 and RESP3, and compares every frame byte for byte:
// confirmations, messages, subscribed-mode errors, PUBSUB, the CONFIG
// parameters and the keyspace events of the write commands.
func TestConformancePubSub(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, Config{})
			run := func(addr string) []string {
				if addr == redisAddr {
					dialRaw(t, addr).do("FLUSHALL")
				}
				conns := map[byte]*rawClient{}
				for _, who := range []byte("abc") {
					conns[who] = dialRaw(t, addr)
					if proto == 3 {
						conns[who].do("HELLO", "3")
					}
				}
				var out []string
				for _, st := range pubsubScript {
					c := conns[st.who]
					if st.args != nil {
						c.send(multibulk(st.args...))
					}
					var frames []string
					for range st.frames {
						_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
						f, err := readReply(c.br)
						if err != nil {
							t.Fatalf("%s: %c %q: frame %d of %d: %v (so far %q)", addr, st.who, st.args, len(frames)+1, st.frames, err, frames)
						}
						frames = append(frames, f)
					}
					out = append(out, strings.Join(frames, ""))
				}
				return out
			}
			want, got := run(redisAddr), run(ts.addr)
			for i, st := range pubsubScript {
				if got[i] != want[i] {
					t.Errorf("%c %q:\n redis  %q\n dynakv %q", st.who, st.args, want[i], got[i])
				}
			}
		})
	}
}
