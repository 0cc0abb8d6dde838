package resp

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

func TestConnectionCommands(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		if got, err := c.Ping(bg).Result(); got != "PONG" || err != nil {
			t.Errorf("PING = %q, %v", got, err)
		}
		if got, err := c.Do(bg, "ping", "hi there").Result(); got != "hi there" || err != nil {
			t.Errorf("PING msg = %q, %v", got, err)
		}
		if err := c.Do(bg, "ping", "a", "b").Err(); errText(err) != "ERR wrong number of arguments for 'ping' command" {
			t.Errorf("PING a b: %v", err)
		}
		if got, err := c.Echo(bg, "x\r\ny").Result(); got != "x\r\ny" || err != nil {
			t.Errorf("ECHO = %q, %v", got, err)
		}

		conn := c.Conn()
		defer conn.Close()
		proto := int64(2)
		if c.Options().Protocol == 3 {
			proto = 3
		}
		hello, err := conn.Hello(bg, int(proto), "", "", "").Result()
		if err != nil {
			t.Fatalf("HELLO: %v", err)
		}
		id, err := conn.ClientID(bg).Result()
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"server": "redis", "version": "7.0.0", "proto": proto, "id": id, "mode": "standalone", "role": "master", "modules": []any{}}
		if fmt.Sprint(hello) != fmt.Sprint(want) {
			t.Errorf("HELLO = %v, want %v", hello, want)
		}
		if err := conn.ClientSetName(bg, "worker-1").Err(); err != nil {
			t.Errorf("CLIENT SETNAME: %v", err)
		}
		if got, err := conn.ClientGetName(bg).Result(); got != "worker-1" || err != nil {
			t.Errorf("CLIENT GETNAME = %q, %v", got, err)
		}
		if err := conn.Do(bg, "client", "setname", "a b").Err(); errText(err) != "ERR Client names cannot contain spaces, newlines or special characters." {
			t.Errorf("CLIENT SETNAME 'a b': %v", err)
		}
		info, err := conn.ClientInfo(bg).Result()
		if err != nil {
			t.Fatalf("CLIENT INFO: %v", err)
		}
		if info.ID != id || info.Name != "worker-1" || info.Resp != int(proto) || info.LibName == "" || info.LastCmd != "client|info" {
			t.Errorf("CLIENT INFO = %+v", info)
		}
		list, err := conn.ClientList(bg).Result()
		if err != nil || !strings.Contains(list, fmt.Sprintf("id=%d ", id)) || !strings.Contains(list, "name=worker-1 ") {
			t.Errorf("CLIENT LIST = %q, %v", list, err)
		}
		if err := conn.Do(bg, "client", "nope").Err(); errText(err) != "ERR unknown subcommand 'nope'. Try CLIENT HELP." {
			t.Errorf("CLIENT nope: %v", err)
		}
		if err := conn.Do(bg, "client").Err(); errText(err) != "ERR wrong number of arguments for 'client' command" {
			t.Errorf("CLIENT: %v", err)
		}
		if err := conn.Do(bg, "client", "setname").Err(); errText(err) != "ERR wrong number of arguments for 'client|setname' command" {
			t.Errorf("CLIENT SETNAME: %v", err)
		}
		if err := conn.Select(bg, 0).Err(); err != nil {
			t.Errorf("SELECT 0: %v", err)
		}
		if err := conn.Select(bg, 16).Err(); errText(err) != "ERR DB index is out of range" {
			t.Errorf("SELECT 16: %v", err)
		}
		if err := conn.Do(bg, "select", "x").Err(); errText(err) != "ERR value is not an integer or out of range" {
			t.Errorf("SELECT x: %v", err)
		}
		if err := conn.Do(bg, "hello", "4").Err(); errText(err) != "NOPROTO unsupported protocol version" {
			t.Errorf("HELLO 4: %v", err)
		}
		if err := conn.Do(bg, "hello", "x").Err(); errText(err) != "ERR Protocol version is not an integer or out of range" {
			t.Errorf("HELLO x: %v", err)
		}
		if err := conn.Do(bg, "hello", "3", "bogus").Err(); errText(err) != "ERR Syntax error in HELLO option 'bogus'" {
			t.Errorf("HELLO 3 bogus: %v", err)
		}
		if err := conn.Do(bg, "auth", "pw").Err(); errText(err) != "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?" {
			t.Errorf("AUTH pw: %v", err)
		}
		if err := conn.Do(bg, "auth", "default", "anything").Err(); err != nil {
			t.Errorf("AUTH default x without requirepass: %v", err)
		}
		if err := conn.Do(bg, "auth", "bob", "x").Err(); errText(err) != "WRONGPASS invalid username-password pair or user is disabled." {
			t.Errorf("AUTH bob x: %v", err)
		}

		if err := c.Do(bg, "foo", "a", "b").Err(); errText(err) != "ERR unknown command 'foo', with args beginning with: 'a' 'b' " {
			t.Errorf("unknown command: %q", errText(err))
		}
		if err := c.Do(bg, "GeT").Err(); errText(err) != "ERR wrong number of arguments for 'get' command" {
			t.Errorf("GET arity: %v", err)
		}
		if err := c.Do(bg, "SeT", "k", "v").Err(); err != nil {
			t.Errorf("mixed-case SET: %v", err)
		}
	})
}

