package resp

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// waitBlocked waits until n commands are blocked on ts (a condition
// polled, not a timed wait: it fails only after 10 s).
func waitBlocked(t *testing.T, ts *testServer, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for ts.BlockedClients() != n {
		if time.Now().After(deadline) {
			t.Fatalf("blocked clients: %d, want %d", ts.BlockedClients(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

// TestBlockingWokenByWrite: each blocking command, blocked on empty keys,
// is served by a later push to one of its keys through another
// connection, with Redis's reply shape, and pops nothing more.
func TestBlockingWokenByWrite(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		other := ts.client(t, 2, "")
		for _, tc := range []struct {
			name string
			args []any
			push []any
			want string
			left string // {q}b's elements after
		}{
			{"blpop", []any{"BLPOP", "{q}a", "{q}b", 10}, []any{"RPUSH", "{q}b", "x", "y"}, "[{q}b x]", "[y]"},
			{"brpop", []any{"BRPOP", "{q}a", "{q}b", 10}, []any{"RPUSH", "{q}b", "x", "y"}, "[{q}b y]", "[x]"},
			{"blmove", []any{"BLMOVE", "{q}a", "{q}b", "LEFT", "RIGHT", 10}, []any{"RPUSH", "{q}a", "x"}, "x", "[x]"},
			{"brpoplpush", []any{"BRPOPLPUSH", "{q}a", "{q}b", 10}, []any{"RPUSH", "{q}a", "x"}, "x", "[x]"},
			{"blmpop", []any{"BLMPOP", 10, 2, "{q}a", "{q}b", "RIGHT", "COUNT", 5}, []any{"RPUSH", "{q}b", "x", "y"}, "[{q}b [y x]]", "[]"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				if err := other.Del(bg, "{q}a", "{q}b").Err(); err != nil {
					t.Fatal(err)
				}
				got := make(chan string, 1)
				go func() {
					v, err := c.Do(bg, tc.args...).Result()
					got <- fmt.Sprintf("%v %v", v, err)
				}()
				waitBlocked(t, ts, 1)
				if err := other.Do(bg, tc.push...).Err(); err != nil {
					t.Fatal(err)
				}
				if g := <-got; g != tc.want+" <nil>" {
					t.Fatalf("%v = %s, want %s", tc.args, g, tc.want)
				}
				waitBlocked(t, ts, 0)
				if l := fmt.Sprint(other.LRange(bg, "{q}b", 0, -1).Val()); l != tc.left {
					t.Fatalf("{q}b after: %s, want %s", l, tc.left)
				}
			})
		}
	})
}

// TestBlockingTimeout: a blocking command on empty keys replies its null
// when its timeout passes (0.05 s), and a WRONGTYPE key is an error at
// once.
func TestBlockingTimeout(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		if err := c.Do(bg, "BLPOP", "nokey", "0.05").Err(); err != redis.Nil {
			t.Fatalf("BLPOP timeout: %v, want nil", err)
		}
		if err := c.Do(bg, "BLMOVE", "nokey", "dst", "LEFT", "LEFT", "0.05").Err(); err != redis.Nil {
			t.Fatalf("BLMOVE timeout: %v, want nil", err)
		}
		c.Set(bg, "str", "x", 0)
		if err := c.BLPop(bg, 0, "nokey", "str").Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
			t.Fatalf("BLPOP on a string: %v", err)
		}
		waitBlocked(t, ts, 0)
	})
}

// TestBlockingTwoWaitersOneElement: two clients blocked on one key, one
// element pushed: exactly one of them gets it; the next push serves the
// other.
func TestBlockingTwoWaitersOneElement(t *testing.T) {
	ts := startServer(t, Config{})
	pusher := ts.client(t, 2, "")
	got := make(chan string, 2)
	for range 2 {
		c := ts.client(t, 2, "")
		go func() {
			v, err := c.BLPop(bg, 10*time.Second, "q").Result()
			got <- fmt.Sprintf("%v %v", v, err)
		}()
	}
	waitBlocked(t, ts, 2)
	pusher.RPush(bg, "q", "one")
	first := <-got
	waitBlocked(t, ts, 1)
	pusher.RPush(bg, "q", "two")
	second := <-got
	// Two first attempts, two after each push at most, the last one's
	// alone after the second: a waiter woken by its own or another
	// waiter's empty attempt would spin far past that.
	if n := ts.blocked.tries.Load(); n > 7 {
		t.Fatalf("%d attempts of two blocked commands and two pushes: waiters spin", n)
	}
	if r := []string{first, second}; !slices.Equal(r, []string{"[q one] <nil>", "[q two] <nil>"}) {
		t.Fatalf("replies %v", r)
	}
	if n := pusher.LLen(bg, "q").Val(); n != 0 {
		t.Fatalf("LLEN = %d, want 0", n)
	}
}

