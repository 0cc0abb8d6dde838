package replica

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/replica/dvv"
)

// TestHintsSurviveCrashAndDeleteOnlyWhatWasDelivered: hints are durable,
// grouped by target, merged per key; a delivered hint is deleted unless a
// newer write merged into it meanwhile.
func TestHintsSurviveCrashAndDeleteOnlyWhatWasDelivered(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewCrashableMem()
	s := openMem(t, fs, clock, nil)
	ctx := context.Background()
	objs := map[string]dvv.Object{}
	for i := 0; i < 20; i++ {
		k := fmt.Sprintf("k%d", i)
		objs[k] = set(t, s, k, "v", 0)
		if err := s.PutHint(ctx, "n3", []byte(k), objs[k]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutHint(ctx, "n4", []byte("k0"), objs["k0"]); err != nil {
		t.Fatal(err)
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{})
	s.Close()
	s = openMem(t, crashed, clock, nil)
	defer s.Close()
	targets, err := s.HintTargets()
	if err != nil || targets["n3"] != 20 || targets["n4"] != 1 {
		t.Fatalf("after crash, hint targets = %v, %v; want n3:20 n4:1", targets, err)
	}
	hs, err := s.Hints("n3", 100)
	if err != nil || len(hs) != 20 {
		t.Fatalf("Hints(n3) = %d, %v", len(hs), err)
	}
	// A newer write lands in k1's hint after it was read for delivery.
	newer := set(t, s, "k1", "v2", 0)
	if err := s.PutHint(ctx, "n3", []byte("k1"), newer); err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if err := s.DeleteHint("n3", h.Key, h.Object, false); err != nil {
			t.Fatal(err)
		}
	}
	left, _ := s.Hints("n3", 100)
	if len(left) != 1 || string(left[0].Key) != "k1" || !dvv.Equal(left[0].Object, dvv.Merge(objs["k1"], newer)) {
		t.Fatalf("after delivery, pending n3 hints = %+v; want only k1 with the newer write", left)
	}
	if st := s.HintStats(); st.Delivered != 19 {
		t.Fatalf("delivered = %d, want 19", st.Delivered)
	}
}

func TestHintStoreIsBounded(t *testing.T) {
	s := openMem(t, vfs.NewMem(), newFakeClock(), func(c *Config) { c.MaxHintBytes = 200 })
	defer s.Close()
	ctx := context.Background()
	var refused int
	for i := 0; i < 20; i++ {
		o := set(t, s, fmt.Sprintf("k%d", i), "some value bytes", 0)
		if err := s.PutHint(ctx, "n3", []byte(fmt.Sprintf("k%d", i)), o); errors.Is(err, ErrHintLimit) {
			refused++
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if refused == 0 || s.HintStats().Dropped != int64(refused) {
		t.Fatalf("refused %d hints, dropped counter %d", refused, s.HintStats().Dropped)
	}
}
