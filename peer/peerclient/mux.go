package peerclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/dynakv/dynakv/peer"
)

// muxMaxArgs is the largest command (the sum of its arguments' lengths,
// in bytes) a lane carries; a larger one takes a pooled connection of its
// own, so that it does not hold up the small calls queued behind it.
const muxMaxArgs = 64 << 10

// muxSpareMax is the largest write buffer a lane keeps for reuse, in
// bytes; a larger one, grown by a burst, is left to the collector.
const muxSpareMax = 1 << 20

// lane is one multiplexed, auto-pipelined connection to the node: every
// caller appends its command to the connection's write buffer and queues
// itself for the reply; one writer goroutine writes whatever has gathered
// in one write, one reader goroutine reads the replies, which come back in
// the order of the commands, and hands each to its caller. Calls made
// while a write is under way go together in the next one, so under load a
// write carries many commands and the node answers them with one write.
//
// A lane holds one of the Client's PoolSize slots while its connection is
// open. It dials on first use and again after its connection failed; one
// caller dials, the others wait for that dial.
type lane struct {
	c *Client

	mu      sync.Mutex
	cn      *muxConn
	dialing *dialing // the dial under way, nil if none
}

// dialing is a lane's dial in progress: done is closed when it ended, with
// cn or err set.
type dialing struct {
	done chan struct{}
	cn   *muxConn
	err  error
}

