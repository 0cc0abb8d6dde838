package crdt

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// seedEncodings returns encodings of states of every type, from a short
// simulation, and of legacy dvv objects.
func seedEncodings(t testing.TB) [][]byte {
	s := newSim(&testing.T{}, rand.New(rand.NewPCG(7, 7)))
	s.causal = false
	for range 60 {
		ops := []opFn{opSet, opDel, opIncr, opHSet, opHDel, opHIncr, opSAdd, opSRem, opZAdd, opZIncr, opZRem, opPFAdd}
		s.do(s.r.IntN(3), ops[s.r.IntN(len(ops))])
		s.deliver()
	}
	var out [][]byte
	for i, o := range s.states {
		if i%5 == 0 {
			out = append(out, o.Encode())
		}
	}
	var d dvv.Object
	d = dvv.Update(d, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 3}, Timestamp: 9, Expiry: 50, Value: []byte("x")})
	out = append(out, d.Encode(), dvv.Object{}.Encode())
	n := &node{t: &testing.T{}, actor: "A"}
	dd, _ := Expire(Merge(Object{}, mustDelta(HSet(Object{}, n.st(now), []FieldValue{{Field: []byte("f"), Value: []byte("1")}}))), n.st(now), now+5, ExpireAlways)
	return append(out, dd.Encode())
}

func mustDelta[T any](d Object, _ T, err error) Object {
	if err != nil {
		panic(err)
	}
	return d
}

// FuzzDecode: Decode never panics; what it accepts is valid, re-encodes to
// the same bytes, and merges sanely.
func FuzzDecode(f *testing.F) {
	for _, b := range seedEncodings(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v does not wrap ErrCorrupt", err)
			}
			return
		}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		enc := o.Encode()
		if string(enc) != string(b) {
			t.Fatalf("accepted a non-canonical encoding:\n%x\n%x", b, enc)
		}
		if !Equal(Merge(o, o), o) {
			t.Fatal("merge with itself changed the object")
		}
		_ = TypeOf(o, now)
		_, _, _ = Get(o, now)
		_, _ = HGetAll(o, now)
		_, _ = Collect(o, now)
	})
}

func TestDecodeSeedsRoundTrip(t *testing.T) {
	for _, b := range seedEncodings(t) {
		o, err := Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if string(o.Encode()) != string(b) {
			t.Fatal("seed does not round-trip")
		}
	}
}

func TestDecodeRejectsHostileInput(t *testing.T) {
	for _, b := range [][]byte{
		nil,
		{9},
		{formatCRDT},
		{formatCRDT, 0xff, 0xff, 0xff, 0xff, 0x0f},     // a huge actor count
		{formatCRDT, 1, 1, 'a', 1, 0, 1, 0, 0, tagEnd}, // a context entry of an unknown actor
		{formatCRDT, 0, 0, 0, tagSet, 0xff, 0xff, 0x7f},
	} {
		if _, err := Decode(b); !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%x: %v", b, err)
		}
	}
	// Truncations of every seed are rejected or valid, never a panic.
	for _, b := range seedEncodings(t) {
		for i := range b {
			if o, err := Decode(b[:i]); err == nil {
				if err := o.Validate(); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
