package resp

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/redis/go-redis/v9"
)

func TestGetSet(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		if err := c.Get(bg, "k").Err(); err != redis.Nil {
			t.Errorf("GET absent: %v", err)
		}
		if got, err := c.Set(bg, "k", "v1", 0).Result(); got != "OK" || err != nil {
			t.Errorf("SET = %q, %v", got, err)
		}
		if got, _ := c.Get(bg, "k").Result(); got != "v1" {
			t.Errorf("GET = %q", got)
		}
		if ok, err := c.SetNX(bg, "k", "v2", 0).Result(); ok || err != nil {
			t.Errorf("SET NX existing = %v, %v", ok, err)
		}
		if ok, err := c.SetXX(bg, "nope", "v", 0).Result(); ok || err != nil {
			t.Errorf("SET XX absent = %v, %v", ok, err)
		}
		if ok, err := c.SetXX(bg, "k", "v2", 0).Result(); !ok || err != nil {
			t.Errorf("SET XX existing = %v, %v", ok, err)
		}
		if got, err := c.SetArgs(bg, "k", "v3", redis.SetArgs{Get: true}).Result(); got != "v2" || err != nil {
			t.Errorf("SET GET = %q, %v", got, err)
		}
		if err := c.SetArgs(bg, "new", "x", redis.SetArgs{Get: true}).Err(); err != redis.Nil {
			t.Errorf("SET GET absent: %v", err)
		}
		if got, err := c.SetArgs(bg, "k", "v4", redis.SetArgs{Mode: "NX", Get: true}).Result(); got != "v3" || err != nil {
			t.Errorf("SET NX GET existing = %q, %v", got, err)
		}
		if got, _ := c.Get(bg, "k").Result(); got != "v3" {
			t.Errorf("after SET NX GET: %q", got)
		}
		if ok, err := c.Do(bg, "setnx", "k", "x").Int(); ok != 0 || err != nil {
			t.Errorf("SETNX existing = %v, %v", ok, err)
		}
		if ok, err := c.Do(bg, "setnx", "k2", "x").Int(); ok != 1 || err != nil {
			t.Errorf("SETNX absent = %v, %v", ok, err)
		}
		if got, err := c.GetSet(bg, "k2", "y").Result(); got != "x" || err != nil {
			t.Errorf("GETSET = %q, %v", got, err)
		}
		if got, err := c.GetDel(bg, "k2").Result(); got != "y" || err != nil {
			t.Errorf("GETDEL = %q, %v", got, err)
		}
		if err := c.GetDel(bg, "k2").Err(); err != redis.Nil {
			t.Errorf("GETDEL absent: %v", err)
		}
		if got, _ := c.Set(bg, "bin", "a\x00\r\nb", 0).Result(); got != "OK" {
			t.Errorf("SET binary: %q", got)
		}
		if got, _ := c.Get(bg, "bin").Result(); got != "a\x00\r\nb" {
			t.Errorf("GET binary = %q", got)
		}
		if got, _ := c.Set(bg, "empty", "", 0).Result(); got != "OK" {
			t.Errorf("SET empty: %q", got)
		}
		if got, err := c.Get(bg, "empty").Result(); got != "" || err != nil {
			t.Errorf("GET empty = %q, %v", got, err)
		}

		// Errors, with Redis's texts.
		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"set", "k", "v", "nx", "xx"}, "ERR syntax error"},
			{[]any{"set", "k", "v", "bogus"}, "ERR syntax error"},
			{[]any{"set", "k", "v", "ex"}, "ERR syntax error"},
			{[]any{"set", "k", "v", "ex", "1", "px", "1"}, "ERR syntax error"},
			{[]any{"set", "k", "v", "keepttl", "ex", "1"}, "ERR syntax error"},
			{[]any{"set", "k", "v", "ex", "x"}, "ERR value is not an integer or out of range"},
			{[]any{"set", "k", "v", "ex", "0"}, "ERR invalid expire time in 'set' command"},
			{[]any{"set", "k", "v", "px", "-5"}, "ERR invalid expire time in 'set' command"},
			{[]any{"set", "k", "v", "ex", "9223372036854775807"}, "ERR invalid expire time in 'set' command"},
			{[]any{"set", "k", "v", "px", "9223372036854775807"}, "ERR invalid expire time in 'set' command"},
			{[]any{"set", "k", "v", "persist"}, "ERR syntax error"},
			{[]any{"setex", "k", "0", "v"}, "ERR invalid expire time in 'setex' command"},
			{[]any{"psetex", "k", "x", "v"}, "ERR value is not an integer or out of range"},
			{[]any{"getex", "k", "ex", "0"}, "ERR invalid expire time in 'getex' command"},
			{[]any{"getex", "k", "persist", "ex", "1"}, "ERR syntax error"},
			{[]any{"getex", "k", "nx"}, "ERR syntax error"},
			{[]any{"mset", "a", "1", "b"}, "ERR wrong number of arguments for 'mset' command"},
			{[]any{"set", "k"}, "ERR wrong number of arguments for 'set' command"},
		} {
			if err := c.Do(bg, tc.args...).Err(); errText(err) != tc.want {
				t.Errorf("%v: %q, want %q", tc.args, errText(err), tc.want)
			}
		}
	})
}

