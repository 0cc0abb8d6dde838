package script

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// chunkName is the name Redis gives a script's chunk; error positions read
// "user_script:<line>:".
const chunkName = "user_script"

// maxDepth bounds the nesting of converted values (replies, tables,
// JSON), as Lua's C stack bounds Redis's.
const maxDepth = 1000

// maxString bounds a string a script builds with string.rep (Redis's
// proto-max-bulk-len): a script cannot make the node allocate without
// bound in one call.
const maxString = 512 << 20

// Error texts, Redis 7's.
const (
	msgReadonly   = "Attempt to modify a readonly table"
	msgNoArgs     = "ERR Please specify at least one argument for this redis lib call"
	msgBadArgs    = "ERR Lua redis lib command arguments must be strings or integers"
	msgKilled     = "ERR Script killed by user with SCRIPT KILL..."
	msgStackLimit = "ERR reached lua stack limit"
)

// sandbox is one Lua state with Redis's environment, serving one script
// at a time.
type sandbox struct {
	e         *Engine
	L         *lua.LState
	base      *lua.LTable // the globals a script may read
	env       *lua.LTable // the script's globals: a read-only proxy of base
	protected map[*lua.LTable]bool
	strMeta   *lua.LTable // getmetatable("") as scripts see it

	// The script being run.
	raised  map[*lua.LTable]bool // error tables raised by redis.call
	r       *run
	call    *Call
	sha     string
	resp    int // redis.setresp
	keys    *lua.LTable
	argv    *lua.LTable
	errLine int // line of the last error raised through our functions
}

func newSandbox(e *Engine) *sandbox {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       20000, // Lua 5.1's LUAI_MAXCALLS: recursion as deep as Redis's
		MinimizeStackMemory: true,  // grown as a script recurses, not allocated up front
		RegistrySize:        4096,
		RegistryMaxSize:     1 << 20, // values on the Lua stack (unpack of a long list of keys)
	})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	sb := &sandbox{e: e, L: L, base: L.NewTable(), protected: make(map[*lua.LTable]bool), raised: make(map[*lua.LTable]bool)}
	g := L.G.Global
	for _, name := range []string{
		"assert", "collectgarbage", "getmetatable", "next", "pcall", "rawequal", "rawget",
		"select", "tonumber", "tostring", "type", "unpack", "xpcall", "ipairs", "pairs", "_VERSION",
	} {
		sb.base.RawSetString(name, g.RawGetString(name))
	}
	str := g.RawGetString("string").(*lua.LTable)
	str.RawSetString("rep", L.NewFunction(strRep))
	for _, name := range []string{"string", "table", "math", "coroutine"} {
		sb.base.RawSetString(name, sb.readonly(g.RawGetString(name).(*lua.LTable), nil))
	}
	sb.base.RawSetString("error", L.NewFunction(sb.luaError))
	sb.base.RawSetString("pcall", L.NewFunction(sb.pcall))
	sb.base.RawSetString("tostring", L.NewFunction(luaToString(g.RawGetString("tostring"))))
	sb.base.RawSetString("rawset", L.NewFunction(sb.rawset))
	sb.base.RawSetString("setmetatable", L.NewFunction(sb.setmetatable))
	sb.base.RawSetString("getmetatable", L.NewFunction(sb.getmetatable))
	sb.base.RawSetString("redis", sb.readonly(sb.redisLib(), nil))
	sb.base.RawSetString("cjson", sb.readonly(cjsonLib(L), nil))
	sb.base.RawSetString("bit", sb.readonly(bitLib(L), nil))
	sb.base.RawSetString("cmsgpack", sb.readonly(cmsgpackLib(L), nil))
	strMeta := L.NewTable()
	strMeta.RawSetString("__index", sb.base.RawGetString("string"))
	sb.strMeta = sb.readonly(strMeta, nil)
	sb.env = sb.readonly(sb.base, L.NewFunction(sb.envIndex))
	sb.base.RawSetString("_G", sb.env)
	return sb
}

