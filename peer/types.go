package peer

import (
	"encoding/binary"
	"fmt"

	"github.com/cespare/xxhash/v2"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/ring"
)

// Cursor is a position in the stores' common key order, usable as a Redis
// SCAN cursor: the slot in the top 14 bits, the top 50 bits of the key's
// xxhash64 below. 0 is the start; a scan returns 0 when it is exhausted.
type Cursor uint64

// cursorHashShift drops the low 14 bits of the key hash to make room for
// the slot.
const cursorHashShift = 14

// CursorOf returns the cursor position of key: the order stores visit keys
// in, comparable across replicas.
func CursorOf(key []byte) Cursor {
	return Cursor(uint64(ring.StoredSlot(key))<<(64-cursorHashShift) | xxhash.Sum64(key)>>cursorHashShift)
}

// Range is the cursor positions [From, To); To 0 means to the end of the
// key space. Anti-entropy reads runs of Merkle leaves as ranges.
type Range struct{ From, To Cursor }

// ResumeRanges returns what is left of ranges from position next on (a
// cursor ScanRanges returned).
func ResumeRanges(ranges []Range, next Cursor) []Range {
	for len(ranges) > 0 && ranges[0].To != 0 && ranges[0].To <= next {
		ranges = ranges[1:]
	}
	if len(ranges) == 0 {
		return nil
	}
	out := append([]Range(nil), ranges...)
	out[0].From = max(out[0].From, next)
	return out
}

// RangesBefore returns the parts of ranges before position end: what a
// ScanRanges page that returned end has covered.
func RangesBefore(ranges []Range, end Cursor) []Range {
	var out []Range
	for _, r := range ranges {
		if r.From >= end {
			break
		}
		if r.To == 0 || r.To > end {
			r.To = end
		}
		out = append(out, r)
	}
	return out
}

// Entry is one key and its object, as a range scan returns them and
// MergeMany takes them.
type Entry struct {
	Key    []byte
	Object crdt.Object
	// Encoded, if not nil, is Object's encoding (Object.Encode()), made
	// once by a sender that also counts its bytes; MergeMany clients send
	// it instead of encoding Object again. Nil means encode Object.
	Encoded []byte
}

// Hint is one pending hint: an object kept for a node that could not take
// it (Dynamo §4.6), with its creation time in Unix ms.
type Hint struct {
	Key       []byte
	Object    crdt.Object
	CreatedMs int64
}

// Hash is a 128-bit Merkle node hash, as two 64-bit lanes (Dynamo §4.7).
// The zero Hash is the hash of an empty bucket. On the wire it is 16 bytes,
// big-endian, Hi first.
type Hash struct{ Hi, Lo uint64 }

// IsZero reports whether h is the zero Hash.
func (h Hash) IsZero() bool { return h == Hash{} }

// String is h as 32 hex digits.
func (h Hash) String() string { return fmt.Sprintf("%016x%016x", h.Hi, h.Lo) }

// AppendBinary appends h's 16-byte wire form to dst.
func (h Hash) AppendBinary(dst []byte) []byte {
	dst = binary.BigEndian.AppendUint64(dst, h.Hi)
	return binary.BigEndian.AppendUint64(dst, h.Lo)
}

// HashFromBytes decodes the 16-byte form written by AppendBinary; another
// length is an error wrapping ErrShape.
func HashFromBytes(b []byte) (Hash, error) {
	if len(b) != 16 {
		return Hash{}, fmt.Errorf("%w: hash of %d bytes, want 16", ErrShape, len(b))
	}
	return Hash{Hi: binary.BigEndian.Uint64(b), Lo: binary.BigEndian.Uint64(b[8:])}, nil
}
