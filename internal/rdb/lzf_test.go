package rdb

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/internal/testseed"
)

// TestEncodeStringsAsRedis: strings are written as rdbSaveRawString
// writes them: int8/16/32 integer encodings for canonical integers of at
// most 11 bytes, LZF for compressible strings of more than 20 bytes
// (these payloads are redis-server 7.0's DUMP output), raw otherwise.
// (resp's TestConformanceHLLRestore and a resp-diff run compare dense
// HLL and random strings' DUMPs with redis-server.)
func TestEncodeStringsAsRedis(t *testing.T) {
	for _, c := range []struct{ val, payload string }{
		{"12345", "\x00\xc190\n\x00\x9d\x94\xea'\x93\xfc\b\xb9"},
		{strings.Repeat("a", 100), "\x00\xc3\t@d\x01aa\xe0W\x00\x01aa\n\x00\xe8\xa3\xb5\a\xb0m\xf2q"},
		{"hello", "\x00\x05hello\n\x00cr\xdfve4 \n"},
	} {
		if got := Encode(Value{Kind: String, Str: []byte(c.val)}); string(got) != c.payload {
			t.Errorf("%.20q: %q, want %q", c.val, got, c.payload)
		}
	}
	for _, v := range []string{"0", "-128", "127", "128", "-32769", "2147483647", "2147483648", "12345678901", "007", "-0", "+5", ""} {
		got, err := Decode(Encode(Value{Kind: String, Str: []byte(v)}))
		if err != nil || string(got.Str) != v {
			t.Errorf("%q round trip: %q %v", v, got.Str, err)
		}
	}
}

// TestLZFRoundTrip: whatever lzfCompress produces decompresses to its
// input, within the size it was given; seeded inputs from incompressible
// to runs.
func TestLZFRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(testseed.Seed(t), 0))
	for i := 0; i < 2000; i++ {
		n := 3 + rng.IntN(3000)
		alpha := 1 + rng.IntN(255)
		in := make([]byte, n)
		for j := range in {
			if j > 0 && rng.IntN(4) == 0 {
				in[j] = in[j-1]
			} else {
				in[j] = byte(rng.IntN(alpha))
			}
		}
		out := lzfCompress(in, n-4)
		if out == nil {
			continue
		}
		if len(out) > n-4 {
			t.Fatalf("%d bytes into %d", len(out), n-4)
		}
		back, err := lzfDecompress(out, uint64(n))
		if err != nil || !bytes.Equal(back, in) {
			t.Fatalf("round trip of %d bytes (alphabet %d): %v", n, alpha, err)
		}
	}
}
