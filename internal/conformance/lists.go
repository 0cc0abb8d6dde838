package conformance

// Lists is the command script of the list commands (issue 14), in Types's
// format: every list command with its error cases, including the
// blocking ones with short timeouts on empty keys (their null replies)
// and against ready elements. Multi-key commands use keys of one slot
// ({l}).
const Lists = `
RPUSH {l}a a b c
LPUSH {l}a x y
RPUSH {l}a
LPUSH {l}a z
LRANGE {l}a 0 -1
LRANGE {l}a -3 2
LRANGE {l}a 5 1
LRANGE {l}a -100 100
LRANGE {l}a x 1
LRANGE {l}nokey 0 -1
LLEN {l}a
LLEN {l}nokey
LINDEX {l}a 0
LINDEX {l}a -1
LINDEX {l}a 99
LINDEX {l}a x
LINDEX {l}nokey 0
TYPE {l}a
OBJECT ENCODING {l}a
LPUSHX {l}nokey a
RPUSHX {l}nokey a
EXISTS {l}nokey
LPUSHX {l}a p q
RPUSHX {l}a r
LRANGE {l}a 0 -1
LPOP {l}a
RPOP {l}a
LPOP {l}a 2
RPOP {l}a 2
LPOP {l}a 0
LPOP {l}a -1
LPOP {l}a x
LPOP {l}a 1 2
LPOP {l}nokey
LPOP {l}nokey 0
LPOP {l}nokey 3
RPOP {l}nokey 3
LRANGE {l}a 0 -1
LSET {l}a 0 first
LSET {l}a -1 last
LSET {l}a 99 x
LSET {l}a x y
LSET {l}nokey 0 x
LRANGE {l}a 0 -1
LINSERT {l}a BEFORE b B
LINSERT {l}a after b b2
LINSERT {l}a before nothere x
LINSERT {l}a middle b x
LINSERT {l}nokey before a x
LINSERT {l}a AFTER last tail
LINSERT {l}a BEFORE first head
LINSERT {l}a before B B0
LINSERT {l}a before B0 B00
LINSERT {l}a after B00 B01
LSET {l}a 3 set3
LINDEX {l}a 3
LINSERT {l}a before set3 x
LRANGE {l}a 0 -1
RPUSH {l}r a b a c a d a
LREM {l}r 2 a
LRANGE {l}r 0 -1
LREM {l}r -1 a
LREM {l}r 0 a
LREM {l}r 0 zz
LREM {l}r x a
LREM {l}nokey 1 a
LRANGE {l}r 0 -1
RPUSH {l}t 1 2 3 4 5 6
LTRIM {l}t 1 -2
LRANGE {l}t 0 -1
LTRIM {l}t x 1
LTRIM {l}t 5 1
EXISTS {l}t
LTRIM {l}nokey 0 1
RPUSH {l}p a b c 1 2 3 c c
LPOS {l}p c
LPOS {l}p c RANK 2
LPOS {l}p c RANK -1
LPOS {l}p c COUNT 0
LPOS {l}p c COUNT 2
LPOS {l}p c RANK -2 COUNT 2
LPOS {l}p c MAXLEN 2
LPOS {l}p c RANK -1 MAXLEN 2
LPOS {l}p c RANK -1 MAXLEN 3
LPOS {l}p c RANK 2 COUNT 0
LPOS {l}p c RANK 9
LPOS {l}p c RANK -9 COUNT 3
LPOS {l}p c COUNT 1 COUNT 0 RANK 1 RANK 3
LPOS {l}p c COUNT 0 MAXLEN 3
LPOS {l}p zz
LPOS {l}p zz COUNT 1
LPOS {l}p c RANK 0
LPOS {l}p c COUNT -1
LPOS {l}p c MAXLEN -1
LPOS {l}p c RANK x
LPOS {l}p c foo
LPOS {l}p c RANK
LPOS {l}nokey c
LPOS {l}nokey c COUNT 1
DEL {l}a {l}b
RPUSH {l}a 1 2 3
LMOVE {l}a {l}b LEFT RIGHT
LMOVE {l}a {l}b RIGHT LEFT
LMOVE {l}a {l}a LEFT RIGHT
LRANGE {l}a 0 -1
LRANGE {l}b 0 -1
LMOVE {l}a {l}b UP LEFT
LMOVE {l}nokey {l}b LEFT LEFT
RPOPLPUSH {l}a {l}b
RPOPLPUSH {l}a {l}b
EXISTS {l}a
LRANGE {l}b 0 -1
SET {l}s str
LMOVE {l}b {l}s LEFT LEFT
LMOVE {l}s {l}b LEFT LEFT
RPOPLPUSH {l}nokey {l}s
LPUSH {l}s x
LPOP {l}s
LRANGE {l}s 0 1
LLEN {l}s
LINDEX {l}s 0
LSET {l}s 0 x
LPOS {l}s x
RPUSH {l}m1 a b c
RPUSH {l}m2 d e
LMPOP 2 {l}nokey {l}m1 LEFT
LMPOP 2 {l}m1 {l}m2 RIGHT COUNT 5
LMPOP 2 {l}m1 {l}m2 RIGHT COUNT 5
LMPOP 1 {l}nokey LEFT
LMPOP 0 {l}m1 LEFT
LMPOP x {l}m1 LEFT
LMPOP 2 {l}m1 LEFT
LMPOP 1 {l}m1 MIDDLE
LMPOP 1 {l}m1 LEFT COUNT 0
LMPOP 1 {l}m1 LEFT COUNT 1 COUNT 2
LMPOP 1 {l}m1 LEFT foo
LMPOP 1 {l}s LEFT
RPUSH {l}q a b c
BLPOP {l}nokey {l}q 0
BRPOP {l}nokey {l}q 0
BLPOP {l}nokey 0.01
BRPOP {l}nokey 0.01
BLPOP {l}q -1
BLPOP {l}q x
BLPOP {l}q 1e30
BLPOP {l}q nan
BLPOP {l}s 0
BLMOVE {l}q {l}b RIGHT LEFT 0
BLMOVE {l}nokey {l}b RIGHT LEFT 0.01
BLMOVE {l}q {l}b UP LEFT 0
BLMOVE {l}q {l}b LEFT LEFT -1
BRPOPLPUSH {l}nokey {l}b 0.01
BRPOPLPUSH {l}b {l}q 0
BRPOPLPUSH {l}b {l}q x
BLMPOP 0.01 1 {l}nokey LEFT
BLMPOP 0 2 {l}nokey {l}b LEFT COUNT 10
BLMPOP -1 1 {l}b LEFT
BLMPOP x 1 {l}b LEFT
BLMPOP 0 0 {l}b LEFT
BLMPOP 0 1 {l}b LEFT COUNT 0
BLMPOP -1 0 {l}b LEFT
MULTI
BLPOP {l}nokey 0
BRPOPLPUSH {l}nokey {l}b 0
BLMPOP 0 1 {l}nokey LEFT
EXEC
RPUSH {l}big 1 2 3 4 5 6 7 8 9 10
LRANGE {l}big -3 -1
LRANGE {l}big -100 -8
LRANGE {l}big 9 100
LTRIM {l}big -5 100
LRANGE {l}big 0 -1
LTRIM {l}big 0 0
LRANGE {l}big 0 -1
RPOP {l}big 100
EXISTS {l}big
LPUSH {l}s
LRANGE {l}q 0
LINSERT {l}q before a
`
