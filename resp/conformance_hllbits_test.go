package resp

import (
	"fmt"
	"strings"
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

// TestConformanceHLLRestore: a dense HLL DUMPed by redis-server (an
// LZF-compressed string payload) RESTOREs into dynakv with the same bytes
// and count, and PFADD/PFMERGE then behave as on Redis; DUMP of dense
// and sparse HLLs is Redis's byte for byte (LZF included).
func TestConformanceHLLRestore(t *testing.T) {
	redisAddr := startRedis(t)
	ts := startServerAt(t, time.Now().UnixMilli())
	ref, dut := conformance.Dial(t, redisAddr), conformance.Dial(t, ts.addr)
	ref.Do(t, "FLUSHALL")
	add := []string{"PFADD", "{r}d"}
	for i := 0; i < 3000; i++ {
		add = append(add, fmt.Sprint("el", i))
	}
	ref.Do(t, add...)
	dump := ref.Do(t, "DUMP", "{r}d")
	payload := dump[strings.Index(dump, "\r\n")+2 : len(dump)-2]
	for _, c := range []*conformance.Conn{ref, dut} {
		if got := c.Do(t, "RESTORE", "{r}copy", "0", payload, "REPLACE"); got != "+OK\r\n" {
			t.Fatalf("RESTORE: %q", got)
		}
	}
	for _, args := range [][]string{
		{"GET", "{r}copy"},
		{"DUMP", "{r}copy"},
		{"PFCOUNT", "{r}copy"},
		{"DUMP", "{r}copy"},
		{"PFADD", "{r}copy", "x", "y", "z"},
		{"GET", "{r}copy"},
		{"PFADD", "{r}small", "a", "b", "c"},
		{"DUMP", "{r}small"},
		{"PFMERGE", "{r}small", "{r}copy"},
		{"GET", "{r}small"},
		{"PFCOUNT", "{r}small", "{r}copy"},
	} {
		if want, got := ref.Do(t, args...), dut.Do(t, args...); want != got {
			t.Errorf("%v:\n redis: %.200q\n  ours: %.200q", args, want, got)
		}
	}
}
