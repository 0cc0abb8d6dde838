package resp

import (
	"io"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestForwardedBlockClientGoneAtOnce: a client of n1 blocked in a pop of
// a key n2 coordinates (BLPOP, BLMOVE, BZPOPMIN, forwarded to n2) closes
// its connection: n1 sees the close at once, not at its next periodic
// check (clientCheckEvery, an hour here, so only the wait for the close
// can see it), drops the forward's peer connection, and the waiter on n2
// leaves without taking the element pushed afterwards. Found by redis-py
// in a cluster: a worker whose socket timed out while its BLMOVE waited
// had the next job moved for it, lost.
func TestForwardedBlockClientGoneAtOnce(t *testing.T) {
	old := clientCheckEvery
	clientCheckEvery = time.Hour
	t.Cleanup(func() { clientCheckEvery = old })
	n1, n2, _ := startPair(t)
	_, theirs := keysOf(3) // n2's keys, as n1 sees them
	c1, c2 := n1.client(t, 2, ""), n2.client(t, 2, "")
	cases := []struct {
		block []string
		push  func(k string) error
		left  func(k string) []string // what the push left, read on n2
	}{
		{[]string{"BLPOP", "{%s}", "0"},
			func(k string) error { return c1.RPush(bg, k, "kept").Err() },
			func(k string) []string { return c2.LRange(bg, k, 0, -1).Val() }},
		{[]string{"BLMOVE", "{%s}", "{%s}dst", "LEFT", "RIGHT", "0"},
			func(k string) error { return c1.RPush(bg, k, "kept").Err() },
			func(k string) []string { return c2.LRange(bg, k, 0, -1).Val() }},
		{[]string{"BZPOPMIN", "{%s}", "0"},
			func(k string) error { return c1.ZAdd(bg, k, redis.Z{Score: 1, Member: "kept"}).Err() },
			func(k string) []string { return c2.ZRange(bg, k, 0, -1).Val() }},
	}
	for i, tc := range cases {
		k := "{" + theirs[i] + "}"
		args := slices.Clone(tc.block)
		for j, a := range args {
			args[j] = strings.ReplaceAll(a, "{%s}", k)
		}
		nc, err := net.Dial("tcp", n1.addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(nc, multibulk(args...)); err != nil {
			t.Fatal(err)
		}
		waitBlocked(t, n2, 1)
		nc.Close()
		deadline := time.Now().Add(10 * time.Second)
		for n1.blockedClients() != 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s: n1 still has its client blocked 10 s after the client closed", args[0])
			}
			time.Sleep(time.Millisecond)
		}
		// n2's waiter sees its peer connection closed at its next check.
		waitBlocked(t, n2, 0)
		if err := tc.push(k); err != nil {
			t.Fatal(err)
		}
		if got := tc.left(k); !slices.Equal(got, []string{"kept"}) {
			t.Fatalf("%s: after the blocked client left, the push left %v, want [kept]", args[0], got)
		}
	}
}
