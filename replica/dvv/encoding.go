package dvv

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ErrCorrupt reports bytes that are not a valid encoded object or context.
var ErrCorrupt = errors.New("dvv: corrupt encoding")

// ErrBadToken reports a client context token that cannot be decoded.
var ErrBadToken = errors.New("dvv: invalid context token")

func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// formatVersion is the first byte of every encoding; bump it on change.
const formatVersion = 1

// tokenViaVersion marks a token that also names the replica that answered
// its read first (Dynamo §6.4: that node coordinates the next write).
const tokenViaVersion = 2

const flagTombstone = 1

// Encode returns the canonical binary encoding of o: equal objects encode
// to equal bytes (actors sorted, zero counters dropped).
func (o Object) Encode() []byte { return o.AppendEncode(nil) }

// AppendEncode appends the encoding of o to dst.
func (o Object) AppendEncode(dst []byte) []byte {
	dst = append(dst, formatVersion)
	actors := o.Context.actors()
	dst = appendVV(dst, o.Context, actors)
	dst = binary.AppendUvarint(dst, uint64(len(o.Siblings)))
	for _, s := range o.Siblings {
		idx, _ := slices.BinarySearch(actors, s.Dot.Actor)
		dst = binary.AppendUvarint(dst, uint64(idx))
		dst = appendSiblingBody(dst, s)
	}
	return dst
}

func (v VV) actors() []string {
	actors := make([]string, 0, len(v))
	for a, c := range v {
		if c != 0 {
			actors = append(actors, a)
		}
	}
	slices.Sort(actors)
	return actors
}

func appendVV(dst []byte, v VV, actors []string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(actors)))
	for _, a := range actors {
		dst = binary.AppendUvarint(dst, uint64(len(a)))
		dst = append(dst, a...)
		dst = binary.AppendUvarint(dst, v[a])
	}
	return dst
}

func appendSiblingBody(dst []byte, s Sibling) []byte {
	dst = binary.AppendUvarint(dst, s.Dot.Counter)
	dst = binary.AppendVarint(dst, s.Timestamp)
	dst = binary.AppendVarint(dst, s.Expiry)
	if s.Tombstone {
		return append(dst, flagTombstone)
	}
	dst = append(dst, 0)
	dst = binary.AppendUvarint(dst, uint64(len(s.Value)))
	return append(dst, s.Value...)
}

// appendSibling encodes a sibling on its own (with its actor's name).
func appendSibling(dst []byte, s Sibling) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s.Dot.Actor)))
	dst = append(dst, s.Dot.Actor...)
	return appendSiblingBody(dst, s)
}