// readonly returns a proxy of t that reads through to t (or calls index)
// and refuses every assignment.
func (sb *sandbox) readonly(t *lua.LTable, index *lua.LFunction) *lua.LTable {
	L := sb.L
	p, mt := L.NewTable(), L.NewTable()
	if index != nil {
		mt.RawSetString("__index", index)
	} else {
		mt.RawSetString("__index", t)
	}
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError(msgReadonly)
		return 0
	}))
	mt.RawSetString("__metatable", L.NewTable())
	L.SetMetatable(p, mt)
	sb.protected[p] = true
	return p
}

// envIndex reads a global: KEYS, ARGV, or one of base, else Redis's
// nonexistent-global error.
func (sb *sandbox) envIndex(L *lua.LState) int {
	k := L.Get(2)
	switch k {
	case lua.LString("KEYS"):
		L.Push(sb.keys)
		return 1
	case lua.LString("ARGV"):
		L.Push(sb.argv)
		return 1
	}
	if v := sb.base.RawGet(k); v != lua.LNil {
		L.Push(v)
		return 1
	}
	L.RaiseError("Script attempted to access nonexistent global variable '%s'", lua.LVAsString(k))
	return 0
}

// line returns the current line of the innermost script frame.
func (sb *sandbox) line(L *lua.LState) int {
	for i := 0; ; i++ {
		dbg, ok := L.GetStack(i)
		if !ok {
			return 0
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err == nil && dbg.Source == chunkName && dbg.CurrentLine > 0 {
			return dbg.CurrentLine
		}
	}
}

// raise raises Redis's error table {err=msg}, at the script's line.
func (sb *sandbox) raise(L *lua.LState, msg string) int {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	sb.errLine = sb.line(L)
	t.RawSetString("line", lua.LNumber(sb.errLine))
	L.Error(t, 0)
	return 0
}

// luaError is error(v [, level]), remembering where a table was raised.
func (sb *sandbox) luaError(L *lua.LState) int {
	v := L.Get(1)
	sb.errLine = sb.line(L)
	if n, ok := v.(lua.LNumber); ok { // Lua positions numbers as strings
		v = lua.LString(numberString(float64(n)))
	}
	if t, ok := v.(*lua.LTable); ok && t.RawGetString("line") == lua.LNil && !sb.protected[t] {
		t.RawSetString("line", lua.LNumber(sb.errLine))
	}
	L.Error(v, L.OptInt(2, 1))
	return 0
}

// pcall is Lua's pcall, except that an error redis.call raised is caught
// as its message (a string), as Redis 7.0's pcall returns it.
func (sb *sandbox) pcall(L *lua.LState) int {
	v := L.CheckAny(1)
	if v.Type() != lua.LTFunction && L.GetMetaField(v, "__call").Type() != lua.LTFunction {
		L.Push(lua.LFalse)
		L.Push(lua.LString("attempt to call a " + v.Type().String() + " value"))
		return 2
	}
	if err := L.PCall(L.GetTop()-1, lua.MultRet, nil); err != nil {
		L.Push(lua.LFalse)
		ae, ok := err.(*lua.ApiError)
		switch {
		case !ok:
			L.Push(lua.LString(err.Error()))
		case isTable(ae.Object) && sb.raised[ae.Object.(*lua.LTable)]:
			L.Push(ae.Object.(*lua.LTable).RawGetString("err"))
		default:
			L.Push(ae.Object)
		}
		return 2
	}
	L.Insert(lua.LTrue, 1)
	return L.GetTop()
}

func isTable(v lua.LValue) bool { _, ok := v.(*lua.LTable); return ok }

// luaToString is tostring with Lua 5.1's number format ("%.14g", inf,
// -inf, nan).
func luaToString(orig lua.LValue) lua.LGFunction {
	return func(L *lua.LState) int {
		if n, ok := L.Get(1).(lua.LNumber); ok {
			L.Push(lua.LString(numberString(float64(n))))
			return 1
		}
		L.Push(orig)
		L.Push(L.CheckAny(1))
		L.Call(1, 1)
		return 1
	}
}

// numberString is Lua 5.1's tostring of a number, as glibc prints it.
func numberString(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "-nan" // 0/0 on x86
	}
	return strconv.FormatFloat(f, 'g', 14, 64)
}

