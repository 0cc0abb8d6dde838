package dvv_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	r := newRand(testSeed(t), 2)
	objs := []dvv.Object{{}, {Context: dvv.VV{}}, {Context: dvv.VV{"n1": 0}}}
	for range 3000 {
		objs = append(objs, randObject(r))
	}
	for i, o := range objs {
		mustValid(t, "generated object", o)
		enc := o.Encode()
		got, err := dvv.Decode(enc)
		if err != nil {
			t.Fatalf("object %d: Decode(Encode(%s)) = %v", i, describe(o), err)
		}
		if d := sameObject(got, o); d != "" {
			t.Fatalf("object %d: round trip changed it: %s", i, d)
		}
		if !dvv.Equal(got, o) {
			t.Fatalf("object %d: round trip is not Equal", i)
		}
		if re := got.Encode(); !bytes.Equal(re, enc) {
			t.Fatalf("object %d: re-encoding differs:\n%x\n%x", i, enc, re)
		}
		if app := o.AppendEncode([]byte("prefix")); !bytes.Equal(app, append([]byte("prefix"), enc...)) {
			t.Fatalf("object %d: AppendEncode differs from Encode", i)
		}
		if n := o.EncodedLen(); n != len(enc) {
			t.Fatalf("object %d: EncodedLen %d, encoding of %d bytes", i, n, len(enc))
		}
	}
}

func TestEncodeIsCanonical(t *testing.T) {
	r := newRand(testSeed(t), 3)
	for i := range 500 {
		o := randObject(r)
		// The same object, rebuilt: context maps filled in a different
		// order and with more capacity, zero entries added, nil and empty
		// values swapped.
		p := dvv.Object{Context: make(dvv.VV, 64)}
		for _, a := range []string{"zz", "n0", "\xff"} {
			p.Context[a] = 0
		}
		for _, s := range o.Siblings {
			s2 := s
			if !s.Tombstone && len(s.Value) == 0 {
				if s.Value == nil {
					s2.Value = []byte{}
				} else {
					s2.Value = nil
				}
			}
			if s.Value != nil {
				s2.Value = bytes.Clone(s.Value)
			}
			p.Siblings = append(p.Siblings, s2)
		}
		for k, v := range o.Context {
			p.Context[k] = v
		}
		if !bytes.Equal(o.Encode(), p.Encode()) {
			t.Fatalf("object %d: equal objects encode differently:\n%x\n%x", i, o.Encode(), p.Encode())
		}
		if !dvv.Equal(o, p) {
			t.Fatalf("object %d: Equal is false for equal objects", i)
		}
		// Encoding is deterministic despite random map iteration.
		for range 5 {
			if !bytes.Equal(o.Encode(), p.Encode()) {
				t.Fatalf("object %d: encoding is not deterministic", i)
			}
		}
	}
	// Objects that differ in anything encode differently.
	base := dvv.Object{Context: dvv.VV{"n1": 2}, Siblings: []dvv.Sibling{{Dot: dot("n1", 2), Timestamp: 5, Expiry: 9, Value: []byte("v")}}}
	variants := []func(*dvv.Object){
		func(o *dvv.Object) { o.Context = dvv.VV{"n1": 3} },
		func(o *dvv.Object) { o.Context = dvv.VV{"n1": 2, "n2": 1} },
		func(o *dvv.Object) { o.Siblings[0].Timestamp = 6 },
		func(o *dvv.Object) { o.Siblings[0].Expiry = 0 },
		func(o *dvv.Object) { o.Siblings[0].Value = []byte("w") },
		func(o *dvv.Object) { o.Siblings[0].Value = nil },
		func(o *dvv.Object) { o.Siblings[0].Tombstone, o.Siblings[0].Value = true, nil },
		func(o *dvv.Object) { o.Siblings[0].Dot.Counter = 1 },
		func(o *dvv.Object) { o.Siblings = nil },
	}
	for i, mutate := range variants {
		v := cloneObject(base)
		mutate(&v)
		if dvv.Equal(base, v) {
			t.Errorf("variant %d: different objects are Equal", i)
		}
	}
}

