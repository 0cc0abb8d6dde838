package resp

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/tidwall/match"
)

// read returns the value a plain read of key sees: the winner of its live
// siblings.
func (c *Conn) read(key []byte) (dvv.Sibling, bool, error) {
	obj, err := c.srv.b.Get(c.srv.ctx, key, coordinator.ReadOptions{})
	if err != nil {
		return dvv.Sibling{}, false, err
	}
	w, ok := dvv.Winner(obj, c.srv.b.NowMs())
	return w, ok, nil
}

// update runs fn through the backend; wrote is false when fn declined
// with errNoop.
func (c *Conn) update(key []byte, opt coordinator.WriteOptions, fn peer.UpdateFunc) (next dvv.Object, wrote bool, err error) {
	_, next, err = c.srv.b.Update(c.srv.ctx, key, opt, fn)
	if errors.Is(err, errNoop) {
		return next, false, nil
	}
	return next, err == nil, err
}

// overwrite is the UpdateFunc body of a plain write: supersede the whole
// local context (siblings collapse) with s, or with a tombstone if s has
// already expired.
func overwrite(cur dvv.Object, now int64, s dvv.Sibling) (dvv.VV, dvv.Sibling, error) {
	if s.Expired(now) {
		s = dvv.Sibling{Tombstone: true}
	}
	return cur.Join(), s, nil
}

var tombstone = dvv.Sibling{Tombstone: true}

func invalidExpire(args [][]byte) string {
	return "ERR invalid expire time in '" + strings.ToLower(string(args[0])) + "' command"
}

func equalFold(b []byte, s string) bool { return strings.EqualFold(string(b), s) }

// Expiry option kinds of SET and GETEX.
const (
	expNone = iota
	expEX
	expPX
	expEXAT
	expPXAT
)

// strOpts are the options of SET and GETEX.
type strOpts struct {
	nx, xx, get, keepTTL, persist bool
	exp                           int
	expArg                        []byte
}

// parseStrOpts parses SET's (isSet) or GETEX's options the way Redis does,
// which tolerates repeats but not conflicts. ok is false on a syntax error.
func parseStrOpts(opts [][]byte, isSet bool) (o strOpts, ok bool) {
	for j := 0; j < len(opts); j++ {
		opt := opts[j]
		hasNext := j+1 < len(opts)
		switch {
		case isSet && equalFold(opt, "nx") && !o.xx:
			o.nx = true
		case isSet && equalFold(opt, "xx") && !o.nx:
			o.xx = true
		case isSet && equalFold(opt, "get"):
			o.get = true
		case isSet && equalFold(opt, "keepttl") && !o.persist && o.exp == expNone:
			o.keepTTL = true
		case !isSet && equalFold(opt, "persist") && o.exp == expNone && !o.keepTTL:
			o.persist = true
		case equalFold(opt, "ex") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expEX) && hasNext:
			o.exp, o.expArg = expEX, opts[j+1]
			j++
		case equalFold(opt, "px") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expPX) && hasNext:
			o.exp, o.expArg = expPX, opts[j+1]
			j++
		case equalFold(opt, "exat") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expEXAT) && hasNext:
			o.exp, o.expArg = expEXAT, opts[j+1]
			j++
		case equalFold(opt, "pxat") && !o.keepTTL && !o.persist && (o.exp == expNone || o.exp == expPXAT) && hasNext:
			o.exp, o.expArg = expPXAT, opts[j+1]
			j++
		default:
			return o, false
		}
	}
	return o, true
}

// expiryMs turns an expire argument into an absolute Unix ms time, with
// Redis's checks (getExpireMillisecondsOrReply): a positive integer whose
// conversion and addition do not overflow. msg is the error reply.
func expiryMs(arg []byte, seconds, relative bool, now int64, args [][]byte) (ms int64, msg string) {
	v, ok := parseStrictInt(arg)
	if !ok {
		return 0, msgNotInt
	}
	if v <= 0 || seconds && v > math.MaxInt64/1000 {
		return 0, invalidExpire(args)
	}
	if seconds {
		v *= 1000
	}
	if relative {
		if v > math.MaxInt64-now {
			return 0, invalidExpire(args)
		}
		v += now
	}
	if v <= 0 {
		return 0, invalidExpire(args)
	}
	return v, ""
}

