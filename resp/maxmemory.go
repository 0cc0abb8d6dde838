package resp

import "runtime/metrics"

// msgOOM is Redis's reply to a command that may grow memory (denyoom) while
// used memory is over maxmemory.
const msgOOM = "OOM command not allowed when used memory > 'maxmemory'."

// heapObjectsMetric is the Go heap's live and not yet swept objects:
// HeapAlloc, what INFO's used_memory is made of, without ReadMemStats's
// stop of the world.
const heapObjectsMetric = "/memory/classes/heap/objects:bytes"

// oomCopies is how many more copies of a write's arguments the write
// makes on its way to the store (the object's encoding and the store's
// batch): the memory it is about to take beyond the arguments, already
// read, that the heap counts.
const oomCopies = 2

// overMaxMemory reports whether a command that may grow memory (FlagDenyOOM)
// with args must be refused with msgOOM: maxmemory is set (CONFIG SET
// maxmemory; 0 is off) and the Go heap plus the copies the write is about
// to make would exceed it. dynakv keeps its data in pebble, not in the
// heap, so this bounds what a write costs in transit, not the data set;
// nothing is evicted (maxmemory-policy is noeviction).
func (c *Conn) overMaxMemory(cmd *Command, args [][]byte) bool {
	limit := c.srv.adm.maxMemory.Load()
	if limit <= 0 || cmd == nil || cmd.Flags&FlagDenyOOM == 0 {
		return false
	}
	s := []metrics.Sample{{Name: heapObjectsMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindUint64 {
		return false
	}
	return int64(s[0].Value.Uint64())+oomCopies*int64(argsLen(args)) > limit
}