func TestTokenRoundTrip(t *testing.T) {
	r := newRand(testSeed(t), 4)
	for i := range 3000 {
		v := randVV(r)
		tok := dvv.EncodeToken(v)
		got, err := dvv.DecodeToken(tok)
		if err != nil {
			t.Fatalf("vv %d: DecodeToken(EncodeToken(%v)) = %v", i, v, err)
		}
		if !got.Equal(v) {
			t.Fatalf("vv %d: round trip %v -> %v", i, v, got)
		}
		for a, c := range got {
			if c == 0 {
				t.Fatalf("vv %d: decoded zero entry for %q", i, a)
			}
		}
		if again := dvv.EncodeToken(got); again != tok {
			t.Fatalf("vv %d: token not canonical: %q vs %q", i, tok, again)
		}
		if strings.ContainsAny(tok, "+/=\n ") {
			t.Fatalf("vv %d: token %q is not raw URL-safe base64", i, tok)
		}
	}
	// A VGET token fed back to VSET supersedes what the read saw.
	o := dvv.Object{Context: dvv.VV{"n1": 2, "n2": 1}, Siblings: []dvv.Sibling{sib("n1", 2, 0, "a"), sib("n2", 1, 0, "b")}}
	ctx, err := dvv.DecodeToken(dvv.EncodeToken(o.Join()))
	if err != nil {
		t.Fatal(err)
	}
	wantDots(t, "VSET with the VGET token", dvv.Update(o, ctx, sib("n3", 1, 0, "c")), dot("n3", 1))
}

func TestEmptyTokenIsEmptyContext(t *testing.T) {
	for _, v := range []dvv.VV{nil, {}, {"n1": 0, "n2": 0}} {
		if tok := dvv.EncodeToken(v); tok != "" {
			t.Errorf("EncodeToken(%v) = %q, want empty", v, tok)
		}
	}
	v, err := dvv.DecodeToken("")
	if err != nil || len(v) != 0 {
		t.Fatalf("DecodeToken(\"\") = %v, %v; want an empty context", v, err)
	}
	// The empty context is a blind write.
	o := dvv.Object{Context: dvv.VV{"n1": 1}, Siblings: []dvv.Sibling{sib("n1", 1, 0, "a")}}
	wantDots(t, "blind write", dvv.Update(o, v, sib("n1", 2, 0, "b")), dot("n1", 1), dot("n1", 2))
}

func TestBadTokensWrapErrBadToken(t *testing.T) {
	good := dvv.EncodeToken(dvv.VV{"n1": 300, "n2": 7})
	raw, err := base64.RawURLEncoding.DecodeString(good)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	cases := map[string]string{
		"bad base64 char":       "AQ!x",
		"standard alphabet":     "+/+/",
		"padded":                good + "=",
		"impossible length":     "A",
		"space":                 " " + good,
		"empty payload version": enc([]byte{}), // "" is the empty token; this is covered below
		"wrong version 0":       enc(append([]byte{0}, raw[1:]...)),
		"wrong version 2":       enc(append([]byte{2}, raw[1:]...)),
		"version only":          enc(raw[:1]),
		"trailing bytes":        enc(append(raw, 0)),
		"trailing garbage":      enc(append(raw, "junk"...)),
		"zero counter":          enc([]byte{1, 1, 2, 'n', '1', 0}),
		"unsorted actors":       enc([]byte{1, 2, 2, 'n', '2', 1, 2, 'n', '1', 1}),
		"duplicate actors":      enc([]byte{1, 2, 2, 'n', '1', 1, 2, 'n', '1', 2}),
		"count too large":       enc([]byte{1, 0xff, 0xff, 0xff, 0xff, 0x0f}),
		"varint overflow":       enc([]byte{1, 1, 2, 'n', '1', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}),
		"non-minimal varint":    enc([]byte{1, 1, 2, 'n', '1', 0x81, 0x00}),
		"an object, not a vv":   enc(dvv.Object{Context: dvv.VV{"n1": 1}, Siblings: []dvv.Sibling{sib("n1", 1, 0, "x")}}.Encode()),
	}
	for i := 1; i < len(raw); i++ {
		cases["truncated to "+string(rune('0'+i%10))+"/"+string(rune('0'+i/10))] = enc(raw[:i])
	}
	for name, tok := range cases {
		if tok == "" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			v, err := dvv.DecodeToken(tok)
			if !errors.Is(err, dvv.ErrBadToken) {
				t.Fatalf("DecodeToken(%q) = %v, %v; want an error wrapping ErrBadToken", tok, v, err)
			}
			if v != nil {
				t.Fatalf("DecodeToken(%q) returned %v with its error", tok, v)
			}
		})
	}
}

