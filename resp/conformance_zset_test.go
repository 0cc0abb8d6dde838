package resp

import (
	"fmt"
	"testing"
	"time"

	"github.com/dynakv/dynakv/internal/conformance"
)

// TestConformanceZSets compares every sorted-set command (conformance.ZSets:
// options, errors, score formatting, TYPE, OBJECT ENCODING, RENAME, COPY,
// MOVE) byte for byte with a real Redis 7 in RESP2 and in RESP3, over a
// fresh in-process server each time.
func TestConformanceZSets(t *testing.T) {
	redisAddr := startRedis(t)
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			ts := startServerAt(t, time.Now().UnixMilli())
			ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
			ref.Do(t, "FLUSHALL")
			n := conformance.Compare(t, ref, dut, conformance.ZSets, proto, nil)
			t.Logf("RESP%d: %d commands compared", proto, n)
		})
	}
}
