package peerclient

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/tidwall/redcon"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("peerclient: invalid config")

// ErrClosed reports a call on a closed Client.
var ErrClosed = errors.New("peerclient: client closed")

// Config configures a Client.
type Config struct {
	// ID is the remote node's ID.
	ID string
	// Addr is its RESP address (host:port).
	Addr string
	// Secret is the cluster secret presented with DKV.AUTH.
	Secret string
	// Timeout bounds a call whose context has no deadline (dial, write and
	// read together); a context deadline replaces it. The node passes its
	// --timeout.
	Timeout time.Duration
	// PoolSize is the most connections open to the node at once: the
	// multiplexed ones (see NoPipeline and ForwardConns) and those taken
	// by a call each.
	PoolSize int
	// NoPipeline turns the multiplexed connections off: every call then
	// takes a pooled connection of its own for its round trip, as calls
	// too large to multiplex always do. Kept for comparison
	// (BenchmarkPeerCall) and as a way back.
	NoPipeline bool
	// ForwardConns is the number of multiplexed connections that carry
	// forwarded client commands, taken in turn; 0 sends each forward on
	// a pooled connection of its own. NB: the node runs one connection's
	// commands one after another, and a forwarded write waits there for
	// its quorum, so few connections serialize forwards.
	ForwardConns int
	// MaxBulkLen is the largest bulk string accepted in a reply, in bytes.
	MaxBulkLen int64
	// Dialer opens connections to Addr; nil means a net.Dialer over TCP.
	// In-process tests (tests/jepsen's simulation) dial in-memory pipes.
	Dialer ContextDialer
}

// ContextDialer opens a connection (as net.Dialer's DialContext).
type ContextDialer interface {
	DialContext(ctx context.Context, network, addr string) (net.Conn, error)
}

// DefaultConfig returns the defaults; ID, Addr and Secret have none.
func DefaultConfig() Config {
	return Config{
		Timeout:    2 * time.Second, // the coordinator's default request timeout
		PoolSize:   64,              // concurrent calls to one node
		MaxBulkLen: peer.MaxBulkLen, // proto-max-bulk-len: 512 MiB
	}
}

// EnsureDefaults sets every zero field that has a default.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	if c.PoolSize == 0 {
		c.PoolSize = d.PoolSize
	}
	if c.MaxBulkLen == 0 {
		c.MaxBulkLen = d.MaxBulkLen
	}
}

// Validate reports a Config that cannot work, as an error wrapping
// ErrConfig: no address, or a negative timeout, pool size or length.
func (c Config) Validate() error {
	switch {
	case c.Addr == "":
		return fmt.Errorf("%w: no address", ErrConfig)
	case c.Timeout < 0:
		return fmt.Errorf("%w: negative Timeout %v", ErrConfig, c.Timeout)
	case c.PoolSize < 0:
		return fmt.Errorf("%w: negative PoolSize %d", ErrConfig, c.PoolSize)
	case c.ForwardConns < 0:
		return fmt.Errorf("%w: negative ForwardConns %d", ErrConfig, c.ForwardConns)
	case c.MaxBulkLen < 0:
		return fmt.Errorf("%w: negative MaxBulkLen %d", ErrConfig, c.MaxBulkLen)
	}
	return nil
}

// Client is the network peer.Replica of one other node. Build it with New.
type Client struct {
	cfg  Config
	slot chan struct{} // one token per open connection (PoolSize)
	idle chan *conn    // authenticated connections not in use

	reads  lane   // DKV.GET, DKV.HINTGET, DKV.HINTHORIZON
	writes lane   // DKV.MERGE, DKV.MERGEMANY, DKV.HINT
	merges merger // Merge calls, batched
	fwd    []lane // forwarded commands (Config.ForwardConns)
	fwdN   atomic.Uint32

	mu     sync.Mutex
	closed bool
}

// The client is a peer.Replica.
var _ peer.Replica = (*Client)(nil)

