package dvv_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// seedObjects returns real encodings for the fuzz corpora: hand-made
// objects, random ones and states from a short simulation.
func seedObjects() []dvv.Object {
	objs := []dvv.Object{
		{},
		{Context: dvv.VV{"n1": 1}, Siblings: []dvv.Sibling{sib("n1", 1, 1, "v")}},
		{Context: dvv.VV{"n1": 3, "n2": 1}, Siblings: []dvv.Sibling{
			{Dot: dot("n1", 2), Timestamp: 5, Expiry: 100, Value: []byte("x")},
			tomb("n1", 3, 6),
			sib("n2", 1, 7, ""),
		}},
		{Context: dvv.VV{"n1": 1 << 62, "n2": 9, "n3": 4}},
	}
	r := newRand(42, 7)
	for range 12 {
		objs = append(objs, randObject(r))
	}
	var o dvv.Object
	for i, a := range []string{"n1", "n2", "n1", "n3", "n2"} {
		var ctx dvv.VV
		if i%2 == 1 {
			ctx = o.Join()
		}
		c, _ := dvv.NextCounter(o, ctx, a)
		o = dvv.Update(o, ctx, dvv.Sibling{Dot: dot(a, c), Timestamp: int64(i), Expiry: int64(10 * i), Value: []byte(a)})
		objs = append(objs, o)
	}
	e, _ := dvv.Expire(o, 25)
	return append(objs, e)
}

func FuzzDecode(f *testing.F) {
	for _, o := range seedObjects() {
		f.Add(o.Encode())
	}
	f.Add([]byte{})
	f.Add([]byte{1, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := dvv.Decode(b)
		if err != nil {
			if !errors.Is(err, dvv.ErrCorrupt) {
				t.Fatalf("Decode error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatalf("decoded object does not validate: %v", err)
		}
		if re := o.Encode(); !bytes.Equal(re, b) {
			t.Fatalf("re-encoding differs:\n in  %x\n out %x", b, re)
		}
		if !dvv.Equal(dvv.Merge(o, o), o) {
			t.Fatal("Merge(o, o) != o")
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	for _, o := range seedObjects() {
		f.Add(dvv.EncodeToken(o.Context))
	}
	f.Add("")
	f.Add("AQ")
	f.Add("AQA")
	f.Add("not base64!")
	f.Fuzz(func(t *testing.T, tok string) {
		v, err := dvv.DecodeToken(tok)
		if err != nil {
			if !errors.Is(err, dvv.ErrBadToken) {
				t.Fatalf("DecodeToken error %v does not wrap ErrBadToken", err)
			}
			if v != nil {
				t.Fatalf("DecodeToken returned %v with an error", v)
			}
			return
		}
		for a, c := range v {
			if c == 0 {
				t.Fatalf("decoded a zero counter for %q", a)
			}
		}
		again, err := dvv.DecodeToken(dvv.EncodeToken(v))
		if err != nil || !again.Equal(v) {
			t.Fatalf("token does not round-trip: %v -> %v, %v", v, again, err)
		}
		// The context is usable by Update as any client context is.
		o := dvv.Object{Context: dvv.VV{"n1": 1}, Siblings: []dvv.Sibling{sib("n1", 1, 0, "x")}}
		if c, ok := dvv.NextCounter(o, v, "n1"); ok {
			mustValid(t, "Update with the token's context", dvv.Update(o, v, sib("n1", c, 0, "y")))
		}
	})
}

func FuzzMerge(f *testing.F) {
	objs := seedObjects()
	for i, a := range objs {
		f.Add(a.Encode(), objs[(i+3)%len(objs)].Encode())
		f.Add(a.Encode(), dvv.Merge(a, objs[(i+1)%len(objs)]).Encode())
	}
	f.Fuzz(func(t *testing.T, x, y []byte) {
		a, err := dvv.Decode(x)
		if err != nil {
			return
		}
		b, err := dvv.Decode(y)
		if err != nil {
			return
		}
		ab, ba := dvv.Merge(a, b), dvv.Merge(b, a)
		if err := ab.Validate(); err != nil {
			t.Fatalf("Merge result does not validate: %v", err)
		}
		if !dvv.Equal(ab, ba) {
			t.Fatalf("Merge is not commutative:\n a=%s\n b=%s\n ab=%s\n ba=%s", describe(a), describe(b), describe(ab), describe(ba))
		}
		if !dvv.Equal(dvv.Merge(a, a), a) || !dvv.Equal(dvv.Merge(b, b), b) {
			t.Fatal("Merge(x, x) != x")
		}
		if !dvv.Equal(dvv.Merge(ab, a), ab) || !dvv.Equal(dvv.Merge(ab, b), ab) {
			t.Fatal("merging an input into the result changed it")
		}
		// Three-way: associativity with a derived third object.
		c, _ := dvv.Expire(b, 0)
		if !dvv.Equal(dvv.Merge(ab, c), dvv.Merge(a, dvv.Merge(b, c))) {
			t.Fatal("Merge is not associative")
		}
	})
}