func TestUnknownCommandText(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	long := strings.Repeat("x", 200)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"foo"}, "-ERR unknown command 'foo', with args beginning with: \r\n"},
		{[]string{"FOO", "a"}, "-ERR unknown command 'FOO', with args beginning with: 'a' \r\n"},
		{[]string{long, long}, "-ERR unknown command '" + long[:128] + "', with args beginning with: '" + long[:128] + "' \r\n"},
		{[]string{"f", "a\r\nb"}, "-ERR unknown command 'f', with args beginning with: 'a  b' \r\n"},
		{[]string{"f", strings.Repeat("a", 100), strings.Repeat("b", 100), "c"}, "-ERR unknown command 'f', with args beginning with: '" + strings.Repeat("a", 100) + "' '" + strings.Repeat("b", 25) + "' \r\n"},
	}
	for _, tc := range tests {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("%.20q: got %q, want %q", tc.args, got, tc.want)
		}
	}
}

func TestRESP3Shapes(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	if got := r.do("GET", "nope"); got != "$-1\r\n" {
		t.Errorf("RESP2 GET nil: %q", got)
	}
	if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n$7\r\nversion\r\n$5\r\n7.0.0\r\n$5\r\nproto\r\n:3\r\n$2\r\nid\r\n:") ||
		!strings.HasSuffix(got, "$4\r\nmode\r\n$10\r\nstandalone\r\n$4\r\nrole\r\n$6\r\nmaster\r\n$7\r\nmodules\r\n*0\r\n") {
		t.Errorf("HELLO 3: %q", got)
	}
	if got := r.do("GET", "nope"); got != "_\r\n" {
		t.Errorf("RESP3 GET nil: %q", got)
	}
	if got := r.do("MGET", "a", "b"); got != "*2\r\n_\r\n_\r\n" {
		t.Errorf("RESP3 MGET: %q", got)
	}
	if got := r.do("INFO", "nothing"); got != "=4\r\ntxt:\r\n" {
		t.Errorf("RESP3 INFO: %q", got)
	}
	if got := r.do("COMMAND", "DOCS", "get", "nope"); got != "%1\r\n$3\r\nget\r\n%5\r\n$7\r\nsummary\r\n$22\r\nGet the value of a key\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n$5\r\ngroup\r\n$6\r\nstring\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n$9\r\narguments\r\n*1\r\n%3\r\n$4\r\nname\r\n$3\r\nkey\r\n$4\r\ntype\r\n$3\r\nkey\r\n$14\r\nkey_spec_index\r\n:0\r\n" {
		t.Errorf("RESP3 COMMAND DOCS: %q", got)
	}
	if got := r.do("COMMAND", "INFO", "get", "nope"); got != "*2\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n+@string\r\n+@fast\r\n*0\r\n*0\r\n*0\r\n_\r\n" {
		t.Errorf("RESP3 COMMAND INFO: %q", got)
	}
	if got := r.do("HELLO", "2"); !strings.HasPrefix(got, "*14\r\n") {
		t.Errorf("HELLO 2: %q", got)
	}
	if got := r.do("COMMAND", "INFO", "nope"); got != "*1\r\n$-1\r\n" {
		t.Errorf("RESP2 COMMAND INFO: %q", got)
	}
	if got := r.do("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"); got != "*2\r\n$1\r\na\r\n$1\r\nb\r\n" {
		t.Errorf("COMMAND GETKEYS: %q", got)
	}
	if got := r.do("COMMAND", "GETKEYS", "ping", "x"); got != "-ERR The command has no key arguments\r\n" {
		t.Errorf("COMMAND GETKEYS ping: %q", got)
	}
	if got := r.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT: %q", got)
	}
	r.expectEOF()
}