// decoder reads the encoding; the first failure sticks in err.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 { // NB: a last byte of 0 is a non-canonical (overlong) encoding
		d.err = corruptf("bad uvarint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 || n > 1 && d.b[n-1] == 0 { // NB: as in uvarint
		d.err = corruptf("bad varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count reads a length that must fit in the remaining bytes, each element
// taking at least minSize bytes.
func (d *decoder) count(minSize int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/minSize) {
		d.err = corruptf("length %d exceeds remaining %d bytes", n, len(d.b))
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(n int) []byte {
	if d.err != nil {
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = corruptf("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) vv() (VV, []string) {
	n := d.count(2)
	v := make(VV, n)
	actors := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		a := string(d.bytes(d.count(1)))
		c := d.uvarint()
		if d.err != nil {
			break
		}
		if c == 0 || (i > 0 && a <= actors[i-1]) {
			d.err = corruptf("context not canonical")
			break
		}
		v[a] = c
		actors = append(actors, a)
	}
	return v, actors
}

// Decode parses an encoded object. Malformed input yields an error wrapping
// ErrCorrupt; it never panics. The returned object aliases b's value bytes.
func Decode(b []byte) (Object, error) {
	d := &decoder{b: b}
	if v := d.byte(); d.err == nil && v != formatVersion {
		return Object{}, corruptf("unknown format version %d", v)
	}
	var o Object
	var actors []string
	o.Context, actors = d.vv()
	n := d.count(5)
	for i := 0; i < n && d.err == nil; i++ {
		idx := d.uvarint()
		if d.err == nil && idx >= uint64(len(actors)) {
			d.err = corruptf("sibling actor index %d out of range", idx)
			break
		}
		var s Sibling
		s.Dot.Counter = d.uvarint()
		s.Timestamp = d.varint()
		s.Expiry = d.varint()
		switch d.byte() {
		case flagTombstone:
			s.Tombstone = true
		case 0:
			s.Value = d.bytes(d.count(1))
			if s.Value == nil && d.err == nil {
				s.Value = []byte{}
			}
		default:
			d.err = corruptf("bad sibling flags")
		}
		if d.err == nil {
			s.Dot.Actor = actors[idx]
			o.Siblings = append(o.Siblings, s)
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = corruptf("%d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return Object{}, d.err
	}
	if err := o.Validate(); err != nil {
		return Object{}, err
	}
	return o, nil
}

// EncodeToken returns the opaque client token for a causal context. The
// empty context encodes to the empty string (a blind write).
func EncodeToken(v VV) string {
	actors := v.actors()
	if len(actors) == 0 {
		return ""
	}
	b := appendVV([]byte{formatVersion}, v, actors)
	return base64.RawURLEncoding.EncodeToString(b)
}

// EncodeTokenVia is EncodeToken with the ID of the replica that answered
// the read first, so a write with the token can be coordinated there.
func EncodeTokenVia(v VV, via string) string {
	actors := v.actors()
	if len(actors) == 0 {
		return ""
	}
	if via == "" || len(via) > 255 {
		return EncodeToken(v)
	}
	b := appendVV([]byte{tokenViaVersion}, v, actors)
	b = binary.AppendUvarint(b, uint64(len(via)))
	b = append(b, via...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeToken parses a client token. The empty token is the empty context.
func DecodeToken(tok string) (VV, error) {
	v, _, err := DecodeTokenVia(tok)
	return v, err
}

// DecodeTokenVia parses a client token and the replica it names, if any.
func DecodeTokenVia(tok string) (VV, string, error) {
	if tok == "" {
		return VV{}, "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	d := &decoder{b: b}
	version := d.byte()
	if d.err == nil && version != formatVersion && version != tokenViaVersion {
		return nil, "", fmt.Errorf("%w: unknown version %d", ErrBadToken, version)
	}
	v, _ := d.vv()
	var via string
	if version == tokenViaVersion {
		via = string(d.bytes(d.count(1)))
		if d.err == nil && via == "" {
			d.err = corruptf("empty via")
		}
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = corruptf("trailing bytes")
	}
	if d.err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrBadToken, d.err)
	}
	return v, via, nil
}

// EncodedLen returns len(o.Encode()) without encoding o.
func (o Object) EncodedLen() int {
	actors := o.Context.actors()
	n := 1 + uvarintLen(uint64(len(actors)))
	for _, a := range actors {
		n += uvarintLen(uint64(len(a))) + len(a) + uvarintLen(o.Context[a])
	}
	n += uvarintLen(uint64(len(o.Siblings)))
	for _, s := range o.Siblings {
		idx, _ := slices.BinarySearch(actors, s.Dot.Actor)
		n += uvarintLen(uint64(idx)) + uvarintLen(s.Dot.Counter) + varintLen(s.Timestamp) + varintLen(s.Expiry) + 1
		if !s.Tombstone {
			n += uvarintLen(uint64(len(s.Value))) + len(s.Value)
		}
	}
	return n
}

func uvarintLen(v uint64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutUvarint(b[:], v)
}

func varintLen(v int64) int {
	var b [binary.MaxVarintLen64]byte
	return binary.PutVarint(b[:], v)
}
