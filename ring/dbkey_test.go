package ring

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// randomUserKey draws keys rich in the bytes the encoding cares about:
// the mark 0xFF, varint continuation bytes, braces for hash tags.
func randomUserKey(r *rand.Rand) []byte {
	alphabet := []byte{0xFF, 0x00, 0x01, 0x80, '{', '}', 'a', 'b'}
	k := make([]byte, r.IntN(6))
	for i := range k {
		k[i] = alphabet[r.IntN(len(alphabet))]
	}
	return k
}

// TestStoredKeyProperties: StoredKey is injective over (db, epoch, key),
// ParseStoredKey inverts it, and StoredSlot is Redis's slot of the user
// key whatever the database and epoch.
func TestStoredKeyProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 1))
	type triple struct {
		db    int
		epoch uint64
		key   string
	}
	seen := map[string]triple{}
	epochs := []uint64{0, 1, 2, 127, 128, 300, 1 << 40}
	for range 20000 {
		in := triple{r.IntN(Databases), epochs[r.IntN(len(epochs))], string(randomUserKey(r))}
		sk := StoredKey(in.db, in.epoch, []byte(in.key))
		if prev, ok := seen[string(sk)]; ok && prev != in {
			t.Fatalf("StoredKey not injective: %+v and %+v both give %q", prev, in, sk)
		}
		seen[string(sk)] = in
		db, epoch, key, ok := ParseStoredKey(sk)
		if !ok || db != in.db || epoch != in.epoch || string(key) != in.key {
			t.Fatalf("ParseStoredKey(%q) = %d %d %q %v, want %+v", sk, db, epoch, key, ok, in)
		}
		if got, want := StoredSlot(sk), Slot([]byte(in.key)); got != want {
			t.Fatalf("StoredSlot(%q) = %d, want Slot(%q) = %d", sk, got, in.key, want)
		}
	}
}

// TestStoredKeyBare: database 0 at epoch 0 is stored as the key itself
// (data written before databases existed), except a key starting with the
// mark, which is escaped; every other database is marked.
func TestStoredKeyBare(t *testing.T) {
	if got := StoredKey(0, 0, []byte("user:1")); string(got) != "user:1" {
		t.Errorf("db 0 epoch 0: %q, want the bare key", got)
	}
	if got := StoredKey(0, 0, []byte("\xffx")); !bytes.Equal(got, []byte("\xff\x00\x00\xffx")) {
		t.Errorf("db 0 key starting with 0xFF: %q, want it escaped", got)
	}
	if got := StoredKey(1, 0, []byte("k")); !bytes.Equal(got, []byte("\xff\x01\x00k")) {
		t.Errorf("db 1: %q", got)
	}
	if got := StoredKey(0, 300, []byte("k")); !bytes.Equal(got, []byte("\xff\x00\xac\x02k")) {
		t.Errorf("db 0 epoch 300: %q", got)
	}
	// Hash tags survive: every database of {user1}.a shares its slot.
	if StoredSlot(StoredKey(5, 9, []byte("{user1}.a"))) != Slot([]byte("{user1}.b")) {
		t.Errorf("hash tag lost in a stored key")
	}
	// Non-canonical prefixes are refused and hash whole.
	for _, sk := range []string{"\xff", "\xff\x10\x00k", "\xff\x80\x00\x00k", "\xff\x00\x00k", "\xff\x01"} {
		if _, _, _, ok := ParseStoredKey([]byte(sk)); ok {
			t.Errorf("ParseStoredKey(%q) accepted a key StoredKey never makes", sk)
		}
		if StoredSlot([]byte(sk)) != Slot([]byte(sk)) {
			t.Errorf("StoredSlot(%q) should hash the whole key", sk)
		}
	}
}

// TestFlushEpochs: a flush raises epochs in a new version, successors
// keep them, they survive Encode/Decode, and Flushed names exactly the
// keys of older epochs.
func TestFlushEpochs(t *testing.T) {
	s, err := New(Config{Partitions: 16, Replicas: 2}, equal("AB"))
	if err != nil {
		t.Fatal(err)
	}
	enc := s.Encode()
	if bytes.Contains(enc, []byte("flush")) {
		t.Errorf("a never-flushed State encodes flush epochs: %s", enc)
	}
	var want [Databases]uint64
	want[0], want[3] = 1, 1
	f, err := s.WithFlushEpochs(want)
	if err != nil {
		t.Fatal(err)
	}
	if f.Version() != s.Version()+1 || f.FlushEpoch(0) != 1 || f.FlushEpoch(3) != 1 || f.FlushEpoch(1) != 0 {
		t.Fatalf("after flush: version %d, epochs %v", f.Version(), f.FlushEpochs())
	}
	if same, _ := f.WithFlushEpochs(want); same != f {
		t.Errorf("applying the same epochs again made a new State")
	}
	if !ring3Equal(t, f) {
		return
	}
	j, _, err := f.Join(Member{ID: "C", Addr: "c:1", GossipAddr: "c:2", Weight: 1})
	if err != nil {
		t.Fatal(err)
	}
	if j.FlushEpochs() != f.FlushEpochs() {
		t.Errorf("Join lost the flush epochs: %v", j.FlushEpochs())
	}
	var done []Handoff
	for _, p := range j.MovingPartitions() {
		done = append(done, Handoff{Partition: p, To: j.Incoming(p)})
	}
	c, n, err := j.Complete(done)
	if err != nil || n == 0 || c.FlushEpochs() != f.FlushEpochs() {
		t.Errorf("Complete (%d, %v) lost the flush epochs: %v", n, err, c.FlushEpochs())
	}
	for _, tc := range []struct {
		sk   []byte
		want bool
	}{
		{[]byte("k"), true},                   // db 0, epoch 0
		{StoredKey(0, 1, []byte("k")), false}, // current
		{StoredKey(3, 0, []byte("k")), true},
		{StoredKey(1, 0, []byte("k")), false},
		{StoredKey(0, 2, []byte("k")), false}, // newer than ours: kept
		{[]byte("\xff\x10"), false},           // not a stored key
	} {
		if got := f.Flushed(tc.sk); got != tc.want {
			t.Errorf("Flushed(%q) = %v, want %v", tc.sk, got, tc.want)
		}
	}
	bad := bytes.Replace(f.Encode(), []byte(`"flush":[1,0,0,1]`), []byte(`"flush":[1,0,0,1,0]`), 1)
	if _, err := Decode(bad); !errors.Is(err, ErrInvalidState) {
		t.Errorf("Decode of trailing-zero epochs: %v, want ErrInvalidState", err)
	}
}

// ring3Equal checks that f survives Encode/Decode.
func ring3Equal(t *testing.T, f *State) bool {
	t.Helper()
	d, err := Decode(f.Encode())
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if !d.Equal(f) || d.FlushEpochs() != f.FlushEpochs() {
		t.Errorf("Decode(Encode) lost the flush epochs: %v", d.FlushEpochs())
		return false
	}
	return true
}
