package resp

import (
	"bytes"
	"strconv"
)

// Protocol errors, with Redis's texts where Redis has one.
var (
	errInvalidMultibulk = &ProtocolError{Reply: "ERR Protocol error: invalid multibulk length"}
	errInvalidBulk      = &ProtocolError{Reply: "ERR Protocol error: invalid bulk length"}
	errTooBigInline     = &ProtocolError{Reply: "ERR Protocol error: too big inline request"}
	errUnbalanced       = &ProtocolError{Reply: "ERR Protocol error: unbalanced quotes in request"}
	errBulkCRLF         = &ProtocolError{Reply: "ERR Protocol error: expected CRLF after bulk data"}
	errQueryBuffer      = &ProtocolError{Reply: "ERR Protocol error: query buffer limit exceeded"}
)

// ProtocolError is a violation of the RESP framing or of a Config limit,
// found by the framing guard. Reply is the RESP error sent to the client
// (without the leading '-') before its connection is closed. It wraps
// ErrProtocol.
type ProtocolError struct {
	Reply string
}

// Error returns the reply text, prefixed with "resp: ".
func (e *ProtocolError) Error() string { return "resp: " + e.Reply }

// Unwrap returns ErrProtocol.
func (e *ProtocolError) Unwrap() error { return ErrProtocol }

func errExpectedDollar(c byte) *ProtocolError {
	msg := "ERR Protocol error: expected '$', got '"
	if c != 0 { // Redis formats with %c into a C string, where NUL ends it
		msg += string([]byte{c}) + "'"
	}
	return &ProtocolError{Reply: msg}
}

// frameLimits are the framing limits of one connection.
type frameLimits struct {
	maxBulk   int64 // largest bulk argument
	maxArgs   int64 // most arguments in one command
	maxInline int   // longest inline command line (before '\n')
	maxQuery  int64 // largest command, all framing included

	// bigArg, if positive, is the size from which an argument makes its
	// command big: the framer builds such a command's arguments itself,
	// each in a buffer sized once from its announced length, queues them
	// (takeBig) and lets through a placeholder (bigMarker) in its place,
	// so neither it nor redcon grows a buffer by appending to hold it.
	bigArg int64
}

type frameState uint8

const (
	stStart     frameState = iota // at a command boundary
	stInline                      // inside an inline command line
	stCount                       // digits of "*<n>"
	stCountLF                     // '\n' after "*<n>\r"
	stDollar                      // expecting '$' of the next argument
	stBulkLen                     // digits of "$<len>"
	stBulkLenLF                   // '\n' after "$<len>\r"
	stData                        // argument bytes
	stDataCR                      // '\r' after the argument
	stDataLF                      // '\n' after the argument
)

// maxNumLen is the longest decimal a length line may hold ("-" and 19
// digits); anything longer overflows int64 anyway.
const maxNumLen = 20

// framer is the framing guard's pure core: a streaming state machine over
// client bytes that lets through only complete commands, within the
// limits, in the one canonical form redcon parses without trouble:
// multibulk commands verbatim (their numbers are canonical decimals) and
// inline commands rewritten as multibulk. Empty commands ("*0", "*-1",
// blank lines) are dropped. At the first violation it stops: what it let
// through before stays valid, and err says what went wrong.
//
// buf holds [r:ready) complete commands not yet read out, and [ready:) the
// bytes of the multibulk command in progress.
type framer struct {
	lim   frameLimits
	st    frameState
	buf   []byte
	r     int
	ready int
	num   []byte // digits of the length line being read
	args  int64  // arguments still expected in the current command
	bulk  int64  // argument bytes still expected
	line  []byte // the inline line in progress
	tok   []byte // scratch: unescaped inline arguments
	ends  []int  // scratch: ends of the inline arguments in tok
	err   *ProtocolError

	// The big command in progress (nil if none): its arguments so far,
	// and how many bytes of framing and data it has taken that are not in
	// buf. big holds the big commands let through as placeholders, in
	// order, until takeBig hands them out.
	cur    [][]byte
	curLen int64
	big    [][][]byte

	// in counts the bytes fed; onBoundary, if set (by tests), is called
	// at the end of every command, with whether it was let through.
	in         int64
	onBoundary func(end int64, emitted bool)
}

func newFramer(lim frameLimits) *framer {
	return &framer{lim: lim, num: make([]byte, 0, maxNumLen)}
}

// pending reports the complete commands waiting to be read.
func (f *framer) pending() []byte { return f.buf[f.r:f.ready] }

// consume marks n pending bytes as read.
func (f *framer) consume(n int) {
	f.r += n
	if f.r < f.ready {
		return
	}
	// Everything complete was read: move the partial command to the front
	// and let big buffers go.
	rest := len(f.buf) - f.ready
	switch {
	case rest == 0 && cap(f.buf) > maxKeptBuffer:
		f.buf = nil
	case rest == 0:
		f.buf = f.buf[:0]
	case cap(f.buf) > maxKeptBuffer && rest <= maxKeptBuffer/2:
		f.buf = append(make([]byte, 0, maxKeptBuffer), f.buf[f.ready:]...)
	default:
		n := copy(f.buf, f.buf[f.ready:])
		f.buf = f.buf[:n]
	}
	f.r, f.ready = 0, 0
}

