package conformance

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Types is the command script the conformance tests send to Redis and to
// dynakv (resp's in-process server, and real processes in tests/): every string, hash, set and keyspace command of issue 11
// with its error cases. A line's first word may be a comparison mode:
// "~" compares the elements of the reply (an array or set) sorted, "%"
// the pairs of a map (or of a flat RESP2 array of pairs) sorted, "~scan"
// and "%scan" do so for the element list of a SCAN-shaped reply; lines
// otherwise compare byte for byte. Arguments are split on spaces; "" is
// the empty string. Multi-key commands use keys of one slot ({t}).
const Types = `
SET n 10
INCR n
INCRBY n 5
DECR n
DECRBY n 3
INCRBY n x
INCRBY n 9223372036854775807
DECRBY n -9223372036854775808
DECRBY n 9223372036854775807
DECRBY n 9223372036854775807
INCRBY n 1.5
INCR
INCR a b
INCRBY big32 17179869184
INCRBY big32 17179869184
SET sp2 "11 "
INCR sp2
SET huge 17179869184000000000000
INCR huge
INCRBY n +5
INCRBY n 05
INCRBY n -0
SET fs "1.5 "
INCRBYFLOAT fs 1
INCRBYFLOAT nf2 " 1"
INCRBYFLOAT nf2 "1 "
INCRBYFLOAT nf2 0x10
INCRBYFLOAT nf2 1e
INCRBYFLOAT nf2 .5
INCRBYFLOAT nf2 5.
INCRBYFLOAT nf2 -.5e1
INCRBYFLOAT nf2 +3
SET fint 3
INCRBYFLOAT fint 1.5
INCRBYFLOAT fint -1.5
GET fint
INCR fint
SET fz 1.0
INCR fz
INCRBYFLOAT fz 1
SET e1 1e3
INCR e1
SET big 9223372036854775807
INCR big
SET neg -9223372036854775808
DECR neg
SET s abc
INCR s
INCRBYFLOAT s 1
SET sp " 1"
INCR sp
SET lz 01
INCR lz
INCR fresh
DECR fresh2
INCRBYFLOAT plinf +inf
INCRBYFLOAT plinf -inf
INCRBYFLOAT plinf 1.0 x
INCR incr v
DECR incr v
DECRBY incr 1.5
HSET hn n -9223372036854775484
HINCRBY hn n -10000
HINCRBYFLOAT hn n -inf
GET n
OBJECT ENCODING n
TYPE n
SET f 10.5
INCRBYFLOAT f 0.1
INCRBYFLOAT f -5
SET f2 1.5
INCRBYFLOAT f2 5.0e3
INCRBYFLOAT f2 -0.25
INCRBYFLOAT f2 1e3
INCRBYFLOAT f abc
INCRBYFLOAT f ""
INCRBYFLOAT f inf
INCRBYFLOAT f nan
INCRBYFLOAT newf 3
INCRBYFLOAT f
GET f
SET ap Hello
APPEND ap " World"
APPEND ap2 x
APPEND
STRLEN ap
STRLEN nokey
GETRANGE ap 0 4
GETRANGE ap -5 -1
GETRANGE ap 5 2
GETRANGE ap -1 -5
GETRANGE ap 0 100
GETRANGE ap x 1
GETRANGE nokey 0 -1
GETRANGE ap 0 -9223372036854775808
GETRANGE ap -9223372036854775808 9223372036854775807
GETRANGE n 0 -1
GETRANGE n -1 -1
SET empty ""
GETRANGE empty 0 -1
STRLEN n
SETRANGE n 0 9
GET n
INCR n
APPEND n 0
INCR n
SUBSTR ap 0 2
SETRANGE ap 6 Redis
GET ap
SETRANGE pad 3 x
GET pad
SETRANGE ap -1 x
SETRANGE ap x x
SETRANGE nokey2 0 ""
EXISTS nokey2
SETRANGE ap 0 ""
SETRANGE ap 536870912 x
GETSET ap new
GETSET nokey3 v
MSETNX {t}a 1 {t}b 2
MSETNX {t}a 1 {t}c 2
MSETNX {t}a
MGET {t}a {t}b {t}c
SET l1 ohmytext
SET l2 mynewtext
LCS l1 l2
LCS l1 l2 LEN
LCS l1 l2 IDX
LCS l1 l2 IDX MINMATCHLEN 4
LCS l1 l2 IDX MINMATCHLEN 4 WITHMATCHLEN
LCS l1 l2 IDX WITHMATCHLEN
LCS l1 l2 LEN IDX
LCS l1 l2 FOO
LCS l1 l2 MINMATCHLEN x
LCS l1 nokey
LCS nokey nokey
HSET h f1 v1 f2 v2
HSET h f1 x
HSET h f1
HSET h
HMSET h f3 v3 f4
HMSET h f3 v3
HSETNX h f1 z
HSETNX h f5 z
HGET h f1
HGET h nof
HGET nokey f
HMGET h f1 nof f2
HMGET nokey a
%  HGETALL h
%  HGETALL nokey
~ HKEYS h
~ HVALS h
HLEN h
HLEN nokey
HEXISTS h f1
HEXISTS h nof
HSTRLEN h f2
HSTRLEN h nof
HDEL h f5 nof
HDEL h nof
HDEL h
HINCRBY h c 5
HINCRBY h c -2
HINCRBY h c x
HINCRBY h f1 1
HINCRBY h c 9223372036854775807
HSET h big 9223372036854775807
HINCRBY h big 1
HINCRBYFLOAT h fl 1.5
HINCRBYFLOAT h fl 2.25
HINCRBYFLOAT h f1 1
HINCRBYFLOAT h fl x
HINCRBYFLOAT h fl inf
HGET h c
TYPE h
OBJECT ENCODING h
HRANDFIELD nokey
HRANDFIELD nokey 3
HRANDFIELD nokey 3 WITHVALUES
HRANDFIELD h 0
HRANDFIELD h x
HRANDFIELD h 3 FOO
HRANDFIELD h 3 WITHVALUES x
HSET one k v
HRANDFIELD one
HRANDFIELD one -3
HRANDFIELD one -2 WITHVALUES
~ HRANDFIELD h 100
HRANDFIELD one 5 WITHVALUES
HRANDFIELD one -9223372036854770000 WITHVALUES
HRANDFIELD one 9223372036854770000 WITHVALUES
HRANDFIELD one x FOO
HRANDFIELD one 1 FOO
HRANDFIELD one 1 WITHVALUES FOO
HRANDFIELD one -9223372036854775808 WITHVALUES
HRANDFIELD one -9223372036854775808
HRANDFIELD one 9223372036854775807
HRANDFIELD one -0
HSET hsp n " 11"
HINCRBY hsp n 1
HINCRBYFLOAT hsp n 1
HSET hsp m 11
HINCRBYFLOAT hsp m 0.5
HINCRBY hsp m 1
HSTRLEN hsp m
HINCRBY hsp new 9223372036854775807
HINCRBY hsp new -1
HINCRBY hsp m2 -9223372036854775808
HINCRBY hsp m2 -1
HSET hsp e 1e3
HINCRBYFLOAT hsp e 1
HMGET hsp m e nof
HSCAN h x
HSCAN h 0 COUNT 0
HSCAN h 0 FOO bar
%scan HSCAN h 0
%scan HSCAN h 0 MATCH f*
%scan HSCAN nokey 0
SADD s1 1 2 3
SADD s1 3 4
SADD s1
SREM s1 4 9
SREM nokey a
~ SMEMBERS s1
SMEMBERS nokey
SISMEMBER s1 1
SISMEMBER s1 9
SISMEMBER nokey 1
SMISMEMBER s1 1 9 2
SMISMEMBER nokey 1
SMISMEMBER s1
SCARD s1
SCARD nokey
TYPE s1
OBJECT ENCODING s1
SADD s2 a b
OBJECT ENCODING s2
SADD single only
SPOP nokey
SPOP nokey 2
SPOP s1 -1
SPOP s1 x
SPOP s1 0
SPOP s1 1 2
SPOP single
EXISTS single
SADD single only
SPOP single 5
SADD pop 1 2 3
~ SPOP pop 10
EXISTS pop
SRANDMEMBER nokey
SRANDMEMBER nokey 5
SRANDMEMBER s1 x
SRANDMEMBER s1 1 2
SADD single only
SRANDMEMBER single
SRANDMEMBER single -3
~ SRANDMEMBER s1 10
SRANDMEMBER s1 0
SRANDMEMBER s1 -9223372036854775808
SRANDMEMBER s1 9223372036854775807
SPOP s1 9223372036854775808
SADD hsp m
SMOVE nokey hsp m
SINTERCARD 1 nokey
SINTERCARD 2 hsp nokey
SMISMEMBER s1 9
SADD ints 1 2 3 -5 0
~ SMEMBERS ints
SISMEMBER ints 01
SREM ints 2 2 2
SCARD ints
SADD {t}x 1 2 3
SADD {t}y 3 4
SET {t}str v
SMOVE {t}x {t}y 1
SMOVE {t}x {t}y 9
SMOVE {t}nokey {t}y 1
SMOVE {t}x {t}str 2
SMOVE {t}str {t}y 2
SMOVE {t}x {t}x 2
SMOVE {t}x {t}x 9
~ SMEMBERS {t}y
SSCAN s1 x
~scan SSCAN s1 0
~scan SSCAN s1 0 MATCH 1*
~scan SSCAN nokey 0
DEL {t}x {t}y
SADD {t}x a b c d
SADD {t}y c d e
SADD {t}z a c
~ SINTER {t}x {t}y
~ SINTER {t}x {t}y {t}z
SINTER {t}x {t}nokey
SINTER {t}x {t}str
SINTER {t}nokey {t}str
~ SUNION {t}x {t}y {t}nokey
SUNION {t}x {t}str
~ SDIFF {t}x {t}y
~ SDIFF {t}x {t}nokey
SDIFF {t}nokey {t}x
SDIFF {t}str {t}x
SINTERCARD 2 {t}x {t}y
SINTERCARD 3 {t}x {t}y {t}z
SINTERCARD 2 {t}x {t}y LIMIT 1
SINTERCARD 2 {t}x {t}y LIMIT -1
SINTERCARD 0 {t}x
SINTERCARD x {t}x
SINTERCARD 3 {t}x {t}y
SINTERCARD 1 {t}x FOO
SINTERCARD 2 {t}x {t}str
SINTERSTORE {t}d {t}x {t}y
~ SMEMBERS {t}d
SUNIONSTORE {t}d {t}x {t}y
SCARD {t}d
SDIFFSTORE {t}d {t}x {t}y
~ SMEMBERS {t}d
SINTERSTORE {t}d {t}x {t}nokey
EXISTS {t}d
SUNIONSTORE {t}str {t}x
TYPE {t}str
SDIFFSTORE {t}d {t}x {t}str
SET wt v
HSET wt f v
HGET wt f
HGETALL wt
HINCRBY wt f 1
SADD wt m
SMEMBERS wt
SCARD wt
SISMEMBER wt m
HRANDFIELD wt
HRANDFIELD wt 2
HDEL wt f
HINCRBYFLOAT wt f 2.5
HSTRLEN wt f
HVALS wt
HKEYS wt
HEXISTS wt f
HMSET wt f v
HSETNX wt f v
HLEN wt
HSCAN wt 0
HMGET wt a b
SMISMEMBER wt a
SREM wt a
SPOP wt
SPOP wt 2
SRANDMEMBER wt
SRANDMEMBER wt 2
SSCAN wt 0
SINTERCARD 1 wt
SMOVE wt nokey m
SMOVE nokey wt m
SADD {t}s1 a
SET {t}k1 v
SDIFFSTORE {t}s3 {t}k1 {t}noset
SDIFFSTORE {t}s3 {t}noset {t}k1
SDIFFSTORE {t}s3 {t}k1 {t}s1 {t}noset
SDIFFSTORE {t}s3 {t}s1 {t}k1 {t}s1
SINTERSTORE {t}s3 {t}noset {t}k1 {t}s1
SUNIONSTORE {t}s3 {t}noset {t}k1 {t}s1
SINTERCARD 1 {t}s1 LIMIT
SINTERCARD 1 {t}s1 LIMIT a
SINTERCARD 1 {t}s1 LIMIT 0
SINTERCARD 1 {t}s1 bar
SINTERCARD 2 {t}k1 {t}noset
HSET hw f v
GET hw
INCR hw
APPEND hw x
STRLEN hw
GETRANGE hw 0 1
SETRANGE hw 0 x
INCRBYFLOAT hw 1
GETSET hw x
GETDEL hw
GETEX hw
SET hw x GET
MGET hw n
SADD hw m
SET hw v
TYPE hw
GET hw
DEL h s1 nokey
EXISTS h s1
OBJECT ENCODING nokey
OBJECT ENCODING
OBJECT FOO
EXPIRE one 100
TTL one
PERSIST one
TTL one
SADD exp m
EXPIRE exp 100
TTL exp
SET str1 hello
SET str2 12345
SET str3 aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
OBJECT ENCODING str1
OBJECT ENCODING str2
OBJECT ENCODING str3
~ KEYS *
~ KEYS s*
~scan SCAN 0 COUNT 1000
~scan SCAN 0 COUNT 1000 TYPE hash
~scan SCAN 0 COUNT 1000 TYPE set
~scan SCAN 0 COUNT 1000 TYPE string
~scan SCAN 0 COUNT 1000 TYPE nosuch
DBSIZE
COMMAND GETKEYS sintercard 2 {t}a {t}b LIMIT 1
COMMAND GETKEYS sinterstore {t}d {t}a {t}b
COMMAND GETKEYS smove {t}a {t}b m
COMMAND GETKEYS msetnx {t}a 1 {t}b 2
COMMAND GETKEYS lcs {t}a {t}b
COMMAND GETKEYS hset h f v
COMMAND GETKEYS object encoding k
HSET th f v
SADD ts m
EXPIRE th 100 NX
EXPIRE th 50 GT
EXPIRE th 200 GT
TTL th
EXPIRETIME nokey
PEXPIRE ts 100000 XX
PEXPIRE ts 100000 NX
TTL ts
PERSIST ts
PERSIST ts
TTL ts
GETEX th EX 10
GETDEL th
GETDEL ts
EXISTS th ts
TYPE th
TYPE ts
SET th x KEEPTTL
TTL th
TYPE th
SETNX ts v
DEL th ts
EXISTS th ts
SADD ts a
EXPIRE ts -1
EXISTS ts
HSETNX
HGET h
HMGET h
HGETALL
HKEYS
HVALS
HLEN
HEXISTS h
HSTRLEN h
HINCRBY h f
HINCRBYFLOAT h f
HRANDFIELD
HSCAN h
SREM s
SMEMBERS
SISMEMBER s
SCARD
SPOP
SRANDMEMBER
SMOVE a b
SSCAN s
SINTER
SUNION
SDIFF
SINTERCARD
SINTERSTORE d
SUNIONSTORE d
SDIFFSTORE d
APPEND a
STRLEN
GETRANGE a 0
SETRANGE a 0
SUBSTR a 0
MSETNX
LCS a
INCRBY a
DECRBY a
INCRBYFLOAT a
DECR
`