// Commands pipelined after QUIT are not run.
func TestQuitDropsPipeline(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.send("PING\r\nQUIT\r\nSET k v\r\n")
	if got := r.reply(); got != "+PONG\r\n" {
		t.Fatal(got)
	}
	if got := r.reply(); got != "+OK\r\n" {
		t.Fatal(got)
	}
	r.expectEOF()
	if obj := ts.b.Object("k"); !obj.IsZero() {
		t.Fatalf("SET after QUIT ran: %+v", obj)
	}
}

func TestAuth(t *testing.T) {
	ts := startServer(t, Config{RequirePass: "s3cret"})
	r := dialRaw(t, ts.addr)
	for _, cmd := range [][]string{{"GET", "k"}, {"PING"}, {"CLIENT", "ID"}, {"COMMAND", "COUNT"}} {
		if got := r.do(cmd...); got != "-NOAUTH Authentication required.\r\n" {
			t.Errorf("%v before AUTH: %q", cmd, got)
		}
	}
	// Existence and arity are checked first, as in Redis.
	if got := r.do("nope"); !strings.HasPrefix(got, "-ERR unknown command") {
		t.Errorf("unknown before AUTH: %q", got)
	}
	if got := r.do("GET"); got != "-ERR wrong number of arguments for 'get' command\r\n" {
		t.Errorf("GET before AUTH: %q", got)
	}
	if got := r.do("HELLO", "3"); !strings.HasPrefix(got, "-NOAUTH HELLO must be called with the client already authenticated") {
		t.Errorf("HELLO before AUTH: %q", got)
	}
	if got := r.do("AUTH", "wrong"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Errorf("AUTH wrong: %q", got)
	}
	if got := r.do("AUTH", "default", "wrong"); got != "-WRONGPASS invalid username-password pair or user is disabled.\r\n" {
		t.Errorf("AUTH default wrong: %q", got)
	}
	if got := r.do("AUTH", "a", "b", "c"); got != "-ERR syntax error\r\n" {
		t.Errorf("AUTH a b c: %q", got)
	}
	if got := r.do("AUTH", "s3cret"); got != "+OK\r\n" {
		t.Errorf("AUTH: %q", got)
	}
	if got := r.do("PING"); got != "+PONG\r\n" {
		t.Errorf("PING after AUTH: %q", got)
	}
	// HELLO AUTH authenticates and switches protocol at once.
	r2 := dialRaw(t, ts.addr)
	if got := r2.do("HELLO", "3", "AUTH", "default", "s3cret", "SETNAME", "n"); !strings.HasPrefix(got, "%7\r\n") {
		t.Errorf("HELLO 3 AUTH: %q", got)
	}
	if got := r2.do("CLIENT", "GETNAME"); got != "$1\r\nn\r\n" {
		t.Errorf("GETNAME: %q", got)
	}
	if got := r2.do("QUIT"); got != "+OK\r\n" {
		t.Errorf("QUIT: %q", got)
	}

	// go-redis, with and without the password, both protocols.
	for _, proto := range []int{2, 3} {
		c := ts.client(t, proto, "s3cret")
		if err := c.Set(bg, "k", "v", 0).Err(); err != nil {
			t.Errorf("resp%d with password: %v", proto, err)
		}
		bad := ts.client(t, proto, "")
		if err := bad.Get(bg, "k").Err(); errText(err) != "NOAUTH Authentication required." {
			t.Errorf("resp%d without password: %v", proto, err)
		}
		wrong := ts.client(t, proto, "nope")
		if err := wrong.Get(bg, "k").Err(); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("resp%d wrong password: %v", proto, err)
		}
	}
}

