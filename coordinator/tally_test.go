package coordinator

import "testing"

// TestTallyResult checks Tally.Result on every boundary of the rule: Won
// at Need acknowledgements, Pending while the replies still due can reach
// Need, NeedReserve only when they cannot and a reserve is left, Lost when
// neither.
func TestTallyResult(t *testing.T) {
	for _, tc := range []struct {
		name string
		t    Tally
		want Outcome
	}{
		{"nothing sent, no reserve", Tally{Need: 2}, Lost},
		{"nothing sent, reserve", Tally{Need: 2, Reserve: 3}, NeedReserve},
		{"all in flight", Tally{Need: 2, Sent: 3}, Pending},
		{"one ack, one due", Tally{Need: 2, Sent: 3, Acked: 1, Failed: 1}, Pending},
		{"quorum met", Tally{Need: 2, Sent: 3, Acked: 2}, Won},
		{"quorum met despite failures", Tally{Need: 2, Sent: 3, Acked: 2, Failed: 1}, Won},
		{"more than quorum", Tally{Need: 1, Sent: 3, Acked: 3}, Won},
		{"won beats reserve", Tally{Need: 2, Sent: 2, Acked: 2, Reserve: 1}, Won},
		{"pending beats reserve", Tally{Need: 2, Sent: 2, Acked: 1, Reserve: 1}, Pending},
		{"too many failed, reserve left", Tally{Need: 2, Sent: 3, Acked: 1, Failed: 2, Reserve: 1}, NeedReserve},
		{"too many failed, no reserve", Tally{Need: 2, Sent: 3, Acked: 1, Failed: 2}, Lost},
		{"all failed", Tally{Need: 1, Sent: 3, Failed: 3}, Lost},
		{"write: local ack, peers failed", Tally{Need: 2, Sent: 3, Acked: 1, Failed: 2}, Lost},
		{"write W=1 local only", Tally{Need: 1, Sent: 1, Acked: 1}, Won},
		{"reserve too small still asked", Tally{Need: 3, Sent: 2, Acked: 1, Failed: 1, Reserve: 1}, NeedReserve},
	} {
		if got := tc.t.Result(); got != tc.want {
			t.Errorf("%s: %+v.Result() = %v, want %v", tc.name, tc.t, got, tc.want)
		}
	}
}
