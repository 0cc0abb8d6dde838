package resp

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/script"
	"github.com/redis/go-redis/v9"
)

func scriptErr(msg, body string, line int) string {
	return "-" + msg + " script: " + script.SHA1([]byte(body)) + ", on @user_script:" + string(rune('0'+line)) + ".\r\n"
}

// TestScriptCommands: EVAL, EVALSHA, EVAL_RO, SCRIPT and the script's
// redis.call through the real handlers reply as redis-server 7.0 does
// (replies taken from it).
func TestScriptCommands(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	incr := "return redis.call('incr', KEYS[1])"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"}, "+OK\r\n"},
		{[]string{"EVAL", "return redis.call('get', KEYS[1])", "1", "k"}, "$1\r\nv\r\n"},
		{[]string{"EVAL", "return redis.call('get', 'nokey')", "0"}, "$-1\r\n"},
		{[]string{"EVAL", "return {1, 2.9, 'x', redis.call('exists', KEYS[1])}", "1", "k"}, "*4\r\n:1\r\n:2\r\n$1\r\nx\r\n:1\r\n"},
		{[]string{"EVAL", incr, "1", "k"}, scriptErr("ERR value is not an integer or out of range", incr, 1)},
		{[]string{"EVAL", "return redis.pcall('incr', KEYS[1])", "1", "k"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EVAL", "return redis.call('incr', 'x', 'y')", "0"}, scriptErr("ERR Wrong number of args calling Redis command from script", "return redis.call('incr', 'x', 'y')", 1)},
		{[]string{"EVAL", "return redis.call('nosuch')", "0"}, scriptErr("ERR Unknown Redis command called from script", "return redis.call('nosuch')", 1)},
		{[]string{"EVAL", "return redis.call('eval', 'return 1', '0')", "0"}, scriptErr("ERR This Redis command is not allowed from script", "return redis.call('eval', 'return 1', '0')", 1)},
		{[]string{"EVAL", "return redis.call('hello', '3')", "0"}, scriptErr("ERR This Redis command is not allowed from script", "return redis.call('hello', '3')", 1)},
		{[]string{"EVAL", "return redis.pcall('script', 'flush')", "0"}, "-ERR This Redis command is not allowed from script\r\n"},
		{[]string{"EVAL_RO", "return redis.call('set', KEYS[1], 'x')", "1", "k"}, scriptErr("ERR Write commands are not allowed from read-only scripts.", "return redis.call('set', KEYS[1], 'x')", 1)},
		{[]string{"EVAL_RO", "return redis.call('get', KEYS[1])", "1", "k"}, "$1\r\nv\r\n"},
		{[]string{"EVAL", "return os.time()", "0"}, scriptErr("ERR user_script:1: Script attempted to access nonexistent global variable 'os'", "return os.time()", 1)},
		{[]string{"EVAL", "x = 1", "0"}, scriptErr("ERR user_script:1: Attempt to modify a readonly table", "x = 1", 1)},
		{[]string{"EVAL", "return 1", "-1"}, "-ERR Number of keys can't be negative\r\n"},
		{[]string{"EVAL", "return 1", "2", "a"}, "-ERR Number of keys can't be greater than number of args\r\n"},
		{[]string{"EVAL", "return 1", "x"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EVAL", "return 1", "01"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EVAL", "return 1", "+1", "a"}, "-ERR value is not an integer or out of range\r\n"},
		{[]string{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}, "-NOSCRIPT No matching script. Please use EVAL.\r\n"},
		{[]string{"SCRIPT", "LOAD", "return 1"}, "$40\r\ne0e1f9fabfc9d4800c877a703b823ac0578ff8db\r\n"},
		{[]string{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"}, ":1\r\n"},
		{[]string{"EVALSHA_RO", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "0"}, ":1\r\n"},
		{[]string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "abc"}, "*2\r\n:1\r\n:0\r\n"},
		{[]string{"SCRIPT", "LOAD", "return x("}, "-ERR Error compiling script (new function): user_script:1: syntax error near '<eof>'\r\n"},
		{[]string{"SCRIPT", "FLUSH", "BAD"}, "-ERR SCRIPT FLUSH only support SYNC|ASYNC option\r\n"},
		{[]string{"SCRIPT", "FLUSH", "ASYNC"}, "+OK\r\n"},
		{[]string{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"}, "*1\r\n:0\r\n"},
		{[]string{"SCRIPT", "KILL"}, "-NOTBUSY No scripts in execution right now.\r\n"},
		{[]string{"CONFIG", "GET", "lua-time-limit"}, "*2\r\n$14\r\nlua-time-limit\r\n$4\r\n5000\r\n"},
		{[]string{"CONFIG", "SET", "busy-reply-threshold", "200"}, "+OK\r\n"},
		{[]string{"CONFIG", "GET", "lua-time-limit"}, "*2\r\n$14\r\nlua-time-limit\r\n$3\r\n200\r\n"},
		{[]string{"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{[]string{"HELLO", "3"}, ""},
		{[]string{"EVAL", "return redis.call('get', 'nokey')", "0"}, "_\r\n"},
		{[]string{"EVAL", "redis.setresp(3); return {redis.call('get', 'nokey') == nil, {double=1.5}}", "0"}, "*2\r\n#t\r\n,1.5\r\n"},
	} {
		got := r.do(tc.args...)
		if tc.want != "" && got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestScriptBusyKill: with a time limit of 0 a running script is busy at
// once: another client's command gets BUSY, SCRIPT KILL stops a script
// that has not written (its client gets the killed error) and refuses one
// that has (UNKILLABLE).
func TestScriptBusyKill(t *testing.T) {
	ts := startServer(t, Config{})
	a, b := dialRaw(t, ts.addr), dialRaw(t, ts.addr)
	if got := b.do("CONFIG", "SET", "lua-time-limit", "0"); got != "+OK\r\n" {
		t.Fatalf("CONFIG SET: %q", got)
	}
	busy := func() {
		t.Helper()
		for ts.scripts.Running() == 0 {
			time.Sleep(time.Millisecond) // the script starts; nothing timed is asserted
		}
		if got := b.do("GET", "x"); got != "-"+msgBusy+"\r\n" {
			t.Errorf("GET during a busy script: %q", got)
		}
	}
	loop := "while true do end"
	a.send(multibulk("EVAL", loop, "0"))
	busy()
	if got := b.do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Errorf("SCRIPT KILL: %q", got)
	}
	if got, want := a.reply(), scriptErr("ERR Script killed by user with SCRIPT KILL...", loop, 1); got != want {
		t.Errorf("killed script: got %q, want %q", got, want)
	}
	if got := b.do("GET", "x"); got != "$-1\r\n" {
		t.Errorf("GET after the kill: %q", got)
	}

	wrote := "redis.call('set', KEYS[1], '1') while true do end"
	a.send(multibulk("EVAL", wrote, "1", "k"))
	for ts.value("k") != "1" {
		time.Sleep(time.Millisecond) // the script has written
	}
	busy()
	if got := b.do("SCRIPT", "KILL"); got != "-"+msgUnkillable+"\r\n" {
		t.Errorf("SCRIPT KILL after a write: %q", got)
	}
	ts.cancel() // the server's context ends the script, as at shutdown
	if got := a.reply(); !strings.HasPrefix(got, "-ERR Script killed by user") {
		t.Errorf("script ended by the server's context: %q", got)
	}
}

// TestScriptGoRedis: go-redis's Script.Run sends EVALSHA, falls back to
// EVAL on NOSCRIPT, and the next Run is served from the cache.
func TestScriptGoRedis(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		s := redis.NewScript("return redis.call('incrby', KEYS[1], ARGV[1])")
		for i, want := range []int64{5, 10} {
			n, err := s.Run(bg, c, []string{"n"}, 5).Int64()
			if err != nil || n != want {
				t.Fatalf("Run %d: %d %v, want %d", i, n, err, want)
			}
		}
		if ok, err := s.Exists(bg, c).Result(); err != nil || !ok[0] {
			t.Errorf("SCRIPT EXISTS: %v %v", ok, err)
		}
	})
}

// TestScriptCluster: in a two-node cluster a script runs on its keys'
// coordinator, KEYS must share a slot, redis.call refuses keys of another
// slot (and a keyless script's writes this node does not coordinate), and
// a script loaded through one node runs through the other, even after the
// other alone lost it (EVALSHA is forwarded as EVAL with the body).
func TestScriptCluster(t *testing.T) {
	n1, n2, _ := startPair(t)
	mine, theirs := keysOf(2) // as n1 sees them
	r1, r2 := dialRaw(t, n1.addr), dialRaw(t, n2.addr)
	set := "return redis.call('set', KEYS[1], ARGV[1])"
	if got := r1.do("EVAL", set, "1", theirs[0], "v"); got != "+OK\r\n" {
		t.Fatalf("EVAL through n1 for n2's key: %q", got)
	}
	if n2.value(theirs[0]) != "v" || n1.value(theirs[0]) != "" {
		t.Errorf("the script ran on the wrong node: n1 %q, n2 %q", n1.value(theirs[0]), n2.value(theirs[0]))
	}
	for _, keys := range [][]string{{mine[0], theirs[0]}, {mine[0], mine[1]}} {
		if got := r1.do(append([]string{"EVAL", "return 1", "2"}, keys...)...); got != "-"+msgCrossSlot+"\r\n" {
			t.Errorf("EVAL with keys %q: %q", keys, got)
		}
	}
	other := "return redis.call('set', ARGV[1], 'x')"
	if got := r1.do("EVAL", other, "1", mine[0], mine[1]); got != scriptErr("ERR Script attempted to access a non local key in a cluster node script", other, 1) {
		t.Errorf("redis.call on another slot: %q", got)
	}
	if got := r1.do("EVAL", other, "0", theirs[1]); got != scriptErr("ERR Script attempted to access a non local key in a cluster node script", other, 1) {
		t.Errorf("keyless script writing n2's key on n1: %q", got)
	}
	// (A read is served by any node: the fake nodes do not replicate, so
	// n1 reads its own empty backend.)
	if got := r1.do("EVAL", "return redis.call('get', ARGV[1])", "0", theirs[0]); got != "$-1\r\n" {
		t.Errorf("keyless script reading n2's key on n1: %q", got)
	}

	get := "return redis.call('get', KEYS[1])"
	sha := r1.do("SCRIPT", "LOAD", get)
	sha = strings.TrimSuffix(sha[strings.Index(sha, "\n")+1:], "\r\n")
	for r2.do("SCRIPT", "EXISTS", sha) != "*1\r\n:1\r\n" {
		time.Sleep(time.Millisecond) // SCRIPT LOAD's copy to n2 is asynchronous
	}
	// n2 alone loses it (as a node that missed SCRIPT LOAD's best-effort
	// copy): SCRIPT FLUSH on a peer connection is not sent on.
	if got, err := (rawPeer{n2.addr, testSecret}).do(bg, [][]byte{[]byte("SCRIPT"), []byte("FLUSH")}); err != nil || string(got) != "+OK\r\n" {
		t.Fatalf("SCRIPT FLUSH on n2's peer connection: %q %v", got, err)
	}
	if got := r1.do("SCRIPT", "EXISTS", sha); got != "*1\r\n:1\r\n" {
		t.Fatalf("SCRIPT EXISTS on n1 after n2 alone flushed: %q", got)
	}
	if got := r1.do("EVALSHA", sha, "1", theirs[0]); got != "$1\r\nv\r\n" {
		t.Errorf("EVALSHA through n1 of a script n2 flushed: %q", got)
	}
	if got := r2.do("EVALSHA", sha, "1", theirs[0]); got != "$1\r\nv\r\n" {
		t.Errorf("EVALSHA on n2 after the forwarded EVAL: %q", got)
	}
}

// TestScriptLoneNodeAnySlot: a node alone in its cluster runs a script
// over keys of different slots (as Redis without cluster mode), while a
// node of a several-node cluster refuses them with CROSSSLOT.
func TestScriptLoneNodeAnySlot(t *testing.T) {
	one := &staticCluster{me: "n1", nodes: []ClusterNode{{ID: "n1", Host: "127.0.0.1", Port: 7001, Alive: true}}}
	r := dialRaw(t, startClusterServer(t, one).addr)
	body := "redis.call('set', KEYS[1], 'a') redis.call('set', KEYS[2], 'b') return redis.call('mget', ARGV[1], KEYS[2])"
	if got := r.do("EVAL", body, "2", "key:a", "key:b", "other"); got != "*2\r\n$-1\r\n$1\r\nb\r\n" {
		t.Errorf("lone node, keys of two slots: %q", got)
	}
	r3 := dialRaw(t, startClusterServer(t, threeNodes()).addr)
	if got := r3.do("EVAL", "return 1", "2", "key:a", "key:b"); got != "-"+msgCrossSlot+"\r\n" {
		t.Errorf("three nodes, keys of two slots: %q", got)
	}
}

// TestConformanceScripts sends the same scripts to a real Redis 7 and to
// the server and compares the replies byte for byte (RESP2, then RESP3).
// Left out, as they differ by nature: gopher-lua's own runtime and
// compile error texts ("attempt to index …"), and error({}), which
// crashes redis-server 7.0.15.
func TestConformanceScripts(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	cmds := [][]string{
		{"EVAL", "return redis.call('set', KEYS[1], ARGV[1])", "1", "k", "v"},
		{"EVAL", "return redis.call('get', KEYS[1])", "1", "k"},
		{"EVAL", "return {1, 2.9, 'x', redis.call('exists', KEYS[1]), nil, 5}", "1", "k"},
		{"EVAL", "return redis.call('incr', KEYS[1])", "1", "k"},
		{"EVAL", "return redis.pcall('incr', KEYS[1])", "1", "k"},
		{"EVAL", "local ok, e = pcall(redis.call, 'incr', KEYS[1]) return {tostring(ok), e}", "1", "k"},
		{"EVAL", "return redis.call('hset', 'h', 'f', 'v')", "0"},
		{"EVAL", "return redis.call('hgetall', 'h')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('hgetall', 'h')", "0"},
		{"EVAL", "return redis.call('sadd', 's', 'a', 'b')", "0"},
		{"EVAL", "return redis.call('smembers', 'nope')", "0"},
		{"EVAL", "return redis.call('type', 'k')", "0"},
		{"EVAL", "return redis.call('type', 'k').ok", "0"},
		{"EVAL", "return redis.call('incrbyfloat', 'f', '1.5')", "0"},
		{"EVAL", "return redis.call('set', 'n', 12345678901234567)", "0"},
		{"EVAL", "return {redis.call('get', 'n'), tostring(12345678901234567), tostring(0.1), tostring(1/0)}", "0"},
		{"EVAL", "return redis.call('get')", "0"},
		{"EVAL", "return redis.call('nosuch')", "0"},
		{"EVAL", "return redis.call('config', 'get', 'x')", "0"},
		{"EVAL", "return redis.call('eval', 'return 1', '0')", "0"},
		{"EVAL", "return redis.pcall('script', 'flush')", "0"},
		{"EVAL", "return redis.call()", "0"},
		{"EVAL", "return redis.call('get', {})", "0"},
		{"EVAL", "return os", "0"},
		{"EVAL", "return print", "0"},
		{"EVAL", "x = 1", "0"},
		{"EVAL", "string.x = 1", "0"},
		{"EVAL", "rawset(_G, 'x', 1)", "0"},
		{"EVAL", "return _G.y", "0"},
		{"EVAL", "return #KEYS + #ARGV", "2", "a", "b", "c"},
		{"EVAL", "return cjson.encode({a={1,2,3}})", "0"},
		{"EVAL", "return cjson.encode(cjson.decode('[1,\"x\",true,null]'))", "0"},
		{"EVAL", "return cjson.encode('a/b')", "0"},
		{"EVAL", "return {bit.tohex(255, 2), bit.rol(1, 33), bit.bswap(1), bit.arshift(-256, 4)}", "0"},
		{"EVAL", "return redis.sha1hex('abc')", "0"},
		{"EVAL", "return cmsgpack.pack({1, -1, 200, -200, 70000, 1.5, 'abc', true, false})", "0"},
		{"EVAL", "return cmsgpack.pack({a=1}, {}, 0.1, 2^40, -2^40, string.rep('x', 40))", "0"},
		{"EVAL", "return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", "0"},
		{"EVAL", "local t = cmsgpack.unpack(cmsgpack.pack({x={1, 'y'}})) return t.x", "0"},
		{"EVAL", "error()", "0"},
		{"EVAL", "error(1)", "0"},
		{"EVAL", "error('x', 0)", "0"},
		{"EVAL", "error({err='MY code'})", "0"},
		{"EVAL", "return redis.error_reply('-ERR x')", "0"},
		{"EVAL", "return {ok='x\\ny'}", "0"},
		{"EVAL", "return redis.status_reply()", "0"},
		{"EVAL", "return redis.setresp(4)", "0"},
		{"EVAL", "redis.log(99, 'x')", "0"},
		{"EVAL", "return {math.huge, -math.huge, 1.9, -1.9}", "0"},
		{"EVAL", "redis.setresp(3) return {true, false, {double=0.1}, {big_number='123'}, {verbatim_string={format='txt', string='x'}}, {map={a=1}}, {set={b=true}}}", "0"},
		{"EVAL", "return {true, false}", "0"},
		{"EVAL", "return redis.error_reply('boom')", "0"},
		{"EVAL", "return redis.error_reply('MY err')", "0"},
		{"EVAL", "return redis.error_reply('-MY err')", "0"},
		{"EVAL", "return redis.error_reply('-boom')", "0"},
		{"EVAL", "return redis.error_reply('')", "0"},
		{"EVAL", "return redis.error_reply('boom').err", "0"},
		{"EVAL", "error(redis.error_reply('boom'))", "0"},
		{"EVAL", "return {err='boom'}", "0"},
		{"EVAL", "return {err='X y'}", "0"},
		{"EVAL", "return {err='-X y'}", "0"},
		{"SET", "s", "abc"},
		{"EVAL", "return redis.pcall('incr', 's')", "0"},
		{"EVAL", "return {redis.pcall('incr', 's')}", "0"},
		{"EVAL", "return redis.pcall('incr', 's').err", "0"},
		{"EVAL", "return redis.pcall('nosuch')", "0"},
		{"EVAL", "return redis.pcall('get')", "0"},
		{"EVALSHA", "k1", "a", "b", "c", "d", "e", "f"},
		{"EVALSHA", "k1", "-1"},
		{"EVALSHA", "k1", "5", "a"},
		{"EVALSHA_RO", "k1", "x"},
		{"EVAL", "return (", "x"},
		{"EVAL", "return (", "5"},
		{"EVAL_RO", "return redis.call('del', KEYS[1])", "1", "k"},
		{"EVALSHA", "0000000000000000000000000000000000000000", "0"},
		{"EVALSHA", "abc", "0"},
		{"SCRIPT", "LOAD", "return 1"},
		{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "0"},
		{"EVALSHA", "E0E1F9FABFC9D4800C877A703B823AC0578FF8DB", "x"},
		{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "-1"},
		{"EVALSHA", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "2", "a"},
		{"SCRIPT", "EXISTS", "e0e1f9fabfc9d4800c877a703b823ac0578ff8db", "x"},
		{"SCRIPT", "FLUSH", "sync", "x"}, {"SCRIPT", "FLUSH"}, {"SCRIPT", "KILL"}, {"SCRIPT", "KILL", "x"},
		{"SCRIPT", "NOPE"}, {"EVAL"}, {"EVAL", "return 1"}, {"EVAL", "return 1", "-1"}, {"EVAL", "return 1", "3", "a"},
		{"COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"},
		{"CONFIG", "SET", "lua-time-limit", "-1"}, {"CONFIG", "SET", "busy-reply-threshold", "x"},
		{"CONFIG", "SET", "lua-time-limit", "4000"}, {"CONFIG", "GET", "busy-reply-threshold"},
		{"HELLO", "3"},
		{"EVAL", "return redis.call('get', 'nokey')", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('hgetall', 'h')", "0"},
		{"EVAL", "redis.call('sadd', 's1', 'a') redis.setresp(3) return redis.call('smembers', 's1')", "0"},
		{"EVAL", "redis.setresp(3) return {true, false, {double=0.1}, {big_number='123'}, {verbatim_string={format='txt', string='x'}}, {map={a=1}}, {set={b=true}}}", "0"},
		{"EVAL", "redis.setresp(3) return redis.call('incrbyfloat', 'f', '1')", "0"},
		{"EVAL", "return {true, false, nil}", "0"},
	}
	compareReplies(t, redisAddr, ts.addr, cmds)
}

// deadlineCluster is a parityCluster that records, for each forwarded
// command name, whether Forward's context had a deadline and how far off
// it was.
type deadlineCluster struct {
	*parityCluster
	mu   sync.Mutex
	seen map[string]time.Duration // name → time to the deadline, -1 if none
}

func (d *deadlineCluster) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	left := time.Duration(-1)
	if dl, ok := ctx.Deadline(); ok {
		left = time.Until(dl)
	}
	d.mu.Lock()
	d.seen[strings.ToUpper(string(args[0]))] = left
	d.mu.Unlock()
	return d.parityCluster.Forward(ctx, to, proto, args)
}

// TestScriptForwardWaitsForScript: a script (EVAL, EVALSHA) or EXEC
// block forwarded to its keys' coordinator is forwarded with a deadline
// years away (longForwardWait), which replaces Cluster.Forward's request
// timeout, so its client waits for the script's own reply however long it
// runs; an ordinary write is forwarded without a deadline (Forward's
// request timeout applies, as before).
func TestScriptForwardWaitsForScript(t *testing.T) {
	var dcs []*deadlineCluster
	n1, _, _ := startPairWith(t, func(p *parityCluster) Cluster {
		d := &deadlineCluster{parityCluster: p, seen: map[string]time.Duration{}}
		dcs = append(dcs, d)
		return d
	})
	_, theirs := keysOf(1) // n2's key
	r := dialRaw(t, n1.addr)
	for _, cmd := range [][]string{
		{"SET", theirs[0], "v"},
		{"EVAL", "return redis.call('set', KEYS[1], 'w')", "1", theirs[0]},
		{"EVALSHA", "0000000000000000000000000000000000000000", "1", theirs[0]},
		{"MULTI"}, {"SET", theirs[0], "x"}, {"EXEC"},
	} {
		r.do(cmd...)
	}
	d := dcs[0]
	d.mu.Lock()
	defer d.mu.Unlock()
	if left, ok := d.seen["SET"]; !ok || left != -1 {
		t.Errorf("SET forwarded with a deadline %v away (recorded %v), want none", left, ok)
	}
	for _, name := range []string{"EVAL", "EVALSHA", "DKV.EXEC"} {
		if left, ok := d.seen[name]; !ok || left < 24*time.Hour {
			t.Errorf("%s forwarded with a deadline %v away (recorded %v), want years", name, left, ok)
		}
	}
}

// TestScriptKillFlushCluster: SCRIPT KILL sent to any node kills a busy
// script running on another (a script forwarded to its keys' coordinator,
// or a keyless one run where it was sent), says UNKILLABLE when the only
// busy script has written, NOTBUSY when none runs anywhere; SCRIPT FLUSH
// sent to one node empties every node's cache.
func TestScriptKillFlushCluster(t *testing.T) {
	n1, n2, _ := startPair(t)
	_, theirs := keysOf(2) // n2's keys
	a, b1, b2 := dialRaw(t, n1.addr), dialRaw(t, n1.addr), dialRaw(t, n2.addr)
	for _, r := range []*rawClient{b1, b2} {
		if got := r.do("CONFIG", "SET", "lua-time-limit", "0"); got != "+OK\r\n" {
			t.Fatalf("CONFIG SET: %q", got)
		}
	}
	running := func(ts *testServer) {
		for ts.scripts.Running() == 0 {
			time.Sleep(time.Millisecond) // the script starts; nothing timed is asserted
		}
	}
	loop := "while true do end"
	a.send(multibulk("EVAL", loop, "1", theirs[0]))
	running(n2)
	if got := b1.do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Errorf("SCRIPT KILL on n1 of a script running on n2: %q", got)
	}
	if got, want := a.reply(), scriptErr("ERR Script killed by user with SCRIPT KILL...", loop, 1); got != want {
		t.Errorf("killed forwarded script: got %q, want %q", got, want)
	}
	a.send(multibulk("EVAL", loop, "0"))
	running(n1)
	if got := b2.do("SCRIPT", "KILL"); got != "+OK\r\n" {
		t.Errorf("SCRIPT KILL on n2 of a keyless script running on n1: %q", got)
	}
	if got, want := a.reply(), scriptErr("ERR Script killed by user with SCRIPT KILL...", loop, 1); got != want {
		t.Errorf("killed keyless script: got %q, want %q", got, want)
	}
	if got := b1.do("SCRIPT", "KILL"); got != "-"+msgNotBusy+"\r\n" {
		t.Errorf("SCRIPT KILL with no script running: %q", got)
	}

	sha := b1.do("SCRIPT", "LOAD", "return 1")
	sha = strings.TrimSuffix(sha[strings.Index(sha, "\n")+1:], "\r\n")
	for b2.do("SCRIPT", "EXISTS", sha) != "*1\r\n:1\r\n" {
		time.Sleep(time.Millisecond) // SCRIPT LOAD's copy to n2 is asynchronous
	}
	if got := b1.do("SCRIPT", "FLUSH", "SYNC"); got != "+OK\r\n" {
		t.Errorf("SCRIPT FLUSH: %q", got)
	}
	if got := b2.do("SCRIPT", "EXISTS", sha); got != "*1\r\n:0\r\n" {
		t.Errorf("SCRIPT EXISTS on n2 after SCRIPT FLUSH on n1: %q", got)
	}

	wrote := "redis.call('set', KEYS[1], '1') while true do end"
	a.send(multibulk("EVAL", wrote, "1", theirs[1]))
	for n2.value(theirs[1]) != "1" {
		time.Sleep(time.Millisecond) // the script has written
	}
	if got := b1.do("SCRIPT", "KILL"); got != "-"+msgUnkillable+"\r\n" {
		t.Errorf("SCRIPT KILL on n1 of a script that wrote on n2: %q", got)
	}
	n2.cancel() // the server's context ends the script, as at shutdown
}

// cancelCluster is a parityCluster whose Forward returns as soon as its
// context ends (the fake's raw peer connection does not watch it), and
// reports each forward's context error on ended.
type cancelCluster struct {
	*parityCluster
	ended chan error
}

func (cc *cancelCluster) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	type result struct {
		rep []byte
		err error
	}
	res := make(chan result, 1)
	go func() {
		rep, err := cc.parityCluster.Forward(ctx, to, proto, args)
		res <- result{rep, err}
	}()
	select {
	case r := <-res:
		cc.ended <- ctx.Err()
		return r.rep, r.err
	case <-ctx.Done():
		cc.ended <- ctx.Err()
		return nil, ctx.Err()
	}
}

// TestScriptForwardEndsWithClient: a forwarded script's wait for its
// reply ends when its client closes the connection (the forward's
// context is cancelled), though the script goes on on the coordinator.
func TestScriptForwardEndsWithClient(t *testing.T) {
	var ccs []*cancelCluster
	n1, n2, _ := startPairWith(t, func(p *parityCluster) Cluster {
		cc := &cancelCluster{parityCluster: p, ended: make(chan error, 4)}
		ccs = append(ccs, cc)
		return cc
	})
	_, theirs := keysOf(1)
	a := dialRaw(t, n1.addr)
	a.send(multibulk("EVAL", "while true do end", "1", theirs[0]))
	for n2.scripts.Running() == 0 {
		time.Sleep(time.Millisecond) // the script starts on n2; nothing timed is asserted
	}
	a.conn.Close()
	if err := <-ccs[0].ended; !errors.Is(err, context.Canceled) {
		t.Errorf("forward of a script whose client left ended with %v, want context.Canceled", err)
	}
	if n2.scripts.Running() != 1 {
		t.Errorf("scripts running on n2 after the client left: %d, want 1", n2.scripts.Running())
	}
	n2.cancel() // the server's context ends the script, as at shutdown
}

// TestConformanceScriptCommandStats: the commands a script runs through
// redis.call and redis.pcall count in INFO commandstats as Redis 7.0's
// do (calls, rejected_calls for arity, noscript and read-only refusals,
// failed_calls for error replies), compared with redis-server's rows
// without their timings.
func TestConformanceScriptCommandStats(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	script := [][]string{
		{"CONFIG", "RESETSTAT"},
		{"SET", "s", "abc"},
		{"EVAL", "redis.call('set', KEYS[1], '1'); redis.call('get', KEYS[1]); return redis.pcall('incr', 's')", "1", "a"},
		{"EVAL", "return redis.call('incr', 's')", "0"},
		{"EVAL", "return redis.pcall('nosuch')", "0"},
		{"EVAL", "redis.pcall('get'); redis.pcall('set', 'a'); redis.pcall('hset', 'a', 'f', 'v'); return redis.pcall('get', 'a')", "0"},
		{"EVAL", "return redis.pcall('script', 'flush')", "0"},
		{"EVAL_RO", "return redis.pcall('del', 'a')", "0"},
		{"EVAL", "redis.call('mset', 'x', '1', 'y', '2'); return redis.call('incrby', 'x', 5)", "0"},
	}
	rows := func(addr string) []string {
		c := dialRaw(t, addr)
		for _, args := range script {
			c.do(args...)
		}
		info := c.do("INFO", "commandstats")
		var out []string
		timing := regexp.MustCompile(`usec=\d+,usec_per_call=[\d.]+,`)
		for _, line := range strings.Split(info, "\r\n") {
			if strings.HasPrefix(line, "cmdstat_") && !strings.HasPrefix(line, "cmdstat_config|") {
				out = append(out, timing.ReplaceAllString(line, ""))
			}
		}
		slices.Sort(out)
		return out
	}
	want, got := rows(redisAddr), rows(ts.addr)
	if !slices.Equal(got, want) {
		t.Fatalf("commandstats:\n ours: %q\nredis: %q", got, want)
	}
}
