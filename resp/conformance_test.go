package resp

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// startRedis runs redis-server with extra arguments on a free port of
// 16401–16499 (below the ephemeral range; DYNAKV_TEST_REDIS_PORTS=lo-hi
// picks another range, for a machine shared by several test runs), or
// skips the test when redis-server is not on PATH.
func startRedis(t *testing.T, extra ...string) string {
	t.Helper()
	path, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not on PATH (apt-get install redis-server; .ci/run installs it): conformance with Redis not checked")
	}
	if testing.Short() {
		t.Skip("short mode")
	}
	lo, hi := 16401, 16499
	if r := os.Getenv("DYNAKV_TEST_REDIS_PORTS"); r != "" {
		a, b, _ := strings.Cut(r, "-")
		l, err1 := strconv.Atoi(a)
		h, err2 := strconv.Atoi(b)
		if err1 != nil || err2 != nil || l < 1 || h < l || h > 65535 {
			t.Fatalf("DYNAKV_TEST_REDIS_PORTS=%q: want lo-hi", r)
		}
		lo, hi = l, h
	}
	for port := lo; port <= hi; port++ {
		addr := "127.0.0.1:" + strconv.Itoa(port)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		cmd := exec.Command(path, "--port", strconv.Itoa(port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", t.TempDir())
		cmd.Args = append(cmd.Args, extra...)
		if err := cmd.Start(); err != nil {
			t.Skipf("redis-server: %v", err)
		}
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
		})
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				return addr
			}
			if time.Now().After(deadline) {
				t.Fatalf("redis-server did not start on %s: %v", addr, err)
			}
		}
	}
	t.Skipf("no free port in %d-%d", lo, hi)
	return ""
}

