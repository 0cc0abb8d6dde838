package resp

import (
	"context"
	"math"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Blocking commands (BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP; the sorted
// set's BZPOPMIN family is meant to use the same block).
//
// A blocking command is a write (FlagWrite, longForward): routeWrite
// runs it on the coordinator of its keys' slot, forwarding it there and
// waiting as long as it blocks (forwardContext; the forward ends when the
// client disconnects). Every client write of a key is routed to its
// coordinator too, and mutate signals the coordinator's registry of
// waiters after each write it applies, so a blocked client on any node is
// woken by a push through any node. A woken waiter runs its command's
// non-blocking attempt again, as a unit under its keys' locks (runUnit),
// so two waiters never pop one element; the one that finds nothing waits
// again. Every blockPoll the waiter also tries again (a write that reached
// the coordinator's replica another way, by read repair or anti-entropy,
// after a partition) and checks that its connection is still open.
//
// A client that disconnects while blocked loses nothing: the attempt
// runs only while the waiter is live, and the waiter checks its
// connection (clientGone) before each attempt. On the coordinator of a
// forwarded command that connection is the forwarding node's peer
// connection, which that node closes as soon as its client's close
// arrives (forwardContext; within clientCheckEvery when the client
// pipelined more commands behind the blocked one). A push that reaches
// the coordinator before that close may still be served to the closed
// client, as Redis serves a client whose close it has not read yet (the
// remaining window of loss).
//
// Waiters of one key are not served in FIFO order as in Redis: all are
// woken and race for the unit lock. Inside MULTI (EXEC runs a unit) or a
// script the non-blocking attempt runs once, and its "timeout" reply is
// given at once, as Redis does. A forwarded blocked command holds one of
// the forwarding node's peer connections to the coordinator while it
// waits (peerclient's PoolSize, 64 by default, bounds them).

// blockPoll is how often a blocked waiter tries again without a signal
// and checks its connection.
const blockPoll = time.Second

// blockRegistry holds the blocked waiters of a server, per stored key.
// The zero value is ready; it is safe for concurrent use.
type blockRegistry struct {
	n     atomic.Int64 // waiters registered here (any connection)
	tries atomic.Int64 // attempts of blocked commands (tests: no spinning)
	mu    sync.Mutex
	keys  map[string]map[*waiter]struct{}
	conns map[int64]func(reason string) // blocked client connections: how CLIENT UNBLOCK ends each
}

// waiter is one blocked command: ch holds one pending wake-up, unblock
// CLIENT UNBLOCK's reason.
type waiter struct {
	ch      chan struct{}
	unblock chan string
}

// Reasons of CLIENT UNBLOCK.
const (
	unblockTimeout = "timeout"
	unblockError   = "error"
)

// msgUnblocked is the reply of a command ended by CLIENT UNBLOCK ERROR.
const msgUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// enter registers client connection id as blocked until the returned
// func is called; unblock ends its command (CLIENT UNBLOCK).
func (r *blockRegistry) enter(id int64, unblock func(reason string)) (leave func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.conns == nil {
		r.conns = map[int64]func(string){}
	}
	r.conns[id] = unblock
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		delete(r.conns, id)
	}
}

// Unblock is CLIENT UNBLOCK id [TIMEOUT|ERROR]: it ends the blocking
// command of client connection id with reason (unblockTimeout: the
// command's timeout reply; unblockError: msgUnblocked) and reports
// whether that client was blocked.
func (s *Server) Unblock(id int64, reason string) bool {
	s.blocked.mu.Lock()
	f := s.blocked.conns[id]
	s.blocked.mu.Unlock()
	if f == nil {
		return false
	}
	f(reason)
	return true
}

// isBlocked reports whether client connection id is blocked (CLIENT
// LIST's flag b).
func (s *Server) isBlocked(id int64) bool {
	s.blocked.mu.Lock()
	defer s.blocked.mu.Unlock()
	_, ok := s.blocked.conns[id]
	return ok
}

// blockedClients is INFO's blocked_clients: client connections of this
// node blocked in a command (waiting here or forwarded to the keys'
// coordinator).
func (s *Server) blockedClients() int {
	s.blocked.mu.Lock()
	defer s.blocked.mu.Unlock()
	return len(s.blocked.conns)
}

func (r *blockRegistry) add(keys [][]byte) *waiter {
	w := &waiter{ch: make(chan struct{}, 1), unblock: make(chan string, 1)}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys == nil {
		r.keys = map[string]map[*waiter]struct{}{}
	}
	for _, k := range keys {
		ws := r.keys[string(k)]
		if ws == nil {
			ws = map[*waiter]struct{}{}
			r.keys[string(k)] = ws
		}
		ws[w] = struct{}{}
	}
	r.n.Add(1)
	return w
}

func (r *blockRegistry) remove(w *waiter, keys [][]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, k := range keys {
		if ws := r.keys[string(k)]; ws != nil {
			delete(ws, w)
			if len(ws) == 0 {
				delete(r.keys, string(k))
			}
		}
	}
	r.n.Add(-1)
}

// signal wakes every waiter of stored key (a write of it was applied).
// It costs one atomic load when nobody waits.
func (r *blockRegistry) signal(key []byte) {
	if r.n.Load() == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for w := range r.keys[string(key)] {
		select {
		case w.ch <- struct{}{}:
		default:
		}
	}
}

// BlockedClients returns how many commands are blocked on this node (INFO
// clients' blocked_clients; a forwarded command counts on its keys'
// coordinator).
func (s *Server) BlockedClients() int64 { return s.blocked.n.Load() }

// msgTimeoutNotFloat and msgTimeoutNegative are Redis 7.0's errors for a
// blocking command's timeout.
const (
	msgTimeoutNotFloat = "ERR timeout is not a float or out of range"
	msgTimeoutNegative = "ERR timeout is negative"
)

// maxBlock stands for a timeout longer than time.Duration holds.
const maxBlock = 100 * 365 * 24 * time.Hour

// parseTimeout parses a blocking command's timeout in seconds as Redis
// 7.0's getTimeoutFromObjectOrReply: a float (strtold's syntax) whose
// milliseconds, rounded up, fit a long long (else "negative", as Redis's
// overflowing conversion says); 0 blocks forever. It writes the error
// reply and returns false on bad input.
func parseTimeout(c *Conn, b []byte) (time.Duration, bool) {
	f, ok := parseFloatArg(b)
	if !ok {
		c.WriteError(msgTimeoutNotFloat)
		return 0, false
	}
	ms := math.Ceil(f * 1000)
	if ms < 0 || ms >= math.MaxInt64 || math.IsInf(ms, 0) {
		c.WriteError(msgTimeoutNegative)
		return 0, false
	}
	if ms >= float64(maxBlock/time.Millisecond) {
		return maxBlock, true
	}
	return time.Duration(ms) * time.Millisecond, true
}

// block runs a blocking command on this node (its keys' coordinator, as
// routed). try is the command's non-blocking attempt: it runs as a unit
// under keys' locks, writes the reply and returns true when it can serve
// the command now (an error reply included), or writes nothing and
// returns false. block calls try at once, then after every write of one
// of keys applied here (and every blockPoll) until it returns true, the
// timeout passes (0: none), the client disconnects or the server closes;
// then it writes timedOut's reply (the command's null). Inside a unit
// (EXEC, a script) or MULTI, try runs once and timedOut follows at once.
//
// The sorted set's BZPOPMIN is ZPOPMIN's attempt under block:
//
//	c.block(keys, timeout, func() bool { return tryZPop(c, keys, min) }, c.WriteNullArray)
func (c *Conn) block(keys [][]byte, timeout time.Duration, try func() bool, timedOut func()) {
	if !c.mayBlock() {
		if !try() {
			timedOut()
		}
		return
	}
	stored := make([][]byte, len(keys))
	for i, k := range keys {
		stored[i] = c.storedKey(k)
	}
	w := c.srv.blocked.add(stored)
	defer c.srv.blocked.remove(w, stored)
	if !c.peer {
		leave := c.srv.blocked.enter(c.id, func(reason string) {
			select {
			case w.unblock <- reason:
			default:
			}
		})
		defer leave()
	}
	// NB: registered before the first attempt: a write between the attempt
	// and the wait leaves its wake-up in w.ch.
	if c.tryUnit(keys, w, try) {
		return
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	poll := time.NewTicker(blockPoll)
	defer poll.Stop()
	nc := c.netConn()
	for {
		select {
		case <-w.ch:
		case r := <-w.unblock:
			if r == unblockError {
				c.WriteError(msgUnblocked)
			} else {
				timedOut()
			}
			return
		case <-poll.C:
		case <-expired:
			timedOut()
			return
		case <-c.srv.ctx.Done():
			timedOut()
			return
		}
		if nc != nil && clientGone(nc) {
			timedOut() // nobody reads it; nothing was popped
			return
		}
		if c.tryUnit(keys, w, try) {
			return
		}
	}
}

// blockForward prepares the forward of a blocking command to its keys'
// coordinator: the client is blocked here meanwhile (INFO, CLIENT LIST),
// and CLIENT UNBLOCK cancels the returned context, which drops the peer
// connection, so the waiter on the coordinator ends without serving it
// (see the window in the package comment). unblocked writes the reply of
// such an end and reports true; the caller then skips the forward's
// reply.
func (c *Conn) blockForward(ctx context.Context) (fctx context.Context, unblocked func() bool, done func()) {
	fctx, cancel := context.WithCancel(ctx)
	var mu sync.Mutex
	reason := ""
	leave := c.srv.blocked.enter(c.id, func(r string) {
		mu.Lock()
		reason = r
		mu.Unlock()
		cancel()
	})
	unblocked = func() bool {
		mu.Lock()
		r := reason
		mu.Unlock()
		switch r {
		case "":
			return false
		case unblockError:
			c.WriteError(msgUnblocked)
		default:
			c.WriteNullArray() // every list (and sorted set) blocking command's timeout reply
		}
		return true
	}
	return fctx, unblocked, func() { leave(); cancel() }
}

// mayBlock reports whether a blocking command may block here: not inside
// a unit (EXEC's block, a script), nor while queuing MULTI, nor in an EXEC
// block run command by command or forwarded with DKV.NOBLOCK (noBlock).
func (c *Conn) mayBlock() bool { return c.unitCtx == nil && !c.tx.multi && !c.noBlock }

// tryUnit runs try as a unit under keys' locks, keeping its reply only if
// it served the command (or the unit could not run: its error). Before
// the unit ends it drops w's pending wake-up: under the locks the only
// writes of keys coordinated here are try's own (a pop signals too),
// which must not wake w again (a waiter would spin on its own attempts).
func (c *Conn) tryUnit(keys [][]byte, w *waiter, try func() bool) bool {
	ok := false
	c.srv.blocked.tries.Add(1)
	rep := c.capture(func() {
		c.runUnit(keys, func() {
			ok = try()
			select {
			case <-w.ch:
			default:
			}
		})
	})
	if ok || len(rep.raw) > 0 {
		c.out = append(c.out, rep.raw...)
		return true
	}
	return false
}

// netConn returns the connection's socket (nil when driven directly).
func (c *Conn) netConn() net.Conn {
	if c.rc == nil {
		return nil
	}
	nc := c.rc.NetConn()
	if g, ok := nc.(*guardConn); ok {
		nc = g.Conn
	}
	return nc
}
