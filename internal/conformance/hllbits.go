package conformance

// HLLBits is the command script of issue 14's HyperLogLog, bitmap, SORT
// and stream-refusal work, in Types' format (modes "~" and "%", quoted
// arguments; no binary bytes: they are built with BITFIELD SET). HLL
// values are compared byte for byte through GET, so the sparse and dense
// encodings, the cache and its stale bit must be Redis's own. SORT lines
// that read a set's order without sorting it use "~". SORT … STORE with a
// non-empty result is left out (it writes a list; see resp's cmd_sort.go).
// The SORT of a value out of a double's range comes last: Redis never
// clears errno before strtod, so after one ERANGE every later numeric
// SORT fails there.
const HLLBits = `
PFADD {h} a b c
PFADD {h} a
PFADD {h}
GET {h}
PFCOUNT {h}
GET {h}
PFADD {h} d
GET {h}
PFCOUNT {h} {h}nx
PFMERGE {h}2 {h} {h}nx
GET {h}2
PFCOUNT {h}2
SET {h}s abc
PFADD {h}s x
PFCOUNT {h}s
PFMERGE {h}s {h}
SADD {h}st x
PFADD {h}st x
PFCOUNT {h}st {h}
PFCOUNT
PFADD
TYPE {h}
OBJECT ENCODING {h}
APPEND {h}2 x
PFADD {h}2 y
STRLEN {h}
SETRANGE {h} 20 ZZ
PFCOUNT {h}
PFADD {h}big 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63 64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79 80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95 96 97 98 99 100
PFCOUNT {h}big
PFCOUNT {h}big {h}
PFMERGE {h}m {h}big {h}
GET {h}m
PFCOUNT {h}m
PFMERGE {h}new
EXISTS {h}new
GET {h}new
PFADD {h}c
SETRANGE {h}c 17 A
PFCOUNT {h}c
PFCOUNT {h}c {h}
PFMERGE {h}d {h}c
SET {h}short HYLL
PFADD {h}short a
SET {h}enc HYLLxxxxxxxxxxxxxxxxxx
PFCOUNT {h}enc
PFMERGE {h}enc
PFADD {h}n 1 2 3
EXPIRE {h}n 100
PFADD {h}n 4
TTL {h}n
SET {h}ctr 5
INCR {h}ctr
PFADD {h}ctr x
GETRANGE {h} 0 3
SUBSTR {h} 0 4
SET {h}copy x
GETSET {h} x
PFADD {h}e
INCR {h}e
INCRBYFLOAT {h}e 1
SETBIT b 7 1
SETBIT b 7 1
SETBIT b 7 0
SETBIT b 100 1
GET b
GETBIT b 100
GETBIT b 101
GETBIT b 100000
GETBIT nob 3
SETBIT b -1 1
SETBIT b x 1
SETBIT b 4294967296 1
SETBIT b 4294967295 2
SETBIT b 1 -1
SETBIT b 1 x
GETBIT b -1
SET n 12345
SETBIT n 1 1
GET n
SADD st a
SETBIT st 1 1
GETBIT st 1
BITCOUNT st
BITPOS st 1
SET s foobar
BITCOUNT s
BITCOUNT s 0 0
BITCOUNT s 1 1
BITCOUNT s 1 1 BYTE
BITCOUNT s 5 30 BIT
BITCOUNT s -1 -2
BITCOUNT s -2 -1
BITCOUNT s 0
BITCOUNT s 0 1 2 3
BITCOUNT s 0 1 BOT
BITCOUNT s a 1
BITCOUNT nos a b
BITCOUNT s 0 -1 BIT
BITCOUNT s -100 100 BIT
BITPOS z 0
BITPOS z 1 2
BITPOS z 1 2 -1 BYTE
BITPOS z 1 7 15 BIT
BITPOS z 0 0 -1
BITPOS z 0 0 7 BIT
BITPOS z 0 12 15 BIT
BITPOS z 0 12 BIT
BITPOS z 1 20 30 BIT
BITPOS z 2
BITPOS z x
BITPOS nz 0
BITPOS nz 1
BITPOS z 1 a
BITPOS z 1 0 1 BIT extra
BITPOS z 1 0 1 BAT
BITPOS allff 0
BITPOS allff 0 0 -1
BITPOS allff 0 0
BITPOS allff 1 5 3
SET {t}a abc
BITOP AND {t}d {t}a {t}b
GET {t}d
BITOP OR {t}d {t}a {t}b
GET {t}d
BITOP XOR {t}d {t}a {t}b
GET {t}d
BITOP NOT {t}d {t}a
GET {t}d
BITOP NOT {t}d {t}a {t}b
BITOP NAND {t}d {t}a
BITOP AND {t}d {t}nx1 {t}nx2
EXISTS {t}d
SADD {t}s x
BITOP OR {t}d {t}a {t}s
BITOP OR {t}s {t}a
TYPE {t}s
BITFIELD bf SET i8 0 100 GET i8 0
BITFIELD bf INCRBY i8 0 100
BITFIELD bf OVERFLOW SAT INCRBY i8 0 100
BITFIELD bf OVERFLOW FAIL INCRBY i8 0 100
BITFIELD bf OVERFLOW WRAP INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1 INCRBY u2 100 1
BITFIELD bf SET u8 #2 255 GET u8 #2 GET u4 16 GET i4 16
BITFIELD bf GET i64 0 GET u63 0
BITFIELD bf GET u64 0
BITFIELD bf GET i65 0
BITFIELD bf GET x8 0
BITFIELD bf GET u8 -1
BITFIELD bf GET u8 #-1
BITFIELD bf SET u8 0 x
BITFIELD bf OVERFLOW MAYBE
BITFIELD bf FOO
BITFIELD bf GET u8
BITFIELD bf
GET bf
BITFIELD_RO bf GET u8 0 GET i16 #1
BITFIELD_RO bf SET u8 0 1
BITFIELD_RO nbf GET u8 0
BITFIELD nbf2 OVERFLOW FAIL INCRBY u2 0 5
EXISTS nbf2
GET nbf2
BITFIELD bf OVERFLOW SAT SET i8 0 1000 SET u8 0 -5 INCRBY i64 0 9223372036854775807 INCRBY i64 0 9223372036854775807
BITFIELD bf OVERFLOW WRAP INCRBY i64 0 9223372036854775807 INCRBY u63 0 -9223372036854775807
BITFIELD bf OVERFLOW SAT INCRBY u8 8 -300 INCRBY i8 8 -300 INCRBY u8 8 300
BITFIELD st GET u8 0
BITFIELD st SET u8 0 1
BITFIELD_RO st GET u8 0
SETBIT ttl 1 1
EXPIRE ttl 100
SETBIT ttl 2 1
TTL ttl
PFADD hl a b c
SETBIT hl 7 1
PFCOUNT hl
GETBIT hl 1
BITCOUNT hl
BITFIELD z SET u24 0 16773120
BITPOS z 0
BITPOS z 1 2
BITPOS z 1 2 -1 BYTE
BITPOS z 1 7 15 BIT
BITPOS z 0 0 -1
BITPOS z 0 0 7 BIT
BITPOS z 0 12 15 BIT
BITPOS z 0 12 BIT
BITPOS z 1 20 30 BIT
BITPOS z 0 1 -1 BIT
BITPOS z 1 -5 -1 BIT
BITCOUNT z 3 13 BIT
BITCOUNT z 4 4 BIT
BITFIELD allff SET u16 0 65535
BITPOS allff 0
BITPOS allff 0 0 -1
BITPOS allff 0 0
BITPOS allff 1 5 3
BITPOS allff 0 3 9 BIT
BITFIELD {t}b SET u16 0 258
BITOP AND {t}d {t}a {t}b
GET {t}d
BITOP XOR {t}d {t}b {t}a {t}b
GET {t}d
BITOP NOT {t}d {t}b
GET {t}d
SET {t}big 0123456789012345678901234567890123456789
BITOP AND {t}d {t}big {t}big
GET {t}d
BITOP OR {t}d {t}big {t}b
BITCOUNT {t}d
EXPIRE {t}d 100
BITOP OR {t}d {t}b
TTL {t}d
SADD {s}n 3 1 2 10 -5 1.5
SORT {s}n
SORT {s}n DESC
SORT {s}n LIMIT 1 2
SORT {s}n LIMIT -1 2
SORT {s}n LIMIT 0 -1
SORT {s}n LIMIT 10 5
SORT {s}n LIMIT 2 0
SORT {s}n LIMIT 5 10 DESC
SORT {s}n ALPHA
SORT {s}n ALPHA DESC LIMIT 0 3
SORT_RO {s}n DESC
SORT_RO {s}n STORE {s}x
SADD {s}a apple banana cherry
SORT {s}a
SORT {s}a ALPHA
MSET {s}w_apple 3 {s}w_banana 1 {s}w_cherry 2
SORT {s}a BY {s}w_*
SORT {s}a BY {s}w_* DESC GET # GET {s}w_*
SORT {s}a BY {s}nosuch_*
SORT {s}a BY {s}nosuch_* DESC
SORT {s}a BY {s}w_* ALPHA
SORT {s}a BY {s}w_* LIMIT 1 1
HSET {s}h_apple f 9 g x
HSET {s}h_banana f 7
SORT {s}a BY {s}h_*->f GET {s}h_*->f GET # GET {s}h_*->g
SORT {s}a BY {s}h_*->f DESC
SORT {s}a GET {s}w_* GET {s}h_* GET nostar GET {s}w_*-> ALPHA
~ SORT {s}a BY nosort
~ SORT {s}a BY nosort GET #
SORT {s}a BY nosort LIMIT 0 0
SET {s}dst x
SORT {s}nokey STORE {s}dst
EXISTS {s}dst
SORT {s}nokey
SORT {s}nokey BY {s}w_* GET #
SORT {s}a LIMIT x 1
SORT {s}a LIMIT 1 x
SORT {s}a LIMIT 1
SORT {s}a FOO
SORT {s}a GET
SORT {s}a BY
SORT {s}a STORE
SORT_RO {s}a STORE {s}dst
SET {s}str x
SORT {s}str
SORT_RO {s}str
HSET {s}hash f v
SORT {s}hash
SET {s}w_bad abc
SADD {s}b bad
SORT {s}b BY {s}w_*
SORT {s}b BY {s}w_* ALPHA
SADD {s}sp2 " 5" "" 0x10 1e1 inf -inf 1e-300
SORT {s}sp2
SORT {s}sp2 DESC
SADD {s}tie 1.0 1 01 +1
SORT {s}tie
SORT {s}tie DESC
SORT
SORT_RO
SADD {s}sp " 5" "6 " "" 0x10 1e1 inf -inf 1e400 1e-400 nan
SORT {s}sp
`
