package coordinator_test

import (
	"slices"
	"testing"
)

// TestShardsCoverSlotsHealthyFirst: Shards tiles slots 0..16383 with
// ranges whose replicas are SlotReplicas' (merged where equal), and a node
// gossip calls down comes after the healthy replicas in every range.
func TestShardsCoverSlotsHealthyFirst(t *testing.T) {
	c := newRingCluster(t, seed(t), cfg323(), 4, nil)
	co := c.coords["n1"]
	c.net.SetDown("n3", true)
	shards := co.Shards()
	next := 0
	for i, sh := range shards {
		if sh.Start != next || sh.End < sh.Start {
			t.Fatalf("shard %d is %d..%d, want to start at %d", i, sh.Start, sh.End, next)
		}
		next = sh.End + 1
		if i > 0 && slices.Equal(shards[i-1].Replicas, sh.Replicas) {
			t.Errorf("shards %d and %d have the same replicas %v: not merged", i-1, i, sh.Replicas)
		}
		for _, slot := range []int{sh.Start, sh.End} {
			_, _, want := co.SlotReplicas(slot)
			got := slices.Clone(sh.Replicas)
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("slot %d: shard replicas %v, SlotReplicas %v", slot, sh.Replicas, want)
			}
		}
		if j := slices.Index(sh.Replicas, "n3"); j >= 0 && j != len(sh.Replicas)-1 {
			t.Errorf("shard %d..%d lists the down n3 before a healthy replica: %v", sh.Start, sh.End, sh.Replicas)
		}
	}
	if next != 1<<14 {
		t.Errorf("shards end at %d, want 16384", next)
	}
}
