package replica

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestScanRanges: paging through random sorted, disjoint cursor ranges with
// ScanRanges and ResumeRanges visits exactly the keys inside them, each
// once and in key order, whatever the page size; RangesBefore of a page's
// resume cursor is the span that page covered.
func TestScanRanges(t *testing.T) {
	seed := testseed.Seed(t)
	r := rand.New(rand.NewPCG(seed, 7))
	s := openMem(t, vfs.NewMem(), &fakeClock{}, nil)
	var all []Cursor
	keys := map[Cursor][]string{}
	for i := range 2000 {
		k := fmt.Sprintf("k%d", i)
		if err := s.Merge(context.Background(), []byte(k), crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "a", Counter: uint64(i + 1)}, Value: []byte(k)}))); err != nil {
			t.Fatal(err)
		}
		c := CursorOf([]byte(k))
		all = append(all, c)
		keys[c] = append(keys[c], k)
	}
	for round := range 50 {
		// Random cut points make the ranges; every other one is kept, and
		// the last may run to the end.
		cuts := []Cursor{0}
		for range 1 + r.IntN(20) {
			cuts = append(cuts, Cursor(r.Uint64()))
		}
		slices.Sort(cuts)
		cuts = slices.Compact(cuts)
		var ranges []Range
		for i := 0; i+1 < len(cuts); i += 2 {
			ranges = append(ranges, Range{From: cuts[i], To: cuts[i+1]})
		}
		if len(cuts)%2 == 1 && r.IntN(2) == 0 {
			ranges = append(ranges, Range{From: cuts[len(cuts)-1]})
		}
		want := 0
		for _, c := range all {
			for _, rg := range ranges {
				if c >= rg.From && (rg.To == 0 || c < rg.To) {
					want++
				}
			}
		}
		page := 1 + r.IntN(100)
		var got []string
		var last Cursor
		for rs := ranges; len(rs) > 0; {
			next, es, err := s.ScanRanges(context.Background(), rs, page)
			if err != nil {
				t.Fatal(err)
			}
			covered := rs
			if next != 0 {
				covered = RangesBefore(rs, next)
			}
			for _, e := range es {
				c := CursorOf(e.Key)
				if c < last {
					t.Fatalf("seed %d round %d: %q out of order", seed, round, e.Key)
				}
				last = c
				in := false
				for _, rg := range covered {
					in = in || c >= rg.From && (rg.To == 0 || c < rg.To)
				}
				if !in {
					t.Fatalf("seed %d round %d: %q (%x) outside the covered span %v", seed, round, e.Key, c, covered)
				}
				got = append(got, string(e.Key))
			}
			if next == 0 {
				break
			}
			rs = ResumeRanges(rs, next)
		}
		if len(got) != want || len(slices.Compact(slices.Sorted(slices.Values(got)))) != want {
			t.Fatalf("seed %d round %d: %d keys visited (page %d), want %d distinct", seed, round, len(got), page, want)
		}
	}
}