func TestMultiKey(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		if err := c.MSet(bg, "a", "1", "b", "2", "c", "3").Err(); err != nil {
			t.Fatal(err)
		}
		got, err := c.MGet(bg, "a", "x", "c").Result()
		if err != nil || fmt.Sprint(got) != "[1 <nil> 3]" {
			t.Errorf("MGET = %v, %v", got, err)
		}
		if n, _ := c.Exists(bg, "a", "a", "x", "b").Result(); n != 3 {
			t.Errorf("EXISTS = %d", n)
		}
		if n, _ := c.Del(bg, "a", "x", "b").Result(); n != 2 {
			t.Errorf("DEL = %d", n)
		}
		if n, _ := c.Unlink(bg, "c", "c").Result(); n != 1 {
			t.Errorf("UNLINK = %d", n)
		}
		if n, _ := c.Exists(bg, "a", "b", "c").Result(); n != 0 {
			t.Errorf("EXISTS after DEL = %d", n)
		}
		// DEL of an absent key writes nothing.
		writes := ts.b.Writes()
		if n, _ := c.Del(bg, "never").Result(); n != 0 || ts.b.Writes() != writes {
			t.Errorf("DEL absent = %d, wrote %d", n, ts.b.Writes()-writes)
		}
		if obj := ts.b.Object("a"); !crdt.Tombstone(obj, ts.clock.NowMs()) || crdt.DeletedAt(obj) == 0 {
			t.Errorf("DEL did not leave a tombstone: %+v", obj)
		}
		if got, _ := c.Type(bg, "a").Result(); got != "none" {
			t.Errorf("TYPE deleted = %q", got)
		}
		c.Set(bg, "s", "v", 0)
		if got, _ := c.Type(bg, "s").Result(); got != "string" {
			t.Errorf("TYPE = %q", got)
		}
	})
}

