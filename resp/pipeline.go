package resp

import (
	"sync"
	"time"

	"github.com/tidwall/redcon"
)

// Pipelined commands run concurrently (docs/client-surface.md): redcon hands
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

// maxConcurrent is the most commands of one connection run at once: a
// longer run of concurrent commands (a bulk load pipelining thousands)
// runs in slices of this many, one after the other, so a connection never
// holds more than this many goroutines and their stacks.
const maxConcurrent = 64

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

// keptWorkers is how many worker Conns a connection keeps between its
// concurrent batches (workerConns): enough for redis-benchmark's and most
// clients' pipelines of 16 distinct keys, at some 7.5 KiB a connection.
const keptWorkers = 16

// workerConns returns n zero Conns for the workers of one batch of c,
// reusing the ones kept from its previous batch when they are enough:
// batches of a connection run one at a time, and no worker outlives its
// batch. runConcurrent zeroes them again (releaseWorkers) once it has
// copied their replies out, so kept workers hold no buffers.
func (c *Conn) workerConns(n int) []Conn {
	if n <= cap(c.workers) {
		return c.workers[:n]
	}
	ws := make([]Conn, n)
	if n <= keptWorkers {
		c.workers = ws
	}
	return ws
}

// releaseWorkers zeroes the workers of a finished batch (ws), so the kept
// ones hold nothing until the next.
func releaseWorkers(ws []Conn) { clear(ws) }

// initWorker makes w, a zero Conn, a worker of c: it runs commands of
// c's batch on another goroutine with c's session (protocol, database,
// name, flags) and its own reply buffer and bookkeeping. Its replies and
// last write are merged back into c by runConcurrent.
func (c *Conn) initWorker(w *Conn) {
	w.srv = c.srv
	w.id = c.id
	w.addr, w.laddr = c.addr, c.laddr
	w.created = c.created
	w.clusterAware = c.clusterAware
	w.tls = c.tls
	w.authed = c.authed
	w.user.Store(c.user.Load())
	w.proto = c.proto
	w.name, w.libName, w.libVer = c.name, c.libName, c.libVer
	w.db = c.db
	w.adm.noEvict.Store(c.adm.noEvict.Load())
	w.adm.noTouch.Store(c.adm.noTouch.Load())
}

// handleBatch runs cmds, the commands of one batch of c from the first
// concurrent one on (redcon's pipeline, taken whole), writing their
// replies in order: each run of at least minConcurrent concurrent
// commands at once (runConcurrent; at most maxConcurrent at a time),
// every other command alone (handleOne).
// Whether a command is concurrent is decided when the commands before it
// have run, as a barrier may change the connection's state (MULTI,
// SUBSCRIBE, QUIT…).
func (s *Server) handleBatch(rc redcon.Conn, c *Conn, cmds []redcon.Command) {
	for i := 0; i < len(cmds); {
		j := i
		for j < len(cmds) && j-i < maxConcurrent && c.concurrentCall(cmds[j].Args) {
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
// in order on its own worker Conn (initWorker); then it writes their
// replies in the commands' order and takes the last successful write's
// marks (WAIT's subject) as c's.
func (s *Server) runConcurrent(rc redcon.Conn, c *Conn, cmds []redcon.Command) {
	// call is one command's place: its key group, the next command of
	// that group (0: none; never the first command), and its reply, at
	// [start, end) of its group's worker's buffer.
	type call struct {
		group, next, start, end int
		lastWrite               []writeMark
		wrote                   bool
	}
	calls := make([]call, len(cmds))
	heads := make([]int, 0, len(cmds)) // each group's first command
	tails := make([]int, 0, len(cmds)) // and last
	var byKey map[string]int
	if len(cmds) > 32 {
		byKey = make(map[string]int, len(cmds))
	}
	for i, cmd := range cmds {
		key := cmd.Args[1]
		g, found := -1, false
		if byKey != nil {
			g, found = byKey[string(key)]
		} else {
			for _, h := range heads {
				if string(cmds[h].Args[1]) == string(key) {
					g, found = calls[h].group, true
					break
				}
			}
		}
		if !found {
			g = len(heads)
			heads, tails = append(heads, i), append(tails, i)
			if byKey != nil {
				byKey[string(key)] = g
			}
		} else {
			calls[tails[g]].next = i
			tails[g] = i
		}
		calls[i].group = g
	}
	workers := c.workerConns(len(heads))
	// Each worker starts with a slice of one shared buffer as its reply
	// buffer (capped: a longer reply moves to its own).
	const replyRoom = 64
	room := make([]byte, replyRoom*len(heads))
	run := func(g int) {
		w := &workers[g]
		c.initWorker(w)
		w.out = room[g*replyRoom : g*replyRoom : (g+1)*replyRoom]
		for i := heads[g]; ; i = calls[i].next {
			calls[i].start = len(w.out)
			w.serve(cmds[i].Args)
			calls[i].end = len(w.out)
			if w.adm.lastWrite != nil {
				calls[i].lastWrite, calls[i].wrote = w.adm.lastWrite, true
				w.adm.lastWrite = nil
			}
			if calls[i].next == 0 {
				return
			}
		}
	}
	var wg sync.WaitGroup
	wg.Add(len(heads) - 1)
	for g := 1; g < len(heads); g++ {
		s.workers.run(task{run: run, arg: g, wg: &wg})
	}
	run(0)
	wg.Wait()
	for i := range calls {
		cl := &calls[i]
		c.out = append(c.out, workers[cl.group].out[cl.start:cl.end]...)
		if cl.wrote {
			c.adm.lastWrite = cl.lastWrite
		}
	}
	releaseWorkers(workers)
	if cmd := lookup(s.cmds, cmds[len(cmds)-1].Args[0]); cmd != nil {
		c.lastCmd.Store(cmd)
	}
	c.lastActive.Store(time.Now().UnixNano())
	s.reply(rc, c, false)
}

// workerIdle is how long an idle worker goroutine of a workerPool waits
// for more work before it ends.
const workerIdle = 10 * time.Second

// workerPool runs the key groups of concurrent batches (runConcurrent) on
// goroutines that outlive one batch: a new goroutine's stack starts small
// and grows by copying on the deep handler path (a store read), which
// cost a sixth of the CPU of pipelined SETs when every group had a fresh
// goroutine. Goroutines are made on demand, never limited (a batch's
// groups must all run at once: one key's commands may wait for another's
// nothing, but every group must make progress), and end after workerIdle
// without work. The zero value is ready to use.
type workerPool struct {
	tasks chan task // unbuffered: a send succeeds only to an idle worker
	once  sync.Once
}

// task is a call of run(arg), after which wg.Done is called.
type task struct {
	run func(int)
	arg int
	wg  *sync.WaitGroup
}

func (t task) do() {
	defer t.wg.Done()
	t.run(t.arg)
}

// run runs t on an idle worker, or on a new one if none is idle.
func (p *workerPool) run(t task) {
	p.once.Do(func() { p.tasks = make(chan task) })
	select {
	case p.tasks <- t:
	default:
		go p.work(t)
	}
}

// work runs t, then whatever tasks come, until it has been idle for
// workerIdle.
func (p *workerPool) work(t task) {
	t.do()
	idle := time.NewTimer(workerIdle)
	defer idle.Stop()
	for {
		select {
		case t := <-p.tasks:
			t.do()
			idle.Reset(workerIdle)
		case <-idle.C:
			return
		}
	}
}
