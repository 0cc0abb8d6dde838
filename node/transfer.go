package node

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/ring"
)

// Replica transfer on ring changes: when a node enters a partition's top N
// (a join, or a forgotten node's partitions moving), every node that was a
// replica of the partition before pushes the partition's keys to it, merged
// with dvv, so the new replica holds the data before it is relied on.
// Pushes are idempotent merges; a failed one stays queued and is retried.
//
// This is the first step of ownership handoff (issue 6): transfers are not
// persisted (a restart forgets pending ones; read repair and hinted handoff
// still cover keys that are read or written), not throttled, and old
// replicas keep their copies.

// transfer is one partition to push to one node.
type transfer struct {
	partition int
	to        ring.NodeID
}

type transfers struct {
	mu      sync.Mutex
	pending map[transfer]bool
	done    int64 // keys pushed
	poke    chan struct{}
}

func newTransfers() *transfers {
	return &transfers{pending: map[transfer]bool{}, poke: make(chan struct{}, 1)}
}

// plan queues the transfers self owes after the ring went from old to next.
func (t *transfers) plan(self ring.NodeID, old, next *ring.State) int {
	if old == nil || next == nil || old.Partitions() != next.Partitions() {
		return 0
	}
	n := 0
	t.mu.Lock()
	defer t.mu.Unlock()
	for p := 0; p < next.Partitions(); p++ {
		before := old.PreferenceList(p, old.Replicas())
		if !slices.Contains(before, self) {
			continue
		}
		for _, id := range next.PreferenceList(p, next.Replicas()) {
			if id != self && !slices.Contains(before, id) {
				t.pending[transfer{p, id}] = true
				n++
			}
		}
	}
	if n > 0 {
		select {
		case t.poke <- struct{}{}:
		default:
		}
	}
	return n
}

// transferLoop pushes pending transfers until ctx ends.
func (n *Node) transferLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-n.xfer.poke:
		}
		n.xfer.mu.Lock()
		var todo []transfer
		for tr := range n.xfer.pending {
			todo = append(todo, tr)
		}
		n.xfer.mu.Unlock()
		for _, tr := range todo {
			if ctx.Err() != nil {
				return
			}
			keys, err := n.push(ctx, tr)
			if err != nil {
				n.log.Debug("replica transfer failed; will retry", "partition", tr.partition, "to", tr.to, "err", err)
				continue
			}
			n.xfer.mu.Lock()
			delete(n.xfer.pending, tr)
			n.xfer.done += int64(keys)
			n.xfer.mu.Unlock()
			n.log.Info("replica transfer done", "partition", tr.partition, "to", tr.to, "keys", keys)
		}
	}
}

// push sends every key of the partition to the node.
func (n *Node) push(ctx context.Context, tr transfer) (int, error) {
	st := n.cluster.current()
	if st == nil || !n.cluster.alive(string(tr.to)) {
		return 0, ErrNotJoined
	}
	peer := n.cluster.Peers(string(tr.to))
	if peer == nil {
		return 0, ErrNotJoined
	}
	from, to := ring.SlotRange(tr.partition, st.Partitions())
	var cur replica.Cursor
	sent := 0
	for {
		next, entries, err := n.store.ScanRange(ctx, from, to, cur, 500)
		if err != nil {
			return sent, err
		}
		for _, e := range entries {
			cctx, cancel := context.WithTimeout(ctx, n.cfg.Timeout)
			err := peer.Merge(cctx, e.Key, e.Object)
			cancel()
			if err != nil {
				return sent, err
			}
			sent++
		}
		if next == 0 {
			return sent, nil
		}
		cur = next
	}
}

// stats returns the queued transfers and the keys pushed so far.
func (t *transfers) stats() (pending int, keys int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.pending), t.done
}
