package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// gsetKeys is the number of grow-only sets per flush generation.
const gsetKeys = 4

// gsetWorkload is Jepsen's Riak set test on VGET/VSET: a client reads a
// key's siblings and token, adds a unique element to the union of the
// siblings (each a comma-separated list) and writes it back with the
// token, so concurrent writes become siblings, never overwrites. Checker:
// the union of the final siblings holds every acknowledged element and
// nothing never written.
type gsetWorkload struct {
	counts
	gen     int
	next    int
	elems   [gsetKeys]map[int]outcome
	flushed flushSet
}

func newGSet() *gsetWorkload {
	w := &gsetWorkload{}
	w.reset()
	return w
}

func (w *gsetWorkload) reset() {
	for i := range w.elems {
		w.elems[i] = map[int]outcome{}
	}
}

func (w *gsetWorkload) Name() string { return "gset" }

// vget is VGET key [LOCAL]: the token and the live siblings' values.
func vget(ctx context.Context, c *redis.Client, key string, local bool) (string, []string, error) {
	args := []any{"VGET", key}
	if local {
		args = append(args, "LOCAL")
	}
	v, err := c.Do(ctx, args...).Slice()
	if err != nil {
		return "", nil, err
	}
	if len(v) != 2 {
		return "", nil, fmt.Errorf("VGET %s: reply %v", key, v)
	}
	tok, _ := v[0].(string)
	vals, _ := v[1].([]any)
	var out []string
	for _, x := range vals {
		out = append(out, fmt.Sprint(x))
	}
	return tok, out, nil
}

// union parses and joins the siblings' element lists.
func union(vals []string) (map[int]bool, error) {
	out := map[int]bool{}
	for _, v := range vals {
		if v == "" {
			continue
		}
		for _, f := range strings.Split(v, ",") {
			e, err := strconv.Atoi(f)
			if err != nil {
				return nil, fmt.Errorf("sibling %q: %w", v, err)
			}
			out[e] = true
		}
	}
	return out, nil
}

func (w *gsetWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	i := rng.IntN(gsetKeys)
	w.mu.Lock()
	key, e := keyName("gset", w.gen, i), w.next
	w.next++
	w.mu.Unlock()
	tok, vals, err := vget(ctx, c, key, false)
	var set map[int]bool
	if err == nil {
		set, err = union(vals)
	}
	if err == nil {
		set[e] = true
		es := make([]int, 0, len(set))
		for x := range set {
			es = append(es, x)
		}
		slices.Sort(es)
		var b strings.Builder
		for j, x := range es {
			if j > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.Itoa(x))
		}
		w.mu.Lock()
		w.elems[i][e] = pending
		w.mu.Unlock()
		err = c.Do(ctx, "VSET", key, tok, b.String()).Err()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	o := w.done(err)
	if _, sent := w.elems[i][e]; sent {
		w.elems[i][e] = o
	}
	return err
}

func (w *gsetWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := range gsetKeys {
		if len(w.elems[i]) > 0 {
			unsure := false
			for _, o := range w.elems[i] {
				unsure = unsure || o != acked
			}
			w.flushed.add(keyName("gset", w.gen, i), unsure)
		}
	}
	w.gen++
	w.reset()
}

func (w *gsetWorkload) keysLocked() []string {
	var out []string
	for i := range gsetKeys {
		if len(w.elems[i]) > 0 {
			out = append(out, keyName("gset", w.gen, i))
		}
	}
	return out
}

func (w *gsetWorkload) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append(append([]string(nil), w.flushed.names...), w.keysLocked()...)
}

func (w *gsetWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	for i := range gsetKeys {
		if len(w.elems[i]) == 0 {
			continue
		}
		key := keyName("gset", w.gen, i)
		_, vals, err := vget(ctx, c, key, false)
		var got map[int]bool
		if err == nil {
			got, err = union(vals)
		}
		if err != nil {
			r.anomaly(kindOther, key, "")
			r.note("VGET %s: %v", key, err)
			continue
		}
		var lost []string
		for e, o := range w.elems[i] {
			if o == acked && !got[e] {
				r.anomaly(kindLost, key, strconv.Itoa(e))
				lost = append(lost, strconv.Itoa(e))
			}
		}
		if len(lost) > 0 {
			slices.Sort(lost)
			r.note("%s lacks acknowledged elements %s", key, short(lost))
		}
		for e := range got {
			if _, ok := w.elems[i][e]; !ok {
				r.anomaly(kindOther, key, strconv.Itoa(e))
				r.note("%s holds %d, never written to it", key, e)
			}
		}
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}

// History renders the outcome of the VSET that added a's element.
func (w *gsetWorkload) History(a KeyAnomaly) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	if s, ok := flushedHistory(&w.flushed, a.Key); ok {
		return s
	}
	for i := range gsetKeys {
		if keyName("gset", w.gen, i) != a.Key {
			continue
		}
		e, err := strconv.Atoi(a.Member)
		if err != nil {
			return fmt.Sprintf("%s: %d elements sent", a.Key, len(w.elems[i]))
		}
		if o, ok := w.elems[i][e]; ok {
			return fmt.Sprintf("%s element %d: VSET %s", a.Key, e, o)
		}
		return fmt.Sprintf("%s element %d: never sent to it", a.Key, e)
	}
	return "no record of " + a.Key
}
