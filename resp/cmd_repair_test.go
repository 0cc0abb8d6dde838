package resp

import (
	"sync/atomic"
	"testing"
)

// repairCluster is a staticCluster with anti-entropy: Repair queues
// queued exchanges; each RepairPending call sees one more of them end
// unless stuck.
type repairCluster struct {
	*staticCluster
	queued  int
	pending atomic.Int64
	stuck   atomic.Bool
}

func (r *repairCluster) Repair(p int) (int, error) {
	r.pending.Add(int64(r.queued))
	return r.queued, nil
}

func (r *repairCluster) RepairPending() int {
	if r.stuck.Load() {
		return int(r.pending.Load())
	}
	return int(max(r.pending.Add(-1), 0))
}

// TestClusterRepairWait: CLUSTER REPAIR replies how many exchanges it
// queued; CLUSTER REPAIR WAIT blocks until none is pending and replies 0,
// or replies how many are still pending when its timeout passes; bad
// arguments get Redis's errors.
func TestClusterRepairWait(t *testing.T) {
	cl := &repairCluster{staticCluster: threeNodes(), queued: 3}
	ts := startClusterServer(t, cl)
	raw := dialRaw(t, ts.addr)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "REPAIR"}, ":3\r\n"},
		{[]string{"CLUSTER", "REPAIR", "WAIT"}, ":0\r\n"},
		{[]string{"CLUSTER", "REPAIR", "wait", "0"}, ":0\r\n"},
		{[]string{"CLUSTER", "REPAIR", "WAIT", "x"}, "-ERR timeout is not an integer or out of range\r\n"},
		{[]string{"CLUSTER", "REPAIR", "WAIT", "-1"}, "-ERR timeout is negative\r\n"},
		{[]string{"CLUSTER", "REPAIR", "WAIT", "1", "2"}, "-ERR syntax error\r\n"},
	} {
		if got := raw.do(tc.args...); got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
	}
	cl.stuck.Store(true)
	cl.pending.Store(2)
	if got := raw.do("CLUSTER", "REPAIR", "WAIT", "1"); got != ":2\r\n" {
		t.Errorf("CLUSTER REPAIR WAIT 1 with 2 exchanges stuck = %q, want :2", got)
	}
}
