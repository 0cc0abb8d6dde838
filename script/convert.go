package script

import (
	"bytes"
	"errors"
	"math"
	"strconv"

	lua "github.com/yuin/gopher-lua"
)

// errBadReply reports a reply that is not one well-formed RESP value.
var errBadReply = errors.New("script: malformed reply")

// parseReply converts the first RESP2 or RESP3 value of b to Lua as
// Redis's redisProtocolToLuaType does, and returns the bytes after it.
func parseReply(L *lua.LState, b []byte, depth int) (lua.LValue, []byte, error) {
	if len(b) < 3 || depth > maxDepth {
		return nil, nil, errBadReply
	}
	i := bytes.Index(b, []byte("\r\n"))
	if i < 1 {
		return nil, nil, errBadReply
	}
	t, line, rest := b[0], string(b[1:i]), b[i+2:]
	field := func(name string, v lua.LValue) *lua.LTable {
		tb := L.NewTable()
		tb.RawSetString(name, v)
		return tb
	}
	switch t {
	case '+':
		return field("ok", lua.LString(line)), rest, nil
	case '-':
		return field("err", lua.LString(line)), rest, nil
	case ':':
		n, err := strconv.ParseInt(line, 10, 64)
		return lua.LNumber(n), rest, err
	case '_':
		return lua.LNil, rest, nil
	case '#':
		return lua.LBool(line == "t"), rest, nil
	case ',':
		f, err := strconv.ParseFloat(line, 64)
		return field("double", lua.LNumber(f)), rest, err
	case '(':
		return field("big_number", lua.LString(line)), rest, nil
	case '$', '=':
		n, err := strconv.Atoi(line)
		if err == nil && n == -1 {
			return lua.LFalse, rest, nil
		}
		if err != nil || n < 0 || n > len(rest)-2 {
			return nil, nil, errBadReply
		}
		s := string(rest[:n])
		rest = rest[n+2:]
		if t == '$' {
			return lua.LString(s), rest, nil
		}
		vt := L.NewTable()
		if len(s) >= 4 && s[3] == ':' {
			vt.RawSetString("format", lua.LString(s[:3]))
			s = s[4:]
		}
		vt.RawSetString("string", lua.LString(s))
		return field("verbatim_string", vt), rest, nil
	case '*', '~', '%', '>', '|':
		n, err := strconv.Atoi(line)
		if err != nil || n < -1 {
			return nil, nil, errBadReply
		}
		if n == -1 {
			return lua.LFalse, rest, nil
		}
		if t == '%' || t == '|' {
			m := L.NewTable()
			for range n {
				var k, v lua.LValue
				if k, rest, err = parseReply(L, rest, depth+1); err != nil {
					return nil, nil, err
				}
				if v, rest, err = parseReply(L, rest, depth+1); err != nil {
					return nil, nil, err
				}
				if k != lua.LNil {
					m.RawSet(k, v)
				}
			}
			if t == '|' { // an attribute: skipped, the value follows
				return parseReply(L, rest, depth)
			}
			return field("map", m), rest, nil
		}
		a := L.CreateTable(n, 0)
		for j := 1; j <= n; j++ {
			var v lua.LValue
			if v, rest, err = parseReply(L, rest, depth+1); err != nil {
				return nil, nil, err
			}
			if t == '~' {
				if v != lua.LNil {
					a.RawSet(v, lua.LTrue)
				}
			} else {
				a.RawSetInt(j, v)
			}
		}
		if t == '~' {
			return field("set", a), rest, nil
		}
		return a, rest, nil
	}
	return nil, nil, errBadReply
}

// appendValue appends the RESP encoding of a script's value v for a client
// of protocol proto, as Redis's luaReplyToRedisReply does; resp is the
// script's redis.setresp.
func appendValue(b []byte, v lua.LValue, resp, proto, depth int) []byte {
	if depth > maxDepth {
		return appendError(b, msgStackLimit)
	}
	switch v := v.(type) {
	case lua.LString:
		return appendBulk(b, string(v))
	case lua.LBool:
		switch {
		case resp == 3 && proto == 3 && bool(v):
			return append(b, "#t\r\n"...)
		case resp == 3 && proto == 3:
			return append(b, "#f\r\n"...)
		case bool(v):
			return append(b, ":1\r\n"...)
		case resp == 3:
			return append(b, ":0\r\n"...)
		}
		return appendNull(b, proto)
	case lua.LNumber:
		return appendInt(b, toInt(float64(v)))
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			return appendError(b, string(e))
		}
		if s, ok := v.RawGetString("ok").(lua.LString); ok {
			return append(appendLine(append(b, '+'), string(s)), '\r', '\n')
		}
		if resp == 3 {
			if b2, ok := appendResp3(b, v, resp, proto, depth); ok {
				return b2
			}
		}
		n := 0
		for v.RawGetInt(n+1) != lua.LNil {
			n++
		}
		b = appendHeader(b, '*', n)
		for i := 1; i <= n; i++ {
			b = appendValue(b, v.RawGetInt(i), resp, proto, depth+1)
		}
		return b
	}
	return appendNull(b, proto)
}

