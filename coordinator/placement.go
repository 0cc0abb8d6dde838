package coordinator

import "github.com/dynakv/dynakv/ring"

// RingPlacement places keys by the ring state it returns (nil: no ring
// yet, so no replicas): a key's preference list is its partition's
// serving list (ring.State.ServingList: the walk, or while the partition
// is handed off its old replicas first), the first N distinct nodes being
// its replicas. It implements Placement, Partitioned and Receivers.
type RingPlacement func() *ring.State

// Preference returns the key's whole walk of the ring.
func (f RingPlacement) Preference(key []byte) []string {
	st := f()
	if st == nil {
		return nil
	}
	return ids(st.ServingList(st.KeyPartition(key)))
}

// Incoming returns the new replicas of key's partition while it is handed
// off (ring.State.Incoming).
func (f RingPlacement) Incoming(key []byte) []string {
	st := f()
	if st == nil {
		return nil
	}
	return ids(st.Incoming(st.KeyPartition(key)))
}

// PartitionAt returns the slot range and walk of the partition of slot.
func (f RingPlacement) PartitionAt(slot int) (from, to int, prefs []string) {
	st := f()
	if st == nil {
		return 0, ring.Slots, nil
	}
	p := ring.PartitionOf(uint16(slot), st.Partitions())
	from, to = ring.SlotRange(p, st.Partitions())
	return from, to, ids(st.ServingList(p))
}

func ids(ns []ring.NodeID) []string {
	if ns == nil {
		return nil
	}
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = string(n)
	}
	return out
}