// ParseLine splits a script line into its mode and arguments.
func ParseLine(line string) (mode string, args []string) {
	f := strings.Fields(line)
	if len(f) > 0 && (f[0] == "~" || f[0] == "%" || f[0] == "~scan" || f[0] == "%scan") {
		mode, f = f[0], f[1:]
	}
	for i := 0; i < len(f); i++ {
		a := f[i]
		if strings.HasPrefix(a, `"`) {
			// A quoted argument, possibly with spaces.
			for !strings.HasSuffix(a, `"`) || len(a) == 1 {
				i++
				a += " " + f[i]
			}
			a = a[1 : len(a)-1]
		}
		args = append(args, a)
	}
	return mode, args
}

// Node is a parsed reply: its header line and children (aggregates) or
// its whole raw text (others).
type Node struct {
	head string
	kids []Node
	raw  string
}

// Kids are an aggregate's elements (a map's keys and values in turn), nil
// for other replies.
func (n Node) Kids() []Node { return n.kids }

// String is the reply as raw RESP (sorted, where Canon sorted it).
func (n Node) String() string {
	if n.kids == nil {
		return n.raw
	}
	var b strings.Builder
	b.WriteString(n.head)
	for _, k := range n.kids {
		b.WriteString(k.String())
	}
	return b.String()
}

