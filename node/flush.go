package node

import (
	"context"

	"github.com/dynakv/dynakv/ring"
)

// Databases and flushes, wired: the ring's flush epochs (package cluster)
// are resp's Databases, the store drops keys of closed epochs
// (replica.Config.Flushed) and purges them in the background whenever the
// epochs change and once when the node starts (a node that was down
// during a flush learns the epochs from its peers' ring state before it
// serves, then purges what it held).

// respDatabases presents the ring's flush epochs to the RESP layer.
type respDatabases struct{ n *Node }

// Epoch returns database db's flush epoch in the installed ring.
func (d respDatabases) Epoch(db int) uint64 {
	if st := d.n.cluster.Current(); st != nil {
		return st.FlushEpoch(db)
	}
	return 0
}

// Flush is FLUSHDB/FLUSHALL: cluster.Cluster.Flush.
func (d respDatabases) Flush(ctx context.Context, dbs []int) error {
	_, err := d.n.cluster.Flush(ctx, dbs)
	if err == nil {
		d.n.wakePurge()
	}
	return err
}

// flushed is the store's Config.Flushed: whether a stored key is of a
// database epoch the installed ring has closed.
func (n *Node) flushed(key []byte) bool {
	st := n.cluster.Current()
	return st != nil && st.Flushed(key)
}

// wakePurge asks the purge loop for a pass; it never blocks.
func (n *Node) wakePurge() {
	select {
	case n.purge <- struct{}{}:
	default:
	}
}

// purgeLoop deletes the store's keys of closed epochs on each wake, until
// ctx ends. A pass that fails is retried on the next wake.
func (n *Node) purgeLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-n.purge:
		}
		k, err := n.store.Purge()
		switch {
		case err != nil && ctx.Err() == nil:
			n.log.Warn("purge of flushed keys", "err", err, "purged", k)
		case k > 0:
			n.log.Info("flushed keys purged", "keys", k)
		}
	}
}

// epochsChanged reports whether a ring change moved a flush epoch.
func epochsChanged(old, next *ring.State) bool {
	return old == nil || old.FlushEpochs() != next.FlushEpochs()
}
