package resp

import (
	"math"
	"math/bits"

	"github.com/dynakv/dynakv/crdt"
)

// Bitmap and bitfield commands on string values, as Redis 7.0's bitops.c:
// bit 0 is the most significant bit of the first byte. Writes (SETBIT,
// BITFIELD) are read-modify-writes of the whole string register
// (crdt.Rewrite, like SETRANGE and APPEND): on one coordinator they are
// serialized; of concurrent ones on two nodes the latest write wins and
// the other's bits are lost, as with SETRANGE. BITOP's destination is a
// SET (or DEL, for an empty result) of the computed string.

const (
	msgBitOffset  = "ERR bit offset is not an integer or out of range"
	msgBitValue   = "ERR bit is not an integer or out of range"
	msgBitArg     = "ERR The bit argument must be 1 or 0."
	msgBitfieldTy = "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
	msgOverflowTy = "ERR Invalid OVERFLOW type specified"
	msgBitfieldRO = "ERR BITFIELD_RO only supports the GET subcommand"
	msgBitopNot   = "ERR BITOP NOT must be called with a single source key."
)

// parseBitOffset is getBitOffsetFromArgument: a bit offset, or with hash
// and bits > 0 also "#n" (n·bits); below 0 or at or past
// crdt.MaxStringLen bytes is an error.
func parseBitOffset(b []byte, hash bool, width int) (uint64, bool) {
	use := len(b) > 0 && b[0] == '#' && hash && width > 0
	if use {
		b = b[1:]
	}
	n, ok := parseStrictInt(b)
	if !ok {
		return 0, false
	}
	if use {
		if n > math.MaxInt64/int64(width) || n < math.MinInt64/int64(width) {
			return 0, false
		}
		n *= int64(width)
	}
	if n < 0 || n>>3 >= crdt.MaxStringLen {
		return 0, false
	}
	return uint64(n), true
}

// grow returns cur zero-padded to hold byte n-1 (a copy, cur untouched).
func grow(cur []byte, n uint64) []byte {
	out := make([]byte, max(uint64(len(cur)), n))
	copy(out, cur)
	return out
}

// cmdSetBit is SETBIT key offset 0|1: the bit's old value.
func cmdSetBit(c *Conn, args [][]byte) {
	off, ok := parseBitOffset(args[2], false, 0)
	if !ok {
		c.WriteError(msgBitOffset)
		return
	}
	on, ok := parseStrictInt(args[3])
	if !ok || on&^1 != 0 {
		c.WriteError(msgBitValue)
		return
	}
	var old int64
	changed := false
	_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		return crdt.Rewrite(cur, st, func(v []byte, exists bool) ([]byte, bool, error) {
			byt, bit := off>>3, 7-off&7
			var b byte
			if byt < uint64(len(v)) {
				b = v[byt]
			}
			old = int64(b>>bit) & 1
			if exists && byt < uint64(len(v)) && old == on {
				return nil, false, nil
			}
			out := grow(v, byt+1)
			out[byt] = b&^(1<<bit) | byte(on)<<bit
			changed = true
			return out, true, nil
		})
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(old)
	if changed {
		c.notify('$', "setbit", args[1])
	}
}