func TestExpiry(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		sec := time.Second
		check := func(key string, want time.Duration) {
			t.Helper()
			if got, err := c.TTL(bg, key).Result(); got != want || err != nil {
				t.Errorf("TTL %s = %v, %v; want %v", key, got, err, want)
			}
		}
		check("absent", -2)
		c.Set(bg, "k", "v", 0)
		check("k", -1)
		if got, _ := c.PTTL(bg, "k").Result(); got != -1 {
			t.Errorf("PTTL no expiry = %v", got)
		}
		c.Set(bg, "t", "v", 10*sec)
		check("t", 10*sec)
		ts.clock.Advance(4400)
		check("t", 6*sec) // 5.6s rounds to 6
		if got, _ := c.PTTL(bg, "t").Result(); got != 5600*time.Millisecond {
			t.Errorf("PTTL = %v", got)
		}
		if got, _ := c.ExpireTime(bg, "t").Result(); got != time.Duration(startMs/1000+10)*sec {
			t.Errorf("EXPIRETIME = %v", got)
		}
		if got, _ := c.Do(bg, "pexpiretime", "t").Int64(); got != startMs+10000 {
			t.Errorf("PEXPIRETIME = %v", got)
		}
		ts.clock.Advance(5600)
		if err := c.Get(bg, "t").Err(); err != redis.Nil {
			t.Errorf("GET expired: %v", err)
		}
		check("t", -2)

		// SET's expiry options.
		c.SetArgs(bg, "ex", "v", redis.SetArgs{TTL: 100 * time.Millisecond})
		if got, _ := c.PTTL(bg, "ex").Result(); got != 100*time.Millisecond {
			t.Errorf("SET PX: PTTL %v", got)
		}
		now := time.UnixMilli(ts.clock.NowMs())
		c.SetArgs(bg, "ex", "v2", redis.SetArgs{KeepTTL: true})
		if got, _ := c.PTTL(bg, "ex").Result(); got != 100*time.Millisecond {
			t.Errorf("SET KEEPTTL: PTTL %v", got)
		}
		c.SetArgs(bg, "ex", "v3", redis.SetArgs{ExpireAt: now.Add(20 * sec)})
		check("ex", 20*sec)
		c.Do(bg, "set", "ex", "v4", "pxat", now.Add(30*sec).UnixMilli())
		check("ex", 30*sec)
		c.Do(bg, "set", "ex", "v5", "exat", now.Add(-sec).Unix())
		check("ex", -2)
		c.SetEx(bg, "se", "v", 7*sec)
		check("se", 7*sec)
		c.Do(bg, "psetex", "se", 1500, "v")
		check("se", 2*sec)

		// EXPIRE and friends, with NX XX GT LT.
		c.Set(bg, "e", "v", 0)
		if ok, _ := c.ExpireXX(bg, "e", 10*sec).Result(); ok {
			t.Error("EXPIRE XX without expiry succeeded")
		}
		if ok, _ := c.ExpireGT(bg, "e", 10*sec).Result(); ok {
			t.Error("EXPIRE GT without expiry succeeded")
		}
		if ok, _ := c.ExpireLT(bg, "e", 10*sec).Result(); !ok {
			t.Error("EXPIRE LT without expiry failed")
		}
		check("e", 10*sec)
		if ok, _ := c.ExpireNX(bg, "e", 20*sec).Result(); ok {
			t.Error("EXPIRE NX with expiry succeeded")
		}
		if ok, _ := c.ExpireGT(bg, "e", 5*sec).Result(); ok {
			t.Error("EXPIRE GT smaller succeeded")
		}
		if ok, _ := c.ExpireGT(bg, "e", 50*sec).Result(); !ok {
			t.Error("EXPIRE GT larger failed")
		}
		if ok, _ := c.ExpireLT(bg, "e", 60*sec).Result(); ok {
			t.Error("EXPIRE LT larger succeeded")
		}
		if ok, _ := c.ExpireXX(bg, "e", 40*sec).Result(); !ok {
			t.Error("EXPIRE XX failed")
		}
		check("e", 40*sec)
		if ok, _ := c.PExpire(bg, "e", 2500*time.Millisecond).Result(); !ok {
			t.Error("PEXPIRE failed")
		}
		check("e", 3*sec)
		if ok, _ := c.ExpireAt(bg, "e", now.Add(100*sec)).Result(); !ok {
			t.Error("EXPIREAT failed")
		}
		check("e", 100*sec)
		if ok, _ := c.PExpireAt(bg, "e", now.Add(200*sec)).Result(); !ok {
			t.Error("PEXPIREAT failed")
		}
		check("e", 200*sec)
		if got, _ := c.Get(bg, "e").Result(); got != "v" {
			t.Errorf("value after EXPIRE = %q", got)
		}
		if ok, _ := c.Persist(bg, "e").Result(); !ok {
			t.Error("PERSIST failed")
		}
		check("e", -1)
		if ok, _ := c.Persist(bg, "e").Result(); ok {
			t.Error("PERSIST without expiry succeeded")
		}
		if ok, _ := c.Persist(bg, "absent").Result(); ok {
			t.Error("PERSIST absent succeeded")
		}
		if ok, _ := c.Expire(bg, "absent", sec).Result(); ok {
			t.Error("EXPIRE absent succeeded")
		}
		// An expiry in the past deletes, with a tombstone.
		if ok, _ := c.Expire(bg, "e", -sec).Result(); !ok {
			t.Error("EXPIRE negative failed")
		}
		check("e", -2)
		if obj := ts.b.Object("e"); !crdt.Tombstone(obj, ts.clock.NowMs()) || crdt.DeletedAt(obj) == 0 {
			t.Errorf("EXPIRE in the past left %+v", obj)
		}
		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"expire", "e", "10", "nx", "xx"}, "ERR NX and XX, GT or LT options at the same time are not compatible"},
			{[]any{"expire", "e", "10", "gt", "lt"}, "ERR GT and LT options at the same time are not compatible"},
			{[]any{"expire", "e", "10", "bogus"}, "ERR Unsupported option bogus"},
			{[]any{"expire", "e", "ten"}, "ERR value is not an integer or out of range"},
			{[]any{"expire", "e", "9223372036854775807"}, "ERR invalid expire time in 'expire' command"},
			{[]any{"pexpire", "e", "9223372036854775807"}, "ERR invalid expire time in 'pexpire' command"},
		} {
			if err := c.Do(bg, tc.args...).Err(); errText(err) != tc.want {
				t.Errorf("%v: %q, want %q", tc.args, errText(err), tc.want)
			}
		}

		// GETEX.
		c.Set(bg, "g", "v", 0)
		if got, _ := c.GetEx(bg, "g", 5*sec).Result(); got != "v" {
			t.Errorf("GETEX EX = %q", got)
		}
		check("g", 5*sec)
		if got, _ := c.Do(bg, "getex", "g").Text(); got != "v" {
			t.Errorf("GETEX = %q", got)
		}
		check("g", 5*sec)
		if got, _ := c.GetEx(bg, "g", 0).Result(); got != "v" {
			t.Errorf("GETEX PERSIST = %q", got)
		}
		check("g", -1)
		if got, _ := c.Do(bg, "getex", "g", "pxat", now.Add(-sec).UnixMilli()).Text(); got != "v" {
			t.Errorf("GETEX PXAT past = %q", got)
		}
		check("g", -2)
		if err := c.GetEx(bg, "g", sec).Err(); err != redis.Nil {
			t.Errorf("GETEX absent: %v", err)
		}
	})
}

