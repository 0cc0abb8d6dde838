package resp

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// Error replies of the transaction commands, Redis 7's texts.
const (
	msgExecAbort      = "EXECABORT Transaction discarded because of previous errors."
	msgExecAbortCause = "EXECABORT Transaction discarded because of: "
	msgExecNoMulti    = "ERR EXEC without MULTI"
	msgDiscardNoMulti = "ERR DISCARD without MULTI"
	msgMultiNested    = "ERR MULTI calls can not be nested"
	msgWatchInMulti   = "ERR WATCH inside MULTI is not allowed"
	msgBadBlock       = "ERR malformed " + peer.CmdExec
)

// txCommands are MULTI, EXEC, DISCARD, WATCH and UNWATCH.
func txCommands() []Command {
	const g = "transactions"
	return []Command{
		{Name: "multi", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: g, Since: "1.2.0", Summary: "Mark the start of a transaction block", Handler: cmdMulti},
		{Name: "exec", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale, Group: g, Since: "1.2.0", Summary: "Execute all commands issued after MULTI", Handler: cmdExec},
		{Name: "discard", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: g, Since: "2.0.0", Summary: "Discard all commands issued after MULTI", Handler: cmdDiscard},
		{Name: "watch", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: g, Since: "2.2.0", Summary: "Watch the given keys to determine execution of the MULTI/EXEC block", Handler: cmdWatch},
		{Name: "unwatch", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Group: g, Since: "2.2.0", Summary: "Forget about all watched keys", Handler: cmdUnwatch},
	}
}

// txState is a connection's transaction state: MULTI's queue and the
// WATCHed keys. The zero value is "not in MULTI, nothing watched".
type txState struct {
	multi   bool         // between MULTI and EXEC/DISCARD
	dirty   bool         // a command was refused while queuing: EXEC aborts
	queue   [][][]byte   // the queued commands' arguments, in order
	watched []watchedKey // the WATCHed keys, each once, in WATCH order
}

// watchedKey is one WATCHed key and what WATCH read of it. A key is
// watched in the database selected when WATCH ran (Redis keys its watches
// by database and key): a write of the same key name in another database
// does not touch it, and EXEC reads it in its own database whatever the
// connection has selected since.
type watchedKey struct {
	db   int // the database selected at WATCH
	key  []byte
	obj  crdt.Object // the state read (merged into later reads: load)
	hist []byte      // crdt.History(obj).Encode(): what EXEC compares
	live bool        // the key held a value: EXEC aborts if it expired since
}

// watching reports whether key of database db is watched.
func (t *txState) watching(db int, key []byte) bool {
	for i := range t.watched {
		if t.watched[i].db == db && bytes.Equal(t.watched[i].key, key) {
			return true
		}
	}
	return false
}

// mergeWatched merges into o, a read of key in database db, what WATCH
// read of it, so a read after WATCH (from replicas that lag) never goes
// back before it.
func (t *txState) mergeWatched(db int, key []byte, o crdt.Object) crdt.Object {
	for i := range t.watched {
		if t.watched[i].db == db && bytes.Equal(t.watched[i].key, key) {
			return crdt.Merge(o, t.watched[i].obj)
		}
	}
	return o
}

// resetTx ends MULTI and forgets the watched keys (EXEC, DISCARD, RESET).
func (c *Conn) resetTx() { c.tx = txState{} }

// queueTx is exec's hook for transactions, called with the command
// resolve found and its error reply, before anything runs. In MULTI it
// queues the command and replies QUEUED (EXEC, DISCARD, MULTI, WATCH,
// QUIT and RESET run at once, as in Redis), or marks the transaction
// dirty if the command was refused (unknown, arity, NOAUTH…), so that EXEC
// fails with EXECABORT. An EXEC that is itself refused ends the
// transaction and replies EXECABORT with the cause. It reports whether
// it wrote the reply.
func (c *Conn) queueTx(cmd *Command, msg string, args [][]byte) bool {
	if msg != "" {
		if cmd != nil && cmd.fullName == "exec" {
			c.resetTx()
			c.WriteError(msgExecAbortCause + strings.TrimPrefix(msg, "ERR "))
			return true
		}
		if c.tx.multi {
			c.tx.dirty = true
		}
		return false
	}
	if !c.tx.multi {
		return false
	}
	switch cmd.fullName {
	case "exec", "discard", "multi", "watch", "quit", "reset":
		return false
	}
	c.tx.queue = append(c.tx.queue, args)
	c.WriteSimple("QUEUED")
	return true
}

func cmdMulti(c *Conn, _ [][]byte) {
	if c.tx.multi {
		c.WriteError(msgMultiNested)
		return
	}
	c.tx.multi = true
	c.WriteOK()
}

