package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/redis/go-redis/v9"
)

// listWorkload is the list workload: RPUSH and LPUSH of unique elements
// to a few keys and LREM (count 0: every occurrence) of acknowledged ones,
// read with LRANGE 0 -1. Checker (crdt's sequence: concurrent pushes both
// kept, a removal removes the elements it saw):
//
//   - an element whose push was acknowledged is present unless an LREM
//     of it was sent and not answered 0 (lost otherwise);
//   - an element whose LREM replied 1 or more is absent (resurrected
//     otherwise);
//   - no element appears twice, nothing never pushed appears.
//
// That every replica holds the same elements in the same order after the
// heal is the suite's replica comparison (VGET key LOCAL renders a list's
// elements in order).
type listWorkload struct {
	counts
	gen     int
	next    int
	elems   [memberKeys]map[string]*member
	flushed flushSet
}

func newListWL() *listWorkload {
	w := &listWorkload{}
	w.reset()
	return w
}

func (w *listWorkload) reset() {
	for i := range w.elems {
		w.elems[i] = map[string]*member{}
	}
}

func (w *listWorkload) Name() string { return "list" }

func (w *listWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	i := rng.IntN(memberKeys)
	w.mu.Lock()
	key := keyName("list", w.gen, i)
	var e string
	if es := w.elems[i]; len(es) > 0 && rng.IntN(100) < 30 {
		for try := 0; try < 4 && e == ""; try++ {
			cand := fmt.Sprint("e", rng.IntN(w.next))
			if x := es[cand]; x != nil && x.add == acked && x.rem == notTried {
				e = cand
			}
		}
	}
	if e != "" {
		x := w.elems[i][e]
		x.rem = pending
		w.mu.Unlock()
		n, err := c.LRem(ctx, key, 0, e).Result()
		w.mu.Lock()
		defer w.mu.Unlock()
		x.rem, x.remReply = w.done(err), n
		return err
	}
	e = fmt.Sprint("e", w.next)
	w.next++
	x := &member{add: pending}
	w.elems[i][e] = x
	w.mu.Unlock()
	var err error
	if rng.IntN(2) == 0 {
		err = c.RPush(ctx, key, e).Err()
	} else {
		err = c.LPush(ctx, key, e).Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	x.add = w.done(err)
	return err
}

func (w *listWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range memberKeys {
		if len(w.elems[i]) > 0 {
			unsure := false
			for _, x := range w.elems[i] {
				unsure = unsure || x.add != acked || x.rem == unknown
			}
			w.flushed.add(keyName("list", w.gen, i), unsure)
		}
	}
	w.gen++
	w.reset()
}

func (w *listWorkload) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.flushed.names...)
	for i := range memberKeys {
		if len(w.elems[i]) > 0 {
			out = append(out, keyName("list", w.gen, i))
		}
	}
	return out
}

func (w *listWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	for i := range memberKeys {
		if len(w.elems[i]) == 0 {
			continue
		}
		key := keyName("list", w.gen, i)
		es, err := c.LRange(ctx, key, 0, -1).Result()
		if err != nil {
			r.Other++
			r.note("LRANGE %s: %v", key, err)
			continue
		}
		seen := map[string]int{}
		for _, e := range es {
			seen[e]++
		}
		var lost, back []string
		for e, x := range w.elems[i] {
			present := seen[e] > 0
			switch {
			case x.add == acked && (x.rem == notTried || x.rem == acked && x.remReply == 0) && !present:
				r.Lost++
				lost = append(lost, e)
			case x.rem == acked && x.remReply >= 1 && present:
				r.Resurrected++
				back = append(back, e)
			}
		}
		for e, n := range seen {
			switch {
			case w.elems[i][e] == nil:
				r.Other++
				r.note("%s holds %s, never pushed", key, e)
			case n > 1:
				r.Other++
				r.note("%s holds %s %d times, pushed once", key, e, n)
			}
		}
		slices.Sort(lost)
		slices.Sort(back)
		if len(lost) > 0 {
			r.note("%s lacks acknowledged pushes %s", key, short(lost))
		}
		if len(back) > 0 {
			r.note("%s: LREMs that replied 1 undone: %s", key, short(back))
		}
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}
