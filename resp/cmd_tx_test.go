package resp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/resp/resptest"
	"github.com/dynakv/dynakv/ring"
	"github.com/redis/go-redis/v9"
)

var (
	_ Uniter = (*coordinator.Coordinator)(nil)
	_ Uniter = (*resptest.Backend)(nil)
)

// txScript is a command stream over two connections, a and b ("b:" before
// a command sends it on b), that TestConformanceTx sends to Redis and to
// the server.
var txScript = []string{
	"MULTI", "MULTI", "SET a 1", "WATCH a", "nosuch", "GET", "EXEC", "EXEC", "DISCARD",
	"MULTI", "SET a 1", "INCR a x", "DISCARD",
	"MULTI", "SET a x", "INCR a", "SADD a b", "GET a", "EXEC",
	"MULTI", "EXEC", "UNWATCH", "WATCH", "MULTI", "UNWATCH", "PING", "EXEC",
	"EXEC x", "MULTI", "EXEC x", "EXEC", "MULTI x", "DISCARD x", "MULTI", "DISCARD x", "EXEC",
	"MULTI", "CLIENT FOO", "SET a 1", "EXEC",
	"WATCH a", "b:SET a 2", "MULTI", "GET a", "EXEC",
	"WATCH a", "MULTI", "EXEC",
	"WATCH a", "b:GET a", "MULTI", "GET a", "EXEC",
	"WATCH a a", "WATCH a", "UNWATCH", "b:SET a 4", "MULTI", "GET a", "EXEC",
	"WATCH a", "MULTI", "DISCARD", "b:SET a 5", "MULTI", "GET a", "EXEC",
	"WATCH nokey", "b:SET nokey 1", "b:DEL nokey", "MULTI", "EXEC",
	"WATCH nokey", "b:DEL nokey", "MULTI", "SET nokey 1", "EXEC",
	"WATCH c", "b:SADD c m", "MULTI", "SMEMBERS c", "EXEC",
	"WATCH c", "b:SREM c zz", "b:SET c2 x NX", "MULTI", "SCARD c", "EXEC",
	"WATCH e", "b:SET e v PX 50000", "b:PERSIST e", "MULTI", "GET e", "EXEC",
	"MSETNX m1 1 m2 2", "MSETNX m2 3 m3 3", "MGET m1 m2 m3",
	"SADD s1 x", "SMOVE s1 s2 x", "SMOVE s1 s2 x", "SMEMBERS s2",
	"HELLO 3",
	"WATCH a", "b:SET a 1", "MULTI", "EXEC",
	"MULTI", "GET nokey", "SMEMBERS c", "EXEC",
	"WATCH a", "SET a own", "MULTI", "GET a", "EXEC",
	"MULTI", "MULTI", "WATCH a", "SET a 1", "EXEC",
	"MULTI", "QUIT",
}

// TestConformanceTx compares the transaction commands' replies with a
// real Redis 7's, byte for byte.
func TestConformanceTx(t *testing.T) { compareTwoConns(t, txScript) }

// txSelectScript: a key is watched in the database selected at WATCH. A
// write of the same name in another database does not abort EXEC, one in
// the watched database does, whichever database the watching connection
// has selected at EXEC; reads merge only the watched database's state.
var txSelectScript = []string{
	"FLUSHALL",
	"WATCH k", "b:SELECT 1", "b:SET k x", "SELECT 1", "MULTI", "GET k", "EXEC",
	"SELECT 0", "WATCH k", "SELECT 1", "b:SELECT 0", "b:SET k y", "MULTI", "GET k", "EXEC",
	"SELECT 1", "WATCH k", "b:SELECT 1", "b:SET k z", "SELECT 0", "MULTI", "GET k", "EXEC",
	"SELECT 0", "WATCH k", "SELECT 1", "WATCH k", "b:SELECT 1", "b:SET k w", "SELECT 0", "MULTI", "GET k", "EXEC",
	"SELECT 0", "WATCH k", "b:SELECT 2", "b:SET k v", "SELECT 2", "GET k", "MULTI", "GET k", "EXEC",
	"SELECT 0", "SET n 1", "WATCH n", "b:SELECT 3", "b:DEL n", "MULTI", "GET n", "EXEC",
	"SELECT 0", "WATCH n", "b:SELECT 0", "b:DEL n", "SELECT 3", "MULTI", "GET n", "EXEC",
}

