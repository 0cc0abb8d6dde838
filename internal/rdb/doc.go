// Package rdb encodes and decodes Redis 7.0's DUMP payloads (RDB version
// 10) for the types dynakv has: strings, hashes, sets, sorted sets and lists.
//
// A payload is one RDB object (its type byte and value), then the RDB
// version (2 bytes, little-endian) and the CRC-64/Jones of everything
// before the checksum (8 bytes, little-endian), as Redis's
// createDumpPayload writes them. Encode writes strings as Redis's
// rdbSaveRawString does (lzf.go: an integer encoding, LZF compression,
// or raw), hashes as RDB_TYPE_HASH, sets as RDB_TYPE_SET, sorted sets as
// RDB_TYPE_ZSET_2 (binary scores, written from the highest as Redis writes
// a skiplist: Redis 7.0 loads them and picks its own encoding), and lists
// as RDB_TYPE_LIST_QUICKLIST_2 (Redis 7.0's own: listpack nodes of at most
// 8 KiB, integers in listpack's integer encodings, uncompressed); Decode
// also reads what Redis 7.0 writes: integer and LZF-compressed strings,
// listpack and ziplist hashes and sorted sets, text-score sorted sets,
// intsets, and lists of every RDB type Redis 7.0 loads (plain, ziplist,
// quicklist of ziplists, quicklist 2 of listpack or plain nodes).
// Payloads of a newer RDB version, a wrong checksum (ErrChecksum), or a
// type dynakv lacks (streams, modules: ErrType) are
// refused, as is anything malformed (ErrFormat).
//
// The package is pure: no I/O, no clock; its functions are safe for
// concurrent use. Decode trusts nothing in its input: every length is
// checked against what is left, so a hostile payload yields an error,
// never a panic or an allocation larger than the payload allows.
package rdb
