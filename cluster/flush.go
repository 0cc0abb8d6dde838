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
