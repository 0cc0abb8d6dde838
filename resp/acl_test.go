package resp

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/acl"
	"github.com/dynakv/dynakv/ring"
)

const (
	noPermCmd  = "-NOPERM this user has no permissions to run the '%s' command\r\n"
	noPermKey  = "-NOPERM this user has no permissions to access one of the keys used as arguments\r\n"
	noPermChan = "-NOPERM this user has no permissions to access one of the channels used as arguments\r\n"
)

// expect sends each command on r and checks its raw reply.
func expect(t *testing.T, r *rawClient, steps [][2]string) {
	t.Helper()
	for _, s := range steps {
		if got := r.do(strings.Fields(s[0])...); got != s[1] {
			t.Errorf("%s: got %q, want %q", s[0], got, s[1])
		}
	}
}

// TestACLAppUser is the case: a user limited to +@read +@write
// ~sess:* uses its keys and gets NOPERM for CONFIG, for other keys and
// for a multi-key command with one key outside its pattern. FLUSHALL is
// in @write (and @dangerous) in Redis 7.0, so such a user may run it, as
// in Redis; -@dangerous takes it away.
func TestACLAppUser(t *testing.T) {
	ts := startServer(t, Config{})
	admin := dialRaw(t, ts.addr)
	expect(t, admin, [][2]string{
		{"ACL SETUSER app on >x ~sess:* +@read +@write", "+OK\r\n"},
		{"SET other 1", "+OK\r\n"},
	})
	app := dialRaw(t, ts.addr)
	expect(t, app, [][2]string{
		{"AUTH app wrong", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"AUTH app x", "+OK\r\n"},
		{"ACL WHOAMI", fmt.Sprintf(noPermCmd, "acl|whoami")},
		{"SET sess:1 a", "+OK\r\n"},
		{"GET sess:1", "$1\r\na\r\n"},
		{"MSET sess:2 b sess:3 c", "+OK\r\n"},
		{"MGET sess:1 sess:2", "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
		{"GET other", noPermKey},
		{"SET other 2", noPermKey},
		{"MSET sess:4 d other e", noPermKey},
		{"DEL sess:1 other", noPermKey},
		{"CONFIG GET maxmemory", fmt.Sprintf(noPermCmd, "config|get")},
		{"CONFIG SET maxmemory 1", fmt.Sprintf(noPermCmd, "config|set")},
		{"PUBLISH news x", fmt.Sprintf(noPermCmd, "publish")},
		{"EXISTS sess:4", ":0\r\n"}, // MSET refused as a whole: nothing written
		{"SORT sess:l STORE other", noPermKey},
	})
	// A pipeline of plain single-key commands runs concurrently
	// (pipeline.go), with the connection's user.
	var batch strings.Builder
	for i := range 32 {
		if i%2 == 0 {
			batch.WriteString(multibulk("GET", "sess:1"))
		} else {
			batch.WriteString(multibulk("SET", fmt.Sprint("k", i), "v"))
		}
	}
	app.send(batch.String())
	for i := range 32 {
		want := "$1\r\na\r\n"
		if i%2 == 1 {
			want = noPermKey
		}
		if got := app.reply(); got != want {
			t.Errorf("pipelined command %d: %q, want %q", i, got, want)
		}
	}
	if v := ts.value("other"); v != "1" {
		t.Errorf("other = %q after refused writes", v)
	}
	expect(t, admin, [][2]string{{"ACL SETUSER app -@dangerous", "+OK\r\n"}})
	expect(t, app, [][2]string{{"FLUSHALL", fmt.Sprintf(noPermCmd, "flushall")}})
	expect(t, admin, [][2]string{{"ACL SETUSER app +@dangerous", "+OK\r\n"}})
	expect(t, app, [][2]string{{"FLUSHALL", "+OK\r\n"}})
}

// TestACLMultiExecScript: a refused command while queuing aborts EXEC; a
// permission revoked between queuing and EXEC refuses that command in
// EXEC's reply; redis.call is checked against the caller's user.
func TestACLMultiExecScript(t *testing.T) {
	ts := startServer(t, Config{})
	admin := dialRaw(t, ts.addr)
	expect(t, admin, [][2]string{{"ACL SETUSER app on nopass ~sess:* +@read +@write +@transaction +@scripting", "+OK\r\n"}})
	app := dialRaw(t, ts.addr)
	expect(t, app, [][2]string{
		{"AUTH app any", "+OK\r\n"},
		{"MULTI", "+OK\r\n"},
		{"SET sess:1 a", "+QUEUED\r\n"},
		{"SET other a", noPermKey},
		{"EXEC", "-EXECABORT Transaction discarded because of previous errors.\r\n"},
		{"MULTI", "+OK\r\n"},
		{"SET sess:1 a", "+QUEUED\r\n"},
		{"GET sess:1", "+QUEUED\r\n"},
	})
	expect(t, admin, [][2]string{{"ACL SETUSER app -get", "+OK\r\n"}})
	expect(t, app, [][2]string{
		{"EXEC", "*2\r\n+OK\r\n-" + acl.Denial{Reason: acl.ReasonCommand}.Exec() + "\r\n"},
		{"EVAL return(redis.pcall('set','other','v')) 0", "-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments\r\n"},
		{"EVAL return(redis.pcall('ping')) 0", "-ERR The user executing the script can't run this command or subcommand\r\n"},
		{"EVAL return(redis.call('set',KEYS[1],'v')) 1 other", noPermKey},
		{"EVAL return(redis.call('set',KEYS[1],'v')) 1 sess:9", "+OK\r\n"},
	})
	log := admin.do("ACL", "LOG")
	for _, want := range []string{"$3\r\nkey\r\n$7\r\ncontext\r\n$3\r\nlua\r\n$6\r\nobject\r\n$5\r\nother\r\n", "$7\r\ncommand\r\n$7\r\ncontext\r\n$5\r\nmulti\r\n$6\r\nobject\r\n$3\r\nget\r\n", "user=app"} {
		if !strings.Contains(log, want) {
			t.Errorf("ACL LOG lacks %q:\n%q", want, log)
		}
	}
	expect(t, admin, [][2]string{{"ACL LOG RESET", "+OK\r\n"}, {"ACL LOG", "*0\r\n"}})
}

// TestACLUsersLifecycle: HELLO AUTH, a disabled user (its connections
// stay, new AUTHs are refused), a deleted user (its connections are
// closed), the default user tied to requirepass, RESET.
func TestACLUsersLifecycle(t *testing.T) {
	ts := startServer(t, Config{RequirePass: "pw"})
	admin := dialRaw(t, ts.addr)
	expect(t, admin, [][2]string{
		{"PING", "-NOAUTH Authentication required.\r\n"},
		{"AUTH pw", "+OK\r\n"},
		{"ACL SETUSER app on >x ~* +@all -@dangerous", "+OK\r\n"},
	})
	app := dialRaw(t, ts.addr)
	if got := app.do("HELLO", "3", "AUTH", "app", "x"); !strings.HasPrefix(got, "%7\r\n") {
		t.Fatalf("HELLO 3 AUTH app x: %q", got)
	}
	expect(t, app, [][2]string{{"ACL WHOAMI", "$3\r\napp\r\n"}})
	expect(t, admin, [][2]string{{"ACL SETUSER app off", "+OK\r\n"}})
	expect(t, app, [][2]string{{"PING", "+PONG\r\n"}})
	other := dialRaw(t, ts.addr)
	expect(t, other, [][2]string{
		{"AUTH app x", "-WRONGPASS invalid username-password pair or user is disabled.\r\n"},
		{"AUTH default pw", "+OK\r\n"},
		{"ACL WHOAMI", "$7\r\ndefault\r\n"},
	})
	if got := admin.do("CLIENT", "LIST"); !strings.Contains(got, "user=app") {
		t.Errorf("CLIENT LIST does not show user=app: %q", got)
	}
	killed := dialRaw(t, ts.addr)
	expect(t, admin, [][2]string{{"ACL SETUSER bob on nopass +@all", "+OK\r\n"}})
	expect(t, killed, [][2]string{{"AUTH bob x", "+OK\r\n"}})
	expect(t, admin, [][2]string{
		{"CLIENT KILL USER nosuch", "-ERR No such user 'nosuch'\r\n"},
		{"CLIENT KILL USER bob", ":1\r\n"},
	})
	killed.expectEOF()
	expect(t, admin, [][2]string{
		{"ACL DELUSER default", "-ERR The 'default' user cannot be removed\r\n"},
		{"ACL DELUSER app nosuch bob", ":2\r\n"},
		{"ACL USERS", "*1\r\n$7\r\ndefault\r\n"},
	})
	app.expectEOF()
	expect(t, other, [][2]string{{"RESET", "+RESET\r\n"}, {"PING", "-NOAUTH Authentication required.\r\n"}})
}

// TestACLCommands: GETUSER, LIST, CAT, DRYRUN, GENPASS and the errors of
// SETUSER (each checked against redis-server by TestConformanceACL).
func TestACLCommands(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	h := acl.HashPassword([]byte("x"))
	line := "user app on #" + h + " ~sess:* resetchannels &news -@all +@write +@read"
	expect(t, r, [][2]string{
		{"ACL SETUSER app on >x ~sess:* &news +@write +@read", "+OK\r\n"},
		{"ACL GETUSER app", "*12\r\n$5\r\nflags\r\n*1\r\n$2\r\non\r\n$9\r\npasswords\r\n*1\r\n$64\r\n" + h + "\r\n$8\r\ncommands\r\n$20\r\n-@all +@write +@read\r\n$4\r\nkeys\r\n$7\r\n~sess:*\r\n$8\r\nchannels\r\n$5\r\n&news\r\n$9\r\nselectors\r\n*0\r\n"},
		{"ACL GETUSER nosuch", "$-1\r\n"},
		{"ACL LIST", fmt.Sprintf("*2\r\n$%d\r\n%s\r\n$34\r\nuser default on nopass ~* &* +@all\r\n", len(line), line)},
		{"ACL DRYRUN app get sess:1", "+OK\r\n"},
		{"ACL DRYRUN app get foo", "$52\r\nThis user has no permissions to access the 'foo' key\r\n"},
		{"ACL DRYRUN app ping", "$54\r\nThis user has no permissions to run the 'ping' command\r\n"},
		{"ACL DRYRUN nobody get x", "-ERR User 'nobody' not found\r\n"},
		{"ACL DRYRUN app nocmd", "-ERR Command 'nocmd' not found\r\n"},
		{"ACL DRYRUN app get", "-ERR wrong number of arguments for 'get' command\r\n"},
		{"ACL SETUSER app +foo", "-ERR Error in ACL SETUSER modifier '+foo': Unknown command or category name in ACL\r\n"},
		{"ACL SETUSER app allkeys ~x", "-ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns\r\n"},
		{"ACL CAT nosuch", "-ERR Unknown category 'nosuch'\r\n"},
		{"ACL GENPASS 0", "-ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096\r\n"},
		{"ACL LOAD", "-" + msgNoACLFile + "\r\n"},
	})
	if got := r.do("ACL", "CAT", "dangerous"); !strings.Contains(got, "\r\nflushall\r\n") || !strings.Contains(got, "\r\nconfig|set\r\n") || strings.Contains(got, "\r\nget\r\n") {
		t.Errorf("ACL CAT dangerous: %q", got)
	}
	expect(t, r, [][2]string{
		{"CONFIG SET slowlog-log-slower-than 0", "+OK\r\n"},
		{"ACL SETUSER x on >s3cret", "+OK\r\n"},
	})
	if got := r.do("SLOWLOG", "GET", "1"); strings.Contains(got, "s3cret") || !strings.Contains(got, "$3\r\nACL\r\n$7\r\nSETUSER\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n$10\r\n(redacted)\r\n") {
		t.Errorf("SLOWLOG of ACL SETUSER not redacted: %q", got)
	}
	if got := r.do("ACL", "GENPASS", "5"); len(got) != len("$2\r\nxx\r\n") {
		t.Errorf("ACL GENPASS 5: %q", got)
	}
	if got := r.do("COMMAND", "INFO", "get"); !strings.Contains(got, "~3\r\n+@read\r\n+@string\r\n+@fast\r\n") && !strings.Contains(got, "*3\r\n+@read\r\n+@string\r\n+@fast\r\n") {
		t.Errorf("COMMAND INFO get lacks its categories: %q", got)
	}
}

// TestACLFile: --aclfile is read at start, ACL SAVE writes it, ACL LOAD
// reads it all or nothing and closes the connections of the previous
// users.
func TestACLFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.acl")
	if err := os.WriteFile(path, []byte("user app on >x ~sess:* +@read\n\nuser default on nopass ~* &* +@all\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ts := startServer(t, Config{ACLFile: path})
	r := dialRaw(t, ts.addr)
	app := dialRaw(t, ts.addr)
	expect(t, app, [][2]string{{"AUTH app x", "+OK\r\n"}, {"GET sess:1", "$-1\r\n"}})
	expect(t, r, [][2]string{
		{"ACL SETUSER bob on nopass +ping", "+OK\r\n"},
		{"ACL SAVE", "+OK\r\n"},
	})
	data, err := os.ReadFile(path)
	if err != nil || !strings.Contains(string(data), "user bob on nopass resetchannels -@all +ping\n") {
		t.Fatalf("saved file %q, %v", data, err)
	}
	if err := os.WriteFile(path, []byte("user app on >x\nuser bad on +nosuch\nfoo\nuser app off\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("-ERR %[1]s:2: Error in applying operation '+nosuch': Unknown command or category name in ACL. %[1]s:3 should start with user keyword followed by the username. WARNING: Duplicate user 'app' found on line 4. WARNING: ACL errors detected, no change to the previously active ACL rules was performed\r\n", path)
	expect(t, r, [][2]string{{"ACL LOAD", want}, {"ACL USERS", "*3\r\n$3\r\napp\r\n$3\r\nbob\r\n$7\r\ndefault\r\n"}})
	if err := os.WriteFile(path, []byte("user app on >y\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	expect(t, r, [][2]string{{"ACL LOAD", "+OK\r\n"}, {"ACL USERS", "*2\r\n$3\r\napp\r\n$7\r\ndefault\r\n"}})
	app.expectEOF()
	os.Remove(path)
	expect(t, r, [][2]string{{"ACL LOAD", "-ERR Error loading ACLs, opening file '" + path + "': No such file or directory\r\n"}})
}

// TestACLForwarded: the check runs on the node the client is connected
// to, before a write is forwarded; the other node, which has no such
// user, runs the forwarded write on its peer connection unchecked.
func TestACLForwarded(t *testing.T) {
	n1, n2, cls := startPair(t)
	mine, theirs := keysOf(4)
	r := dialRaw(t, n1.addr)
	expect(t, r, [][2]string{
		{"ACL SETUSER app on >x ~" + theirs[0] + " ~" + mine[0] + " +@write +@read", "+OK\r\n"},
		{"AUTH app x", "+OK\r\n"},
		{"SET " + theirs[0] + " v", "+OK\r\n"},
		{"SET " + mine[0] + " v", "+OK\r\n"},
	})
	if n2.value(theirs[0]) != "v" || n1.value(mine[0]) != "v" {
		t.Fatalf("allowed writes not applied: %q %q", n2.value(theirs[0]), n1.value(mine[0]))
	}
	before := cls[0].forwards.Load()
	expect(t, r, [][2]string{
		{"SET " + theirs[1] + " v", noPermKey},
		{"MSET " + mine[0] + " w " + theirs[1] + " w", noPermKey},
	})
	if got := cls[0].forwards.Load(); got != before {
		t.Errorf("a refused write was forwarded (%d forwards)", got-before)
	}
	if n2.value(theirs[1]) != "" || n1.value(mine[0]) != "v" {
		t.Errorf("refused writes applied")
	}
	if n2.Server.acl.users.User("app") != nil {
		t.Errorf("ACL SETUSER propagated to the other node")
	}

	// A script or an EXEC block forwarded to n2 carries the user's rules
	// (DKV.ACL): what it runs there is checked as on n1.
	tag := ""
	for i := 0; tag == ""; i++ {
		if k := fmt.Sprintf("{t%d}", i); ring.Slot([]byte(k))%2 == 1 {
			tag = k
		}
	}
	ok, no := "a"+tag, "b"+tag // n2's, one slot
	admin := dialRaw(t, n1.addr)
	expect(t, admin, [][2]string{{"ACL SETUSER app ~" + ok + " +@scripting +@transaction", "+OK\r\n"}})
	expect(t, r, [][2]string{
		{"EVAL return(redis.call('set',KEYS[1],'v')) 1 " + ok, "+OK\r\n"},
		{"EVAL return(redis.pcall('set','" + no + "','v')) 1 " + ok, "-ERR The user executing the script can't access at least one of the keys mentioned in the command arguments\r\n"},
		{"EVAL return(redis.pcall('ping')) 1 " + ok, "-ERR The user executing the script can't run this command or subcommand\r\n"},
		{"MULTI", "+OK\r\n"},
		{"SET " + ok + " w", "+QUEUED\r\n"},
		{"INCR " + ok, "+QUEUED\r\n"},
	})
	if n2.value(ok) != "v" || n2.value(no) != "" {
		t.Errorf("scripts on n2: %s=%q %s=%q", ok, n2.value(ok), no, n2.value(no))
	}
	expect(t, admin, [][2]string{{"ACL SETUSER app -incr", "+OK\r\n"}})
	expect(t, r, [][2]string{{"EXEC", "*2\r\n+OK\r\n-" + acl.Denial{Reason: acl.ReasonCommand}.Exec() + "\r\n"}})
	if n2.value(ok) != "w" {
		t.Errorf("EXEC block on n2: %s=%q", ok, n2.value(ok))
	}
}

// TestConformanceACL runs the same ACL session against redis-server and
// dynakv, on an administrator's connection and an application user's,
// and compares every reply byte for byte: the NOPERM texts, SETUSER's
// errors, GETUSER (RESP2 and RESP3), LIST, DRYRUN, CAT, the script and
// MULTI cases. The rules are given in the order Redis 7.0 renders them
// (see package acl on how the renderings may otherwise differ).
func TestConformanceACL(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	type side struct {
		admin, app rawPair
	}
	open := func(addr string) side {
		ac, ar := dialPair(t, addr)
		pc, pr := dialPair(t, addr)
		return side{rawPair{ac, ar}, rawPair{pc, pr}}
	}
	sides := [2]side{open(redisAddr), open(ts.addr)}
	steps := []struct {
		app  bool
		args string
	}{
		{false, "ACL SETUSER app on >x ~sess:* &news +@write +@read"},
		{false, "ACL GETUSER app"},
		{false, "ACL LIST"},
		{false, "ACL USERS"},
		{false, "ACL WHOAMI"},
		{false, "ACL CAT"},
		{false, "ACL SETUSER app +nosuch"},
		{false, "ACL SETUSER app +@nosuch"},
		{false, "ACL SETUSER app +config|nosuch"},
		{false, "ACL SETUSER app bogus"},
		{false, "ACL SETUSER app %X~a"},
		{false, "ACL SETUSER app <nope"},
		{false, "ACL SETUSER app #abc"},
		{false, "ACL SETUSER t ~a allkeys ~b"},
		{false, "ACL SETUSER t &a allchannels &b"},
		{false, "ACL GETUSER t"},
		{false, "ACL DRYRUN app get sess:1"},
		{false, "ACL DRYRUN app get other"},
		{false, "ACL DRYRUN app config get maxmemory"},
		{false, "ACL DRYRUN app publish news x"},
		{false, "ACL DRYRUN nobody get x"},
		{false, "ACL DRYRUN app nocmd"},
		{false, "ACL DRYRUN app get"},
		{false, "ACL DELUSER default"},
		{false, "ACL GENPASS 0"},
		{false, "ACL GENPASS 4097"},
		{false, "ACL CAT nosuch"},
		{false, "ACL LOG -1"},
		{false, "ACL CAT a b"},
		{false, "ACL LOG 1 2"},
		{false, "ACL GENPASS 1 2"},
		{false, "ACL GETUSER"},
		{false, "ACL NOSUCH"},
		{false, "ACL SETUSER a\x00b"},
		{false, "AUTH x"},
		{true, "AUTH app wrong"},
		{true, "AUTH nobody x"},
		{true, "AUTH app x"},
		{true, "ACL WHOAMI"},
		{true, "SET sess:1 a"},
		{true, "GET sess:1"},
		{true, "GET other"},
		{true, "MSET sess:2 b other c"},
		{true, "DEL sess:2 other"},
		{true, "CONFIG GET maxmemory"},
		{true, "CONFIG SET maxmemory 0"},
		{true, "PUBLISH news x"},
		{true, "PING"},
		{true, "EVAL return(redis.call('get','other')) 0"},
		{true, "EVAL return(redis.pcall('get','other')) 0"},
		{true, "EVAL return(redis.call('get',KEYS[1])) 1 other"},
		{true, "MULTI"},
		{false, "ACL SETUSER app +@transaction +publish"},
		{true, "MULTI"},
		{true, "SET sess:3 x"},
		{true, "GET other"},
		{true, "EXEC"},
		{true, "MULTI"},
		{true, "SET sess:3 x"},
		{false, "ACL SETUSER app -set"},
		{true, "EXEC"},
		{true, "PUBLISH other x"},
		{true, "PUBLISH news x"},
		{true, "FLUSHALL"},
		{false, "ACL SETUSER app -@dangerous"},
		{true, "FLUSHALL"},
		{false, "ACL SETUSER app off"},
		{true, "PING"},
		{false, "HELLO 3"},
		{false, "ACL GETUSER t"},
		{false, "ACL SETUSER app on"},
		{true, "HELLO 3 AUTH app x"},
		{true, "CONFIG GET maxmemory"},
		{false, "ACL DELUSER app nosuch"},
		{false, "CONFIG SET requirepass pw"},
		{false, "CONFIG GET requirepass"},
		{false, "ACL LIST"},
		{false, "ACL WHOAMI"},
	}
	for _, s := range steps {
		var replies [2]string
		for i, sd := range sides {
			p := sd.admin
			if s.app {
				p = sd.app
			}
			replies[i] = exchange(t, p.c, p.r, strings.Fields(s.args))
		}
		if normalize(replies[0]) != normalize(replies[1]) {
			t.Errorf("%s:\n redis: %q\n   ours: %q", s.args, replies[0], replies[1])
		}
	}
	for i, sd := range sides { // both closed the deleted user's connection
		sd.app.c.SetDeadline(time.Now().Add(5 * time.Second))
		if b, err := sd.app.r.ReadByte(); err == nil {
			t.Errorf("side %d: the deleted user's connection got %q", i, b)
		}
	}
}

type rawPair struct {
	c net.Conn
	r *bufio.Reader
}

// TestACLCategoriesMatchRedis compares COMMAND INFO's ACL categories of
// every command dynakv shares with redis-server with Redis's own, and
// checks that every such command is in redisACL.
func TestACLCategoriesMatchRedis(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	rc, rr := dialPair(t, redisAddr)
	oc, or := dialPair(t, ts.addr)
	shared := 0
	for _, ac := range ts.acl.cat.Commands() {
		if ts.hiddenCommand(ac.Name) {
			continue
		}
		want := exchange(t, rc, rr, []string{"COMMAND", "INFO", ac.Name})
		if want == "*1\r\n$-1\r\n" || want == "*1\r\n*-1\r\n" { // not a Redis command
			continue
		}
		shared++
		if _, ok := redisACL[ac.Name]; !ok {
			t.Errorf("%s: a Redis command missing from redisACL", ac.Name)
		}
		got := exchange(t, oc, or, []string{"COMMAND", "INFO", ac.Name})
		if wc, gc := infoCategories(want), infoCategories(got); wc != gc {
			t.Errorf("%s: categories %q, Redis's %q", ac.Name, gc, wc)
		}
	}
	if shared < 200 {
		t.Errorf("only %d commands shared with Redis", shared)
	}
}

// infoCategories extracts the ACL categories ("+@read\r\n+@string…")
// from a raw COMMAND INFO reply of one command.
func infoCategories(raw string) string {
	i := strings.Index(raw, "+@")
	if i < 0 {
		return ""
	}
	j := i
	for strings.HasPrefix(raw[j:], "+@") {
		j += strings.Index(raw[j:], "\r\n") + 2
	}
	return raw[i:j]
}

// TestACLSubscriberDropped: a subscriber whose channel its user's new
// rules no longer allow is disconnected; one still allowed stays.
func TestACLSubscriberDropped(t *testing.T) {
	ts := startServer(t, Config{})
	admin := dialRaw(t, ts.addr)
	expect(t, admin, [][2]string{{"ACL SETUSER s on nopass &news* +@all", "+OK\r\n"}})
	sub := dialRaw(t, ts.addr)
	expect(t, sub, [][2]string{
		{"AUTH s x", "+OK\r\n"},
		{"SUBSCRIBE other", noPermChan},
		{"PSUBSCRIBE news:*", noPermChan}, // a pattern must be allowed literally
		{"PSUBSCRIBE news*", "*3\r\n$10\r\npsubscribe\r\n$5\r\nnews*\r\n:1\r\n"},
	})
	expect(t, admin, [][2]string{
		{"ACL SETUSER s resetchannels &news*", "+OK\r\n"},
		{"PUBLISH news1 hi", ":1\r\n"},
	})
	if got := sub.reply(); got != "*4\r\n$8\r\npmessage\r\n$5\r\nnews*\r\n$5\r\nnews1\r\n$2\r\nhi\r\n" {
		t.Fatalf("message: %q", got)
	}
	expect(t, admin, [][2]string{{"ACL SETUSER s resetchannels &other", "+OK\r\n"}})
	sub.expectEOF()
}

// TestACLFileAtStart: a missing or wrong --aclfile fails Serve, as it
// stops redis-server.
func TestACLFileAtStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.acl")
	if err := os.WriteFile(bad, []byte("user app on +nosuch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.acl"), bad} {
		s := New(Config{ACLFile: path}, nil, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(ln); err == nil || errors.Is(err, ErrServerClosed) || !strings.Contains(err.Error(), path) {
			t.Errorf("Serve with %s: %v", path, err)
		}
		s.Close()
	}
}