func (sb *sandbox) rawset(L *lua.LState) int {
	t := L.CheckTable(1)
	if sb.protected[t] {
		return sb.raise(L, "ERR "+msgReadonly)
	}
	t.RawSet(L.CheckAny(2), L.CheckAny(3))
	L.Push(t)
	return 1
}

func (sb *sandbox) setmetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	if sb.protected[t] {
		return sb.raise(L, "ERR "+msgReadonly)
	}
	if mt, ok := t.Metatable.(*lua.LTable); ok && mt.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	switch mt := L.Get(2).(type) {
	case *lua.LNilType:
		L.SetMetatable(t, lua.LNil)
	case *lua.LTable:
		L.SetMetatable(t, mt)
	default:
		L.ArgError(2, "nil or table expected")
	}
	L.Push(t)
	return 1
}

func (sb *sandbox) getmetatable(L *lua.LState) int {
	v := L.CheckAny(1)
	if _, ok := v.(lua.LString); ok {
		L.Push(sb.strMeta)
		return 1
	}
	mt := L.GetMetatable(v)
	if t, ok := mt.(*lua.LTable); ok {
		if p := t.RawGetString("__metatable"); p != lua.LNil {
			L.Push(p)
			return 1
		}
	}
	L.Push(mt)
	return 1
}

// strRep is string.rep, bounded by maxString.
func strRep(L *lua.LState) int {
	s, n := L.CheckString(1), L.CheckInt(2)
	if n <= 0 || s == "" {
		L.Push(lua.LString(""))
		return 1
	}
	if len(s)*n/n != len(s) || len(s)*n > maxString {
		L.RaiseError("resulting string too large")
	}
	L.Push(lua.LString(strings.Repeat(s, n)))
	return 1
}

func (sb *sandbox) redisLib() *lua.LTable {
	L := sb.L
	t := L.NewTable()
	fns := map[string]lua.LGFunction{
		"call":               func(L *lua.LState) int { return sb.redisCall(L, false) },
		"pcall":              func(L *lua.LState) int { return sb.redisCall(L, true) },
		"error_reply":        func(L *lua.LState) int { return replyTable(L, "err") },
		"status_reply":       func(L *lua.LState) int { return replyTable(L, "ok") },
		"sha1hex":            sb.sha1hex,
		"log":                sb.log,
		"setresp":            sb.setresp,
		"set_repl":           func(L *lua.LState) int { return 0 },
		"replicate_commands": func(L *lua.LState) int { L.Push(lua.LTrue); return 1 },
	}
	for name, fn := range fns {
		t.RawSetString(name, L.NewFunction(fn))
	}
	for name, n := range map[string]int{
		"LOG_DEBUG": 0, "LOG_VERBOSE": 1, "LOG_NOTICE": 2, "LOG_WARNING": 3,
		"REPL_NONE": 0, "REPL_AOF": 1, "REPL_SLAVE": 2, "REPL_REPLICA": 2, "REPL_ALL": 3,
	} {
		t.RawSetString(name, lua.LNumber(n))
	}
	t.RawSetString("REDIS_VERSION", lua.LString(sb.e.cfg.Version))
	t.RawSetString("REDIS_VERSION_NUM", lua.LNumber(versionNum(sb.e.cfg.Version)))
	return t
}

// versionNum is Redis's REDIS_VERSION_NUM: 0x00MMmmpp.
func versionNum(v string) int {
	n := 0
	parts := strings.SplitN(v, ".", 3)
	for i := range 3 {
		d := 0
		if i < len(parts) {
			d, _ = strconv.Atoi(parts[i])
		}
		n = n<<8 | d&0xff
	}
	return n
}

// replyTable is redis.error_reply / redis.status_reply: {field=s}, an
// error's s given a code as Redis 7.0 does (errorCoded).
func replyTable(L *lua.LState, field string) int {
	t := L.NewTable()
	s, ok := L.Get(1).(lua.LString)
	if L.GetTop() != 1 || !ok {
		t.RawSetString("err", lua.LString("ERR wrong number or type of arguments"))
	} else {
		if field == "err" {
			s = lua.LString(errorCoded(string(s)))
		}
		t.RawSetString(field, s)
	}
	L.Push(t)
	return 1
}

