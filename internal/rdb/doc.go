// Package rdb encodes and decodes Redis 7.0's DUMP payloads (RDB version
// 10) for the types dynakv has: strings, hashes and sets.
//
// A payload is one RDB object (its type byte and value), then the RDB
// version (2 bytes, little-endian) and the CRC-64/Jones of everything
// before the checksum (8 bytes, little-endian), as Redis's
// createDumpPayload writes them. Encode writes strings as Redis's
// rdbSaveRawString does (lzf.go: an integer encoding, LZF compression,
// or raw), hashes as RDB_TYPE_HASH and sets as RDB_TYPE_SET (Redis 7.0
// loads them and picks its own encoding); Decode also reads what Redis 7.0 writes: integer and
// LZF-compressed strings, listpack and ziplist hashes, and intsets.
// Payloads of a newer RDB version, a wrong checksum (ErrChecksum), or a
// type dynakv lacks (lists, sorted sets, streams, modules: ErrType) are
// refused, as is anything malformed (ErrFormat).
//
// The package is pure: no I/O, no clock; its functions are safe for
// concurrent use. Decode trusts nothing in its input: every length is
// checked against what is left, so a hostile payload yields an error,
// never a panic or an allocation larger than the payload allows.
package rdb
