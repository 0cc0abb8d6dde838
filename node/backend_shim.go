package node

// TEMPORARY: removed when resp moves to crdt. The RESP layer on this branch
// still calls the old string-only, dvv-based Backend (Get returning a
// dvv.Object, Update taking a peer.UpdateFunc); the coordinator now stores
// and ships crdt.Object and takes crdt.Mutator. backendShim presents the
// one as the other, for strings only, until resp's handlers are ported to
// crdt mutators; the integrator deletes this file then and passes the
// coordinator to resp.New directly.

import (
	"context"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
)

// backendShim is the old resp.Backend over a Coordinator (removed when resp
// moves to crdt). A key holding a hash or a set reads as crdt.ErrWrongType.
type backendShim struct{ co *coordinator.Coordinator }

// Get reads key as coordinator.Get and returns it as the dvv.Object the old
// string commands read (crdt.AsDVV).
func (b backendShim) Get(ctx context.Context, key []byte, opt coordinator.ReadOptions) (dvv.Object, error) {
	o, err := b.co.Get(ctx, key, opt)
	if err != nil {
		return dvv.Object{}, err
	}
	return crdt.AsDVV(o, b.co.NowMs())
}

// Update runs the old update function as a mutator (crdt.FromUpdate)
// through coordinator.Update.
func (b backendShim) Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn peer.UpdateFunc) (prev, next dvv.Object, err error) {
	p, n, err := b.co.Update(ctx, key, opt, crdt.FromUpdate(fn))
	now := b.co.NowMs()
	prev, perr := crdt.AsDVV(p, now)
	if err != nil {
		return prev, prev, err
	}
	if perr != nil {
		return prev, prev, perr
	}
	next, err = crdt.AsDVV(n, now)
	return prev, next, err
}

// Scan visits the stored objects as coordinator.Scan; objects that are not
// strings are skipped (the old SCAN knew only strings).
func (b backendShim) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte, o dvv.Object) bool) (uint64, error) {
	return b.co.Scan(ctx, cursor, count, func(key []byte, o crdt.Object) bool {
		d, err := crdt.AsDVV(o, b.co.NowMs())
		if err != nil {
			return true
		}
		return fn(key, d)
	})
}

// NowMs is coordinator.NowMs.
func (b backendShim) NowMs() int64 { return b.co.NowMs() }
