package hll

import (
	"encoding/binary"
	"errors"
	"math"
)

// Sizes and limits of Redis 7.0's HyperLogLog.
const (
	P              = 14                                  // bits of the hash that pick a register
	Registers      = 1 << P                              // 16384 registers
	HeaderLen      = 16                                  // "HYLL", encoding, 3 unused, 8-byte cache
	DenseLen       = HeaderLen + (Registers*regBits+7)/8 // 12304 bytes
	SparseMaxBytes = 3000                                // hll-sparse-max-bytes's default

	q       = 64 - P
	regBits = 6
	regMask = 1<<regBits - 1

	encDense  = 0
	encSparse = 1

	valMaxValue = 32                      // largest register a sparse VAL opcode holds
	valMaxLen   = 4                       // registers one VAL opcode covers at most
	zeroMaxLen  = 64                      // registers one ZERO opcode covers at most
	xzeroMaxLen = 16384                   // registers one XZERO opcode covers at most
	alphaInf    = 0.721347520444481703680 // 0.5/ln(2)
	cacheStale  = 1 << 7                  // top bit of the cache's last byte
)

// ErrCorrupt reports a sparse HLL whose opcodes do not cover exactly the
// 16384 registers (Redis replies "-INVALIDOBJ Corrupted HLL object
// detected").
var ErrCorrupt = errors.New("hll: corrupted HLL object detected")

// Regs is a set of registers, one byte each (Redis's HLL_RAW).
type Regs [Registers]uint8

// Valid reports whether b is an HLL to Redis (isHLLObjectOrReply): at
// least a header, the magic "HYLL", a known encoding, and exactly
// DenseLen bytes when dense. Anything else gets WRONGTYPE from PF*.
func Valid(b []byte) bool {
	if len(b) < HeaderLen || string(b[:4]) != "HYLL" || b[4] > encSparse {
		return false
	}
	return b[4] != encDense || len(b) == DenseLen
}

// IsDense reports whether the valid HLL b uses the dense encoding.
func IsDense(b []byte) bool { return b[4] == encDense }

// New returns an empty HLL as Redis creates one: sparse, a single XZERO
// opcode covering every register, cache 0 and valid (18 bytes).
func New() []byte {
	b := make([]byte, HeaderLen, HeaderLen+2)
	copy(b, "HYLL")
	b[4] = encSparse
	return appendXZero(b, Registers)
}

func appendXZero(b []byte, n int) []byte {
	return append(b, byte((n-1)>>8)|0x40, byte(n-1))
}