// errorCoded is redis.error_reply's message as Redis 7.0 makes it
// (luaRedisErrorReplyCommand, luaPushErrorBuff): with a leading '-'
// added if missing, "-CODE msg" keeps its code (up to the first space),
// and a message without a space gets the code ERR; the message is
// trimmed of CR and LF at both ends.
func errorCoded(s string) string {
	s = strings.TrimPrefix(s, "-")
	code, msg, ok := strings.Cut(s, " ")
	if !ok {
		code, msg = "ERR", s
	}
	return code + " " + strings.Trim(msg, "\r\n")
}

func (sb *sandbox) sha1hex(L *lua.LState) int {
	if L.GetTop() != 1 {
		return sb.raise(L, "ERR wrong number of arguments")
	}
	h := sha1.Sum([]byte(lua.LVAsString(L.Get(1))))
	L.Push(lua.LString(hex.EncodeToString(h[:])))
	return 1
}

func (sb *sandbox) log(L *lua.LState) int {
	if L.GetTop() < 2 {
		return sb.raise(L, "ERR redis.log() requires two arguments or more.")
	}
	lv, ok := L.Get(1).(lua.LNumber)
	if !ok {
		return sb.raise(L, "ERR First argument must be a number (log level).")
	}
	if lv < 0 || lv > 3 {
		return sb.raise(L, "ERR Invalid debug level.")
	}
	var b strings.Builder
	for i := 2; i <= L.GetTop(); i++ {
		if i > 2 {
			b.WriteByte(' ')
		}
		b.WriteString(lua.LVAsString(L.Get(i)))
	}
	sb.e.cfg.Log(int(lv), b.String())
	return 0
}

func (sb *sandbox) setresp(L *lua.LState) int {
	if L.GetTop() != 1 {
		return sb.raise(L, "ERR redis.setresp() requires one argument.")
	}
	n, ok := L.Get(1).(lua.LNumber)
	if !ok || (n != 2 && n != 3) {
		return sb.raise(L, "ERR RESP version must be 2 or 3.")
	}
	sb.resp = int(n)
	return 0
}

// redisCall is redis.call (protected false: an error reply is raised) and
// redis.pcall (an error reply is returned as {err=…}).
func (sb *sandbox) redisCall(L *lua.LState, protected bool) int {
	fail := func(msg string) int {
		if protected {
			t := L.NewTable()
			t.RawSetString("err", lua.LString(msg))
			L.Push(t)
			return 1
		}
		return sb.raiseCall(L, msg)
	}
	n := L.GetTop()
	if n == 0 {
		return fail(msgNoArgs)
	}
	args := make([][]byte, n)
	for i := range n {
		switch v := L.Get(i + 1).(type) {
		case lua.LString:
			args[i] = []byte(v)
		case lua.LNumber:
			args[i] = []byte(strconv.FormatFloat(float64(v), 'g', 17, 64)) // Redis's "%.17g"
		default:
			return fail(msgBadArgs)
		}
	}
	rep, write := sb.call.Do(args, sb.resp)
	if write {
		sb.r.wrote.Store(true)
	}
	v, rest, err := parseReply(L, rep, 0)
	if err != nil || len(rest) != 0 {
		return fail("ERR " + fmt.Sprint("bad reply from command: ", strconv.Quote(string(rep))))
	}
	if t, ok := v.(*lua.LTable); ok && !protected {
		if e, ok := t.RawGetString("err").(lua.LString); ok && t.Len() == 0 {
			return sb.raiseCall(L, string(e))
		}
	}
	L.Push(v)
	return 1
}

// raiseCall raises the error of redis.call: an error table that pcall
// catches as its message.
func (sb *sandbox) raiseCall(L *lua.LState, msg string) int {
	t := L.NewTable()
	t.RawSetString("err", lua.LString(msg))
	sb.errLine = sb.line(L)
	t.RawSetString("line", lua.LNumber(sb.errLine))
	sb.raised[t] = true
	L.Error(t, 0)
	return 0
}

// formatNumber is Lua's number-to-string conversion ("%.14g").
func formatNumber(f float64) string { return strconv.FormatFloat(f, 'g', 14, 64) }

