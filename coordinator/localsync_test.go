package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/ring"
)

// gatedLocal is a local replica whose writes become durable only when
// gate says so: gate gets the key and the store's own wait.
type gatedLocal struct {
	*replica.Store
	gate func(key []byte, wait func() error) error
}

func (g gatedLocal) UpdateAsync(ctx context.Context, key []byte, fn crdt.Mutator) (crdt.Object, crdt.Object, crdt.Object, func() error, error) {
	prev, next, delta, storeWait, err := g.Store.UpdateAsync(ctx, key, fn)
	if err != nil {
		return prev, next, delta, nil, err
	}
	return prev, next, delta, func() error { return g.gate(key, storeWait) }, nil
}

func (g gatedLocal) Update(ctx context.Context, key []byte, fn crdt.Mutator) (prev, next, delta crdt.Object, err error) {
	prev, next, delta, wait, err := g.UpdateAsync(ctx, key, fn)
	if err == nil {
		err = wait()
	}
	return prev, next, delta, err
}

// gateCoordinator replaces n1's coordinator by one over gatedLocal.
func gateCoordinator(t *testing.T, c *cluster, cfg coordinator.Config, gate func(key []byte, wait func() error) error) *coordinator.Coordinator {
	t.Helper()
	place := coordinator.RingPlacement(func() *ring.State { return c.ring })
	co, err := coordinator.New(cfg, gatedLocal{Store: c.stores["n1"], gate: gate}, place, c.net.Peers("n1"))
	if err != nil {
		t.Fatal(err)
	}
	return co
}

// TestLocalSyncOverlapsReplicaSends: the coordinator sends a write's
// delta to the other replicas while its own replica syncs (Dynamo §4.5:
// W durable copies, the local one among them), so a write whose local
// sync finishes only after another replica holds the write succeeds. A
// coordinator that synced before sending would wait here until the gate
// gives up (2 s) and fail the write.
func TestLocalSyncOverlapsReplicaSends(t *testing.T) {
	cfg := cfg323()
	cfg.W = 3
	c := newCluster(t, seed(t), cfg)
	co := gateCoordinator(t, c, cfg, func(key []byte, wait func() error) error {
		err := wait()
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) {
			o, gerr := c.stores["n2"].Get(context.Background(), key)
			if gerr == nil && !o.IsZero() {
				return err
			}
			time.Sleep(time.Millisecond)
		}
		return fmt.Errorf("n2 never got %q while n1 synced", key)
	})
	for i := range 5 {
		key := fmt.Appendf(nil, "overlap-%d", i)
		if _, _, err := co.Update(context.Background(), key, coordinator.WriteOptions{}, setFn("v")); err != nil {
			t.Fatalf("write %s: %v", key, err)
		}
		for _, id := range []string{"n1", "n2", "n3"} {
			o, err := c.stores[id].Get(context.Background(), key)
			if err != nil || !slices.Equal(liveValues(o), []string{"v"}) {
				t.Fatalf("%s holds %q after the write: %v", id, liveValues(o), err)
			}
		}
	}
}

// TestLocalSyncFailureCountsAsFailedReplica: a write whose local sync
// fails is still acknowledged when W other replicas stored it (W=2 of
// N=3), and is refused with ErrNoQuorum when W needs the local copy too
// (W=3): the local replica is one of the W, counted only once durable.
func TestLocalSyncFailureCountsAsFailedReplica(t *testing.T) {
	errDisk := errors.New("injected sync failure")
	for _, w := range []int{2, 3} {
		cfg := cfg323()
		cfg.W = w
		c := newCluster(t, seed(t), cfg)
		co := gateCoordinator(t, c, cfg, func(_ []byte, wait func() error) error {
			_ = wait()
			return errDisk
		})
		_, _, err := co.Update(context.Background(), []byte("k"), coordinator.WriteOptions{}, setFn("v"))
		switch {
		case w == 2 && err != nil:
			t.Errorf("W=2: write with a failed local sync and two other replicas: %v", err)
		case w == 3 && !errors.Is(err, coordinator.ErrNoQuorum):
			t.Errorf("W=3: write with a failed local sync = %v, want ErrNoQuorum", err)
		}
	}
}
