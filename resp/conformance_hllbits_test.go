package resp

import (
	"fmt"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/conformance"
)

// TestConformanceHLLBits compares issue 14's HyperLogLog, bitmap and SORT
// commands (conformance.HLLBits, errors included) byte for byte with a
// real Redis 7 in RESP2 and RESP3, over a fresh in-process server each
// time: GET of HLL keys checks Redis's exact sparse and dense bytes.
func TestConformanceHLLBits(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			n := conformance.Compare(t, ref, dut, conformance.HLLBits, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}