// cmdGetBit is GETBIT key offset.
func cmdGetBit(c *Conn, args [][]byte) {
	off, ok := parseBitOffset(args[2], false, 0)
	if !ok {
		c.WriteError(msgBitOffset)
		return
	}
	v, _, err := c.getString(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	var bit int64
	if byt := off >> 3; byt < uint64(len(v)) {
		bit = int64(v[byt]>>(7-off&7)) & 1
	}
	c.WriteInt(bit)
}

// bitRange is BITCOUNT's and BITPOS's range arithmetic: start and end
// (negative from the end; in bits when isBit) clamped to the string of n
// bytes, as byte indexes, and the masks of the first and last bytes' bits
// outside the range (bit ranges only).
func bitRange(start, end int64, n int64, isBit bool) (s, e int64, firstMask, lastMask byte) {
	tot := n
	if isBit {
		tot <<= 3
	}
	if start < 0 {
		start += tot
	}
	if end < 0 {
		end += tot
	}
	start, end = max(start, 0), max(end, 0)
	if end >= tot {
		end = tot - 1
	}
	if isBit && start <= end {
		firstMask = ^byte(1<<(8-start&7) - 1)
		lastMask = byte(1<<(7-end&7) - 1)
		start >>= 3
		end >>= 3
	}
	return start, end, firstMask, lastMask
}

// parseUnit parses BYTE or BIT.
func parseUnit(b []byte) (isBit, ok bool) {
	switch {
	case equalFold(b, "bit"):
		return true, true
	case equalFold(b, "byte"):
		return false, true
	}
	return false, false
}

func popcount(b []byte) (n int64) {
	for _, x := range b {
		n += int64(bits.OnesCount8(x))
	}
	return n
}

// cmdBitCount is BITCOUNT key [start end [BYTE|BIT]].
func cmdBitCount(c *Conn, args [][]byte) {
	v, ok, err := c.getString(args[1])
	switch {
	case err != nil:
		c.WriteErr(err)
		return
	case !ok:
		c.WriteInt(0)
		return
	}
	start, end := int64(0), int64(len(v))-1
	var first, last byte
	switch len(args) {
	case 2:
	case 4, 5:
		s, ok1 := parseStrictInt(args[2])
		if !ok1 {
			c.WriteError(msgNotInt)
			return
		}
		e, ok2 := parseStrictInt(args[3])
		if !ok2 {
			c.WriteError(msgNotInt)
			return
		}
		if s < 0 && e < 0 && s > e {
			c.WriteInt(0)
			return
		}
		isBit := false
		if len(args) == 5 {
			var ok bool
			if isBit, ok = parseUnit(args[4]); !ok {
				c.WriteError(msgSyntax)
				return
			}
		}
		start, end, first, last = bitRange(s, e, int64(len(v)), isBit)
	default:
		c.WriteError(msgSyntax)
		return
	}
	if start > end {
		c.WriteInt(0)
		return
	}
	n := popcount(v[start : end+1])
	n -= int64(bits.OnesCount8(v[start]&first) + bits.OnesCount8(v[end]&last))
	c.WriteInt(n)
}

// firstBit is redisBitpos: the position of the first bit equal to bit in
// b; for 1 and none, -1; for 0 and none, len(b)·8 (the string is taken
// as zero-padded on the right).
func firstBit(b []byte, bit int64) int64 {
	for i, x := range b {
		if bit == 1 && x != 0 {
			return int64(i)*8 + int64(bits.LeadingZeros8(x))
		}
		if bit == 0 && x != 0xff {
			return int64(i)*8 + int64(bits.LeadingZeros8(^x))
		}
	}
	if bit == 1 {
		return -1
	}
	return int64(len(b)) * 8
}

// cmdBitPos is BITPOS key bit [start [end [BYTE|BIT]]], as Redis 7.0's
// bitposCommand (the edge bytes of a bit range masked).
func cmdBitPos(c *Conn, args [][]byte) {
	bit, ok := parseStrictInt(args[2])
	if !ok {
		c.WriteError(msgNotInt)
		return
	}
	if bit != 0 && bit != 1 {
		c.WriteError(msgBitArg)
		return
	}
	v, exists, err := c.getString(args[1])
	switch {
	case err != nil:
		c.WriteErr(err)
		return
	case !exists:
		c.WriteInt(-bit)
		return
	}
	n := int64(len(v))
	start, end := int64(0), n-1
	endGiven := false
	var first, last byte
	switch len(args) {
	case 3:
	case 4, 5, 6:
		s, ok := parseStrictInt(args[3])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		isBit := false
		if len(args) == 6 {
			if isBit, ok = parseUnit(args[5]); !ok {
				c.WriteError(msgSyntax)
				return
			}
		}
		e := n - 1
		if isBit {
			e = n<<3 + 7
		}
		if len(args) >= 5 {
			if e, ok = parseStrictInt(args[4]); !ok {
				c.WriteError(msgNotInt)
				return
			}
			endGiven = true
		}
		start, end, first, last = bitRange(s, e, n, isBit)
	default:
		c.WriteError(msgSyntax)
		return
	}
	if start > end {
		c.WriteInt(-1)
		return
	}
	c.WriteInt(bitPosIn(v, bit, start, end, first, last, endGiven))
}

// bitPosIn searches bytes start…end of v (edge masks as bitRange's).
func bitPosIn(v []byte, bit, start, end int64, first, last byte, endGiven bool) int64 {
	bytes := end - start + 1
	mask := func(x, m byte) byte {
		if bit == 1 {
			return x &^ m
		}
		return x | m
	}
	var pos int64
	result := func() int64 {
		if endGiven && bit == 0 && pos == bytes<<3 {
			return -1
		}
		if pos != -1 {
			pos += start << 3
		}
		return pos
	}
	if first != 0 {
		t := mask(v[start], first)
		if last != 0 && bytes == 1 {
			t = mask(t, last)
		}
		pos = firstBit([]byte{t}, bit)
		if bytes == 1 || pos != -1 && pos != 8 {
			return result()
		}
		start++
		bytes--
	}
	cur := bytes
	if last != 0 {
		cur--
	}
	if cur > 0 {
		pos = firstBit(v[start:start+cur], bit)
		if bytes == cur || pos != -1 && pos != cur<<3 {
			return result()
		}
		start += cur
		bytes -= cur
	}
	pos = firstBit([]byte{mask(v[end], last)}, bit)
	return result()
}

// cmdBitOp is BITOP AND|OR|XOR|NOT destkey srckey… (one slot): the result
// is SET at destkey (its TTL cleared), or destkey deleted when every
// source is empty; the reply is the result's length. Run as a unit.
func cmdBitOp(c *Conn, args [][]byte) {
	if !c.sameSlot(args[2:]) {
		c.WriteError(msgCrossSlot)
		return
	}
	var op byte
	switch {
	case equalFold(args[1], "and"):
		op = '&'
	case equalFold(args[1], "or"):
		op = '|'
	case equalFold(args[1], "xor"):
		op = '^'
	case equalFold(args[1], "not"):
		op = '~'
	default:
		c.WriteError(msgSyntax)
		return
	}
	if op == '~' && len(args) != 4 {
		c.WriteError(msgBitopNot)
		return
	}
	c.runUnit(args[2:], func() {
		srcs := make([][]byte, 0, len(args)-3)
		maxLen := 0
		for _, k := range args[3:] {
			o, err := c.loadFresh(k)
			if err != nil {
				c.WriteErr(err)
				return
			}
			v, _, err := crdt.Get(o, c.now())
			if err != nil {
				c.WriteErr(err)
				return
			}
			srcs = append(srcs, v)
			maxLen = max(maxLen, len(v))
		}
		res := make([]byte, maxLen)
		at := func(s []byte, j int) byte {
			if j < len(s) {
				return s[j]
			}
			return 0
		}
		for j := range res {
			out := at(srcs[0], j)
			if op == '~' {
				out = ^out
			}
			for _, s := range srcs[1:] {
				switch op {
				case '&':
					out &= at(s, j)
				case '|':
					out |= at(s, j)
				case '^':
					out ^= at(s, j)
				}
			}
			res[j] = out
		}
		existed := false
		_, err := c.mutate(args[2], false, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			if maxLen == 0 {
				d, ok := crdt.Del(cur, st)
				existed = ok
				return d, nil
			}
			d, _, err := crdt.Set(cur, st, res, crdt.SetOptions{})
			return d, err
		})
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.WriteInt(int64(maxLen))
		switch {
		case maxLen > 0:
			c.notify('$', "set", args[2])
		case existed:
			c.notify('g', "del", args[2])
		}
	})
}

