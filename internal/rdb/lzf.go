package rdb

import (
	"strconv"
	"sync"
)

// LZF compression as Redis 7.0 builds it (liblzf 3.6's lzf_c.c with
// HLOG 16, VERY_FAST, a hash table of positions), so that a compressible
// string's DUMP payload is redis-server's byte for byte. Redis leaves
// the hash table uninitialized (INIT_HTAB 0); stack garbage can only
// point at earlier input, and this port starts from an empty table,
// which is what such garbage almost always amounts to.
const (
	lzfHLog   = 16
	lzfHSize  = 1 << lzfHLog
	lzfMaxLit = 1 << 5
	lzfMaxOff = 1 << 13
	lzfMaxRef = 1<<8 + 1<<3
)

var lzfTables = sync.Pool{New: func() any { return new([lzfHSize]int32) }}

func lzfIdx(h uint32) uint32 { return (h>>(3*8-lzfHLog) - h*5) & (lzfHSize - 1) }

// lzfCompress returns in compressed into at most outLen bytes, or nil if
// it does not fit (lzf_compress returning 0).
func lzfCompress(in []byte, outLen int) []byte {
	if len(in) < 3 || outLen == 0 {
		return nil
	}
	htab := lzfTables.Get().(*[lzfHSize]int32)
	defer lzfTables.Put(htab)
	*htab = [lzfHSize]int32{}
	out := make([]byte, outLen+4)
	ip, op, inEnd, outEnd := 0, 0, len(in), outLen
	lit := 0
	op++ // start a literal run
	hval := uint32(in[0])<<8 | uint32(in[1])
	for ip < inEnd-2 {
		hval = hval<<8 | uint32(in[ip+2])
		slot := lzfIdx(hval)
		ref := int(htab[slot]) - 1 // −1: empty
		htab[slot] = int32(ip + 1)
		if ref > 0 && ref < ip && ip-ref-1 < lzfMaxOff &&
			in[ref+2] == in[ip+2] && in[ref] == in[ip] && in[ref+1] == in[ip+1] {
			off := ip - ref - 1
			n := 2
			maxLen := min(inEnd-ip-n, lzfMaxRef)
			if op+3+1 >= outEnd {
				undo := 0
				if lit == 0 {
					undo = 1
				}
				if op-undo+3+1 >= outEnd {
					return nil
				}
			}
			out[op-lit-1] = byte(lit - 1) // stop the run
			if lit == 0 {
				op-- // an empty run is undone
			}
			matched := false
			if maxLen > 16 {
				matched = true
				for k := 0; k < 16; k++ {
					n++
					if in[ref+n] != in[ip+n] {
						matched = false
						break
					}
				}
			}
			if maxLen <= 16 || matched {
				for {
					n++
					if !(n < maxLen && in[ref+n] == in[ip+n]) {
						break
					}
				}
			}
			n -= 2 // octets − 1
			ip++
			if n < 7 {
				out[op] = byte(off>>8) + byte(n<<5)
				op++
			} else {
				out[op] = byte(off>>8) + 7<<5
				out[op+1] = byte(n - 7)
				op += 2
			}
			out[op] = byte(off)
			op++
			lit = 0
			op++ // start a run
			ip += n + 1
			if ip >= inEnd-2 {
				break
			}
			ip -= 2
			hval = uint32(in[ip])<<8 | uint32(in[ip+1])
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			hval = hval<<8 | uint32(in[ip+2])
			htab[lzfIdx(hval)] = int32(ip + 1)
			ip++
			continue
		}
		if op >= outEnd {
			return nil
		}
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	if op+3 > outEnd {
		return nil
	}
	for ip < inEnd {
		lit++
		out[op] = in[ip]
		op++
		ip++
		if lit == lzfMaxLit {
			out[op-lit-1] = byte(lit - 1)
			lit = 0
			op++
		}
	}
	out[op-lit-1] = byte(lit - 1)
	if lit == 0 {
		op--
	}
	return out[:op]
}

// appendStringObject is rdbSaveRawString: a string of at most 11 bytes
// that is a canonical int32 as an integer encoding, one of more than 20
// bytes that LZF shrinks by at least 4 bytes compressed, else raw.
func appendStringObject(b, s []byte) []byte {
	if len(s) <= 11 {
		if n, err := strconv.ParseInt(string(s), 10, 64); err == nil && strconv.FormatInt(n, 10) == string(s) {
			switch {
			case n >= -(1<<7) && n < 1<<7:
				return append(b, 0xc0, byte(n))
			case n >= -(1<<15) && n < 1<<15:
				return append(b, 0xc1, byte(n), byte(n>>8))
			case n >= -(1<<31) && n < 1<<31:
				return append(b, 0xc2, byte(n), byte(n>>8), byte(n>>16), byte(n>>24))
			}
		}
	}
	if len(s) > 20 {
		if c := lzfCompress(s, len(s)-4); c != nil {
			b = append(b, 0xc3)
			b = appendLen(b, uint64(len(c)))
			b = appendLen(b, uint64(len(s)))
			return append(b, c...)
		}
	}
	return append(appendLen(b, uint64(len(s))), s...)
}