// ParseNode reads one complete reply of any RESP2 or RESP3 type.
func ParseNode(br *bufio.Reader) (Node, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return Node{}, err
	}
	switch line[0] {
	case '*', '~', '%', '>', '|':
		k, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		if line[0] == '%' || line[0] == '|' {
			k *= 2
		}
		n := Node{head: line, kids: []Node{}}
		for i := 0; i < k; i++ {
			c, err := ParseNode(br)
			if err != nil {
				return n, err
			}
			n.kids = append(n.kids, c)
		}
		return n, nil
	case '$', '=', '!':
		k, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		if k < 0 {
			return Node{raw: line}, nil
		}
		buf := make([]byte, k+2)
		_, err := io.ReadFull(br, buf)
		return Node{raw: line + string(buf)}, err
	}
	return Node{raw: line}, nil
}

// Canon renders a raw reply for comparison under mode (see Types).
func Canon(raw, mode string) (string, error) {
	if mode == "" {
		return raw, nil
	}
	n, err := ParseNode(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		return "", fmt.Errorf("conformance: parse %q: %w", raw, err)
	}
	target := &n
	if strings.HasSuffix(mode, "scan") && len(n.kids) == 2 {
		target = &n.kids[1]
	}
	if target.kids == nil {
		return n.String(), nil
	}
	if strings.HasPrefix(mode, "%") {
		sortPairs(target)
	} else {
		slices.SortFunc(target.kids, func(a, b Node) int { return strings.Compare(a.String(), b.String()) })
	}
	return n.String(), nil
}

