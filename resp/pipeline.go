package resp

import (
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// Pipelined commands run concurrently (DESIGN "Pipelining"): redcon hands
// the server the commands of one read of a connection (what the client
// pipelined) one at a time, and replies are flushed once the whole batch
// has run. Instead of running them strictly one after another, each
// waiting for its own backend call (a durable write's fsync above all),
// the server runs a run of consecutive concurrent commands (see
// Command.concurrent) of a connection in plain state (Conn.plainState)
// at once: one goroutine per distinct key, each running its key's
// commands in their order, so commands of one key keep their order and
// only commands of different keys overlap (which no client can tell from
// running them in turn, as with commands of different connections). The
// replies are written in the commands' order. Concurrent writes reach the
// store together, which groups their fsyncs into one WAL sync (replica's
// commit), so a pipelined batch of SETs costs about one fsync, as a Redis
// event-loop iteration does with appendfsync always.
//
// Anything else (a command with connection state, MULTI/EXEC and WATCH,
// scripts, blocking and Pub/Sub commands, SELECT, CLIENT, admin
// commands, multi-key commands, an unknown command, or any command while
// the connection is in MULTI, WATCHes keys, is subscribed, has CLIENT
// REPLY OFF/SKIP, or while a MONITOR runs) is a barrier: it runs alone,
// after every command before it has finished and before any after it
// starts.

// minConcurrent is the shortest run of concurrent commands worth running
// concurrently; a shorter run goes one command at a time.
const minConcurrent = 2

// concurrentGroups are the command groups whose plain single-key commands
// may run concurrently with their connection's other commands.
var concurrentGroups = map[string]bool{
	"string": true, "hash": true, "set": true, "list": true, "sorted-set": true,
	"generic": true, "bitmap": true, "hyperloglog": true, "geo": true, "dynamo": true,
}

// notConcurrent are single-key data commands that nevertheless act as
// barriers: MOVE writes the key in another database, SORT may read other
// keys (BY, GET) and write one (STORE).
var notConcurrent = map[string]bool{"move": true, "sort": true, "sort_ro": true}

// isConcurrent reports whether cmd is a plain single-key data command: it
// reads or writes exactly the key at position 1 and nothing of its
// connection's state, so it may run concurrently with its connection's
// commands of other keys (see Command.concurrent).
func isConcurrent(cmd *Command) bool {
	const barrier = FlagBlocking | FlagPubSub | FlagAdmin | FlagNoScript | FlagPeer | FlagMovableKeys
	return cmd.subs == nil && cmd.Handler != nil && !cmd.hidden &&
		cmd.FirstKey == 1 && cmd.LastKey == 1 && cmd.KeyStep == 1 &&
		cmd.Flags&(FlagWrite|FlagReadOnly) != 0 && cmd.Flags&barrier == 0 &&
		cmd.movableKeys == nil && cmd.forward == nil && !cmd.longForward &&
		concurrentGroups[cmd.Group] && !notConcurrent[cmd.Name]
}

// concurrentCall reports whether args may run concurrently with the other
// concurrent commands of its batch: a concurrent command with its key,
// on a connection in plain state.
func (c *Conn) concurrentCall(args [][]byte) bool {
	if len(args) < 2 || !c.plainState() {
		return false
	}
	cmd := lookup(c.srv.cmds, args[0])
	return cmd != nil && cmd.concurrent
}

// plainState reports whether the connection has no state a concurrent
// command could observe or change: authenticated, not a peer, not
// quitting, no MULTI, no WATCHed keys, no subscription or MONITOR, replies
// on, outside a unit, and no MONITOR on the server (whose feed follows
// the commands' order).
func (c *Conn) plainState() bool {
	return c.authed && !c.peer && !c.quit && c.unitCtx == nil &&
		!c.tx.multi && len(c.tx.watched) == 0 && c.push.Load() == nil &&
		!c.adm.replyOff && c.adm.skip == 0 && c.srv.pub.nmon.Load() == 0
}

// worker returns a Conn that runs commands of c's batch on another
// goroutine: c's session (protocol, database, name, flags), its own reply
// buffer and bookkeeping. Its replies and last write are merged back into
// c by runConcurrent.
func (c *Conn) worker() *Conn {
	w := &Conn{
		srv:          c.srv,
		id:           c.id,
		addr:         c.addr,
		laddr:        c.laddr,
		created:      c.created,
		clusterAware: c.clusterAware,
		authed:       c.authed,
		proto:        c.proto,
		name:         c.name,
		libName:      c.libName,
		libVer:       c.libVer,
		db:           c.db,
	}
	w.adm.noEvict.Store(c.adm.noEvict.Load())
	w.adm.noTouch.Store(c.adm.noTouch.Load())
	return w
}

// handleBatch runs cmds, the commands of one batch of c from the first
// concurrent one on (redcon's pipeline, taken whole), writing their
// replies in order: each run of at least minConcurrent concurrent
// commands at once (runConcurrent), every other command alone (handleOne).
// Whether a command is concurrent is decided when the commands before it
// have run, as a barrier may change the connection's state (MULTI,
// SUBSCRIBE, QUIT…).
func (s *Server) handleBatch(rc redcon.Conn, c *Conn, cmds []redcon.Command) {
	for i := 0; i < len(cmds); {
		j := i
		for j < len(cmds) && c.concurrentCall(cmds[j].Args) {
			j++
		}
		if j-i >= minConcurrent {
			s.runConcurrent(rc, c, cmds[i:j])
			i = j
			continue
		}
		s.handleOne(rc, c, cmds[i].Args)
		i++
		if c.quit {
			return // handleOne closed the connection; the rest is dropped
		}
	}
}

// runConcurrent runs cmds, concurrent commands of c, at once: one
// goroutine per distinct key (args[1]), each running its key's commands
// in order on its own worker Conn; then it writes their replies in the
// commands' order and takes the last successful write's marks (WAIT's
// subject) as c's.
func (s *Server) runConcurrent(rc redcon.Conn, c *Conn, cmds []redcon.Command) {
	type result struct {
		out       []byte
		lastWrite []writeMark
		wrote     bool
	}
	res := make([]result, len(cmds))
	// groups[g] lists the indexes of one key's commands, in order.
	var groups [][]int
	byKey := make(map[string]int, len(cmds))
	for i, cmd := range cmds {
		g, ok := byKey[string(cmd.Args[1])]
		if !ok {
			g = len(groups)
			byKey[string(cmd.Args[1])] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	run := func(idx []int) {
		w := c.worker()
		for _, i := range idx {
			w.serve(cmds[i].Args)
			res[i].out = w.out
			w.out = nil
			if w.adm.lastWrite != nil {
				res[i].lastWrite, res[i].wrote = w.adm.lastWrite, true
				w.adm.lastWrite = nil
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(len(groups) - 1)
	for _, idx := range groups[1:] {
		go func() {
			defer wg.Done()
			run(idx)
		}()
	}
	run(groups[0])
	wg.Wait()
	for i := range res {
		c.out = append(c.out, res[i].out...)
		if res[i].wrote {
			c.adm.lastWrite = res[i].lastWrite
		}
	}
	if cmd := lookup(s.cmds, cmds[len(cmds)-1].Args[0]); cmd != nil {
		c.lastCmd.Store(cmd)
	}
	c.lastActive.Store(time.Now().UnixNano())
	s.reply(rc, c, false)
}
