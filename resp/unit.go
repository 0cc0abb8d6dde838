package resp

// runUnit runs fn, which issues the commands of one unit (an EXEC block,
// a script, a same-slot multi-key command such as RENAME or MSETNX), as
// one isolated unit on this node: every key in keys (which share a slot,
// and which this node coordinates) is locked for writes coordinated here
// until fn returns, so no other write this node coordinates interleaves
// with the unit's reads and writes (DESIGN "Client surface beyond single
// commands").
//
// STUB: runs fn without locks; the transactions work (issue 12) gives it
// the coordinator's key locks.
func (c *Conn) runUnit(keys [][]byte, fn func()) {
	_ = keys
	fn()
}
