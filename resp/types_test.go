package resp

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

func ints(ns ...int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(ns))
	for _, n := range ns {
		fmt.Fprintf(&b, ":%d\r\n", n)
	}
	return b.String()
}

// TestHashFieldExpiry checks the Redis 7.4 hash-field expiry commands
// (no Redis 7.4 to compare with: the replies follow its documentation)
// on the fake clock: per-field codes, conditions, TTL renderings, HPERSIST,
// a field expiring, a deadline in the past deleting, and the errors.
func TestHashFieldExpiry(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	now := ts.clock.NowMs()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"HSET", "h", "a", "1", "b", "2", "c", "3"}, ":3\r\n"},
		{[]string{"HEXPIRE", "h", "100", "FIELDS", "2", "a", "nof"}, ints(1, -2)},
		{[]string{"HTTL", "h", "FIELDS", "3", "a", "b", "nof"}, ints(100, -1, -2)},
		{[]string{"HPTTL", "h", "FIELDS", "1", "a"}, ints(100000)},
		{[]string{"HEXPIRETIME", "h", "FIELDS", "1", "a"}, ints((now + 100000) / 1000)},
		{[]string{"HPEXPIRETIME", "h", "FIELDS", "2", "a", "b"}, ints(now+100000, -1)},
		{[]string{"HEXPIRE", "h", "50", "GT", "FIELDS", "1", "a"}, ints(0)},
		{[]string{"HEXPIRE", "h", "200", "GT", "FIELDS", "1", "a"}, ints(1)},
		{[]string{"HTTL", "h", "FIELDS", "1", "a"}, ints(200)},
		{[]string{"HEXPIRE", "h", "10", "NX", "FIELDS", "2", "a", "b"}, ints(0, 1)},
		{[]string{"HEXPIRE", "h", "10", "XX", "FIELDS", "1", "c"}, ints(0)},
		{[]string{"HEXPIRE", "h", "10", "LT", "FIELDS", "1", "c"}, ints(1)},
		{[]string{"HPERSIST", "h", "FIELDS", "3", "c", "nof", "c"}, ints(1, -2, -1)},
		{[]string{"HEXPIRE", "h", "300", "FIELDS", "2", "c", "c"}, ints(1, 1)},
		{[]string{"HEXPIRE", "h", "300", "GT", "FIELDS", "1", "c"}, ints(0)},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "c"}, ints(1)},
		{[]string{"HPERSIST", "h", "FIELDS", "1", "c"}, ints(-1)},
		{[]string{"HPEXPIREAT", "h", fmt.Sprint(now + 5), "FIELDS", "1", "c"}, ints(1)},
		{[]string{"HEXPIREAT", "h", "1", "FIELDS", "1", "b"}, ints(2)},
		{[]string{"HEXISTS", "h", "b"}, ":0\r\n"},
		{[]string{"HTTL", "nokey", "FIELDS", "2", "a", "b"}, ints(-2, -2)},
		{[]string{"HEXPIRE", "nokey", "10", "FIELDS", "1", "a"}, ints(-2)},
		{[]string{"HEXPIRE", "h", "x", "FIELDS", "1", "a"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"HEXPIRE", "h", "-1", "FIELDS", "1", "a"}, "-ERR invalid expire time, must be >= 0\r\n"},
		{[]string{"HEXPIRE", "h", "9223372036854775", "FIELDS", "1", "a"}, "-ERR invalid expire time in 'hexpire' command\r\n"},
		{[]string{"HEXPIRE", "h", "10", "FOO", "1", "a"}, "-ERR Mandatory argument FIELDS is missing or not at the right position\r\n"},
		{[]string{"HEXPIRE", "h", "10", "FIELDS", "0", "a"}, "-ERR Parameter `numFields` should be greater than 0\r\n"},
		{[]string{"HEXPIRE", "h", "10", "FIELDS", "x", "a"}, "-ERR Parameter `numFields` should be greater than 0\r\n"},
		{[]string{"HEXPIRE", "h", "10", "FIELDS", "2", "a"}, "-ERR The `numfields` parameter must match the number of arguments\r\n"},
		{[]string{"HTTL", "h", "FIELDS", "2", "a"}, "-ERR The `numfields` parameter must match the number of arguments\r\n"},
		{[]string{"HEXPIRE", "h", "10", "FIELDS"}, "-ERR wrong number of arguments for 'hexpire' command\r\n"},
		{[]string{"SET", "s", "v"}, "+OK\r\n"},
		{[]string{"HEXPIRE", "s", "10", "FIELDS", "1", "a"}, "-" + msgWrongType + "\r\n"},
		{[]string{"HTTL", "s", "FIELDS", "1", "a"}, "-" + msgWrongType + "\r\n"},
		{[]string{"HPERSIST", "s", "FIELDS", "1", "a"}, "-" + msgWrongType + "\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
	// Field c (5 ms) expires with the clock, then a (200 s): the key with
	// them.
	ts.clock.Advance(6)
	if got := r.do("HGETALL", "h"); got != "*2\r\n$1\r\na\r\n$1\r\n1\r\n" {
		t.Errorf("HGETALL after c expired: %q", got)
	}
	ts.clock.Advance(200000)
	if got := r.do("HLEN", "h"); got != ":0\r\n" {
		t.Errorf("HLEN after every field expired: %q", got)
	}
	if got := r.do("EXISTS", "h"); got != ":0\r\n" {
		t.Errorf("EXISTS after every field expired: %q", got)
	}
}