// TestConformanceTxWatchSelect compares WATCH across SELECT with a real
// Redis 7's replies, byte for byte.
func TestConformanceTxWatchSelect(t *testing.T) { compareTwoConns(t, txSelectScript) }

// compareTwoConns sends script (see txScript) to Redis and to the server
// and compares the replies byte for byte.
func compareTwoConns(t *testing.T, script []string) {
	t.Helper()
	redisAddr := startRedis(t)
	ts := startServer(t, Config{})
	type side struct{ a, b *rawClient }
	sides := []side{{dialRaw(t, redisAddr), dialRaw(t, redisAddr)}, {dialRaw(t, ts.addr), dialRaw(t, ts.addr)}}
	for _, line := range script {
		var replies [2]string
		for i, s := range sides {
			conn, cmd := s.a, line
			if rest, ok := strings.CutPrefix(line, "b:"); ok {
				conn, cmd = s.b, rest
			}
			replies[i] = conn.do(strings.Split(cmd, " ")...)
		}
		if normalize(replies[0]) != normalize(replies[1]) {
			t.Errorf("%s:\n redis: %q\n   ours: %q", line, replies[0], replies[1])
		}
	}
}

// TestTxNothingRunsBeforeExec: queued commands write nothing until EXEC,
// and a transaction with a queue-time error writes nothing at all.
func TestTxNothingRunsBeforeExec(t *testing.T) {
	ts := startServer(t, Config{})
	c := dialRaw(t, ts.addr)
	for _, cmd := range [][]string{{"MULTI"}, {"SET", "k", "v"}, {"INCR", "n"}} {
		c.do(cmd...)
	}
	if w := ts.b.Writes(); w != 0 {
		t.Fatalf("%d writes before EXEC", w)
	}
	if got := c.do("EXEC"); got != "*2\r\n+OK\r\n:1\r\n" {
		t.Fatalf("EXEC = %q", got)
	}
	c.do("MULTI")
	c.do("SET", "k", "w")
	c.do("SET")
	if got := c.do("EXEC"); got != "-"+msgExecAbort+"\r\n" {
		t.Fatalf("EXEC after a queue-time error = %q", got)
	}
	if ts.value("k") != "v" {
		t.Fatalf("k = %q after an aborted transaction", ts.value("k"))
	}
}

// TestTxPipelinedBlocks: several MULTI blocks and a WATCH sent in one
// write are answered in order.
func TestTxPipelinedBlocks(t *testing.T) {
	ts := startServer(t, Config{})
	c := dialRaw(t, ts.addr)
	var in strings.Builder
	var want strings.Builder
	for i := range 20 {
		k := "k" + strconv.Itoa(i%3)
		in.WriteString(multibulk("WATCH", k) + multibulk("MULTI") + multibulk("INCR", k) + multibulk("GET", k) + multibulk("EXEC"))
		n := strconv.Itoa(i/3 + 1)
		want.WriteString("+OK\r\n+OK\r\n+QUEUED\r\n+QUEUED\r\n*2\r\n:" + n + "\r\n$" + strconv.Itoa(len(n)) + "\r\n" + n + "\r\n")
	}
	c.send(in.String())
	var got strings.Builder
	for range 20 * 5 {
		got.WriteString(c.reply())
	}
	if got.String() != want.String() {
		t.Fatalf("pipelined blocks:\n got %q\nwant %q", got.String(), want.String())
	}
}