// maxKeptBuffer is the largest buffer a connection keeps between commands.
const maxKeptBuffer = 64 << 10

func (f *framer) fail(e *ProtocolError) {
	f.err = e
	f.buf = f.buf[:f.ready] // drop the partial command
	f.cur, f.curLen = nil, 0
}

// complete marks the end of a command; rest is the unread input after it.
func (f *framer) complete(rest []byte, emitted bool) {
	f.st = stStart
	if emitted && f.cur != nil {
		f.big = append(f.big, f.cur)
		f.cur, f.curLen = nil, 0
		f.buf = append(f.buf[:f.ready], bigPlaceholder...)
	}
	if emitted {
		f.ready = len(f.buf)
	} else {
		f.buf = f.buf[:f.ready]
	}
	if f.onBoundary != nil {
		f.onBoundary(f.in-int64(len(rest)), emitted)
	}
}

// feed runs the state machine over p. After a violation it ignores input.
func (f *framer) feed(p []byte) {
	if f.err != nil {
		return
	}
	f.in += int64(len(p))
	for len(p) > 0 && f.err == nil {
		switch f.st {
		case stStart:
			if p[0] == '*' {
				f.buf = append(f.buf, '*')
				f.num = f.num[:0]
				f.st = stCount
				p = p[1:]
			} else {
				f.line = f.line[:0]
				f.st = stInline
			}

		case stInline:
			i := bytes.IndexByte(p, '\n')
			chunk := p
			if i >= 0 {
				chunk = p[:i]
			}
			if len(f.line)+len(chunk) > f.lim.maxInline {
				f.fail(errTooBigInline)
				return
			}
			f.line = append(f.line, chunk...)
			if i < 0 {
				return
			}
			p = p[i+1:]
			f.endInline(p)

		case stCount, stBulkLen:
			bad := errInvalidMultibulk
			if f.st == stBulkLen {
				bad = errInvalidBulk
			}
			i := 0
			for ; i < len(p) && p[i] != '\r'; i++ {
				c := p[i]
				if (c < '0' || c > '9') && c != '-' || len(f.num) == maxNumLen {
					f.fail(bad)
					return
				}
				f.num = append(f.num, c)
			}
			f.buf = append(f.buf, p[:i]...)
			if i < len(p) {
				f.buf = append(f.buf, '\r')
				f.st++ // to stCountLF / stBulkLenLF
				i++
			}
			p = p[i:]

		case stCountLF:
			if p[0] != '\n' {
				f.fail(errInvalidMultibulk)
				return
			}
			n, ok := parseStrictInt(f.num)
			if !ok || n > f.lim.maxArgs {
				f.fail(errInvalidMultibulk)
				return
			}
			f.buf = append(f.buf, '\n')
			p = p[1:]
			if n <= 0 { // Redis: an empty command, skipped
				f.complete(p, false)
				continue
			}
			f.args = n
			f.st = stDollar

		case stDollar:
			if p[0] != '$' {
				f.fail(errExpectedDollar(p[0]))
				return
			}
			f.buf = append(f.buf, '$')
			f.num = f.num[:0]
			f.st = stBulkLen
			p = p[1:]

		case stBulkLenLF:
			if p[0] != '\n' {
				f.fail(errInvalidBulk)
				return
			}
			n, ok := parseStrictInt(f.num)
			if !ok || n < 0 || n > f.lim.maxBulk {
				f.fail(errInvalidBulk)
				return
			}
			if int64(len(f.buf)-f.ready)+f.curLen+1+n+2 > f.lim.maxQuery {
				f.fail(errQueryBuffer)
				return
			}
			f.buf = append(f.buf, '\n')
			p = p[1:]
			f.bulk = n
			f.st = stData
			if f.cur == nil && f.lim.bigArg > 0 && n >= f.lim.bigArg {
				f.cur = parseFramed(f.buf[f.ready:])
			}
			if f.cur != nil {
				// NB: sized once from the announced length, as Redis
				// does for big arguments; pages are touched only as the
				// bytes arrive.
				f.curLen += int64(len(f.buf) - f.ready)
				f.buf = f.buf[:f.ready]
				f.cur = append(f.cur, make([]byte, 0, n))
			}

		case stData:
			k := min(f.bulk, int64(len(p)))
			if f.cur != nil {
				a := &f.cur[len(f.cur)-1]
				*a = append(*a, p[:k]...)
				f.curLen += k
			} else {
				f.buf = append(f.buf, p[:k]...)
			}
			f.bulk -= k
			p = p[k:]
			if f.bulk == 0 {
				f.st = stDataCR
			}

		case stDataCR:
			if p[0] != '\r' {
				f.fail(errBulkCRLF)
				return
			}
			f.buf = append(f.buf, '\r')
			f.st = stDataLF
			p = p[1:]

		case stDataLF:
			if p[0] != '\n' {
				f.fail(errBulkCRLF)
				return
			}
			f.buf = append(f.buf, '\n')
			p = p[1:]
			f.args--
			if f.args == 0 {
				f.complete(p, true)
			} else {
				f.st = stDollar
			}
		}
	}
}

