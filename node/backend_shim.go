package node

// TEMPORARY: removed when the coordinator carries crdt objects (issue 11,
// helper "objects"); the integrator deletes this file on merge and passes
// n.coord to resp.New again.

import (
	"context"
	"errors"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

// shimActor is the placeholder actor of the dot a mutator runs with under
// the shim; the coordinator fills in the real dot of the sibling it stores.
const shimActor = "\x00shim"

// errShimNoop aborts a dvv update whose mutator wrote nothing.
var errShimNoop = errors.New("node: shim: no write")

// errShimType reports a write the dvv coordinator cannot store.
var errShimType = errors.New("node: shim: only strings are stored until the coordinator carries crdt objects")

// backendShim presents today's dvv coordinator as resp.Backend over crdt
// objects, for strings only: a mutator's result is stored as one plain
// sibling (its value and expiry as crdt's views read them) superseding the
// siblings it removed; counters are stored as their value. Hashes and sets
// are refused with errShimType. Removed when the coordinator carries crdt
// objects.
type backendShim struct{ c *coordinator.Coordinator }

func (s backendShim) NowMs() int64 { return s.c.NowMs() }

func (s backendShim) Get(ctx context.Context, key []byte, opt coordinator.ReadOptions) (crdt.Object, error) {
	o, err := s.c.Get(ctx, key, opt)
	return crdt.FromDVV(o), err
}

func (s backendShim) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte, o crdt.Object) bool) (uint64, error) {
	return s.c.Scan(ctx, cursor, count, func(k []byte, o dvv.Object) bool { return fn(k, crdt.FromDVV(o)) })
}

func (s backendShim) Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn crdt.Mutator) (prev, next crdt.Object, err error) {
	up := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		co := crdt.FromDVV(cur)
		d, err := fn(co, crdt.Stamp{Dot: dvv.Dot{Actor: shimActor, Counter: 1}, Now: now})
		if err != nil {
			return nil, dvv.Sibling{}, err
		}
		if d.IsZero() {
			return nil, dvv.Sibling{}, errShimNoop
		}
		n := crdt.Merge(co, d)
		switch crdt.TypeOf(n, now) {
		case crdt.KindNone, crdt.KindString:
		default:
			return nil, dvv.Sibling{}, errShimType
		}
		// The siblings kept are those still live under their own dots; the
		// context superseded covers every other sibling of cur.
		kept := map[dvv.Dot]bool{}
		sibs, _ := crdt.Siblings(n, now)
		for _, x := range sibs {
			kept[x.Dot] = true
		}
		vv := dvv.VV{}
		for _, x := range cur.Siblings {
			if !kept[x.Dot] && x.Dot.Counter > vv[x.Dot.Actor] {
				vv[x.Dot.Actor] = x.Dot.Counter
			}
		}
		for _, x := range cur.Siblings {
			if kept[x.Dot] && vv[x.Dot.Actor] >= x.Dot.Counter {
				vv = cur.Join() // cannot keep it apart: supersede all
				break
			}
		}
		val, ok, _ := crdt.Get(n, now)
		for _, x := range sibs { // the mutator's own sibling, if it made one
			if x.Dot.Actor == shimActor {
				val, ok = x.Value, true
			}
		}
		if !ok {
			return vv, dvv.Sibling{Tombstone: true}, nil
		}
		sib := dvv.Sibling{Value: val}
		if at, ok := crdt.Expiry(n, now); ok {
			sib.Expiry = at
		}
		return vv, sib, nil
	}
	p, nx, err := s.c.Update(ctx, key, opt, up)
	if errors.Is(err, errShimNoop) {
		return crdt.FromDVV(p), crdt.FromDVV(p), nil
	}
	if err != nil {
		return crdt.FromDVV(p), crdt.FromDVV(nx), err
	}
	return crdt.FromDVV(p), crdt.FromDVV(nx), nil
}
