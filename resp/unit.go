package resp

import "context"

// Uniter is implemented by a Backend that can run units (the coordinator:
// coordinator.Coordinator.Unit). Unit takes the write locks of keys (in a
// fixed order), runs fn with a context marking them held, and releases
// them when fn returns: writes (Update) with that context are the unit's
// own and do not wait, any other write of those keys waits for the unit.
// If the locks cannot be taken, fn does not run and Unit returns the
// error. A Backend without it (resptest's fake) runs units without locks.
type Uniter interface {
	Unit(ctx context.Context, keys [][]byte, fn func(ctx context.Context) error) error
}

// runUnit runs fn, which issues the commands of one unit (an EXEC block,
// a script, a same-slot multi-key command such as RENAME or MSETNX), as
// one isolated unit on this node: every key in keys (which share a slot,
// and which this node coordinates) is locked for writes coordinated here
// until fn returns, so no other write this node coordinates interleaves
// with the unit's reads and writes (docs/client-surface.md, "The client surface beyond single
// commands").
//
// While fn runs, Context (and so load, mutate and every backend call of a
// handler) carries the unit's context, and writes are not routed again
// (the unit runs where its keys are coordinated). A unit inside a unit
// keeps the keys already held and locks the others. If the locks cannot
// be taken (the server is closing), fn does not run and runUnit writes
// the error reply in place of fn's reply.
func (c *Conn) runUnit(keys [][]byte, fn func()) {
	stored := make([][]byte, len(keys))
	for i, k := range keys {
		stored[i] = c.storedKey(k) // the locks are the stored keys' (the db's)
	}
	c.runUnitStored(stored, fn)
}

// runUnitStored is runUnit over stored keys (ring.StoredKey: database,
// flush epoch and key), for a unit whose keys are not all of the
// connection's database (an EXEC block's watched keys).
func (c *Conn) runUnitStored(stored [][]byte, fn func()) {
	outer := c.unitCtx
	enter := func(ctx context.Context) error {
		c.unitCtx = ctx
		defer func() { c.unitCtx = outer }()
		fn()
		return nil
	}
	u, ok := c.srv.b.(Uniter)
	if !ok {
		_ = enter(c.Context())
		return
	}
	if err := u.Unit(c.Context(), stored, enter); err != nil {
		c.WriteErr(err)
	}
}
