package resp

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// Databases (SELECT, MOVE, SWAPDB, FLUSHDB, FLUSHALL; docs/client-surface.md, "Databases and
// flushes").
//
// A connection has a selected database, c.db (SELECT, 0 at first). The
// database is part of the stored key, never of the slot: every key a
// handler names is translated here, in one place, to its stored key
// ring.StoredKey(db, epoch, key) (storedKey: load, mutate, VGET/VSET and
// routing), and every stored key a scan yields back to its user key if it
// is of the connection's database at its current flush epoch (userKeyIn:
// DBSIZE, KEYS, SCAN, INFO keyspace); stored keys of older epochs (data a
// flush removed, not yet purged) are never shown. A forwarded write
// carries its database (DKV.DB db command …), so the coordinator stores it
// in the right one.
//
// FLUSHDB and FLUSHALL move the database(s) to their next flush epoch
// cluster-wide (Databases.Flush: in a node, cluster.Cluster.Flush, a ring
// change waited for on every alive member), which is the causal cut: every
// write acknowledged before it is in an older epoch, invisible at once and
// dropped by every replica (see package replica, Config.Flushed), and every
// write after it carries the new epoch. ASYNC and SYNC behave alike: the
// flush is visible when the reply is sent, and the space is reclaimed in
// the background on every node (replica.Store.Purge).

// Databases is the cluster-wide state of the databases: each one's flush
// epoch and the flush itself. In a node it is the ring (package cluster);
// without one the server keeps it in memory (a lone server, tests).
type Databases interface {
	// Epoch returns database db's current flush epoch.
	Epoch(db int) uint64
	// Flush moves each database in dbs to its next flush epoch on every
	// node and returns once every alive node has adopted it, or an error
	// (the flush may then still complete as the ring spreads).
	Flush(ctx context.Context, dbs []int) error
}

// localDatabases is Databases kept in the server's memory.
type localDatabases struct {
	mu     sync.Mutex
	epochs [ring.Databases]uint64
}

func (l *localDatabases) Epoch(db int) uint64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epochs[db]
}

func (l *localDatabases) Flush(_ context.Context, dbs []int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, db := range dbs {
		l.epochs[db]++
	}
	return nil
}

// flushTimeout bounds FLUSHDB's and FLUSHALL's wait for every alive node
// to adopt the new epoch.
const flushTimeout = 10 * time.Second

// databases returns the server's Databases.
func (s *Server) databases() Databases {
	if s.cfg.Databases != nil {
		return s.cfg.Databases
	}
	return &s.localDBs
}

// storedKey is key of the connection's database as the replicas store it.
func (c *Conn) storedKey(key []byte) []byte { return c.storedKeyIn(c.db, key) }

// storedKeyIn is key of database db (0..15) at its current flush epoch as
// the replicas store it.
func (c *Conn) storedKeyIn(db int, key []byte) []byte {
	return ring.StoredKey(db, c.srv.databases().Epoch(db), key)
}

// userKeyIn returns the user key of stored key sk if it belongs to
// database db at its current flush epoch.
func (s *Server) userKeyIn(db int, sk []byte) ([]byte, bool) {
	d, e, key, ok := ring.ParseStoredKey(sk)
	if !ok || d != db || e != s.databases().Epoch(db) {
		return nil, false
	}
	return key, true
}

// userKey returns the database and user key of stored key sk if it is at
// its database's current flush epoch.
func (s *Server) userKey(sk []byte) (db int, key []byte, ok bool) {
	d, e, key, ok := ring.ParseStoredKey(sk)
	if !ok || e != s.databases().Epoch(d) {
		return 0, nil, false
	}
	return d, key, true
}

// scanKeys visits every stored object of the connection's database (at
// its current epoch) in the connection's slot ranges (keyRanges) with its
// user key: what DBSIZE and KEYS read.
func (c *Conn) scanKeys(fn func(key []byte, o crdt.Object)) error {
	return c.srv.scanRanges(c.keyRanges(), func(sk []byte, o crdt.Object) {
		if k, ok := c.srv.userKeyIn(c.db, sk); ok {
			fn(k, o)
		}
	})
}