// New returns a Client of the node cfg names; connections are dialled on
// first use. cfg's zero fields take their defaults.
func New(cfg Config) (*Client, error) {
	cfg.EnsureDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Client{
		cfg:  cfg,
		slot: make(chan struct{}, cfg.PoolSize),
		idle: make(chan *conn, cfg.PoolSize),
	}
	c.reads.c, c.writes.c, c.merges.c = c, c, c
	c.fwd = make([]lane, cfg.ForwardConns)
	for i := range c.fwd {
		c.fwd[i].c = c
	}
	return c, nil
}

// ID returns the remote node's ID.
func (c *Client) ID() string { return c.cfg.ID }

// Addr returns the remote node's RESP address.
func (c *Client) Addr() string { return c.cfg.Addr }

// Close closes the idle connections and makes later calls fail with
// ErrClosed; calls in flight finish and close their connections.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.reads.close(ErrClosed)
	c.writes.close(ErrClosed)
	for i := range c.fwd {
		c.fwd[i].close(ErrClosed)
	}
	for {
		select {
		case cn := <-c.idle:
			_ = cn.nc.Close()
		default:
			return nil
		}
	}
}

// Get fetches the key's object from the remote replica (peer.CmdGet).
func (c *Client) Get(ctx context.Context, key []byte) (crdt.Object, error) {
	return c.object(ctx, "get", []byte(peer.CmdGet), key)
}

// object runs a command whose reply is one encoded object (empty: the
// zero object).
func (c *Client) object(ctx context.Context, op string, args ...[]byte) (crdt.Object, error) {
	r, err := c.call(ctx, op, args...)
	if err != nil {
		return crdt.Object{}, err
	}
	if r.Type != redcon.Bulk {
		return crdt.Object{}, c.malformed(op, "reply of type %q", r.Type)
	}
	if len(r.Data) == 0 {
		return crdt.Object{}, nil
	}
	o, err := crdt.Decode(r.Data)
	if err != nil {
		return crdt.Object{}, c.malformed(op, "%v", err)
	}
	return o, nil
}

// Merge sends obj to be merged into the remote replica's copy of key
// (peer.CmdMerge). Merges made while another is on its way to the node
// go together, as one peer.CmdMergeMany (see merger).
func (c *Client) Merge(ctx context.Context, key []byte, obj crdt.Object) error {
	enc := obj.Encode()
	if c.cfg.NoPipeline || len(key)+len(enc) > muxMaxArgs {
		return c.ok(ctx, "merge", []byte(peer.CmdMerge), key, enc)
	}
	return c.merges.merge(ctx, key, enc)
}

// MergeMany merges each entry into the remote replica's copy of its key in
// one call (peer.CmdMergeMany); an empty batch sends nothing.
func (c *Client) MergeMany(ctx context.Context, entries []peer.Entry) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([][]byte, 0, 1+2*len(entries))
	args = append(args, []byte(peer.CmdMergeMany))
	for _, e := range entries {
		enc := e.Encoded
		if enc == nil {
			enc = e.Object.Encode()
		}
		args = append(args, e.Key, enc)
	}
	return c.ok(ctx, "mergemany", args...)
}

// PutHint asks the remote node to keep obj as a hint for node target
// (peer.CmdHint).
func (c *Client) PutHint(ctx context.Context, target string, key []byte, obj crdt.Object) error {
	return c.ok(ctx, "hint", []byte(peer.CmdHint), []byte(target), key, obj.Encode())
}

// HintsFor returns the merge of the hints the remote node holds for key
// (peer.CmdHintGet).
func (c *Client) HintsFor(ctx context.Context, key []byte) (crdt.Object, error) {
	return c.object(ctx, "hintget", []byte(peer.CmdHintGet), key)
}

// HintHorizon returns the remote node's hint horizon, Unix ms
// (peer.CmdHintHorizon, replica.Store.HintHorizon).
func (c *Client) HintHorizon(ctx context.Context) (int64, error) {
	r, err := c.call(ctx, "hinthorizon", []byte(peer.CmdHintHorizon))
	if err != nil {
		return 0, err
	}
	if r.Type != redcon.Integer {
		return 0, c.malformed("hinthorizon", "reply of type %q", r.Type)
	}
	h, err := strconv.ParseInt(string(r.Data), 10, 64)
	if err != nil {
		return 0, c.malformed("hinthorizon", "%v", err)
	}
	return h, nil
}