// run runs one script on the sandbox; reuse is false when the state must
// not serve another script (it was killed).
func (sb *sandbox) run(ctx context.Context, r *run, en *entry, call Call) (out []byte, reuse bool) {
	L := sb.L
	sb.r, sb.call, sb.sha, sb.resp, sb.errLine = r, &call, en.sha, 2, 0
	sb.keys, sb.argv = stringTable(L, call.Keys), stringTable(L, call.Args)
	defer func() {
		sb.r, sb.call, sb.keys, sb.argv = nil, nil, nil, nil
		clear(sb.raised)
		L.SetTop(0)
	}()
	L.SetContext(ctx)
	defer L.RemoveContext()
	fn := L.NewFunctionFromProto(en.proto)
	fn.Env = sb.env
	L.Push(fn)
	err := L.PCall(0, 1, nil)
	if r.killed.Load() || ctx.Err() != nil {
		line := sb.errLine
		if ae, ok := err.(*lua.ApiError); ok {
			if n := positionLine(lua.LVAsString(ae.Object)); n > 0 {
				line = n
			}
		}
		return appendError(nil, sb.errorSuffix(msgKilled, line)), false
	}
	if err != nil {
		ae, ok := err.(*lua.ApiError)
		if !ok {
			return appendError(nil, sb.errorSuffix("ERR "+err.Error(), sb.errLine)), false
		}
		return appendError(nil, sb.errorText(ae.Object)), true
	}
	v := L.Get(-1)
	return appendValue(nil, v, sb.resp, call.Proto, 0), true
}

var positionRE = regexp.MustCompile(`^` + chunkName + `:(\d+):`)

// positionLine returns the line of a message "user_script:<line>: …", 0
// for another message.
func positionLine(msg string) int {
	m := positionRE.FindStringSubmatch(msg)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// errorText is the error reply of a script that raised v: an error
// table's err, or "ERR " and the message, then where.
func (sb *sandbox) errorText(v lua.LValue) string {
	line := sb.errLine
	var msg string
	switch v := v.(type) {
	case *lua.LTable:
		if e, ok := v.RawGetString("err").(lua.LString); ok {
			msg = string(e)
			if n, ok := v.RawGetString("line").(lua.LNumber); ok {
				line = int(n)
			}
		} else {
			msg = "ERR unknown error" // a table without err (redis-server 7.0.15 crashes on it)
		}
	case lua.LString:
		msg = "ERR " + string(v)
		if n := positionLine(string(v)); n > 0 {
			line = n
		}
	case *lua.LNilType:
		msg = "ERR nil"
	default:
		msg = "ERR " + lua.LVAsString(v)
	}
	return sb.errorSuffix(msg, line)
}

func (sb *sandbox) errorSuffix(msg string, line int) string {
	if line <= 0 {
		line = 1
	}
	return fmt.Sprintf("%s script: %s, on @%s:%d.", msg, sb.sha, chunkName, line)
}

// stringTable returns the Lua array of ss.
func stringTable(L *lua.LState, ss [][]byte) *lua.LTable {
	t := L.CreateTable(len(ss), 0)
	for i, s := range ss {
		t.RawSetInt(i+1, lua.LString(s))
	}
	return t
}

// compileMessage turns gopher-lua's parse error into Lua's "user_script:
// <line>: <what>" form.
func compileMessage(err error, body []byte) string {
	msg := strings.TrimSpace(err.Error())
	if _, what, ok := strings.Cut(msg, chunkName+" at EOF:"); ok {
		return fmt.Sprintf("%s:%d: %s near '<eof>'", chunkName, 1+strings.Count(string(body), "\n"), strings.TrimSpace(what))
	}
	if m := regexp.MustCompile(`line:(\d+)\(column:\d+\) near '([^']*)':\s*(.*)$`).FindStringSubmatch(msg); m != nil {
		near := m[2]
		if near == "EOF" {
			near = "<eof>"
		}
		return fmt.Sprintf("%s:%s: %s near '%s'", chunkName, m[1], strings.TrimSpace(m[3]), near)
	}
	return msg
}