// murmur64A is MurmurHash64A (Austin Appleby), reading 8-byte words little
// endian as Redis does on every architecture.
func murmur64A(key []byte, seed uint64) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	h := seed ^ uint64(len(key))*m
	n := len(key) &^ 7
	for i := 0; i < n; i += 8 {
		k := binary.LittleEndian.Uint64(key[i:])
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	tail := key[n:]
	if len(tail) > 0 {
		for i := len(tail) - 1; i >= 0; i-- {
			h ^= uint64(tail[i]) << (8 * i)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// patLen returns the register an element hashes to and the length of its
// hash's 0…01 pattern (1 to q+1), as Redis's hllPatLen.
func patLen(ele []byte) (int, uint8) {
	h := murmur64A(ele, 0xadc83b19)
	index := int(h & (Registers - 1))
	h >>= P
	h |= 1 << q
	count := uint8(1)
	for bit := uint64(1); h&bit == 0; bit <<= 1 {
		count++
	}
	return index, count
}

// Dense registers: 6 bits each, little endian bit order, in regs (the
// bytes after the header).
func denseGet(regs []byte, i int) uint8 {
	byt, fb := i*regBits/8, uint(i*regBits&7)
	b0 := uint(regs[byt])
	var b1 uint
	if byt+1 < len(regs) {
		b1 = uint(regs[byt+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & regMask)
}

func denseSet(regs []byte, i int, v uint8) {
	byt, fb := i*regBits/8, uint(i*regBits&7)
	regs[byt] &^= byte(regMask << fb)
	regs[byt] |= byte(uint(v) << fb)
	if byt+1 < len(regs) {
		regs[byt+1] &^= byte(regMask >> (8 - fb))
		regs[byt+1] |= byte(uint(v) >> (8 - fb))
	}
}

// denseMax raises register i to v if it is lower; it reports a change.
func denseMax(regs []byte, i int, v uint8) bool {
	if v > denseGet(regs, i) {
		denseSet(regs, i, v)
		return true
	}
	return false
}

// Sparse opcodes: ZERO 00xxxxxx (1–64 zero registers), XZERO 01xxxxxx
// xxxxxxxx (1–16384), VAL 1vvvvvxx (1–4 registers of value 1–32).
func isZero(c byte) bool  { return c&0xc0 == 0 }
func isXZero(c byte) bool { return c&0xc0 == 0x40 }
func isVal(c byte) bool   { return c&0x80 != 0 }
func zeroLen(c byte) int  { return int(c&0x3f) + 1 }
func valValue(c byte) int { return int(c>>2&0x1f) + 1 }
func valLen(c byte) int   { return int(c&3) + 1 }
func valOp(v, n int) byte { return byte((v-1)<<2|(n-1)) | 0x80 }

// xzeroLen reads an XZERO opcode at s[p:] (a missing second byte reads as
// 0, as the string's terminator does in Redis).
func xzeroLen(s []byte, p int) int {
	var lo int
	if p+1 < len(s) {
		lo = int(s[p+1])
	}
	return (int(s[p]&0x3f)<<8 | lo) + 1
}

func appendZeros(seq []byte, n int) []byte {
	if n > zeroMaxLen {
		return appendXZero(seq, n)
	}
	return append(seq, byte(n-1))
}

// toDense returns the dense form of the sparse s (header copied, cache
// included, as hllSparseToDense); a dense s is returned as it is.
func toDense(s []byte) ([]byte, error) {
	if s[4] == encDense {
		return s, nil
	}
	d := make([]byte, DenseLen)
	copy(d, s[:HeaderLen])
	d[4] = encDense
	regs := d[HeaderLen:]
	idx := 0
	for p := HeaderLen; p < len(s); {
		c := s[p]
		switch {
		case isZero(c):
			idx += zeroLen(c)
			p++
		case isXZero(c):
			idx += xzeroLen(s, p)
			p += 2
		default:
			n, v := valLen(c), valValue(c)
			if idx+n > Registers {
				return nil, ErrCorrupt
			}
			for ; n > 0; n-- {
				denseSet(regs, idx, uint8(v))
				idx++
			}
			p++
		}
	}
	if idx != Registers {
		return nil, ErrCorrupt
	}
	return d, nil
}

// sparseSet raises register index of the sparse s to count if it is lower,
// editing s as hllSparseSet edits its string: the opcode covering the
// register is split (into at most XZERO VAL XZERO), then adjacent VAL
// opcodes of one value are joined, scanning up to five opcodes from the
// one before. A count over 32, or a string that would pass SparseMaxBytes,
// promotes s to dense first. It returns the new string (s may be reused)
// and whether the register changed.
func sparseSet(s []byte, index int, count uint8) ([]byte, bool, error) {
	if count > valMaxValue {
		return promote(s, index, count)
	}
	p, first, prev, span := HeaderLen, 0, -1, 0
	for p < len(s) {
		oplen := 1
		switch c := s[p]; {
		case isZero(c):
			span = zeroLen(c)
		case isVal(c):
			span = valLen(c)
		default:
			span = xzeroLen(s, p)
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= len(s) {
		return s, false, ErrCorrupt
	}
	c := s[p]
	var runlen int
	switch {
	case isZero(c):
		runlen = zeroLen(c)
	case isXZero(c):
		runlen = xzeroLen(s, p)
	default:
		runlen = valLen(c)
		if valValue(c) >= int(count) {
			return s, false, nil
		}
	}
	switch {
	case isVal(c) && runlen == 1, isZero(c) && runlen == 1:
		s[p] = valOp(int(count), 1)
	default:
		last := first + span - 1
		seq := make([]byte, 0, 5)
		if isVal(c) {
			cur := valValue(c)
			if index != first {
				seq = append(seq, valOp(cur, index-first))
			}
			seq = append(seq, valOp(int(count), 1))
			if index != last {
				seq = append(seq, valOp(cur, last-index))
			}
		} else {
			if index != first {
				seq = appendZeros(seq, index-first)
			}
			seq = append(seq, valOp(int(count), 1))
			if index != last {
				seq = appendZeros(seq, last-index)
			}
		}
		oldlen := 1
		if isXZero(c) {
			oldlen = 2
		}
		delta := len(seq) - oldlen
		if delta > 0 && len(s)+delta > SparseMaxBytes {
			return promote(s, index, count)
		}
		out := make([]byte, 0, len(s)+delta)
		out = append(append(append(out, s[:p]...), seq...), s[p+oldlen:]...)
		s = out
	}
	// Join adjacent VAL opcodes of one value.
	p = HeaderLen
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < len(s); {
		if scan == 0 {
			break
		}
		scan--
		c := s[p]
		if isXZero(c) {
			p += 2
			continue
		}
		if isZero(c) {
			p++
			continue
		}
		if p+1 < len(s) && isVal(s[p+1]) {
			v1, v2 := valValue(c), valValue(s[p+1])
			if n := valLen(c) + valLen(s[p+1]); v1 == v2 && n <= valMaxLen {
				s[p+1] = valOp(v1, n)
				s = append(s[:p], s[p+1:]...)
				continue
			}
		}
		p++
	}
	s[HeaderLen-1] |= cacheStale
	return s, true, nil
}

func promote(s []byte, index int, count uint8) ([]byte, bool, error) {
	d, err := toDense(s)
	if err != nil {
		return s, false, err
	}
	denseMax(d[HeaderLen:], index, count)
	return d, true, nil
}

// Add is PFADD's core on the valid HLL b: every element's register raised.
// It returns the new bytes (b is not modified) and whether a register
// changed; if so the cache is marked stale. (PFADD of a new key counts as
// a change even with no element: the caller starts from New.)
// ErrCorrupt for a corrupted sparse HLL.
func Add(b []byte, elems [][]byte) ([]byte, bool, error) {
	s := make([]byte, len(b), len(b)+8)
	copy(s, b)
	updated := false
	for _, e := range elems {
		i, c := patLen(e)
		var ch bool
		if s[4] == encDense {
			ch = denseMax(s[HeaderLen:], i, c)
		} else {
			var err error
			if s, ch, err = sparseSet(s, i, c); err != nil {
				return nil, false, ErrCorrupt
			}
		}
		updated = updated || ch
	}
	if updated {
		s[HeaderLen-1] |= cacheStale
	}
	return s, updated, nil
}

// Invalidate marks the cache of the valid HLL b stale, in place.
func Invalidate(b []byte) { b[HeaderLen-1] |= cacheStale }

// Cached returns the cardinality cached in the valid HLL b and whether it
// is valid.
func Cached(b []byte) (uint64, bool) {
	return binary.LittleEndian.Uint64(b[8:HeaderLen]), b[HeaderLen-1]&cacheStale == 0
}

// Count is PFCOUNT of one key: the cached cardinality if valid (fresh is
// nil), else the estimate and fresh, b with that estimate cached (b is not
// modified). ErrCorrupt for a corrupted sparse HLL.
func Count(b []byte) (card uint64, fresh []byte, err error) {
	if n, ok := Cached(b); ok {
		return n, nil, nil
	}
	var h [64]int
	if b[4] == encDense {
		regs := b[HeaderLen:]
		for i := 0; i < Registers; i++ {
			h[denseGet(regs, i)]++
		}
	} else {
		idx := 0
		for p := HeaderLen; p < len(b); {
			c := b[p]
			switch {
			case isZero(c):
				n := zeroLen(c)
				idx += n
				h[0] += n
				p++
			case isXZero(c):
				n := xzeroLen(b, p)
				idx += n
				h[0] += n
				p += 2
			default:
				n := valLen(c)
				idx += n
				h[valValue(c)] += n
				p++
			}
		}
		if idx != Registers {
			return 0, nil, ErrCorrupt
		}
	}
	card = estimate(&h)
	fresh = append([]byte(nil), b...)
	binary.LittleEndian.PutUint64(fresh[8:HeaderLen], card)
	return card, fresh, nil
}

// MaxInto raises regs to the registers of the valid HLL b (hllMerge).
// ErrCorrupt for a corrupted sparse HLL.
func MaxInto(regs *Regs, b []byte) error {
	if b[4] == encDense {
		d := b[HeaderLen:]
		for i := range regs {
			regs[i] = max(regs[i], denseGet(d, i))
		}
		return nil
	}
	i := 0
	for p := HeaderLen; p < len(b); p++ {
		c := b[p]
		switch {
		case isZero(c):
			i += zeroLen(c)
		case isXZero(c):
			i += xzeroLen(b, p)
			p++
		default:
			n, v := valLen(c), uint8(valValue(c))
			if i+n > Registers {
				return ErrCorrupt
			}
			for ; n > 0; n-- {
				regs[i] = max(regs[i], v)
				i++
			}
		}
	}
	if i != Registers {
		return ErrCorrupt
	}
	return nil
}

// CountRegs is PFCOUNT of several keys: the estimate over regs.
func CountRegs(regs *Regs) uint64 {
	var h [64]int
	for _, r := range regs {
		h[r&63]++
	}
	return estimate(&h)
}

// Store is PFMERGE's write: dst (the destination's valid HLL, or New())
// made dense if dense, then every non-zero register of regs raised in
// ascending order, and the cache marked stale. dst is not modified.
func Store(dst []byte, regs *Regs, dense bool) ([]byte, error) {
	s := append([]byte(nil), dst...)
	if dense {
		var err error
		if s, err = toDense(s); err != nil {
			return nil, err
		}
	}
	for j, v := range regs {
		if v == 0 {
			continue
		}
		if s[4] == encDense {
			denseMax(s[HeaderLen:], j, v)
			continue
		}
		// NB: Redis ignores this call's failure (dst was validated as a
		// source already).
		s, _, _ = sparseSet(s, j, v)
	}
	s[HeaderLen-1] |= cacheStale
	return s, nil
}

// estimate is hllCount's estimator over a register histogram (Ertl 2017,
// "improved raw estimator"). NB: the explicit float64 conversions keep the
// compiler from fusing multiply-adds, so results match Redis's C doubles.
func estimate(h *[64]int) uint64 {
	const m = float64(Registers)
	z := m * tau(float64(m-float64(h[q+1]))/m)
	for j := q; j >= 1; j-- {
		z += float64(h[j])
		z *= 0.5
	}
	z += float64(m * sigma(float64(h[0])/m))
	return uint64(math.Round(float64(alphaInf*m*m) / z))
}

func sigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y, z := 1.0, x
	for {
		x *= x
		prev := z
		z += float64(x * y)
		y += y
		if prev == z {
			return z
		}
	}
}

func tau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y, z := 1.0, 1-x
	for {
		x = math.Sqrt(x)
		prev := z
		y *= 0.5
		d := float64((1 - x) * (1 - x))
		z -= float64(d * y)
		if prev == z {
			return z / 3
		}
	}
}