// TestVersionedTyped checks VGET on a hash, a set, a list and a counter (its token
// and rendered value) and that VSET and VDEL answer WRONGTYPE on typed
// keys while keeping their meaning on strings.
func TestVersionedTyped(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("HSET", "h", "f", "v", "g", "w")
	tok := dvv.EncodeToken(ts.b.Object("h").Context())
	if got, want := r.do("VGET", "h"), fmt.Sprintf("*2\r\n$%d\r\n%s\r\n*1\r\n*4\r\n$1\r\nf\r\n$1\r\nv\r\n$1\r\ng\r\n$1\r\nw\r\n", len(tok), tok); got != want {
		t.Errorf("VGET hash = %q, want %q", got, want)
	}
	r.do("SADD", "s", "b", "a")
	tok = dvv.EncodeToken(ts.b.Object("s").Context())
	if got, want := r.do("VGET", "s"), fmt.Sprintf("*2\r\n$%d\r\n%s\r\n*1\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n", len(tok), tok); got != want {
		t.Errorf("VGET set = %q, want %q", got, want)
	}
	r.do("RPUSH", "l", "b", "a")
	r.do("LPUSH", "l", "c")
	tok = dvv.EncodeToken(ts.b.Object("l").Context())
	if got, want := r.do("VGET", "l"), fmt.Sprintf("*2\r\n$%d\r\n%s\r\n*1\r\n*3\r\n$1\r\nc\r\n$1\r\nb\r\n$1\r\na\r\n", len(tok), tok); got != want {
		t.Errorf("VGET list = %q, want %q (its elements in order)", got, want)
	}
	r.do("INCRBY", "n", "41")
	r.do("INCR", "n")
	tok = dvv.EncodeToken(ts.b.Object("n").Context())
	if got, want := r.do("VGET", "n"), fmt.Sprintf("*2\r\n$%d\r\n%s\r\n*1\r\n$2\r\n42\r\n", len(tok), tok); got != want {
		t.Errorf("VGET counter = %q, want %q", got, want)
	}
	for _, args := range [][]string{{"VSET", "h", tok, "x"}, {"VDEL", "h", tok}, {"VSET", "s", "", "x"}, {"VDEL", "s", ""}} {
		if got := r.do(args...); got != "-"+msgWrongType+"\r\n" {
			t.Errorf("%q = %q, want WRONGTYPE", args, got)
		}
	}
	// On a string, VSET with the token read supersedes the counter.
	if got := r.do("VSET", "n", tok, "x"); !strings.HasPrefix(got, "$") {
		t.Fatalf("VSET on a counter = %q", got)
	}
	if got := r.do("GET", "n"); got != "$1\r\nx\r\n" {
		t.Errorf("GET after VSET = %q", got)
	}
}