func TestCommandTable(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		n, err := c.Do(bg, "command", "count").Int()
		if err != nil || n != len(ts.Commands()) || n < 30 {
			t.Errorf("COMMAND COUNT = %d, %v", n, err)
		}
		infos, err := c.Command(bg).Result()
		if err != nil {
			t.Fatalf("COMMAND: %v", err)
		}
		if len(infos) != n {
			t.Errorf("COMMAND: %d entries, want %d", len(infos), n)
		}
		get := infos["get"]
		if get == nil || get.Arity != 2 || !get.ReadOnly || get.FirstKeyPos != 1 || get.LastKeyPos != 1 || get.StepCount != 1 {
			t.Errorf("COMMAND get = %+v", get)
		}
		mset := infos["mset"]
		if mset == nil || mset.Arity != -3 || mset.ReadOnly || !slices.Contains(mset.Flags, "write") || mset.LastKeyPos != -1 || mset.StepCount != 2 {
			t.Errorf("COMMAND mset = %+v", mset)
		}
		if err := c.Do(bg, "command", "docs").Err(); err != nil {
			t.Errorf("COMMAND DOCS: %v", err)
		}
		list, err := c.Do(bg, "command", "list").StringSlice()
		if err != nil || len(list) != n || !slices.Contains(list, "vset") {
			t.Errorf("COMMAND LIST = %v, %v", list, err)
		}
	})
}

func TestRegister(t *testing.T) {
	var logs bytes.Buffer
	var mu sync.Mutex
	s := New(Config{}, nil, slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil)))
	boom := Command{Name: "boom", Arity: 1, Flags: FlagFast, Handler: func(c *Conn, _ [][]byte) {
		c.WriteArray(3)
		c.WriteBulkString("partial")
		panic("kaboom")
	}}
	if err := s.Register(boom, false); err != nil {
		t.Fatal(err)
	}
	if err := s.Register(boom, false); err == nil {
		t.Fatal("duplicate Register accepted")
	}
	for _, bad := range []Command{
		{Name: "", Arity: 1, Handler: cmdPing},
		{Name: "UP", Arity: 1, Handler: cmdPing},
		{Name: "x", Arity: 0, Handler: cmdPing},
		{Name: "x", Arity: 1},
		{Name: "x", Arity: -2, Subcommands: []Command{{Name: "a", Arity: 2}}},
	} {
		if err := s.Register(bad, false); err == nil {
			t.Errorf("Register(%+v) accepted", bad)
		}
	}
	echo2 := Command{Name: "echo", Arity: 2, Handler: func(c *Conn, args [][]byte) { c.WriteBulk(append(args[1], args[1]...)) }}
	if err := s.Register(echo2, true); err != nil {
		t.Fatal(err)
	}
	ln, _ := netListen(t)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	defer func() { s.Close(); <-done }()
	r := dialRaw(t, ln.Addr().String())
	if got := r.do("BOOM"); got != "-ERR internal error\r\n" {
		t.Fatalf("panicking command: %q", got)
	}
	if got := r.do("ECHO", "ab"); got != "$4\r\nabab\r\n" {
		t.Fatalf("replaced ECHO: %q", got)
	}
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(logs.String(), "kaboom") {
		t.Fatalf("panic not logged: %s", logs.String())
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestInfo(t *testing.T) {
	cfg := Config{InfoSections: []InfoSection{
		{Name: "replication", Default: true, Fields: func() []InfoField { return []InfoField{{"role", "master"}} }},
		{Name: "cluster", Fields: func() []InfoField { return []InfoField{{"cluster_enabled", "1"}} }},
	}}
	for _, proto := range []int{3, 2} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			testInfo(t, startServer(t, cfg), proto)
		})
	}
}

