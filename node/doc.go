// Package node is dynakv's composition root. It owns no mechanism: from
// one Config tree (config.go; each part's DefaultConfig composed by
// DefaultConfig, cmd/dynakv binds its flags to it) it builds the parts,
// starts them, renders INFO from their own status, and stops them.
//
// Composition, in Start's order: the RESP listener; the ring-state holder
// (cluster.Cluster: ring state persisted in <data>/ring.state, admission,
// the leaving mark) with the peer clients (peerclient.Clients) dialled
// from its member table; the ownership-transfer driver (transfer, progress
// in <data>/transfer.json), woken by every ring change; gossip
// (cluster.StartGossip over ring/member, encrypted with a key of the
// cluster secret); the wait to be admitted; the store (replica.Store) with
// the anti-entropy trees as its observer and the tombstone rule
// (antientropy.Reaper, or "always" when N = 1); the anti-entropy scheduler
// (off with a negative AE.Interval); the coordinator, whose N is the
// ring's and whose notion of healthy (gossip plus its own suspicion)
// serves routing, quorums and the slot table; the RESP server with the
// peer handlers (peerserver) when there is a cluster secret; and the hint
// deliverer (hints), one pass per Hints.Interval tick; the databases
// (flush.go): the ring's flush epochs are the RESP server's Databases, the
// store drops keys of closed epochs (replica.Config.Flushed) and a purge
// loop deletes them once at start and on every epoch change. The per-call
// timeouts of hints, transfer and the reaper default to the request
// timeout, Coordinator.Timeout (--timeout).
//
// TLS (tls.go; Config.TLS, Redis's tls-* settings): Start loads the
// certificate, key and CA files first (an unusable one fails Start with
// ErrTLS), then opens the listeners: the plaintext RESP one unless Listen
// is ListenOff (Redis's port 0), the TLS one (tls-port), and the
// plaintext and TLS cluster-client ones, all served by the one RESP
// server (resp.Server.ServeTLS for the TLS ones). Each node gossips its
// plaintext and TLS client addresses (cluster.Meta), so the CLUSTER
// commands show both ports, as Redis's. Under tls-cluster the ring
// records the node's TLS address, the peer clients dial it with a
// crypto/tls dialer presenting the node's certificate, both sides check
// the other's certificate against the CA (the chain only, as Redis), and
// the RESP server accepts the cluster secret only on a TLS connection
// whose client certificate the CA signed (resp.Config.PeerTLS). Gossip
// stays memberlist's, encrypted with the cluster secret's key: it
// carries membership, never data.
//
// INFO: node only composes sections from the parts' renderings:
// replication (coordinator and hint counters), cluster (Cluster.Info),
// transfer and its alias handoff (transfer.Status.Fields), antientropy
// (Scheduler.Status).
//
// Invariants: a Node owns everything it starts, and a failed Start
// releases what it acquired; Start returns only once the node is in a
// ring; Close stops accepting clients first, lets in-flight requests and
// the coordinator's background sends finish, leaves gossip, then closes
// the store, so every acknowledged write is on disk when Close returns.
//
// Concurrency: Start and Close must not race each other; everything else
// on a running Node is safe for concurrent use. Each part runs its own
// goroutine (gossip and the reconciler, transfer, anti-entropy, hints,
// the RESP server) until Start's context is cancelled by Close. The ring
// state is an immutable *ring.State installed by package cluster under
// one writer lock; readers take the current pointer without locks. Ring
// changes reach the node through one callback (Cluster's OnChange, called
// without locks held), which prunes stale peer clients and wakes transfer
// and, when a flush epoch moved, the purge.
package node
