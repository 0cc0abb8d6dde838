package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"
)

// kvWorkload SETs unique keys and DELs acknowledged ones. Checker: a key
// whose SET was acknowledged and that no DEL was sent for is present with
// its value (else lost); a key whose DEL replied 1 is absent (else
// resurrected: the architecture issue's fault).
type kvWorkload struct {
	counts
	gen     int
	keys    []*kvKey
	old     []*kvKey // earlier generations' keys, for History
	flushed flushSet
}

// kvKey is one key's history: its SET's and DEL's outcomes, the DEL's
// reply, when each was sent and answered (wall clock, Unix ns; 0: not
// sent or not answered) and which client sent it.
type kvKey struct {
	name                               string
	set, del                           outcome
	delReply                           int64
	setSent, setDone, delSent, delDone int64
	setBy, delBy                       sender
}

func newKV() *kvWorkload { return &kvWorkload{} }

func (w *kvWorkload) Name() string { return "kv" }

func (w *kvWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	w.mu.Lock()
	var k *kvKey
	if len(w.keys) > 0 && rng.IntN(100) < 40 {
		for try := 0; try < 4 && k == nil; try++ {
			// Half the deletes take one of the last 200 keys: a key
			// written during a fault, deleted while hints of it may
			// still be pending (the resurrected-delete pattern).
			i := rng.IntN(len(w.keys))
			if rng.IntN(2) == 0 {
				i = len(w.keys) - 1 - rng.IntN(min(len(w.keys), 200))
			}
			if cand := w.keys[i]; cand.set == acked && cand.del == notTried {
				k = cand
			}
		}
	}
	if k != nil {
		k.del, k.delBy, k.delSent = pending, senderOf(ctx), time.Now().UnixNano()
		w.mu.Unlock()
		n, err := c.Del(ctx, k.name).Result()
		w.mu.Lock()
		defer w.mu.Unlock()
		k.del, k.delReply, k.delDone = w.done(err), n, time.Now().UnixNano()
		return err
	}
	k = &kvKey{name: keyName("kv", w.gen, len(w.keys)), set: pending, setBy: senderOf(ctx), setSent: time.Now().UnixNano()}
	w.keys = append(w.keys, k)
	w.mu.Unlock()
	err := c.Set(ctx, k.name, k.name, 0).Err()
	w.mu.Lock()
	defer w.mu.Unlock()
	k.set, k.setDone = w.done(err), time.Now().UnixNano()
	return err
}

func (w *kvWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, k := range w.keys {
		w.flushed.add(k.name, k.set != acked || k.del == unknown)
	}
	w.old = append(w.old, w.keys...)
	w.keys, w.gen = nil, w.gen+1
}

func (w *kvWorkload) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := append([]string(nil), w.flushed.names...)
	for _, k := range w.keys {
		out = append(out, k.name)
	}
	return out
}

func (w *kvWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	var lost, back []string
	for _, k := range w.keys {
		v, err := c.Get(ctx, k.name).Result()
		if err = replyErr(err); err != nil {
			r.anomaly(kindOther, k.name, "")
			r.note("GET %s: %v", k.name, err)
			continue
		}
		present := v != ""
		switch {
		case present && v != k.name:
			r.anomaly(kindOther, k.name, "")
			r.note("%s holds %q, never written", k.name, v)
		case k.set == acked && k.del == notTried && !present:
			r.anomaly(kindLost, k.name, "")
			lost = append(lost, k.name)
		case k.del == acked && k.delReply == 1 && present:
			r.anomaly(kindResurrected, k.name, "")
			back = append(back, k.name)
		}
	}
	if len(lost) > 0 {
		r.note("acknowledged SETs lost: %s", short(lost))
	}
	if len(back) > 0 {
		r.note("DEL replied 1, key back: %s", short(back))
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}

// History renders what the workload did to a's key: its SET and DEL,
// each with its outcome, the client that sent it and when it was sent
// and answered.
func (w *kvWorkload) History(a KeyAnomaly) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ks := range [][]*kvKey{w.keys, w.old} {
		for _, k := range ks {
			if k.name == a.Key {
				return k.String()
			}
		}
	}
	return "no record of " + a.Key
}

// String renders the key's history on two lines.
func (k *kvKey) String() string {
	s := fmt.Sprintf("SET %s: %s, %s, %s", k.name, k.set, k.setBy, span(k.setSent, k.setDone))
	if k.del == notTried {
		return s + "\nDEL: never sent"
	}
	del := k.del.String()
	if k.del == acked {
		del += fmt.Sprintf(" (replied %d)", k.delReply)
	}
	return s + fmt.Sprintf("\nDEL %s: %s, %s, %s", k.name, del, k.delBy, span(k.delSent, k.delDone))
}
