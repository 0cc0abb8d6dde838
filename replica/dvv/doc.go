// Package dvv implements dotted version vector sets: the causality core of
// dynakv's versioned objects (Almeida et al., "Scalable and Accurate
// Causality Tracking for Eventually Consistent Stores").
//
// An Object is a causal context (a version vector, VV) plus a set of
// siblings, each carrying the dot (actor, counter) of the write that made it.
// The representation is the "context + dotted entries" form (as in Riak's
// ORSWOT): the context records every event the object has seen, and a
// sibling survives exactly while no later write has seen its dot.
//
// Invariants (checked by Object.Validate, kept by every function here):
//   - every sibling's dot is covered by the object's Context;
//   - no two siblings share a dot; siblings are sorted by dot;
//   - Merge is commutative, associative and idempotent, so replicas that
//     exchange objects in any order converge to the same object;
//   - a sibling covered by another object's context but absent from its
//     siblings was superseded there, and does not survive a Merge.
//
// Actors are server nodes, so a context has at most one entry per node that
// ever coordinated a write of the key. Dot counters are chosen by the caller
// (the replica store issues hybrid-logical counters: strictly increasing per
// actor across all keys and restarts); Update requires only that the new
// dot is not already covered by the object or the client's context.
//
// Expiry is an absolute time (Unix milliseconds) inside a sibling. Once it
// has passed, the sibling reads as absent, and Expire turns it into a
// tombstone with the same dot; Merge lets a tombstone win over a live
// sibling with the same dot, so that transition converges too.
//
// The package is pure: no I/O, no clocks (time is passed in), no goroutines.
// Objects are values; functions here never modify their arguments, so an
// Object may be shared by goroutines as long as nobody mutates it in place.
package dvv
