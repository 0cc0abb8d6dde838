package rdb

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

// Payloads redis-server 7.0 made of ZADD dz 1 a 2.5 b inf c -3 d: as a
// listpack (its default) and, with zset-max-listpack-entries 0, as a
// skiplist (RDB_TYPE_ZSET_2).
const (
	redisZSetListpack = "\x11\"\"\x00\x00\x00\x08\x00\x81d\x02\xdf\xfd\x02\x81a\x02\x01\x01\x81b\x02\x832.5\x04\x81c\x02\x83inf\x04\xff\n\x00\xf8!\xe3Lz\xae[\x14"
	redisZSet2        = "\x05\x04\x01c\x00\x00\x00\x00\x00\x00\xf0\x7f\x01b\x00\x00\x00\x00\x00\x00\x04@\x01a\x00\x00\x00\x00\x00\x00\xf0?\x01d\x00\x00\x00\x00\x00\x00\x08\xc0\n\x00g[hq\xc6\xea\xb9L"
)

func sortedDZ() Value {
	return Value{Kind: ZSet, Members: [][]byte{[]byte("d"), []byte("a"), []byte("b"), []byte("c")}, Scores: []float64{-3, 1, 2.5, math.Inf(1)}}
}

func TestZSetPayloads(t *testing.T) {
	lp, err := Decode([]byte(redisZSetListpack))
	if err != nil || fmt.Sprint(lp) != fmt.Sprint(sortedDZ()) {
		t.Fatalf("listpack: %v %v", lp, err)
	}
	z2, err := Decode([]byte(redisZSet2))
	if err != nil || len(z2.Members) != 4 || string(z2.Members[0]) != "c" || !math.IsInf(z2.Scores[0], 1) {
		t.Fatalf("zset2: %v %v", z2, err)
	}
	if got := Encode(sortedDZ()); string(got) != redisZSet2 {
		t.Fatalf("Encode: %q, want Redis's %q", got, redisZSet2)
	}
	nan := Encode(Value{Kind: ZSet, Members: [][]byte{[]byte("x")}, Scores: []float64{math.NaN()}})
	if _, err := Decode(nan); !errors.Is(err, ErrFormat) {
		t.Fatalf("NaN score: %v", err)
	}
	text := withFooter([]byte{typeZSet, 2, 1, 'a', 3, '1', '.', '5', 1, 'b', 254})
	if v, err := Decode(text); err != nil || fmt.Sprint(v.Scores) != "[1.5 +Inf]" {
		t.Fatalf("text scores: %v %v", v, err)
	}
}