// conn returns the lane's open connection, dialling one if it has none.
// An error means nothing was sent.
//
// The dial serves every caller waiting for the lane, so it runs apart from
// them: it ends at the deadline of the caller that started it but not with
// that caller's cancellation (a read cancels the calls left once R
// replicas answered, and the connection the others wait for must not fail
// with them), while each caller stops waiting when its own context ends.
func (l *lane) conn(ctx context.Context, deadline time.Time) (*muxConn, error) {
	l.mu.Lock()
	if cn := l.cn; cn != nil && !cn.failed() {
		l.mu.Unlock()
		return cn, nil
	}
	d := l.dialing
	if d == nil {
		d = &dialing{done: make(chan struct{})}
		l.dialing = d
		dctx, cancel := context.WithDeadline(context.WithoutCancel(ctx), deadline)
		go func() {
			defer cancel()
			d.cn, d.err = l.dial(dctx, deadline)
			l.mu.Lock()
			l.dialing = nil
			// NB: checked under l.mu: a Close after this check closes
			// the lane after this unlock, and so the connection.
			l.c.mu.Lock()
			closed := l.c.closed
			l.c.mu.Unlock()
			if d.err == nil && closed {
				d.cn.fail(ErrClosed)
				d.cn, d.err = nil, ErrClosed
			}
			if d.err == nil {
				l.cn = d.cn
			}
			l.mu.Unlock()
			close(d.done)
		}()
	}
	l.mu.Unlock()
	select {
	case <-d.done:
		return d.cn, d.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// dial takes a pool slot and opens and authenticates a connection (see
// Client.get); the slot is given back when the connection fails.
func (l *lane) dial(ctx context.Context, deadline time.Time) (*muxConn, error) {
	pc, err := l.c.get(ctx, deadline)
	if err != nil {
		return nil, err
	}
	if err := pc.nc.SetDeadline(time.Time{}); err != nil {
		_ = pc.nc.Close()
		<-l.c.slot
		return nil, err
	}
	m := &muxConn{
		nc:      pc.nc,
		br:      pc.br,
		maxBulk: l.c.cfg.MaxBulkLen,
		timeout: l.c.cfg.Timeout,
		kick:    make(chan struct{}, 1),
		dead:    make(chan struct{}),
		release: func() { <-l.c.slot },
	}
	go m.writeLoop()
	go m.readLoop()
	return m, nil
}

// close fails the lane's connection with err (calls in flight get it).
func (l *lane) close(err error) {
	l.mu.Lock()
	cn := l.cn
	l.cn = nil
	l.mu.Unlock()
	if cn != nil {
		cn.fail(err)
	}
}

// muxConn is a lane's connection.
type muxConn struct {
	nc      net.Conn
	br      *bufio.Reader
	maxBulk int64
	timeout time.Duration // bounds one write
	kick    chan struct{} // holds a token when wbuf has bytes to write
	dead    chan struct{} // closed by fail
	release func()        // gives the pool slot back, once

	mu    sync.Mutex
	wbuf  []byte     // commands not written yet
	spare []byte     // the writer's other buffer
	queue []*muxCall // calls written or in wbuf, in order
	armed time.Time  // the read deadline set: the oldest call's, zero when none waits
	err   error      // why the connection failed; nil while it works
}

// muxCall is one call waiting for its reply.
type muxCall struct {
	deadline time.Time
	done     chan muxResult // buffered: the reader never waits for a caller
}

type muxResult struct {
	raw []byte
	err error
}

// failed reports whether the connection has failed.
func (m *muxConn) failed() bool {
	select {
	case <-m.dead:
		return true
	default:
		return false
	}
}

// send queues a command (args[0] its name) whose reply is due before
// deadline. An error means it was not queued (the connection has failed)
// and so never sent.
func (m *muxConn) send(args [][]byte, deadline time.Time) (*muxCall, error) {
	call := &muxCall{deadline: deadline, done: make(chan muxResult, 1)}
	m.mu.Lock()
	if m.err != nil {
		err := m.err
		m.mu.Unlock()
		return nil, err
	}
	m.wbuf = appendCommand(m.wbuf, args)
	m.queue = append(m.queue, call)
	if len(m.queue) == 1 {
		m.arm()
	}
	m.mu.Unlock()
	select {
	case m.kick <- struct{}{}:
	default:
	}
	return call, nil
}

// writeLoop writes what the callers have gathered in wbuf, one write per
// batch, until the connection fails.
func (m *muxConn) writeLoop() {
	for {
		select {
		case <-m.kick:
		case <-m.dead:
			return
		}
		m.mu.Lock()
		buf := m.wbuf
		m.wbuf = m.spare[:0]
		m.spare = nil
		m.mu.Unlock()
		if len(buf) == 0 {
			continue
		}
		// NB: the write deadline only guards against a node that stopped
		// reading; each reply's deadline is the read loop's.
		err := m.nc.SetWriteDeadline(time.Now().Add(m.timeout))
		if err == nil {
			_, err = m.nc.Write(buf)
		}
		if err != nil {
			m.fail(err)
			return
		}
		if cap(buf) <= muxSpareMax {
			m.mu.Lock()
			m.spare = buf[:0]
			m.mu.Unlock()
		}
	}
}

// readLoop reads the replies and hands each to the oldest call, until the
// connection fails. It reads while no call waits too, so a connection the
// node closed fails at once, not under the next call. The read of a reply
// is bounded by its call's deadline: a node that does not answer in time
// fails the connection, and with it the calls behind (their replies would
// only come after).
func (m *muxConn) readLoop() {
	for {
		raw, err := ReadReply(m.br, nil, m.maxBulk)
		if err != nil {
			m.fail(err)
			return
		}
		m.mu.Lock()
		if len(m.queue) == 0 {
			m.mu.Unlock()
			m.fail(fmt.Errorf("%w: a reply nobody asked for", peer.ErrProtocol))
			return
		}
		call := m.queue[0]
		m.queue[0] = nil
		m.queue = m.queue[1:]
		m.arm()
		m.mu.Unlock()
		call.done <- muxResult{raw: raw}
	}
}

// arm sets the read deadline to the oldest call's, or none when no call
// waits. m.mu must be held.
func (m *muxConn) arm() {
	var deadline time.Time
	if len(m.queue) > 0 {
		deadline = m.queue[0].deadline
	}
	if !deadline.Equal(m.armed) {
		// NB: an error here means the connection is closed, which the
		// read loop sees.
		_ = m.nc.SetReadDeadline(deadline)
		m.armed = deadline
	}
}

// fail closes the connection, once, and fails every queued call with err.
func (m *muxConn) fail(err error) {
	m.mu.Lock()
	if m.err != nil {
		m.mu.Unlock()
		return
	}
	m.err = err
	queue := m.queue
	m.queue = nil
	m.wbuf = nil
	close(m.dead)
	m.mu.Unlock()
	_ = m.nc.Close()
	m.release()
	for _, call := range queue {
		call.done <- muxResult{err: err}
	}
}

// muxRoundTrip is roundTrip on lane l: the command queued on the lane's
// connection and its raw reply awaited within ctx's deadline (or
// Config.Timeout when it has none).
func (c *Client) muxRoundTrip(ctx context.Context, l *lane, op string, args [][]byte) ([]byte, error) {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	return c.muxWait(ctx, l, op, args, deadline)
}

// muxWait queues args on lane l with the reply due before deadline and
// waits for it until then or until ctx ends.
func (c *Client) muxWait(ctx context.Context, l *lane, op string, args [][]byte, deadline time.Time) ([]byte, error) {
	fail := func(err error) ([]byte, error) {
		// NB: the context's own end first: a cancelled call's I/O ends
		// in a socket timeout too (the deadline set to the past), and
		// must read as cancelled, not as a node too slow to answer
		// (which callers count against its health).
		ce := ctx.Err()
		var ne net.Error
		if ce == nil && errors.As(err, &ne) && ne.Timeout() {
			ce = context.DeadlineExceeded
		}
		if ce != nil && !errors.Is(err, ce) {
			err = fmt.Errorf("%w (%w)", err, ce)
		}
		return nil, fmt.Errorf("%w: %s %s: %w", peer.ErrRemote, c.cfg.ID, op, err)
	}
	if err := ctx.Err(); err != nil {
		return fail(err)
	}
	for attempt := 0; ; attempt++ {
		cn, err := l.conn(ctx, deadline)
		if err != nil {
			return fail(fmt.Errorf("%w: %w", peer.ErrNotSent, err))
		}
		call, err := cn.send(args, deadline)
		if err != nil {
			// The connection failed before this call was queued: nothing
			// was sent; another connection may take it.
			if attempt < 1 {
				continue
			}
			return fail(fmt.Errorf("%w: %w", peer.ErrNotSent, err))
		}
		select {
		case r := <-call.done:
			if r.err != nil {
				return fail(r.err)
			}
			return r.raw, nil
		case <-ctx.Done():
			return fail(ctx.Err())
		}
	}
}

// appendCommand appends args as a RESP array of bulk strings.
func appendCommand(dst []byte, args [][]byte) []byte {
	dst = append(dst, '*')
	dst = strconv.AppendInt(dst, int64(len(args)), 10)
	dst = append(dst, '\r', '\n')
	for _, a := range args {
		dst = append(dst, '$')
		dst = strconv.AppendInt(dst, int64(len(a)), 10)
		dst = append(dst, '\r', '\n')
		dst = append(dst, a...)
		dst = append(dst, '\r', '\n')
	}
	return dst
}

// argsLen is the sum of the arguments' lengths, in bytes.
func argsLen(args [][]byte) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

// merger gathers the Merge calls made to one node while a batch of them
// is on its way, and sends them together as one DKV.MERGEMANY (or one
// DKV.MERGE for a batch of one): the node stores them with one fsync
// where one command each would queue one after another on its connection.
// One batch is in flight at a time; under load, each carries the calls
// made during the round trip of the one before.
type merger struct {
	c *Client

	mu   sync.Mutex
	next []*mergeCall // waiting for the batch in flight to end
	busy bool         // a goroutine is sending batches
}

// mergeCall is one Merge waiting in a batch.
type mergeCall struct {
	key, obj []byte // obj encoded
	deadline time.Time
	done     chan error // buffered
}

// merge queues one encoded object for key and waits for its batch's
// outcome, until ctx ends.
func (mg *merger) merge(ctx context.Context, key, obj []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, mg.c.cfg.Timeout)
		defer cancel()
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: %s merge: %w", peer.ErrRemote, mg.c.cfg.ID, err)
	}
	deadline, _ := ctx.Deadline()
	call := &mergeCall{key: key, obj: obj, deadline: deadline, done: make(chan error, 1)}
	mg.mu.Lock()
	mg.next = append(mg.next, call)
	start := !mg.busy
	mg.busy = true
	mg.mu.Unlock()
	if start {
		go mg.run()
	}
	select {
	case err := <-call.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w: %s merge: %w", peer.ErrRemote, mg.c.cfg.ID, ctx.Err())
	}
}

