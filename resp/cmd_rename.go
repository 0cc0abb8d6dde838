package resp

import (
	"errors"
	"math"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/rdb"
)

// RENAME, RENAMENX, COPY, TOUCH, DUMP and RESTORE (Redis's generic
// group). RENAME and COPY read the source's value as a client
// sees it (its type's view and its expiry, hash fields' expiries too) and
// write it as a new value of the destination that supersedes everything
// the destination held (as SET does); RENAME then deletes the source
// (observed-remove). Both keys must share a slot (CROSSSLOT otherwise, as
// Redis Cluster) unless the ring has one member, and the command runs as one unit under both keys' locks
// (runUnit) on their coordinator.

// Redis 7.0's replies of these commands.
const (
	msgNoSuchKey    = "ERR no such key"
	msgSameObject   = "ERR source and destination objects are the same"
	msgDumpFieldTTL = "ERR DUMP of a hash with field expiries is not supported: Redis 7.0's payload cannot carry them"
)

// keyValue is a live key's value as a client sees it, of any type, with
// its expiry: what RENAME and COPY write to their destination.
type keyValue struct {
	kind    crdt.Kind
	str     []byte              // a string's value (a counter's, as its text)
	fields  []crdt.FieldValue   // a hash's fields
	fieldAt []int64             // each field's deadline (Unix ms), 0 for none
	members [][]byte            // a set's members
	scored  []crdt.ScoredMember // a sorted set's members and scores
	elems   [][]byte            // a list's elements, in order
	at      int64               // the key's deadline (Unix ms), 0 for none
}

// valueOf reads o's value at now; ok is false if the key is not live.
func valueOf(o crdt.Object, now int64) (v keyValue, ok bool, err error) {
	v.kind = crdt.TypeOf(o, now)
	switch v.kind {
	case crdt.KindNone:
		return v, false, nil
	case crdt.KindString, crdt.KindHLL:
		// NB: an HLL is a string to Redis: RENAME, COPY, DUMP and MOVE
		// carry its bytes as a plain string, which PF* read as an HLL.
		v.kind = crdt.KindString
		v.str, _, err = crdt.Get(o, now)
	case crdt.KindHash:
		v.fields, err = crdt.HGetAll(o, now)
		for _, f := range v.fields {
			at, _, ferr := crdt.FieldExpiry(o, now, f.Field)
			if ferr != nil {
				err = ferr
			}
			v.fieldAt = append(v.fieldAt, at)
		}
	case crdt.KindSet:
		v.members, err = crdt.Members(o, now)
	case crdt.KindZSet:
		v.scored, err = crdt.ZMembers(o, now)
	case crdt.KindList:
		v.elems, err = crdt.ListRange(o, now, 0, -1)
	default:
		err = crdt.ErrWrongType // no other kind is produced yet
	}
	if err != nil {
		return v, false, err
	}
	v.at, _ = crdt.Expiry(o, now)
	return v, true, nil
}

// loadValue reads key's value (valueOf at the backend's clock), counting
// the lookup as a keyspace hit or miss.
func (c *Conn) loadValue(key []byte) (v keyValue, ok bool, err error) {
	o, err := c.load(key)
	if err != nil {
		return v, false, err
	}
	v, ok, err = valueOf(o, c.now())
	c.srv.countLookup(ok)
	return v, ok, err
}

