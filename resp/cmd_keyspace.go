package resp

import (
	"math"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
	"github.com/tidwall/match"
)

// The generic (keyspace) commands: DEL, UNLINK, EXISTS, the EXPIRE and
// TTL families, PERSIST, TYPE, OBJECT ENCODING, DBSIZE, KEYS and SCAN, for
// keys of every type (Redis's "generic" group).

func invalidExpire(args [][]byte) string {
	return "ERR invalid expire time in '" + strings.ToLower(string(args[0])) + "' command"
}

func equalFold(b []byte, s string) bool { return strings.EqualFold(string(b), s) }

// del deletes key, of any type, if it exists; found reports whether it did.
func (c *Conn) del(key []byte) (found bool, err error) {
	_, err = c.mutate(key, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, ok := crdt.Del(cur, st)
		found = ok
		return d, nil
	})
	return found && err == nil, err
}

// cmdDel is DEL key [key …]: the number of keys that existed. Each key is
// deleted by a read-first update, and the coordinator's read also merges
// the hints fallbacks hold for the key while one of its replicas is down,
// so a key counts (and gets its tombstone) when an acknowledged write may
// hold a value for it, even one that reached only a replica the read
// cannot ask. DEL removes only what it observed: a concurrent write on
// another node survives the merge (crdt's observed-remove).
func cmdDel(c *Conn, args [][]byte) {
	countKeys(c, args[1:], func(key []byte) (bool, error) {
		found, err := c.del(key)
		if found {
			c.notify('g', "del", key)
		}
		return found, err
	})
}

// countKeys replies with how many of keys op found (DEL, EXISTS), or with
// the first error.
func countKeys(c *Conn, keys [][]byte, op func(key []byte) (bool, error)) {
	n := int64(0)
	for _, key := range keys {
		found, err := op(key)
		if err != nil {
			c.WriteErr(err)
			return
		}
		if found {
			n++
		}
	}
	c.WriteInt(n)
}

func cmdExists(c *Conn, args [][]byte) {
	countKeys(c, args[1:], func(key []byte) (bool, error) {
		o, err := c.load(key)
		if err != nil {
			return false, err
		}
		ok := crdt.Live(o, c.now())
		c.srv.countLookup(ok)
		return ok, nil
	})
}

// EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT options.
const (
	expireNX = 1 << iota
	expireXX
	expireGT
	expireLT
)

func parseExpireFlags(opts [][]byte) (flags int, msg string) {
	for _, opt := range opts {
		switch strings.ToLower(string(opt)) {
		case "nx":
			flags |= expireNX
		case "xx":
			flags |= expireXX
		case "gt":
			flags |= expireGT
		case "lt":
			flags |= expireLT
		default:
			return 0, "ERR Unsupported option " + cstr(opt, 1<<20)
		}
	}
	if flags&expireNX != 0 && flags&(expireXX|expireGT|expireLT) != 0 {
		return 0, "ERR NX and XX, GT or LT options at the same time are not compatible"
	}
	if flags&expireGT != 0 && flags&expireLT != 0 {
		return 0, "ERR GT and LT options at the same time are not compatible"
	}
	return flags, ""
}

// expireMet reports whether EXPIRE's flags allow the deadline when (ms)
// on a key whose current expiry is cur (0: none), as Redis 7's
// expireGenericCommand: no expiry counts as infinite for GT and LT.
func expireMet(flags int, cur, when int64) bool {
	switch {
	case flags&expireNX != 0 && cur != 0,
		flags&expireXX != 0 && cur == 0,
		flags&expireGT != 0 && (cur == 0 || when <= cur),
		flags&expireLT != 0 && cur != 0 && when >= cur:
		return false
	}
	return true
}

// expireCmd builds EXPIRE (unitMs 1000, relative), PEXPIRE (1, relative),
// EXPIREAT and PEXPIREAT (absolute), as Redis 7's expireGenericCommand:
// a new entry of the key's expiry register (crdt.Expire; concurrent
// EXPIREs keep the later deadline), or a delete for a deadline already
// past.
func expireCmd(unitMs int64, absolute bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		flags, msg := parseExpireFlags(args[3:])
		if msg != "" {
			c.WriteError(msg)
			return
		}
		when, ok := parseStrictInt(args[2])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		if unitMs == 1000 {
			if when > math.MaxInt64/1000 || when < math.MinInt64/1000 {
				c.WriteError(invalidExpire(args))
				return
			}
			when *= 1000
		}
		if !absolute {
			base := c.now()
			if when > math.MaxInt64-base {
				c.WriteError(invalidExpire(args))
				return
			}
			when += base
		}
		var wrote bool
		_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			if !crdt.Live(cur, st.Now) {
				return crdt.Object{}, nil
			}
			e, _ := crdt.Expiry(cur, st.Now)
			if !expireMet(flags, e, when) {
				return crdt.Object{}, nil
			}
			d, ok := crdt.Expire(cur, st, when, crdt.ExpireAlways)
			wrote = ok
			return d, nil
		})
		if wrote && err == nil {
			if when <= c.now() {
				c.notify('g', "del", args[1]) // a deadline already past deletes the key, as in Redis
			} else {
				c.notify('g', "expire", args[1])
			}
		}
		c.replyWrote(wrote, err)
	}
}

