package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/redis/go-redis/v9"
)

// memberKeys is the number of keys per flush generation of a member
// workload (set, hash).
const memberKeys = 4

// memberOps are a container type's commands for memberWorkload: add
// member m (with value v) to key, remove it (the reply: how many were
// removed), and read the key's members with their values.
type memberOps struct {
	name string
	add  func(ctx context.Context, c *redis.Client, key, m, v string) error
	rem  func(ctx context.Context, c *redis.Client, key, m string) (int64, error)
	read func(ctx context.Context, c *redis.Client, key string) (map[string]string, error)
}

// memberWorkload adds unique members to a few keys and removes
// acknowledged ones, for an add-wins container (SADD/SREM, HSET/HDEL).
// Checker: a member whose add was acknowledged is present with its value
// unless a remove of it was sent and not answered 0 (a remove that
// replied 0 observed nothing, so add wins); a member whose remove replied
// 1 is absent; nothing never added is present.
type memberWorkload struct {
	keyGens[member]
	ops memberOps
}

type member struct {
	add, rem outcome
	remReply int64
}

// keyGens are a member workload's counts and keys: memberKeys keys per
// flush generation, each a map of its members' models (T), and the keys
// of earlier generations; counts.mu guards them.
type keyGens[T any] struct {
	counts
	prefix  string
	gen     int
	next    int // the next member's number
	members [memberKeys]map[string]*T
	flushed flushSet
}

func (k *keyGens[T]) reset() {
	for i := range k.members {
		k.members[i] = map[string]*T{}
	}
}

// key is key i of the current generation.
func (k *keyGens[T]) key(i int) string { return keyName(k.prefix, k.gen, i) }

// flush records the current generation's keys as flushed (unsure tells
// whether a member had an operation of unknown outcome) and starts the
// next one.
func (k *keyGens[T]) flush(unsure func(*T) bool) {
	for i := range memberKeys {
		if len(k.members[i]) > 0 {
			u := false
			for _, x := range k.members[i] {
				u = u || unsure(x)
			}
			k.flushed.add(k.key(i), u)
		}
	}
	k.gen++
	k.reset()
}

// Keys returns every key written: flushed ones, then the current ones.
func (k *keyGens[T]) Keys() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	out := append([]string(nil), k.flushed.names...)
	for i := range memberKeys {
		if len(k.members[i]) > 0 {
			out = append(out, k.key(i))
		}
	}
	return out
}

func newMemberWorkload(ops memberOps) *memberWorkload {
	w := &memberWorkload{ops: ops, keyGens: keyGens[member]{prefix: ops.name}}
	w.reset()
	return w
}

func (w *memberWorkload) Name() string { return w.ops.name }

// value is member m's value (a hash field's): derived from m, so a
// checker can tell a wrong one.
func value(m string) string { return "v" + m }

func (w *memberWorkload) Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error {
	i := rng.IntN(memberKeys)
	w.mu.Lock()
	key := w.key(i)
	var m string
	if ms := w.members[i]; len(ms) > 0 && rng.IntN(100) < 35 {
		for try := 0; try < 4 && m == ""; try++ {
			cand := fmt.Sprint("m", rng.IntN(w.next))
			if x := ms[cand]; x != nil && x.add == acked && x.rem == notTried {
				m = cand
			}
		}
	}
	if m != "" {
		x := w.members[i][m]
		x.rem = pending
		w.mu.Unlock()
		n, err := w.ops.rem(ctx, c, key, m)
		w.mu.Lock()
		defer w.mu.Unlock()
		x.rem, x.remReply = w.done(err), n
		return err
	}
	m = fmt.Sprint("m", w.next)
	w.next++
	x := &member{add: pending}
	w.members[i][m] = x
	w.mu.Unlock()
	err := w.ops.add(ctx, c, key, m, value(m))
	w.mu.Lock()
	defer w.mu.Unlock()
	x.add = w.done(err)
	return err
}

func (w *memberWorkload) Flushed() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.flush(func(x *member) bool { return x.add != acked || x.rem == unknown })
}

func (w *memberWorkload) Check(ctx context.Context, c *redis.Client) Result {
	w.mu.Lock()
	defer w.mu.Unlock()
	r := w.result(w.Name())
	for i := range memberKeys {
		if len(w.members[i]) == 0 {
			continue
		}
		key := w.key(i)
		got, err := w.ops.read(ctx, c, key)
		if err != nil {
			r.anomaly(kindOther, key, "")
			r.note("read %s: %v", key, err)
			continue
		}
		var lost, back []string
		for m, x := range w.members[i] {
			v, present := got[m]
			switch {
			case present && v != value(m):
				r.anomaly(kindOther, key, m)
				r.note("%s member %s holds %q", key, m, v)
			case x.add == acked && (x.rem == notTried || x.rem == acked && x.remReply == 0) && !present:
				r.anomaly(kindLost, key, m)
				lost = append(lost, m)
			case x.rem == acked && x.remReply == 1 && present:
				r.anomaly(kindResurrected, key, m)
				back = append(back, m)
			}
		}
		noteMembers(&r, key, w.members[i], got, lost, back, "adds", "removes")
	}
	absent(ctx, c, &w.flushed, &r)
	return r
}

// noteMembers counts and notes each member of got that was never added
// (an Other anomaly each), then notes the lost and the undone members
// (sorted), naming the workload's add and remove commands.
func noteMembers[X, V any](r *Result, key string, added map[string]*X, got map[string]V, lost, back []string, adds, removes string) {
	for m := range got {
		if added[m] == nil {
			r.anomaly(kindOther, key, m)
			r.note("%s holds %s, never added", key, m)
		}
	}
	slices.Sort(lost)
	slices.Sort(back)
	if len(lost) > 0 {
		r.note("%s lacks acknowledged %s %s", key, adds, short(lost))
	}
	if len(back) > 0 {
		r.note("%s: %s that replied 1 undone: %s", key, removes, short(back))
	}
}

// History renders what the workload did to a's member of a's key: its
// add's and remove's outcomes and the remove's reply.
func (w *memberWorkload) History(a KeyAnomaly) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return history(&w.keyGens, a, func(x *member) string {
		return fmt.Sprintf("add %s; remove %s (replied %d)", x.add, x.rem, x.remReply)
	})
}

// history finds a's key among k's current keys and renders a's member
// (or, with no member, how many members the key has) with render.
func history[T any](k *keyGens[T], a KeyAnomaly, render func(*T) string) string {
	if s, ok := flushedHistory(&k.flushed, a.Key); ok {
		return s
	}
	for i := range memberKeys {
		if k.key(i) != a.Key {
			continue
		}
		if a.Member == "" {
			return fmt.Sprintf("%s: %d members sent", a.Key, len(k.members[i]))
		}
		if x := k.members[i][a.Member]; x != nil {
			return fmt.Sprintf("%s member %s: %s", a.Key, a.Member, render(x))
		}
		return fmt.Sprintf("%s member %s: never added", a.Key, a.Member)
	}
	return "no record of " + a.Key
}
