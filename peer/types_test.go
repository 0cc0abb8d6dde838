package peer_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/dynakv/dynakv/peer"
)

// TestHashWire: a Hash round-trips through its 16-byte wire form, and
// another length is ErrShape.
func TestHashWire(t *testing.T) {
	h := peer.Hash{Hi: 0x0123456789abcdef, Lo: 0xfedcba9876543210}
	b := h.AppendBinary([]byte("x"))
	if len(b) != 17 || b[0] != 'x' {
		t.Fatalf("AppendBinary = %x", b)
	}
	got, err := peer.HashFromBytes(b[1:])
	if err != nil || got != h {
		t.Fatalf("HashFromBytes = %v, %v; want %v", got, err, h)
	}
	if got.String() != "0123456789abcdeffedcba9876543210" {
		t.Errorf("String = %s", got)
	}
	if _, err := peer.HashFromBytes(b[:15]); !errors.Is(err, peer.ErrShape) {
		t.Errorf("15 bytes: %v, want ErrShape", err)
	}
	if !(peer.Hash{}).IsZero() || h.IsZero() {
		t.Error("IsZero")
	}
}

// TestRanges: ResumeRanges drops what a page covered and RangesBefore
// keeps exactly that.
func TestRanges(t *testing.T) {
	rs := []peer.Range{{From: 10, To: 20}, {From: 30, To: 40}, {From: 50, To: 0}}
	for _, tc := range []struct {
		at             peer.Cursor
		resume, before []peer.Range
	}{
		{5, rs, nil},
		{15, []peer.Range{{From: 15, To: 20}, {From: 30, To: 40}, {From: 50, To: 0}}, []peer.Range{{From: 10, To: 15}}},
		{20, []peer.Range{{From: 30, To: 40}, {From: 50, To: 0}}, []peer.Range{{From: 10, To: 20}}},
		{60, []peer.Range{{From: 60, To: 0}}, []peer.Range{{From: 10, To: 20}, {From: 30, To: 40}, {From: 50, To: 60}}},
	} {
		if got := peer.ResumeRanges(rs, tc.at); !slices.Equal(got, tc.resume) {
			t.Errorf("ResumeRanges(%d) = %v, want %v", tc.at, got, tc.resume)
		}
		if got := peer.RangesBefore(rs, tc.at); !slices.Equal(got, tc.before) {
			t.Errorf("RangesBefore(%d) = %v, want %v", tc.at, got, tc.before)
		}
	}
	if rs[0].From != 10 {
		t.Error("ResumeRanges changed its argument")
	}
}
