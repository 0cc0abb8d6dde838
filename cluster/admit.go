package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// Run admits joining nodes (Reconcile) on every membership event and state
// change and every ReconcileInterval, until ctx is done.
func (c *Cluster) Run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.changed:
		case <-c.cfg.After(c.cfg.ReconcileInterval):
		}
		c.Reconcile()
	}
}

// WaitJoined blocks until this node is in the ring state. While it waits it
// asks the members for their state every AskInterval, so a lost gossip
// notice of its admission costs at most that long. After timeout it
// returns an error wrapping ErrNotJoined.
func (c *Cluster) WaitJoined(ctx context.Context, timeout time.Duration) error {
	deadline := c.cfg.After(timeout)
	for {
		select {
		case <-c.joined:
			return nil
		case <-c.cfg.After(c.cfg.AskInterval):
			if ml := c.membership(); ml != nil {
				ml.RequestState()
			}
		case <-deadline:
			return fmt.Errorf("%w after %v: is a node at --join reachable?", ErrNotJoined, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Reconcile admits alive gossip members that are not in the ring yet and
// updates members whose advertised addresses or weight changed, if this
// node is the reconciler (Admits); it returns the number of ring changes
// made. Members whose Meta says Left are never admitted again.
func (c *Cluster) Reconcile() int {
	st, ml := c.Current(), c.membership()
	if st == nil || ml == nil || !c.Admits(st) {
		return 0
	}
	n := 0
	for _, gm := range ml.Members() {
		if gm.State != member.Alive {
			continue
		}
		var md Meta
		if err := json.Unmarshal(gm.Meta, &md); err != nil || md.Addr == "" || md.Left {
			continue
		}
		want := ring.Member{ID: ring.NodeID(gm.ID), Addr: md.Addr, GossipAddr: gm.GossipAddr, Weight: max(md.Weight, 1)}
		next, err := c.Update(func(cur *ring.State) (*ring.State, error) {
			return admit(cur, want)
		})
		if err != nil {
			c.log.Warn("cannot admit member", "id", want.ID, "err", err)
			continue
		}
		if next != nil {
			n++
		}
	}
	return n
}

// admit returns st with want joined, or with its addresses and weight
// updated; nil if st already has it so.
func admit(st *ring.State, want ring.Member) (*ring.State, error) {
	have, ok := st.Member(want.ID)
	var next *ring.State
	var err error
	switch {
	case !ok:
		next, _, err = st.Join(want)
	case have.Addr != want.Addr || have.GossipAddr != want.GossipAddr || have.Weight != want.Weight:
		want.Status = have.Status
		next, _, err = st.Update(want)
	}
	return next, err
}

// Admits reports whether this node is the reconciler of st: the joined
// member with the smallest ID among those alive in gossip. Dynamo has no
// leader; this only keeps concurrent admissions rare (ring.Merge settles
// the rest and the reconciler re-applies what lost).
func (c *Cluster) Admits(st *ring.State) bool {
	for _, m := range st.Members() { // sorted by ID
		if m.Status != ring.StatusJoined {
			continue
		}
		if m.ID == c.cfg.Self {
			return true
		}
		if c.Alive(string(m.ID)) {
			return false
		}
	}
	return false
}
