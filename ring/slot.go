package ring

import (
	"bytes"
	"fmt"
)

// Slots is the number of hash slots, as in Redis Cluster. A key's slot is
// Slot(key); slots are grouped into partitions (see PartitionOf).
const Slots = 16384

// DefaultPartitions is the partition count Q used by DefaultConfig.
const DefaultPartitions = 256

// crc16Table is the table for CRC-16/XMODEM (polynomial 0x1021, initial
// value 0, no reflection), the checksum Redis Cluster uses for key slots.
var crc16Table = makeCRC16Table()

func makeCRC16Table() (t [256]uint16) {
	for i := range t {
		c := uint16(i) << 8
		for range 8 {
			if c&0x8000 != 0 {
				c = c<<1 ^ 0x1021
			} else {
				c <<= 1
			}
		}
		t[i] = c
	}
	return t
}

// crc16 returns the CRC-16/XMODEM checksum of b; crc16("123456789") is
// 0x31C3.
func crc16(b []byte) uint16 {
	var c uint16
	for _, x := range b {
		c = c<<8 ^ crc16Table[byte(c>>8)^x]
	}
	return c
}

// Slot returns the hash slot of key: CRC-16/XMODEM of the key modulo Slots,
// exactly as Redis Cluster's CLUSTER KEYSLOT computes it. If the key contains
// a '{' and, after the first '{', a '}' with at least one byte between them,
// only the bytes between that first '{' and the first '}' after it are
// hashed (a hash tag), so "{user1000}.following" and "{user1000}.followers"
// share a slot. Otherwise (no '{', no later '}', or "{}") the whole key is
// hashed.
func Slot(key []byte) uint16 {
	if s := bytes.IndexByte(key, '{'); s >= 0 {
		if e := bytes.IndexByte(key[s+1:], '}'); e > 0 {
			key = key[s+1 : s+1+e]
		}
	}
	return crc16(key) & (Slots - 1)
}

// ValidatePartitions reports whether q is a usable partition count: a power
// of two between 1 and Slots (so it divides Slots). The error wraps
// ErrInvalidPartitions.
func ValidatePartitions(q int) error {
	if q < 1 || q > Slots || q&(q-1) != 0 {
		return fmt.Errorf("%w: %d", ErrInvalidPartitions, q)
	}
	return nil
}

// PartitionOf returns the partition, in [0, q), that owns slot. Partition p
// owns the slots [p*Slots/q, (p+1)*Slots/q). q must be valid (see
// ValidatePartitions); for other values the result is meaningless, but
// PartitionOf does not panic.
func PartitionOf(slot uint16, q int) int {
	return int(slot&(Slots-1)) * q / Slots
}

// SlotRange returns the slots owned by partition p of q: start inclusive,
// end exclusive, that is [p*Slots/q, (p+1)*Slots/q). q must be valid (see
// ValidatePartitions) and p in [0, q).
func SlotRange(p, q int) (start, end int) {
	return p * Slots / q, (p + 1) * Slots / q
}
