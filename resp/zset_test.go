package resp

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/redis/go-redis/v9"
)

// zsetEvents is TestConformanceZSetEvents' script: each write (sent on
// connection b) and how many keyspace-event frames (keyspace and keyevent,
// with KEA) a pattern subscriber then reads, as Redis 7.0 emits them.
var zsetEvents = []struct {
	args   []string
	frames int
}{
	{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c"}, 2},
	{[]string{"ZADD", "z", "1", "a"}, 0},
	{[]string{"ZADD", "z", "INCR", "5", "a"}, 2},
	{[]string{"ZINCRBY", "z", "1", "b"}, 2},
	{[]string{"ZADD", "z", "NX", "INCR", "5", "a"}, 0},
	{[]string{"ZREM", "z", "a", "nope"}, 2},
	{[]string{"ZREM", "z", "nope"}, 0},
	{[]string{"ZPOPMIN", "z"}, 2},
	{[]string{"ZPOPMAX", "z"}, 4}, // and del
	{[]string{"ZPOPMAX", "z"}, 0},
	{[]string{"ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d"}, 2},
	{[]string{"ZREMRANGEBYSCORE", "z", "1", "1"}, 2},
	{[]string{"ZREMRANGEBYRANK", "z", "0", "0"}, 2},
	{[]string{"ZREMRANGEBYLEX", "z", "[c", "[c"}, 2},
	{[]string{"ZREMRANGEBYLEX", "z", "[x", "[y"}, 0},
	{[]string{"ZADD", "{t}x", "1", "a"}, 2},
	{[]string{"ZADD", "{t}y", "1", "a", "2", "b"}, 2},
	{[]string{"ZUNIONSTORE", "{t}d", "2", "{t}x", "{t}y"}, 2},
	{[]string{"ZINTERSTORE", "{t}d", "2", "{t}x", "{t}y"}, 2},
	{[]string{"ZDIFFSTORE", "{t}d", "2", "{t}x", "{t}y"}, 2}, // empty: del
	{[]string{"ZDIFFSTORE", "{t}d", "2", "{t}x", "{t}y"}, 0},
	{[]string{"ZRANGESTORE", "{t}d", "{t}y", "0", "-1"}, 2},
	{[]string{"ZMPOP", "1", "{t}y", "MIN", "COUNT", "5"}, 4}, // and del
	{[]string{"ZADD", "z", "GT", "CH", "0", "d"}, 0},
	{[]string{"RENAME", "z", "z2"}, 4},
}

// TestConformanceZSetEvents compares the keyspace events of the sorted-set
// writes with redis-server 7.0's, frame by frame, in RESP2 and RESP3.
func TestConformanceZSetEvents(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run("resp"+strconv.Itoa(proto), func(t *testing.T) {
			ts := startServer(t, Config{})
			run := func(addr string) []string {
				b, c := dialRaw(t, addr), dialRaw(t, addr)
				b.do("FLUSHALL")
				if proto == 3 {
					b.do("HELLO", "3")
					c.do("HELLO", "3")
				}
				b.do("CONFIG", "SET", "notify-keyspace-events", "KEA")
				defer b.do("CONFIG", "SET", "notify-keyspace-events", "")
				c.send(multibulk("PSUBSCRIBE", "__key*"))
				if _, err := readReply(c.br); err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, st := range zsetEvents {
					b.do(st.args...)
					var frames []string
					for range st.frames {
						_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
						f, err := readReply(c.br)
						if err != nil {
							t.Fatalf("%s: %q: frame %d of %d: %v (so far %q)", addr, st.args, len(frames)+1, st.frames, err, frames)
						}
						frames = append(frames, f)
					}
					out = append(out, strings.Join(frames, ""))
				}
				// Nothing more was emitted: the next frame is this PING's.
				b.do("PUBLISH", "__keyend", "x")
				_ = c.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				if f, err := readReply(c.br); err != nil || !strings.Contains(f, "__keyend") {
					t.Fatalf("%s: an extra event %q (%v)", addr, f, err)
				}
				return out
			}
			want, got := run(redisAddr), run(ts.addr)
			for i, st := range zsetEvents {
				if got[i] != want[i] {
					t.Errorf("%q:\n redis  %q\n dynakv %q", st.args, want[i], got[i])
				}
			}
		})
	}
}

