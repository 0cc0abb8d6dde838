package replica

import (
	"encoding/binary"

	"github.com/cespare/xxhash/v2"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

const (
	prefixData   = 'd'
	prefixEvent  = 'e'
	prefixMeta   = 'm'
	dataHeader   = 1 + 2 + 8 // prefix, slot, hash
	eventHeader  = 1 + 8     // prefix, time
	cursorShift  = 14        // slot bits: cursor = slot<<50 | hash>>14
	cursorSlotAt = 64 - 14
)

// Cursor is a position in the store's key order (peer.Cursor), usable as a
// Redis SCAN cursor: the slot in the top 14 bits, the top 50 bits of the
// key's hash below. 0 is the start; Scan returns 0 when it has visited
// every key.
type Cursor = peer.Cursor

// dataKey returns the pebble key of a user key.
func dataKey(key []byte) []byte {
	k := make([]byte, dataHeader, dataHeader+len(key))
	k[0] = prefixData
	binary.BigEndian.PutUint16(k[1:], ring.StoredSlot(key))
	binary.BigEndian.PutUint64(k[3:], xxhash.Sum64(key))
	return append(k, key...)
}

// userKey returns the user key inside a data key.
func userKey(dk []byte) []byte { return dk[dataHeader:] }

// cursorOf returns the cursor position of a data key.
func cursorOf(dk []byte) Cursor {
	slot := uint64(binary.BigEndian.Uint16(dk[1:]))
	return Cursor(slot<<cursorSlotAt | binary.BigEndian.Uint64(dk[3:])>>cursorShift)
}

// cursorKey returns the smallest data key at or after cursor c.
func cursorKey(c Cursor) []byte {
	k := make([]byte, dataHeader)
	k[0] = prefixData
	binary.BigEndian.PutUint16(k[1:], uint16(c>>cursorSlotAt))
	binary.BigEndian.PutUint64(k[3:], uint64(c)<<cursorShift)
	return k
}

// slotBounds returns the data-key range [lo, hi) of slots [from, to).
func slotBounds(from, to int) (lo, hi []byte) {
	lo = []byte{prefixData, byte(from >> 8), byte(from)}
	if to >= ring.Slots {
		return lo, []byte{prefixData + 1}
	}
	return lo, []byte{prefixData, byte(to >> 8), byte(to)}
}

// eventKey returns the event-index key for a data key at time whenMs.
func eventKey(whenMs int64, dk []byte) []byte {
	k := make([]byte, eventHeader, eventHeader+len(dk))
	k[0] = prefixEvent
	binary.BigEndian.PutUint64(k[1:], uint64(whenMs))
	return append(k, dk...)
}

func metaKey(name string) []byte { return append([]byte{prefixMeta}, name...) }
