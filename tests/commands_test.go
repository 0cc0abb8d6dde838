package tests

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// must returns a function that fails the test on a command error and
// otherwise returns the command's value: must(c.Get(ctx, k).Result())(t).
func must[T any](v T, err error) func(t *testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return v
	}
}

func wantErr(t *testing.T, err error, prefix string) {
	t.Helper()
	if err == nil || !strings.HasPrefix(err.Error(), prefix) {
		t.Fatalf("want error starting %q, got %v", prefix, err)
	}
}

func wantNil(t *testing.T, err error) {
	t.Helper()
	if err != redis.Nil {
		t.Fatalf("want nil reply, got err=%v", err)
	}
}

// TestEveryCommandAgainstRealProcess drives each command of the foundation
// issue through go-redis (RESP3 and RESP2) against a real dynakv process.
func TestEveryCommandAgainstRealProcess(t *testing.T) {
	everyCommand(t, StartServer(t, "n1"))
}

// TestEveryCommandAcrossCluster runs the same script through one node of a
// four-node cluster (N=3), so a quarter of the keys' writes are forwarded
// and reads gather replicas from other nodes.
func TestEveryCommandAcrossCluster(t *testing.T) {
	heavy(t)
	everyCommand(t, StartCluster(t, 4)[1])
}

