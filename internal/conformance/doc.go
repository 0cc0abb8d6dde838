// Package conformance holds the command script that dynakv's conformance
// tests send, line by line, to Debian's redis-server and to dynakv, and the
// helpers that compare the replies byte for byte (or sorted, where Redis's
// order is unspecified): resp's in-process test and tests/' real processes
// use this one copy.
//
// It does no I/O of its own beyond Compare's connections, which the caller
// names; it is safe for concurrent use (nothing is shared).
package conformance