// run sends batches until none is waiting.
func (mg *merger) run() {
	for {
		mg.mu.Lock()
		batch := mg.next
		mg.next = nil
		if len(batch) == 0 {
			mg.busy = false
			mg.mu.Unlock()
			return
		}
		mg.mu.Unlock()
		mg.send(batch)
	}
}

// send sends one batch and tells each of its calls the outcome. A batch
// the node refused with an error reply (one bad object fails the whole
// DKV.MERGEMANY) is sent again one DKV.MERGE per call, so that each call
// gets its own outcome. Merges are idempotent, so sending one twice is
// harmless.
func (mg *merger) send(batch []*mergeCall) {
	// NB: the batch's reply is due by the latest of its calls' deadlines;
	// each caller stops waiting at its own.
	deadline := batch[0].deadline
	for _, call := range batch[1:] {
		if call.deadline.After(deadline) {
			deadline = call.deadline
		}
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	if len(batch) == 1 {
		batch[0].done <- mg.c.ok(ctx, "merge", []byte(peer.CmdMerge), batch[0].key, batch[0].obj)
		return
	}
	args := make([][]byte, 0, 1+2*len(batch))
	args = append(args, []byte(peer.CmdMergeMany))
	for _, call := range batch {
		args = append(args, call.key, call.obj)
	}
	err := mg.c.ok(ctx, "merge", args...)
	if re := replyError(nil); errors.As(err, &re) {
		for _, call := range batch {
			cctx, ccancel := context.WithDeadline(context.Background(), call.deadline)
			call.done <- mg.c.ok(cctx, "merge", []byte(peer.CmdMerge), call.key, call.obj)
			ccancel()
		}
		return
	}
	for _, call := range batch {
		call.done <- err
	}
}
