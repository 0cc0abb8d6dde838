package script

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// cjsonLib is Redis's cjson: encode, decode, and null (decode's JSON
// null, which encode turns back into null).
func cjsonLib(L *lua.LState) *lua.LTable {
	t := L.NewTable()
	null := L.NewUserData()
	t.RawSetString("null", null)
	t.RawSetString("encode", L.NewFunction(func(L *lua.LState) int {
		if L.GetTop() != 1 {
			L.RaiseError("bad argument #1 to 'encode' (expected 1 argument)")
		}
		var b []byte
		b, err := jsonEncode(b, L.Get(1), null, 0)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lua.LString(b))
		return 1
	}))
	t.RawSetString("decode", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		d := json.NewDecoder(bytes.NewReader([]byte(s)))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			L.RaiseError("Expected value but found invalid token: %s", err.Error())
		}
		if d.More() {
			L.RaiseError("Expected the end but found trailing data at character %d", d.InputOffset()+1)
		}
		lv, err := jsonToLua(L, v, null, 0)
		if err != nil {
			L.RaiseError("%s", err.Error())
		}
		L.Push(lv)
		return 1
	}))
	return t
}

func jsonToLua(L *lua.LState, v any, null lua.LValue, depth int) (lua.LValue, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("Found too many nested data structures (%d)", depth)
	}
	switch v := v.(type) {
	case nil:
		return null, nil
	case bool:
		return lua.LBool(v), nil
	case string:
		return lua.LString(v), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(v), 64)
		return lua.LNumber(f), err
	case []any:
		t := L.CreateTable(len(v), 0)
		for i, x := range v {
			lv, err := jsonToLua(L, x, null, depth+1)
			if err != nil {
				return nil, err
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	case map[string]any:
		t := L.CreateTable(0, len(v))
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys) // a deterministic table order
		for _, k := range keys {
			lv, err := jsonToLua(L, v[k], null, depth+1)
			if err != nil {
				return nil, err
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	}
	return nil, fmt.Errorf("unexpected JSON value %T", v)
}

// jsonEncode appends v's JSON as lua-cjson writes it.
func jsonEncode(b []byte, v lua.LValue, null lua.LValue, depth int) ([]byte, error) {
	if depth > maxDepth {
		return nil, fmt.Errorf("Cannot serialise, excessive nesting (%d)", depth)
	}
	switch x := v.(type) {
	case *lua.LNilType:
		return append(b, "null"...), nil
	case lua.LBool:
		return strconv.AppendBool(b, bool(x)), nil
	case lua.LNumber:
		f := float64(x)
		if math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, fmt.Errorf("Cannot serialise number: must not be NaN or Inf")
		}
		return append(b, formatNumber(f)...), nil
	case lua.LString:
		return jsonString(b, string(x)), nil
	case *lua.LTable:
		n, isArray, err := arrayLength(x)
		if err != nil {
			return nil, err
		}
		if isArray && n > 0 {
			b = append(b, '[')
			for i := 1; i <= n; i++ {
				if i > 1 {
					b = append(b, ',')
				}
				if b, err = jsonEncode(b, x.RawGetInt(i), null, depth+1); err != nil {
					return nil, err
				}
			}
			return append(b, ']'), nil
		}
		b = append(b, '{')
		first := true
		var ferr error
		x.ForEach(func(k, val lua.LValue) {
			if ferr != nil {
				return
			}
			var key string
			switch k := k.(type) {
			case lua.LString:
				key = string(k)
			case lua.LNumber:
				key = formatNumber(float64(k))
			default:
				ferr = fmt.Errorf("Cannot serialise table: table key must be a number or string")
				return
			}
			if !first {
				b = append(b, ',')
			}
			first = false
			b = jsonString(b, key)
			b = append(b, ':')
			b, ferr = jsonEncode(b, val, null, depth+1)
		})
		if ferr != nil {
			return nil, ferr
		}
		return append(b, '}'), nil
	}
	if v == null {
		return append(b, "null"...), nil
	}
	return nil, fmt.Errorf("Cannot serialise %s: type not supported", v.Type().String())
}

// arrayLength is lua-cjson's test: a table whose keys are all positive
// integers is an array of its largest key, unless excessively sparse.
func arrayLength(t *lua.LTable) (int, bool, error) {
	max, count, array := 0, 0, true
	t.ForEach(func(k, _ lua.LValue) {
		n, ok := k.(lua.LNumber)
		if !ok || float64(n) != math.Floor(float64(n)) || n < 1 {
			array = false
			return
		}
		max = int(math.Max(float64(max), float64(n)))
		count++
	})
	if !array {
		return 0, false, nil
	}
	if max > 10 && max > 2*count {
		return 0, false, fmt.Errorf("Cannot serialise table: excessively sparse array")
	}
	return max, true, nil
}

// jsonString appends s quoted as lua-cjson quotes it ('/' escaped too).
func jsonString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b = append(b, '\\', '"')
		case '\\':
			b = append(b, '\\', '\\')
		case '/':
			b = append(b, '\\', '/')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			if c < 0x20 || c == 0x7f {
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
			} else {
				b = append(b, c)
			}
		}
	}
	return append(b, '"')
}
