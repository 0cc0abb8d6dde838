package tests

import (
	"fmt"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/internal/conformance"
	"github.com/dynakv/dynakv/ring"
)

// TestConformanceRealProcesses sends conformance.Types (every string,
// counter, hash, set and keyspace command of issue 11, error cases
// included), conformance.ZSets (issue 14's sorted sets) and conformance.HLLBits
// (issue 14's HyperLogLog, bitmap and SORT commands) to Debian's redis-server
// and to real dynakv processes — a lone
// `dynakv server`, and node 1 of a 3-node cluster (N=3 R=2 W=2), which
// forwards the writes of keys it does not coordinate — in RESP2 and RESP3,
// and compares every reply byte for byte (sorted where Redis's order is
// unspecified). Between the two protocols both sides are emptied: Redis by
// FLUSHALL, dynakv by DEL of every key KEYS lists.
//
// NB: dynakv is always a cluster, even as one process, so the script's
// lines whose keys span several slots are left out: Redis Cluster refuses
// them all with CROSSSLOT, a standalone Redis runs them, and dynakv splits
// MGET, MSET, DEL and EXISTS across slots (an extension) and refuses the
// rest as Redis Cluster does. The reference is a standalone Redis, and the
// skipped lines are found with its COMMAND GETKEYS.
func TestConformanceRealProcesses(t *testing.T) {
	heavy(t)
	redisAddr := startRedis(t, false)
	for _, tc := range []struct {
		name  string
		start func(t *testing.T) *Proc
	}{
		{"lone", func(t *testing.T) *Proc { return StartServer(t, "n1") }},
		{"cluster", func(t *testing.T) *Proc { return StartCluster(t, 3)[0] }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.start(t)
			for _, proto := range []int{2, 3} {
				t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
					ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, p.Addr)
					keys := conformance.Dial(t, redisAddr) // RESP2, for COMMAND GETKEYS
					ref.Do(t, "FLUSHALL")
					empty(t, dut)
					skipped := 0
					crossSlot := func(args []string) bool {
						if multiSlot(t, keys, args) {
							skipped++
							return true
						}
						return false
					}
					n := conformance.Compare(t, ref, dut, conformance.Types, proto, crossSlot)
					n += conformance.Compare(t, ref, dut, conformance.ZSets, proto, crossSlot)
					n += conformance.Compare(t, ref, dut, conformance.HLLBits, proto, crossSlot)
					t.Logf("%s, RESP%d: %d commands compared, %d across slots left out", tc.name, proto, n, skipped)
				})
			}
		})
	}
}

// multiSlot reports whether the keys of command args (as Redis's COMMAND
// GETKEYS finds them) lie in more than one slot.
func multiSlot(t *testing.T, c *conformance.Conn, args []string) bool {
	raw := c.Do(t, append([]string{"COMMAND", "GETKEYS"}, args...)...)
	if !strings.HasPrefix(raw, "*") {
		return false // no keys, or arguments Redis refuses: compared as they are
	}
	slots := map[uint16]bool{}
	lines := strings.Split(raw, "\r\n")
	for i := 1; i+1 < len(lines); i += 2 {
		slots[ring.Slot([]byte(lines[i+1]))] = true
	}
	return len(slots) > 1
}

// empty deletes every key of the dynakv node c is connected to, one DEL
// per key (keys of several slots may not share a command).
func empty(t *testing.T, c *conformance.Conn) {
	t.Helper()
	raw := c.Do(t, "KEYS", "*")
	lines := strings.Split(raw, "\r\n")
	for i := 1; i+1 < len(lines); i += 2 {
		if got := c.Do(t, "DEL", lines[i+1]); !strings.HasPrefix(got, ":") {
			t.Fatalf("DEL %s: %q", lines[i+1], got)
		}
	}
	if got := c.Do(t, "DBSIZE"); got != ":0\r\n" {
		t.Fatalf("DBSIZE after emptying: %q", got)
	}
}
