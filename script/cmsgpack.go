package script

import (
	"encoding/binary"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// maxPackNesting is lua-cmsgpack's LUACMSGPACK_MAX_NESTING: deeper tables
// are packed as nil.
const maxPackNesting = 16

// cmsgpackLib is Redis's cmsgpack (lua-cmsgpack): pack(...) encodes each
// argument as MessagePack and concatenates them; unpack(s) returns every
// value of s, unpack_one(s [, offset]) and unpack_limit(s, n [, offset])
// return the next offset (-1 at the end) and that many values.
func cmsgpackLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	t.RawSetString("pack", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		if n == 0 {
			L.RaiseError("MessagePack pack needs input.")
		}
		var b []byte
		for i := 1; i <= n; i++ {
			b = msgpackEncode(b, L.Get(i), 0)
		}
		L.Push(lua.LString(b))
		return 1
	}))
	unpack := func(L *lua.LState, s string, offset, limit int) int {
		if offset < 0 || offset > len(s) {
			L.RaiseError("Start offset %d greater than input length %d.", offset, len(s))
		}
		b := []byte(s[offset:])
		var out []lua.LValue
		for len(b) > 0 && (limit <= 0 || len(out) < limit) {
			v, rest, ok := msgpackDecode(L, b, 0)
			if !ok {
				L.RaiseError("Missing bytes in input.")
			}
			out = append(out, v)
			b = rest
		}
		if limit > 0 {
			next := len(s) - len(b)
			if len(b) == 0 {
				next = -1
			}
			L.Push(lua.LNumber(next))
		}
		for _, v := range out {
			L.Push(v)
		}
		if limit > 0 {
			return len(out) + 1
		}
		return len(out)
	}
	t.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, L.CheckString(1), 0, 0)
	}))
	t.RawSetString("unpack_one", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, L.CheckString(1), L.OptInt(2, 0), 1)
	}))
	t.RawSetString("unpack_limit", L.NewFunction(func(L *lua.LState) int {
		return unpack(L, L.CheckString(1), L.OptInt(3, 0), L.CheckInt(2))
	}))
	return t
}

func msgpackEncode(b []byte, v lua.LValue, depth int) []byte {
	switch v := v.(type) {
	case lua.LBool:
		if v {
			return append(b, 0xc3)
		}
		return append(b, 0xc2)
	case lua.LNumber:
		f := float64(v)
		if f == math.Trunc(f) && f >= math.MinInt64 && f < math.MaxInt64 && !math.IsInf(f, 0) {
			return msgpackInt(b, int64(f))
		}
		if float64(float32(f)) == f || math.IsNaN(f) {
			return binary.BigEndian.AppendUint32(append(b, 0xca), math.Float32bits(float32(f)))
		}
		return binary.BigEndian.AppendUint64(append(b, 0xcb), math.Float64bits(f))
	case lua.LString:
		n := len(v)
		switch {
		case n < 32:
			b = append(b, 0xa0|byte(n))
		case n <= 0xff:
			b = append(b, 0xd9, byte(n))
		case n <= 0xffff:
			b = binary.BigEndian.AppendUint16(append(b, 0xda), uint16(n))
		default:
			b = binary.BigEndian.AppendUint32(append(b, 0xdb), uint32(n))
		}
		return append(b, v...)
	case *lua.LTable:
		if depth >= maxPackNesting {
			return append(b, 0xc0)
		}
		if n, ok := luaArrayLen(v); ok {
			b = msgpackHeader(b, n, 0x90, 0xdc, 0xdd)
			for i := 1; i <= n; i++ {
				b = msgpackEncode(b, v.RawGetInt(i), depth+1)
			}
			return b
		}
		var kv []lua.LValue
		v.ForEach(func(k, val lua.LValue) { kv = append(kv, k, val) })
		b = msgpackHeader(b, len(kv)/2, 0x80, 0xde, 0xdf)
		for _, x := range kv {
			b = msgpackEncode(b, x, depth+1)
		}
		return b
	}
	return append(b, 0xc0)
}

// luaArrayLen is lua-cmsgpack's table_is_an_array: every key a positive
// integer and none missing from 1 to the largest.
func luaArrayLen(t *lua.LTable) (int, bool) {
	count, max, ok := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n, isNum := k.(lua.LNumber)
		if !isNum || n < 1 || float64(n) != math.Trunc(float64(n)) {
			ok = false
			return
		}
		count++
		max = int(math.Max(float64(max), float64(n)))
	})
	return max, ok && count == max
}

func msgpackHeader(b []byte, n int, fix, c16, c32 byte) []byte {
	switch {
	case n < 16:
		return append(b, fix|byte(n))
	case n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, c16), uint16(n))
	}
	return binary.BigEndian.AppendUint32(append(b, c32), uint32(n))
}