func (o strOpts) expiry(now int64, args [][]byte) (int64, string) {
	switch o.exp {
	case expEX:
		return expiryMs(o.expArg, true, true, now, args)
	case expPX:
		return expiryMs(o.expArg, false, true, now, args)
	case expEXAT:
		return expiryMs(o.expArg, true, false, now, args)
	case expPXAT:
		return expiryMs(o.expArg, false, false, now, args)
	}
	return 0, ""
}

// setResult is what a SET-like write found and did.
type setResult struct {
	old   dvv.Sibling
	had   bool // the key had a live value
	wrote bool
}

// set writes value under key with SET's options and absolute expiry.
func (c *Conn) set(key, value []byte, o strOpts, expiry int64) (r setResult, err error) {
	fn := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		r.old, r.had = dvv.Winner(cur, now)
		if o.nx && r.had || o.xx && !r.had {
			return nil, dvv.Sibling{}, errNoop
		}
		s := dvv.Sibling{Value: value, Expiry: expiry}
		if o.keepTTL && r.had {
			s.Expiry = r.old.Expiry
		}
		return overwrite(cur, now, s)
	}
	readFirst := o.nx || o.xx || o.get || o.keepTTL
	_, r.wrote, err = c.update(key, coordinator.WriteOptions{ReadFirst: readFirst}, fn)
	return r, err
}

func (c *Conn) writeValue(s dvv.Sibling, ok bool) {
	if ok {
		c.WriteBulk(s.Value)
	} else {
		c.WriteNull()
	}
}

// replyLookup answers a one-key lookup: its error, or the value (null when
// absent), counted as a keyspace hit or miss.
func (c *Conn) replyLookup(w dvv.Sibling, ok bool, err error) {
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.srv.countLookup(ok)
	c.writeValue(w, ok)
}

func cmdGet(c *Conn, args [][]byte) { c.replyLookup(c.read(args[1])) }

// parseExpiryOpts parses the options of SET (forSet) or GETEX, which start
// at args[from], and the absolute expiry they ask for. On bad options it
// replies with Redis's error and returns ok false.
func (c *Conn) parseExpiryOpts(args [][]byte, from int, forSet bool) (o strOpts, expiry int64, ok bool) {
	if o, ok = parseStrOpts(args[from:], forSet); !ok {
		c.WriteError(msgSyntax)
		return o, 0, false
	}
	expiry, msg := o.expiry(c.srv.b.NowMs(), args)
	if msg != "" {
		c.WriteError(msg)
		return o, 0, false
	}
	return o, expiry, true
}

func cmdSet(c *Conn, args [][]byte) {
	o, expiry, ok := c.parseExpiryOpts(args, 3, true)
	if !ok {
		return
	}
	r, err := c.set(args[1], args[2], o, expiry)
	switch {
	case err != nil:
		c.WriteErr(err)
	case o.get:
		c.writeValue(r.old, r.had)
	case !r.wrote:
		c.WriteNull()
	default:
		c.WriteOK()
	}
}

func cmdSetNX(c *Conn, args [][]byte) {
	r, err := c.set(args[1], args[2], strOpts{nx: true}, 0)
	switch {
	case err != nil:
		c.WriteErr(err)
	case r.wrote:
		c.WriteInt(1)
	default:
		c.WriteInt(0)
	}
}

func setEX(c *Conn, args [][]byte, seconds bool) {
	expiry, msg := expiryMs(args[2], seconds, true, c.srv.b.NowMs(), args)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if _, err := c.set(args[1], args[3], strOpts{}, expiry); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

func cmdSetEX(c *Conn, args [][]byte)  { setEX(c, args, true) }
func cmdPSetEX(c *Conn, args [][]byte) { setEX(c, args, false) }

func cmdGetSet(c *Conn, args [][]byte) {
	r, err := c.set(args[1], args[2], strOpts{get: true}, 0)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.writeValue(r.old, r.had)
}

// del deletes key if it has a live value; found reports whether it had.
func (c *Conn) del(key []byte) (old dvv.Sibling, found bool, err error) {
	fn := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		old, found = dvv.Winner(cur, now)
		if !found {
			return nil, dvv.Sibling{}, errNoop
		}
		return cur.Join(), tombstone, nil
	}
	_, _, err = c.update(key, coordinator.WriteOptions{ReadFirst: true}, fn)
	return old, found && err == nil, err
}