// Overflow policies of BITFIELD.
const (
	owWrap = iota
	owSat
	owFail
)

// bfOp is one BITFIELD operation.
type bfOp struct {
	op     byte // 'g' GET, 's' SET, 'i' INCRBY
	signed bool
	bits   uint
	off    uint64
	val    int64
	ow     int
}

func getUnsigned(p []byte, off uint64, n uint) uint64 {
	var v uint64
	for j := uint(0); j < n; j++ {
		byt := off >> 3
		var b byte
		if byt < uint64(len(p)) {
			b = p[byt]
		}
		v = v<<1 | uint64(b>>(7-off&7))&1
		off++
	}
	return v
}

func getSigned(p []byte, off uint64, n uint) int64 {
	v := getUnsigned(p, off, n)
	if n < 64 && v&(1<<(n-1)) != 0 {
		v |= math.MaxUint64 << n
	}
	return int64(v)
}

func setUnsigned(p []byte, off uint64, n uint, v uint64) {
	for j := uint(0); j < n; j++ {
		bit := byte(v>>(n-1-j)) & 1
		byt, sh := off>>3, 7-off&7
		p[byt] = p[byt]&^(1<<sh) | bit<<sh
		off++
	}
}

// checkUnsigned is checkUnsignedBitfieldOverflow: whether value+incr
// leaves n bits, and the value the policy gives then.
func checkUnsigned(value uint64, incr int64, n uint, ow int) (bool, uint64) {
	maxV := uint64(math.MaxUint64)
	if n < 64 {
		maxV = 1<<n - 1
	}
	maxIncr := int64(maxV - value)
	minIncr := -int64(value)
	wrap := func() uint64 {
		r := value + uint64(incr)
		if n < 64 {
			r &= 1<<n - 1
		}
		return r
	}
	switch {
	case value > maxV || incr > 0 && incr > maxIncr:
		if ow == owWrap {
			return true, wrap()
		}
		return true, maxV
	case incr < 0 && incr < minIncr:
		if ow == owWrap {
			return true, wrap()
		}
		return true, 0
	}
	return false, 0
}