// endInline finishes the inline line in f.line; rest is the input after
// its '\n'.
func (f *framer) endInline(rest []byte) {
	line := f.line
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	var ok bool
	f.tok, f.ends, ok = splitInline(line, f.tok[:0], f.ends[:0])
	if !ok {
		f.fail(errUnbalanced)
		return
	}
	if int64(len(f.ends)) > f.lim.maxArgs {
		f.fail(errInvalidMultibulk)
		return
	}
	if len(f.ends) == 0 {
		f.complete(rest, false)
		return
	}
	f.buf = appendArrayHeader(f.buf, len(f.ends))
	start := 0
	for _, end := range f.ends {
		if int64(end-start) > f.lim.maxBulk {
			f.buf = f.buf[:f.ready]
			f.fail(errInvalidBulk)
			return
		}
		f.buf = appendBulkBytes(f.buf, f.tok[start:end])
		start = end
	}
	if cap(f.line) > maxKeptBuffer {
		f.line, f.tok = nil, nil
	}
	f.complete(rest, true)
}

// takeBig returns the arguments of the oldest big command let through as
// a placeholder and not yet taken, or nil if there is none.
func (f *framer) takeBig() [][]byte {
	if len(f.big) == 0 {
		return nil
	}
	args := f.big[0]
	f.big[0] = nil
	f.big = f.big[1:]
	if len(f.big) == 0 {
		f.big = nil
	}
	return args
}

// parseFramed returns copies of the complete arguments in cmd, the framed
// start of a multibulk command in the framer's canonical form ("*<n>\r\n"
// then "$<len>\r\n<data>\r\n" each), ignoring an incomplete argument at
// its end. The result is never nil.
func parseFramed(cmd []byte) [][]byte {
	args := [][]byte{}
	i := bytes.IndexByte(cmd, '\n') + 1
	for i < len(cmd) && cmd[i] == '$' {
		j := bytes.IndexByte(cmd[i:], '\r')
		if j < 0 || i+j+1 >= len(cmd) {
			break
		}
		n, _ := parseStrictInt(cmd[i+1 : i+j])
		start := i + j + 2
		if int64(len(cmd)-start) < n+2 {
			break
		}
		args = append(args, bytes.Clone(cmd[start:start+int(n)]))
		i = start + int(n) + 2
	}
	return args
}

func appendArrayHeader(b []byte, n int) []byte {
	b = append(b, '*')
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulkBytes(b, v []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(v)), 10)
	b = append(b, '\r', '\n')
	b = append(b, v...)
	return append(b, '\r', '\n')
}

// splitInline splits an inline command line into arguments exactly as
// redcon's reader does (space-separated; "…" and '…' quote, with \n \r \t
// and \<c> escapes inside quotes; a quote may only open an argument and
// must be followed by a space or the end), appending the unescaped
// arguments to tok and their end offsets to ends. ok is false where redcon
// reports unbalanced quotes.
func splitInline(line, tok []byte, ends []int) (_ []byte, _ []int, ok bool) {
	i := 0
	for i < len(line) {
		c := line[i]
		switch {
		case c == ' ':
			i++
		case c == '"' || c == '\'':
			q := c
			i++
			esc, closed := false, false
			for i < len(line) {
				c := line[i]
				i++
				if esc {
					esc = false
					switch c {
					case 'n':
						c = '\n'
					case 'r':
						c = '\r'
					case 't':
						c = '\t'
					}
					tok = append(tok, c)
					continue
				}
				if c == q {
					closed = true
					break
				}
				if c == '\\' {
					esc = true
					continue
				}
				tok = append(tok, c)
			}
			if !closed {
				return tok, ends, false
			}
			ends = append(ends, len(tok))
			if i < len(line) && line[i] != ' ' {
				return tok, ends, false
			}
		default:
			for i < len(line) && line[i] != ' ' {
				if line[i] == '"' || line[i] == '\'' {
					return tok, ends, false
				}
				tok = append(tok, line[i])
				i++
			}
			ends = append(ends, len(tok))
		}
	}
	return tok, ends, true
}

// parseStrictInt parses a decimal int64 as Redis's string2ll does: no
// sign but a leading '-', no leading zeros, no "-0", no overflow.
func parseStrictInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > maxNumLen {
		return 0, false
	}
	if len(b) == 1 && b[0] == '0' {
		return 0, true
	}
	neg := b[0] == '-'
	d := b
	if neg {
		d = b[1:]
	}
	if len(d) == 0 || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	var u uint64
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
		dig := uint64(c - '0')
		if u > (1<<63-dig)/10 { // u*10+dig would pass 1<<63
			return 0, false
		}
		u = u*10 + dig
	}
	if neg {
		return -int64(u), true // u ≤ 1<<63; -(1<<63) wraps to itself
	}
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}
