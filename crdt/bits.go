package crdt

// Rewrite is a read-modify-write of a string key's value, as SETRANGE and
// APPEND are (SETBIT and BITFIELD use it): f gets the value read (cur, and
// exists false for a missing key; an HLL key reads as its bytes, a counter
// as its decimal text) and returns the new value, or write false to write
// nothing (the zero delta). The new value is one plain register that
// supersedes the string content seen, keeping the key's expiry; so of
// concurrent rewrites on two nodes the latest (by timestamp) wins, as with
// SETRANGE, and neither node's change is merged into the other's.
// ErrWrongType for another type; f's error is returned unchanged. len of
// the new value must not pass MaxStringLen (ErrTooLarge).
func Rewrite(o Object, st Stamp, f func(cur []byte, exists bool) (val []byte, write bool, err error)) (Object, error) {
	w, err := stringWrite(o, st)
	if err != nil {
		return Object{}, err
	}
	cur, ok := w.seen.str.read(st.Now)
	val, write, err := f(cur, ok)
	if err != nil || !write {
		return Object{}, err
	}
	if len(val) > MaxStringLen {
		return Object{}, ErrTooLarge
	}
	w.replace(val)
	return w.delta(), nil
}