// write is the mutator that makes v the key's value: it supersedes
// everything cur holds (crdt.Del), then writes v's value, its fields'
// deadlines and its own, each step a further dot of the same write.
func (v keyValue) write(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
	steps := []crdt.Mutator{func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _ := crdt.Del(cur, st)
		return d, nil
	}}
	switch v.kind {
	case crdt.KindString:
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.Set(cur, st, v.str, crdt.SetOptions{Expiry: v.at})
			return d, err
		})
	case crdt.KindHash:
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.HSet(cur, st, v.fields)
			return d, err
		})
		byAt := map[int64][][]byte{}
		var ats []int64
		for i, at := range v.fieldAt {
			if at != 0 {
				if byAt[at] == nil {
					ats = append(ats, at)
				}
				byAt[at] = append(byAt[at], v.fields[i].Field)
			}
		}
		for _, at := range ats {
			steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
				d, _, err := crdt.HExpire(cur, st, at, crdt.ExpireAlways, byAt[at])
				return d, err
			})
		}
	case crdt.KindSet:
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.SAdd(cur, st, v.members)
			return d, err
		})
	case crdt.KindZSet:
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.ZAdd(cur, st, crdt.ZAddOptions{}, v.scored)
			return d, err
		})
	case crdt.KindList:
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.ListPush(cur, st, v.elems, false, false)
			return d, err
		})
	}
	if v.at != 0 && v.kind != crdt.KindString { // Set wrote a string's
		steps = append(steps, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _ := crdt.Expire(cur, st, v.at, crdt.ExpireAlways)
			return d, nil
		})
	}
	var d crdt.Object
	for _, step := range steps {
		var err error
		if d, err = chain(cur, st, d, step); err != nil {
			return crdt.Object{}, err
		}
	}
	return d, nil
}

// renameCmd builds RENAME (nx false) and RENAMENX, as Redis 7.0's
// renameGenericCommand: "no such key" for a missing source; the same key
// twice is a no-op (OK, or 0 for RENAMENX); RENAMENX onto a live key
// replies 0; otherwise the destination takes the source's value and
// expiry, the source is deleted, and the events rename_from and
// rename_to are emitted.
func renameCmd(nx bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		src, dst := args[1], args[2]
		if !c.oneUnit(args[1:3]) {
			c.WriteError(msgCrossSlot)
			return
		}
		c.runUnit(args[1:3], func() { c.rename(src, dst, nx) })
	}
}

func (c *Conn) rename(src, dst []byte, nx bool) {
	v, ok, err := c.loadValue(src)
	switch {
	case err != nil:
		c.WriteErr(err)
		return
	case !ok:
		c.WriteError(msgNoSuchKey)
		return
	case string(src) == string(dst):
		if nx {
			c.WriteInt(0)
		} else {
			c.WriteOK()
		}
		return
	}
	if nx && !c.destFree(dst) {
		return
	}
	if _, err := c.mutate(dst, false, v.write); err != nil {
		c.WriteErr(err)
		return
	}
	if _, err := c.del(src); err != nil {
		c.WriteErr(err)
		return
	}
	c.notify('g', "rename_from", src)
	c.notify('g', "rename_to", dst)
	c.replyRenamed(nx)
}

func (c *Conn) replyRenamed(nx bool) {
	if nx {
		c.WriteInt(1)
	} else {
		c.WriteOK()
	}
}

