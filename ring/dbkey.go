package ring

import "encoding/binary"

// Databases is the number of Redis databases (SELECT 0 … Databases-1,
// CONFIG GET databases), each with its own flush epoch in a State.
const Databases = 16

// storedKeyMark is the first byte of every stored key that carries its
// database and flush epoch (StoredKey). A bare stored key (database 0,
// epoch 0) never starts with it: such a user key is marked too.
const storedKeyMark = 0xFF

// StoredKey returns the key under which the replicas store user key key
// of database db at flush epoch epoch (State.FlushEpoch): the database
// number and the epoch are part of the stored key, never of its slot
// (StoredSlot hashes only the user key), so a FLUSHDB that moves a
// database to a new epoch makes its old data simply another keyspace.
//
// The encoding is injective and keeps data written before databases
// existed: database 0 at epoch 0 is stored bare, the key itself, unless
// the key starts with the byte 0xFF; every other key is 0xFF, then
// uvarint(db), uvarint(epoch), then the key. db must be in [0, Databases).
func StoredKey(db int, epoch uint64, key []byte) []byte {
	if db == 0 && epoch == 0 && (len(key) == 0 || key[0] != storedKeyMark) {
		return key
	}
	b := make([]byte, 0, 1+1+binary.MaxVarintLen64+len(key))
	b = append(b, storedKeyMark)
	b = binary.AppendUvarint(b, uint64(db))
	b = binary.AppendUvarint(b, epoch)
	return append(b, key...)
}

// ParseStoredKey splits a stored key into its database, flush epoch and
// user key (a subslice of sk). It accepts exactly the outputs of
// StoredKey: ok is false for a marked key whose prefix is malformed or not
// in StoredKey's canonical form, which no node stores.
func ParseStoredKey(sk []byte) (db int, epoch uint64, key []byte, ok bool) {
	if len(sk) == 0 || sk[0] != storedKeyMark {
		return 0, 0, sk, true
	}
	d, n := binary.Uvarint(sk[1:])
	if n <= 0 || d >= Databases || n != uvarintLen(d) {
		return 0, 0, nil, false
	}
	e, m := binary.Uvarint(sk[1+n:])
	if m <= 0 || m != uvarintLen(e) {
		return 0, 0, nil, false
	}
	key = sk[1+n+m:]
	if d == 0 && e == 0 && (len(key) == 0 || key[0] != storedKeyMark) {
		return 0, 0, nil, false // StoredKey stores it bare
	}
	return int(d), e, key, true
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// StoredSlot returns the slot of a stored key (StoredKey): Slot of its
// user key, so every database and epoch of one user key shares its slot,
// its partition and its replicas. A key ParseStoredKey refuses hashes
// whole. Every layer that places a stored key (coordinator placement,
// the replica's key order and cursors, anti-entropy's leaves, transfer's
// slot ranges, hints) uses this, never Slot.
func StoredSlot(sk []byte) uint16 {
	if _, _, key, ok := ParseStoredKey(sk); ok {
		return Slot(key)
	}
	return Slot(sk)
}