// appendResp3 encodes the RESP3 tables of a script that called
// redis.setresp(3): {double=…}, {big_number=…}, {map=…}, {set=…},
// {verbatim_string={format=…, string=…}}.
func appendResp3(b []byte, t *lua.LTable, resp, proto, depth int) ([]byte, bool) {
	if d, ok := t.RawGetString("double").(lua.LNumber); ok {
		s := formatDouble(float64(d))
		if proto == 3 {
			return append(append(append(b, ','), s...), '\r', '\n'), true
		}
		return appendBulk(b, s), true
	}
	if s, ok := t.RawGetString("big_number").(lua.LString); ok {
		if proto == 3 {
			return append(appendLine(append(b, '('), string(s)), '\r', '\n'), true
		}
		return appendBulk(b, string(s)), true
	}
	if m, ok := t.RawGetString("map").(*lua.LTable); ok {
		var kv []lua.LValue
		m.ForEach(func(k, v lua.LValue) { kv = append(kv, k, v) })
		if proto == 3 {
			b = appendHeader(b, '%', len(kv)/2)
		} else {
			b = appendHeader(b, '*', len(kv))
		}
		for _, x := range kv {
			b = appendValue(b, x, resp, proto, depth+1)
		}
		return b, true
	}
	if s, ok := t.RawGetString("set").(*lua.LTable); ok {
		var ks []lua.LValue
		s.ForEach(func(k, _ lua.LValue) { ks = append(ks, k) })
		if proto == 3 {
			b = appendHeader(b, '~', len(ks))
		} else {
			b = appendHeader(b, '*', len(ks))
		}
		for _, k := range ks {
			b = appendValue(b, k, resp, proto, depth+1)
		}
		return b, true
	}
	if vs, ok := t.RawGetString("verbatim_string").(*lua.LTable); ok {
		f, _ := vs.RawGetString("format").(lua.LString)
		s, _ := vs.RawGetString("string").(lua.LString)
		if proto != 3 {
			return appendBulk(b, string(s)), true
		}
		if len(f) != 3 {
			f = "txt"
		}
		b = appendHeader(b, '=', len(s)+4)
		b = append(append(append(b, f...), ':'), s...)
		return append(b, '\r', '\n'), true
	}
	return b, false
}

// toInt is Redis's (long long) cast of a Lua number: truncation toward
// zero (and 0 for NaN, the bounds for out-of-range values).
func toInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return math.MinInt64
	case f >= math.MaxInt64:
		return math.MinInt64
	case f <= math.MinInt64:
		return math.MinInt64
	}
	return int64(f)
}

// formatDouble is Redis's RESP3 double ("%.17g", inf, -inf, nan).
func formatDouble(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	return strconv.FormatFloat(f, 'g', 17, 64)
}

func appendHeader(b []byte, t byte, n int) []byte {
	b = append(b, t)
	b = strconv.AppendInt(b, int64(n), 10)
	return append(b, '\r', '\n')
}

func appendBulk(b []byte, s string) []byte {
	b = appendHeader(b, '$', len(s))
	b = append(b, s...)
	return append(b, '\r', '\n')
}

func appendInt(b []byte, n int64) []byte {
	b = append(b, ':')
	b = strconv.AppendInt(b, n, 10)
	return append(b, '\r', '\n')
}

func appendNull(b []byte, proto int) []byte {
	if proto == 3 {
		return append(b, "_\r\n"...)
	}
	return append(b, "$-1\r\n"...)
}

// appendLine appends s with newlines made spaces, so a reply cannot break
// the stream.
func appendLine(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\r' || c == '\n' {
			b = append(b, ' ')
		} else {
			b = append(b, c)
		}
	}
	return b
}

func appendError(b []byte, msg string) []byte {
	return append(appendLine(append(b, '-'), msg), '\r', '\n')
}