// TestTypedConcurrentWrites drives the RESP layer over states made by
// another coordinator's concurrent writes (resptest.Apply as actor n2):
// increments through two nodes add up, a field set concurrently with its
// HDEL survives, an SADD concurrent with SREM survives, and DEL removes
// only what it observed.
func TestTypedConcurrentWrites(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("INCRBY", "n", "5")
	cur := ts.b.Object("n")
	// n2 increments from the state it saw; n1 increments concurrently.
	d2, _, _ := crdt.IncrBy(cur, crdt.Stamp{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Now: ts.clock.NowMs()}, 10)
	if got := r.do("INCRBY", "n", "1"); got != ":6\r\n" {
		t.Errorf("INCRBY on n1 = %q", got)
	}
	ts.b.Put("n", crdt.Merge(ts.b.Object("n"), d2))
	if got := r.do("GET", "n"); got != "$2\r\n16\r\n" {
		t.Errorf("GET after concurrent INCRBYs = %q, want 16", got)
	}

	r.do("HSET", "h", "f", "1", "g", "1")
	seen := ts.b.Object("h")
	if got := r.do("HDEL", "h", "f", "g"); got != ":2\r\n" {
		t.Fatalf("HDEL = %q", got)
	}
	hd, _, _ := crdt.HSet(seen, crdt.Stamp{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Now: ts.clock.NowMs()}, []crdt.FieldValue{{Field: []byte("f"), Value: []byte("2")}})
	ts.b.Put("h", crdt.Merge(ts.b.Object("h"), hd))
	if got := r.do("HGETALL", "h"); got != "*2\r\n$1\r\nf\r\n$1\r\n2\r\n" {
		t.Errorf("HGETALL after concurrent HSET/HDEL = %q, want f=2 (add wins)", got)
	}

	r.do("SADD", "s", "m")
	seen = ts.b.Object("s")
	r.do("SREM", "s", "m")
	sd, _, _ := crdt.SAdd(seen, crdt.Stamp{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Now: ts.clock.NowMs()}, [][]byte{[]byte("m")})
	ts.b.Put("s", crdt.Merge(ts.b.Object("s"), sd))
	if got := r.do("SISMEMBER", "s", "m"); got != ":1\r\n" {
		t.Errorf("SISMEMBER after concurrent SADD/SREM = %q, want 1 (add wins)", got)
	}

	r.do("SADD", "d", "a")
	seen = ts.b.Object("d")
	if got := r.do("DEL", "d"); got != ":1\r\n" {
		t.Fatalf("DEL = %q", got)
	}
	dd, _, _ := crdt.SAdd(seen, crdt.Stamp{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Now: ts.clock.NowMs()}, [][]byte{[]byte("b")})
	ts.b.Put("d", crdt.Merge(ts.b.Object("d"), dd))
	if got := r.do("SMEMBERS", "d"); got != "*1\r\n$1\r\nb\r\n" {
		t.Errorf("SMEMBERS after DEL concurrent with SADD = %q, want only b", got)
	}
}

