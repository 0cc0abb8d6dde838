package resp

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/ring"
	"github.com/redis/go-redis/v9"
)

// floatCursor is what a client that keeps SCAN's cursor as a double does
// to it: parse to float64, format back.
func floatCursor(s string) string {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// scanAllPages runs SCAN ... COUNT count from 0 to the end through conn
// (passing every cursor through floatCursor) and returns the keys of
// every page in order and the largest cursor seen.
func scanAllPages(t *testing.T, do func(args ...string) []any, count int) (keys []string, maxCursor uint64) {
	t.Helper()
	cursor := "0"
	for pages := 0; ; pages++ {
		if pages > 100000 {
			t.Fatal("SCAN does not end")
		}
		rep := do("SCAN", cursor, "COUNT", strconv.Itoa(count))
		next := rep[0].(string)
		for _, k := range rep[1].([]any) {
			keys = append(keys, k.(string))
		}
		u, err := strconv.ParseUint(next, 10, 64)
		if err != nil {
			t.Fatalf("cursor %q: %v", next, err)
		}
		maxCursor = max(maxCursor, u)
		if next == "0" {
			return keys, maxCursor
		}
		cursor = floatCursor(next)
	}
}

// TestScanCursorsFitADouble: SCAN's cursors stay below 2³², so a client
// that keeps them as doubles gets every key exactly once (issue 12).
func TestScanCursorsFitADouble(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 2, "")
	want := make([]string, 1000)
	for i := range want {
		want[i] = fmt.Sprintf("user:%d", i)
		if err := c.Set(bg, want[i], "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	do := func(args ...string) []any {
		a := make([]any, len(args))
		for i, s := range args {
			a[i] = s
		}
		rep, err := c.Do(bg, a...).Slice()
		if err != nil {
			t.Fatal(err)
		}
		return rep
	}
	for _, count := range []int{10, 333} {
		got, top := scanAllPages(t, do, count)
		if top >= 1<<32 {
			t.Errorf("COUNT %d: cursor %d is not below 2^32", count, top)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("COUNT %d: %d keys seen (%d distinct), want each of %d once", count, len(got), len(slices.Compact(slices.Clone(got))), len(want))
		}
	}
}

// bucketMates returns keys of one slot (hash tag {t}): the first n of
// {t}0, {t}1… and every key up to {t}3000 that shares a SCAN bucket
// (18 bits of hash) with another; shared is how many buckets hold more
// than one key. Deterministic.
func bucketMates(n int) (keys []string, shared int) {
	byBucket := map[uint64][]string{}
	for i := range 3000 {
		k := fmt.Sprintf("{t}%d", i)
		b := bucketOf([]byte(k))
		byBucket[b] = append(byBucket[b], k)
	}
	for _, ks := range byBucket {
		if len(ks) > 1 {
			shared++
			keys = append(keys, ks...)
		}
	}
	for i := range n {
		if k := fmt.Sprintf("{t}%d", i); len(byBucket[bucketOf([]byte(k))]) == 1 {
			keys = append(keys, k)
		}
	}
	return keys, shared
}

// TestScanPagesEndAtBucketBoundaries: keys of one slot share buckets (18
// bits of hash); a page of COUNT 1 takes a whole bucket, so resuming
// from the bucket neither skips nor repeats a key.
func TestScanPagesEndAtBucketBoundaries(t *testing.T) {
	ts := startServer(t, Config{})
	keys, shared := bucketMates(200)
	if shared < 2 {
		t.Fatalf("only %d shared buckets among the keys; the test needs some", shared)
	}
	for _, k := range keys {
		ts.b.Update(bg, []byte(k), coordinator.WriteOptions{}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.Set(cur, st, []byte("v"), crdt.SetOptions{})
			return d, err
		})
	}
	var got []string
	var cur uint64
	pages := 0
	for {
		var page []string
		next, err := ts.scanPage(allSlots, cur, 1, func(k []byte, _ crdt.Object) { page = append(page, string(k)) })
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, k := range page[1:] {
			if bucketOf([]byte(k)) != bucketOf([]byte(page[0])) {
				t.Fatalf("a COUNT 1 page spans buckets: %v", page)
			}
		}
		if next != 0 && bucketOf([]byte(page[0])) >= next {
			t.Fatalf("page of bucket %d returned cursor %d", bucketOf([]byte(page[0])), next)
		}
		got = append(got, page...)
		if cur = next; cur == 0 {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(keys)
	if !slices.Equal(got, keys) {
		t.Fatalf("%d keys seen, want each of %d once", len(got), len(keys))
	}
	buckets := map[uint64]bool{}
	for _, k := range keys {
		buckets[bucketOf([]byte(k))] = true
	}
	if pages != len(buckets) {
		t.Errorf("%d COUNT 1 pages for %d keys in %d buckets, want one page per bucket", pages, len(keys), len(buckets))
	}
	t.Logf("%d keys, %d buckets holding more than one, %d pages", len(keys), shared, pages)
}

// TestScanRangesSeeOnlyTheirSlots: a cluster-aware connection's keyspace
// (slot ranges) is paged and counted within its ranges only, each key
// once.
func TestScanRangesSeeOnlyTheirSlots(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client(t, 2, "")
	ranges := []slotRange{{0, 99}, {5000, 6000}, {16000, 16383}}
	in := func(k string) bool {
		s := int(ring.Slot([]byte(k)))
		for _, r := range ranges {
			if r.from <= s && s <= r.to {
				return true
			}
		}
		return false
	}
	var want []string
	for i := range 2000 {
		k := fmt.Sprintf("k%d", i)
		if err := c.Set(bg, k, "v", 0).Err(); err != nil {
			t.Fatal(err)
		}
		if in(k) {
			want = append(want, k)
		}
	}
	var got []string
	var cur uint64
	for {
		next, err := ts.scanPage(ranges, cur, 5, func(k []byte, _ crdt.Object) { got = append(got, string(k)) })
		if err != nil {
			t.Fatal(err)
		}
		if cur = next; cur == 0 {
			break
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("SCAN over ranges: %d keys, want %d", len(got), len(want))
	}
	n, _, err := ts.countKeys(ranges)
	if err != nil || n != int64(len(want)) {
		t.Fatalf("countKeys over ranges = %d, %v; want %d", n, err, len(want))
	}
	if n, _, _ := ts.countKeys(nil); n != 0 {
		t.Errorf("countKeys over no range = %d", n)
	}
	seed := uint64(12)
	rnd := rand.New(rand.NewPCG(seed, seed))
	for range 20 {
		k, err := ts.randomKey(ranges, rnd.Uint64, func(sk []byte) ([]byte, bool) { return ts.userKeyIn(0, sk) })
		if err != nil || k == nil || !in(string(k)) {
			t.Fatalf("randomKey over ranges = %q, %v (seed %d)", k, err, seed)
		}
	}
}

// TestRenameCopyKeepValueAndTTL: RENAME and COPY carry every type's value
// and the key's expiry (hash fields' too); RENAMENX and COPY without
// REPLACE leave a live destination alone.
func TestRenameCopyKeepValueAndTTL(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		must := func(err error) {
			t.Helper()
			if err != nil {
				t.Fatal(err)
			}
		}
		must(c.Set(bg, "s", "v", time.Minute).Err())
		must(c.Rename(bg, "s", "s2").Err())
		if v, _ := c.Get(bg, "s2").Result(); v != "v" {
			t.Errorf("GET s2 = %q", v)
		}
		if ttl, _ := c.PTTL(bg, "s2").Result(); ttl != time.Minute {
			t.Errorf("PTTL s2 = %v, want the source's 1m", ttl)
		}
		if n, _ := c.Exists(bg, "s").Result(); n != 0 {
			t.Error("RENAME left the source")
		}
		must(c.HSet(bg, "h", "f", "1", "g", "2").Err())
		must(c.Do(bg, "HPEXPIRE", "h", "5000", "FIELDS", "1", "g").Err())
		must(c.SAdd(bg, "set", "a", "b").Err())
		must(c.Set(bg, "n", "10", 0).Err())
		must(c.Incr(bg, "n").Err())
		for _, k := range []string{"h", "set", "n"} {
			if n, err := c.Copy(bg, k, k+"c", 0, false).Result(); n != 1 || err != nil {
				t.Fatalf("COPY %s = %d, %v", k, n, err)
			}
		}
		if m, _ := c.HGetAll(bg, "hc").Result(); len(m) != 2 || m["f"] != "1" || m["g"] != "2" {
			t.Errorf("HGETALL hc = %v", m)
		}
		if ttl, _ := c.Do(bg, "HPTTL", "hc", "FIELDS", "1", "g").Slice(); len(ttl) != 1 || ttl[0] != int64(5000) {
			t.Errorf("HPTTL hc g = %v, want the source field's 5000", ttl)
		}
		if ms, _ := c.SMembers(bg, "setc").Result(); len(ms) != 2 {
			t.Errorf("SMEMBERS setc = %v", ms)
		}
		if v, _ := c.Incr(bg, "nc").Result(); v != 12 {
			t.Errorf("INCR of the counter's copy = %d, want 12", v)
		}
		if n, _ := c.Copy(bg, "h", "setc", 0, false).Result(); n != 0 {
			t.Error("COPY onto a live key without REPLACE copied")
		}
		if n, _ := c.Copy(bg, "h", "setc", 0, true).Result(); n != 1 {
			t.Error("COPY REPLACE did not copy")
		}
		if typ, _ := c.Type(bg, "setc").Result(); typ != "hash" {
			t.Errorf("TYPE after COPY REPLACE = %s", typ)
		}
		if ok, _ := c.RenameNX(bg, "s2", "h").Result(); ok {
			t.Error("RENAMENX onto a live key renamed")
		}
		if ok, _ := c.RenameNX(bg, "s2", "s3").Result(); !ok {
			t.Error("RENAMENX onto a free key did not rename")
		}
		if err := c.Rename(bg, "nokey", "x").Err(); err == nil || err.Error() != "ERR no such key" {
			t.Errorf("RENAME of a missing key: %v", err)
		}
		if n, _ := c.Touch(bg, "s3", "h", "nokey").Result(); n != 2 {
			t.Errorf("TOUCH = %d, want 2", n)
		}
		ts.clock.Advance(int64(2 * time.Minute / time.Millisecond))
		if n, _ := c.Exists(bg, "s3").Result(); n != 0 {
			t.Error("the renamed key outlived its TTL")
		}
	})
}

// TestConformanceKeyspace compares RENAME, RENAMENX, COPY, TOUCH,
// EXPIRETIME, PEXPIRETIME and their errors with a real Redis 7, byte for
// byte, in RESP2 and RESP3.
func TestConformanceKeyspace(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			n := conformance.Compare(t, ref, dut, keyspaceScript, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}

const keyspaceScript = `
SET a 1
RENAME nokey b
RENAME a a
RENAMENX a a
RENAMENX nokey b
RENAMENX nokey nokey
PEXPIREAT a 4796065448600
RENAME a b
PEXPIRETIME b
EXPIRETIME b
EXISTS a
GET b
SET c x
RENAMENX b c
RENAMENX b d
GET d
PEXPIRETIME d
RENAME d c
GET c
PEXPIRETIME c
HSET {h}1 f v g w
SADD {h}s m1 m2
COPY {h}1 {h}2
% HGETALL {h}2
COPY {h}1 {h}2
COPY {h}1 {h}2 REPLACE
COPY {h}1 {h}1
COPY {h}1 {h}3 DB 0
COPY {h}1 {h}3 DB x
COPY {h}1 {h}3 DB 99
COPY {h}1 {h}3 DB -1
COPY {h}1 {h}1 DB 2
COPY {h}1 {h}1 DB 2
SELECT 2
% HGETALL {h}1
COPY {h}1 {h}1 DB 0 REPLACE
SELECT 0
COPY {h}1 {h}3 FOO
COPY {h}1 {h}3 DB
COPY {h}1 {h}3 REPLACE REPLACE
COPY nokey {h}3
COPY {h}s {h}s2
~ SMEMBERS {h}s2
TYPE {h}s2
RENAME {h}s {h}1
TYPE {h}1
TOUCH {h}1 {h}s nokey
TOUCH
RENAME
RENAME a
RENAME a b c
RENAMENX a
COPY a
EXPIRETIME nokey
EXPIRETIME c
PEXPIRETIME nokey
PEXPIREAT c 4796065448400
EXPIRETIME c
SET str 12345
COPY str {h}x
INCR str
GET {h}x
RENAMENX str str
RANDOMKEY x
DEL a b c d str {h}1 {h}2 {h}3 {h}s {h}s2 {h}x
RANDOMKEY
SET only v
RANDOMKEY
`

// TestDumpRestoreWithRedis: a DUMP of redis-server 7.0 (raw, integer and
// LZF strings, listpack and plain hashes, intsets and plain sets)
// RESTOREs into dynakv with its TTL, and dynakv's DUMP of it RESTOREs
// back into redis-server to the same value; RESTORE's errors are Redis's.
func TestDumpRestoreWithRedis(t *testing.T) {
	ref := redis.NewClient(&redis.Options{Addr: startRedis(t), MaxRetries: -1})
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
	big := map[string]any{}
	var members []any
	for i := range 600 {
		big[fmt.Sprintf("f%d", i)] = strings.Repeat("x", i%90)
		members = append(members, fmt.Sprintf("m%d", i))
	}
	must(ref.Set(bg, "raw", "hello", 0).Err())
	must(ref.Set(bg, "int", "-70000", 0).Err())
	must(ref.Set(bg, "lzf", strings.Repeat("ab", 100), time.Hour).Err())
	must(ref.HSet(bg, "lp", "f", "v", "g", "123").Err())
	must(ref.HSet(bg, "hash", big).Err())
	must(ref.SAdd(bg, "intset", 1, 2, 300, -5).Err())
	must(ref.SAdd(bg, "set", members...).Err())
	view := func(c *redis.Client, k string) string {
		switch c.Type(bg, k).Val() {
		case "string":
			return c.Get(bg, k).Val()
		case "hash":
			return fmt.Sprint(c.HGetAll(bg, k).Val())
		default:
			ms := c.SMembers(bg, k).Val()
			slices.Sort(ms)
			return fmt.Sprint(ms)
		}
	}
	for _, k := range []string{"raw", "int", "lzf", "lp", "hash", "intset", "set"} {
		p, err := ref.Dump(bg, k).Result()
		must(err)
		ttl := max(ref.PTTL(bg, k).Val(), 0)
		must(dut.Restore(bg, k, ttl, p).Err())
		if got, want := view(dut, k), view(ref, k); got != want {
			t.Errorf("%s: restored into dynakv as %.80s, want %.80s", k, got, want)
		}
		if ttl > 0 && dut.PTTL(bg, k).Val() <= 0 {
			t.Errorf("%s: the TTL was not restored", k)
		}
		back, err := dut.Dump(bg, k).Result()
		must(err)
		must(ref.Restore(bg, k+":back", 0, back).Err())
		if got, want := view(ref, k+":back"), view(ref, k); got != want {
			t.Errorf("%s: dynakv's DUMP restored into Redis as %.80s, want %.80s", k, got, want)
		}
	}
	p := ref.Dump(bg, "raw").Val()
	for _, c := range []struct {
		args []any
		want string
	}{
		{[]any{"RESTORE", "raw", 0, p}, "BUSYKEY Target key name already exists."},
		{[]any{"RESTORE", "x", -1, p}, "ERR Invalid TTL value, must be >= 0"},
		{[]any{"RESTORE", "x", 0, p[:len(p)-1] + "!"}, "ERR DUMP payload version or checksum are wrong"},
		{[]any{"RESTORE", "x", 0, p, "FREQ", 1, "IDLETIME", 1}, "ERR syntax error"},
	} {
		for _, cl := range []*redis.Client{ref, dut} {
			if err := cl.Do(bg, c.args...).Err(); err == nil || err.Error() != c.want {
				t.Errorf("%v: %v, want %s", c.args[:3], err, c.want)
			}
		}
	}
	must(dut.HSet(bg, "fttl", "f", "v").Err())
	must(dut.Do(bg, "HEXPIRE", "fttl", "100", "FIELDS", "1", "f").Err())
	if err := dut.Dump(bg, "fttl").Err(); err == nil || err.Error() != msgDumpFieldTTL {
		t.Errorf("DUMP of a hash with field TTLs: %v", err)
	}
}
