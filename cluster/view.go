package cluster

import (
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// Liveness returns node id's gossip liveness: member.Alive for Self,
// member.Unknown before Attach.
func (c *Cluster) Liveness(id string) member.Liveness {
	if ring.NodeID(id) == c.cfg.Self {
		return member.Alive
	}
	ml := c.membership()
	if ml == nil {
		return member.Unknown
	}
	return ml.Liveness(id)
}

// Alive reports whether node id is believed up by gossip (Self always is).
func (c *Cluster) Alive(id string) bool { return c.Liveness(id) == member.Alive }

// IsMember reports whether id is in the current ring; true before this
// node has a ring (nothing is known to be gone).
func (c *Cluster) IsMember(id string) bool {
	st := c.Current()
	if st == nil {
		return true
	}
	_, ok := st.Member(ring.NodeID(id))
	return ok
}

// Serving returns the top N of partition p's serving list: its replicas
// (its old replicas while p is handed off).
func Serving(st *ring.State, p int) []ring.NodeID {
	l := st.ServingList(p)
	return l[:min(len(l), st.Replicas())]
}

// ReplicasOf returns key's replicas in st (Serving of its partition).
func ReplicasOf(st *ring.State, key []byte) []ring.NodeID {
	return Serving(st, st.KeyPartition(key))
}
