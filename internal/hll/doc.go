// Package hll is Redis 7.0's HyperLogLog on its own byte strings: the
// "HYLL" header (magic, encoding byte, three zero bytes, an 8-byte little
// endian cached cardinality whose top bit marks it invalid), the sparse
// encoding (ZERO, XZERO and VAL opcodes) and the dense one (16384 6-bit
// registers, 12288 bytes), MurmurHash64A with seed 0xadc83b19, P = 14,
// and the estimator of Otmar Ertl, "New cardinality estimation algorithms
// for HyperLogLog sketches" (arXiv:1702.01284), which Redis uses since
// 5.0. Source: redis/src/hyperloglog.c (Redis 7.0, BSD licence), whose
// algorithm this package follows step by step so that the same sequence
// of commands gives the same bytes as redis-server: in particular the
// sparse encoding is edited in place as Redis edits it (split of the
// opcode holding the register, then merging of adjacent VAL opcodes
// within five opcodes), and promoted to dense when a register passes 32
// or the string would pass SparseMaxBytes (hll-sparse-max-bytes, 3000).
//
// Every function is pure: the input slices are never modified (a changed
// HLL is returned as a new slice). Functions that read an HLL require
// Valid bytes (Redis's isHLLObjectOrReply) and report a sparse encoding
// whose opcodes do not cover exactly 16384 registers with ErrCorrupt.
// Safe for concurrent use.
package hll
