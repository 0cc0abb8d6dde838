package node

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/time/rate"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

// The parts that run loops over the cluster (Dynamo §4.7 anti-entropy and
// tombstone reaping, ownership transfer), wired to the node: the cluster
// is their ring view and liveness, the store their source, the peers
// their remote side, and the node's clock (n.now) theirs.

// newScheduler builds the anti-entropy scheduler over the cluster.
func (n *Node) newScheduler(trees *antientropy.Trees) (*antientropy.Scheduler, error) {
	cfg := n.cfg.AE
	return antientropy.NewScheduler(cfg, antientropy.SchedulerDeps{
		Self: n.cfg.ID, Clock: antientropy.ClockFunc(n.now),
		Ring: n.cluster, Liveness: n.cluster,
		Peers: func(id string) antientropy.Peer {
			if r := n.peer(id); r != nil {
				return r
			}
			return nil
		},
		Limiter: rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Rate, cfg.Page)),
		Trees:   trees, Local: n.store, Logger: n.log,
	})
}

// newReaper builds the tombstone-reap rule over the cluster; now is the
// store's clock.
func (n *Node) newReaper(now func() time.Time) (*antientropy.Reaper, error) {
	return antientropy.NewReaper(n.cfg.Reaper, antientropy.ReaperDeps{
		Self: n.cfg.ID, Clock: antientropy.ClockFunc(now),
		Ring: n.cluster, Liveness: n.cluster,
		ReadAll: n.readAll,
		Horizon: func(ctx context.Context, id string) (int64, error) {
			if ring.NodeID(id) == ring.NodeID(n.cfg.ID) {
				return n.store.HintHorizon(ctx)
			}
			r := n.peer(id)
			if r == nil {
				return 0, fmt.Errorf("node: hint horizon: unknown node %s", id)
			}
			return r.HintHorizon(ctx)
		},
	})
}

// readAll is the coordinator's read of every replica (the reaper's R=N
// read). The store's sweeper may ask before Start has built the
// coordinator; then no tombstone is reaped yet.
func (n *Node) readAll(ctx context.Context, key []byte) (map[string]crdt.Object, error) {
	co := n.co.Load()
	if co == nil {
		return nil, fmt.Errorf("%w: node starting", coordinator.ErrReadAll)
	}
	return co.ReadAll(ctx, key)
}

// lazyStore is the node's store as transfer's source. The transfer is
// built before the store opens (its leaving mark shapes the gossip meta);
// only Step uses the source, and Run starts after the store is open.
type lazyStore struct{ n *Node }

func (l lazyStore) store() *replica.Store { return l.n.store }

func (l lazyStore) ScanRange(ctx context.Context, from, to int, c replica.Cursor, count int) (replica.Cursor, []replica.Entry, error) {
	return l.store().ScanRange(ctx, from, to, c, count)
}
func (l lazyStore) HasSlots(from, to int) (bool, error) { return l.store().HasSlots(from, to) }
func (l lazyStore) DropSlots(from, to int) (int, error) { return l.store().DropSlots(from, to) }

// newTransfer builds the node's transfer driver from cfg.Transfer.
func (n *Node) newTransfer() (*transfer.Transfer, error) {
	tc := n.cfg.Transfer
	// NB: the burst is one batch: the driver never waits for more at once.
	lim := rate.NewLimiter(rate.Inf, tc.Batch)
	if tc.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(tc.Rate), tc.Batch)
	}
	return transfer.New(tc, transfer.Deps{
		Self:  ring.NodeID(n.cfg.ID),
		Ring:  n.cluster,
		Local: lazyStore{n},
		Peer: func(id ring.NodeID) transfer.Peer {
			if r := n.peer(string(id)); r != nil {
				return r
			}
			return nil
		},
		Alive:   func(id ring.NodeID) bool { return n.cluster.Alive(string(id)) },
		Limiter: lim,
		Store:   transfer.NewStore(nil, n.cfg.DataDir),
		Mark:    n.cluster,
		Now:     n.now,
		Logger:  n.log,
	})
}

// ringChanged is the cluster's OnChange: a ring change wakes the
// transfer driver.
func (n *Node) ringChanged(old, next *ring.State) {
	// NB: cluster logs the change itself (with the partitions moving);
	// one line per ring version is enough at info level.
	if k := len(next.MovingPartitions()); k > 0 {
		n.log.Debug("ring change: partitions moving", "moving", k, "version", next.Version())
	}
	n.transfer.Wake()
	if epochsChanged(old, next) {
		n.wakePurge()
	}
}