// TestBlockingClientGoneLosesNothing: a client that disconnects while
// blocked in BLPOP stops waiting and does not consume the element pushed
// after it left.
func TestBlockingClientGoneLosesNothing(t *testing.T) {
	ts := startServer(t, Config{})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Fprint(nc, "*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n"); err != nil {
		t.Fatal(err)
	}
	waitBlocked(t, ts, 1)
	nc.Close()
	// The waiter sees the closed connection at its next check (blockPoll)
	// and leaves without popping. NB: a push racing with the close may
	// still be served to the closed connection (doc: the remaining window).
	waitBlocked(t, ts, 0)
	c := ts.client(t, 2, "")
	c.RPush(bg, "q", "kept")
	if got := c.LRange(bg, "q", 0, -1).Val(); !slices.Equal(got, []string{"kept"}) {
		t.Fatalf("LRANGE after the blocked client left: %v, want [kept]", got)
	}
}

// TestBlockingInMultiDoesNotBlock: inside MULTI a blocking command runs
// its non-blocking form (Redis: a null at once).
func TestBlockingInMultiDoesNotBlock(t *testing.T) {
	ts := startServer(t, Config{})
	nc, err := net.Dial("tcp", ts.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	fmt.Fprint(nc, "MULTI\r\nBLPOP q 0\r\nEXEC\r\n")
	br := bufio.NewReader(nc)
	var lines []string
	for range 4 {
		nc.SetReadDeadline(time.Now().Add(5 * time.Second))
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		lines = append(lines, strings.TrimSpace(l))
	}
	if got := strings.Join(lines, " "); got != "+OK +QUEUED *1 *-1" {
		t.Fatalf("MULTI BLPOP EXEC: %q", got)
	}
}

// TestListKeyspaceEvents: the list commands' events, as Redis names them.
func TestListKeyspaceEvents(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 2, "")
	c.ConfigSet(bg, "notify-keyspace-events", "KEA")
	sub := c.PSubscribe(bg, "__keyevent@0__:*")
	defer sub.Close()
	if _, err := sub.Receive(bg); err != nil {
		t.Fatal(err)
	}
	c.RPush(bg, "{l}a", "x", "y")
	c.LPush(bg, "{l}a", "w")
	c.LSet(bg, "{l}a", 0, "v")
	c.LInsert(bg, "{l}a", "BEFORE", "x", "i")
	c.LRem(bg, "{l}a", 1, "i")
	c.LTrim(bg, "{l}a", 0, 1)
	c.LMove(bg, "{l}a", "{l}b", "LEFT", "RIGHT")
	c.RPop(bg, "{l}a")
	c.LPop(bg, "{l}b")
	want := []string{"rpush {l}a", "lpush {l}a", "lset {l}a", "linsert {l}a", "lrem {l}a", "ltrim {l}a",
		"rpush {l}b", "lpop {l}a", "rpop {l}a", "del {l}a", "lpop {l}b", "del {l}b"}
	var got []string
	for range want {
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		m, err := sub.ReceiveMessage(ctx)
		cancel()
		if err != nil {
			t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, strings.TrimPrefix(m.Channel, "__keyevent@0__:")+" "+m.Payload)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("events:\n got %v\nwant %v", got, want)
	}
}

