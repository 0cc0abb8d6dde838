package rdb

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
)

// The sentinel errors of Decode.
var (
	// ErrChecksum reports a payload whose RDB version is newer than 10 or
	// whose CRC-64 does not match (Redis: "DUMP payload version or
	// checksum are wrong").
	ErrChecksum = errors.New("rdb: payload version or checksum wrong")
	// ErrFormat reports a malformed payload (Redis: "Bad data format").
	ErrFormat = errors.New("rdb: bad data format")
	// ErrType reports a payload of a type dynakv does not store.
	ErrType = errors.New("rdb: unsupported type")
)

// Version is the RDB version of the payloads Encode writes and the newest
// Decode accepts: Redis 7.0's.
const Version = 10

// Kind is a decoded value's type.
type Kind uint8

// The kinds of value.
const (
	String Kind = iota + 1
	Hash
	Set
	ZSet
	List
)

// Value is a string, hash, set or list value.
type Value struct {
	Kind    Kind
	Str     []byte      // String's value
	Fields  [][2][]byte // Hash's fields and values, in payload order
	Members [][]byte    // Set's and ZSet's members, in payload order
	Scores  []float64   // ZSet's scores, one per member
	Elems   [][]byte    // List's elements, in order
}

// RDB object types (rdb.h).
const (
	typeString       = 0
	typeSet          = 2
	typeHash         = 4
	typeSetIntset    = 11
	typeHashZiplist  = 13
	typeHashListpack = 16
	typeZSet         = 3  // scores as length-prefixed text
	typeZSet2        = 5  // scores as binary doubles
	typeZSetZiplist  = 12 // member, score, … in a ziplist
	typeZSetListpack = 17 // member, score, … in a listpack
)

// Encode returns v's DUMP payload.
func Encode(v Value) []byte {
	var b []byte
	switch v.Kind {
	case String:
		b = append(b, typeString)
		b = appendString(b, v.Str)
	case Hash:
		b = append(b, typeHash)
		b = appendLen(b, uint64(len(v.Fields)))
		for _, f := range v.Fields {
			b = appendString(b, f[0])
			b = appendString(b, f[1])
		}
	case List:
		b = appendList(b, v.Elems)
	case Set:
		b = append(b, typeSet)
		b = appendLen(b, uint64(len(v.Members)))
		for _, m := range v.Members {
			b = appendString(b, m)
		}
	case ZSet:
		b = appendZSet(b, v)
	}
	b = binary.LittleEndian.AppendUint16(b, Version)
	return binary.LittleEndian.AppendUint64(b, CRC64(0, b))
}

func appendLen(b []byte, n uint64) []byte {
	switch {
	case n < 1<<6:
		return append(b, byte(n))
	case n < 1<<14:
		return append(b, byte(n>>8)|0x40, byte(n))
	case n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0x80), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0x81), n)
}

// appendString writes a string as Redis's rdbSaveRawString does (integer
// encoding, LZF, or raw: lzf.go).
func appendString(b, s []byte) []byte { return appendStringObject(b, s) }