// keyspaceInfo returns INFO keyspace's lines for the slots of ranges: one
// per non-empty database, "db<n>:keys=…,expires=…,avg_ttl=0", from one
// scan.
func (s *Server) keyspaceInfo(ranges []slotRange) ([]InfoField, error) {
	var keys, expires [ring.Databases]int64
	now := s.b.NowMs()
	err := s.scanRanges(ranges, func(sk []byte, o crdt.Object) {
		db, _, ok := s.userKey(sk)
		if !ok || !crdt.Live(o, now) {
			return
		}
		keys[db]++
		if _, ok := crdt.Expiry(o, now); ok {
			expires[db]++
		}
	})
	if err != nil {
		return nil, err
	}
	var out []InfoField
	for db := range keys {
		if keys[db] > 0 {
			out = append(out, InfoField{"db" + strconv.Itoa(db), fmt.Sprintf("keys=%d,expires=%d,avg_ttl=0", keys[db], expires[db])})
		}
	}
	return out, nil
}

// parseDB parses a database index as SELECT and MOVE do; msg is the error
// reply.
func parseDB(b []byte) (int, string) {
	n, ok := parseStrictInt(b)
	switch {
	case !ok || n < -1<<31 || n > 1<<31-1:
		return 0, msgNotInt
	case n < 0 || n >= ring.Databases:
		return 0, "ERR DB index is out of range"
	}
	return int(n), ""
}

// cmdSelect is SELECT index: the connection's database from now on.
func cmdSelect(c *Conn, args [][]byte) {
	db, msg := parseDB(args[1])
	if msg != "" {
		c.WriteError(msg)
		return
	}
	c.setDB(db)
	c.WriteOK()
}

// setDB selects database db (under mu: CLIENT LIST of other connections
// reads it).
func (c *Conn) setDB(db int) {
	c.mu.Lock()
	c.db = db
	c.mu.Unlock()
}

// cmdPeerDB is DKV.DB db command [arg …]: a write forwarded by a node
// whose client had selected database db, run in that database (then the
// peer connection goes back to its own).
func cmdPeerDB(c *Conn, args [][]byte) {
	db, msg := parseDB(args[1])
	if msg != "" {
		c.WriteError(msg)
		return
	}
	saved := c.db
	c.setDB(db)
	defer c.setDB(saved)
	c.exec(args[2:])
}

// forwardArgs is args as forwarded to another node: wrapped in DKV.DB
// when the connection's database is not 0.
// A command forwarded from an EXEC block (noBlock) is wrapped in
// DKV.NOBLOCK too, so a blocking command runs its non-blocking form there,
// and one of a user with ACL restrictions in DKV.ACL.
func (c *Conn) forwardArgs(args [][]byte) [][]byte {
	ident := c.aclIdentity()
	if c.db == 0 && !c.noBlock && ident == nil {
		return args
	}
	out := make([][]byte, 0, len(args)+6)
	out = append(out, ident...) // DKV.ACL user rules (acl.go)
	if c.noBlock {
		out = append(out, []byte(peer.CmdNoBlock))
	}
	if c.db != 0 {
		out = append(out, []byte(peer.CmdDB), []byte(strconv.Itoa(c.db)))
	}
	return append(out, args...)
}

// cmdPeerNoBlock is DKV.NOBLOCK command [arg ...]: a forwarded client
// command run with blocking off (a blocking command tries once and
// replies its null), as it would run in its client's EXEC block.
func cmdPeerNoBlock(c *Conn, args [][]byte) {
	saved := c.noBlock
	c.noBlock = true
	defer func() { c.noBlock = saved }()
	c.exec(args[1:])
}

// cmdMove is MOVE key db: the key's value written to database db if the
// key does not exist there, then deleted here; 1 if moved, 0 if the key
// is absent here or present there. Both stored keys share the key's slot,
// so one coordinator runs the read, the write and the delete as one unit
// under the key's lock (runUnit). The value moves as RENAME and COPY move
// it (valueOf, keyValue.write): by type, with its fields' and its own
// expiry.
func cmdMove(c *Conn, args [][]byte) {
	db, msg := parseDB(args[2])
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if db == c.db {
		c.WriteError(msgSameObject)
		return
	}
	c.runUnit([][]byte{args[1]}, func() { c.replyWrote(c.move(args[1], db)) })
}