// ScanRange pages through the remote replica's keys of slots [from, to)
// (peer.CmdScan; see peer.Store.ScanRange).
func (c *Client) ScanRange(ctx context.Context, from, to int, cur peer.Cursor, count int) (peer.Cursor, []peer.Entry, error) {
	r, err := c.call(ctx, "scan", []byte(peer.CmdScan), itoa(int64(from)), itoa(int64(to)),
		strconv.AppendUint(nil, uint64(cur), 10), itoa(int64(count)))
	if err != nil {
		return 0, nil, err
	}
	return c.entries("scan", r)
}

// ScanRanges pages through the remote replica's keys at the positions of
// ranges, at most peer.MaxRanges of them (peer.CmdRange; see
// peer.Store.ScanRanges).
func (c *Client) ScanRanges(ctx context.Context, ranges []peer.Range, count int) (peer.Cursor, []peer.Entry, error) {
	args := make([][]byte, 0, 2+2*len(ranges))
	args = append(args, []byte(peer.CmdRange), itoa(int64(count)))
	for _, rg := range ranges {
		args = append(args, strconv.AppendUint(nil, uint64(rg.From), 10), strconv.AppendUint(nil, uint64(rg.To), 10))
	}
	r, err := c.call(ctx, "range", args...)
	if err != nil {
		return 0, nil, err
	}
	return c.entries("range", r)
}

// TreeLevel asks the node for nodes [from, to) at depth of its tree of
// partition (peer.CmdTree). A reply of the wrong length is an error
// wrapping peer.ErrShape.
func (c *Client) TreeLevel(ctx context.Context, partition, leaves, depth, from, to int) ([]peer.Hash, error) {
	r, err := c.call(ctx, "tree", []byte(peer.CmdTree), itoa(int64(partition)), itoa(int64(leaves)),
		itoa(int64(depth)), itoa(int64(from)), itoa(int64(to)))
	if err != nil {
		return nil, err
	}
	if r.Type != redcon.Bulk {
		return nil, c.malformed("tree", "reply of type %q", r.Type)
	}
	if to < from || len(r.Data) != 16*(to-from) {
		return nil, fmt.Errorf("%w: %s tree: %w: %d bytes for %d hashes", peer.ErrRemote, c.cfg.ID, peer.ErrShape, len(r.Data), to-from)
	}
	out := make([]peer.Hash, to-from)
	for i := range out {
		out[i], _ = peer.HashFromBytes(r.Data[16*i : 16*i+16]) // NB: length checked above
	}
	return out, nil
}

// Forward sends a client command (args[0] its name) to the node on an
// authenticated peer connection and returns the node's reply as one
// complete raw RESP2 reply, error replies included ("-ERR …\r\n" is a
// reply, not a Go error). An error means the node could not be reached or
// did not answer within ctx (or Config.Timeout); it wraps peer.ErrRemote,
// and peer.ErrNotSent when the command was never sent (no connection).
func (c *Client) Forward(ctx context.Context, args [][]byte) ([]byte, error) {
	return c.ForwardProto(ctx, 2, args)
}

// ForwardProto is Forward for a client speaking RESP proto (2 or 3): a
// RESP3 client's command is wrapped in peer.CmdForward3, and its reply
// comes back in RESP3.
func (c *Client) ForwardProto(ctx context.Context, proto int, args [][]byte) ([]byte, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("%w: %s forward: no command", peer.ErrRemote, c.cfg.ID)
	}
	if proto == 3 {
		args = append([][]byte{[]byte(peer.CmdForward3)}, args...)
	}
	if len(c.fwd) > 0 && !c.cfg.NoPipeline && argsLen(args) <= muxMaxArgs {
		// NB: a forward whose deadline is further than longForward
		// away (a script, an EXEC block: they wait as long as they run)
		// would hold up the forwards behind it on a shared connection.
		if d, ok := ctx.Deadline(); !ok || time.Until(d) <= longForward {
			l := &c.fwd[int(c.fwdN.Add(1))%len(c.fwd)]
			return c.muxRoundTrip(ctx, l, "forward", args)
		}
	}
	return c.roundTrip(ctx, "forward", args)
}

