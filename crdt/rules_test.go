package crdt

import (
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// node is one replica of a key in the rule tests, coordinating as actor.
type node struct {
	t     *testing.T
	actor string
	o     Object
}

// clock hands out dots increasing across all nodes (as hybrid-logical
// counters do).
var testClock uint64 = 1000

func (n *node) st(now int64) Stamp {
	testClock++
	return Stamp{Dot: dvv.Dot{Actor: n.actor, Counter: testClock}, Now: now, Nanos: int64(testClock)}
}

// apply merges a delta into the node's state and advances the clock past it.
func (n *node) apply(d Object) Object {
	n.t.Helper()
	if err := d.Validate(); err != nil {
		n.t.Fatalf("invalid delta: %v", err)
	}
	testClock = max(testClock, Top(d, n.actor))
	n.o = Merge(n.o, d)
	return d
}

func nodes(t *testing.T, k int) []*node {
	var out []*node
	for i := range k {
		out = append(out, &node{t: t, actor: string(rune('A' + i))})
	}
	return out
}

// sync makes every node hold the merge of all.
func sync(ns ...*node) {
	var all Object
	for _, n := range ns {
		all = Merge(all, n.o)
	}
	for _, n := range ns {
		n.o = all
	}
}

const now = 1_000_000

func get(t *testing.T, o Object) string {
	t.Helper()
	b, ok, err := Get(o, now)
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "<nil>"
	}
	return string(b)
}

func hash(t *testing.T, o Object) string {
	t.Helper()
	fv, err := HGetAll(o, now)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, x := range fv {
		parts = append(parts, string(x.Field)+"="+string(x.Value))
	}
	return strings.Join(parts, ",")
}

func members(t *testing.T, o Object) string {
	t.Helper()
	ms, err := Members(o, now)
	if err != nil {
		t.Fatal(err)
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, string(m))
	}
	return strings.Join(parts, ",")
}

func set(n *node, v string) {
	d, _, err := Set(n.o, n.st(now), []byte(v), SetOptions{})
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
}

func doIncr(n *node, by int64) int64 {
	d, v, err := IncrBy(n.o, n.st(now), by)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return v
}