// TTL flavours.
const (
	ttlSeconds = iota
	ttlMillis
	expireTimeSeconds
	expireTimeMillis
)

func ttlCmd(kind int) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		o, err := c.load(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		now := c.now()
		live := crdt.Live(o, now)
		at, has := crdt.Expiry(o, now)
		c.srv.countLookup(live)
		switch {
		case !live:
			c.WriteInt(-2)
		case !has:
			c.WriteInt(-1)
		case kind == expireTimeSeconds:
			// Redis 7.0 rounds EXPIRETIME as TTL: to the nearest second.
			c.WriteInt((at + 500) / 1000)
		default:
			c.WriteInt(ttlValue(kind, at, now))
		}
	}
}

// ttlValue renders a deadline at (Unix ms) as TTL, PTTL, EXPIRETIME or
// PEXPIRETIME (and their hash-field forms) reply it.
func ttlValue(kind int, at, now int64) int64 {
	switch kind {
	case expireTimeSeconds:
		return at / 1000
	case expireTimeMillis:
		return at
	}
	ttl := max(at-now, 0)
	if kind == ttlSeconds {
		ttl = (ttl + 500) / 1000
	}
	return ttl
}

// replyWrote answers EXPIRE-like commands: 1 if the write happened, 0 if
// its condition was not met, or the error.
func (c *Conn) replyWrote(wrote bool, err error) {
	switch {
	case err != nil:
		c.WriteErr(err)
	case wrote:
		c.WriteInt(1)
	default:
		c.WriteInt(0)
	}
}

// cmdPersist is PERSIST: a PERSIST entry of the expiry register, which
// wins over concurrent EXPIREs.
func cmdPersist(c *Conn, args [][]byte) {
	var wrote bool
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, ok := crdt.Persist(cur, st)
		wrote = ok
		return d, nil
	})
	if wrote && err == nil {
		c.notify('g', "persist", args[1])
	}
	c.replyWrote(wrote, err)
}

func cmdType(c *Conn, args [][]byte) {
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteSimple(crdt.TypeOf(o, c.now()).String())
}

// Redis 7.0's encoding thresholds (redis.conf defaults), for OBJECT
// ENCODING: dynakv stores every type one way, and reports what Redis
// would.
const (
	embstrMax          = 44  // OBJ_ENCODING_EMBSTR_SIZE_LIMIT
	hashListpackFields = 128 // hash-max-listpack-entries
	hashListpackValue  = 64  // hash-max-listpack-value
	setIntsetEntries   = 512 // set-max-intset-entries
)

// encoding returns the name OBJECT ENCODING gives o at now ("" if absent).
func encoding(o crdt.Object, now int64) string {
	switch crdt.TypeOf(o, now) {
	case crdt.KindString:
		v, _, _ := crdt.Get(o, now)
		if len(v) <= 20 {
			if n, ok := parseStrictInt(v); ok && strconv.FormatInt(n, 10) == string(v) {
				return "int"
			}
		}
		if len(v) <= embstrMax {
			return "embstr"
		}
		return "raw"
	case crdt.KindHLL: // Redis builds an HLL as a raw string
		return "raw"
	case crdt.KindHash:
		fs, _ := crdt.HGetAll(o, now)
		if len(fs) > hashListpackFields {
			return "hashtable"
		}
		for _, f := range fs {
			if len(f.Field) > hashListpackValue || len(f.Value) > hashListpackValue {
				return "hashtable"
			}
		}
		return "listpack"
	case crdt.KindSet:
		ms, _ := crdt.Members(o, now)
		if len(ms) > setIntsetEntries {
			return "hashtable"
		}
		for _, m := range ms {
			if n, ok := parseStrictInt(m); !ok || strconv.FormatInt(n, 10) != string(m) {
				return "hashtable"
			}
		}
		return "intset"
	case crdt.KindZSet:
		return zsetEncoding(o, now)
	case crdt.KindList:
		return "quicklist" // Redis 7.0's only list encoding
	}
	return ""
}

// cmdObjectEncoding is OBJECT ENCODING key: Redis 7.0's name for the
// encoding Redis would use for the value (see encoding), null if absent.
func cmdObjectEncoding(c *Conn, args [][]byte) {
	o, err := c.load(args[2])
	if err != nil {
		c.WriteErr(err)
		return
	}
	if e := encoding(o, c.now()); e != "" {
		c.WriteBulkString(e)
		return
	}
	c.WriteNull()
}

func cmdObjectHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"ENCODING <key>",
		"    Return the kind of internal representation used in order to store the value",
		"    associated with a <key>.",
		"FREQ <key>",
		"    Return the access frequency index of the <key>. The returned integer is",
		"    proportional to the logarithm of the recent access frequency of the key.",
		"IDLETIME <key>",
		"    Return the idle time of the <key>, that is the approximated number of",
		"    seconds elapsed since the last access to the key.",
		"REFCOUNT <key>",
		"    Return the number of references of the value associated with the specified",
		"    <key>.",
		"HELP",
		"    Prints this help.",
	})
}