func TestDecodeRejectsEveryTruncation(t *testing.T) {
	r := newRand(testSeed(t), 5)
	for i := range 400 {
		o := randObject(r)
		enc := o.Encode()
		for n := range len(enc) {
			got, err := dvv.Decode(enc[:n])
			if !errors.Is(err, dvv.ErrCorrupt) {
				t.Fatalf("object %d: Decode of %d/%d bytes = %s, %v; want ErrCorrupt", i, n, len(enc), describe(got), err)
			}
			if !got.IsZero() {
				t.Fatalf("object %d: Decode returned an object with its error", i)
			}
		}
	}
}

// decodeCorrupt decodes b and checks the contract: an error wrapping
// ErrCorrupt, or a valid object whose encoding is b.
func decodeCorrupt(t *testing.T, what string, b []byte) (ok bool) {
	t.Helper()
	defer func() {
		if p := recover(); p != nil {
			t.Fatalf("%s: Decode(%x) panicked: %v", what, b, p)
		}
	}()
	o, err := dvv.Decode(b)
	if err != nil {
		if !errors.Is(err, dvv.ErrCorrupt) {
			t.Fatalf("%s: Decode(%x) = %v, which does not wrap ErrCorrupt", what, b, err)
		}
		return false
	}
	if err := o.Validate(); err != nil {
		t.Fatalf("%s: Decode(%x) returned an invalid object: %v", what, b, err)
	}
	if re := o.Encode(); !bytes.Equal(re, b) {
		t.Fatalf("%s: Decode accepted a non-canonical encoding:\n in  %x\n out %x", what, b, re)
	}
	return true
}

func TestDecodeOfCorruptBytesErrsOrIsValid(t *testing.T) {
	r := newRand(testSeed(t), 6)
	accepted, total := 0, 0
	for range 200 {
		o := randObject(r)
		enc := o.Encode()
		if len(enc) > 300 {
			continue
		}
		for bit := range 8 * len(enc) {
			b := bytes.Clone(enc)
			b[bit/8] ^= 1 << (bit % 8)
			total++
			if decodeCorrupt(t, "bit flip", b) {
				accepted++
			}
		}
		for range 20 { // random byte overwrites, insertions and deletions
			b := bytes.Clone(enc)
			switch p := r.IntN(len(b)); r.IntN(3) {
			case 0:
				b[p] = byte(r.IntN(256))
			case 1:
				b = append(b[:p], append([]byte{byte(r.IntN(256))}, b[p:]...)...)
			default:
				b = append(b[:p], b[p+1:]...)
			}
			total++
			if decodeCorrupt(t, "byte edit", b) {
				accepted++
			}
		}
	}
	for range 2000 {
		b := make([]byte, r.IntN(40))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if len(b) > 0 && r.IntN(2) == 0 {
			b[0] = 1 // the right version, to get further
		}
		total++
		if decodeCorrupt(t, "random bytes", b) {
			accepted++
		}
	}
	t.Logf("%d corrupted inputs, %d decoded to (other) valid objects", total, accepted)
}

