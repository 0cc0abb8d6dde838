package cluster

import (
	"fmt"
	"path/filepath"

	"github.com/dynakv/dynakv/internal/atomicfile"
	"github.com/dynakv/dynakv/ring"
)

// Leaving reports whether CLUSTER LEAVE was accepted on this node (the
// leaving mark is on disk).
func (c *Cluster) Leaving() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.leaving
}

// MarkLeaving records this node's intent to leave: it checks that the node
// can leave (it is in the ring and not its last joined member), writes the
// leaving mark crash-safely and gossips Meta.Left, so the reconciler never
// admits it again once it is removed. Driving the leave (ring.Leave, the
// transfer of its partitions, ring.Remove) is the caller's. Errors wrap
// ErrLeave or ErrPersist.
func (c *Cluster) MarkLeaving() error {
	st := c.Current()
	if st == nil {
		return fmt.Errorf("%w: not in a ring", ErrLeave)
	}
	switch m, ok := st.Member(c.cfg.Self); {
	case !ok:
		return fmt.Errorf("%w: not in the ring", ErrLeave)
	case m.Status == ring.StatusJoined:
		// The last joined member cannot leave: nobody would take its data.
		if _, _, err := st.Leave(c.cfg.Self); err != nil {
			return fmt.Errorf("%w: %w", ErrLeave, err)
		}
	}
	if err := atomicfile.Write(c.cfg.FS, filepath.Join(c.cfg.Dir, LeavingFile), []byte("leaving\n")); err != nil {
		return fmt.Errorf("%w: leaving mark: %w", ErrPersist, err)
	}
	c.mu.Lock()
	c.leaving = true
	c.mu.Unlock()
	if ml := c.membership(); ml != nil {
		if err := ml.SetMeta(c.Meta(), c.cfg.MetaTimeout); err != nil {
			return fmt.Errorf("%w: %w", ErrLeave, err)
		}
	}
	return nil
}

// Forget removes node id, which must not be alive, from the ring for good
// (CLUSTER FORGET): its partitions go to the others. Errors wrap ErrForget
// (and ring.ErrUnknownMember for a node not in the ring).
func (c *Cluster) Forget(id string) error {
	switch {
	case ring.NodeID(id) == c.cfg.Self:
		return fmt.Errorf("%w: I tried hard but I can't forget myself", ErrForget)
	case c.Alive(id):
		return fmt.Errorf("%w: %s is alive; stop it first (or CLUSTER LEAVE on it)", ErrForget, id)
	}
	_, err := c.Update(func(cur *ring.State) (*ring.State, error) {
		next, _, err := cur.Forget(ring.NodeID(id))
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrForget, err)
		}
		return next, nil
	})
	if err != nil && c.Current() == nil {
		return fmt.Errorf("%w: not in a ring", ErrForget)
	}
	return err
}