func TestScanKeys(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		var want []string
		for i := 0; i < 25; i++ {
			k := fmt.Sprintf("user:%02d", i)
			want = append(want, k)
			c.Set(bg, k, "v", 0)
		}
		c.Set(bg, "other", "v", 0)
		c.Set(bg, "gone", "v", 0)
		c.Del(bg, "gone")
		c.Set(bg, "user:expired", "v", time.Second)
		ts.clock.Advance(2000)

		if n, _ := c.DBSize(bg).Result(); n != 26 {
			t.Errorf("DBSIZE = %d", n)
		}
		keys, _ := c.Keys(bg, "user:*").Result()
		slices.Sort(keys)
		if !slices.Equal(keys, want) {
			t.Errorf("KEYS user:* = %v", keys)
		}
		if keys, _ := c.Keys(bg, "user:1?").Result(); len(keys) != 10 {
			t.Errorf("KEYS user:1? = %v", keys)
		}
		var got []string
		var cursor uint64
		for pages := 0; ; pages++ {
			ks, next, err := c.Scan(bg, cursor, "user:*", 7).Result()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, ks...)
			if cursor = next; cursor == 0 {
				if pages < 3 {
					t.Errorf("SCAN took %d pages", pages+1)
				}
				break
			}
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("SCAN = %v", got)
		}
		if ks, _, _ := c.ScanType(bg, 0, "", 100, "string").Result(); len(ks) != 26 {
			t.Errorf("SCAN TYPE string: %d keys", len(ks))
		}
		if ks, _, _ := c.ScanType(bg, 0, "", 100, "hash").Result(); len(ks) != 0 {
			t.Errorf("SCAN TYPE hash: %v", ks)
		}
		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"scan", "x"}, "ERR invalid cursor"},
			{[]any{"scan", "1x"}, "ERR invalid cursor"},
			{[]any{"scan", " 1"}, "ERR invalid cursor"},
			{[]any{"scan", "0", "count", "0"}, "ERR syntax error"},
			{[]any{"scan", "0", "count", "x"}, "ERR value is not an integer or out of range"},
			{[]any{"scan", "0", "match"}, "ERR syntax error"},
			{[]any{"scan", "0", "bogus", "1"}, "ERR syntax error"},
		} {
			if err := c.Do(bg, tc.args...).Err(); errText(err) != tc.want {
				t.Errorf("%v: %q, want %q", tc.args, errText(err), tc.want)
			}
		}
	})
}