// TestDumpRestoreZSetWithRedis: redis-server's DUMP of sorted sets (a
// listpack, a skiplist by size, a skiplist by member length; infinite and
// fractional scores) RESTOREs into dynakv to the same ZRANGE WITHSCORES,
// and dynakv's DUMP RESTOREs back into redis-server to the same value.
func TestDumpRestoreZSetWithRedis(t *testing.T) {
	ref := redis.NewClient(&redis.Options{Addr: startRedis(t), MaxRetries: -1, Protocol: 2})
	t.Cleanup(func() { ref.Close() })
	ts := startServerAt(t, time.Now().UnixMilli())
	dut := ts.client(t, 2, "")
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(ref.FlushAll(bg).Err())
	must(ref.ZAdd(bg, "lp", redis.Z{Score: 1, Member: "a"}, redis.Z{Score: 2.5, Member: "b"}, redis.Z{Score: -3, Member: "d"}).Err())
	must(ref.Do(bg, "ZADD", "lp", "inf", "c", "-inf", "e", "0.1", "f").Err())
	var big []redis.Z
	for i := range 300 {
		big = append(big, redis.Z{Score: float64(i%17) / 4, Member: fmt.Sprintf("m%d", i)})
	}
	must(ref.ZAdd(bg, "big", big...).Err())
	must(ref.ZAdd(bg, "long", redis.Z{Score: 7, Member: strings.Repeat("x", 100)}, redis.Z{Score: 1, Member: "s"}).Err())
	view := func(c *redis.Client, k string) string {
		return fmt.Sprint(c.Do(bg, "ZRANGE", k, "0", "-1", "WITHSCORES").Val())
	}
	for _, k := range []string{"lp", "big", "long"} {
		p, err := ref.Dump(bg, k).Result()
		must(err)
		must(dut.Restore(bg, k, 0, p).Err())
		if got, want := view(dut, k), view(ref, k); got != want {
			t.Errorf("%s: restored into dynakv as %.100s, want %.100s", k, got, want)
		}
		if got, want := dut.ObjectEncoding(bg, k).Val(), ref.ObjectEncoding(bg, k).Val(); got != want {
			t.Errorf("%s: OBJECT ENCODING %s, want %s", k, got, want)
		}
		back, err := dut.Dump(bg, k).Result()
		must(err)
		must(ref.Restore(bg, k+":back", 0, back).Err())
		if got, want := view(ref, k+":back"), view(ref, k); got != want {
			t.Errorf("%s: dynakv's DUMP restored into Redis as %.100s, want %.100s", k, got, want)
		}
	}
	if n := dut.ZCard(bg, "big").Val(); n != 300 {
		t.Fatalf("big: %d members", n)
	}
}

// TestZSetCrossSlot: in a cluster, the multi-key sorted-set commands with
// keys of different slots get CROSSSLOT (even when both are local; the
// STORE forms and ZMPOP are never split), and keys of one slot run, here
// or forwarded whole to the slot's node.
func TestZSetCrossSlot(t *testing.T) {
	n1, _, _ := startPair(t)
	r := dialRaw(t, n1.addr)
	var local []string
	var remote string
	for i := 0; len(local) < 2 || remote == ""; i++ {
		k := fmt.Sprintf("k%d", i)
		if ring.Slot([]byte(k))%2 == 0 {
			local = append(local, k)
		} else if remote == "" {
			remote = k
		}
	}
	a, b := local[0], local[1]
	cross := "-" + msgCrossSlot + "\r\n"
	for _, args := range [][]string{
		{"ZUNION", "2", a, b}, {"ZINTER", "2", a, b}, {"ZDIFF", "2", a, b}, {"ZINTERCARD", "2", a, b},
		{"ZUNIONSTORE", a, "1", b}, {"ZINTERSTORE", a, "2", a, remote}, {"ZDIFFSTORE", remote, "1", a},
		{"ZRANGESTORE", a, b, "0", "-1"}, {"ZRANGESTORE", a, remote, "0", "-1"}, {"ZMPOP", "2", a, b, "MIN"},
	} {
		if got := r.do(args...); got != cross {
			t.Errorf("%q = %q, want CROSSSLOT", args, got)
		}
	}
	for _, tag := range []string{a, remote} {
		x, y, d := "{"+tag+"}x", "{"+tag+"}y", "{"+tag+"}d"
		r.do("ZADD", x, "1", "m", "2", "n")
		r.do("ZADD", y, "5", "n", "6", "o")
		if got := r.do("ZINTERSTORE", d, "2", x, y); got != ":1\r\n" {
			t.Errorf("ZINTERSTORE in slot of %s = %q", tag, got)
		}
		// (This harness's nodes read only their own store: a remote
		// key's result is seen through the next forwarded write.)
		if got := r.do("ZSCORE", d, "n"); tag == a && got != "$1\r\n7\r\n" {
			t.Errorf("ZSCORE after ZINTERSTORE in slot of %s = %q", tag, got)
		}
		if got := r.do("ZMPOP", "2", d, x, "MAX"); got != "*2\r\n$"+strconv.Itoa(len(d))+"\r\n"+d+"\r\n*1\r\n*2\r\n$1\r\nn\r\n$1\r\n7\r\n" {
			t.Errorf("ZMPOP in slot of %s = %q", tag, got)
		}
	}
}
