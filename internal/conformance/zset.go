package conformance

// ZSets is the sorted-set part of the conformance script (issue 14): every
// sorted-set command with its options and error cases (wrong type, syntax,
// NaN, non-float, out of range), score formatting (inf, -inf, 1e+20,
// 17-digit fractions), TYPE, OBJECT ENCODING, RENAME, COPY and MOVE of a
// sorted set, in Types' format. Multi-key commands use keys of one slot
// ({t}); random replies are compared where they are determined (a count
// covering the whole set, compared sorted).
const ZSets = `
ZADD z 1 a 2 b 3 c
ZADD z 1 a
ZADD z 5 a 0.1 d 1e20 e inf f -inf g 1.5e-7 h 123456789012345678 i
ZRANGE z 0 -1 WITHSCORES
ZSCORE z a
ZSCORE z d
ZSCORE z f
ZSCORE z g
ZSCORE z nope
ZSCORE nokey a
ZMSCORE z a nope f
ZMSCORE nokey a b
ZCARD z
ZCARD nokey
ZADD z nan x
ZADD z abc x
ZADD z " 1" x
ZADD z "1 " x
ZADD z 0x10 hx
ZADD z 1e400 x
ZADD z 1e-400 x
ZADD z -0 negz
ZSCORE z negz
ZADD z 1
ZADD z 1 a 2
ZADD z xx nx 1 a
ZADD z gt lt 1 a
ZADD z gt nx 1 a
ZADD z incr 1 a 2 b
ZADD z nx ch 1 a
ZADD z xx ch 6 a 7 zz
ZADD z gt ch 4 a 9 b
ZADD z lt ch 4 a 9 c
ZADD z ch 1 r 2 r
ZADD z incr 2 a
ZADD z incr nx 2 a
ZADD z incr xx 2 newm
ZADD z incr gt -1 a
ZADD z incr gt 1 a
ZINCRBY z 1 a
ZINCRBY z 0.5 newi
ZINCRBY z -inf f
ZINCRBY z abc a
ZINCRBY z nx a
ZINCRBY z 1
ZSCORE z newi
SET str v
SET {t}str v
ZADD str 1 a
ZINCRBY str 1 a
ZSCORE str a
ZMSCORE str a
ZCARD str
ZRANGE str 0 -1
ZREM str a
ZREM z a nope b
ZREM z
ZREM nokey a
ZRANGE z 0 -1 WITHSCORES
ZRANGE z 0 2
ZRANGE z -2 -1 WITHSCORES
ZRANGE z 5 1
ZRANGE z 100 200
ZRANGE z -100 100
ZRANGE z a b
ZRANGE z 0 -1 REV WITHSCORES
ZRANGE z 0 -1 LIMIT 0 1
ZRANGE z 0 -1 BYLEX WITHSCORES
ZRANGE z 0 -1 foo
ZRANGE z 0 -1 REV REV
ZRANGE z 0 -1 BYSCORE BYLEX
ZRANGE z -inf +inf BYSCORE WITHSCORES
ZRANGE z (0 (inf BYSCORE
ZRANGE z +inf -inf BYSCORE REV WITHSCORES
ZRANGE z -inf inf BYSCORE LIMIT 1 2
ZRANGE z -inf inf BYSCORE LIMIT -1 2
ZRANGE z -inf inf BYSCORE LIMIT 1 -1
ZRANGE z -inf inf BYSCORE LIMIT 1 0
ZRANGE z -inf inf BYSCORE LIMIT x 1
ZRANGE z -inf inf BYSCORE LIMIT 1
ZRANGE z x y BYSCORE
ZRANGE z nan 1 BYSCORE
ZRANGE z "" 5 BYSCORE
ZRANGE z ( 5 BYSCORE
ZRANGE z " 2" 5 BYSCORE
ZRANGE z 1e400 1e500 BYSCORE
ZRANGE z - + BYLEX
ZRANGE z [b (r BYLEX
ZRANGE z + - BYLEX REV LIMIT 1 2
ZRANGE z a b BYLEX
ZRANGE z -a + BYLEX
ZRANGE nokey 0 -1
ZRANGE nokey x y
ZRANGEBYSCORE z -inf +inf WITHSCORES LIMIT 0 3
ZRANGEBYSCORE z -inf +inf REV
ZRANGEBYSCORE z -inf +inf BYLEX
ZREVRANGEBYSCORE z +inf -inf WITHSCORES
ZREVRANGEBYSCORE z 3 1
ZREVRANGEBYSCORE z (3 (1 LIMIT 0 1
ZRANGEBYLEX z - +
ZRANGEBYLEX z - + WITHSCORES
ZRANGEBYLEX z [a [e LIMIT 0 2
ZREVRANGEBYLEX z + -
ZREVRANGEBYLEX z (r [b
ZREVRANGE z 0 -1 WITHSCORES
ZREVRANGE z 0 1
ZREVRANGE z 0 1 REV
ZREVRANGE z 0 1 LIMIT 0 1
ZCOUNT z -inf +inf
ZCOUNT z (1 3
ZCOUNT z x 3
ZCOUNT nokey 0 1
ZCOUNT str 0 1
ZLEXCOUNT z - +
ZLEXCOUNT z [b (z
ZLEXCOUNT z b z
ZLEXCOUNT str - +
ZRANK z c
ZRANK z nope
ZRANK nokey a
ZRANK z c WITHSCORE
ZREVRANK z c
ZREVRANK str a
DEL lex
ZADD lex 0 a 0 b 0 c 0 d 0 e 0 f 0 g
ZRANGEBYLEX lex [b [f
ZRANGEBYLEX lex (b (f
ZRANGEBYLEX lex - (c
ZREVRANGEBYLEX lex [f (b LIMIT 1 2
ZLEXCOUNT lex (a [g
ZREMRANGEBYLEX lex [b (d
ZREMRANGEBYLEX lex x y
ZRANGE lex 0 -1
ZREMRANGEBYRANK lex 0 1
ZREMRANGEBYRANK lex x 1
ZREMRANGEBYRANK lex 10 20
ZRANGE lex 0 -1
ZREMRANGEBYSCORE lex -inf +inf
EXISTS lex
ZREMRANGEBYSCORE lex x 1
ZREMRANGEBYSCORE nokey 0 1
ZREMRANGEBYSCORE str 0 1
ZREMRANGEBYRANK str 0 1
DEL p
ZADD p 1 a 2 b 3 c 4 d 5 e
ZPOPMIN p
ZPOPMAX p
ZPOPMIN p 2
ZPOPMIN p 0
ZPOPMIN p -1
ZPOPMIN p x
ZPOPMIN p 1 2
ZPOPMIN nokey
ZPOPMIN nokey 3
ZPOPMIN str
ZPOPMIN str 0
ZPOPMAX p 10
EXISTS p
ZADD {t}a 1 x 2 y
ZADD {t}b 3 y 4 z
ZMPOP 2 {t}none {t}a MIN
ZMPOP 2 {t}a {t}b MAX COUNT 5
ZMPOP 1 {t}none MIN
ZMPOP 0 {t}a MIN
ZMPOP 2 {t}a MIN
ZMPOP 1 {t}a foo
ZMPOP 1 {t}a MIN COUNT 0
ZMPOP 1 {t}a MIN COUNT x
ZMPOP 1 {t}a MIN COUNT 1 COUNT 2
ZMPOP x {t}a MIN
ZMPOP 1 {t}str MIN
DEL {t}a {t}b {t}c {t}s {t}d
ZADD {t}a 1 x 2 y 3 z
ZADD {t}b 10 y 20 z 30 w
SADD {t}s x w q
ZUNION 2 {t}a {t}b WITHSCORES
ZUNION 2 {t}a {t}b WEIGHTS 2 0.5 WITHSCORES
ZUNION 2 {t}a {t}b AGGREGATE MIN WITHSCORES
ZUNION 2 {t}a {t}b AGGREGATE MAX WITHSCORES
ZUNION 3 {t}a {t}b {t}s WITHSCORES
ZUNION 2 {t}a {t}none WITHSCORES
ZUNION 2 {t}a {t}b WEIGHTS 1
ZUNION 2 {t}a {t}b WEIGHTS 1 x
ZUNION 2 {t}a {t}b AGGREGATE foo
ZUNION 2 {t}a {t}b WITHSCORES foo
ZUNION 0 {t}a
ZUNION 3 {t}a {t}b
ZUNION x {t}a
ZUNION 2 {t}a {t}str
ZUNION 2 {t}a {t}b WEIGHTS inf -inf WITHSCORES
ZINTER 2 {t}a {t}b WITHSCORES
ZINTER 2 {t}a {t}b
ZINTER 2 {t}a {t}none
ZINTER 3 {t}a {t}b {t}s WEIGHTS 1 1 5 AGGREGATE SUM WITHSCORES
ZINTER 0 {t}a
ZDIFF 2 {t}a {t}b WITHSCORES
ZDIFF 2 {t}a {t}s
ZDIFF 1 {t}none
ZDIFF 2 {t}a {t}b WEIGHTS 1 2
ZDIFF 2 {t}a {t}b AGGREGATE SUM
ZUNIONSTORE {t}d 2 {t}a {t}b WEIGHTS 1 2
ZRANGE {t}d 0 -1 WITHSCORES
ZINTERSTORE {t}d 2 {t}a {t}b AGGREGATE MAX
ZRANGE {t}d 0 -1 WITHSCORES
ZDIFFSTORE {t}d 2 {t}a {t}b
ZRANGE {t}d 0 -1 WITHSCORES
ZINTERSTORE {t}d 2 {t}a {t}none
EXISTS {t}d
ZUNIONSTORE {t}d 2 {t}a {t}b WITHSCORES
ZUNIONSTORE {t}d 0 {t}a
ZINTERSTORE {t}d 0 {t}a
ZDIFFSTORE {t}d 0 {t}a
ZINTERCARD 2 {t}a {t}b
ZINTERCARD 2 {t}a {t}b LIMIT 1
ZINTERCARD 2 {t}a {t}none
ZINTERCARD 0 {t}a
ZINTERCARD 3 {t}a {t}b
ZINTERCARD 2 {t}a {t}b LIMIT -1
ZINTERCARD 2 {t}a {t}b foo
ZINTERCARD 2 {t}a {t}str
ZRANGESTORE {t}d {t}b 0 1
ZRANGE {t}d 0 -1 WITHSCORES
ZRANGESTORE {t}d {t}b (10 +inf BYSCORE LIMIT 0 1
ZRANGESTORE {t}d {t}b 0 -1 WITHSCORES
ZRANGESTORE {t}d {t}none 0 -1
EXISTS {t}d
ZRANGESTORE {t}d {t}b - + BYLEX REV
ZRANGE {t}d 0 -1
ZRANDMEMBER nokey
ZRANDMEMBER nokey 3
ZRANDMEMBER {t}a x
ZRANDMEMBER {t}a 1 withscore
ZRANDMEMBER {t}a 1 withscores x
ZRANDMEMBER {t}a -9223372036854775808
ZRANDMEMBER {t}a -9223372036854775807 withscores
ZRANDMEMBER {t}a 0
ZRANDMEMBER str
ZSCAN {t}a 0
ZSCAN {t}a 0 MATCH y*
ZSCAN {t}a x
ZSCAN str 0
ZSCAN nokey 0
TYPE {t}a
OBJECT ENCODING {t}a
ZADD lng 1 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
OBJECT ENCODING lng
ZINTERCARD x {t}a
ZINTERCARD 2 {t}a {t}b LIMIT x
ZINTERCARD 2 {t}a {t}b LIMIT -1
ZINTERCARD 2 {t}a {t}b LIMIT
ZINTERCARD 2 {t}a {t}str
ZINTERCARD 2 {t}a {t}str LIMIT -1
ZINTERCARD 2 {t}str {t}none
ZUNION 2 {t}a {t}str
ZUNION 2 {t}a {t}str foo
ZUNIONSTORE {t}d 2 {t}a {t}str
ZUNION 2 {t}a {t}str WEIGHTS x y
ZMPOP x {t}a MIN
ZMPOP -1 {t}a MIN
ZMPOP 5 {t}a MIN
ZMPOP 2 {t}a {t}str MIN
ZMPOP 2 {t}str {t}a MIN
ZMPOP 2 {t}none {t}str MIN
ZPOPMIN {t}str 0
ZRANDMEMBER {t}str 0
ZADD {t}c 1 a 2 b
ZRANGESTORE {t}c {t}str 0 -1
ZRANGESTORE {t}c {t}none 0 -1
ZRANGESTORE {t}str {t}a 0 -1
TYPE {t}str
ZRANGESTORE {t}c {t}a 0 -1 BYLEX
ZRANGESTORE {t}c {t}a 0 -1 LIMIT 0 1
~ ZRANDMEMBER {t}a 5
% ZRANDMEMBER {t}a 5 WITHSCORES
ZRANDMEMBER {t}a -3 WITHSCORES foo
DEL r1 r2 {t}r1 {t}r2
ZADD {t}r1 1.5 a 2 b
RENAME {t}r1 {t}r2
ZRANGE {t}r2 0 -1 WITHSCORES
TYPE {t}r2
COPY {t}r2 {t}r3
ZRANGE {t}r3 0 -1 WITHSCORES
COPY {t}r2 {t}r3
COPY {t}r2 {t}r3 REPLACE
ZCARD {t}r3
MOVE {t}r3 1
EXISTS {t}r3
SELECT 1
ZRANGE {t}r3 0 -1 WITHSCORES
DEL {t}r3
SELECT 0
EXPIRE {t}r2 100
ZADD {t}r2 3 c
TTL {t}r2
ZINCRBY fl 0.1 a
ZINCRBY fl 0.2 a
ZINCRBY fl 1e300 b
ZINCRBY fl 1e300 b
ZINCRBY fl -1e300 b
ZADD fl 1.7976931348623157e308 c
ZINCRBY fl 1.7976931348623157e308 c
ZRANGE fl 0 -1 WITHSCORES
ZSCAN fl 0
ZADD fl 1e-310 d
ZSCORE fl d
ZADD fl 0.000001 e 1e-5 f 100000000000000000 g 12345678901234567890 h -1.5e-300 i
ZRANGE fl 0 -1 WITHSCORES
ZSCAN fl 0 COUNT 100
DEL fl
ZINCRBY fl 0.1 a
ZINCRBY fl inf x
ZINCRBY fl -inf x
ZREM fl a
ZINCRBY fl 0.2 a
ZINCRBY fl 0.1 a
ZADD fl 1.1 s
ZINCRBY fl 2.2 s
ZINCRBY fl 3.3 s
ZADD fl INCR 0.7 s
ZSCORE fl s
ZRANGE fl 0 -1 WITHSCORES
`