func cmdGetDel(c *Conn, args [][]byte) { c.replyLookup(c.del(args[1])) }

// cmdDel is DEL key [key …]: the number of keys that had a live value.
// Each key is deleted by a read-first update, and the coordinator's read
// also merges the hints fallbacks hold for the key while one of its
// replicas is down, so a key counts (and gets its tombstone) when an
// acknowledged write may hold a value for it, even one that reached only a
// replica the read cannot ask.
func cmdDel(c *Conn, args [][]byte) {
	countKeys(c, args[1:], func(key []byte) (bool, error) {
		_, found, err := c.del(key)
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

func cmdGetEx(c *Conn, args [][]byte) {
	o, expiry, ok := c.parseExpiryOpts(args, 2, false)
	if !ok {
		return
	}
	if o.exp == expNone && !o.persist {
		cmdGet(c, args)
		return
	}
	var w dvv.Sibling
	var found bool
	fn := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		w, found = dvv.Winner(cur, now)
		if !found || o.persist && w.Expiry == 0 {
			return nil, dvv.Sibling{}, errNoop
		}
		return overwrite(cur, now, dvv.Sibling{Value: w.Value, Expiry: expiry})
	}
	if _, _, err := c.update(args[1], coordinator.WriteOptions{ReadFirst: true}, fn); err != nil {
		c.WriteErr(err)
		return
	}
	c.srv.countLookup(found)
	c.writeValue(w, found)
}

func cmdExists(c *Conn, args [][]byte) {
	countKeys(c, args[1:], func(key []byte) (bool, error) {
		_, ok, err := c.read(key)
		if err == nil {
			c.srv.countLookup(ok)
		}
		return ok, err
	})
}

func cmdMGet(c *Conn, args [][]byte) {
	vals := make([]dvv.Sibling, len(args)-1)
	oks := make([]bool, len(args)-1)
	for i, key := range args[1:] {
		w, ok, err := c.read(key)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.srv.countLookup(ok)
		vals[i], oks[i] = w, ok
	}
	c.WriteArray(len(vals))
	for i := range vals {
		c.writeValue(vals[i], oks[i])
	}
}

func cmdMSet(c *Conn, args [][]byte) {
	if len(args)%2 == 0 {
		c.WriteError("ERR wrong number of arguments for 'mset' command")
		return
	}
	for i := 1; i < len(args); i += 2 {
		if _, err := c.set(args[i], args[i+1], strOpts{}, 0); err != nil {
			c.WriteErr(err)
			return
		}
	}
	c.WriteOK()
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

// expireCmd builds EXPIRE (unitMs 1000, relative), PEXPIRE (1, relative),
// EXPIREAT and PEXPIREAT (absolute), as Redis 7's expireGenericCommand.
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
			base := c.srv.b.NowMs()
			if when > math.MaxInt64-base {
				c.WriteError(invalidExpire(args))
				return
			}
			when += base
		}
		fn := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
			w, ok := dvv.Winner(cur, now)
			if !ok {
				return nil, dvv.Sibling{}, errNoop
			}
			e := w.Expiry // 0: none, Redis's -1
			switch {
			case flags&expireNX != 0 && e != 0,
				flags&expireXX != 0 && e == 0,
				flags&expireGT != 0 && (e == 0 || when <= e),
				flags&expireLT != 0 && e != 0 && when >= e:
				return nil, dvv.Sibling{}, errNoop
			}
			if when <= now {
				return cur.Join(), tombstone, nil
			}
			return cur.Join(), dvv.Sibling{Value: w.Value, Expiry: when}, nil
		}
		_, wrote, err := c.update(args[1], coordinator.WriteOptions{ReadFirst: true}, fn)
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
		obj, err := c.srv.b.Get(c.srv.ctx, args[1], coordinator.ReadOptions{})
		if err != nil {
			c.WriteErr(err)
			return
		}
		now := c.srv.b.NowMs()
		w, ok := dvv.Winner(obj, now)
		c.srv.countLookup(ok)
		switch {
		case !ok:
			c.WriteInt(-2)
		case w.Expiry == 0:
			c.WriteInt(-1)
		case kind == expireTimeSeconds:
			c.WriteInt(w.Expiry / 1000)
		case kind == expireTimeMillis:
			c.WriteInt(w.Expiry)
		default:
			ttl := max(w.Expiry-now, 0)
			if kind == ttlSeconds {
				ttl = (ttl + 500) / 1000
			}
			c.WriteInt(ttl)
		}
	}
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

