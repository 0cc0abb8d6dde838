package script

import (
	"math"

	lua "github.com/yuin/gopher-lua"
)

// bitLib is LuaBitOp, as Redis bundles it: 32-bit operations on Lua
// numbers, results as signed 32-bit numbers.
func bitLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	fold := func(op func(a, b uint32) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			r := tobit(L, 1)
			for i := 2; i <= L.GetTop(); i++ {
				r = op(r, tobit(L, i))
			}
			L.Push(lua.LNumber(int32(r)))
			return 1
		}
	}
	shift := func(op func(x uint32, n uint) uint32) lua.LGFunction {
		return func(L *lua.LState) int {
			x, n := tobit(L, 1), uint(tobit(L, 2)&31)
			L.Push(lua.LNumber(int32(op(x, n))))
			return 1
		}
	}
	fns := map[string]lua.LGFunction{
		"tobit": fold(func(a, _ uint32) uint32 { return a }),
		"bnot": func(L *lua.LState) int {
			L.Push(lua.LNumber(int32(^tobit(L, 1))))
			return 1
		},
		"band":    fold(func(a, b uint32) uint32 { return a & b }),
		"bor":     fold(func(a, b uint32) uint32 { return a | b }),
		"bxor":    fold(func(a, b uint32) uint32 { return a ^ b }),
		"lshift":  shift(func(x uint32, n uint) uint32 { return x << n }),
		"rshift":  shift(func(x uint32, n uint) uint32 { return x >> n }),
		"arshift": shift(func(x uint32, n uint) uint32 { return uint32(int32(x) >> n) }),
		"rol":     shift(func(x uint32, n uint) uint32 { return x<<n | x>>((32-n)&31) }),
		"ror":     shift(func(x uint32, n uint) uint32 { return x>>n | x<<((32-n)&31) }),
		"bswap": func(L *lua.LState) int {
			x := tobit(L, 1)
			L.Push(lua.LNumber(int32(x>>24 | x>>8&0xff00 | x<<8&0xff0000 | x<<24)))
			return 1
		},
		"tohex": func(L *lua.LState) int {
			x := tobit(L, 1)
			n := int32(8)
			if L.GetTop() >= 2 {
				n = int32(tobit(L, 2))
			}
			digits := "0123456789abcdef"
			if n < 0 {
				n, digits = -n, "0123456789ABCDEF"
			}
			n = min(n, 8)
			buf := make([]byte, n)
			for i := n - 1; i >= 0; i-- {
				buf[i] = digits[x&15]
				x >>= 4
			}
			L.Push(lua.LString(buf))
			return 1
		},
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	return t
}

// tobit converts argument i to 32 bits as LuaBitOp does: the number
// rounded, modulo 2^32.
func tobit(L *lua.LState, i int) uint32 {
	f := float64(L.CheckNumber(i))
	f = math.Mod(math.RoundToEven(f), 4294967296)
	if f < 0 {
		f += 4294967296
	}
	return uint32(f)
}