// move is MOVE's unit: see cmdMove.
func (c *Conn) move(key []byte, db int) (bool, error) {
	src, err := c.load(key)
	if err != nil {
		return false, err
	}
	v, ok, err := valueOf(src, c.now())
	if err != nil || !ok {
		return false, err
	}
	dstKey := ring.StoredKey(db, c.srv.databases().Epoch(db), key)
	written := false
	if _, _, err := c.srv.b.Update(c.Context(), dstKey, coordinator.WriteOptions{ReadFirst: true}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		if crdt.Live(cur, st.Now) {
			return crdt.Object{}, nil // the key exists there: nothing moves
		}
		written = true
		return v.write(cur, st)
	}); err != nil {
		return false, err
	}
	if !written {
		return false, nil
	}
	_, err = c.del(key)
	return err == nil, err
}

// cmdSwapDB is SWAPDB, refused: swapping two databases would be a
// cluster-wide atomic rename of every key of both, which no replica can
// apply as one step (a reader between the two halves would see a key in
// both databases or in neither), and swapping their flush epochs is not
// enough (the epoch is part of the stored key, so data would not follow).
func cmdSwapDB(c *Conn, args [][]byte) {
	for i, which := range []string{"first", "second"} {
		if _, msg := parseDB(args[1+i]); msg != "" {
			if msg == msgNotInt {
				msg = "ERR invalid " + which + " DB index"
			}
			c.WriteError(msg)
			return
		}
	}
	c.WriteError("ERR SWAPDB is not supported by dynakv: databases live on every replica of every key, and no replica can swap two of them atomically cluster-wide; copy the keys (SCAN + MOVE) instead")
}

// parseFlushMode accepts FLUSHDB's and FLUSHALL's optional ASYNC or SYNC.
func parseFlushMode(args [][]byte) string {
	if len(args) > 2 {
		return msgSyntax
	}
	if len(args) == 2 && !strings.EqualFold(string(args[1]), "async") && !strings.EqualFold(string(args[1]), "sync") {
		return msgSyntax
	}
	return ""
}

// cmdFlushDB is FLUSHDB [ASYNC|SYNC]: the connection's database, flushed
// cluster-wide (see Databases).
func cmdFlushDB(c *Conn, args [][]byte) { flush(c, args, []int{c.db}) }

// cmdFlushAll is FLUSHALL [ASYNC|SYNC]: every database, flushed
// cluster-wide.
func cmdFlushAll(c *Conn, args [][]byte) {
	all := make([]int, ring.Databases)
	for i := range all {
		all[i] = i
	}
	flush(c, args, all)
}

func flush(c *Conn, args [][]byte, dbs []int) {
	if msg := parseFlushMode(args); msg != "" {
		c.WriteError(msg)
		return
	}
	ctx, cancel := context.WithTimeout(c.srv.ctx, flushTimeout)
	defer cancel()
	if err := c.srv.databases().Flush(ctx, dbs); err != nil {
		c.WriteError("ERR " + strings.ToUpper(string(args[0])) + " is in the ring but not yet confirmed by every alive node (it spreads by gossip): " + err.Error())
		return
	}
	c.WriteOK()
}

// dbCommands are the database commands.
func dbCommands() []Command {
	return []Command{
		{Name: "move", Arity: 3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Move a key to another database", Handler: cmdMove},
		{Name: "swapdb", Arity: 3, Flags: FlagWrite | FlagFast, Group: "server", Since: "4.0.0", Summary: "Swaps two Redis databases", Handler: cmdSwapDB},
		{Name: "flushdb", Arity: -1, Flags: FlagWrite, Group: "server", Since: "1.0.0", Summary: "Remove all keys from the current database", Handler: cmdFlushDB},
		{Name: "flushall", Arity: -1, Flags: FlagWrite, Group: "server", Since: "1.0.0", Summary: "Remove all keys from all databases", Handler: cmdFlushAll},
	}
}
