package ring

import (
	"fmt"
	"testing"
)

func TestCRC16(t *testing.T) {
	if got := crc16([]byte("123456789")); got != 0x31C3 {
		t.Fatalf("crc16(123456789) = %#04x, want 0x31c3", got)
	}
}

// TestSlot checks Slot against values from Redis's CLUSTER KEYSLOT and the
// hash tag rules of the Redis Cluster specification.
func TestSlot(t *testing.T) {
	for _, tc := range []struct {
		key  string
		want uint16
	}{
		{"foo", 12182},
		{"bar", 5061},
		{"123456789", 0x31C3 & (Slots - 1)},
		{"", 0},
		{"{user1000}.following", 3443},
		{"{user1000}.followers", 3443},
		{"user1000", 3443},
		{"somekey", 11058},      // CLUSTER KEYSLOT documentation
		{"foo{hash_tag}", 2515}, // CLUSTER KEYSLOT documentation
		{"hash_tag", 2515},
	} {
		if got := Slot([]byte(tc.key)); got != tc.want {
			t.Errorf("Slot(%q) = %d, want %d", tc.key, got, tc.want)
		}
	}
	for _, tc := range []struct {
		key, hashed string
	}{
		{"{user1000}.following", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"}, // empty first tag: whole key
		{"foo{{bar}}zap", "{bar"},    // first '{' to first '}' after it
		{"foo{bar}{zap}", "bar"},     // only the first tag counts
		{"{}", "{}"},
		{"{", "{"},
		{"}{", "}{"},
		{"a{b", "a{b"},
		{"a}b{c}", "c"},
		{"{a}", "a"},
	} {
		if got, want := Slot([]byte(tc.key)), crc16([]byte(tc.hashed))&(Slots-1); got != want {
			t.Errorf("Slot(%q) = %d, want crc16(%q) = %d", tc.key, got, tc.hashed, want)
		}
	}
}

func TestValidatePartitions(t *testing.T) {
	for q := -1; q <= 2*Slots; q++ {
		valid := q >= 1 && q <= Slots && q&(q-1) == 0
		if err := ValidatePartitions(q); (err == nil) != valid {
			t.Errorf("ValidatePartitions(%d) = %v, want valid=%v", q, err, valid)
		}
	}
}

func TestSlotRange(t *testing.T) {
	for _, tc := range []struct{ p, q, start, end int }{
		{0, 1, 0, 16384},
		{0, 256, 0, 64},
		{1, 256, 64, 128},
		{255, 256, 16320, 16384},
		{3, 8, 6144, 8192},
		{16383, 16384, 16383, 16384},
	} {
		s, e := SlotRange(tc.p, tc.q)
		if s != tc.start || e != tc.end {
			t.Errorf("SlotRange(%d, %d) = [%d, %d), want [%d, %d)", tc.p, tc.q, s, e, tc.start, tc.end)
		}
	}
	// Every slot lies in exactly the range of its partition, for every Q.
	for q := 1; q <= Slots; q *= 2 {
		t.Run(fmt.Sprintf("q=%d", q), func(t *testing.T) {
			next := 0
			for p := range q {
				s, e := SlotRange(p, q)
				if s != next || e-s != Slots/q {
					t.Fatalf("SlotRange(%d, %d) = [%d, %d), want start %d and size %d", p, q, s, e, next, Slots/q)
				}
				for slot := s; slot < e; slot++ {
					if got := PartitionOf(uint16(slot), q); got != p {
						t.Fatalf("PartitionOf(%d, %d) = %d, want %d", slot, q, got, p)
					}
				}
				next = e
			}
			if next != Slots {
				t.Fatalf("ranges end at %d, want %d", next, Slots)
			}
		})
	}
}
