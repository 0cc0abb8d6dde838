package rdb

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/internal/testseed"
)

// TestCRC64 is Redis's own check value of crc64 (crc64.c's test).
func TestCRC64(t *testing.T) {
	if got := CRC64(0, []byte("123456789")); got != 0xe9c6d914c4b8d9ca {
		t.Fatalf("crc64(123456789) = %#x, want 0xe9c6d914c4b8d9ca", got)
	}
}

// TestDecodeRedisPayloads decodes DUMP payloads made by redis-server 7.0:
// a raw string, an int-encoded one, an LZF-compressed one, a listpack
// hash, an intset and a plain set.
func TestDecodeRedisPayloads(t *testing.T) {
	for _, c := range []struct {
		name, payload string
		want          Value
	}{
		{"raw string", "\x00\x05hello\n\x00cr\xdfve4 \n", Value{Kind: String, Str: []byte("hello")}},
		{"int string", "\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9", Value{Kind: String, Str: []byte("12345")}},
		{"lzf string", "\x00\xc3\t@d\x01aa\xe0W\x00\x01aa\n\x00\xe8\xa3\xb5\a\xb0m\xf2q", Value{Kind: String, Str: []byte(strings.Repeat("a", 100))}},
		{"listpack hash", "\x10\x12\x12\x00\x00\x00\x04\x00\x81f\x02\x81v\x02\x81g\x02{\x01\xff\n\x00\x17=c\xea\xa0\xa4\xe45",
			Value{Kind: Hash, Fields: [][2][]byte{{[]byte("f"), []byte("v")}, {[]byte("g"), []byte("123")}}}},
		{"intset", "\x0b\x0e\x02\x00\x00\x00\x03\x00\x00\x00\x01\x00\x02\x00,\x01\n\x00\xe5\x10\xb2\x8e{\x95)\xaa",
			Value{Kind: Set, Members: [][]byte{[]byte("1"), []byte("2"), []byte("300")}}},
		{"set", "\x02\x02\x01a\x01b\n\x00\xfed!%\xeb\x03=\r", Value{Kind: Set, Members: [][]byte{[]byte("a"), []byte("b")}}},
	} {
		got, err := Decode([]byte(c.payload))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestEncodeMatchesRedis: a raw string and a plain set are written byte
// for byte as Redis 7.0 writes them.
func TestEncodeMatchesRedis(t *testing.T) {
	if got := Encode(Value{Kind: String, Str: []byte("hello")}); string(got) != "\x00\x05hello\n\x00cr\xdfve4 \n" {
		t.Errorf("string: %q", got)
	}
	if got := Encode(Value{Kind: Set, Members: [][]byte{[]byte("a"), []byte("b")}}); string(got) != "\x02\x02\x01a\x01b\n\x00\xfed!%\xeb\x03=\r" {
		t.Errorf("set: %q", got)
	}
}

// TestRoundTripAndRefusals: Encode's payloads decode to the same value
// (lengths of every prefix size), and damaged, newer or foreign payloads
// are refused with their sentinel, never a panic.
func TestRoundTripAndRefusals(t *testing.T) {
	seed := testseed.Seed(t)
	rnd := rand.New(rand.NewPCG(seed, seed))
	blob := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rnd.Uint32())
		}
		return b
	}
	vals := []Value{
		{Kind: String, Str: []byte{}},
		{Kind: String, Str: blob(70)},
		{Kind: String, Str: blob(20000)},
		{Kind: Hash, Fields: [][2][]byte{{blob(3), blob(300)}, {blob(1), blob(0)}}},
		{Kind: Set, Members: [][]byte{blob(5), blob(17000)}},
	}
	for i, v := range vals {
		p := Encode(v)
		got, err := Decode(p)
		if err != nil || fmt.Sprint(got) != fmt.Sprint(v) {
			t.Fatalf("value %d: round trip %v (seed %d)", i, err, seed)
		}
		bad := slices.Clone(p)
		bad[len(bad)/2] ^= 1
		if _, err := Decode(bad); !errors.Is(err, ErrChecksum) {
			t.Errorf("value %d damaged: %v, want ErrChecksum", i, err)
		}
	}
	newer := Encode(vals[1])
	newer[len(newer)-10] = Version + 1
	if _, err := Decode(newer); !errors.Is(err, ErrChecksum) {
		t.Errorf("RDB version 11: %v, want ErrChecksum", err)
	}
	stream := withFooter([]byte{15, 0}) // a stream: not in dynakv
	if _, err := Decode(stream); !errors.Is(err, ErrType) {
		t.Errorf("a stream payload: %v, want ErrType", err)
	}
	for range 2000 { // hostile bodies with a valid footer
		body := blob(rnd.IntN(40))
		if len(body) > 0 {
			body[0] = []byte{0, 2, 4, 11, 13, 16, 3, 5, 12, 17, 1, 10, 14, 18}[rnd.IntN(14)]
		}
		if _, err := Decode(withFooter(body)); err != nil && !errors.Is(err, ErrFormat) && !errors.Is(err, ErrType) {
			t.Fatalf("hostile %q: %v (seed %d)", body, err, seed)
		}
	}
}

// withFooter appends version 10 and the checksum to an RDB object.
func withFooter(b []byte) []byte {
	b = append(slices.Clone(b), Version, 0)
	c := CRC64(0, b)
	for i := range 8 {
		b = append(b, byte(c>>(8*i)))
	}
	return b
}
