package resp

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp/resptest"
	"github.com/tidwall/redcon"
)

var fuzzLimits = frameLimits{maxBulk: 64, maxArgs: 8, maxInline: 128, maxQuery: 256}

type boundary struct {
	end     int64
	emitted bool
}

// runFramer feeds data in pieces of step bytes and reads the output out in
// pieces of step bytes too.
func runFramer(data []byte, step int, trace func(end int64, emitted bool)) (out []byte, err *ProtocolError) {
	f := newFramer(fuzzLimits)
	f.onBoundary = trace
	for i := 0; i < len(data); i += step {
		f.feed(data[i:min(i+step, len(data))])
		for p := f.pending(); len(p) > 0; p = f.pending() {
			n := min(step, len(p))
			out = append(out, p[:n]...)
			f.consume(n)
		}
	}
	return out, f.err
}

func FuzzGuard(f *testing.F) {
	for _, s := range []string{
		"*1\r\n$4\r\nPING\r\n",
		"PING\r\n",
		"*1\r\n$9223372036854775807\r\n",
		"*1\r\n$99999999999999999999\r\n",
		"*-1\r\n*0\r\nPING\r\n",
		"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nGET k\n",
		"SET \"a b\" 'c\\'d' e\r\n",
		"SET a\"b c\r\n",
		"ECHO \"x\\n\\t\\\\\" ''\r\n",
		"*1\r\n$3\r\nfooXY",
		"*1\r\nx\r\n",
		"\r\n\n   \n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$0\r\n\r\n",
	} {
		f.Add([]byte(s), uint8(0))
		f.Add([]byte(s), uint8(2))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint8) {
		var bounds []boundary
		out, err := runFramer(data, max(len(data), 1), func(end int64, emitted bool) {
			bounds = append(bounds, boundary{end, emitted})
		})
		// Chunking changes nothing.
		out2, err2 := runFramer(data, int(chunk%17)+1, nil)
		if !bytes.Equal(out, out2) || (err == nil) != (err2 == nil) || err != nil && err.Reply != err2.Reply {
			t.Fatalf("chunked run differs: %q %v vs %q %v", out, err, out2, err2)
		}
		// redcon parses the output into exactly the commands let through,
		// each one as redcon parses its bytes in the input.
		rd := redcon.NewReader(bytes.NewReader(out))
		var got [][][]byte
		for {
			cmd, err := rd.ReadCommand()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("redcon rejects the guard's output %q: %v", out, err)
			}
			got = append(got, cmd.Args)
		}
		var start int64
		i := 0
		for _, b := range bounds {
			if b.emitted {
				want, err := redcon.Parse(data[start:b.end])
				if err != nil {
					t.Fatalf("guard let through %q, which redcon rejects: %v", data[start:b.end], err)
				}
				if i >= len(got) {
					t.Fatalf("command %d missing from the output; redcon parses %q", i, want.Args)
				}
				if !slices.EqualFunc(got[i], want.Args, bytes.Equal) {
					t.Fatalf("command %d: guard gives %q, redcon %q", i, got[i], want.Args)
				}
				if int64(len(got[i])) > fuzzLimits.maxArgs {
					t.Fatalf("%d args let through", len(got[i]))
				}
				for _, a := range got[i] {
					if int64(len(a)) > fuzzLimits.maxBulk {
						t.Fatalf("%d-byte argument let through", len(a))
					}
				}
				i++
			}
			start = b.end
		}
		if i != len(got) {
			t.Fatalf("%d commands let through, %d boundaries", len(got), i)
		}
	})
}

// fuzzCommandNames are the commands FuzzCommands picks from.
var fuzzCommandNames = func() []string {
	var names []string
	for _, c := range New(Config{}, nil, nil).Commands() {
		names = append(names, c.Name)
	}
	return names
}()

// decodeCommands turns fuzz bytes into commands: 0x01 separates commands,
// 0x00 arguments; a first byte below 0x80 picks a command name from the
// table, otherwise the first argument is taken as it is.
func decodeCommands(data []byte) [][][]byte {
	var cmds [][][]byte
	for _, raw := range bytes.Split(data, []byte{1}) {
		if len(raw) == 0 {
			continue
		}
		var args [][]byte
		if raw[0] < 0x80 {
			args = append(args, []byte(fuzzCommandNames[int(raw[0])%len(fuzzCommandNames)]))
			raw = raw[1:]
			if len(raw) > 0 {
				args = append(args, bytes.Split(raw, []byte{0})...)
			}
		} else {
			args = bytes.Split(raw[1:], []byte{0})
		}
		cmds = append(cmds, args)
	}
	return cmds
}