// TestTxGoRedis runs go-redis's TxPipelined and its Watch retry loop (the
// increment example of go-redis's documentation) from 4 clients.
func TestTxGoRedis(t *testing.T) {
	forProtocols(t, func(t *testing.T, ts *testServer, c *redis.Client) {
		cmds, err := c.TxPipelined(bg, func(p redis.Pipeliner) error {
			p.Set(bg, "a", "1", 0)
			p.Incr(bg, "a")
			p.Get(bg, "a")
			return nil
		})
		if err != nil || len(cmds) != 3 || cmds[2].(*redis.StringCmd).Val() != "2" {
			t.Fatalf("TxPipelined: %v %v", cmds, err)
		}
		const clients, each = 4, 25
		var wg sync.WaitGroup
		errs := make(chan error, clients)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl := ts.client(t, 3, "")
				for range each {
					if err := watchIncr(cl, "counter"); err != nil {
						errs <- err
						return
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got, _ := c.Get(bg, "counter").Int(); got != clients*each {
			t.Fatalf("counter = %d, want %d", got, clients*each)
		}
	})
}

// watchIncr is go-redis's documented optimistic increment: WATCH, GET,
// then SET in a transaction, again on redis.TxFailedErr.
func watchIncr(c *redis.Client, key string) error {
	for range 1000 {
		err := c.Watch(bg, func(tx *redis.Tx) error {
			n, err := tx.Get(bg, key).Int()
			if err != nil && err != redis.Nil {
				return err
			}
			_, err = tx.TxPipelined(bg, func(p redis.Pipeliner) error {
				p.Set(bg, key, n+1, 0)
				return nil
			})
			return err
		}, key)
		if err != redis.TxFailedErr {
			return err
		}
	}
	return errors.New("increment failed 1000 times")
}

// unitBackend is a fake backend that is a Uniter: it records each unit's
// keys and counts the Updates made with a unit's context.
type unitBackend struct {
	*resptest.Backend
	mu      sync.Mutex
	units   [][]string
	inUnit  int
	outside int
}

type unitMark struct{}

func (u *unitBackend) Unit(ctx context.Context, keys [][]byte, fn func(context.Context) error) error {
	var ks []string
	for _, k := range keys {
		ks = append(ks, string(k))
	}
	slices.Sort(ks)
	u.mu.Lock()
	u.units = append(u.units, ks)
	u.mu.Unlock()
	return fn(context.WithValue(ctx, unitMark{}, true))
}

func (u *unitBackend) Update(ctx context.Context, key []byte, opt coordinator.WriteOptions, fn crdt.Mutator) (crdt.Object, crdt.Object, error) {
	u.mu.Lock()
	if ctx.Value(unitMark{}) != nil {
		u.inUnit++
	} else {
		u.outside++
	}
	u.mu.Unlock()
	return u.Backend.Update(ctx, key, opt, fn)
}

// serveBackend serves b on 127.0.0.1:0 until the test ends.
func serveBackend(t *testing.T, cfg Config, b Backend) string {
	t.Helper()
	s := New(cfg, b, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	return ln.Addr().String()
}

// TestRunUnitTakesTheKeys: EXEC, MSETNX and SMOVE run as units over their
// keys (an EXEC's watched keys included), and the writes inside carry the
// unit's context.
func TestRunUnitTakesTheKeys(t *testing.T) {
	clock := resptest.NewClock(startMs)
	ub := &unitBackend{Backend: resptest.NewBackend("n1", clock.NowMs)}
	c := dialRaw(t, serveBackend(t, Config{}, ub))
	for _, cmd := range []string{"SET x 1", "WATCH w", "MULTI", "SET a 1", "INCR b", "GET x", "EXEC", "MSETNX m1 1 m2 2", "SADD s1 v", "SMOVE s1 s2 v"} {
		c.do(strings.Split(cmd, " ")...)
	}
	want := [][]string{{"a", "b", "w", "x"}, {"m1", "m2"}, {"s1", "s2"}}
	if fmt.Sprint(ub.units) != fmt.Sprint(want) {
		t.Fatalf("units %v, want %v", ub.units, want)
	}
	// Outside: SET x, SADD. Inside: SET a, INCR b, 2 MSETNX sets, SMOVE's 2.
	if ub.inUnit != 6 || ub.outside != 2 {
		t.Fatalf("%d writes in units, %d outside; want 6 and 2", ub.inUnit, ub.outside)
	}
}

// TestRunUnitLocksWatchedKeysInTheirDatabase: an EXEC block's unit holds
// the lock of each watched key in the database it was watched in, not
// only in the one selected at EXEC.
func TestRunUnitLocksWatchedKeysInTheirDatabase(t *testing.T) {
	clock := resptest.NewClock(startMs)
	ub := &unitBackend{Backend: resptest.NewBackend("n1", clock.NowMs)}
	c := dialRaw(t, serveBackend(t, Config{}, ub))
	for _, cmd := range []string{"WATCH w", "SELECT 2", "MULTI", "SET a 1", "EXEC"} {
		c.do(strings.Split(cmd, " ")...)
	}
	if len(ub.units) != 1 {
		t.Fatalf("units %q, want one", ub.units)
	}
	sk := func(db int, k string) string { return string(ring.StoredKey(db, 0, []byte(k))) }
	if got := ub.units[0]; !slices.Contains(got, sk(0, "w")) || !slices.Contains(got, sk(2, "a")) {
		t.Fatalf("unit keys %q, want %q (db 0) and %q (db 2) among them", got, sk(0, "w"), sk(2, "a"))
	}
}

// TestTxForwardedBlockWatchSelect: a block forwarded to its slot's
// coordinator (DKV.EXEC) compares each watched key in the database it
// was watched in: a write of its name in the database selected at EXEC
// does not abort it, one in the watched database does.
func TestTxForwardedBlockWatchSelect(t *testing.T) {
	n1, n2, cls := startPair(t)
	theirs := tagOf(1) // n2's
	c := dialRaw(t, n1.addr)
	n2c := dialRaw(t, n2.addr)
	n2c.do("SELECT", "1")
	step := func(cmd, want string) {
		t.Helper()
		if got := c.do(strings.Split(cmd, " ")...); got != want {
			t.Fatalf("%s = %q, want %q", cmd, got, want)
		}
	}
	step("WATCH "+theirs+"w", "+OK\r\n")
	step("SELECT 1", "+OK\r\n")
	n2c.do("SET", theirs+"w", "db1") // another database's key of the same name
	step("MULTI", "+OK\r\n")
	step("SET "+theirs+"a 1", "+QUEUED\r\n")
	step("EXEC", "*1\r\n+OK\r\n")
	step("SELECT 0", "+OK\r\n")
	step("WATCH "+theirs+"w", "+OK\r\n")
	step("SELECT 1", "+OK\r\n")
	n2c.do("SELECT", "0")
	n2c.do("SET", theirs+"w", "db0") // the watched key
	step("MULTI", "+OK\r\n")
	step("SET "+theirs+"a 2", "+QUEUED\r\n")
	step("EXEC", "*-1\r\n")
	if cls[0].forwards.Load() != 2 {
		t.Fatalf("%d forwards, want one per block", cls[0].forwards.Load())
	}
}

// tagOf returns a hash tag whose slot's parity is parity: keys "{tag}…"
// all belong to one node of a parity cluster.
func tagOf(parity int) string {
	for i := 0; ; i++ {
		tag := "{t" + strconv.Itoa(i) + "}"
		if int(ring.Slot([]byte(tag)))%2 == parity {
			return tag
		}
	}
}

// TestTxForwardedBlock: a block whose keys share a slot another node
// coordinates runs there whole (DKV.EXEC), with RESP3 replies kept; a
// watched key is compared there; a block over both nodes' slots runs
// command by command, each where its key is coordinated.
func TestTxForwardedBlock(t *testing.T) {
	n1, n2, cls := startPair(t)
	theirs := tagOf(1) // n2's
	mine := tagOf(0)
	c := dialRaw(t, n1.addr)
	c.do("HELLO", "3")
	for _, tc := range []struct{ cmd, want string }{
		{"WATCH " + theirs + "w", "+OK\r\n"},
		{"MULTI", "+OK\r\n"},
		{"SET " + theirs + "a 1", "+QUEUED\r\n"},
		{"INCR " + theirs + "a", "+QUEUED\r\n"},
		{"SADD " + theirs + "s x", "+QUEUED\r\n"},
		{"SMEMBERS " + theirs + "s", "+QUEUED\r\n"},
		{"PING", "+QUEUED\r\n"},
		{"EXEC", "*5\r\n+OK\r\n:2\r\n:1\r\n~1\r\n$1\r\nx\r\n+PONG\r\n"},
	} {
		if got := c.do(strings.Split(tc.cmd, " ")...); got != tc.want {
			t.Fatalf("%s = %q, want %q", tc.cmd, got, tc.want)
		}
	}
	if n2.value(theirs+"a") != "2" || n1.value(theirs+"a") != "" {
		t.Fatalf("the block did not run on n2: n2 %q, n1 %q", n2.value(theirs+"a"), n1.value(theirs+"a"))
	}
	if cls[0].forwards.Load() != 1 {
		t.Fatalf("%d forwards, want one for the whole block", cls[0].forwards.Load())
	}
	// A watched key written on its coordinator since WATCH: null.
	c.do("WATCH", theirs+"w")
	n2c := dialRaw(t, n2.addr)
	n2c.do("SET", theirs+"w", "changed")
	c.do("MULTI")
	c.do("SET", theirs+"a", "lost")
	if got := c.do("EXEC"); got != "_\r\n" {
		t.Fatalf("EXEC after a watched key changed = %q, want the null", got)
	}
	if n2.value(theirs+"a") != "2" {
		t.Fatalf("an aborted block wrote: %q", n2.value(theirs+"a"))
	}
	// Across slots: each command where its key is coordinated.
	c.do("MULTI")
	c.do("SET", mine+"k", "1")
	c.do("SET", theirs+"k", "2")
	if got := c.do("EXEC"); got != "*2\r\n+OK\r\n+OK\r\n" {
		t.Fatalf("cross-slot EXEC = %q", got)
	}
	if n1.value(mine+"k") != "1" || n2.value(theirs+"k") != "2" {
		t.Fatalf("cross-slot block: n1 %q n2 %q", n1.value(mine+"k"), n2.value(theirs+"k"))
	}
}

// TestTxBlockFrames: DKV.EXEC's encoding round-trips, and malformed ones
// are refused.
func TestTxBlockFrames(t *testing.T) {
	keys := [][]byte{[]byte("a"), []byte("w")}
	watched := []watchedKey{{db: 3, key: []byte("w"), hist: []byte{3, 0, 0}, live: true}}
	queue := [][][]byte{{[]byte("SET"), []byte("a"), []byte("1")}, {[]byte("PING")}}
	args := encodeBlock(keys, watched, queue)
	k, w, q, ok := decodeBlock(args)
	if !ok || fmt.Sprint(k) != fmt.Sprint(keys) || len(w) != 1 || string(w[0].key) != "w" || w[0].db != 3 || !w[0].live || fmt.Sprint(q) != fmt.Sprint(queue) {
		t.Fatalf("round trip: %q %v %q %v", k, w, q, ok)
	}
	if pos := blockKeyPositions(args); fmt.Sprint(pos) != "[2 3]" {
		t.Fatalf("key positions %v", pos)
	}
	for _, bad := range [][]string{{"DKV.EXEC", "x"}, {"DKV.EXEC", "5", "a"}, {"DKV.EXEC", "0", "2", "k"}, {"DKV.EXEC", "0", "0", "3", "SET"}, {"DKV.EXEC", "0", "0", "0"}, {"DKV.EXEC", "0", "1", "w", "16", "h", "1"}, {"DKV.EXEC", "0", "1", "w", "x", "h", "1"}} {
		var a [][]byte
		for _, s := range bad {
			a = append(a, []byte(s))
		}
		if _, _, _, ok := decodeBlock(a); ok {
			t.Errorf("%q decoded", bad)
		}
	}
}

// TestTxWatchedKeyExpired: as Redis 7, EXEC aborts when a watched key
// that held a value at WATCH has expired since, and not when it had
// already expired at WATCH.
func TestTxWatchedKeyExpired(t *testing.T) {
	ts := startServer(t, Config{})
	c := dialRaw(t, ts.addr)
	c.do("SET", "k", "v", "PX", "100")
	c.do("WATCH", "k")
	ts.clock.Advance(200)
	c.do("MULTI")
	c.do("GET", "k")
	if got := c.do("EXEC"); got != "*-1\r\n" {
		t.Fatalf("EXEC after the watched key expired = %q, want the null array", got)
	}
	c.do("WATCH", "k") // already expired
	c.do("MULTI")
	c.do("GET", "k")
	if got := c.do("EXEC"); got != "*1\r\n$-1\r\n" {
		t.Fatalf("EXEC watching a key expired before WATCH = %q", got)
	}
}
