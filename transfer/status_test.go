package transfer

import (
	"strings"
	"testing"
)

// TestStatusFieldsAlias: Fields("handoff"), INFO's alias section of
// earlier versions, shows the same values as Fields("transfer") under the
// old handoff_* names, in the same order; ETA -1 reads "unknown".
func TestStatusFieldsAlias(t *testing.T) {
	s := Status{Moving: 3, ToSend: 2, Active: "7>n2", PartitionsSent: 1, KeysSent: 100, BytesSent: 4096,
		KeysDropped: 5, Rate: 12.4, ETA: -1, RateLimit: 20000, Leave: "no"}
	now, old := s.Fields("transfer"), s.Fields("handoff")
	if len(now) != len(old) || len(now) != 11 {
		t.Fatalf("%d transfer fields, %d handoff fields, want 11", len(now), len(old))
	}
	for i := range now {
		want := now[i].Name
		if rest, ok := strings.CutPrefix(want, "transfer_"); ok {
			want = "handoff_" + rest
		}
		if old[i].Name != want || old[i].Value != now[i].Value {
			t.Errorf("alias field %s:%s, want %s:%s", old[i].Name, old[i].Value, want, now[i].Value)
		}
	}
	got := map[string]string{}
	for _, f := range now {
		got[f.Name] = f.Value
	}
	for name, want := range map[string]string{"transfer_partitions_moving": "3", "transfer_active": "7>n2",
		"transfer_bytes_sent": "4096", "transfer_rate_keys_per_sec": "12", "transfer_eta_seconds": "unknown",
		"transfer_rate_limit": "20000", "leave_status": "no"} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	s.ETA = 2.5
	if f := s.Fields("transfer")[7]; f.Name != "transfer_eta_seconds" || f.Value != "2.5" {
		t.Errorf("eta field %+v", f)
	}
}
