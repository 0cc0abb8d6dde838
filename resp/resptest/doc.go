// Package resptest provides an in-memory resp.Backend for tests: a map of
// crdt objects guarded by a mutex, with one actor issuing dots from a
// counter and an injectable clock, so RESP tests need neither disk nor
// network nor wall-clock time.
//
// The fake keeps the contract of the real coordinator that matters to the
// RESP layer: Update calls the mutator with the key's current object and a
// Stamp (a fresh dot of the backend's actor, the clock), aborts with its
// error unchanged and nothing written, writes nothing for a zero delta,
// and merges the delta with crdt.Merge; R and W outside 1..N yield
// coordinator.ErrQuorumRange; a write whose context leaves the actor no
// next counter (a token claiming counter 2⁶⁴−1) yields peer.ErrBadContext.
// Errors can be injected with SetError. It is a resp.Uniter: Unit holds
// keys against Updates with other contexts, as the coordinator's locks
// do (an Update waiting for a unit gives up after 10 s with
// ErrUnitLocked, a test's deadlock guard). All methods are safe for
// concurrent use.
package resptest
