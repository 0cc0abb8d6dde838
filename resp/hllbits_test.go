package resp

import (
	"strings"
	"testing"
)

// TestStreamsRefused: every stream command answers one error naming the
// missing type and the command, after the usual arity check; COMMAND
// knows them (Redis 7.0's metadata) and their keys.
func TestStreamsRefused(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"XADD", "s", "*", "f", "v"}, "-ERR streams are not supported by dynakv (XADD)\r\n"},
		{[]string{"xrange", "s", "-", "+"}, "-ERR streams are not supported by dynakv (XRANGE)\r\n"},
		{[]string{"XREAD", "COUNT", "1", "STREAMS", "a", "0"}, "-ERR streams are not supported by dynakv (XREAD)\r\n"},
		{[]string{"xgroup", "create", "s", "g", "$"}, "-ERR streams are not supported by dynakv (XGROUP CREATE)\r\n"},
		{[]string{"XINFO", "STREAM", "s"}, "-ERR streams are not supported by dynakv (XINFO STREAM)\r\n"},
		{[]string{"XLEN"}, "-ERR wrong number of arguments for 'xlen' command\r\n"},
		{[]string{"COMMAND", "GETKEYS", "XREAD", "STREAMS", "a", "b", "0", "0"}, "*2\r\n$1\r\na\r\n$1\r\nb\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestSortClusterPatterns: in a cluster, SORT's BY and GET patterns must
// imply the sorted key's slot (Redis 7.2's rule and error texts); "#" and
// patterns without '*' read no key and are allowed; STORE's destination
// must share the slot.
func TestSortClusterPatterns(t *testing.T) {
	ts := startClusterServer(t, threeNodes())
	r := dialRaw(t, ts.addr)
	r.do("SADD", "{u}s", "b", "a")
	r.do("MSET", "{u}w_a", "2", "{u}w_b", "1")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SORT", "{u}s", "BY", "w_*"}, "-" + msgSortBy + "\r\n"},
		{[]string{"SORT", "{u}s", "BY", "{v}w_*"}, "-" + msgSortBy + "\r\n"},
		{[]string{"SORT", "{u}s", "GET", "w_*", "ALPHA"}, "-" + msgSortGet + "\r\n"},
		{[]string{"SORT_RO", "{u}s", "BY", "*{u}"}, "-" + msgSortBy + "\r\n"},
		{[]string{"SORT", "{u}s", "BY", "{u}w_*", "GET", "#", "GET", "{u}w_*"}, "*4\r\n$1\r\nb\r\n$1\r\n1\r\n$1\r\na\r\n$1\r\n2\r\n"},
		{[]string{"SORT", "{u}s", "BY", "nosort", "GET", "const", "ALPHA", "LIMIT", "0", "1"}, "*1\r\n$-1\r\n"},
		{[]string{"SORT", "{u}s", "ALPHA", "STORE", "{v}d"}, "-" + msgCrossSlot + "\r\n"},
	} {
		if got := r.do(tc.args...); got != tc.want {
			t.Errorf("%v: %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestSortStore: SORT … STORE writes the sorted elements as a list that
// replaces the destination, its TTL included (sortStore), and an empty
// result deletes the destination, as Redis does.
func TestSortStore(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	r.do("SADD", "s", "3", "1", "2")
	r.do("SET", "d", "x")
	r.do("EXPIRE", "d", "100")
	if got := r.do("SORT", "s", "STORE", "d"); got != ":3\r\n" {
		t.Fatalf("SORT STORE: %q", got)
	}
	if got := r.do("LRANGE", "d", "0", "-1"); got != "*3\r\n$1\r\n1\r\n$1\r\n2\r\n$1\r\n3\r\n" {
		t.Fatalf("stored list: %q", got)
	}
	if got := r.do("TTL", "d"); got != ":-1\r\n" {
		t.Fatalf("destination kept its TTL: %q", got)
	}
	r.do("RPUSH", "l", "b", "a")
	if got := r.do("SORT", "l", "BY", "nosort", "STORE", "d2"); got != ":2\r\n" {
		t.Fatalf("SORT list BY nosort STORE: %q", got)
	}
	if got := r.do("LRANGE", "d2", "0", "-1"); got != "*2\r\n$1\r\nb\r\n$1\r\na\r\n" {
		t.Fatalf("list in native order: %q", got)
	}
	if got := r.do("SORT", "nokey", "STORE", "d"); got != ":0\r\n" {
		t.Fatalf("empty SORT STORE: %q", got)
	}
	if got := r.do("EXISTS", "d"); got != ":0\r\n" {
		t.Fatalf("destination kept: %q", got)
	}
}

// TestHLLDumpRestoreAndRename: an HLL key travels as its string bytes
// through DUMP/RESTORE, RENAME and COPY, and PF* read the copy as an HLL.
func TestHLLDumpRestoreAndRename(t *testing.T) {
	ts := startServer(t, Config{})
	r := dialRaw(t, ts.addr)
	args := []string{"PFADD", "h"}
	for i := 0; i < 500; i++ {
		args = append(args, "e"+strings.Repeat("x", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10)))
	}
	r.do(args...)
	count := r.do("PFCOUNT", "h") // caches: the bytes change
	orig := r.do("GET", "h")
	dump := r.do("DUMP", "h")
	payload := dump[strings.Index(dump, "\r\n")+2 : len(dump)-2]
	if got := r.do("RESTORE", "h2", "0", payload); got != "+OK\r\n" {
		t.Fatalf("RESTORE: %q", got)
	}
	r.do("COPY", "h", "h3")
	r.do("RENAME", "h3", "h4")
	for _, k := range []string{"h2", "h4"} {
		if got := r.do("PFCOUNT", k); got != count {
			t.Fatalf("PFCOUNT %s: %q, want %q", k, got, count)
		}
		if got := r.do("TYPE", k); got != "+string\r\n" {
			t.Fatalf("TYPE %s: %q", k, got)
		}
		if got := r.do("PFADD", k, "new-element-1", "new-element-2"); got != ":1\r\n" {
			t.Fatalf("PFADD %s: %q", k, got)
		}
	}
	if got := r.do("GET", "h"); got != orig {
		t.Fatal("the source changed")
	}
}
