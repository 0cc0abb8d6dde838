package node

import "github.com/dynakv/dynakv/ring"

// expired is the store's OnExpired: every replica's sweeper tombstones an
// expired key, and the one that coordinates the key (its first healthy
// replica, coordinator.Route) emits the "expired" keyspace event, so it is
// emitted once cluster-wide while the replicas agree on health. Before
// the coordinator and the RESP server are built nothing is emitted.
func (n *Node) expired(key []byte) {
	co, srv := n.co.Load(), n.rs.Load()
	if co == nil || srv == nil {
		return
	}
	if _, local := co.Route(key); local {
		// The swept key is a stored key: its database and user key name
		// the event (ring.StoredKey); a key of a flushed epoch is gone
		// already and emits nothing.
		db, _, user, ok := ring.ParseStoredKey(key)
		if st := n.cluster.Current(); !ok || st != nil && st.Flushed(key) {
			return
		}
		srv.Notify('x', "expired", db, user)
	}
}
