package rdb

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// appendZSet writes a sorted set as RDB_TYPE_ZSET_2 (rdb.c): the count,
// then each member and its score as a little-endian binary double, in
// reverse order as Redis writes a skiplist (redis-server loads it as a
// listpack or skiplist by its size).
func appendZSet(b []byte, v Value) []byte {
	b = append(b, typeZSet2)
	b = appendLen(b, uint64(len(v.Members)))
	for i := len(v.Members) - 1; i >= 0; i-- {
		b = appendString(b, v.Members[i])
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v.Scores[i]))
	}
	return b
}

// zset reads a sorted set of RDB type t: ZSET (text scores), ZSET_2
// (binary), or a ziplist or listpack of member, score pairs. A NaN score
// is ErrFormat, as redis-server refuses it.
func (r *reader) zset(t byte) (Value, error) {
	v := Value{Kind: ZSet}
	add := func(m []byte, f float64) error {
		if math.IsNaN(f) {
			return fmt.Errorf("%w: NaN score", ErrFormat)
		}
		v.Members = append(v.Members, m)
		v.Scores = append(v.Scores, f)
		return nil
	}
	switch t {
	case typeZSet, typeZSet2:
		n, err := r.len()
		if err != nil {
			return v, err
		}
		for i := uint64(0); i < n; i++ {
			m, err := r.string()
			if err != nil {
				return v, err
			}
			var f float64
			if t == typeZSet2 {
				b, err := r.take(8)
				if err != nil {
					return v, err
				}
				f = math.Float64frombits(binary.LittleEndian.Uint64(b))
			} else if f, err = r.textScore(); err != nil {
				return v, err
			}
			if err := add(m, f); err != nil {
				return v, err
			}
		}
	default:
		blob, err := r.string()
		if err != nil {
			return v, err
		}
		var items [][]byte
		if t == typeZSetListpack {
			items, err = listpack(blob)
		} else {
			items, err = ziplist(blob)
		}
		if err == nil && len(items)%2 != 0 {
			err = fmt.Errorf("%w: odd zset listpack", ErrFormat)
		}
		if err != nil {
			return v, err
		}
		for i := 0; i < len(items); i += 2 {
			f, perr := strconv.ParseFloat(string(items[i+1]), 64)
			if perr != nil {
				return v, fmt.Errorf("%w: zset score %q", ErrFormat, items[i+1])
			}
			if err := add(items[i], f); err != nil {
				return v, err
			}
		}
	}
	if len(v.Members) == 0 {
		return v, fmt.Errorf("%w: empty zset", ErrFormat)
	}
	return v, nil
}

// textScore reads an RDB_TYPE_ZSET score: a length byte (253 NaN, 254
// +inf, 255 -inf) then that many bytes of "%.17g" text.
func (r *reader) textScore() (float64, error) {
	n, err := r.byte()
	if err != nil {
		return 0, err
	}
	switch n {
	case 253:
		return math.NaN(), nil
	case 254:
		return math.Inf(1), nil
	case 255:
		return math.Inf(-1), nil
	}
	b, err := r.take(uint64(n))
	if err != nil {
		return 0, err
	}
	f, perr := strconv.ParseFloat(string(b), 64)
	if perr != nil {
		return 0, fmt.Errorf("%w: zset score %q", ErrFormat, b)
	}
	return f, nil
}
