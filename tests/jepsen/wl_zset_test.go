package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// zsetWorkload is the sorted-set workload: ZADD of unique members to a few
// keys (member i's score is i), ZINCRBY of small integer steps on members
// whose ZADD was acknowledged and ZREM of acknowledged ones, read with
// ZRANGE WITHSCORES. Checker (add wins, ZINCRBY adds up: crdt's sorted
// set):
//
//   - a member whose ZADD was acknowledged is present unless a ZREM of it
//     was sent and not answered 0 (lost otherwise);
//   - its score is its ZADD's plus every acknowledged increment, plus some
//     of those of unknown outcome (the sum is exact within them: integers,
//     so no rounding);
//   - a member whose ZREM replied 1 is absent, unless an increment of
//     unknown outcome may have landed after the ZREM (ZINCRBY recreates a
//     member: then only noted);
//   - nothing never added is present.
//
// A member is incremented only before a ZREM of it is sent, so an
// acknowledged increment always precedes the removal.
type zsetWorkload struct {
	keyGens[zmember]
}

type zmember struct {
	score        int64   // the ZADD's
	add, rem     outcome // ZADD's, ZREM's
	remReply     int64
	incAcked     int64 // sum of acknowledged increments
	incUnsure    int64 // sum of increments of unknown outcome
	incsInFlight int   // increments sent, not answered
}

func newZSetWL() *zsetWorkload {
	w := &zsetWorkload{keyGens: keyGens[zmember]{prefix: "zset"}}
	w.reset()
	return w
}

func (w *zsetWorkload) Name() string { return "zset" }

// pick returns an acknowledged member of key i with no ZREM sent, or "".
func (w *zsetWorkload) pick(rng *rand.Rand, i int) string {
	ms := w.members[i]
	if len(ms) == 0 {
		return ""
	}
	for range 4 {
		cand := fmt.Sprint("z", rng.IntN(w.next))
		if x := ms[cand]; x != nil && x.add == acked && x.rem == notTried && x.incsInFlight == 0 {
			return cand
		}
	}
	return ""
}

func (w *zsetWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	i := rng.IntN(memberKeys)
	w.mu.Lock()
	key := w.key(i)
	switch roll := rng.IntN(100); {
	case roll < 25:
		if m := w.pick(rng, i); m != "" {
			x := w.members[i][m]
			x.rem = pending
			w.mu.Unlock()
			n, err := c.ZRem(ctx, key, m).Result()
			w.mu.Lock()
			defer w.mu.Unlock()
			x.rem, x.remReply = w.done(err), n
			return err
		}
	case roll < 55:
		if m := w.pick(rng, i); m != "" {
			x := w.members[i][m]
			by := int64(1 + rng.IntN(5))
			x.incsInFlight++
			w.mu.Unlock()
			err := c.ZIncrBy(ctx, key, float64(by), m).Err()
			w.mu.Lock()
			defer w.mu.Unlock()
			x.incsInFlight--
			if w.done(err) == acked {
				x.incAcked += by
			} else {
				x.incUnsure += by
			}
			return err
		}
	}
	m := fmt.Sprint("z", w.next)
	x := &zmember{score: int64(w.next), add: pending}
	w.next++
	w.members[i][m] = x
	w.mu.Unlock()
	err := c.ZAdd(ctx, key, redis.Z{Score: float64(x.score), Member: m}).Err()
	w.mu.Lock()
	defer w.mu.Unlock()
	x.add = w.done(err)
	return err
}

func (w *zsetWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush(func(x *zmember) bool { return x.add != acked || x.rem == unknown || x.incUnsure > 0 })
}

func (w *zsetWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	for i := range memberKeys {
		if len(w.members[i]) == 0 {
			continue
		}
		key := w.key(i)
		zs, err := c.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			r.anomaly(kindOther, key, "")
			r.note("ZRANGE %s: %v", key, err)
			continue
		}
		got := map[string]float64{}
		for _, z := range zs {
			got[fmt.Sprint(z.Member)] = z.Score
		}
		var lost, back, late []string
		for m, x := range w.members[i] {
			s, present := got[m]
			kept := x.rem == notTried || x.rem == acked && x.remReply == 0
			switch {
			case x.add == acked && kept && !present:
				r.anomaly(kindLost, key, m)
				lost = append(lost, m)
			case x.rem == acked && x.remReply == 1 && present && x.incUnsure > 0:
				late = append(late, m)
			case x.rem == acked && x.remReply == 1 && present:
				r.anomaly(kindResurrected, key, m)
				back = append(back, m)
			case present && x.add == acked && kept:
				lo, hi := x.score+x.incAcked, x.score+x.incAcked+x.incUnsure
				if s != float64(int64(s)) || int64(s) < lo || int64(s) > hi {
					r.anomaly(kindOther, key, m)
					r.note("%s member %s scores %s, want %d…%d (ZADD %d, acknowledged increments %d, unknown %d)",
						key, m, strconv.FormatFloat(s, 'g', -1, 64), lo, hi, x.score, x.incAcked, x.incUnsure)
				}
			}
		}
		noteMembers(&r, key, w.members[i], got, lost, back, "ZADDs", "ZREMs")
		if len(late) > 0 {
			slices.Sort(late)
			r.note("not an anomaly: %s: %s, removed, back by a ZINCRBY of unknown outcome that landed later", key, short(late))
		}
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}

// History renders what the workload did to a's member: its ZADD's score
// and outcome, its increments and its ZREM.
func (w *zsetWorkload) History(a KeyAnomaly) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return history(&w.keyGens, a, func(x *zmember) string {
		return fmt.Sprintf("ZADD score %d %s; ZINCRBY acknowledged +%d, unknown +%d, in flight %d; ZREM %s (replied %d)",
			x.score, x.add, x.incAcked, x.incUnsure, x.incsInFlight, x.rem, x.remReply)
	})
}