// TestConformance sends the same command stream to a real Redis 7 and to
// the server, and compares the replies byte for byte: error texts, reply
// types and values. It runs when redis-server is installed.
func TestConformance(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	script := [][]string{
		{"PING"}, {"PING", "hi"}, {"PING", "a", "b"}, {"ECHO"}, {"ECHO", "x"},
		{"foo"}, {"foo", "a", "b"}, {"FOO", strings.Repeat("x", 200), "y"}, {"f", "a\r\nb"},
		{"GET"}, {"GET", "k"}, {"SET", "k", "v"}, {"GET", "k"}, {"gEt", "k"},
		{"SET", "k", "v2", "NX"}, {"SET", "k", "v2", "XX", "GET"}, {"SET", "k", "v3", "NX", "GET"},
		{"SET", "k", "v", "EX", "0"}, {"SET", "k", "v", "EX", "x"}, {"SET", "k", "v", "PX", "-1"},
		{"SET", "k", "v", "EX", "10", "PX", "10"}, {"SET", "k", "v", "KEEPTTL", "EX", "1"},
		{"SET", "k", "v", "NX", "XX"}, {"SET", "k", "v", "BOGUS"}, {"SET", "k", "v", "EX"},
		{"SET", "k", "v", "EX", "9223372036854775807"}, {"SET", "k", "v", "PERSIST"},
		{"SETNX", "k", "v"}, {"SETNX", "n", "v"}, {"SETEX", "k", "-1", "v"}, {"PSETEX", "k", "0", "v"},
		{"SETEX", "k", "x", "v"}, {"GETSET", "k", "w"}, {"GETSET", "nope", "w"},
		{"GETDEL", "nokey"}, {"GETDEL", "nope"}, {"GETEX", "k", "PERSIST", "EX", "1"}, {"GETEX", "k", "EX", "-1"},
		{"GETEX", "k", "NX"}, {"GETEX", "k"}, {"GETEX", "nokey", "EX", "5"},
		{"DEL", "a", "b"}, {"DEL"}, {"UNLINK", "n"}, {"EXISTS", "k", "k", "z"}, {"MGET", "k", "nokey"},
		{"MSET", "a"}, {"MSET", "a", "1", "b"}, {"MSET", "a", "1", "b", "2"},
		{"EXPIRE", "k", "10", "NX", "XX"}, {"EXPIRE", "k", "10", "GT", "LT"}, {"EXPIRE", "k", "10", "FOO"},
		{"EXPIRE", "k", "x"}, {"EXPIRE", "k", "9223372036854775807"}, {"PEXPIRE", "k", "9223372036854775807"},
		{"EXPIRE", "nokey", "10"}, {"EXPIRE", "k", "100", "XX"}, {"EXPIRE", "k", "100", "GT"},
		{"EXPIRE", "k", "100", "LT"}, {"EXPIRE", "k", "200", "NX"}, {"EXPIRE", "k", "50", "GT"},
		{"TTL", "nokey"}, {"TTL", "a"}, {"PTTL", "nokey"}, {"PTTL", "a"}, {"PERSIST", "k"}, {"PERSIST", "k"},
		{"PERSIST", "nokey"}, {"EXPIRETIME", "a"}, {"PEXPIRETIME", "nokey"},
		{"EXPIRE", "a", "-1"}, {"EXISTS", "a"}, {"PEXPIREAT", "b", "1"}, {"GET", "b"},
		{"TYPE", "k"}, {"TYPE", "nokey"},
		{"SCAN", "x"}, {"SCAN", "0", "COUNT", "0"}, {"SCAN", "0", "COUNT", "x"}, {"SCAN", "0", "MATCH"},
		{"SCAN", "0", "FOO", "1"}, {"SCAN", ""}, {"SCAN", "+0"}, {"SCAN", " 1"}, {"SCAN", "1x"}, {"SCAN", "-"},
		{"SCAN", "18446744073709551616"},
		{"DBSIZE"}, {"DBSIZE", "x"}, {"KEYS"}, {"KEYS", "nomatch*"},
		{"SELECT", "16"}, {"SELECT", "x"}, {"SELECT", "0"}, {"SELECT", "-1"},
		{"HELLO", "4"}, {"HELLO", "1"}, {"HELLO", "x"}, {"HELLO", "2", "FOO"}, {"HELLO", "2", "AUTH", "a"},
		{"HELLO", "2", "SETNAME", "a b"}, {"HELLO", "2", "AUTH", "bob", "pw"},
		{"AUTH", "x"}, {"AUTH", "a", "b", "c"}, {"AUTH", "default", "x"}, {"AUTH", "bob", "x"}, {"AUTH"},
		{"CLIENT"}, {"CLIENT", "FOO"}, {"CLIENT", "SETNAME"}, {"CLIENT", "SETNAME", "a b"},
		{"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", "n1"}, {"CLIENT", "GETNAME"}, {"CLIENT", "SETNAME", ""},
		{"CLIENT", "GETNAME"}, {"CLIENT", "ID", "x"}, {"CLIENT", "LIST", "TYPE", "bogus"}, {"CLIENT", "LIST", "FOO"},
		{"CLIENT", "LIST", "ID", "x"},
		{"COMMAND", "FOO"}, {"COMMAND", "GETKEYS", "ping"}, {"COMMAND", "GETKEYS", "mset", "a", "1", "b", "2"},
		{"COMMAND", "GETKEYS", "nosuch"}, {"COMMAND", "GETKEYS", "get"}, {"COMMAND", "GETKEYS", "get", "a", "b"},
		{"COMMAND", "GETKEYS", "ping", "x"}, {"COMMAND", "GETKEYS", "nosuch", "x"}, {"COMMAND", "INFO", "nosuch"},
		{"COMMAND", "COUNT", "x"},
		{"INFO", "nosuchsection"},
		{"CLUSTER"}, {"CLUSTER", "FOO"}, {"CLUSTER", "INFO"}, {"CLUSTER", "INFO", "x"}, {"CLUSTER", "NODES"},
		{"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "MYID"}, {"CLUSTER", "FORGET", "x"},
		{"CLUSTER", "FORGET"}, {"CLUSTER", "REPLICAS", "x"}, {"CLUSTER", "SLAVES", "x"}, {"CLUSTER", "HELP"},
		{"CLUSTER", "KEYSLOT"}, {"CLUSTER", "KEYSLOT", "a", "b"}, {"READONLY"}, {"READWRITE"}, {"READONLY", "x"},
		{"SET", "k", "v", "EXAT", "0"}, {"SET", "k", "v", "PXAT", "1"}, {"GET", "k"}, {"SET", "k", "v", "get", "GET"},
		{"SET", "k", "v", "ex", "10", "ex", "20"}, {"TTL", "k"}, {"SET", "k", "v", "EX", "10", "PXAT", "5"},
		{"GETEX", "k", "EX", "10", "PERSIST"}, {"GETEX", "k", "PX", "10", "PX", "20000"}, {"TTL", "k"},
		{"GETEX", "k", "EXAT", "1"}, {"EXISTS", "k"}, {"SET", "k", "v"}, {"EXPIREAT", "k", "0"}, {"GET", "k"},
		{"SET", "k", "v"}, {"EXPIRE", "k", "-9223372036854775808"}, {"PEXPIRE", "k", "-9223372036854775808"},
		{"EXISTS", "k"}, {"SETEX", "k", "9223372036854775807", "v"}, {"PSETEX", "k", "9223372036854775807", "v"},
		{"SET", "k", "v"}, {"expire", "k", "10", "xx"}, {"expire", "k", "10", "nx"}, {"pexpire", "k", "9000", "gt"}, {"pexpire", "k", "11000", "gt"},
		{"TTL"}, {"TTL", "a", "b"}, {"KEYS", "*", "x"}, {"EXISTS"}, {"TYPE"}, {"GETEX"}, {"MGET"},
		{"SETNX", "k"}, {"PERSIST"}, {"EXPIRE", "k"},
		{"HELLO", "3"}, // now RESP3
		{"HELLO"}, {"GETDEL", "nokey"}, {"SET", "q", "v", "NX", "GET"}, {"SET", "q", "w", "NX", "GET"},
		{"GETEX", "nokey"}, {"CLIENT", "SETNAME", "x"}, {"CLIENT", "GETNAME"}, {"EXISTS", "q", "q"},
		{"GET", "nokey"}, {"MGET", "k", "nokey"}, {"CLIENT", "GETNAME"}, {"COMMAND", "INFO", "nosuch"},
		{"SET", "k", "v", "GET"}, {"TTL", "k"}, {"SCAN", "x"}, {"PING"}, {"INFO", "nosuchsection"},
		{"QUIT"},
	}
	compareReplies(t, redisAddr, ts.addr, script)
	dial := func(addr string) (net.Conn, *bufio.Reader) {
		r := dialRaw(t, addr)
		return r.conn, r.br
	}

	// Protocol errors (those Redis detects the same way).
	for _, in := range []string{
		"*1\r\n$-1\r\n", "*1\r\n$9223372036854775807\r\n", "*1\r\n$99999999999999999999\r\n", "*1\r\n$abc\r\n",
		"*1\r\n$536870913\r\n", "*99999999999999999999\r\n", "*x\r\n", "*1\r\nx3\r\nfoo\r\n",
		"SET \"a b\r\n", "SET a\"b c\r\n", "PING\r\n*0\r\n*-1\r\n*-7\r\nPING\r\n*1\r\n$-3\r\n",
		"ECHO 'a b' c\r\nECHO \"x y\"\r\nECHO \"\\x\"\r\n\r\n \r\nPING\nQUIT\r\n",
		"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n*1\r\n$4\r\nQUIT\r\n", "*1\r\n$+4\r\nPING\r\n", "*+1\r\n",
	} {
		var replies [2]string
		for i, addr := range []string{redisAddr, ts.addr} {
			c, r := dial(addr)
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write([]byte(in))
			for {
				s, err := readReply(r)
				replies[i] += s
				if err != nil {
					break
				}
			}
		}
		if replies[0] != replies[1] {
			t.Errorf("%q:\n redis: %q\n   ours: %q", in, replies[0], replies[1])
		}
	}
}

// compareReplies sends each command of cmds to redis-server at redisAddr
// and to dynakv at dutAddr, one connection each, and reports every reply
// that differs after normalize.
func compareReplies(t *testing.T, redisAddr, dutAddr string, cmds [][]string) {
	t.Helper()
	sides := []*rawClient{dialRaw(t, redisAddr), dialRaw(t, dutAddr)}
	for _, args := range cmds {
		var replies [2]string
		for i, side := range sides {
			side.conn.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := side.conn.Write([]byte(multibulk(args...))); err != nil {
				t.Fatal(err)
			}
			r, err := readReply(side.br)
			if err != nil {
				t.Fatalf("%q: side %d: %v", args, i, err)
			}
			replies[i] = r
		}
		if n := normalize(replies[0]); n != normalize(replies[1]) {
			t.Errorf("%.80q:\n redis: %q\n   ours: %q", args, replies[0], replies[1])
		}
	}
}

var (
	versionRE = regexp.MustCompile(`\$\d+\r\n7\.\d+\.\d+\r\n`)
	idRE      = regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`)
)

// normalize blanks what differs by nature: the version and client ids.
func normalize(reply string) string {
	reply = versionRE.ReplaceAllString(reply, "VERSION")
	return idRE.ReplaceAllString(reply, "ID")
}

func TestConformanceAuth(t *testing.T) {
	redisAddr := startRedis(t, "--requirepass", "pw")
	ts := startServer(t, Config{RequirePass: "pw"})
	script := [][]string{
		{"GET", "k"}, {"PING"}, {"nosuch"}, {"GET"}, {"HELLO", "3"}, {"HELLO", "3", "AUTH", "default", "no"},
		{"AUTH", "no"}, {"AUTH", "default", "no"}, {"AUTH", "bob", "pw"}, {"CLIENT", "ID"}, {"AUTH", "pw"},
		{"PING"}, {"AUTH", "default", "pw"}, {"HELLO", "3", "AUTH", "default", "pw", "SETNAME", "c1"},
		{"CLIENT", "GETNAME"}, {"QUIT", "x", "y"},
	}
	rc, rr := dialPair(t, redisAddr)
	oc, or := dialPair(t, ts.addr)
	for _, args := range script {
		a := exchange(t, rc, rr, args)
		b := exchange(t, oc, or, args)
		if normalize(a) != normalize(b) {
			t.Errorf("%q:\n redis: %q\n   ours: %q", args, a, b)
		}
	}
}

func dialPair(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

func exchange(t *testing.T, c net.Conn, r *bufio.Reader, args []string) string {
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(multibulk(args...))); err != nil {
		t.Fatal(err)
	}
	s, err := readReply(r)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return s
}

// TestConformanceCluster compares the CLUSTER commands with those of a real
// Redis 7 in cluster mode, a single node holding every slot, against a
// Cluster that describes the same node.
func TestConformanceCluster(t *testing.T) {
	redisAddr := startRedis(t, "--cluster-enabled", "yes")
	rc, rr := dialPair(t, redisAddr)
	if got := exchange(t, rc, rr, []string{"CLUSTER", "ADDSLOTSRANGE", "0", "16383"}); got != "+OK\r\n" {
		t.Fatalf("ADDSLOTSRANGE: %q", got)
	}
	// A master waits a little (CLUSTER_WRITABLE_DELAY) before it says ok.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if strings.Contains(exchange(t, rc, rr, []string{"CLUSTER", "INFO"}), "cluster_state:ok") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("redis cluster state not ok")
		}
	}
	idReply := exchange(t, rc, rr, []string{"CLUSTER", "MYID"})
	id := strings.Split(idReply, "\r\n")[1]
	_, portStr, _ := net.SplitHostPort(redisAddr)
	port, _ := strconv.Atoi(portStr)
	// Redis does not know its own IP until a peer tells it: Host "".
	me := ClusterNode{ID: id, Host: "", Port: port, Alive: true}
	cl := &staticCluster{me: id, nodes: []ClusterNode{me}, shards: []Shard{{Start: 0, End: 16383, Replicas: []ClusterNode{me}}}}
	ts := startClusterServer(t, cl)
	oc, or := dialPair(t, ts.addr)
	script := [][]string{
		{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "MYID"},
		{"CLUSTER", "REPLICAS", id}, {"CLUSTER", "REPLICAS", "x"}, {"CLUSTER", "SLAVES", "x"}, {"CLUSTER", "FORGET", "x"},
		{"CLUSTER", "FORGET", id}, {"CLUSTER", "FORGET"}, {"CLUSTER", "KEYSLOT", "{a}b"}, {"CLUSTER", "KEYSLOT", "foo"},
		{"CLUSTER", "KEYSLOT", ""}, {"CLUSTER", "KEYSLOT", "{}x"}, {"CLUSTER", "KEYSLOT", "a{b"}, {"CLUSTER", "MYID", "x"},
		{"READONLY"}, {"READWRITE"}, {"READONLY", "x"}, {"CLUSTER", "FOO"}, {"CLUSTER"},
		{"HELLO", "3"},
		{"CLUSTER", "INFO"}, {"CLUSTER", "NODES"}, {"CLUSTER", "SLOTS"}, {"CLUSTER", "SHARDS"}, {"CLUSTER", "REPLICAS", id},
	}
	for _, args := range script {
		a := exchange(t, rc, rr, args)
		b := exchange(t, oc, or, args)
		if normalize(a) != normalize(b) {
			t.Errorf("%q:\n redis: %q\n   ours: %q", args, a, b)
		}
	}
}
