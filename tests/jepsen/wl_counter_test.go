package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// counterKeys is the number of counters per flush generation: few, so
// increments from different nodes meet on each.
const counterKeys = 3

// counterWorkload INCRBYs a few counters by 1..5. Checker: each final
// value lies between the sum of acknowledged increments and that plus the
// sum of unacknowledged ones.
type counterWorkload struct {
	counts
	gen            int
	ackSum, unkSum [counterKeys]int64
	used           [counterKeys]bool
	flushed        flushSet
}

func newCounter() *counterWorkload { return &counterWorkload{} }

func (w *counterWorkload) Name() string { return "counter" }

func (w *counterWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	i, d := rng.IntN(counterKeys), int64(1+rng.IntN(5))
	w.mu.Lock()
	key := keyName("counter", w.gen, i)
	w.used[i] = true
	w.mu.Unlock()
	err := c.IncrBy(ctx, key, d).Err()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done(err) == acked {
		w.ackSum[i] += d
	} else {
		w.unkSum[i] += d
	}
	return err
}

func (w *counterWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range counterKeys {
		if w.used[i] {
			w.flushed.add(keyName("counter", w.gen, i), w.unkSum[i] > 0)
		}
	}
	w.gen++
	w.ackSum, w.unkSum, w.used = [counterKeys]int64{}, [counterKeys]int64{}, [counterKeys]bool{}
}

func (w *counterWorkload) keysLocked() []string {
	var out []string
	for i := range counterKeys {
		if w.used[i] {
			out = append(out, keyName("counter", w.gen, i))
		}
	}
	return out
}

func (w *counterWorkload) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append(append([]string(nil), w.flushed.names...), w.keysLocked()...)
}

func (w *counterWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	for i := range counterKeys {
		if !w.used[i] {
			continue
		}
		key := keyName("counter", w.gen, i)
		s, err := c.Get(ctx, key).Result()
		if err = replyErr(err); err != nil {
			r.anomaly(kindOther, key, "")
			r.note("GET %s: %v", key, err)
			continue
		}
		var v int64
		if s != "" {
			if v, err = strconv.ParseInt(s, 10, 64); err != nil {
				r.anomaly(kindOther, key, "")
				r.note("%s holds %q", key, s)
				continue
			}
		}
		switch {
		case v < w.ackSum[i]:
			r.anomaly(kindLost, key, "")
			r.note("%s = %d, below the %d acknowledged", key, v, w.ackSum[i])
		case v > w.ackSum[i]+w.unkSum[i]:
			r.anomaly(kindOther, key, "")
			r.note("%s = %d, above the %d acknowledged + %d unacknowledged", key, v, w.ackSum[i], w.unkSum[i])
		}
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}

// History renders the counter's acknowledged and unacknowledged sums.
func (w *counterWorkload) History(a KeyAnomaly) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := flushedHistory(&w.flushed, a.Key); ok {
		return s
	}
	for i := range counterKeys {
		if keyName("counter", w.gen, i) == a.Key {
			return fmt.Sprintf("%s: acknowledged increments sum to %d, unacknowledged to %d", a.Key, w.ackSum[i], w.unkSum[i])
		}
	}
	return "no record of " + a.Key
}