// Decode parses a DUMP payload (see the package documentation).
func Decode(p []byte) (Value, error) {
	if len(p) < 10 {
		return Value{}, ErrChecksum
	}
	body, footer := p[:len(p)-10], p[len(p)-10:]
	if binary.LittleEndian.Uint16(footer) > Version {
		return Value{}, ErrChecksum
	}
	if binary.LittleEndian.Uint64(footer[2:]) != CRC64(0, p[:len(p)-8]) {
		return Value{}, ErrChecksum
	}
	r := &reader{b: body}
	t, err := r.byte()
	if err != nil {
		return Value{}, err
	}
	var v Value
	switch t {
	case typeString:
		v.Kind = String
		v.Str, err = r.string()
	case typeSet:
		v.Kind = Set
		var n uint64
		if n, err = r.len(); err != nil {
			break
		}
		for i := uint64(0); i < n && err == nil; i++ {
			var m []byte
			m, err = r.string()
			v.Members = append(v.Members, m)
		}
	case typeHash:
		v.Kind = Hash
		var n uint64
		if n, err = r.len(); err != nil {
			break
		}
		for i := uint64(0); i < n && err == nil; i++ {
			var f, val []byte
			if f, err = r.string(); err == nil {
				val, err = r.string()
			}
			v.Fields = append(v.Fields, [2][]byte{f, val})
		}
	case typeSetIntset:
		v.Kind = Set
		var blob []byte
		if blob, err = r.string(); err == nil {
			v.Members, err = intset(blob)
		}
	case typeHashListpack, typeHashZiplist:
		v.Kind = Hash
		var blob []byte
		if blob, err = r.string(); err != nil {
			break
		}
		var items [][]byte
		if t == typeHashListpack {
			items, err = listpack(blob)
		} else {
			items, err = ziplist(blob)
		}
		if err == nil && len(items)%2 != 0 {
			err = fmt.Errorf("%w: odd hash listpack", ErrFormat)
		}
		for i := 0; err == nil && i < len(items); i += 2 {
			v.Fields = append(v.Fields, [2][]byte{items[i], items[i+1]})
		}
	case typeZSet, typeZSet2, typeZSetZiplist, typeZSetListpack:
		v, err = r.zset(t)
	case typeList, typeListZiplist, typeListQuicklist, typeListQuicklist2:
		v.Kind = List
		v.Elems, err = r.readList(t)
	default:
		return Value{}, fmt.Errorf("%w: RDB type %d", ErrType, t)
	}
	if err != nil {
		return Value{}, err
	}
	if len(r.b) != 0 {
		return Value{}, fmt.Errorf("%w: %d bytes after the value", ErrFormat, len(r.b))
	}
	return v, nil
}

// reader consumes an RDB object.
type reader struct{ b []byte }

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, fmt.Errorf("%w: truncated", ErrFormat)
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