func cmdDiscard(c *Conn, _ [][]byte) {
	if !c.tx.multi {
		c.WriteError(msgDiscardNoMulti)
		return
	}
	c.resetTx()
	c.WriteOK()
}

// cmdWatch is WATCH key…: each key not yet watched is read (at quorum and
// from this node's replica, loadFresh) and its history remembered.
func cmdWatch(c *Conn, args [][]byte) {
	if c.tx.multi {
		c.WriteError(msgWatchInMulti)
		return
	}
	now := c.now()
	for _, k := range args[1:] {
		if c.tx.watching(c.db, k) {
			continue
		}
		o, err := c.loadFreshIn(c.db, k)
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.tx.watched = append(c.tx.watched, watchedKey{db: c.db, key: k, obj: o, hist: crdt.History(o).Encode(), live: crdt.Live(o, now)})
	}
	c.WriteOK()
}

func cmdUnwatch(c *Conn, _ [][]byte) {
	c.tx.watched = nil
	c.WriteOK()
}

// cmdExec is EXEC: it ends the transaction (and the watches) and runs
// the queued commands (execBlock), or replies EXECABORT if one was
// refused while queuing.
func cmdExec(c *Conn, _ [][]byte) {
	if !c.tx.multi {
		c.WriteError(msgExecNoMulti)
		return
	}
	tx := c.tx
	c.resetTx()
	if tx.dirty {
		c.WriteError(msgExecAbort)
		return
	}
	c.execBlock(tx.queue, tx.watched)
}

// execBlock runs a transaction's commands and writes EXEC's reply. A lone
// node runs the block as one unit under the locks of all its keys and
// watched keys. In a cluster, a block whose keys (watched ones included)
// share one slot runs as one unit on the slot's coordinator: here, or
// forwarded there whole as DKV.EXEC with the watched keys' histories
// (routeWrite: the same routing, retries and relaying as a forwarded
// write). A block over several slots, or one to forward that holds a
// command acting on the connection (SELECT, CLIENT, HELLO…: keyless and
// not read-only), runs here command by command, each as if sent alone,
// without isolation; its watched keys are checked first, also without
// isolation.
func (c *Conn) execBlock(queue [][][]byte, watched []watchedKey) {
	keys := c.blockKeys(queue, watched)
	cl := c.srv.cfg.Cluster
	switch {
	case cl == nil || len(keys) == 0:
		c.runBlock(keys, true, watched, queue)
	case !c.sameSlot(keys):
		c.runBlock(nil, false, watched, queue)
	default:
		if _, local := cl.Route(keys[0]); local {
			c.runBlock(keys, true, watched, queue)
		} else if !c.forwardable(queue) {
			c.runBlock(nil, false, watched, queue)
		} else {
			c.routeWrite(&blockCommand, encodeBlock(keys, watched, queue))
		}
	}
}

// blockKeys returns the keys of the queued commands and the watched keys.
func (c *Conn) blockKeys(queue [][][]byte, watched []watchedKey) [][]byte {
	var keys [][]byte
	for _, args := range queue {
		if cmd, msg := c.resolve(args); msg == "" {
			for _, p := range keyPositions(cmd, args) {
				keys = append(keys, args[p])
			}
		}
	}
	for _, w := range watched {
		keys = append(keys, w.key)
	}
	return keys
}

// forwardable reports whether every queued command may run on another
// node's peer connection: it has keys, or only reads, or is PING, ECHO
// or UNWATCH (so none changes this connection's state there).
func (c *Conn) forwardable(queue [][][]byte) bool {
	for _, args := range queue {
		cmd, _ := c.resolve(args)
		if cmd == nil {
			return false
		}
		switch {
		case len(keyPositions(cmd, args)) > 0, cmd.Flags&FlagReadOnly != 0:
		case cmd.fullName == "ping", cmd.fullName == "echo", cmd.fullName == "unwatch":
		default:
			return false
		}
	}
	return true
}

// runBlock writes EXEC's reply: a null array if a watched key changed,
// else the array of the queued commands' replies, each run by exec (so a
// command's error is its element). With unit it runs as one unit under
// keys' locks (runUnit), the watches checked under them.
func (c *Conn) runBlock(keys [][]byte, unit bool, watched []watchedKey, queue [][][]byte) {
	last := c.lastCmd.Load()
	defer c.lastCmd.Store(last)
	// NB: a blocking command in the block runs its non-blocking form, here
	// and (DKV.NOBLOCK, forwardArgs) on the coordinator it is forwarded to.
	saved := c.noBlock
	c.noBlock = true
	defer func() { c.noBlock = saved }()
	run := func() {
		changed, err := c.watchChanged(watched)
		switch {
		case err != nil:
			c.WriteErr(err)
		case changed:
			c.WriteNullArray()
		default:
			c.WriteArray(len(queue))
			for _, args := range queue {
				c.exec(args)
			}
		}
	}
	if unit {
		stored := make([][]byte, 0, len(keys)+len(watched))
		for _, k := range keys {
			stored = append(stored, c.storedKey(k))
		}
		for _, w := range watched { // each in the database it was watched in
			if sk := c.storedKeyIn(w.db, w.key); !slices.ContainsFunc(stored, func(k []byte) bool { return bytes.Equal(k, sk) }) {
				stored = append(stored, sk)
			}
		}
		c.runUnitStored(stored, run)
	} else {
		run()
	}
}

