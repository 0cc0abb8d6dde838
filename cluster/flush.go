package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// # Flushes and their window
//
// A flush is a ring change (ring.State.WithFlushEpochs): replicas store a
// key of database db under its epoch (ring.StoredKey), so the data of an
// older epoch is another keyspace that no read or scan of the database
// looks at, that every store refuses to store again
// (replica.Config.Flushed: Merge, MergeMany and PutHint drop it, so
// neither read repair, anti-entropy, ownership transfer nor hinted
// handoff brings it back) and that every store purges in the background
// (replica.Store.Purge). Flush returns once every member gossip believes
// alive has installed the new epochs (Meta.Flush); from then on every
// coordinator those nodes run tags writes with the new epoch, so a write
// acknowledged before the flush is gone everywhere and a write after it
// survives.
//
// A member that was down during the flush learns the epochs when it comes
// back, before it serves: StartGossip joins the ring's other members, and
// memberlist's join merges their state synchronously (MergeState) before
// node.Start opens the store and accepts clients; the store then purges
// what it held of the closed epochs, and what it still had to hand off
// (hints) is dropped by its targets.
//
// The window, not closed: a node that comes back while it can reach no
// member holding the new state (all of them down or partitioned away, so
// its join finds nobody), or a node that gossip wrongly believed dead
// during the flush (a partition; Flush does not wait for it), serves with
// the old epochs until gossip reaches it. Meanwhile its clients still see
// the flushed keys it holds, and a write it coordinates is stored under
// the old epoch: the other replicas drop it (and acknowledge, since that
// is what the flush means to them), and the node purges it when it adopts
// the epochs, so such a write, though acknowledged, is lost. Closing it
// would mean refusing to serve until some member has answered, which a
// lone survivor of a cluster could never do. A flush that races with
// another ring change of the same version may lose to it (ring.Merge);
// Flush then makes it again on top of the winner, and until it returns
// some nodes may still write under the old epoch: those writes are
// concurrent with the flush and removed with it.

// ErrFlush reports a FLUSHDB or FLUSHALL that could not be completed: the
// ring change failed, or the context ended before every alive member had
// adopted the new epochs (the flush then still completes as the state
// spreads: it is in the ring).
var ErrFlush = errors.New("cluster: flush")

// flushPoll is how often Flush looks at the members' gossiped epochs.
const flushPoll = 20 * time.Millisecond

// Flush is FLUSHDB (one database) and FLUSHALL (every database) as a
// cluster-wide causal cut: it raises each database in dbs to the next
// flush epoch in a new ring version (ring.State.WithFlushEpochs), made
// again on top of any concurrent change that wins over it, and returns
// once this node and every alive member has installed those epochs, as
// their gossiped Meta tells (Meta.Flush). From then on every write any
// alive node coordinates carries the new epoch, every replica drops data
// of the old ones when it arrives, and a member that was down learns the
// epochs with the ring state when it comes back (before it serves: its
// memberlist join merges the peers' state). It returns the epochs
// installed. Errors wrap ErrFlush (or ErrNotJoined).
func (c *Cluster) Flush(ctx context.Context, dbs []int) ([ring.Databases]uint64, error) {
	var want [ring.Databases]uint64
	cur := c.Current()
	if cur == nil {
		return want, fmt.Errorf("%w: no ring yet", ErrNotJoined)
	}
	want = cur.FlushEpochs()
	for _, db := range dbs {
		if db < 0 || db >= ring.Databases {
			return want, fmt.Errorf("%w: no database %d", ErrFlush, db)
		}
		want[db]++
	}
	for {
		_, err := c.Update(func(cur *ring.State) (*ring.State, error) {
			ns, err := cur.WithFlushEpochs(want)
			if err != nil || ns == cur {
				return nil, err
			}
			return ns, nil
		})
		if err != nil {
			return want, fmt.Errorf("%w: %w", ErrFlush, err)
		}
		if c.flushAdopted(want) {
			return want, nil
		}
		select {
		case <-ctx.Done():
			return want, fmt.Errorf("%w: not yet adopted by every alive member: %w", ErrFlush, ctx.Err())
		case <-c.cfg.After(flushPoll):
		}
	}
}

// atLeast reports whether every epoch of have is at least want's.
func atLeast(have []uint64, want [ring.Databases]uint64) bool {
	for db, e := range want {
		h := uint64(0)
		if db < len(have) {
			h = have[db]
		}
		if h < e {
			return false
		}
	}
	return true
}

// flushAdopted reports whether this node's ring and every alive member
// of it, by its gossiped Meta, hold epochs at least want.
func (c *Cluster) flushAdopted(want [ring.Databases]uint64) bool {
	st := c.Current()
	if st == nil {
		return false
	}
	e := st.FlushEpochs()
	if !atLeast(e[:], want) {
		return false
	}
	ml := c.membership()
	if ml == nil {
		return true
	}
	seen := map[string][]uint64{}
	for _, m := range ml.Members() {
		if m.State != member.Alive {
			continue
		}
		var meta Meta
		if json.Unmarshal(m.Meta, &meta) == nil {
			seen[m.ID] = meta.Flush
		} else {
			seen[m.ID] = nil
		}
	}
	for _, m := range st.Members() {
		if m.ID == c.cfg.Self {
			continue
		}
		have, alive := seen[string(m.ID)]
		if alive && !atLeast(have, want) {
			return false
		}
	}
	return true
}

// publishMeta gossips this node's Meta again (its flush epochs changed).
func (c *Cluster) publishMeta() {
	c.metaMu.Lock()
	defer c.metaMu.Unlock()
	if ml := c.membership(); ml != nil {
		if err := ml.SetMeta(c.Meta(), c.cfg.MetaTimeout); err != nil {
			c.log.Warn("cannot gossip the flush epochs", "err", err)
		}
	}
}