// longForward is the longest deadline of a forward that may go on a
// multiplexed connection (Config.ForwardConns).
const longForward = time.Minute

// ok runs a command whose reply is +OK.
func (c *Client) ok(ctx context.Context, op string, args ...[]byte) error {
	r, err := c.call(ctx, op, args...)
	if err != nil {
		return err
	}
	if r.Type != redcon.String {
		return c.malformed(op, "reply of type %q", r.Type)
	}
	return nil
}

// call runs a command and parses its reply; an error reply becomes an
// error wrapping peer.ErrRemote.
func (c *Client) call(ctx context.Context, op string, args ...[]byte) (redcon.RESP, error) {
	raw, err := c.roundTrip(ctx, op, args)
	if err != nil {
		return redcon.RESP{}, err
	}
	n, r := redcon.ReadNextRESP(raw)
	if n != len(raw) {
		return redcon.RESP{}, c.malformed(op, "unparsable reply")
	}
	if r.Type == redcon.Error {
		return redcon.RESP{}, fmt.Errorf("%w: %s %s: %w", peer.ErrRemote, c.cfg.ID, op, replyError(r.Data))
	}
	return r, nil
}

// entries parses a [next-cursor, key, object, …] reply.
func (c *Client) entries(op string, r redcon.RESP) (peer.Cursor, []peer.Entry, error) {
	if r.Type != redcon.Array || r.Count%2 != 1 {
		return 0, nil, c.malformed(op, "reply of type %q with %d elements", r.Type, r.Count)
	}
	var (
		next uint64
		out  = make([]peer.Entry, 0, r.Count/2)
		key  []byte
		err  error
		i    int
	)
	r.ForEach(func(e redcon.RESP) bool {
		switch {
		case e.Type != redcon.Bulk:
			err = fmt.Errorf("element %d of type %q", i, e.Type)
		case i == 0:
			next, err = strconv.ParseUint(string(e.Data), 10, 64)
		case i%2 == 1:
			key = e.Data
		default:
			var o crdt.Object
			if o, err = crdt.Decode(e.Data); err == nil {
				out = append(out, peer.Entry{Key: key, Object: o})
			}
		}
		i++
		return err == nil
	})
	if err != nil {
		return 0, nil, c.malformed(op, "%v", err)
	}
	return peer.Cursor(next), out, nil
}

func (c *Client) malformed(op, format string, args ...any) error {
	return fmt.Errorf("%w: %s %s: %w: %s", peer.ErrRemote, c.cfg.ID, op, peer.ErrProtocol, fmt.Sprintf(format, args...))
}

func itoa(n int64) []byte { return strconv.AppendInt(nil, n, 10) }

// replyError is an error reply of the node, its text without the '-'.
type replyError []byte

func (e replyError) Error() string { return string(e) }

// lane returns the multiplexed connection that carries args, nil for a
// command that takes a pooled connection of its own: a forwarded client
// command (it may run long on the node, which runs one connection's
// commands one after another), a scan, a tree level, any command larger
// than muxMaxArgs, and every command under Config.NoPipeline.
func (c *Client) lane(args [][]byte) *lane {
	if c.cfg.NoPipeline || len(args) == 0 {
		return nil
	}
	var l *lane
	switch string(args[0]) {
	case peer.CmdGet, peer.CmdHintGet, peer.CmdHintHorizon:
		l = &c.reads
	case peer.CmdMerge, peer.CmdMergeMany, peer.CmdHint:
		l = &c.writes
	default:
		return nil
	}
	if argsLen(args) > muxMaxArgs {
		return nil
	}
	return l
}