// watchChanged reports whether a watched key changed since WATCH: its
// history (read at quorum and from this node's replica, which on the
// coordinator holds every write it applied) is not the one WATCH read, or
// it held a value then and has expired since (as Redis 7).
func (c *Conn) watchChanged(watched []watchedKey) (bool, error) {
	now := c.now()
	for _, w := range watched {
		cur, err := c.loadFreshIn(w.db, w.key)
		if err != nil {
			return false, err
		}
		if !bytes.Equal(crdt.History(cur).Encode(), w.hist) || w.live && !crdt.Live(cur, now) {
			return true, nil
		}
	}
	return false, nil
}

// blockCommand is DKV.EXEC (peer.CmdExec), a block forwarded to the
// coordinator of its keys' slot: a write routed by all the block's keys
// (listed first, so routing needs no command table), never split.
var blockCommand = Command{
	Name:        strings.ToLower(peer.CmdExec),
	Arity:       -3,
	Flags:       FlagPeer | FlagWrite | FlagMovableKeys,
	Handler:     cmdBlock,
	noSplit:     true,
	movableKeys: blockKeyPositions,
	longForward: true, // its scripts and quorum writes may run long
}

// encodeBlock returns the DKV.EXEC command of a block: nkeys key… nwatch
// [key db history live]… then each command as argc arg….
func encodeBlock(keys [][]byte, watched []watchedKey, queue [][][]byte) [][]byte {
	out := [][]byte{[]byte(peer.CmdExec), strconv.AppendInt(nil, int64(len(keys)), 10)}
	out = append(out, keys...)
	out = append(out, strconv.AppendInt(nil, int64(len(watched)), 10))
	for _, w := range watched {
		live := []byte("0")
		if w.live {
			live = []byte("1")
		}
		out = append(out, w.key, strconv.AppendInt(nil, int64(w.db), 10), w.hist, live)
	}
	for _, args := range queue {
		out = append(out, strconv.AppendInt(nil, int64(len(args)), 10))
		out = append(out, args...)
	}
	return out
}

// blockCount parses a count of a DKV.EXEC: at most limit.
func blockCount(b []byte, limit int) (int, bool) {
	n, err := strconv.Atoi(string(b))
	return n, err == nil && n >= 0 && n <= limit
}

// blockKeyPositions returns the positions of a DKV.EXEC's keys (none if
// malformed: the handler then refuses it).
func blockKeyPositions(args [][]byte) []int {
	if len(args) < 2 {
		return nil
	}
	n, ok := blockCount(args[1], len(args)-2)
	if !ok {
		return nil
	}
	pos := make([]int, n)
	for i := range pos {
		pos[i] = 2 + i
	}
	return pos
}

// decodeBlock parses a DKV.EXEC.
func decodeBlock(args [][]byte) (keys [][]byte, watched []watchedKey, queue [][][]byte, ok bool) {
	i := 1
	n, ok := blockCount(args[i], len(args)-i-1)
	if !ok {
		return nil, nil, nil, false
	}
	keys, i = args[i+1:i+1+n], i+1+n
	if i >= len(args) {
		return nil, nil, nil, false
	}
	if n, ok = blockCount(args[i], (len(args)-i-1)/4); !ok {
		return nil, nil, nil, false
	}
	i++
	for range n {
		db, err := strconv.Atoi(string(args[i+1]))
		if err != nil || db < 0 || db >= ring.Databases {
			return nil, nil, nil, false
		}
		watched = append(watched, watchedKey{db: db, key: args[i], hist: args[i+2], live: string(args[i+3]) == "1"})
		i += 4
	}
	for i < len(args) {
		n, ok := blockCount(args[i], len(args)-i-1)
		if !ok || n == 0 {
			return nil, nil, nil, false
		}
		queue = append(queue, args[i+1:i+1+n])
		i += 1 + n
	}
	return keys, watched, queue, true
}

// cmdBlock is DKV.EXEC: the block runs here as one unit (runBlock), its
// watched keys compared with the histories the client's node read.
func cmdBlock(c *Conn, args [][]byte) {
	keys, watched, queue, ok := decodeBlock(args)
	if !ok {
		c.WriteError(msgBadBlock)
		return
	}
	c.runBlock(keys, true, watched, queue)
}
