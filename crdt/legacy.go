package crdt

import "github.com/dynakv/dynakv/replica/dvv"

// Legacy support: before this package, strings were written as dvv
// siblings through an update function (from the current dvv.Object and
// the time, a context and a sibling). AsDVV, Sibling and FromUpdate run
// such functions on crdt objects; the replica, coordinator, hints,
// anti-entropy and transfer tests written against dvv use them.

// TombstoneTime returns when the tombstone o was made (Unix ms) and true,
// or false if o holds live content at now or nothing at all. The time is
// the newest tombstone register's timestamp or, when later (or when there
// is none: a collected expiry, a hash whose last field was deleted), the
// newest event of o's context read as a hybrid-logical clock in
// microseconds, which is what dynakv's dot counters are. The replica's
// sweeper and the reaper count their grace period from it.
func TombstoneTime(o Object, now int64) (int64, bool) {
	if !Tombstone(o, now) {
		return 0, false
	}
	t := DeletedAt(o) / 1e6
	for _, c := range o.ctx.vv {
		t = max(t, int64(min(c/1000, 1<<62)))
	}
	for _, x := range o.ctx.cloud {
		t = max(t, int64(min(x.dot.Counter/1000, 1<<62)))
	}
	return t, true
}

// Sibling is a legacy string write (as dvv.Update made them): a
// sibling (value or tombstone, with its own expiry s.Expiry, Unix ms) that
// supersedes what the client context ctx covers, as dvv.Update, with
// st.Dot and st's timestamp. ErrWrongType on a key of another type. It
// is FromUpdate's write.
func Sibling(o Object, st Stamp, ctx dvv.VV, s dvv.Sibling) (Object, error) {
	r := reg{ts: st.ts(), exp: s.Expiry, val: s.Value}
	if s.Tombstone {
		r = reg{ts: st.ts(), flags: regTombstone}
	}
	return vwrite(o, st, ctx, r)
}

// AsDVV returns o as the dvv.Object the old string commands read at now:
// exactly o when it is a plain dvv object (Object.DVV), else, for a string
// key, its context's version vector and its live siblings (Siblings: a
// counter as one sibling). ErrWrongType for a key of another type.
func AsDVV(o Object, now int64) (dvv.Object, error) {
	if d, ok := o.DVV(); ok {
		return d, nil
	}
	sibs, err := Siblings(o, now)
	if err != nil {
		return dvv.Object{}, err
	}
	return dvv.Object{Context: o.Context(), Siblings: sibs}, nil
}

// FromUpdate turns an old string update function (from the current object and the time in Unix ms, the context the
// write supersedes and the new sibling) into a Mutator: fn sees AsDVV(cur)
// and its sibling is written with Sibling. An error from fn (or
// ErrWrongType from AsDVV) aborts the write unchanged.
func FromUpdate(fn func(cur dvv.Object, nowMs int64) (dvv.VV, dvv.Sibling, error)) Mutator {
	return func(cur Object, st Stamp) (Object, error) {
		d, err := AsDVV(cur, st.Now)
		if err != nil {
			return Object{}, err
		}
		ctx, sib, err := fn(d, st.Now)
		if err != nil {
			return Object{}, err
		}
		return Sibling(cur, st, ctx, sib)
	}
}