// countKeys counts the live keys of the slots of ranges in every
// database (at its current flush epoch), and those of them with an
// expiry.
func (s *Server) countKeys(ranges []slotRange) (keys, expires int64, err error) {
	now := s.b.NowMs()
	err = s.scanRanges(ranges, func(sk []byte, o crdt.Object) {
		if _, _, ok := s.userKey(sk); !ok || !crdt.Live(o, now) {
			return
		}
		keys++
		if _, ok := crdt.Expiry(o, now); ok {
			expires++
		}
	})
	return keys, expires, err
}

// dbSize counts the live keys of the connection's database, in the
// connection's slot ranges (keyRanges).
func (c *Conn) dbSize() (keys int64, err error) {
	now := c.now()
	err = c.scanKeys(func(_ []byte, o crdt.Object) {
		if crdt.Live(o, now) {
			keys++
		}
	})
	return keys, err
}

func cmdDBSize(c *Conn, _ [][]byte) {
	n, err := c.dbSize()
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(n)
}

// matchLimit bounds the work of one glob match (per byte of the key), so
// a hostile pattern cannot stall the server.
const matchLimit = 100

func matchKey(key []byte, pattern string) bool {
	ok, _ := match.MatchLimit(string(key), pattern, matchLimit)
	return ok
}

func cmdKeys(c *Conn, args [][]byte) {
	pattern := string(args[1])
	now := c.now()
	var keys [][]byte
	err := c.scanKeys(func(k []byte, o crdt.Object) {
		if crdt.Live(o, now) && (pattern == "*" || matchKey(k, pattern)) {
			keys = append(keys, k)
		}
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteArray(len(keys))
	for _, k := range keys {
		c.WriteBulk(k)
	}
}

// parseCursor parses a SCAN cursor as Redis does, with C's strtoul: an
// optional sign ("-1" is the largest cursor), digits, nothing else; the
// empty string is 0; overflow is an error.
func parseCursor(b []byte) (uint64, bool) {
	neg := false
	if len(b) > 0 && (b[0] == '+' || b[0] == '-') {
		neg = b[0] == '-'
		b = b[1:]
		if len(b) == 0 {
			return 0, false
		}
	}
	if len(b) == 0 {
		return 0, true
	}
	u, err := strconv.ParseUint(string(b), 10, 64)
	if err != nil || b[0] == '+' || b[0] == '-' {
		return 0, false
	}
	if neg {
		u = -u
	}
	return u, true
}

// scanDefaultCount is SCAN's COUNT when none is given, as in Redis.
const scanDefaultCount = 10

// maxScanCount bounds one SCAN call's work whatever COUNT says.
const maxScanCount = 100000

// scanOpts are the options of SCAN, HSCAN and SSCAN.
type scanOpts struct {
	count   int64
	pattern string
	typ     string // SCAN's TYPE; "" for any
}

// parseScanOpts parses args (after the cursor); withType allows TYPE.
// msg is the error reply.
func parseScanOpts(args [][]byte, withType bool) (o scanOpts, msg string) {
	o = scanOpts{count: scanDefaultCount, pattern: "*"}
	for i := 0; i < len(args); i += 2 {
		if i+1 >= len(args) {
			return o, msgSyntax
		}
		switch strings.ToLower(string(args[i])) {
		case "count":
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				return o, msgNotInt
			}
			if n < 1 {
				return o, msgSyntax
			}
			o.count = n
		case "match":
			o.pattern = string(args[i+1])
		case "type":
			if !withType {
				return o, msgSyntax
			}
			o.typ = string(args[i+1])
		default:
			return o, msgSyntax
		}
	}
	return o, ""
}

// cmdScan is SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: one
// page of the connection's keyspace (see scanPage for the cursor: a
// 32-bit bucket number, so clients that keep cursors as doubles work).
func cmdScan(c *Conn, args [][]byte) {
	cursor, ok := parseCursor(args[1])
	if !ok {
		c.WriteError("ERR invalid cursor")
		return
	}
	o, msg := parseScanOpts(args[2:], true)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	now := c.now()
	var keys [][]byte
	next, err := c.srv.scanPage(c.keyRanges(), cursor, int(min(o.count, maxScanCount)), func(sk []byte, obj crdt.Object) {
		k, ok := c.srv.userKeyIn(c.db, sk)
		if !ok {
			return // another database, or a flushed epoch
		}
		t := crdt.TypeOf(obj, now)
		switch {
		case t == crdt.KindNone,
			o.typ != "" && !strings.EqualFold(o.typ, t.String()),
			o.pattern != "*" && !matchKey(k, o.pattern):
			return
		}
		keys = append(keys, k)
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteArray(2)
	c.WriteBulkString(strconv.FormatUint(next, 10))
	c.WriteArray(len(keys))
	for _, k := range keys {
		c.WriteBulk(k)
	}
}