// roundTrip sends one command and reads its raw reply, within ctx's
// deadline (or Config.Timeout when it has none): waiting for a pooled
// connection, dialling, authenticating, writing and reading all count.
// Commands a lane carries (Client.lane) go on it.
func (c *Client) roundTrip(ctx context.Context, op string, args [][]byte) ([]byte, error) {
	if l := c.lane(args); l != nil {
		return c.muxRoundTrip(ctx, l, op, args)
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.cfg.Timeout)
		defer cancel()
	}
	deadline, _ := ctx.Deadline()
	fail := func(err error) ([]byte, error) {
		ce := ctx.Err()
		var ne net.Error
		if ce == nil && errors.As(err, &ne) && ne.Timeout() {
			// NB: the socket deadline is the context's, and may expire
			// a moment before the context reports it.
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
	cn, err := c.get(ctx, deadline)
	if err != nil {
		// Nothing was written: the other node cannot have applied it.
		return fail(fmt.Errorf("%w: %w", peer.ErrNotSent, err))
	}
	raw, err := cn.do(ctx, deadline, args, c.cfg.MaxBulkLen)
	c.put(cn, err == nil)
	if err != nil {
		return fail(err)
	}
	return raw, nil
}

// get returns a pooled connection, or dials and authenticates a new one.
func (c *Client) get(ctx context.Context, deadline time.Time) (*conn, error) {
	select {
	case c.slot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		<-c.slot
		return nil, ErrClosed
	}
	for {
		select {
		case cn := <-c.idle:
			if cn.healthy() {
				return cn, nil
			}
			_ = cn.nc.Close()
			continue
		default:
		}
		break
	}
	cn, err := c.dial(ctx, deadline)
	if err != nil {
		<-c.slot
		return nil, err
	}
	return cn, nil
}

// put returns a connection to the pool, or closes it if it is not known
// to be clean (reusable false) or the client is closed.
func (c *Client) put(cn *conn, reusable bool) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if reusable && !closed {
		select {
		case c.idle <- cn:
			<-c.slot
			return
		default:
		}
	}
	_ = cn.nc.Close()
	<-c.slot
}

// dial opens and authenticates a connection.
func (c *Client) dial(ctx context.Context, deadline time.Time) (*conn, error) {
	dctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var dialer ContextDialer = &net.Dialer{}
	if c.cfg.Dialer != nil {
		dialer = c.cfg.Dialer
	}
	nc, err := dialer.DialContext(dctx, "tcp", c.cfg.Addr)
	if err != nil {
		return nil, err
	}
	cn := &conn{nc: nc, br: bufio.NewReaderSize(nc, 64<<10), bw: bufio.NewWriterSize(nc, 64<<10)}
	raw, err := cn.do(ctx, deadline, [][]byte{[]byte(peer.CmdAuth), []byte(c.cfg.Secret)}, c.cfg.MaxBulkLen)
	if err == nil && (len(raw) == 0 || raw[0] != '+') {
		err = fmt.Errorf("cluster secret refused: %q", cut(raw, 128))
	}
	if err != nil {
		_ = nc.Close()
		return nil, err
	}
	return cn, nil
}

func cut(b []byte, n int) []byte { return b[:min(len(b), n)] }

// conn is one connection to the node.
type conn struct {
	nc net.Conn
	br *bufio.Reader
	bw *bufio.Writer
}

// healthy reports whether an idle connection is still open and holds no
// unread bytes (connCheck).
func (cn *conn) healthy() bool {
	return cn.br.Buffered() == 0 && connCheck(cn.nc) == nil
}

// do writes one command and reads its complete raw reply, before deadline
// and until ctx is cancelled.
func (cn *conn) do(ctx context.Context, deadline time.Time, args [][]byte, maxBulk int64) ([]byte, error) {
	if err := cn.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	// NB: cancelling ctx expires the deadline, which unblocks the I/O; the
	// connection is then dropped, as do returns an error or stop fails.
	stop := context.AfterFunc(ctx, func() { _ = cn.nc.SetDeadline(time.Unix(1, 0)) })
	raw, err := cn.exchange(args, maxBulk)
	if !stop() && err == nil {
		err = ctx.Err()
	}
	return raw, err
}

func (cn *conn) exchange(args [][]byte, maxBulk int64) ([]byte, error) {
	if err := writeCommand(cn.bw, args); err != nil {
		return nil, err
	}
	if err := cn.bw.Flush(); err != nil {
		return nil, err
	}
	return ReadReply(cn.br, nil, maxBulk)
}