// checkSigned is checkSignedBitfieldOverflow.
func checkSigned(value, incr int64, n uint, ow int) (bool, int64) {
	maxV := int64(math.MaxInt64)
	if n < 64 {
		maxV = 1<<(n-1) - 1
	}
	minV := -maxV - 1
	maxIncr := int64(uint64(maxV) - uint64(value))
	minIncr := minV - value
	wrap := func() int64 {
		r := uint64(value) + uint64(incr)
		if n < 64 {
			if r&(1<<(n-1)) != 0 {
				r |= math.MaxUint64 << n
			} else {
				r &^= math.MaxUint64 << n
			}
		}
		return int64(r)
	}
	switch {
	case value > maxV || n != 64 && incr > maxIncr || value >= 0 && incr > 0 && incr > maxIncr:
		if ow == owWrap {
			return true, wrap()
		}
		return true, maxV
	case value < minV || n != 64 && incr < minIncr || value < 0 && incr < 0 && incr < minIncr:
		if ow == owWrap {
			return true, wrap()
		}
		return true, minV
	}
	return false, 0
}

// parseBitfieldType parses i1…i64 or u1…u63.
func parseBitfieldType(b []byte) (signed bool, n uint, ok bool) {
	if len(b) == 0 || b[0] != 'i' && b[0] != 'u' {
		return false, 0, false
	}
	signed = b[0] == 'i'
	v, ok := parseStrictInt(b[1:])
	if !ok || v < 1 || signed && v > 64 || !signed && v > 63 {
		return false, 0, false
	}
	return signed, uint(v), true
}

// parseBitfield parses BITFIELD's operations, replying Redis's error and
// returning ok false on a bad one. writes reports a SET or INCRBY; top is
// the highest bit they reach.
func (c *Conn) parseBitfield(args [][]byte) (ops []bfOp, writes bool, top uint64, ok bool) {
	ow := owWrap
	for j := 2; j < len(args); j++ {
		rem := len(args) - j - 1
		var op byte
		switch sub := args[j]; {
		case equalFold(sub, "get") && rem >= 2:
			op = 'g'
		case equalFold(sub, "set") && rem >= 3:
			op = 's'
		case equalFold(sub, "incrby") && rem >= 3:
			op = 'i'
		case equalFold(sub, "overflow") && rem >= 1:
			j++
			switch {
			case equalFold(args[j], "wrap"):
				ow = owWrap
			case equalFold(args[j], "sat"):
				ow = owSat
			case equalFold(args[j], "fail"):
				ow = owFail
			default:
				c.WriteError(msgOverflowTy)
				return nil, false, 0, false
			}
			continue
		default:
			c.WriteError(msgSyntax)
			return nil, false, 0, false
		}
		signed, n, okT := parseBitfieldType(args[j+1])
		if !okT {
			c.WriteError(msgBitfieldTy)
			return nil, false, 0, false
		}
		off, okO := parseBitOffset(args[j+2], true, int(n))
		if !okO {
			c.WriteError(msgBitOffset)
			return nil, false, 0, false
		}
		o := bfOp{op: op, signed: signed, bits: n, off: off, ow: ow}
		if op != 'g' {
			writes = true
			top = max(top, off+uint64(n)-1)
			v, okV := parseStrictInt(args[j+3])
			if !okV {
				c.WriteError(msgNotInt)
				return nil, false, 0, false
			}
			o.val = v
			j++
		}
		ops = append(ops, o)
		j += 2
	}
	return ops, writes, top, true
}