func testInfo(t *testing.T, ts *testServer, proto int) {
	c := ts.client(t, proto, "")
	if err := c.Set(bg, "a", "1", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(bg, "b", "2", 0).Err(); err != nil {
		t.Fatal(err)
	}
	c.Get(bg, "a")
	c.Get(bg, "zz")
	info, err := c.Info(bg).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"# Server\r\nredis_version:7.0.0\r\n", "\r\nredis_mode:standalone\r\n", "\r\ntcp_port:",
		"\r\n\r\n# Clients\r\nconnected_clients:1\r\n",
		"\r\n\r\n# Stats\r\ntotal_connections_received:1\r\n", "\r\nkeyspace_hits:1\r\nkeyspace_misses:1\r\n",
		"\r\n\r\n# Replication\r\nrole:master\r\n",
		"\r\n\r\n# Keyspace\r\ndb0:keys=2,expires=1,avg_ttl=0\r\n",
	} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO lacks %q:\n%s", want, info)
		}
	}
	if strings.Contains(info, "Cluster") {
		t.Errorf("INFO shows a non-default section:\n%s", info)
	}
	if got, _ := c.Info(bg, "cluster").Result(); got != "# Cluster\r\ncluster_enabled:1\r\n" {
		t.Errorf("INFO cluster = %q", got)
	}
	if got, _ := c.Info(bg, "CLUSTER", "server").Result(); !strings.HasPrefix(got, "# Server\r\n") || !strings.HasSuffix(got, "\r\n\r\n# Cluster\r\ncluster_enabled:1\r\n") {
		t.Errorf("INFO cluster server = %q", got)
	}
	all, _ := c.Info(bg, "all").Result()
	if !strings.Contains(all, "# Cluster") || !strings.Contains(all, "# Keyspace") {
		t.Errorf("INFO all = %q", all)
	}
	if got, _ := c.Do(bg, "info", "stats").Text(); !strings.Contains(got, "total_commands_processed:") {
		t.Errorf("INFO stats = %q", got)
	}
}

// Many clients at once, with CLIENT LIST reading every session: a test
// for the race detector.
func TestConcurrentClients(t *testing.T) {
	ts := startServer(t, Config{})
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := ts.client(t, 2+i%2, "")
			for j := 0; j < 50; j++ {
				key := fmt.Sprintf("k%d", j%5)
				if err := c.Set(bg, key, i, 0).Err(); err != nil {
					t.Error(err)
					return
				}
				if err := c.Get(bg, key).Err(); err != nil {
					t.Error(err)
					return
				}
				if j%10 == 0 {
					if err := c.ClientList(bg).Err(); err != nil {
						t.Error(err)
						return
					}
					if err := c.Do(bg, "hello", 2+i%2).Err(); err != nil {
						t.Error(err)
						return
					}
				}
			}
		}(i)
	}
	wg.Wait()
	if st := ts.Stats(); st.TotalCommandsProcessed < 8*100 || st.KeyspaceHits < 8*50 {
		t.Errorf("Stats = %+v", st)
	}
}

// TestConfigGetSet: CONFIG GET reports the read-only parameters tools ask
// for (redis-benchmark reads save and appendonly); CONFIG SET refuses
// an unknown one and appendonly.
func TestConfigGetSet(t *testing.T) {
	forProtocols(t, func(t *testing.T, _ *testServer, c *redis.Client) {
		ctx := context.Background()
		got, err := c.ConfigGet(ctx, "save").Result()
		if err != nil || len(got) != 1 || got["save"] != "" {
			t.Fatalf("CONFIG GET save = %v, %v", got, err)
		}
		got, err = c.ConfigGet(ctx, "max*").Result()
		if err != nil || got["maxclients"] == "" {
			t.Fatalf("CONFIG GET max* = %v, %v", got, err)
		}
		if got, err := c.ConfigGet(ctx, "nosuch").Result(); err != nil || len(got) != 0 {
			t.Fatalf("CONFIG GET nosuch = %v, %v", got, err)
		}
		if err := c.ConfigSet(ctx, "foo", "bar").Err(); err == nil || err.Error() != "ERR Unknown option or number of arguments for CONFIG SET - 'foo'" {
			t.Fatalf("CONFIG SET foo = %v", err)
		}
		// save is accepted and does nothing (TestConfigHzPortBindSave);
		// appendonly stays refused.
		if err := c.ConfigSet(ctx, "appendonly", "yes").Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR CONFIG SET failed") {
			t.Fatalf("CONFIG SET appendonly = %v", err)
		}
	})
}