// Writes whose outcome depends on the current value read first; plain
// overwrites do not.
func TestReadFirst(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("SET", "k", "v")
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"SET", "k", "v"}, false},
		{[]string{"SET", "k", "v", "EX", "10"}, false},
		{[]string{"MSET", "k", "v"}, false},
		{[]string{"SETEX", "k", "10", "v"}, false},
		{[]string{"SET", "k", "v", "NX"}, true},
		{[]string{"SET", "k", "v", "XX"}, true},
		{[]string{"SET", "k", "v", "GET"}, true},
		{[]string{"SET", "k", "v", "KEEPTTL"}, true},
		{[]string{"SETNX", "k", "v"}, true},
		{[]string{"GETSET", "k", "v"}, true},
		{[]string{"EXPIRE", "k", "100"}, true},
		{[]string{"PERSIST", "k"}, true},
		{[]string{"GETEX", "k", "EX", "100"}, true},
		{[]string{"DEL", "k"}, true},
		{[]string{"VSET", "k", "", "v"}, false},
	} {
		r.do(tc.args...)
		if got := ts.b.LastWrite().ReadFirst; got != tc.want {
			t.Errorf("%v: ReadFirst = %v, want %v", tc.args, got, tc.want)
		}
	}
}

func TestPlainWritesCollapseSiblings(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 3, "")
	c.Set(bg, "k", "a", 0)
	// A concurrent write through another node, blind to ours.
	ts.clock.Advance(1)
	ts.b.WriteAs("n2", "k", nil, []byte("b"))
	if got, _ := crdt.Siblings(ts.b.Object("k"), ts.clock.NowMs()); len(got) != 2 {
		t.Fatalf("%d siblings", len(got))
	}
	if got, _ := c.Get(bg, "k").Result(); got != "b" {
		t.Errorf("GET of siblings = %q, want the latest", got)
	}
	c.Set(bg, "k", "c", 0)
	if got, _ := crdt.Siblings(ts.b.Object("k"), ts.clock.NowMs()); len(got) != 1 || string(got[0].Value) != "c" {
		t.Errorf("SET left %+v", got)
	}
}