func TestLegacyDVVObjectsReadAndRoundTripUnchanged(t *testing.T) {
	var o dvv.Object
	o = dvv.Update(o, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 5}, Timestamp: 10, Value: []byte("a")})
	o = dvv.Update(o, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 7}, Timestamp: 20, Expiry: now + 5000, Value: []byte("b")})
	o = dvv.Update(o, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n3", Counter: 9}, Timestamp: 5, Tombstone: true})
	raw := o.Encode()
	c, err := Decode(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Encode(); string(got) != string(raw) {
		t.Fatalf("re-encoding changed the bytes:\n%x\n%x", raw, got)
	}
	w, _ := dvv.Winner(o, now)
	if got := get(t, c); got != string(w.Value) {
		t.Fatalf("GET = %q, dvv winner %q", got, w.Value)
	}
	sibs, _ := Siblings(c, now)
	if len(sibs) != len(dvv.Live(o, now)) {
		t.Fatalf("siblings %v, dvv live %v", sibs, dvv.Live(o, now))
	}
	if at, ok := Expiry(c, now); !ok || at != now+5000 {
		t.Fatalf("legacy expiry of the winner = %d %v", at, ok)
	}
	// A plain SET keeps the dvv format; so merges with legacy states.
	n := &node{t: t, actor: "n1", o: c}
	set(n, "x")
	if n.o.Encode()[0] != formatDVV {
		t.Fatal("a plain string object left format 1")
	}
	back, ok := n.o.DVV()
	if !ok || !dvv.Equal(back, dvv.Merge(o, back)) {
		t.Fatal("a new string state does not merge with the legacy one as dvv would")
	}
	// After its expiry, the legacy sibling is collected as dvv.Expire does.
	e, _ := dvv.Expire(o, now+6000)
	col, changed := Collect(c, now+6000)
	if !changed || string(col.Encode()) != string(e.Encode()) {
		t.Fatalf("Collect differs from dvv.Expire")
	}
}

func TestSetNXXXGetKeepTTL(t *testing.T) {
	n := nodes(t, 1)[0]
	d, r, _ := Set(n.o, n.st(now), []byte("v"), SetOptions{XX: true})
	if r.Written || !d.IsZero() {
		t.Fatal("SET XX on a missing key wrote")
	}
	d, r, _ = Set(n.o, n.st(now), []byte("v1"), SetOptions{NX: true, Expiry: now + 100})
	if !r.Written {
		t.Fatal("SET NX on a missing key did not write")
	}
	n.apply(d)
	if _, r, _ = Set(n.o, n.st(now), []byte("v2"), SetOptions{NX: true}); r.Written {
		t.Fatal("SET NX on a present key wrote")
	}
	d, r, _ = Set(n.o, n.st(now), []byte("v2"), SetOptions{Get: true, KeepTTL: true})
	n.apply(d)
	if string(r.Old) != "v1" || !r.HadOld || get(t, n.o) != "v2" {
		t.Fatalf("SET GET returned %q, value %q", r.Old, get(t, n.o))
	}
	if at, ok := Expiry(n.o, now); !ok || at != now+100 {
		t.Fatal("KEEPTTL lost the expiry")
	}
	set(n, "v3")
	if _, ok := Expiry(n.o, now); ok {
		t.Fatal("SET kept the expiry")
	}
	if get(t, Merge(n.o, Object{})) != "v3" || get(t, n.o) != "v3" {
		t.Fatal("value")
	}
	// SET GET on another type: WRONGTYPE; plain SET overwrites it.
	d, _, _ = SAdd(Object{}, n.st(now), [][]byte{[]byte("m")})
	n.o = Object{}
	n.apply(d)
	if _, _, err := Set(n.o, n.st(now), []byte("x"), SetOptions{Get: true}); !errors.Is(err, ErrWrongType) {
		t.Fatalf("SET GET on a set: %v", err)
	}
	set(n, "x")
	if TypeOf(n.o, now) != KindString || len(n.o.set) != 0 {
		t.Fatal("SET did not supersede the set")
	}
}

func TestAppendSetRange(t *testing.T) {
	n := nodes(t, 1)[0]
	d, l, _ := Append(n.o, n.st(now), []byte("Hello"))
	n.apply(d)
	d, l, _ = Append(n.o, n.st(now), []byte(" World"))
	n.apply(d)
	if l != 11 || get(t, n.o) != "Hello World" {
		t.Fatalf("APPEND: %d %q", l, get(t, n.o))
	}
	d, l, _ = SetRange(n.o, n.st(now), 6, []byte("Redis"))
	n.apply(d)
	if l != 11 || get(t, n.o) != "Hello Redis" {
		t.Fatalf("SETRANGE: %q", get(t, n.o))
	}
	d, l, _ = SetRange(Object{}, n.st(now), 3, []byte("x"))
	if b, _, _ := Get(Merge(Object{}, d), now); l != 4 || string(b) != "\x00\x00\x00x" {
		t.Fatalf("SETRANGE padding: %q", b)
	}
	if d, l, _ := SetRange(n.o, n.st(now), 50, nil); !d.IsZero() || l != 11 {
		t.Fatal("SETRANGE with an empty value wrote")
	}
	if _, _, err := SetRange(n.o, n.st(now), MaxStringLen, []byte("x")); !errors.Is(err, ErrTooLarge) {
		t.Fatal(err)
	}
	if _, _, err := SetRange(n.o, n.st(now), -1, []byte("x")); !errors.Is(err, ErrOffset) {
		t.Fatal(err)
	}
}

func TestCounterIncrementsFromEveryReplicaAddUp(t *testing.T) {
	ns := nodes(t, 3)
	for i, n := range ns {
		for range i + 1 {
			doIncr(n, 10)
		}
		doIncr(n, -1)
	}
	sync(ns...)
	if got := get(t, ns[0].o); got != "57" { // 3 replicas: 10−1, 20−1, 30−1
		t.Fatalf("sum = %s", got)
	}
	if !IsCounter(ns[0].o, now) {
		t.Fatal("not a counter")
	}
}

func TestCounterBaseOfAConvertedValueCountsOnce(t *testing.T) {
	ns := nodes(t, 3)
	set(ns[0], "10")
	sync(ns...)
	// Both convert the same plain value concurrently.
	if v := doIncr(ns[0], 1); v != 11 {
		t.Fatalf("INCR replied %d", v)
	}
	if v := doIncr(ns[1], 5); v != 15 {
		t.Fatalf("INCR replied %d", v)
	}
	sync(ns...)
	if got := get(t, ns[2].o); got != "16" {
		t.Fatalf("value = %s, want 10 + 1 + 5", got)
	}
}

func TestCounterDelRemovesOnlyObservedIncrements(t *testing.T) {
	ns := nodes(t, 2)
	doIncr(ns[0], 5)
	sync(ns...)
	d, ok := Del(ns[1].o, ns[1].st(now)) // observed the 5
	ns[1].apply(d)
	doIncr(ns[0], 1) // concurrent with the DEL
	sync(ns...)
	if !ok || get(t, ns[0].o) != "1" {
		t.Fatalf("after DEL ∥ INCR: %s, want only the concurrent increment", get(t, ns[0].o))
	}
	// And the actor's next increments continue from there.
	doIncr(ns[0], 2)
	doIncr(ns[1], 3)
	sync(ns...)
	if get(t, ns[1].o) != "6" {
		t.Fatalf("got %s", get(t, ns[1].o))
	}
	// A SET observing the counter resets it; a concurrent INCR is applied
	// on top of the SET value.
	set(ns[1], "100")
	doIncr(ns[0], 7)
	sync(ns...)
	if get(t, ns[0].o) != "107" {
		t.Fatalf("SET ∥ INCR: %s", get(t, ns[0].o))
	}
}

func TestCounterErrors(t *testing.T) {
	n := nodes(t, 1)[0]
	set(n, "abc")
	if _, _, err := IncrBy(n.o, n.st(now), 1); !errors.Is(err, ErrNotInteger) {
		t.Fatal(err)
	}
	if _, _, err := IncrByFloat(n.o, n.st(now), 1); !errors.Is(err, ErrNotFloat) {
		t.Fatal(err)
	}
	set(n, "1.5")
	if _, _, err := IncrBy(n.o, n.st(now), 1); !errors.Is(err, ErrNotInteger) {
		t.Fatal(err)
	}
	set(n, "10.5")
	d, v, err := IncrByFloat(n.o, n.st(now), 0.1)
	n.apply(d)
	if err != nil || string(v) != "10.6" || get(t, n.o) != "10.6" {
		t.Fatalf("INCRBYFLOAT: %q %v", v, err)
	}
	d, v, _ = IncrByFloat(n.o, n.st(now), -0.6)
	n.apply(d)
	if string(v) != "10" {
		t.Fatalf("INCRBYFLOAT back to an integer: %q", v)
	}
	if got := doIncr(n, 1); got != 11 {
		t.Fatalf("INCR after INCRBYFLOAT: %d", got)
	}
	if _, _, err := IncrByFloat(n.o, n.st(now), math.Inf(1)); !errors.Is(err, ErrNaN) {
		t.Fatal(err)
	}
	set(n, "9223372036854775806")
	doIncr(n, 1)
	if _, _, err := IncrBy(n.o, n.st(now), 1); !errors.Is(err, ErrOverflow) {
		t.Fatal(err)
	}
	set(n, "-9223372036854775807")
	if v := doIncr(n, -1); v != math.MinInt64 || get(t, n.o) != "-9223372036854775808" {
		t.Fatal("MinInt64")
	}
	if _, _, err := IncrBy(n.o, n.st(now), -1); !errors.Is(err, ErrOverflow) {
		t.Fatal(err)
	}
	d, _, _ = HSet(Object{}, n.st(now), []FieldValue{{Field: []byte("f"), Value: []byte("1")}})
	if _, _, err := IncrBy(Merge(Object{}, d), n.st(now), 1); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
}

func hset(n *node, f, v string) {
	d, _, err := HSet(n.o, n.st(now), []FieldValue{{Field: []byte(f), Value: []byte(v)}})
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
}

func hdel(n *node, f string) int64 {
	d, k, err := HDel(n.o, n.st(now), [][]byte{[]byte(f)})
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return k
}

func TestHashUpdateWinsOverConcurrentHDel(t *testing.T) {
	ns := nodes(t, 2)
	hset(ns[0], "f", "v1")
	hset(ns[0], "g", "w")
	sync(ns...)
	if hdel(ns[1], "f") != 1 || hdel(ns[1], "g") != 1 {
		t.Fatal("HDEL count")
	}
	hset(ns[0], "f", "v2") // concurrent with the HDEL
	sync(ns...)
	if got := hash(t, ns[0].o); got != "f=v2" {
		t.Fatalf("HGETALL = %s, want the concurrent update to survive and g removed", got)
	}
	d, set, _ := HSetNX(ns[0].o, ns[0].st(now), []byte("f"), []byte("x"))
	if set || !d.IsZero() {
		t.Fatal("HSETNX on an existing field")
	}
	d, set, _ = HSetNX(ns[0].o, ns[0].st(now), []byte("h"), []byte("x"))
	ns[0].apply(d)
	if !set || hash(t, ns[0].o) != "f=v2,h=x" {
		t.Fatal("HSETNX on a new field")
	}
	// Removing the last field removes the key.
	hdel(ns[0], "f")
	hdel(ns[0], "h")
	if Live(ns[0].o, now) || !Tombstone(ns[0].o, now) {
		t.Fatal("an empty hash still exists")
	}
}

func TestHIncrByFieldsAddUp(t *testing.T) {
	ns := nodes(t, 3)
	for _, n := range ns {
		d, _, err := HIncrBy(n.o, n.st(now), []byte("qty"), 2)
		if err != nil {
			t.Fatal(err)
		}
		n.apply(d)
	}
	sync(ns...)
	if got := hash(t, ns[0].o); got != "qty=6" {
		t.Fatalf("%s", got)
	}
	// HDEL ∥ HINCRBY: only the concurrent increment survives.
	hdel(ns[1], "qty")
	d, v, _ := HIncrBy(ns[0].o, ns[0].st(now), []byte("qty"), 1)
	ns[0].apply(d)
	sync(ns...)
	if v != 7 || hash(t, ns[2].o) != "qty=1" {
		t.Fatalf("HDEL ∥ HINCRBY: reply %d, hash %s", v, hash(t, ns[2].o))
	}
	hset(ns[0], "name", "x")
	if _, _, err := HIncrBy(ns[0].o, ns[0].st(now), []byte("name"), 1); !errors.Is(err, ErrHashNotInteger) {
		t.Fatal(err)
	}
	if _, _, err := HIncrByFloat(ns[0].o, ns[0].st(now), []byte("name"), 1); !errors.Is(err, ErrHashNotFloat) {
		t.Fatal(err)
	}
	d, b, _ := HIncrByFloat(ns[0].o, ns[0].st(now), []byte("qty"), 0.5)
	ns[0].apply(d)
	if string(b) != "1.5" {
		t.Fatalf("HINCRBYFLOAT %q", b)
	}
}

func TestHashFieldExpiry(t *testing.T) {
	ns := nodes(t, 2)
	hset(ns[0], "f", "v")
	hset(ns[0], "g", "w")
	sync(ns...)
	f := [][]byte{[]byte("f")}
	d, codes, _ := HExpire(ns[0].o, ns[0].st(now), now+5000, ExpireAlways, f)
	ns[0].apply(d)
	d, _, _ = HExpire(ns[1].o, ns[1].st(now), now+9000, ExpireAlways, f)
	ns[1].apply(d)
	sync(ns...)
	if at, code, _ := FieldExpiry(ns[0].o, now, []byte("f")); codes[0] != FieldSet || code != 1 || at != now+9000 {
		t.Fatalf("concurrent HEXPIREs: %d, want the later deadline", at)
	}
	// HPERSIST ∥ HEXPIRE: persist wins.
	d, codes, _ = HPersist(ns[0].o, ns[0].st(now), f)
	ns[0].apply(d)
	d, _, _ = HExpire(ns[1].o, ns[1].st(now), now+1000, ExpireAlways, f)
	ns[1].apply(d)
	sync(ns...)
	if _, code, _ := FieldExpiry(ns[0].o, now, []byte("f")); codes[0] != FieldSet || code != -1 {
		t.Fatalf("HPERSIST ∥ HEXPIRE: code %d", code)
	}
	d, codes, _ = HExpire(ns[0].o, ns[0].st(now), now+10, ExpireNX, [][]byte{[]byte("g"), []byte("nope")})
	ns[0].apply(d)
	if !slices.Equal(codes, []int64{FieldSet, FieldMissing}) {
		t.Fatalf("codes %v", codes)
	}
	if got, _ := HGetAll(ns[0].o, now+10); len(got) != 1 {
		t.Fatal("an expired field is still read")
	}
	col, changed := Collect(ns[0].o, now+10)
	if !changed || len(col.hash) != 1 || !Equal(Merge(col, ns[0].o), col) {
		t.Fatal("Collect of an expired field")
	}
	// HSET on an expired field counts it as new and clears its expiry.
	n := &node{t: t, actor: "A", o: ns[0].o}
	d, added, _ := HSet(n.o, n.st(now+20), []FieldValue{{Field: []byte("g"), Value: []byte("new")}})
	n.apply(d)
	if _, code, _ := FieldExpiry(n.o, now+20, []byte("g")); added != 1 || code != -1 {
		t.Fatalf("HSET of an expired field: added %d code %d", added, code)
	}
	d, codes, _ = HExpire(n.o, n.st(now), now-1, ExpireAlways, [][]byte{[]byte("g")})
	n.apply(d)
	if codes[0] != FieldDeleted || hash(t, n.o) != "f=v" {
		t.Fatal("HEXPIRE in the past deletes the field")
	}
}

func sadd(n *node, ms ...string) int64 {
	var b [][]byte
	for _, m := range ms {
		b = append(b, []byte(m))
	}
	d, k, err := SAdd(n.o, n.st(now), b)
	if err != nil {
		n.t.Fatal(err)
	}
	n.apply(d)
	return k
}

func TestSetAddWinsOverConcurrentRemove(t *testing.T) {
	ns := nodes(t, 2)
	if sadd(ns[0], "a", "b", "c", "a") != 3 {
		t.Fatal("SADD count")
	}
	sync(ns...)
	d, k, _ := SRem(ns[1].o, ns[1].st(now), [][]byte{[]byte("a"), []byte("b"), []byte("zz")})
	ns[1].apply(d)
	if sadd(ns[0], "a") != 0 { // re-add, concurrent with the SREM
		t.Fatal("SADD of a present member counted")
	}
	sync(ns...)
	if got := members(t, ns[0].o); k != 2 || got != "a,c" {
		t.Fatalf("SMEMBERS = %s", got)
	}
	d, popped, _ := SPop(ns[0].o, ns[0].st(now), [][]byte{[]byte("c"), []byte("q")})
	ns[0].apply(d)
	if len(popped) != 1 || members(t, ns[0].o) != "a" {
		t.Fatal("SPOP")
	}
	dst := &node{t: t, actor: "A"}
	ds, dd, moved, _ := SMove(ns[0].o, dst.o, ns[0].st(now), []byte("a"))
	ns[0].apply(ds)
	dst.apply(dd)
	if !moved || Live(ns[0].o, now) || members(t, dst.o) != "a" {
		t.Fatal("SMOVE")
	}
	set(ns[1], "s")
	if _, _, _, err := SMove(dst.o, ns[1].o, ns[0].st(now), []byte("a")); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
}

func TestExpiryLaterDeadlineWinsPersistWins(t *testing.T) {
	for _, order := range []bool{false, true} {
		ns := nodes(t, 3)
		set(ns[0], "v")
		sync(ns...)
		d1, _ := Expire(ns[0].o, ns[0].st(now), now+5000, ExpireAlways)
		d2, _ := Expire(ns[1].o, ns[1].st(now), now+9000, ExpireAlways)
		a, b := Merge(ns[0].apply(d1), ns[1].o), Merge(ns[1].apply(d2), ns[0].o)
		if order {
			a, b = b, a
		}
		m := Merge(Merge(ns[2].o, a), b)
		if at, ok := Expiry(m, now); !ok || at != now+9000 {
			t.Fatalf("concurrent EXPIREs: %d %v", at, ok)
		}
		// PERSIST ∥ EXPIRE: persist wins.
		ns[0].o, ns[1].o = m, m
		d1, ok1 := Persist(m, ns[0].st(now))
		d2, _ = Expire(m, ns[1].st(now), now+100, ExpireAlways)
		if m2 := Merge(Merge(m, d2), d1); !ok1 || !Equal(m2, Merge(Merge(m, d1), d2)) {
			t.Fatal("PERSIST")
		} else if _, ok := Expiry(m2, now); ok {
			t.Fatal("EXPIRE won over a concurrent PERSIST")
		}
		// An EXPIRE after the PERSIST (observing it) sets a deadline again.
		m3 := Merge(Merge(m, d1), d2)
		d3, _ := Expire(m3, ns[0].st(now), now+100, ExpireAlways)
		if at, _ := Expiry(Merge(m3, d3), now); at != now+100 {
			t.Fatal("EXPIRE after PERSIST")
		}
	}
}

func TestExpireConditionsAndPast(t *testing.T) {
	n := nodes(t, 1)[0]
	if d, ok := Expire(n.o, n.st(now), now+5, ExpireAlways); ok || !d.IsZero() {
		t.Fatal("EXPIRE on a missing key")
	}
	set(n, "v")
	for _, c := range []struct {
		cond ExpireCond
		at   int64
		ok   bool
	}{{ExpireXX, now + 10, false}, {ExpireGT, now + 10, false}, {ExpireLT, now + 10, true}, {ExpireNX, now + 20, false}, {ExpireGT, now + 20, true}, {ExpireLT, now + 30, false}} {
		d, ok := Expire(n.o, n.st(now), c.at, c.cond)
		if ok != c.ok {
			t.Fatalf("cond %d at %d: %v", c.cond, c.at, ok)
		}
		if ok {
			n.apply(d)
		}
	}
	if d, ok := Persist(n.o, n.st(now)); ok {
		n.apply(d)
	}
	if d, ok := Persist(n.o, n.st(now)); ok || !d.IsZero() {
		t.Fatal("PERSIST without an expiry")
	}
	d, _ := Expire(n.o, n.st(now), now, ExpireAlways)
	n.apply(d)
	if Live(n.o, now) {
		t.Fatal("EXPIRE in the past keeps the key")
	}
	// A key read after its deadline is absent, and a write starts afresh.
	hset(n, "a", "1")
	d, _ = Expire(n.o, n.st(now), now+10, ExpireAlways)
	n.apply(d)
	if Live(n.o, now+10) {
		t.Fatal("expired key is live")
	}
	d, added, _ := HSet(n.o, n.st(now+10), []FieldValue{{Field: []byte("b"), Value: []byte("2")}})
	n.apply(d)
	if fv, _ := HGetAll(n.o, now+10); added != 1 || len(fv) != 1 || string(fv[0].Field) != "b" {
		t.Fatalf("write after expiry: %v", fv)
	}
	if _, ok := Expiry(n.o, now+10); ok {
		t.Fatal("write after expiry kept the deadline")
	}
}

func TestDelRemovesOnlyWhatItObserved(t *testing.T) {
	ns := nodes(t, 2)
	set(ns[0], "v1")
	sync(ns...)
	d, ok := Del(ns[1].o, ns[1].st(now))
	ns[1].apply(d)
	set(ns[0], "v2") // concurrent
	sync(ns...)
	if !ok || get(t, ns[0].o) != "v2" {
		t.Fatalf("DEL ∥ SET: %s", get(t, ns[0].o))
	}
	d, ok = Del(ns[0].o, ns[0].st(now))
	ns[0].apply(d)
	sync(ns...)
	if !ok || Live(ns[1].o, now) || !Tombstone(ns[1].o, now) || DeletedAt(ns[1].o) == 0 {
		t.Fatal("DEL")
	}
	if d, ok := Del(ns[1].o, ns[1].st(now)); ok || !d.IsZero() {
		t.Fatal("DEL of a missing key wrote")
	}
}

func TestConcurrentWritesOfDifferentTypes(t *testing.T) {
	ns := nodes(t, 2)
	set(ns[0], "s")       // earlier dot
	hset(ns[1], "f", "v") // later dot
	sync(ns...)
	o := ns[0].o
	if TypeOf(o, now) != KindHash {
		t.Fatalf("type %v, want the latest write's (hash)", TypeOf(o, now))
	}
	if _, _, err := Get(o, now); !errors.Is(err, ErrWrongType) {
		t.Fatal("GET on the conflicted key")
	}
	if len(o.str.regs) != 1 || len(o.hash) != 1 {
		t.Fatal("both writes must survive the merge")
	}
	// The next write of the read type resolves the conflict.
	hset(ns[0], "g", "w")
	if len(ns[0].o.str.regs) != 0 || hash(t, ns[0].o) != "f=v,g=w" {
		t.Fatal("HSET did not resolve the conflict")
	}
	// A write of the losing type is WRONGTYPE; SET supersedes all.
	if _, _, err := SAdd(ns[0].o, ns[0].st(now), [][]byte{[]byte("m")}); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
}

func TestVSetVDelTokenSemantics(t *testing.T) {
	ns := nodes(t, 2)
	d, _ := VSet(Object{}, ns[0].st(now), nil, []byte("a"))
	ns[0].apply(d)
	sync(ns...)
	tok := ns[0].o.Context()
	d, _ = VSet(ns[1].o, ns[1].st(now), nil, []byte("b")) // blind: a sibling
	ns[1].apply(d)
	d, _ = VSet(ns[1].o, ns[1].st(now), tok, []byte("c")) // supersedes "a" only
	ns[1].apply(d)
	sibs, _ := Siblings(ns[1].o, now)
	if len(sibs) != 2 || string(sibs[0].Value) != "b" && string(sibs[1].Value) != "b" {
		t.Fatalf("siblings %v", sibs)
	}
	d, _ = VDel(ns[1].o, ns[1].st(now), ns[1].o.Context())
	ns[1].apply(d)
	if Live(ns[1].o, now) {
		t.Fatal("VDEL")
	}
	if _, _, err := HSet(ns[0].o, ns[0].st(now), nil); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
	ns[0].o = Object{}
	hset(ns[0], "f", "v")
	if _, err := VSet(ns[0].o, ns[0].st(now), nil, []byte("x")); !errors.Is(err, ErrWrongType) {
		t.Fatal(err)
	}
}

// A delta joins a replica that has the coordinator's prior state exactly as
// the coordinator's whole new state does, and stays small.
func TestDeltaMergesLikeTheWholeObject(t *testing.T) {
	n := nodes(t, 1)[0]
	var ms [][]byte
	var fs []FieldValue
	for i := range 1000 {
		ms = append(ms, []byte(strings.Repeat("m", 1+i%7)+string(rune('a'+i%26))+string(rune(i))))
		fs = append(fs, FieldValue{Field: ms[i], Value: []byte("v")})
	}
	d, _, _ := SAdd(n.o, n.st(now), ms)
	n.apply(d)
	d, _, _ = HSet(Object{}, n.st(now), fs)
	prior := n.o
	for i, op := range []func(Object, Stamp) (Object, error){
		func(o Object, st Stamp) (Object, error) {
			d, _, err := SAdd(o, st, [][]byte{[]byte("new")})
			return d, err
		},
		func(o Object, st Stamp) (Object, error) { d, _, err := SRem(o, st, ms[:1]); return d, err },
		func(o Object, st Stamp) (Object, error) { d, _, err := SAdd(o, st, ms[5:6]); return d, err },
	} {
		d, err := op(prior, n.st(now))
		if err != nil {
			t.Fatal(err)
		}
		full := Merge(prior, d)
		if !Equal(Merge(prior, d), Merge(prior, full)) {
			t.Fatalf("op %d: delta and whole state differ", i)
		}
		if len(d.Encode()) > 64 {
			t.Fatalf("op %d: delta of %d bytes on a 1000-member set", i, len(d.Encode()))
		}
		prior = full
	}
}

func TestGetSetAndTTL(t *testing.T) {
	n := nodes(t, 1)[0]
	if TTL(n.o, now) != -2 {
		t.Fatal("TTL of a missing key")
	}
	d, old, had, _ := GetSet(n.o, n.st(now), []byte("a"))
	n.apply(d)
	if had || old != nil || TTL(n.o, now) != -1 {
		t.Fatal("GETSET on a missing key")
	}
	d, _ = Expire(n.o, n.st(now), now+1500, ExpireAlways)
	n.apply(d)
	d, old, had, _ = GetSet(n.o, n.st(now), []byte("b"))
	if TTL(n.o, now) != 1500 {
		t.Fatal("TTL")
	}
	n.apply(d)
	if !had || string(old) != "a" || TTL(n.o, now) != -1 || get(t, n.o) != "b" {
		t.Fatal("GETSET keeps no TTL and returns the old value")
	}
}

// TestHistoryChangesWithEveryWrite: History is equal for equal write sets
// (also when reached by different merge orders) and changes with any
// write, blind or not, of any type.
func TestHistoryChangesWithEveryWrite(t *testing.T) {
	a := dvv.Dot{Actor: "a", Counter: 1}
	st := Stamp{Dot: a, Now: 1000}
	d1, _, _ := Set(Object{}, st, []byte("1"), SetOptions{})
	o1 := Merge(Object{}, d1)
	st.Dot.Counter = 2
	d2, _, _ := IncrBy(o1, st, 1)
	o2 := Merge(o1, d2)
	if !Equal(History(o1), History(Merge(Object{}, d1))) {
		t.Fatal("equal states, different histories")
	}
	if Equal(History(o1), History(o2)) || Equal(History(Object{}), History(o1)) {
		t.Fatal("a write left the history unchanged")
	}
	// A delta merged without its predecessor (a gap) is still seen.
	b1 := Stamp{Dot: dvv.Dot{Actor: "b", Counter: 1}, Now: 1000}
	b2 := Stamp{Dot: dvv.Dot{Actor: "b", Counter: 2}, Now: 1000}
	e1, _, _ := SAdd(Object{}, b1, [][]byte{[]byte("m")})
	e2, _, _ := SAdd(Merge(Object{}, e1), b2, [][]byte{[]byte("n")})
	gap := Merge(Object{}, e2)
	if Equal(History(gap), History(Object{})) {
		t.Fatal("a delta beyond a gap left the history unchanged")
	}
	if !Equal(History(Merge(gap, e1)), History(Merge(Merge(Object{}, e1), e2))) {
		t.Fatal("merge order changed the history")
	}
}

// incrFloat runs INCRBYFLOAT on n and returns its reply.
func incrFloat(t *testing.T, n *node, by float64) string {
	t.Helper()
	d, v, err := IncrByFloat(n.o, n.st(now), by)
	if err != nil {
		t.Fatal(err)
	}
	n.apply(d)
	if got := get(t, n.o); got != string(v) {
		t.Fatalf("INCRBYFLOAT replied %q, GET reads %q", v, got)
	}
	return string(v)
}

// TestIncrByFloatAfterRemovals: INCRBYFLOAT's replies are Redis 7.0's
// (redis-server's, for each sequence) after SET and DEL removed earlier
// increments of the same actor, and where Redis's long double rounds a
// float64 sum back to the decimal typed (0.1 + 0.2 is 0.3).
func TestIncrByFloatAfterRemovals(t *testing.T) {
	type step struct {
		op   string // "set v", "del", or an increment
		want string
	}
	for _, tc := range [][]step{
		{{"set 10.5", ""}, {"0.1", "10.6"}, {"del", ""}, {"0.1", "0.1"}, {"0.2", "0.3"}},
		{{"set 10.5", ""}, {"0.1", "10.6"}, {"0.1", "10.7"}, {"0.1", "10.8"}, {"-10.8", "0"}},
		{{"1e300", "1" + strings.Repeat("0", 300)}, {"del", ""}, {"0.3333333333333333", "0.3333333333333333"}, {"0.3333333333333333", "0.6666666666666666"}},
		{{"1e300", "1" + strings.Repeat("0", 300)}, {"set 3", ""}, {"1.5", "4.5"}, {"1e-20", "4.5"}},
		{{"1e300", "1" + strings.Repeat("0", 300)}, {"-1e300", "0"}, {"0.5", "0.5"}},
		{{"set 100", ""}, {"0.01", "100.01"}, {"del", ""}, {"-0.07", "-0.07"}, {"0.7", "0.63"}},
		{{"set 1.1", ""}, {"2.2", "3.3"}, {"set 0.1", ""}, {"0.2", "0.3"}},
		{{"set 123456789012345678", ""}, {"0", "123456789012345678"}},
		{{"1e17", "100000000000000000"}, {"set 1", ""}, {"1", "2"}},
		{{"0.1", "0.1"}, {"0.2", "0.3"}, {"set 0", ""}, {"0.1", "0.1"}},
	} {
		n := nodes(t, 1)[0]
		var trace []string
	steps:
		for _, s := range tc {
			trace = append(trace, s.op)
			switch {
			case strings.HasPrefix(s.op, "set "):
				set(n, strings.TrimPrefix(s.op, "set "))
			case s.op == "del":
				d, _ := Del(n.o, n.st(now))
				n.apply(d)
			default:
				by, err := strconv.ParseFloat(s.op, 64)
				if err != nil {
					t.Fatal(err)
				}
				if got := incrFloat(t, n, by); got != s.want {
					t.Errorf("%v: INCRBYFLOAT %s = %s, want %s", trace, s.op, got, s.want)
					break steps
				}
			}
		}
	}
}

// TestIncrByFloatConcurrent: two actors increment the same SET value
// concurrently (after each had removed its own earlier increments, so
// each starts its totals again): merged, the value counts once and both
// increments count.
func TestIncrByFloatConcurrent(t *testing.T) {
	ns := nodes(t, 3)
	incrFloat(t, ns[0], 1e300)
	incrFloat(t, ns[1], -7.75)
	sync(ns...)
	set(ns[0], "10.5")
	sync(ns...)
	if got := incrFloat(t, ns[0], 0.25); got != "10.75" {
		t.Fatalf("A: %s", got)
	}
	if got := incrFloat(t, ns[1], 1.5); got != "12" {
		t.Fatalf("B: %s", got)
	}
	sync(ns...)
	if got := get(t, ns[2].o); got != "12.25" {
		t.Fatalf("merged: %s, want 10.5 + 0.25 + 1.5", got)
	}
	// One adds a float, the other an integer, on a SET value.
	set(ns[2], "3")
	sync(ns...)
	incrFloat(t, ns[0], 0.5)
	doIncr(ns[1], 2)
	sync(ns...)
	if got := get(t, ns[2].o); got != "5.5" {
		t.Fatalf("INCRBYFLOAT ∥ INCR on a SET value: %s, want 3 + 0.5 + 2", got)
	}
}