func everyCommand(t *testing.T, p *Proc) {
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := p.Client(t, func(o *redis.Options) { o.Protocol = proto })
			ctx := ctxT(t)
			k := func(s string) string { return fmt.Sprintf("p%d:%s", proto, s) }

			// Connection commands.
			if got := must(c.Ping(ctx).Result())(t); got != "PONG" {
				t.Fatalf("PING = %q", got)
			}
			if got := must(c.Do(ctx, "PING", "hi").Text())(t); got != "hi" {
				t.Fatalf("PING hi = %q", got)
			}
			if got := must(c.Echo(ctx, "hello").Result())(t); got != "hello" {
				t.Fatalf("ECHO = %q", got)
			}
			must(c.Do(ctx, "SELECT", 0).Result())(t)
			wantErr(t, c.Do(ctx, "SELECT", 16).Err(), "ERR DB index is out of range")
			must(c.Do(ctx, "CLIENT", "SETNAME", "tester").Result())(t)
			if got := must(c.ClientGetName(ctx).Result())(t); got != "tester" {
				t.Fatalf("CLIENT GETNAME = %q", got)
			}
			if id := must(c.ClientID(ctx).Result())(t); id <= 0 {
				t.Fatalf("CLIENT ID = %d", id)
			}
			must(c.Do(ctx, "CLIENT", "SETINFO", "LIB-NAME", "x").Result())(t)
			if info := must(c.Do(ctx, "CLIENT", "INFO").Text())(t); !strings.Contains(info, "name=tester") {
				t.Fatalf("CLIENT INFO = %q", info)
			}
			if n := must(c.Do(ctx, "COMMAND", "COUNT").Int())(t); n < 35 { // the commands this node serves
				t.Fatalf("COMMAND COUNT = %d", n)
			}
			must(c.Do(ctx, "COMMAND", "DOCS").Result())(t)
			ci := must(c.Do(ctx, "COMMAND", "INFO", "get").Slice())(t)
			if len(ci) != 1 {
				t.Fatalf("COMMAND INFO get = %v", ci)
			}
			info := must(c.Info(ctx).Result())(t)
			for _, s := range []string{"# Server", "# Clients", "# Stats", "# Keyspace", "redis_version:"} {
				if !strings.Contains(info, s) {
					t.Fatalf("INFO lacks %q:\n%s", s, info)
				}
			}
			wantErr(t, c.Do(ctx, "NOSUCHCMD", "a").Err(), "ERR unknown command 'NOSUCHCMD', with args beginning with: 'a'")
			wantErr(t, c.Do(ctx, "GET").Err(), "ERR wrong number of arguments for 'get' command")

			// Strings and expiry.
			must(c.Set(ctx, k("a"), "1", 0).Result())(t)
			if got := must(c.Get(ctx, k("a")).Result())(t); got != "1" {
				t.Fatalf("GET = %q", got)
			}
			wantNil(t, c.Get(ctx, k("missing")).Err())
			if ok := must(c.SetNX(ctx, k("a"), "2", 0).Result())(t); ok {
				t.Fatal("SET NX on existing key succeeded")
			}
			if ok := must(c.SetNX(ctx, k("nx"), "2", 0).Result())(t); !ok {
				t.Fatal("SET NX on a new key failed")
			}
			if ok := must(c.SetXX(ctx, k("nope"), "2", 0).Result())(t); ok {
				t.Fatal("SET XX on a missing key succeeded")
			}
			if old := must(c.SetArgs(ctx, k("a"), "3", redis.SetArgs{Get: true}).Result())(t); old != "1" {
				t.Fatalf("SET GET returned %q", old)
			}
			must(c.Set(ctx, k("ex"), "v", 100*time.Second).Result())(t)
			if ttl := must(c.TTL(ctx, k("ex")).Result())(t); ttl <= 90*time.Second || ttl > 100*time.Second {
				t.Fatalf("TTL after SET EX 100 = %v", ttl)
			}
			must(c.SetArgs(ctx, k("ex"), "w", redis.SetArgs{KeepTTL: true}).Result())(t)
			if ttl := must(c.PTTL(ctx, k("ex")).Result())(t); ttl <= 90*time.Second {
				t.Fatalf("PTTL after SET KEEPTTL = %v", ttl)
			}
			must(c.Do(ctx, "SET", k("pxat"), "v", "PXAT", time.Now().Add(time.Hour).UnixMilli()).Result())(t)
			must(c.Do(ctx, "SET", k("exat"), "v", "EXAT", time.Now().Add(time.Hour).Unix()).Result())(t)
			if ttl := must(c.TTL(ctx, k("exat")).Result())(t); ttl < 3500*time.Second {
				t.Fatalf("TTL after EXAT = %v", ttl)
			}
			wantErr(t, c.Do(ctx, "SET", k("x"), "v", "EX", 0).Err(), "ERR invalid expire time in 'set' command")
			wantErr(t, c.Do(ctx, "SET", k("x"), "v", "EX", "abc").Err(), "ERR value is not an integer or out of range")
			wantErr(t, c.Do(ctx, "SET", k("x"), "v", "NX", "XX").Err(), "ERR syntax error")
			must(c.Do(ctx, "SETNX", k("setnx"), "v").Result())(t)
			must(c.SetEx(ctx, k("setex"), "v", 50*time.Second).Result())(t)
			must(c.Do(ctx, "PSETEX", k("psetex"), 50000, "v").Result())(t)
			if ttl := must(c.PTTL(ctx, k("psetex")).Result())(t); ttl <= 0 || ttl > 50*time.Second {
				t.Fatalf("PTTL after PSETEX = %v", ttl)
			}
			if got := must(c.GetDel(ctx, k("setnx")).Result())(t); got != "v" {
				t.Fatalf("GETDEL = %q", got)
			}
			wantNil(t, c.Get(ctx, k("setnx")).Err())
			if got := must(c.GetEx(ctx, k("setex"), 0).Result())(t); got != "v" {
				t.Fatalf("GETEX = %q", got)
			}
			must(c.Do(ctx, "GETEX", k("setex"), "PERSIST").Result())(t)
			if ttl := must(c.TTL(ctx, k("setex")).Result())(t); ttl != -1 {
				t.Fatalf("TTL after GETEX PERSIST = %v", ttl)
			}
			must(c.Do(ctx, "GETEX", k("setex"), "EX", 500).Result())(t)
			if ttl := must(c.TTL(ctx, k("setex")).Result())(t); ttl <= 0 {
				t.Fatalf("TTL after GETEX EX = %v", ttl)
			}

			must(c.MSet(ctx, k("m1"), "x", k("m2"), "y").Result())(t)
			if got := must(c.MGet(ctx, k("m1"), k("missing"), k("m2")).Result())(t); len(got) != 3 || got[0] != "x" || got[1] != nil || got[2] != "y" {
				t.Fatalf("MGET = %#v", got)
			}
			if n := must(c.Exists(ctx, k("m1"), k("m2"), k("missing"), k("m1")).Result())(t); n != 3 {
				t.Fatalf("EXISTS = %d, want 3", n)
			}
			if n := must(c.Del(ctx, k("m1"), k("missing")).Result())(t); n != 1 {
				t.Fatalf("DEL = %d", n)
			}
			if n := must(c.Unlink(ctx, k("m2")).Result())(t); n != 1 {
				t.Fatalf("UNLINK = %d", n)
			}
			if n := must(c.Exists(ctx, k("m1"), k("m2")).Result())(t); n != 0 {
				t.Fatalf("EXISTS after DEL = %d", n)
			}

			must(c.Set(ctx, k("e"), "v", 0).Result())(t)
			if ttl := must(c.TTL(ctx, k("e")).Result())(t); ttl != -1 {
				t.Fatalf("TTL without expiry = %v", ttl)
			}
			if ttl := must(c.PTTL(ctx, k("missing")).Result())(t); ttl != -2 {
				t.Fatalf("PTTL of a missing key = %v", ttl)
			}
			if ok := must(c.Expire(ctx, k("e"), 100*time.Second).Result())(t); !ok {
				t.Fatal("EXPIRE failed")
			}
			if ok := must(c.Expire(ctx, k("missing"), 100*time.Second).Result())(t); ok {
				t.Fatal("EXPIRE of a missing key succeeded")
			}
			if ok := must(c.ExpireNX(ctx, k("e"), 10*time.Second).Result())(t); ok {
				t.Fatal("EXPIRE NX on a key with a TTL succeeded")
			}
			if ok := must(c.ExpireGT(ctx, k("e"), 200*time.Second).Result())(t); !ok {
				t.Fatal("EXPIRE GT with a larger TTL failed")
			}
			if ok := must(c.ExpireLT(ctx, k("e"), 300*time.Second).Result())(t); ok {
				t.Fatal("EXPIRE LT with a larger TTL succeeded")
			}
			must(c.PExpire(ctx, k("e"), 150*time.Second).Result())(t)
			if ttl := must(c.PTTL(ctx, k("e")).Result())(t); ttl > 150*time.Second || ttl < 140*time.Second {
				t.Fatalf("PTTL after PEXPIRE = %v", ttl)
			}
			must(c.ExpireAt(ctx, k("e"), time.Now().Add(time.Hour)).Result())(t)
			must(c.PExpireAt(ctx, k("e"), time.Now().Add(2*time.Hour)).Result())(t)
			if ttl := must(c.TTL(ctx, k("e")).Result())(t); ttl < time.Hour+59*time.Minute {
				t.Fatalf("TTL after PEXPIREAT = %v", ttl)
			}
			if ok := must(c.Persist(ctx, k("e")).Result())(t); !ok {
				t.Fatal("PERSIST failed")
			}
			if ok := must(c.Persist(ctx, k("e")).Result())(t); ok {
				t.Fatal("PERSIST on a key without TTL succeeded")
			}
			must(c.ExpireAt(ctx, k("e"), time.Now().Add(-time.Second)).Result())(t)
			if n := must(c.Exists(ctx, k("e")).Result())(t); n != 0 {
				t.Fatal("EXPIREAT in the past did not delete the key")
			}
			must(c.Set(ctx, k("short"), "v", 30*time.Millisecond).Result())(t)
			eventually(t, "key with PX 30 expired", 10*time.Second, func() error {
				if n, err := c.Exists(ctxT(t), k("short")).Result(); err != nil || n != 0 {
					return fmt.Errorf("EXISTS = %d, %v", n, err)
				}
				return nil
			})
			wantNil(t, c.Get(ctx, k("short")).Err())

			if typ := must(c.Type(ctx, k("a")).Result())(t); typ != "string" {
				t.Fatalf("TYPE = %q", typ)
			}
			if typ := must(c.Type(ctx, k("missing")).Result())(t); typ != "none" {
				t.Fatalf("TYPE missing = %q", typ)
			}
		})
	}
}