// cmdCopy is COPY source destination [DB destination-db] [REPLACE], as
// Redis 7.0's copyCommand: 1 if copied, 0 if the source is missing or the
// destination exists (without REPLACE); the copy keeps the source's
// expiry; the event copy_to (in the destination's database). DB names the
// destination's database (0..15; the connection's by default).
func cmdCopy(c *Conn, args [][]byte) {
	replace, dstDB := false, c.db
	for j := 3; j < len(args); j++ {
		switch {
		case equalFold(args[j], "replace"):
			replace = true
		case equalFold(args[j], "db") && j+1 < len(args):
			n, ok := parseStrictInt(args[j+1])
			switch {
			case !ok || n < -1<<31 || n > 1<<31-1:
				c.WriteError(msgNotInt)
				return
			case n < 0 || n >= 16:
				c.WriteError("ERR DB index is out of range")
				return
			}
			dstDB = int(n)
			j++
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	src, dst := args[1], args[2]
	if string(src) == string(dst) && dstDB == c.db {
		c.WriteError(msgSameObject)
		return
	}
	if !c.oneUnit(args[1:3]) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.runUnit(args[1:3], func() { c.copyKey(src, dst, dstDB, replace) })
}

// copyKey copies src of the connection's database to dst of database
// dstDB (the same slot, so this coordinator's, whatever the database).
func (c *Conn) copyKey(src, dst []byte, dstDB int, replace bool) {
	v, ok, err := c.loadValue(src)
	switch {
	case err != nil:
		c.WriteErr(err)
		return
	case !ok:
		c.WriteInt(0)
		return
	}
	if dstDB != c.db {
		defer c.setDB(c.db)
		c.setDB(dstDB)
	}
	if !replace && !c.destFree(dst) {
		return
	}
	if _, err := c.mutate(dst, false, v.write); err != nil {
		c.WriteErr(err)
		return
	}
	c.notify('g', "copy_to", dst)
	c.WriteInt(1)
}

// oneUnit reports whether keys may be written as one unit: when they
// share a slot (Redis Cluster's rule), or on a lone node (a ring of one
// member), which coordinates every key, as a standalone Redis takes any
// keys.
func (c *Conn) oneUnit(keys [][]byte) bool {
	if c.sameSlot(keys) {
		return true
	}
	return len(c.srv.cfg.Cluster.Nodes()) == 1 // sameSlot is true without a Cluster
}

// cmdTouch is TOUCH key [key …]: the number of keys that exist (dynakv
// keeps no access times, so touching is only the lookup).
func cmdTouch(c *Conn, args [][]byte) { cmdExists(c, args) }

// cmdDump is DUMP key: Redis 7.0's payload of the key's value (RDB
// version 10, CRC-64), which redis-server's RESTORE takes; a null for a
// missing key. A hash with field expiries is refused (msgDumpFieldTTL):
// Redis 7.0's payload cannot carry them. The key's own expiry is not in
// a payload (RESTORE takes it), as in Redis.
func cmdDump(c *Conn, args [][]byte) {
	v, ok, err := c.loadValue(args[1])
	switch {
	case err != nil:
		c.WriteErr(err)
		return
	case !ok:
		c.WriteNull()
		return
	}
	rv := rdb.Value{Str: v.str, Members: v.members}
	switch v.kind {
	case crdt.KindString:
		rv.Kind = rdb.String
	case crdt.KindHash:
		rv.Kind = rdb.Hash
		for i, f := range v.fields {
			if v.fieldAt[i] != 0 {
				c.WriteError(msgDumpFieldTTL)
				return
			}
			rv.Fields = append(rv.Fields, [2][]byte{f.Field, f.Value})
		}
	case crdt.KindSet:
		rv.Kind = rdb.Set
	case crdt.KindZSet:
		rv.Kind = rdb.ZSet
		for _, m := range v.scored {
			rv.Members = append(rv.Members, m.Member)
			rv.Scores = append(rv.Scores, m.Score)
		}
	case crdt.KindList:
		rv.Kind, rv.Elems = rdb.List, v.elems
	}
	c.WriteBulk(rdb.Encode(rv))
}

// cmdRestore is RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME
// seconds] [FREQ frequency], as Redis 7.0's restoreCommand, in its order
// of checks: the options, BUSYKEY for a live key without REPLACE, the
// TTL, the payload's version and checksum, its contents (strings, hashes,
// sets, sorted sets and lists; rdb.Decode). The value is written as RENAME writes its
// destination, superseding what the key held; a deadline already past
// only deletes the key (with REPLACE). IDLETIME and FREQ are accepted and
// ignored (dynakv keeps no access times). Event: restore.
func cmdRestore(c *Conn, args [][]byte) {
	replace, absTTL := false, false
	idle, freq := false, false // IDLETIME and FREQ exclude each other
	for j := 4; j < len(args); j++ {
		more := len(args) - j - 1
		switch {
		case equalFold(args[j], "replace"):
			replace = true
		case equalFold(args[j], "absttl"):
			absTTL = true
		case equalFold(args[j], "idletime") && more >= 1 && !freq:
			idle = true
			n, ok := parseStrictInt(args[j+1])
			switch {
			case !ok:
				c.WriteError(msgNotInt)
				return
			case n < 0:
				c.WriteError("ERR Invalid IDLETIME value, must be >= 0")
				return
			}
			j++
		case equalFold(args[j], "freq") && more >= 1 && !idle:
			freq = true
			n, ok := parseStrictInt(args[j+1])
			switch {
			case !ok:
				c.WriteError(msgNotInt)
				return
			case n < 0 || n > 255:
				c.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255")
				return
			}
			j++
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	c.runUnit(args[1:2], func() { c.restore(args[1], args[2], args[3], replace, absTTL) })
}

func (c *Conn) restore(key, ttlArg, payload []byte, replace, absTTL bool) {
	if !replace {
		o, err := c.load(key)
		if err != nil {
			c.WriteErr(err)
			return
		}
		if crdt.Live(o, c.now()) {
			c.WriteError("BUSYKEY Target key name already exists.")
			return
		}
	}
	ttl, ok := parseStrictInt(ttlArg)
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case ttl < 0:
		c.WriteError("ERR Invalid TTL value, must be >= 0")
		return
	}
	rv, err := rdb.Decode(payload)
	switch {
	case errors.Is(err, rdb.ErrChecksum):
		c.WriteError("ERR DUMP payload version or checksum are wrong")
		return
	case errors.Is(err, rdb.ErrType):
		c.WriteError("ERR Bad data format: dynakv stores strings, hashes, sets, sorted sets and lists only")
		return
	case err != nil, rv.Kind == rdb.Hash && len(rv.Fields) == 0, rv.Kind == rdb.Set && len(rv.Members) == 0, rv.Kind == rdb.List && len(rv.Elems) == 0:
		c.WriteError("ERR Bad data format")
		return
	}
	now := c.now()
	if ttl != 0 && !absTTL {
		if ttl > math.MaxInt64-now {
			c.WriteError("ERR Invalid TTL value, must be >= 0")
			return
		}
		ttl += now
	}
	if ttl != 0 && ttl <= now { // already expired: only the delete
		if replace {
			found, err := c.del(key)
			if err != nil {
				c.WriteErr(err)
				return
			}
			if found {
				c.notify('g', "del", key)
			}
		}
		c.WriteOK()
		return
	}
	v := keyValue{str: rv.Str, members: rv.Members, at: ttl}
	switch rv.Kind {
	case rdb.String:
		v.kind = crdt.KindString
	case rdb.Hash:
		v.kind = crdt.KindHash
		for _, f := range rv.Fields {
			v.fields = append(v.fields, crdt.FieldValue{Field: f[0], Value: f[1]})
			v.fieldAt = append(v.fieldAt, 0)
		}
	case rdb.Set:
		v.kind = crdt.KindSet
	case rdb.ZSet:
		v.kind, v.members = crdt.KindZSet, nil
		for i, m := range rv.Members {
			v.scored = append(v.scored, crdt.ScoredMember{Member: m, Score: rv.Scores[i]})
		}
	case rdb.List:
		v.kind, v.elems = crdt.KindList, rv.Elems
	}
	if _, err := c.mutate(key, false, v.write); err != nil {
		c.WriteErr(err)
		return
	}
	c.notify('g', "restore", key)
	c.WriteOK()
}

// keyspaceCommands is the table of RENAME, RENAMENX, COPY, TOUCH,
// RANDOMKEY, DUMP and RESTORE, as Redis 7.0 reports them.
func keyspaceCommands() []Command {
	return []Command{
		{Name: "rename", Arity: 3, Flags: FlagWrite, FirstKey: 1, LastKey: 2, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Rename a key", Handler: renameCmd(false)},
		{Name: "renamenx", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Rename a key, only if the new key does not exist", Handler: renameCmd(true)},
		{Name: "copy", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 2, KeyStep: 1, Group: "generic", Since: "6.2.0", Summary: "Copy a key", Handler: cmdCopy},
		{Name: "touch", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "generic", Since: "3.2.1", Summary: "Alters the last access time of a key(s). Returns the number of existing keys specified.", Handler: cmdTouch},
		{Name: "randomkey", Arity: 1, Flags: FlagReadOnly, Group: "generic", Since: "1.0.0", Summary: "Return a random key from the keyspace", Handler: cmdRandomKey},
		{Name: "dump", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.6.0", Summary: "Return a serialized version of the value stored at the specified key.", Handler: cmdDump},
		{Name: "restore", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.6.0", Summary: "Create a key using the provided serialized value, previously obtained using DUMP.", Handler: cmdRestore},
	}
}

// destFree reports whether dst holds no live value, for RENAMENX and COPY
// without REPLACE; when it does (0) or cannot be read (the error), it has
// written the reply.
func (c *Conn) destFree(dst []byte) bool {
	d, err := c.load(dst)
	switch {
	case err != nil:
		c.WriteErr(err)
		return false
	case crdt.Live(d, c.now()):
		c.WriteInt(0)
		return false
	}
	return true
}
