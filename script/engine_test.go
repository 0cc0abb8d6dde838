package script

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeCaller is a tiny command set over a map: GET, SET, INCR, HGETALL
// (an empty map), PING, and anything else an unknown-command error.
type fakeCaller struct {
	mu   sync.Mutex
	data map[string]string
	log  [][]string
}

func (f *fakeCaller) do(args [][]byte, proto int) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ss []string
	for _, a := range args {
		ss = append(ss, string(a))
	}
	f.log = append(f.log, ss)
	null := "$-1\r\n"
	if proto == 3 {
		null = "_\r\n"
	}
	switch strings.ToLower(ss[0]) {
	case "ping":
		return []byte("+PONG\r\n"), false
	case "get":
		v, ok := f.data[ss[1]]
		if !ok {
			return []byte(null), false
		}
		return appendBulk(nil, v), false
	case "set":
		f.data[ss[1]] = ss[2]
		return []byte("+OK\r\n"), true
	case "incr":
		if len(ss) != 2 {
			return []byte("-ERR Wrong number of args calling Redis command from script\r\n"), false
		}
		n, err := strconv.ParseInt(f.data[ss[1]]+"0", 10, 64)
		if _, ok := f.data[ss[1]]; ok && err == nil {
			n /= 10
		} else if ok {
			return []byte("-ERR value is not an integer or out of range\r\n"), true
		}
		f.data[ss[1]] = strconv.FormatInt(n+1, 10)
		return appendInt(nil, n+1), true
	case "hgetall":
		if proto == 3 {
			return []byte("%1\r\n$1\r\nf\r\n$1\r\nv\r\n"), false
		}
		return []byte("*2\r\n$1\r\nf\r\n$1\r\nv\r\n"), false
	case "resp3":
		return []byte("*5\r\n,3.5\r\n#t\r\n(123\r\n~1\r\n$1\r\nm\r\n=7\r\ntxt:abc\r\n"), false
	}
	return []byte("-ERR Unknown Redis command called from script\r\n"), false
}

func newFake() *fakeCaller { return &fakeCaller{data: map[string]string{"str": "abc"}} }

func eval(e *Engine, f *fakeCaller, proto int, body string, keys ...string) string {
	var ks [][]byte
	for _, k := range keys {
		ks = append(ks, []byte(k))
	}
	return string(e.Run(context.Background(), Call{Body: []byte(body), Keys: ks, Proto: proto, Do: f.do}))
}

func sha(body string) string { return SHA1([]byte(body)) }

