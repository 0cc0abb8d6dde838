// Package member is dynakv's membership layer: a small wrapper over
// hashicorp/memberlist (SWIM gossip with failure detection) so that the rest
// of dynakv never sees memberlist. It does two things:
//
//  1. It reports the liveness of every member (Members, Liveness, and the
//     Config.Events callback). Liveness decides routing, never ownership:
//     ring membership changes only by explicit act (see docs/architecture.md).
//  2. It spreads one opaque cluster state blob, the encoded ring table,
//     whose content and merge rule belong to the caller's StateHandler.
//
// # Liveness
//
// memberlist's own view gives Alive, Dead and Left; this package adds
// Suspect, because memberlist does not expose its internal suspect state
// (the State field of the nodes it returns is never updated,
// hashicorp/memberlist#266). The states are:
//
//   - Alive: memberlist lists the member and it has shown a sign of life to
//     this node recently. Signs of life are memberlist announcing it alive
//     (join, refutation, meta update), an ack to one of memberlist's direct
//     probes, and this package's messages sent by it.
//   - Suspect: memberlist still lists the member, but it showed no sign of
//     life for about one probe round (live members × ProbeInterval, scaled
//     by memberlist's health score, + ProbeTimeout) and then failed a direct
//     confirmation ping. It is this node's local suspicion (Dynamo's "local
//     notion of failure"), usually raised before memberlist's collective
//     suspicion runs out and declares the member Dead; any later sign of
//     life makes it Alive again.
//   - Dead: memberlist declared it failed (probes failed, suspicion was not
//     refuted within SuspicionMult × log10(N) × ProbeInterval).
//   - Left: as Dead, but the member announced a graceful leave first
//     (Membership.Leave sends the announcement over TCP to every live
//     member before memberlist's own leave message, since memberlist's
//     public API cannot tell a leave from a failure). A member that learns
//     of the departure only through memberlist sees Dead.
//
// A Dead or Left member that comes back (restarted with the same NodeID)
// is Alive again: memberlist refutes the old death with a higher
// incarnation number. Members that died or left stay in Members. A Dead
// member that never restarted but was only cut off comes back through the
// reconnect loop (Config.ReconnectInterval, as serf's reconnect): memberlist
// stops contacting a dead member, so the two sides of a long partition
// would otherwise stay apart after it heals.
//
// # Cluster state
//
// The state travels three ways:
//
//   - Push/pull: at join and every PushPullInterval, memberlist exchanges
//     full membership with one random member over TCP; LocalState rides
//     along, both ways, and each side merges the other's. A joiner thus gets
//     the whole table at once, and push/pull is the anti-entropy that
//     repairs whatever gossip missed.
//   - Inline gossip: Broadcast queues the state in a memberlist
//     TransmitLimitedQueue when it fits comfortably in a UDP packet (≤ ~700
//     bytes of 1400). A newer broadcast replaces an older one still queued.
//   - Notice + TCP transfer: a larger state (a 256-partition ring is several
//     KB) cannot go over UDP, so Broadcast queues a small notice instead
//     (SHA-256 of the state + sender ID). A member whose own state hashes
//     differently asks the sender (at most once per digest per
//     ProbeInterval) and the sender replies with the full state over
//     memberlist's reliable stream (SendReliable). Each node therefore
//     fetches a change once, from whoever told it first, instead of
//     every node sending every change to every other.
//
// Whenever a merge changes the local state (StateHandler.MergeState returns
// true), this node re-broadcasts, so a change spreads epidemically:
// memberlist itself never forwards user messages.
//
// # Concurrency
//
// Membership's methods are safe for concurrent use. StateHandler methods are
// called concurrently from memberlist's goroutines and from Broadcast; they
// must be safe for that and quick. Config.Events is called from one
// goroutine owned by the Membership, in the order changes were observed; it
// must not call Leave or Shutdown. Shutdown stops all goroutines the package
// started and delivers the events already queued before returning.
//
// Joins (Join, the joins at Start and the background rejoin and reconnect
// loops) wait on the network for up to Config.TCPTimeout per step and
// address (memberlist's own bound: an address that accepts and never
// answers, such as a RESP port, fails after it) and hold no lock while
// they do. memberlist's Shutdown leaves the connections it dialed open,
// so the package wraps its transport (streams) and closes them at
// Shutdown: a join or state transfer in flight then fails at once, and
// Shutdown does not wait for it to time out.
//
// # Invariants
//
//   - memberlist's node name is Config.NodeID; Meta is at most MaxMetaSize
//     bytes and fixed for the life of the Membership.
//   - Every liveness transition of a member is recorded in one table under
//     one mutex and queued as an event in that same order.
//   - Only memberlist revives a Dead or Left member; local signs of life
//     only turn Suspect back into Alive.
//   - The package never inspects or changes the state bytes; "newer" is
//     decided by StateHandler.MergeState alone.
//   - memberlist's log lines go to Config.Logger at debug level.
package member