func msgpackInt(b []byte, n int64) []byte {
	switch {
	case n >= 0 && n <= 127:
		return append(b, byte(n))
	case n >= 0 && n <= 0xff:
		return append(b, 0xcc, byte(n))
	case n >= 0 && n <= 0xffff:
		return binary.BigEndian.AppendUint16(append(b, 0xcd), uint16(n))
	case n >= 0 && n <= 0xffffffff:
		return binary.BigEndian.AppendUint32(append(b, 0xce), uint32(n))
	case n >= 0:
		return binary.BigEndian.AppendUint64(append(b, 0xcf), uint64(n))
	case n >= -32:
		return append(b, byte(n))
	case n >= math.MinInt8:
		return append(b, 0xd0, byte(n))
	case n >= math.MinInt16:
		return binary.BigEndian.AppendUint16(append(b, 0xd1), uint16(n))
	case n >= math.MinInt32:
		return binary.BigEndian.AppendUint32(append(b, 0xd2), uint32(n))
	}
	return binary.BigEndian.AppendUint64(append(b, 0xd3), uint64(n))
}

// msgpackDecode decodes the first value of b; ok is false when b ends
// early or holds an unknown type.
func msgpackDecode(L *lua.LState, b []byte, depth int) (v lua.LValue, rest []byte, ok bool) {
	if len(b) == 0 || depth > maxDepth {
		return nil, nil, false
	}
	c, b := b[0], b[1:]
	need := func(n int) bool { return len(b) >= n }
	str := func(n int) (lua.LValue, []byte, bool) {
		if n < 0 || !need(n) {
			return nil, nil, false
		}
		return lua.LString(b[:n]), b[n:], true
	}
	num := func(size int) (uint64, bool) {
		if !need(size) {
			return 0, false
		}
		var u uint64
		for _, x := range b[:size] {
			u = u<<8 | uint64(x)
		}
		b = b[size:]
		return u, true
	}
	coll := func(n int, isMap bool) (lua.LValue, []byte, bool) {
		t := L.NewTable()
		for i := 1; i <= n; i++ {
			var k, val lua.LValue
			var ok bool
			if isMap {
				if k, b, ok = msgpackDecode(L, b, depth+1); !ok {
					return nil, nil, false
				}
			} else {
				k = lua.LNumber(i)
			}
			if val, b, ok = msgpackDecode(L, b, depth+1); !ok {
				return nil, nil, false
			}
			if k != lua.LNil {
				t.RawSet(k, val)
			}
		}
		return t, b, true
	}
	switch {
	case c <= 0x7f:
		return lua.LNumber(c), b, true
	case c >= 0xe0:
		return lua.LNumber(int8(c)), b, true
	case c&0xe0 == 0xa0:
		return str(int(c & 0x1f))
	case c&0xf0 == 0x90:
		return coll(int(c&0x0f), false)
	case c&0xf0 == 0x80:
		return coll(int(c&0x0f), true)
	}
	switch c {
	case 0xc0:
		return lua.LNil, b, true
	case 0xc2:
		return lua.LFalse, b, true
	case 0xc3:
		return lua.LTrue, b, true
	case 0xca:
		u, ok := num(4)
		return lua.LNumber(math.Float32frombits(uint32(u))), b, ok
	case 0xcb:
		u, ok := num(8)
		return lua.LNumber(math.Float64frombits(u)), b, ok
	case 0xcc, 0xcd, 0xce, 0xcf:
		u, ok := num(1 << (c - 0xcc))
		return lua.LNumber(float64(u)), b, ok
	case 0xd0, 0xd1, 0xd2, 0xd3:
		size := 1 << (c - 0xd0)
		u, ok := num(size)
		shift := 64 - 8*size
		return lua.LNumber(float64(int64(u<<shift) >> shift)), b, ok
	case 0xd9, 0xc4:
		n, ok := num(1)
		if !ok {
			return nil, nil, false
		}
		return str(int(n))
	case 0xda, 0xc5:
		n, ok := num(2)
		if !ok {
			return nil, nil, false
		}
		return str(int(n))
	case 0xdb, 0xc6:
		n, ok := num(4)
		if !ok {
			return nil, nil, false
		}
		return str(int(n))
	case 0xdc, 0xdd, 0xde, 0xdf:
		size := 2
		if c == 0xdd || c == 0xdf {
			size = 4
		}
		n, ok := num(size)
		if !ok || n > uint64(len(b)) { // every element takes a byte at least
			return nil, nil, false
		}
		return coll(int(n), c >= 0xde)
	}
	return nil, nil, false
}