func encodeCommand(args ...string) []byte {
	var b []byte
	name := slices.Index(fuzzCommandNames, args[0])
	if name >= 0x80 { // NB: only the first 128 names have a one-byte code
		name = -1
	}
	if name < 0 {
		b = append(b, 0x80)
		b = append(b, args[0]...)
	} else {
		b = append(b, byte(name))
	}
	for i, a := range args[1:] {
		if i > 0 || name < 0 {
			b = append(b, 0)
		}
		b = append(b, a...)
	}
	return b
}

func FuzzCommands(f *testing.F) {
	tok := dvv.EncodeToken(dvv.VV{"n1": 3, "n2": 1})
	for _, cmd := range [][][]string{
		{{"set", "k", "v", "ex", "10", "get"}, {"get", "k"}, {"ttl", "k"}},
		{{"set", "k", "v", "keepttl", "xx"}, {"getex", "k", "persist"}, {"expire", "k", "5", "gt"}},
		{{"vset", "k", "", "a"}, {"vset", "k", "", "b", "px", "100"}, {"vget", "k", "r", "1"}, {"vdel", "k", tok}},
		{{"mset", "a", "1", "b", "2"}, {"mget", "a", "b", "c"}, {"del", "a", "b"}, {"scan", "0", "match", "*", "count", "1"}},
		{{"hello", "3", "auth", "default", "x", "setname", "n"}, {"client", "setinfo", "lib-name", "x"}, {"client", "list", "id", "1"}},
		{{"command", "info", "get", "client|id"}, {"command", "getkeys", "mset", "a", "b"}, {"info", "all"}, {"keys", "*a?"}},
		{{"pexpireat", "k", "-1"}, {"setex", "k", "9223372036854775807", "v"}, {"getdel", "k"}, {"quit"}},
		{{"nosuch", "a"}, {"ping", "a", "b"}, {"echo", "x"}, {"select", "0"}, {"dbsize"}, {"type", "k"}},
		{{"incrby", "k", "5"}, {"incrbyfloat", "k", "1.5"}, {"append", "k", "x"}, {"setrange", "k", "3", "y"}, {"getrange", "k", "0", "-1"}, {"lcs", "k", "j", "idx", "withmatchlen"}},
		{{"hset", "h", "f", "1"}, {"hincrby", "h", "f", "2"}, {"hincrbyfloat", "h", "g", "0.5"}, {"hexpire", "h", "10", "nx", "fields", "1", "f"}, {"httl", "h", "fields", "1", "f"}, {"hgetall", "h"}, {"hrandfield", "h", "-3", "withvalues"}, {"hscan", "h", "0"}},
		{{"sadd", "s", "a", "b"}, {"spop", "s", "1"}, {"srandmember", "s", "-2"}, {"smove", "s", "t", "b"}, {"sinterstore", "d", "s", "t"}, {"sintercard", "2", "s", "t", "limit", "1"}, {"object", "encoding", "s"}},
	} {
		var data []byte
		for i, c := range cmd {
			if i > 0 {
				data = append(data, 1)
			}
			data = append(data, encodeCommand(c...)...)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		clock := resptest.NewClock(startMs)
		s := New(Config{}, resptest.NewBackend("n1", clock.NowMs), nil)
		c := newConn(s, nil, "127.0.0.1:1", "127.0.0.1:2")
		for _, args := range decodeCommands(data) {
			c.exec(args) // no recover: a panic fails the fuzz run
			br := bufio.NewReader(bytes.NewReader(c.out))
			if _, err := readReply(br); err != nil {
				t.Fatalf("%q: malformed reply %q: %v", args, c.out, err)
			}
			if br.Buffered() != 0 {
				t.Fatalf("%q: more than one reply: %q", args, c.out)
			}
			c.out = c.out[:0]
			clock.Advance(int64(len(args)) * 700)
		}
	})
}

// The seed corpora run as plain tests too; this checks the encoding.
func TestDecodeCommands(t *testing.T) {
	got := decodeCommands(append(append(encodeCommand("set", "k", "v"), 1), encodeCommand("nosuch", "a")...))
	if fmt.Sprintf("%q", got) != `[["set" "k" "v"] ["nosuch" "a"]]` {
		t.Fatalf("%q", got)
	}
}
