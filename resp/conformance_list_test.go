package resp

import (
	"fmt"
	"testing"

	"github.com/dynakv/dynakv/internal/conformance"
)

// TestConformanceLists compares every list command (issue 14), errors,
// blocking commands' timeouts and MULTI's non-blocking forms included,
// byte for byte with a real Redis 7 (redis-server from PATH), in RESP2
// and RESP3, over a fresh in-process server each time.
func TestConformanceLists(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServer(t, Config{})
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			n := conformance.Compare(t, ref, dut, conformance.Lists, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}
