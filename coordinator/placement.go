package coordinator

import "github.com/dynakv/dynakv/ring"

// RingPlacement places keys by the ring state it returns (nil: no ring
// yet, so no replicas): a key's preference list is the walk of its
// partition, the first N distinct nodes being its replicas. It implements
// Placement and Partitioned.
type RingPlacement func() *ring.State

// Preference returns the key's whole walk of the ring.
func (f RingPlacement) Preference(key []byte) []string {
	st := f()
	if st == nil {
		return nil
	}
	return ids(st.Walk(st.KeyPartition(key)))
}

// PartitionAt returns the slot range and walk of the partition of slot.
func (f RingPlacement) PartitionAt(slot int) (from, to int, prefs []string) {
	st := f()
	if st == nil {
		return 0, ring.Slots, nil
	}
	p := ring.PartitionOf(uint16(slot), st.Partitions())
	from, to = ring.SlotRange(p, st.Partitions())
	return from, to, ids(st.Walk(p))
}

func ids(ns []ring.NodeID) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}
