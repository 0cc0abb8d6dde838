package jepsen

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestCheckersCatchAnomalies: each checker passes a clean history and
// flags a lost write, a resurrected removal and a flushed key that came
// back, made by writing behind the workload's back on a healthy simulated
// cluster.
func TestCheckersCatchAnomalies(t *testing.T) {
	ctx := context.Background()
	c, cl := healthySim(t)
	rng := rand.New(rand.NewPCG(1, 2))
	drive := func(w Workload, n int) {
		for range n {
			if err := w.Op(ctx, rng, cl); err != nil {
				t.Fatalf("%s on a healthy cluster: %v", w.Name(), err)
			}
			c.settle()
		}
	}
	check := func(w Workload, lost, back, other int) {
		t.Helper()
		r := w.Check(ctx, cl)
		if r.Lost != lost || r.Resurrected != back || r.Other != other {
			t.Errorf("%s: lost %d resurrected %d other %d, want %d %d %d\n%s", w.Name(), r.Lost, r.Resurrected, r.Other, lost, back, other, r)
		}
		// Each anomaly is named with its key, for the evidence writer.
		named := map[string]int{}
		for _, a := range r.Anomalies {
			if !strings.HasPrefix(a.Key, w.Name()+":") {
				t.Errorf("%s: anomaly %v names another workload's key", w.Name(), a)
			}
			named[a.Kind]++
		}
		if named[kindLost] != lost || named[kindResurrected] != back || named[kindOther] != other || r.MoreAnomalies != 0 {
			t.Errorf("%s: anomalies named %v (and %d more), want lost %d resurrected %d other %d", w.Name(), r.Anomalies, r.MoreAnomalies, lost, back, other)
		}
	}

	kv := newKV()
	drive(kv, 60)
	check(kv, 0, 0, 0)
	var live, gone string
	for _, k := range kv.keys {
		switch {
		case k.del == notTried && live == "":
			live = k.name
		case k.del == acked && k.delReply == 1 && gone == "":
			gone = k.name
		}
	}
	if live == "" || gone == "" {
		t.Fatal("kv: the history has no live key or no deleted key")
	}
	cl.Del(ctx, live)
	cl.Set(ctx, gone, gone, 0)
	c.settle()
	check(kv, 1, 1, 0)
	if err := cl.FlushAll(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	kv.Flushed()
	cl.Set(ctx, live, live, 0) // a flushed key back
	c.settle()
	check(kv, 0, 1, 0)

	ctr := newCounter()
	drive(ctr, 30)
	check(ctr, 0, 0, 0)
	cl.IncrBy(ctx, keyName("counter", 0, 0), -1000)
	cl.IncrBy(ctx, keyName("counter", 0, 1), 1000)
	c.settle()
	check(ctr, 1, 0, 1)

	set := newSetWL()
	drive(set, 80)
	check(set, 0, 0, 0)
	tamperMembers(t, set, func(key, m string, removed bool) {
		if removed {
			cl.SAdd(ctx, key, m)
		} else {
			cl.SRem(ctx, key, m)
		}
	})
	c.settle()
	check(set, 1, 1, 0)

	hash := newHashWL()
	drive(hash, 80)
	check(hash, 0, 0, 0)
	tamperMembers(t, hash, func(key, m string, removed bool) {
		if removed {
			cl.HSet(ctx, key, m, value(m))
		} else {
			cl.HDel(ctx, key, m)
		}
	})
	c.settle()
	check(hash, 1, 1, 0)

	zs := newZSetWL()
	drive(zs, 120)
	check(zs, 0, 0, 0)
	var zLive, zGone, zIncd string
	var zLiveKey, zGoneKey, zIncdKey string
	for i, ms := range zs.members {
		for m, x := range ms {
			switch {
			case x.add == acked && x.rem == notTried && x.incAcked > 0 && zIncd == "":
				zIncd, zIncdKey = m, zs.key(i)
			case x.add == acked && x.rem == notTried && zLive == "":
				zLive, zLiveKey = m, zs.key(i)
			case x.rem == acked && x.remReply == 1 && zGone == "":
				zGone, zGoneKey = m, zs.key(i)
			}
		}
	}
	if zLive == "" || zGone == "" || zIncd == "" {
		t.Fatal("zset: the history has no live, removed or incremented member")
	}
	cl.ZRem(ctx, zLiveKey, zLive)
	cl.ZAdd(ctx, zGoneKey, redis.Z{Score: 1, Member: zGone})
	cl.ZIncrBy(ctx, zIncdKey, 1000, zIncd) // an increment nobody acknowledged
	c.settle()
	check(zs, 1, 1, 1)

	ls := newListWL()
	drive(ls, 80)
	check(ls, 0, 0, 0)
	var lGone string
	tamperMembers(t, ls, func(key, e string, removed bool) {
		if removed {
			cl.RPush(ctx, key, e)
			lGone = key
		} else {
			cl.LRem(ctx, key, 0, e)
		}
	})
	c.settle()
	check(ls, 1, 1, 0)
	cl.RPush(ctx, lGone, "e0", "e0") // a duplicate (and e0 perhaps never pushed there): the key reads as an anomaly
	c.settle()
	if r := ls.Check(ctx, cl); r.Other == 0 {
		t.Errorf("list: a duplicate element is no anomaly:\n%s", r)
	}

	gs := newGSet()
	drive(gs, 30)
	check(gs, 0, 0, 0)
	key := keyName("gset", 0, 0)
	tok, _, err := vget(ctx, cl, key, false)
	if err != nil {
		t.Fatal(err)
	}
	cl.Do(ctx, "VSET", key, tok, "")
	c.settle()
	if r := gs.Check(ctx, cl); r.Lost == 0 {
		t.Errorf("gset: overwriting %s with the empty set lost nothing:\n%s", key, r)
	}
}

// tamperMembers calls f on one acknowledged, unremoved member (removed
// false: take it away) and one whose remove replied 1 (removed true: put
// it back).
func tamperMembers(t *testing.T, w *memberWorkload, f func(key, m string, removed bool)) {
	t.Helper()
	var doneLive, doneGone bool
	for i, ms := range w.members {
		key := w.key(i)
		for m, x := range ms {
			switch {
			case !doneLive && x.add == acked && x.rem == notTried:
				f(key, m, false)
				doneLive = true
			case !doneGone && x.rem == acked && x.remReply == 1:
				f(key, m, true)
				doneGone = true
			}
		}
	}
	if !doneLive || !doneGone {
		t.Fatalf("%s: the history has no live member or no removed one", w.Name())
	}
}