func cmdPersist(c *Conn, args [][]byte) {
	fn := func(cur dvv.Object, now int64) (dvv.VV, dvv.Sibling, error) {
		w, ok := dvv.Winner(cur, now)
		if !ok || w.Expiry == 0 {
			return nil, dvv.Sibling{}, errNoop
		}
		return cur.Join(), dvv.Sibling{Value: w.Value}, nil
	}
	_, wrote, err := c.update(args[1], coordinator.WriteOptions{ReadFirst: true}, fn)
	c.replyWrote(wrote, err)
}

func cmdType(c *Conn, args [][]byte) {
	_, ok, err := c.read(args[1])
	switch {
	case err != nil:
		c.WriteErr(err)
	case ok:
		c.WriteSimple("string")
	default:
		c.WriteSimple("none")
	}
}

// scanAll visits every stored object through the backend's Scan.
func (s *Server) scanAll(fn func(key []byte, o dvv.Object)) error {
	var cursor uint64
	for {
		next, err := s.b.Scan(s.ctx, cursor, scanAllBatch, func(k []byte, o dvv.Object) bool {
			fn(k, o)
			return true
		})
		if err != nil {
			return err
		}
		if next == 0 {
			return nil
		}
		if err := s.ctx.Err(); err != nil {
			return err
		}
		cursor = next
	}
}

const scanAllBatch = 1000

// countKeys counts the live keys, and those of them with an expiry.
func (s *Server) countKeys() (keys, expires int64, err error) {
	now := s.b.NowMs()
	err = s.scanAll(func(_ []byte, o dvv.Object) {
		if w, ok := dvv.Winner(o, now); ok {
			keys++
			if w.Expiry != 0 {
				expires++
			}
		}
	})
	return keys, expires, err
}

func cmdDBSize(c *Conn, _ [][]byte) {
	n, _, err := c.srv.countKeys()
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
	now := c.srv.b.NowMs()
	var keys [][]byte
	err := c.srv.scanAll(func(k []byte, o dvv.Object) {
		if _, ok := dvv.Winner(o, now); ok && (pattern == "*" || matchKey(k, pattern)) {
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

func cmdScan(c *Conn, args [][]byte) {
	cursor, ok := parseCursor(args[1])
	if !ok {
		c.WriteError("ERR invalid cursor")
		return
	}
	count := int64(scanDefaultCount)
	pattern, typ := "*", ""
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			c.WriteError(msgSyntax)
			return
		}
		switch strings.ToLower(string(args[i])) {
		case "count":
			n, ok := parseStrictInt(args[i+1])
			if !ok {
				c.WriteError(msgNotInt)
				return
			}
			if n < 1 {
				c.WriteError(msgSyntax)
				return
			}
			count = n
		case "match":
			pattern = string(args[i+1])
		case "type":
			typ = string(args[i+1])
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	now := c.srv.b.NowMs()
	var keys [][]byte
	next, err := c.srv.b.Scan(c.srv.ctx, cursor, int(min(count, maxScanCount)), func(k []byte, o dvv.Object) bool {
		if _, ok := dvv.Winner(o, now); !ok {
			return true
		}
		if typ != "" && !strings.EqualFold(typ, "string") {
			return true
		}
		if pattern != "*" && !matchKey(k, pattern) {
			return true
		}
		keys = append(keys, k)
		return true
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