// TestKeyspaceCommands covers DBSIZE, KEYS and SCAN on a fresh process.
func TestKeyspaceCommands(t *testing.T) {
	heavy(t)
	p := StartServer(t, "n1")
	c := p.Client(t)
	ctx := ctxT(t)
	var want []string
	for i := 0; i < 300; i++ {
		key := fmt.Sprintf("user:%03d", i)
		want = append(want, key)
		must(c.Set(ctx, key, "v", 0).Result())(t)
	}
	must(c.Set(ctx, "other", "v", 0).Result())(t)
	must(c.Set(ctx, "gone", "v", 0).Result())(t)
	must(c.Del(ctx, "gone").Result())(t)
	if n := must(c.DBSize(ctx).Result())(t); n != 301 {
		t.Fatalf("DBSIZE = %d, want 301", n)
	}
	keys := must(c.Keys(ctx, "user:*").Result())(t)
	slices.Sort(keys)
	if !slices.Equal(keys, want) {
		t.Fatalf("KEYS user:* returned %d keys", len(keys))
	}
	var scanned []string
	var cursor uint64
	for i := 0; ; i++ {
		if i > 1000 {
			t.Fatal("SCAN does not terminate")
		}
		var page []string
		page, cursor = must2(t)(c.Scan(ctx, cursor, "user:*", 17).Result())
		scanned = append(scanned, page...)
		if cursor == 0 {
			break
		}
	}
	slices.Sort(scanned)
	scanned = slices.Compact(scanned)
	if !slices.Equal(scanned, want) {
		t.Fatalf("SCAN MATCH user:* returned %d distinct keys, want %d", len(scanned), len(want))
	}
	info := must(c.Info(ctx, "keyspace").Result())(t)
	if !strings.Contains(info, "db0:keys=301") {
		t.Fatalf("INFO keyspace = %q", info)
	}
}