// bfReply is one BITFIELD reply element: a value, or null (FAIL).
type bfReply struct {
	n    int64
	null bool
}

// runBitfield applies ops to p in order (p holds every bit they write)
// and returns the replies and whether a written field changed.
func runBitfield(p []byte, ops []bfOp) ([]bfReply, bool) {
	out := make([]bfReply, 0, len(ops))
	changed := false
	for _, o := range ops {
		switch {
		case o.op == 'g' && o.signed:
			out = append(out, bfReply{n: getSigned(p, o.off, o.bits)})
		case o.op == 'g':
			out = append(out, bfReply{n: int64(getUnsigned(p, o.off, o.bits))})
		case o.signed:
			old := getSigned(p, o.off, o.bits)
			var nv, ret int64
			var over bool
			if o.op == 'i' {
				var w int64
				over, w = checkSigned(old, o.val, o.bits, o.ow)
				nv = int64(uint64(old) + uint64(o.val))
				if over {
					nv = w
				}
				ret = nv
			} else {
				var w int64
				nv = o.val
				if over, w = checkSigned(nv, 0, o.bits, o.ow); over {
					nv = w
				}
				ret = old
			}
			if over && o.ow == owFail {
				out = append(out, bfReply{null: true})
				continue
			}
			out = append(out, bfReply{n: ret})
			setUnsigned(p, o.off, o.bits, uint64(nv))
			changed = changed || old != nv
		default:
			old := getUnsigned(p, o.off, o.bits)
			var nv, ret uint64
			var over bool
			if o.op == 'i' {
				var w uint64
				nv = old + uint64(o.val)
				if over, w = checkUnsigned(old, o.val, o.bits, o.ow); over {
					nv = w
				}
				ret = nv
			} else {
				var w uint64
				nv = uint64(o.val)
				if over, w = checkUnsigned(nv, 0, o.bits, o.ow); over {
					nv = w
				}
				ret = old
			}
			if over && o.ow == owFail {
				out = append(out, bfReply{null: true})
				continue
			}
			out = append(out, bfReply{n: int64(ret)})
			setUnsigned(p, o.off, o.bits, nv)
			changed = changed || old != nv
		}
	}
	return out, changed
}

func cmdBitfield(c *Conn, args [][]byte)   { bitfield(c, args, false) }
func cmdBitfieldRO(c *Conn, args [][]byte) { bitfield(c, args, true) }

// bitfield is BITFIELD and BITFIELD_RO (GET only). With only GETs it is a
// read; otherwise one Rewrite of the string, grown to the highest bit
// written (the key is written if the string grew or a field changed).
func bitfield(c *Conn, args [][]byte, readOnly bool) {
	ops, writes, top, ok := c.parseBitfield(args)
	if !ok {
		return
	}
	var replies []bfReply
	if !writes {
		v, _, err := c.getString(args[1])
		if err != nil {
			c.WriteErr(err)
			return
		}
		replies, _ = runBitfield(v, ops)
	} else {
		if readOnly {
			c.WriteError(msgBitfieldRO)
			return
		}
		changed := false
		_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			return crdt.Rewrite(cur, st, func(v []byte, exists bool) ([]byte, bool, error) {
				p := grow(v, top>>3+1)
				var ch bool
				replies, ch = runBitfield(p, ops)
				changed = ch
				return p, ch || !exists || len(p) != len(v), nil
			})
		})
		if err != nil {
			c.WriteErr(err)
			return
		}
		defer func() {
			if changed {
				c.notify('$', "setbit", args[1])
			}
		}()
	}
	c.WriteArray(len(replies))
	for _, r := range replies {
		if r.null {
			c.WriteNull()
		} else {
			c.WriteInt(r.n)
		}
	}
}
