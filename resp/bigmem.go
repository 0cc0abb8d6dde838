package resp

import (
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/internal/osmem"
	"github.com/tidwall/redcon"
)

// bigReplyLen is the size from which a reply is written straight to the
// connection (after what redcon buffered before it) instead of being
// copied into redcon's write buffer, which would grow to hold it and keep
// the memory.
const bigReplyLen = 1 << 20

// returnMemoryAfter is the size of a command or reply after which the
// server returns the freed memory to the operating system at once
// (osmem.Return) instead of leaving it to the runtime's scavenger,
// which gives back a big value's memory only over minutes.
const returnMemoryAfter = osmem.BigBytes

// returnAgainAfter is when a big command's memory is returned once more,
// for what was freed after the reply (the store returns what its flush
// of a big value frees itself, when the flush ends).
const returnAgainAfter = 10 * time.Second

// returnAgain is set while a second return is scheduled.
var returnAgain atomic.Bool

// returnMemory collects garbage and returns the free memory to the
// operating system, unless another connection is doing so already.
// It schedules one more return after returnAgainAfter.
func (s *Server) returnMemory() {
	if returnAgain.CompareAndSwap(false, true) {
		time.AfterFunc(returnAgainAfter, func() {
			returnAgain.Store(false)
			osmem.Return()
		})
	}
	osmem.Return()
}

// argsLen is the total length of args.
func argsLen(args [][]byte) int {
	n := 0
	for _, a := range args {
		n += len(a)
	}
	return n
}

// writeDirect writes a big reply: it flushes what redcon buffered before
// it, then writes out to the connection itself. On an error it closes the
// connection, as redcon does when its flush fails.
func writeDirect(rc redcon.Conn, out []byte) {
	w := redcon.BaseWriter(rc)
	if w == nil {
		rc.WriteRaw(out)
		return
	}
	if err := w.Flush(); err != nil {
		rc.Close()
		return
	}
	if _, err := rc.NetConn().Write(out); err != nil {
		rc.Close()
	}
}
