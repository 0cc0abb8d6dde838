package rdb

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestListRoundTrip: a list of every listpack entry kind (integers of each
// width, non-canonical numbers as strings, strings of 6-, 12- and 32-bit
// lengths) spread over several nodes encodes as quicklist 2 and decodes to
// the same elements; the plain RDB list type decodes too.
func TestListRoundTrip(t *testing.T) {
	elems := [][]byte{[]byte(""), []byte("0"), []byte("127"), []byte("128"), []byte("-4096"), []byte("4095"),
		[]byte("-32768"), []byte("8388607"), []byte("-2147483648"), []byte("9223372036854775807"),
		[]byte("-9223372036854775808"), []byte("007"), []byte("+1"), []byte("1.5"),
		[]byte(strings.Repeat("x", 63)), []byte(strings.Repeat("y", 4095)), []byte(strings.Repeat("z", 70000))}
	for i := range 2000 {
		elems = append(elems, []byte(fmt.Sprint(i*7919)))
	}
	v, err := Decode(Encode(Value{Kind: List, Elems: elems}))
	if err != nil {
		t.Fatal(err)
	}
	if v.Kind != List || !slices.EqualFunc(v.Elems, elems, func(a, b []byte) bool { return string(a) == string(b) }) {
		t.Fatalf("round trip: %d elements, want %d", len(v.Elems), len(elems))
	}
	plain := []byte{typeList, 2, 1, 'a', 0}
	plain = append(plain, 10, 0)
	plain = appendCRC(plain)
	if v, err := Decode(plain); err != nil || len(v.Elems) != 2 || string(v.Elems[0]) != "a" || string(v.Elems[1]) != "" {
		t.Fatalf("plain list: %v %q", err, v.Elems)
	}
}

func appendCRC(b []byte) []byte {
	c := CRC64(0, b)
	for i := range 8 {
		b = append(b, byte(c>>(8*i)))
	}
	return b
}