// sortPairs sorts a flat aggregate of pairs by pair; an array of 2-element
// arrays (RESP3 HRANDFIELD WITHVALUES) is sorted by element.
func sortPairs(n *Node) {
	if len(n.kids) > 0 && n.kids[0].kids != nil {
		slices.SortFunc(n.kids, func(a, b Node) int { return strings.Compare(a.String(), b.String()) })
		return
	}
	var pairs []string
	for i := 0; i+1 < len(n.kids); i += 2 {
		pairs = append(pairs, n.kids[i].String()+n.kids[i+1].String())
	}
	slices.Sort(pairs)
	n.kids = []Node{{raw: strings.Join(pairs, "")}}
	n.head = n.head + "PAIRS:"
}

// Encode is args as a RESP array of bulk strings, as clients send commands.
func Encode(args []string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	return []byte(b.String())
}

// Conn is one raw client connection.
type Conn struct {
	nc net.Conn
	br *bufio.Reader
}

// Dial opens a raw connection to addr, closed when t ends.
func Dial(t testing.TB, addr string) *Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &Conn{nc: nc, br: bufio.NewReader(nc)}
}

// Do sends args and returns the raw reply (5 s at most).
func (c *Conn) Do(t testing.TB, args ...string) string {
	t.Helper()
	c.nc.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.nc.Write(Encode(args)); err != nil {
		t.Fatal(err)
	}
	n, err := ParseNode(c.br)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return n.String()
}

// Compare sends every line of script to ref and to dut, on connections
// switched to RESP proto (2 or 3), and reports every reply that differs
// under the line's mode; it returns how many commands it compared. Lines
// for which skip (if not nil) is true are sent to neither.
func Compare(t testing.TB, ref, dut *Conn, script string, proto int, skip func(args []string) bool) int {
	t.Helper()
	if proto == 3 {
		ref.Do(t, "HELLO", "3")
		dut.Do(t, "HELLO", "3")
	}
	n := 0
	for _, line := range strings.Split(script, "\n") {
		mode, args := ParseLine(line)
		if len(args) == 0 || skip != nil && skip(args) {
			continue
		}
		n++
		want, err := Canon(ref.Do(t, args...), mode)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Canon(dut.Do(t, args...), mode)
		if err != nil {
			t.Fatal(err)
		}
		if want != got {
			t.Errorf("%s:\n redis: %q\n   ours: %q", line, want, got)
		}
	}
	return n
}