func TestVersioned(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		vget := func(args ...any) (string, []string) {
			t.Helper()
			res, err := c.Do(bg, append([]any{"vget"}, args...)...).Slice()
			if err != nil || len(res) != 2 {
				t.Fatalf("VGET %v = %v, %v", args, res, err)
			}
			var vals []string
			for _, v := range res[1].([]any) {
				vals = append(vals, v.(string))
			}
			return res[0].(string), vals
		}
		tok, vals := vget("cart")
		if tok != "" || len(vals) != 0 {
			t.Fatalf("VGET absent = %q %v", tok, vals)
		}
		t1, err := c.Do(bg, "vset", "cart", "", "apple").Text()
		if err != nil || t1 == "" {
			t.Fatalf("VSET blind = %q, %v", t1, err)
		}
		// Two clients write with the same context: both survive.
		t2, _ := c.Do(bg, "vset", "cart", t1, "apple,pear").Text()
		ts.clock.Advance(1)
		t3, _ := c.Do(bg, "vset", "cart", t1, "apple,fig").Text()
		tok, vals = vget("cart")
		if !slices.Equal(vals, []string{"apple,pear", "apple,fig"}) || tok != t3 || t2 == t3 {
			t.Fatalf("VGET siblings = %q %v (t2 %q t3 %q)", tok, vals, t2, t3)
		}
		if got, _ := c.Get(bg, "cart").Result(); got != "apple,fig" {
			t.Errorf("GET of siblings = %q", got)
		}
		// The merged write supersedes both.
		t4, _ := c.Do(bg, "vset", "cart", tok, "apple,pear,fig", "ex", 60).Text()
		tok, vals = vget("cart", "r", 2)
		if !slices.Equal(vals, []string{"apple,pear,fig"}) || tok != t4 {
			t.Errorf("VGET merged = %q %v", tok, vals)
		}
		if ts.b.LastRead().R != 2 {
			t.Errorf("VGET R 2: ReadOptions %+v", ts.b.LastRead())
		}
		if got, _ := c.TTL(bg, "cart").Result(); got != time.Minute {
			t.Errorf("VSET EX: TTL %v", got)
		}
		vget("cart", "LOCAL")
		if !ts.b.LastRead().Local {
			t.Errorf("VGET LOCAL: ReadOptions %+v", ts.b.LastRead())
		}
		if _, err := c.Do(bg, "vset", "cart", tok, "x", "w", 3).Text(); err != nil || ts.b.LastWrite().W != 3 {
			t.Errorf("VSET W 3: %v, %+v", err, ts.b.LastWrite())
		}
		// VDEL with a stale token leaves the newer value beside the tombstone.
		tdel, err := c.Do(bg, "vdel", "cart", t4).Text()
		if err != nil || tdel == "" {
			t.Fatalf("VDEL = %q, %v", tdel, err)
		}
		tok, vals = vget("cart")
		if !slices.Equal(vals, []string{"x"}) || tok != tdel {
			t.Errorf("after stale VDEL: %q %v", tok, vals)
		}
		tdel, _ = c.Do(bg, "vdel", "cart", tok).Text()
		tok, vals = vget("cart")
		if len(vals) != 0 || tok != tdel || tok == "" {
			t.Errorf("after VDEL: %q %v", tok, vals)
		}
		if err := c.Get(bg, "cart").Err(); err != redis.Nil {
			t.Errorf("GET after VDEL: %v", err)
		}

		for _, tc := range []struct {
			args []any
			want string
		}{
			{[]any{"vset", "k", "!!!", "v"}, "ERR invalid context token"},
			{[]any{"vset", "k", "AQ", "v"}, "ERR invalid context token"},
			{[]any{"vdel", "k", "zzzz"}, "ERR invalid context token"},
			{[]any{"vset", "k", dvv.EncodeToken(dvv.VV{"n1": 1<<64 - 1}), "v"}, "ERR invalid context token"},
			{[]any{"vget", "k", "r", "x"}, "ERR value is not an integer or out of range"},
			{[]any{"vget", "k", "r", "0"}, "ERR R and W must be between 1 and N"},
			{[]any{"vget", "k", "r", "4"}, "ERR R and W must be between 1 and N"},
			{[]any{"vset", "k", "", "v", "w", "-1"}, "ERR R and W must be between 1 and N"},
			{[]any{"vset", "k", "", "v", "w", "99999999999"}, "ERR value is not an integer or out of range"},
			{[]any{"vset", "k", "", "v", "w", "4"}, "ERR R and W must be between 1 and N"},
			{[]any{"vget", "k", "r"}, "ERR syntax error"},
			{[]any{"vget", "k", "bogus"}, "ERR syntax error"},
			{[]any{"vset", "k", "", "v", "ex", "1", "px", "1"}, "ERR syntax error"},
			{[]any{"vset", "k", "", "v", "ex", "0"}, "ERR invalid expire time in 'vset' command"},
			{[]any{"vdel", "k", "", "ex", "1"}, "ERR syntax error"},
			{[]any{"vset", "k", ""}, "ERR wrong number of arguments for 'vset' command"},
		} {
			if err := c.Do(bg, tc.args...).Err(); errText(err) != tc.want {
				t.Errorf("%v: %q, want %q", tc.args, errText(err), tc.want)
			}
		}
	})
}

func TestErrorMapping(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 3, "")
	for _, tc := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: 1 of 2 replicas answered", coordinator.ErrNoQuorum), "NOQUORUM coordinator: not enough replicas answered: 1 of 2 replicas answered"},
		{coordinator.ErrQuorumRange, "ERR R and W must be between 1 and N"},
		{fmt.Errorf("wrapped: %w", coordinator.ErrNotReplica), "TRYAGAIN wrapped: coordinator: this node is not a replica of the key"},
		{fmt.Errorf("%w: forged", peer.ErrBadContext), "ERR invalid context token"},
		{fmt.Errorf("%w: bad", dvv.ErrBadToken), "ERR invalid context token"},
		{fmt.Errorf("disk on fire\r\nline two"), "ERR disk on fire  line two"},
	} {
		ts.b.SetError(tc.err)
		for _, args := range [][]any{{"get", "k"}, {"set", "k", "v"}, {"del", "k"}, {"vget", "k"}, {"vset", "k", "", "v"}, {"scan", "0"}, {"dbsize"}, {"mget", "a", "b"}, {"expire", "k", "1"}} {
			if err := c.Do(bg, args...).Err(); errText(err) != tc.want {
				t.Errorf("%v with %v: %q, want %q", args, tc.err, errText(err), tc.want)
			}
		}
	}
	ts.b.SetError(nil)
	if err := c.Ping(bg).Err(); err != nil {
		t.Errorf("PING after errors: %v", err)
	}
}
