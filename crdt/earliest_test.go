package crdt

import (
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// TestEarliestDot: the time of the smallest content dot, whichever actor
// made it; a newer write that supersedes it moves the time; a tombstone
// made at T covers nothing of an object whose EarliestDot is after T.
func TestEarliestDot(t *testing.T) {
	if _, ok := EarliestDot(Object{}); ok {
		t.Fatal("the zero object has an earliest dot")
	}
	stamp := func(actor string, ms int64) Stamp {
		return Stamp{Dot: dvv.Dot{Actor: actor, Counter: uint64(ms) * 1000}, Now: ms, Nanos: ms * 1e6}
	}
	// n5's clock runs ahead; n2 adds a member earlier on its own clock.
	o, _, err := SAdd(Object{}, stamp("n5", 9_000), [][]byte{[]byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	d, _, err := SAdd(o, stamp("n2", 2_000), [][]byte{[]byte("b")})
	if err != nil {
		t.Fatal(err)
	}
	o = Merge(o, d)
	if at, ok := EarliestDot(o); !ok || at != 2_000 {
		t.Fatalf("EarliestDot = %d, %v; want n2's 2000", at, ok)
	}
	// A SET supersedes both members: only its dot is left.
	d, _, err = Set(o, stamp("n2", 3_000), []byte("v"), SetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	o = Merge(o, d)
	if at, ok := EarliestDot(o); !ok || at != 3_000 {
		t.Fatalf("after SET: EarliestDot = %d, %v; want 3000", at, ok)
	}
	// A delete made before 3000 covers nothing of it; one made after does.
	del, _ := Del(o, stamp("n3", 4_000))
	tomb := Merge(o, del)
	tt, ok := TombstoneTime(tomb, 5_000)
	if at, _ := EarliestDot(o); !ok || tt < at {
		t.Fatalf("a delete covering the value: TombstoneTime %d, %v, below the value's EarliestDot %d", tt, ok, at)
	}
}
