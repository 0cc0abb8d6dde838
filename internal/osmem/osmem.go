package osmem

import (
	"runtime/debug"
	"sync"
)

// BigBytes is the size (bytes) of a command, reply, or flush from which
// the freed memory is worth returning at once: a full collection per
// 32 MiB moved is cheap beside moving it.
const BigBytes = 32 << 20

var running sync.Mutex

// Return collects garbage and returns the free memory to the operating
// system (debug.FreeOSMemory), unless another goroutine is doing so: then
// it returns at once.
func Return() {
	if !running.TryLock() {
		return
	}
	defer running.Unlock()
	debug.FreeOSMemory()
}