// TestTypedCrossSlot checks Redis Cluster's rule for the multi-key
// commands in a cluster: keys of one slot run (here or forwarded whole),
// keys of different slots get CROSSSLOT, even when both are local, and
// the STORE forms and MSETNX are never split per key.
func TestTypedCrossSlot(t *testing.T) {
	n1, _, _ := startPair(t)
	r := dialRaw(t, n1.addr)
	// Two keys of different slots that n1 both coordinates, and one of
	// another node.
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
		{"SINTER", a, b}, {"SUNION", a, b}, {"SDIFF", a, b}, {"SINTERCARD", "2", a, b},
		{"SINTERSTORE", a, b}, {"SUNIONSTORE", a, remote}, {"SDIFFSTORE", remote, a},
		{"SMOVE", a, b, "m"}, {"MSETNX", a, "1", b, "2"}, {"MSETNX", a, "1", remote, "2"}, {"LCS", a, b},
	} {
		if got := r.do(args...); got != cross {
			t.Errorf("%q = %q, want CROSSSLOT", args, got)
		}
	}
	// One slot: hash tags; forwarded whole to the slot's node when remote.
	for _, tag := range []string{a, remote} {
		x, y, d := "{"+tag+"}x", "{"+tag+"}y", "{"+tag+"}d"
		r.do("SADD", x, "1", "2")
		r.do("SADD", y, "2", "3")
		if got := r.do("SINTERSTORE", d, x, y); got != ":1\r\n" {
			t.Errorf("SINTERSTORE in slot of %s = %q", tag, got)
		}
		if got := r.do("SMOVE", x, y, "1"); got != ":1\r\n" {
			t.Errorf("SMOVE in slot of %s = %q", tag, got)
		}
		if got := r.do("MSETNX", "{"+tag+"}m1", "a", "{"+tag+"}m2", "b"); got != ":1\r\n" {
			t.Errorf("MSETNX in slot of %s = %q", tag, got)
		}
	}
}

// TestObjectEncoding checks OBJECT ENCODING's names for each type against
// Redis 7.0's thresholds.
func TestObjectEncoding(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("SET", "i", "123")
	r.do("SET", "e", "abc")
	r.do("SET", "raw", strings.Repeat("x", 45))
	r.do("INCR", "c")
	r.do("HSET", "h", "f", "v")
	r.do("HSET", "hbig", "f", strings.Repeat("v", 65))
	r.do("SADD", "si", "1", "2")
	r.do("SADD", "ss", "a")
	for key, want := range map[string]string{"i": "int", "e": "embstr", "raw": "raw", "c": "int", "h": "listpack", "hbig": "hashtable", "si": "intset", "ss": "hashtable"} {
		if got := r.do("OBJECT", "ENCODING", key); got != fmt.Sprintf("$%d\r\n%s\r\n", len(want), want) {
			t.Errorf("OBJECT ENCODING %s = %q, want %s", key, got, want)
		}
	}
}

