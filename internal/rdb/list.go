package rdb

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// RDB list types (rdb.h): Redis 7.0 writes quicklist 2, and loads the
// older ones too.
const (
	typeList           = 1  // length, then each element as a string
	typeListZiplist    = 10 // one ziplist
	typeListQuicklist  = 14 // length, then each node a ziplist
	typeListQuicklist2 = 18 // length, then each node's container and listpack
)

// Quicklist node containers (quicklist.h).
const (
	containerPlain  = 1 // one element, raw
	containerPacked = 2 // a listpack
)

// nodeBytes is the most bytes of one listpack node Encode fills, as
// Redis's default list-max-listpack-size -2 (8 KiB).
const nodeBytes = 8 << 10

// appendList appends a list as RDB_TYPE_LIST_QUICKLIST_2: packed nodes of
// at most nodeBytes (a larger element alone in its node), elements as
// listpack integers where Redis would store them so.
func appendList(b []byte, elems [][]byte) []byte {
	var nodes [][]byte
	var cur []byte
	n := 0
	flush := func() {
		if n > 0 {
			nodes = append(nodes, finishListpack(cur, n))
		}
		cur, n = nil, 0
	}
	for _, e := range elems {
		entry := lpEntry(nil, e)
		if n > 0 && 6+len(cur)+len(entry)+1 > nodeBytes || n == 0xfffe {
			flush()
		}
		cur = append(cur, entry...)
		n++
	}
	flush()
	b = append(b, typeListQuicklist2)
	b = appendLen(b, uint64(len(nodes)))
	for _, lp := range nodes {
		b = appendLen(b, containerPacked)
		b = appendString(b, lp)
	}
	return b
}

// finishListpack wraps n encoded entries in a listpack's header and end.
func finishListpack(entries []byte, n int) []byte {
	lp := make([]byte, 6, 6+len(entries)+1)
	binary.LittleEndian.PutUint32(lp, uint32(6+len(entries)+1))
	binary.LittleEndian.PutUint16(lp[4:], uint16(n))
	lp = append(lp, entries...)
	return append(lp, 0xff)
}

// lpEntry appends one listpack entry (listpack.c's lpEncodeGetType): an
// integer in Redis's canonical form by its smallest encoding, anything
// else as a string; then the back-length.
func lpEntry(b, e []byte) []byte {
	start := len(b)
	if v, err := strconv.ParseInt(string(e), 10, 64); err == nil && len(e) <= 20 && strconv.FormatInt(v, 10) == string(e) {
		switch {
		case v >= 0 && v <= 127:
			b = append(b, byte(v))
		case v >= -4096 && v <= 4095:
			u := uint16(v) & 0x1fff
			b = append(b, 0xc0|byte(u>>8), byte(u))
		case v >= -32768 && v <= 32767:
			b = binary.LittleEndian.AppendUint16(append(b, 0xf1), uint16(v))
		case v >= -8388608 && v <= 8388607:
			b = append(b, 0xf2, byte(v), byte(v>>8), byte(v>>16))
		case v >= -2147483648 && v <= 2147483647:
			b = binary.LittleEndian.AppendUint32(append(b, 0xf3), uint32(v))
		default:
			b = binary.LittleEndian.AppendUint64(append(b, 0xf4), uint64(v))
		}
	} else {
		switch l := len(e); {
		case l < 64:
			b = append(b, 0x80|byte(l))
		case l < 4096:
			b = append(b, 0xe0|byte(l>>8), byte(l))
		default:
			b = binary.LittleEndian.AppendUint32(append(b, 0xf0), uint32(l))
		}
		b = append(b, e...)
	}
	return appendBacklen(b, len(b)-start)
}

// appendBacklen appends a listpack entry's back-length (lpEncodeBacklen).
func appendBacklen(b []byte, l int) []byte {
	switch backlenSize(l) {
	case 1:
		return append(b, byte(l))
	case 2:
		return append(b, byte(l>>7), byte(l&127)|128)
	case 3:
		return append(b, byte(l>>14), byte(l>>7&127)|128, byte(l&127)|128)
	case 4:
		return append(b, byte(l>>21), byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
	}
	return append(b, byte(l>>28), byte(l>>21&127)|128, byte(l>>14&127)|128, byte(l>>7&127)|128, byte(l&127)|128)
}

// readList reads the body of a list of RDB type t (one of the list types).
func (r *reader) readList(t byte) ([][]byte, error) {
	switch t {
	case typeListZiplist:
		blob, err := r.string()
		if err != nil {
			return nil, err
		}
		return ziplist(blob)
	case typeList:
		n, err := r.len()
		if err != nil {
			return nil, err
		}
		var out [][]byte
		for i := uint64(0); i < n; i++ {
			e, err := r.string()
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	n, err := r.len()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for i := uint64(0); i < n; i++ {
		container := uint64(containerPacked)
		if t == typeListQuicklist2 {
			if container, err = r.len(); err != nil {
				return nil, err
			}
		}
		blob, err := r.string()
		if err != nil {
			return nil, err
		}
		var elems [][]byte
		switch {
		case t == typeListQuicklist:
			elems, err = ziplist(blob)
		case container == containerPlain:
			elems = [][]byte{blob}
		case container == containerPacked:
			elems, err = listpack(blob)
		default:
			err = fmt.Errorf("%w: quicklist container %d", ErrFormat, container)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, elems...)
	}
	return out, nil
}