// TestListDumpRestoreWithRedis: redis-server 7.0's DUMP of lists (one
// listpack node, many nodes with integers of every width and LZF-packed
// nodes, a plain node of a 10 KB element) RESTOREs into dynakv in order,
// and dynakv's DUMP of each RESTOREs back into redis-server to the same
// list; RENAME and COPY keep a list.
func TestListDumpRestoreWithRedis(t *testing.T) {
	ref := redis.NewClient(&redis.Options{Addr: startRedis(t), MaxRetries: -1})
	t.Cleanup(func() { ref.Close() })
	ts := startServer(t, Config{})
	dut := ts.client(t, 2, "")
	if err := ref.FlushAll(bg).Err(); err != nil {
		t.Fatal(err)
	}
	var many []any
	for i := range 3000 {
		switch i % 6 {
		case 0:
			many = append(many, i)
		case 1:
			many = append(many, -i*1000)
		case 2:
			many = append(many, int64(i)<<40)
		case 3:
			many = append(many, strings.Repeat("ab", i%100))
		case 4:
			many = append(many, fmt.Sprintf("007-%d", i))
		default:
			many = append(many, i*100000)
		}
	}
	ref.RPush(bg, "small", "a", 1, "b", -2, "")
	ref.RPush(bg, "many", many...)
	ref.RPush(bg, "plain", "x", strings.Repeat("z", 10000), "y")
	for _, k := range []string{"small", "many", "plain"} {
		want := ref.LRange(bg, k, 0, -1).Val()
		p, err := ref.Dump(bg, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := dut.Restore(bg, k, 0, p).Err(); err != nil {
			t.Fatalf("%s: RESTORE into dynakv: %v", k, err)
		}
		if got := dut.LRange(bg, k, 0, -1).Val(); !slices.Equal(got, want) {
			t.Fatalf("%s: restored into dynakv as %d elements %.80v", k, len(got), got)
		}
		back, err := dut.Dump(bg, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if err := ref.Restore(bg, k+":back", 0, back).Err(); err != nil {
			t.Fatalf("%s: dynakv's DUMP into Redis: %v", k, err)
		}
		if got := ref.LRange(bg, k+":back", 0, -1).Val(); !slices.Equal(got, want) {
			t.Fatalf("%s: dynakv's DUMP restored into Redis as %.80v", k, got)
		}
	}
	dut.Rename(bg, "small", "renamed")
	dut.Copy(bg, "renamed", "copied", 0, false)
	for _, k := range []string{"renamed", "copied"} {
		if got := dut.LRange(bg, k, 0, -1).Val(); !slices.Equal(got, []string{"a", "1", "b", "-2", ""}) {
			t.Fatalf("%s: %v", k, got)
		}
	}
	if dut.Exists(bg, "small").Val() != 0 {
		t.Fatal("RENAME left its source")
	}
}

// TestClientUnblock: CLIENT LIST shows a blocked client with flag b and
// INFO counts it in blocked_clients; CLIENT UNBLOCK ends its BLPOP with
// the timeout reply (TIMEOUT, the default) or the UNBLOCKED error
// (ERROR), replies 1, and 0 once the client is no longer blocked.
func TestClientUnblock(t *testing.T) {
	ts := startServer(t, Config{})
	admin := ts.client(t, 2, "")
	for _, tc := range []struct{ reason, want string }{
		{"TIMEOUT", "*-1\r\n"},
		{"ERROR", "-" + msgUnblocked + "\r\n"},
	} {
		r := dialRaw(t, ts.addr)
		id := strings.TrimSpace(strings.TrimPrefix(r.do("CLIENT", "ID"), ":"))
		r.send(multibulk("BLPOP", "q", "0"))
		waitBlocked(t, ts, 1)
		if l := admin.ClientList(bg).Val(); !strings.Contains(l, "id="+id+" ") || !strings.Contains(l, " flags=b ") {
			t.Fatalf("CLIENT LIST while blocked:\n%s", l)
		}
		if info := admin.Info(bg, "clients").Val(); !strings.Contains(info, "blocked_clients:1\r\n") {
			t.Fatalf("INFO clients while blocked:\n%s", info)
		}
		if n := admin.Do(bg, "CLIENT", "UNBLOCK", id, tc.reason).Val(); n != int64(1) {
			t.Fatalf("CLIENT UNBLOCK %s = %v, want 1", tc.reason, n)
		}
		if got := r.reply(); got != tc.want {
			t.Fatalf("BLPOP after CLIENT UNBLOCK %s: %q, want %q", tc.reason, got, tc.want)
		}
		waitBlocked(t, ts, 0)
		if n := admin.Do(bg, "CLIENT", "UNBLOCK", id).Val(); n != int64(0) {
			t.Fatalf("CLIENT UNBLOCK of a client no longer blocked = %v, want 0", n)
		}
	}
}