func must2(t *testing.T) func([]string, uint64, error) ([]string, uint64) {
	return func(s []string, c uint64, err error) ([]string, uint64) {
		t.Helper()
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return s, c
	}
}

// vget returns the token and sibling values of key.
func vget(t *testing.T, c *redis.Client, key string, extra ...any) (string, []string) {
	t.Helper()
	res := must(c.Do(ctxT(t), append([]any{"VGET", key}, extra...)...).Slice())(t)
	if len(res) != 2 {
		t.Fatalf("VGET reply has %d elements: %#v", len(res), res)
	}
	var vals []string
	for _, v := range res[1].([]any) {
		vals = append(vals, v.(string))
	}
	slices.Sort(vals)
	return res[0].(string), vals
}

// TestVersionedCommands: concurrent VSETs with the same token become
// siblings; a VSET with the token of both resolves them; VDEL deletes what
// its token covers; GET picks one sibling deterministically.
func TestVersionedCommands(t *testing.T) {
	heavy(t)
	p := StartServer(t, "n1")
	c := p.Client(t)
	ctx := ctxT(t)
	tok, vals := vget(t, c, "cart")
	if tok != "" || len(vals) != 0 {
		t.Fatalf("VGET of a new key = %q %q", tok, vals)
	}
	t1 := must(c.Do(ctx, "VSET", "cart", "", "apple").Text())(t)
	if t1 == "" {
		t.Fatal("VSET returned an empty token")
	}
	// Two clients both read t1 and write concurrently.
	must(c.Do(ctx, "VSET", "cart", t1, "apple,pear").Text())(t)
	must(c.Do(ctx, "VSET", "cart", t1, "apple,fig").Text())(t)
	tok, vals = vget(t, c, "cart")
	if !slices.Equal(vals, []string{"apple,fig", "apple,pear"}) {
		t.Fatalf("same-token VSETs: want two siblings, got %q", vals)
	}
	first := must(c.Get(ctx, "cart").Result())(t)
	for i := 0; i < 5; i++ {
		if got := must(c.Get(ctx, "cart").Result())(t); got != first {
			t.Fatalf("GET on siblings not deterministic: %q then %q", first, got)
		}
	}
	must(c.Do(ctx, "VSET", "cart", tok, "apple,fig,pear").Text())(t)
	_, vals = vget(t, c, "cart")
	if !slices.Equal(vals, []string{"apple,fig,pear"}) {
		t.Fatalf("VSET with both siblings' token: want one value, got %q", vals)
	}
	// A stale token only supersedes what it saw.
	must(c.Do(ctx, "VSET", "cart", t1, "stale").Text())(t)
	_, vals = vget(t, c, "cart")
	if len(vals) != 2 {
		t.Fatalf("VSET with a stale token: want 2 siblings, got %q", vals)
	}
	tok, _ = vget(t, c, "cart", "R", 1, "LOCAL")
	must(c.Do(ctx, "VDEL", "cart", tok).Text())(t)
	tok, vals = vget(t, c, "cart")
	if len(vals) != 0 || tok == "" {
		t.Fatalf("after VDEL: token %q values %q (want a token and no values)", tok, vals)
	}
	wantNil(t, c.Get(ctx, "cart").Err())
	must(c.Do(ctx, "VSET", "ttl", "", "v", "PX", 100000).Text())(t)
	if ttl := must(c.PTTL(ctx, "ttl").Result())(t); ttl <= 0 {
		t.Fatalf("PTTL after VSET PX = %v", ttl)
	}
	must(c.Do(ctx, "VSET", "w", "", "v", "W", 1).Text())(t)
	wantErr(t, c.Do(ctx, "VSET", "cart", "!!notatoken", "v").Err(), "ERR invalid context token")
	wantErr(t, c.Do(ctx, "VGET", "cart", "R", 2).Err(), "ERR")
	wantErr(t, c.Do(ctx, "VSET", "cart", "", "v", "W", 0).Err(), "ERR")
	// SET over siblings overwrites them all (it uses the local context).
	must(c.Do(ctx, "VSET", "s", "", "a").Text())(t)
	must(c.Do(ctx, "VSET", "s", "", "b").Text())(t)
	must(c.Set(ctx, "s", "c", 0).Result())(t)
	if _, vals = vget(t, c, "s"); !slices.Equal(vals, []string{"c"}) {
		t.Fatalf("SET over siblings: %q", vals)
	}
}

// TestAuth: with --requirepass, commands need AUTH first.
func TestAuth(t *testing.T) {
	heavy(t)
	p := StartServer(t, "n1", "--requirepass", "s3cret")
	ctx := ctxT(t)
	anon := p.Client(t, func(o *redis.Options) { o.Protocol = 2 })
	wantErr(t, anon.Get(ctx, "k").Err(), "NOAUTH Authentication required.")
	bad := p.Client(t, func(o *redis.Options) { o.Password = "wrong" })
	wantErr(t, bad.Ping(ctx).Err(), "WRONGPASS")
	good := p.Client(t, func(o *redis.Options) { o.Password = "s3cret" })
	must(good.Set(ctx, "k", "v", 0).Result())(t)
	good2 := p.Client(t, func(o *redis.Options) { o.Password = "s3cret"; o.Protocol = 2 })
	if got := must(good2.Get(ctx, "k").Result())(t); got != "v" {
		t.Fatalf("GET = %q", got)
	}
}
