package node

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
		// HOOK: the db is 0 until the databases work prefixes keys with it.
		srv.Notify('x', "expired", 0, key)
	}
}