func (r *reader) take(n uint64) ([]byte, error) {
	if n > uint64(len(r.b)) {
		return nil, fmt.Errorf("%w: truncated", ErrFormat)
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out, nil
}

// lenOrEnc reads an RDB length; enc reports a special string encoding
// (then n is the encoding: 0 int8, 1 int16, 2 int32, 3 LZF).
func (r *reader) lenOrEnc() (n uint64, enc bool, err error) {
	c, err := r.byte()
	if err != nil {
		return 0, false, err
	}
	switch c >> 6 {
	case 0:
		return uint64(c & 0x3f), false, nil
	case 1:
		d, err := r.byte()
		return uint64(c&0x3f)<<8 | uint64(d), false, err
	case 3:
		return uint64(c & 0x3f), true, nil
	}
	switch c {
	case 0x80:
		b, err := r.take(4)
		if err != nil {
			return 0, false, err
		}
		return uint64(binary.BigEndian.Uint32(b)), false, nil
	case 0x81:
		b, err := r.take(8)
		if err != nil {
			return 0, false, err
		}
		return binary.BigEndian.Uint64(b), false, nil
	}
	return 0, false, fmt.Errorf("%w: length prefix %#x", ErrFormat, c)
}

func (r *reader) len() (uint64, error) {
	n, enc, err := r.lenOrEnc()
	if err == nil && enc {
		err = fmt.Errorf("%w: encoded length", ErrFormat)
	}
	return n, err
}

func (r *reader) string() ([]byte, error) {
	n, enc, err := r.lenOrEnc()
	if err != nil {
		return nil, err
	}
	if !enc {
		b, err := r.take(n)
		return append([]byte(nil), b...), err
	}
	switch n {
	case 0, 1, 2:
		b, err := r.take(1 << n)
		if err != nil {
			return nil, err
		}
		var v int64
		switch n {
		case 0:
			v = int64(int8(b[0]))
		case 1:
			v = int64(int16(binary.LittleEndian.Uint16(b)))
		case 2:
			v = int64(int32(binary.LittleEndian.Uint32(b)))
		}
		return strconv.AppendInt(nil, v, 10), nil
	case 3:
		clen, err := r.len()
		if err != nil {
			return nil, err
		}
		ulen, err := r.len()
		if err != nil {
			return nil, err
		}
		c, err := r.take(clen)
		if err != nil {
			return nil, err
		}
		return lzfDecompress(c, ulen)
	}
	return nil, fmt.Errorf("%w: string encoding %d", ErrFormat, n)
}

// lzfDecompress expands LZF data (lzf_d.c) that must yield exactly ulen
// bytes.
func lzfDecompress(in []byte, ulen uint64) ([]byte, error) {
	if ulen > uint64(len(in))*256+256 { // LZF expands at most ~264×
		return nil, fmt.Errorf("%w: LZF length %d from %d bytes", ErrFormat, ulen, len(in))
	}
	out := make([]byte, 0, ulen)
	bad := fmt.Errorf("%w: corrupt LZF data", ErrFormat)
	for i := 0; i < len(in); {
		ctrl := int(in[i])
		i++
		if ctrl < 32 { // a literal run of ctrl+1 bytes
			n := ctrl + 1
			if i+n > len(in) || uint64(len(out)+n) > ulen {
				return nil, bad
			}
			out = append(out, in[i:i+n]...)
			i += n
			continue
		}
		n := ctrl >> 5
		if n == 7 {
			if i >= len(in) {
				return nil, bad
			}
			n += int(in[i])
			i++
		}
		if i >= len(in) {
			return nil, bad
		}
		ref := len(out) - (ctrl&0x1f)<<8 - int(in[i]) - 1
		i++
		n += 2
		if ref < 0 || uint64(len(out)+n) > ulen {
			return nil, bad
		}
		for j := 0; j < n; j++ { // byte by byte: the copy may overlap
			out = append(out, out[ref+j])
		}
	}
	if uint64(len(out)) != ulen {
		return nil, bad
	}
	return out, nil
}

// intset decodes an intset: encoding (2, 4 or 8), count, then the values,
// all little-endian.
func intset(b []byte) ([][]byte, error) {
	if len(b) < 8 {
		return nil, fmt.Errorf("%w: short intset", ErrFormat)
	}
	w := binary.LittleEndian.Uint32(b)
	n := uint64(binary.LittleEndian.Uint32(b[4:]))
	if w != 2 && w != 4 && w != 8 || uint64(len(b)-8) != n*uint64(w) {
		return nil, fmt.Errorf("%w: intset of width %d and %d entries in %d bytes", ErrFormat, w, n, len(b))
	}
	out := make([][]byte, 0, n)
	for p := b[8:]; len(p) > 0; p = p[w:] {
		var v int64
		switch w {
		case 2:
			v = int64(int16(binary.LittleEndian.Uint16(p)))
		case 4:
			v = int64(int32(binary.LittleEndian.Uint32(p)))
		default:
			v = int64(binary.LittleEndian.Uint64(p))
		}
		out = append(out, strconv.AppendInt(nil, v, 10))
	}
	return out, nil
}

// listpack decodes a listpack (listpack.c): total bytes (4), count (2),
// entries each followed by its back-length, 0xff.
func listpack(b []byte) ([][]byte, error) {
	bad := func(what string) error { return fmt.Errorf("%w: listpack: %s", ErrFormat, what) }
	if len(b) < 7 || binary.LittleEndian.Uint32(b) != uint32(len(b)) || b[len(b)-1] != 0xff {
		return nil, bad("header")
	}
	p := b[6 : len(b)-1]
	var out [][]byte
	for len(p) > 0 {
		c := p[0]
		var entry []byte
		var hdr, dlen int
		var ival int64
		isInt := true
		switch {
		case c&0x80 == 0: // 7-bit unsigned
			hdr, ival = 1, int64(c&0x7f)
		case c&0xc0 == 0x80: // 6-bit string length
			hdr, dlen, isInt = 1, int(c&0x3f), false
		case c&0xe0 == 0xc0: // 13-bit signed
			if len(p) < 2 {
				return nil, bad("truncated")
			}
			hdr = 2
			u := uint64(c&0x1f)<<8 | uint64(p[1])
			ival = int64(u<<51) >> 51
		case c&0xf0 == 0xe0: // 12-bit string length
			if len(p) < 2 {
				return nil, bad("truncated")
			}
			hdr, dlen, isInt = 2, int(c&0x0f)<<8|int(p[1]), false
		case c == 0xf0: // 32-bit string length
			if len(p) < 5 {
				return nil, bad("truncated")
			}
			hdr, dlen, isInt = 5, int(binary.LittleEndian.Uint32(p[1:])), false
		case c >= 0xf1 && c <= 0xf4: // 16, 24, 32, 64-bit signed
			w := []int{2, 3, 4, 8}[c-0xf1]
			if len(p) < 1+w {
				return nil, bad("truncated")
			}
			hdr = 1 + w
			var u uint64
			for i := w - 1; i >= 0; i-- {
				u = u<<8 | uint64(p[1+i])
			}
			ival = int64(u<<(64-8*w)) >> (64 - 8*w)
		default:
			return nil, bad(fmt.Sprintf("entry encoding %#x", c))
		}
		if dlen < 0 || hdr+dlen > len(p) {
			return nil, bad("truncated")
		}
		if isInt {
			entry = strconv.AppendInt(nil, ival, 10)
		} else {
			entry = append([]byte(nil), p[hdr:hdr+dlen]...)
		}
		size := hdr + dlen
		back := backlenSize(size)
		if size+back > len(p) {
			return nil, bad("truncated")
		}
		out = append(out, entry)
		p = p[size+back:]
	}
	if n := binary.LittleEndian.Uint16(b[4:]); n != 0xffff && int(n) != len(out) {
		return nil, bad("count")
	}
	return out, nil
}

// backlenSize is how many bytes a listpack entry's back-length takes.
func backlenSize(l int) int {
	switch {
	case l <= 127:
		return 1
	case l < 16383:
		return 2
	case l < 2097151:
		return 3
	case l < 268435455:
		return 4
	}
	return 5
}

// ziplist decodes a ziplist (ziplist.c, RDB 9 and older): zlbytes (4),
// zltail (4), zllen (2), entries (prevlen, encoding, data), 0xff.
func ziplist(b []byte) ([][]byte, error) {
	bad := func(what string) error { return fmt.Errorf("%w: ziplist: %s", ErrFormat, what) }
	if len(b) < 11 || binary.LittleEndian.Uint32(b) != uint32(len(b)) || b[len(b)-1] != 0xff {
		return nil, bad("header")
	}
	p := b[10 : len(b)-1]
	var out [][]byte
	for len(p) > 0 {
		if p[0] == 0xfe { // 5-byte prevlen
			if len(p) < 5 {
				return nil, bad("truncated")
			}
			p = p[5:]
		} else {
			p = p[1:]
		}
		if len(p) == 0 {
			return nil, bad("truncated")
		}
		c := p[0]
		var hdr, dlen int
		var ival int64
		isInt := true
		switch c >> 6 {
		case 0:
			hdr, dlen, isInt = 1, int(c&0x3f), false
		case 1:
			if len(p) < 2 {
				return nil, bad("truncated")
			}
			hdr, dlen, isInt = 2, int(c&0x3f)<<8|int(p[1]), false
		case 2:
			if len(p) < 5 {
				return nil, bad("truncated")
			}
			hdr, dlen, isInt = 5, int(binary.BigEndian.Uint32(p[1:])), false
		default:
			var w int
			switch c {
			case 0xc0:
				w = 2
			case 0xd0:
				w = 4
			case 0xe0:
				w = 8
			case 0xf0:
				w = 3
			case 0xfe:
				w = 1
			default:
				if c >= 0xf1 && c <= 0xfd {
					hdr, ival = 1, int64(c&0x0f)-1
				} else {
					return nil, bad(fmt.Sprintf("entry encoding %#x", c))
				}
			}
			if w > 0 {
				if len(p) < 1+w {
					return nil, bad("truncated")
				}
				var u uint64
				for i := w - 1; i >= 0; i-- {
					u = u<<8 | uint64(p[1+i])
				}
				hdr, ival = 1+w, int64(u<<(64-8*w))>>(64-8*w)
			}
		}
		if dlen < 0 || hdr+dlen > len(p) {
			return nil, bad("truncated")
		}
		if isInt {
			out = append(out, strconv.AppendInt(nil, ival, 10))
		} else {
			out = append(out, append([]byte(nil), p[hdr:hdr+dlen]...))
		}
		p = p[hdr+dlen:]
	}
	return out, nil
}

// crcTable is CRC-64/Jones's (reflected polynomial 0x95ac9329ac4bc9b5),
// Redis's crc64.
var crcTable = func() (t [256]uint64) {
	const poly = 0x95ac9329ac4bc9b5
	for i := range t {
		c := uint64(i)
		for range 8 {
			if c&1 == 1 {
				c = c>>1 ^ poly
			} else {
				c >>= 1
			}
		}
		t[i] = c
	}
	return t
}()

// CRC64 continues Redis's crc64 (CRC-64/Jones, no inversion) crc over b.
func CRC64(crc uint64, b []byte) uint64 {
	for _, c := range b {
		crc = crcTable[byte(crc)^c] ^ crc>>8
	}
	return crc
}