func TestDecodeRejectsNonCanonicalEncodings(t *testing.T) {
	valid := dvv.Object{Context: dvv.VV{"a": 1, "b": 2}, Siblings: []dvv.Sibling{
		{Dot: dot("b", 2), Timestamp: 3, Value: []byte("v")},
	}}.Encode()
	// version, ctx len 2, "a"=1, "b"=2, 1 sibling: idx 1, counter 2, ts 3 (zigzag 6), expiry 0, flags 0, len 1, "v"
	if want := []byte{1, 2, 1, 'a', 1, 1, 'b', 2, 1, 1, 2, 6, 0, 0, 1, 'v'}; !bytes.Equal(valid, want) {
		t.Fatalf("encoding changed: %x, this test expects %x", valid, want)
	}
	for name, b := range map[string][]byte{
		"unknown version":           {2, 0, 0},
		"zero counter in context":   {1, 1, 1, 'a', 0, 0},
		"unsorted context":          {1, 2, 1, 'b', 1, 1, 'a', 1, 0},
		"duplicate actor":           {1, 2, 1, 'a', 1, 1, 'a', 2, 0},
		"actor index out of range":  {1, 1, 1, 'a', 1, 1, 1, 1, 0, 0, 1},
		"dot not covered":           {1, 1, 1, 'a', 1, 1, 0, 2, 0, 0, 1},
		"zero dot counter":          {1, 1, 1, 'a', 1, 1, 0, 0, 0, 0, 1},
		"duplicate sibling":         {1, 1, 1, 'a', 1, 2, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1},
		"bad flags":                 {1, 1, 1, 'a', 1, 1, 0, 1, 0, 0, 2},
		"trailing bytes":            append(bytes.Clone(valid), 0),
		"non-minimal context count": {1, 0x82, 0x00, 1, 'a', 1, 1, 'b', 2, 1, 1, 2, 6, 0, 0, 1, 'v'},
		"non-minimal counter":       {1, 2, 1, 'a', 0x81, 0x00, 1, 'b', 2, 1, 1, 2, 6, 0, 0, 1, 'v'},
		"non-minimal timestamp":     {1, 2, 1, 'a', 1, 1, 'b', 2, 1, 1, 2, 0x86, 0x00, 0, 0, 1, 'v'},
		"non-minimal value length":  {1, 2, 1, 'a', 1, 1, 'b', 2, 1, 1, 2, 6, 0, 0, 0x81, 0x00, 'v'},
		"non-minimal zero":          {1, 2, 1, 'a', 1, 1, 'b', 2, 1, 1, 2, 6, 0x80, 0x00, 0, 1, 'v'},
		"huge sibling count":        {1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"value length overflow":     {1, 1, 1, 'a', 1, 1, 0, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
	} {
		t.Run(name, func(t *testing.T) {
			if decodeCorrupt(t, name, b) {
				t.Fatalf("Decode(%x) accepted it", b)
			}
		})
	}
	if _, err := dvv.Decode(valid); err != nil {
		t.Fatalf("Decode(valid) = %v", err)
	}
	for _, b := range [][]byte{nil, {}} {
		if _, err := dvv.Decode(b); !errors.Is(err, dvv.ErrCorrupt) {
			t.Fatalf("Decode(%v) = %v, want ErrCorrupt", b, err)
		}
	}
}

func TestEncodeHandlesExtremeValues(t *testing.T) {
	o := dvv.Object{Context: dvv.VV{"n1": math.MaxUint64, "": 1}, Siblings: []dvv.Sibling{
		{Dot: dot("n1", math.MaxUint64), Timestamp: math.MinInt64, Expiry: math.MaxInt64, Value: bytes.Repeat([]byte{0xff}, 1<<16)},
	}}
	got, err := dvv.Decode(o.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if d := sameObject(got, o); d != "" {
		t.Fatal(d)
	}
}

// TestTokenViaRoundTrip: a token may name the replica that answered its
// read first; DecodeToken still reads its context, and a token without a
// replica decodes to an empty one.
func TestTokenViaRoundTrip(t *testing.T) {
	v := dvv.VV{"n1": 5, "n2": 7}
	tok := dvv.EncodeTokenVia(v, "n2")
	got, via, err := dvv.DecodeTokenVia(tok)
	if err != nil || via != "n2" || !got.Equal(v) {
		t.Fatalf("DecodeTokenVia = %v %q %v", got, via, err)
	}
	if got, err := dvv.DecodeToken(tok); err != nil || !got.Equal(v) {
		t.Fatalf("DecodeToken of a via token = %v %v", got, err)
	}
	if _, via, err := dvv.DecodeTokenVia(dvv.EncodeToken(v)); err != nil || via != "" {
		t.Fatalf("plain token: via %q err %v", via, err)
	}
	if tok := dvv.EncodeTokenVia(nil, "n1"); tok != "" {
		t.Fatalf("empty context with a replier encodes to %q, want the blind-write token", tok)
	}
}