// writeCommand writes args as a RESP array of bulk strings.
func writeCommand(w *bufio.Writer, args [][]byte) error {
	var hdr [32]byte
	_, _ = w.Write(append(append(append(hdr[:0], '*'), strconv.Itoa(len(args))...), '\r', '\n'))
	for _, a := range args {
		_, _ = w.Write(append(append(append(hdr[:0], '$'), strconv.Itoa(len(a))...), '\r', '\n'))
		_, _ = w.Write(a)
		if _, err := w.Write([]byte("\r\n")); err != nil {
			return err
		}
	}
	return nil
}

// Limits of ReadReply besides the bulk length.
const (
	maxLine  = 64 << 10 // a status, error or header line, bytes
	maxElems = 1 << 24  // elements of one array
	maxDepth = 16       // nesting of arrays
)

// ReadReply reads one complete RESP2 or RESP3 reply from r (RESP3 for
// commands forwarded with peer.CmdForward3; attributes are not accepted)
// and appends its raw bytes to dst. Bulk strings longer than maxBulk bytes,
// aggregates of more than 2^24 elements or nested deeper than 16, lines
// over 64 KiB and unknown types are refused with an error wrapping peer.ErrProtocol (r is then
// unusable). It is the bounded reader behind Client.Forward.
func ReadReply(r *bufio.Reader, dst []byte, maxBulk int64) ([]byte, error) {
	return readReply(r, dst, maxBulk, 0)
}

func readReply(r *bufio.Reader, dst []byte, maxBulk int64, depth int) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, fmt.Errorf("%w: line over %d bytes", peer.ErrProtocol, r.Size())
		}
		return nil, err
	}
	if len(line) < 3 || line[len(line)-2] != '\r' || len(line) > maxLine {
		return nil, fmt.Errorf("%w: bad line %q", peer.ErrProtocol, cut(line, 64))
	}
	dst = append(dst, line...)
	body := line[1 : len(line)-2]
	switch line[0] {
	case '+', '-', '_', ',', '#', '(':
		// RESP3's null, double, boolean and big number are one line too.
		return dst, nil
	case ':':
		if _, err := strconv.ParseInt(string(body), 10, 64); err != nil {
			return nil, fmt.Errorf("%w: bad integer %q", peer.ErrProtocol, cut(body, 64))
		}
		return dst, nil
	case '$', '=', '!':
		n, err := strconv.ParseInt(string(body), 10, 64)
		switch {
		case err != nil || n < -1:
			return nil, fmt.Errorf("%w: bad bulk length %q", peer.ErrProtocol, cut(body, 64))
		case n > maxBulk:
			return nil, fmt.Errorf("%w: bulk of %d bytes over the limit of %d", peer.ErrProtocol, n, maxBulk)
		case n == -1:
			return dst, nil
		}
		at := len(dst)
		dst = slices.Grow(dst, int(n)+2)[:at+int(n)+2]
		if _, err := io.ReadFull(r, dst[at:]); err != nil {
			return nil, err
		}
		if dst[len(dst)-2] != '\r' || dst[len(dst)-1] != '\n' {
			return nil, fmt.Errorf("%w: bulk not ended by CRLF", peer.ErrProtocol)
		}
		return dst, nil
	case '*', '~', '>', '%':
		n, err := strconv.ParseInt(string(body), 10, 64)
		switch {
		case err != nil || n < -1:
			return nil, fmt.Errorf("%w: bad array length %q", peer.ErrProtocol, cut(body, 64))
		case n > maxElems:
			return nil, fmt.Errorf("%w: array of %d elements over the limit of %d", peer.ErrProtocol, n, maxElems)
		case depth >= maxDepth:
			return nil, fmt.Errorf("%w: arrays nested deeper than %d", peer.ErrProtocol, maxDepth)
		}
		if line[0] == '%' {
			n *= 2 // a map's keys and values
		}
		for range n {
			if dst, err = readReply(r, dst, maxBulk, depth+1); err != nil {
				return nil, err
			}
		}
		return dst, nil
	}
	return nil, fmt.Errorf("%w: unknown reply type %q", peer.ErrProtocol, line[0])
}