// TestCollectionScan checks HSCAN and SSCAN over a collection larger than
// a reply returns whole: COUNT at a time, the cursor resuming where the
// last call stopped, every element exactly once, MATCH applied; and SCAN's
// TYPE filter for every type.
func TestCollectionScan(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 2, "")
	var members []any
	for i := 0; i < 300; i++ {
		members = append(members, fmt.Sprintf("m%03d", i))
	}
	c.SAdd(bg, "s", members...)
	for i := 0; i < 300; i += 2 {
		c.HSet(bg, "h", members[i], i)
	}
	seen := map[string]int{}
	var cursor uint64
	calls := 0
	for {
		keys, next, err := c.SScan(bg, "s", cursor, "", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		calls++
		if len(keys) > 50 {
			t.Errorf("SSCAN COUNT 50 returned %d", len(keys))
		}
		for _, k := range keys {
			seen[k]++
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if len(seen) != 300 || calls != 6 {
		t.Errorf("SSCAN saw %d members in %d calls, want 300 in 6", len(seen), calls)
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("SSCAN returned %s %d times", k, n)
		}
	}
	// MATCH filters within the COUNT window; HSCAN returns pairs.
	kv, next, err := c.HScan(bg, "h", 0, "m00*", 100).Result()
	if err != nil || next != 100 || len(kv) != 10 || kv[0] != "m000" || kv[1] != "0" {
		t.Errorf("HSCAN MATCH = %q next %d, %v; want m000 0 … m008 8, next 100", kv, next, err)
	}
	c.Set(bg, "str", "v", 0)
	for typ, want := range map[string]string{"set": "s", "hash": "h", "string": "str"} {
		keys, _, err := c.ScanType(bg, 0, "", 100, typ).Result()
		if err != nil || len(keys) != 1 || keys[0] != want {
			t.Errorf("SCAN TYPE %s = %q, %v", typ, keys, err)
		}
	}
}

// TestClusterClientCart runs a shopping cart (a hash: HSET, HINCRBY,
// HDEL, HGETALL, EXPIRE) and set commands with hash-tagged keys through
// go-redis's ClusterClient, which routes by COMMAND's key positions and
// CLUSTER SLOTS, in RESP2 and RESP3: every write lands on its key's
// master, nothing is forwarded.
func TestClusterClientCart(t *testing.T) {
	n1, n2, cls := startPair(t)
	for _, proto := range []int{2, 3} {
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        []string{n1.addr},
			Protocol:     proto,
			DialTimeout:  5 * time.Second,
			ReadTimeout:  5 * time.Second,
			WriteTimeout: 5 * time.Second,
		})
		t.Cleanup(func() { cc.Close() })
		for i := range 20 {
			cart := fmt.Sprintf("cart%d:%d", proto, i)
			if err := cc.HSet(bg, cart, "apple", 1, "pear", 2).Err(); err != nil {
				t.Fatalf("resp%d HSET %s: %v", proto, cart, err)
			}
			if n, err := cc.HIncrBy(bg, cart, "apple", 3).Result(); n != 4 || err != nil {
				t.Fatalf("resp%d HINCRBY %s = %d, %v", proto, cart, n, err)
			}
			cc.HDel(bg, cart, "pear")
			if ok, err := cc.Expire(bg, cart, time.Hour).Result(); !ok || err != nil {
				t.Fatalf("resp%d EXPIRE %s = %v, %v", proto, cart, ok, err)
			}
			got, err := cc.HGetAll(bg, cart).Result()
			if err != nil || len(got) != 1 || got["apple"] != "4" {
				t.Fatalf("resp%d HGETALL %s = %v, %v", proto, cart, got, err)
			}
			x, y, d := fmt.Sprintf("{s%d%d}x", proto, i), fmt.Sprintf("{s%d%d}y", proto, i), fmt.Sprintf("{s%d%d}d", proto, i)
			cc.SAdd(bg, x, "a", "b")
			cc.SAdd(bg, y, "b", "c")
			if n, err := cc.SInterStore(bg, d, x, y).Result(); n != 1 || err != nil {
				t.Fatalf("resp%d SINTERSTORE = %d, %v", proto, n, err)
			}
			if n, err := cc.SInterCard(bg, 0, x, y).Result(); n != 1 || err != nil {
				t.Fatalf("resp%d SINTERCARD = %d, %v", proto, n, err)
			}
			if ms, err := cc.SMembers(bg, d).Result(); len(ms) != 1 || ms[0] != "b" || err != nil {
				t.Fatalf("resp%d SMEMBERS = %v, %v", proto, ms, err)
			}
			if n, err := cc.Incr(bg, fmt.Sprintf("ctr%d:%d", proto, i)).Result(); n != 1 || err != nil {
				t.Fatalf("resp%d INCR = %d, %v", proto, n, err)
			}
		}
	}
	if f := cls[0].forwards.Load() + cls[1].forwards.Load(); f != 0 || n1.b.Writes() < 50 || n2.b.Writes() < 50 {
		t.Errorf("writes: n1 %d, n2 %d, %d forwarded", n1.b.Writes(), n2.b.Writes(), f)
	}
}
