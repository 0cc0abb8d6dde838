package coordinator

import "slices"

// SlotRange is a run of slots, Start..End inclusive (as CLUSTER SLOTS
// shows them), whose replicas are the same.
type SlotRange struct {
	Start, End int
	// Replicas are the top N, the healthy ones first, each group in
	// preference order: the first is what clients take as the master.
	Replicas []string
}

// Shards returns the slot table of CLUSTER SLOTS, SHARDS and NODES: each
// run of partitions whose replicas (SlotReplicas, ordered by Healthy, the
// same notion routing uses) are the same, as one range.
func (c *Coordinator) Shards() []SlotRange {
	var out []SlotRange
	for slot := 0; slot < numSlots; {
		start, end, top := c.SlotReplicas(slot)
		slot = end
		ids := c.healthyFirst(top)
		if n := len(out); n > 0 && slices.Equal(ids, out[n-1].Replicas) {
			out[n-1].End = end - 1
			continue
		}
		out = append(out, SlotRange{Start: start, End: end - 1, Replicas: ids})
	}
	return out
}

// healthyFirst orders ids with the Healthy nodes first, each group in its
// given order.
func (c *Coordinator) healthyFirst(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		if c.Healthy(id) {
			out = append(out, id)
		}
	}
	for _, id := range ids {
		if !c.Healthy(id) {
			out = append(out, id)
		}
	}
	return out
}
