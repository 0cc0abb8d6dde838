package node

// BlockedClients returns how many blocking commands (BLPOP…) wait on this
// node (resp.Server.BlockedClients: a forwarded one counts on its keys'
// coordinator).
func (n *Node) BlockedClients() int64 { return n.srv.BlockedClients() }
