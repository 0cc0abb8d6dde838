package crdt

import "errors"

// Sentinel errors of the mutators and views; resp maps each to Redis's
// reply (the text after "crdt: " is Redis's own message).
var (
	// ErrWrongType: the key holds another type (Redis's WRONGTYPE).
	ErrWrongType = errors.New("crdt: operation against a key holding the wrong kind of value")
	// ErrNotInteger: a string value or increment is not an int64.
	ErrNotInteger = errors.New("crdt: value is not an integer or out of range")
	// ErrNotFloat: a string value or increment is not a float.
	ErrNotFloat = errors.New("crdt: value is not a valid float")
	// ErrHashNotInteger: HINCRBY on a field that is not an int64.
	ErrHashNotInteger = errors.New("crdt: hash value is not an integer")
	// ErrHashNotFloat: HINCRBYFLOAT on a field that is not a float.
	ErrHashNotFloat = errors.New("crdt: hash value is not a float")
	// ErrOverflow: an integer increment would leave int64.
	ErrOverflow = errors.New("crdt: increment or decrement would overflow")
	// ErrNaN: a float increment would give NaN or ±Inf.
	ErrNaN = errors.New("crdt: increment would produce NaN or Infinity")
	// ErrTooLarge: SETRANGE or APPEND would pass MaxStringLen.
	ErrTooLarge = errors.New("crdt: string exceeds maximum allowed size (proto-max-bulk-len)")
	// ErrOffset: SETRANGE with a negative offset.
	ErrOffset = errors.New("crdt: offset is out of range")
	// ErrCorrupt: bytes that are not a valid encoded object.
	ErrCorrupt = errors.New("crdt: corrupt encoding")
)

// MaxStringLen is the largest string SETRANGE and APPEND may build, in
// bytes (Redis's default proto-max-bulk-len, 512 MiB).
const MaxStringLen = 512 << 20