// TestConversions: Lua values become RESP replies as Redis converts them
// (the expected bytes are redis-server 7.0.15's).
func TestConversions(t *testing.T) {
	e := New(Config{})
	for _, tc := range []struct {
		proto      int
		body, want string
	}{
		{2, "return {err='bad'}", "-bad\r\n"},
		{2, "return redis.error_reply('My Error')", "-My Error\r\n"},
		{2, "return redis.status_reply('FINE')", "+FINE\r\n"},
		{2, "return {err=''}", "-\r\n"},
		{2, "return {1,2,3.9,'a',nil,5}", "*4\r\n:1\r\n:2\r\n:3\r\n$1\r\na\r\n"},
		{2, "return {true,false,1.5}", "*3\r\n:1\r\n$-1\r\n:1\r\n"},
		{2, "return nil", "$-1\r\n"},
		{2, "return true", ":1\r\n"},
		{2, "return 1.9", ":1\r\n"},
		{2, "return -1.9", ":-1\r\n"},
		{2, "return redis.call('get','nokey')", "$-1\r\n"},
		{2, "return redis.pcall('incr','x','y')", "-ERR Wrong number of args calling Redis command from script\r\n"},
		{2, "return type(redis.pcall('incr','x','y'))", "$5\r\ntable\r\n"},
		{2, "return redis.pcall('incr','x','y')['err']", "$58\r\nERR Wrong number of args calling Redis command from script\r\n"},
		{2, "return redis.sha1hex('')", "$40\r\nda39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"},
		{2, "return redis.call('ping')", "+PONG\r\n"},
		{2, "return redis.call('ping').ok", "$4\r\nPONG\r\n"},
		{2, "return redis.call('set', KEYS[1], 1.5)", "+OK\r\n"},
		{2, "redis.call('set', KEYS[1], 1.5) return redis.call('get', KEYS[1])", "$3\r\n1.5\r\n"},
		{2, "return redis.REDIS_VERSION", "$6\r\n7.0.15\r\n"},
		{2, "return redis.LOG_NOTICE", ":2\r\n"},
		{2, "redis.setresp(3); return redis.call('hgetall','h')", "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{2, "return redis.call('hgetall','h')", "*2\r\n$1\r\nf\r\n$1\r\nv\r\n"},
		{3, "redis.setresp(3); return {double=3.5}", ",3.5\r\n"},
		{2, "redis.setresp(3); return {double=3.5}", "$3\r\n3.5\r\n"},
		{3, "return true", ":1\r\n"},
		{3, "redis.setresp(3); return {true,false,{map={a=1}},{set={x=true}}}", "*4\r\n#t\r\n#f\r\n%1\r\n$1\r\na\r\n:1\r\n~1\r\n$1\r\nx\r\n"},
		{3, "redis.setresp(3); return redis.call('get','nokey') == nil", "#t\r\n"},
		{3, "return redis.call('get','nokey')", "_\r\n"},
		{3, "redis.setresp(3); return redis.call('hgetall','h').map.f", "$1\r\nv\r\n"},
		{3, "redis.setresp(3); local r = redis.call('resp3'); return {r[1].double, r[2], r[3].big_number, r[4].set.m, r[5].verbatim_string.string}", "*5\r\n:3\r\n#t\r\n$3\r\n123\r\n#t\r\n$3\r\nabc\r\n"},
		{2, "return redis.log(redis.LOG_WARNING,'hi')", "$-1\r\n"},
		{2, "return cjson.encode({1,2,{a=1}})", "$13\r\n[1,2,{\"a\":1}]\r\n"},
		{2, "return cjson.encode({})", "$2\r\n{}\r\n"},
		{2, "return cjson.encode(1e20)", "$5\r\n1e+20\r\n"},
		{2, "return cjson.encode(12345678901234)", "$14\r\n12345678901234\r\n"},
		{2, "return cjson.encode('a/b\"')", "$8\r\n\"a\\/b\\\"\"\r\n"},
		{2, "return cjson.decode('[1,2,{\"a\":null}]')[3].a == cjson.null", ":1\r\n"},
		{2, "return cjson.decode('{\"a\":[1,2]}').a[2]", ":2\r\n"},
		{2, "return bit.tohex(65535)", "$8\r\n0000ffff\r\n"},
		{2, "return bit.tohex(-1, -4)", "$4\r\nFFFF\r\n"},
		{2, "return bit.band(0xff, 0x0f)", ":15\r\n"},
		{2, "return bit.lshift(1,40)", ":256\r\n"},
		{2, "return bit.tobit(0xffffffff)", ":-1\r\n"},
		{2, "return bit.bnot(0)", ":-1\r\n"},
		{2, "return bit.arshift(-256,4)", ":-16\r\n"},
		{2, "return bit.rshift(-256,4)", ":268435440\r\n"},
		{2, "return bit.bxor(5,3,1)", ":7\r\n"},
		{2, "return string.rep('x',3)", "$3\r\nxxx\r\n"},
		{2, "local t = {} t.x = 1 return t.x", ":1\r\n"},
		{2, "return table.foo", "$-1\r\n"},
		{2, "return {KEYS[1], ARGV and #ARGV}", "*2\r\n$1\r\nk\r\n:0\r\n"},
		{2, "return math.floor(2.5)", ":2\r\n"},
		{2, "return redis.replicate_commands()", ":1\r\n"},
		{2, "return cmsgpack.pack({1, -1, 200, -200, 70000, 1.5, 'abc', true, false})", "$24\r\n\x99\x01\xff\xcc\xc8\xd1\xff8\xce\x00\x01\x11p\xca?\xc0\x00\x00\xa3abc\xc3\xc2\r\n"},
		{2, "local t = cmsgpack.unpack(cmsgpack.pack({a={1, 2, {b='c'}}, n=-5.25, big=2^40})) return {t.a[3].b, tostring(t.n), tostring(t.big), #t.a}", "*4\r\n$1\r\nc\r\n$5\r\n-5.25\r\n$13\r\n1099511627776\r\n:3\r\n"},
		{2, "return {cmsgpack.unpack(cmsgpack.pack(1, 'x', 3))}", "*3\r\n:1\r\n$1\r\nx\r\n:3\r\n"},
		{2, "local s = cmsgpack.pack(1, 2) local off, v = cmsgpack.unpack_one(s) local off2, w = cmsgpack.unpack_one(s, off) return {off, v, off2, w}", "*4\r\n:1\r\n:1\r\n:-1\r\n:2\r\n"},
		{2, "local t = {} for i = 1, 7000 do t[i] = i end return select('#', unpack(t))", ":7000\r\n"},
		{2, "local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(5000)", ":5000\r\n"},
		{2, "local ok, e = pcall(redis.call, 'incr', 'str') return e", "$43\r\nERR value is not an integer or out of range\r\n"},
		{2, "local ok, e = pcall(error, {err='x'}) return e", "-x\r\n"},
		{2, "return {tostring(1/0), tostring(-1/0), tostring(0/0), tostring(12345678901234567), tostring(0.1)}", "*5\r\n$3\r\ninf\r\n$4\r\n-inf\r\n$4\r\n-nan\r\n$19\r\n1.2345678901235e+16\r\n$3\r\n0.1\r\n"},
		{2, "redis.call('set', 'n', 12345678901234567) redis.call('set', 'm', 0.1) return {redis.call('get', 'n'), redis.call('get', 'm')}", "*2\r\n$17\r\n12345678901234568\r\n$19\r\n0.10000000000000001\r\n"},
		{2, "return redis.error_reply('-ERR x')", "-ERR x\r\n"},
		{2, "return redis.error_reply('boom')", "-ERR boom\r\n"},
		{2, "return redis.error_reply('-boom')", "-ERR boom\r\n"},
		{2, "return redis.error_reply('MY err')", "-MY err\r\n"},
		{2, "return redis.error_reply('-MY err')", "-MY err\r\n"},
		{2, "return redis.error_reply('')", "-ERR \r\n"},
		{2, "return redis.error_reply('MY err\\r\\n')", "-MY err\r\n"},
		{2, "return {err='X y'}", "-X y\r\n"},
		{2, "return {err='-X y'}", "--X y\r\n"},
		{2, "local e = redis.error_reply('boom') return e.err", "$8\r\nERR boom\r\n"},
	} {
		got := eval(e, newFake(), tc.proto, tc.body, "k")
		if got != tc.want {
			t.Errorf("RESP%d %s: got %q, want %q", tc.proto, tc.body, got, tc.want)
		}
	}
}

// TestErrors: scripts that fail get Redis's error replies, with the
// script's SHA1 and line; the sandbox refuses os, io, loadstring, require,
// dofile, loadfile and undeclared globals, and every write to a global or
// a library table.
func TestErrors(t *testing.T) {
	e := New(Config{})
	for _, tc := range []struct{ body, want string }{
		{"x = 1", "ERR user_script:1: Attempt to modify a readonly table"},
		{"return y", "ERR user_script:1: Script attempted to access nonexistent global variable 'y'"},
		{"return os.time()", "ERR user_script:1: Script attempted to access nonexistent global variable 'os'"},
		{"return io", "ERR user_script:1: Script attempted to access nonexistent global variable 'io'"},
		{"return loadstring('return 1')()", "ERR user_script:1: Script attempted to access nonexistent global variable 'loadstring'"},
		{"return load", "ERR user_script:1: Script attempted to access nonexistent global variable 'load'"},
		{"return require", "ERR user_script:1: Script attempted to access nonexistent global variable 'require'"},
		{"return dofile", "ERR user_script:1: Script attempted to access nonexistent global variable 'dofile'"},
		{"return loadfile", "ERR user_script:1: Script attempted to access nonexistent global variable 'loadfile'"},
		{"return _G.x", "ERR user_script:1: Script attempted to access nonexistent global variable 'x'"},
		{"string.x=1", "ERR user_script:1: Attempt to modify a readonly table"},
		{"redis.x=1", "ERR user_script:1: Attempt to modify a readonly table"},
		{"rawset(_G,'x',1)", "ERR Attempt to modify a readonly table"},
		{"setmetatable(_G,nil)", "ERR Attempt to modify a readonly table"},
		{"getmetatable('').__index.upper = nil", "ERR user_script:1: Attempt to modify a readonly table"},
		{"function f() end", "ERR user_script:1: Attempt to modify a readonly table"},
		{"return redis.call('incr','x','y')", "ERR Wrong number of args calling Redis command from script"},
		{"return redis.call('incr','str')", "ERR value is not an integer or out of range"},
		{"return redis.call('nosuch')", "ERR Unknown Redis command called from script"},
		{"return redis.call()", "ERR Please specify at least one argument for this redis lib call"},
		{"return redis.call({})", "ERR Lua redis lib command arguments must be strings or integers"},
		{"return redis.call('get',{})", "ERR Lua redis lib command arguments must be strings or integers"},
		{"error('boom')", "ERR user_script:1: boom"},
		{"error({err='X boom'})", "X boom"},
		{"error()", "ERR nil"},
		{"error(1)", "ERR user_script:1: 1"},
		{"error({})", "ERR unknown error"},
		{"return redis.setresp(4)", "ERR RESP version must be 2 or 3."},
		{"return redis.setresp()", "ERR redis.setresp() requires one argument."},
		{"redis.log(99,'x')", "ERR Invalid debug level."},
		{"return redis.sha1hex()", "ERR wrong number of arguments"},
		{"return cjson.encode(function() end)", "ERR user_script:1: Cannot serialise function: type not supported"},
	} {
		want := "-" + tc.want + " script: " + sha(tc.body) + ", on @user_script:1.\r\n"
		if got := eval(e, newFake(), 2, tc.body); got != want {
			t.Errorf("%s: got %q, want %q", tc.body, got, want)
		}
	}
	body := "local a = 1\nlocal b = 2\nreturn redis.call('incr','str')"
	if got, want := eval(e, newFake(), 2, body), "-ERR value is not an integer or out of range script: "+sha(body)+", on @user_script:3.\r\n"; got != want {
		t.Errorf("line 3: got %q, want %q", got, want)
	}
	if got, want := eval(e, newFake(), 2, "return x("), "-ERR Error compiling script (new function): user_script:1: "; !strings.HasPrefix(got, want) {
		t.Errorf("compile error: got %q, want prefix %q", got, want)
	}
	if got := eval(e, newFake(), 2, "return redis.status_reply()"); got != "-ERR wrong number or type of arguments\r\n" {
		t.Errorf("status_reply(): got %q", got)
	}
}

// TestCache: EVAL and SCRIPT LOAD cache by SHA1, EXISTS sees it in any
// case, FLUSH empties it, the bound evicts the least recently used, and a
// body that does not compile is not cached.
func TestCache(t *testing.T) {
	e := New(Config{MaxScripts: 2})
	s1, err := e.Load([]byte("return 1"))
	if err != nil || s1 != "e0e1f9fabfc9d4800c877a703b823ac0578ff8db" {
		t.Fatalf("Load: %q %v", s1, err)
	}
	if !e.Exists(strings.ToUpper(s1)) {
		t.Error("Exists(upper) = false")
	}
	if body, ok := e.Lookup(s1); !ok || string(body) != "return 1" {
		t.Errorf("Lookup: %q %v", body, ok)
	}
	eval(e, newFake(), 2, "return 2")
	if !e.Exists(sha("return 2")) {
		t.Error("EVAL did not cache its body")
	}
	e.Lookup(s1) // s1 becomes the most recently used
	e.Load([]byte("return 3"))
	if e.Len() != 2 || !e.Exists(s1) || e.Exists(sha("return 2")) || !e.Exists(sha("return 3")) {
		t.Errorf("after a third script: len %d, s1 %v, 2 %v, 3 %v", e.Len(), e.Exists(s1), e.Exists(sha("return 2")), e.Exists(sha("return 3")))
	}
	if _, err := e.Load([]byte("return x(")); !errors.Is(err, ErrCompile) {
		t.Errorf("Load(bad) = %v, want ErrCompile", err)
	}
	if e.Exists(sha("return x(")) {
		t.Error("a body that does not compile was cached")
	}
	e.Flush()
	if e.Len() != 0 || e.Exists(s1) {
		t.Error("Flush left scripts")
	}

	e = New(Config{MaxBytes: 20})
	e.Load([]byte("return 'aaaaaaaa'")) // 17 bytes
	e.Load([]byte("return 'b'"))        // 10: the first leaves
	if e.Len() != 1 || !e.Exists(sha("return 'b'")) {
		t.Errorf("byte bound: %d scripts, newest kept %v", e.Len(), e.Exists(sha("return 'b'")))
	}
	e.Load([]byte("return 'cccccccccccccccccccccccc'")) // larger than the bound: kept alone
	if e.Len() != 1 || !e.Exists(sha("return 'cccccccccccccccccccccccc'")) {
		t.Errorf("a body over the bound: %d scripts", e.Len())
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestKill: a script running past the limit makes Busy true; Kill stops a
// script that has not written (its caller gets Redis's killed error) and
// refuses one that has (ErrUnkillable); with nothing busy it is ErrNotBusy.
func TestKill(t *testing.T) {
	clk := &fakeClock{now: time.Unix(1000, 0)}
	e := New(Config{TimeLimit: 100 * time.Millisecond, Now: clk.Now})
	if err := e.Kill(); !errors.Is(err, ErrNotBusy) {
		t.Fatalf("Kill with nothing running = %v", err)
	}
	start := func(body string) chan string {
		done := make(chan string, 1)
		n := e.Running()
		go func() { done <- eval(e, newFake(), 2, body) }()
		for e.Running() == n {
			time.Sleep(time.Millisecond) // wait for the script to start: no timing asserted
		}
		return done
	}
	body := "while true do end"
	done := start(body)
	if e.Busy() {
		t.Error("Busy before the limit")
	}
	if err := e.Kill(); !errors.Is(err, ErrNotBusy) {
		t.Errorf("Kill before the limit = %v, want ErrNotBusy", err)
	}
	clk.add(100 * time.Millisecond)
	if !e.Busy() {
		t.Error("Busy = false after the limit")
	}
	if err := e.Kill(); err != nil {
		t.Fatalf("Kill = %v", err)
	}
	if got, want := <-done, "-ERR Script killed by user with SCRIPT KILL... script: "+sha(body)+", on @user_script:1.\r\n"; got != want {
		t.Errorf("killed script: got %q, want %q", got, want)
	}
	if e.Busy() {
		t.Error("Busy after the kill")
	}

	// pcall cannot swallow the kill.
	body = "while true do pcall(function() while true do end end) end"
	done = start(body)
	clk.add(time.Second)
	if err := e.Kill(); err != nil {
		t.Fatalf("Kill(pcall loop) = %v", err)
	}
	if got := <-done; !strings.HasPrefix(got, "-ERR Script killed by user with SCRIPT KILL...") {
		t.Errorf("killed pcall loop: got %q", got)
	}

	body = "redis.call('set','a','1') while true do end"
	done = start(body)
	clk.add(time.Second)
	if err := e.Kill(); !errors.Is(err, ErrUnkillable) {
		t.Errorf("Kill of a script that wrote = %v, want ErrUnkillable", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_ = ctx
	// End it the hard way (a server shutting down cancels its context).
	e.runMu.Lock()
	for r := range e.running {
		r.cancel()
	}
	e.runMu.Unlock()
	<-done
}
