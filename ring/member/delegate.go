package member

import (
	"time"

	"github.com/hashicorp/memberlist"
)

// delegate receives memberlist's callbacks. It is a separate type so that
// Membership does not export them.
//
// Threading, per memberlist's contracts:
//   - memberlist.Delegate methods may be called concurrently from any of
//     memberlist's goroutines. NotifyMsg and GetBroadcasts run on the packet
//     path (NotifyMsg also on stream handlers, for SendReliable messages) and
//     must not block; LocalState and MergeRemoteState run during push/pull
//     and joins (MergeRemoteState synchronously inside Join on the joiner).
//   - memberlist.EventDelegate methods may be called from several
//     goroutines but never concurrently, so they arrive in order. They are
//     called with memberlist's node lock held: they must not call back into
//     memberlist. NotifyJoin fires for this node itself during Create.
//   - memberlist.PingDelegate.NotifyPingComplete runs on the probe goroutine
//     after a direct probe was acked.
//
// All of them only touch the table (own mutex), the broadcast queue (own
// mutex), the StateHandler (documented as concurrency-safe) and spawn
// goroutines for network sends.
type delegate struct{ m *Membership }

var (
	_ memberlist.Delegate      = (*delegate)(nil)
	_ memberlist.EventDelegate = (*delegate)(nil)
	_ memberlist.PingDelegate  = (*delegate)(nil)
)

// NodeMeta implements memberlist.Delegate: the Meta of the last SetMeta,
// else Config.Meta (validated at Start to fit limit).
func (d *delegate) NodeMeta(limit int) []byte {
	meta := d.m.cfg.Meta
	if p := d.m.meta.Load(); p != nil {
		meta = *p
	}
	if len(meta) > limit {
		return nil
	}
	return meta
}

// NotifyMsg implements memberlist.Delegate: one of our messages arrived by
// gossip or SendReliable. buf is only valid during the call.
func (d *delegate) NotifyMsg(buf []byte) { d.m.handleMsg(buf) }

// GetBroadcasts implements memberlist.Delegate: queued state broadcasts
// that fit in limit bytes.
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte {
	return d.m.queue.GetBroadcasts(overhead, limit)
}

// LocalState implements memberlist.Delegate: the cluster state for a
// push/pull or join, whatever its size (it goes over TCP).
func (d *delegate) LocalState(join bool) []byte {
	return encodeState(d.m.cfg.State.LocalState())
}

// MergeRemoteState implements memberlist.Delegate: the peer's LocalState
// from a push/pull or join.
func (d *delegate) MergeRemoteState(buf []byte, join bool) {
	if len(buf) > 0 && buf[0] == kindState {
		d.m.merge(buf[1:])
	}
}

// NotifyJoin implements memberlist.EventDelegate: n is alive (new, or back
// from dead or left).
func (d *delegate) NotifyJoin(n *memberlist.Node) { d.m.table.join(n) }

// NotifyLeave implements memberlist.EventDelegate: n was declared dead, or
// left. memberlist does not say which (its Node.State is not maintained,
// hashicorp/memberlist#266); our own leave announcement decides.
func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.m.table.gone(n, d.m.selfLeaving.Load())
}

// NotifyUpdate implements memberlist.EventDelegate: n's meta or address
// changed.
func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.m.table.update(n) }

// AckPayload implements memberlist.PingDelegate; we add nothing to acks.
func (d *delegate) AckPayload() []byte { return nil }

// NotifyPingComplete implements memberlist.PingDelegate: other answered one
// of memberlist's direct probes, a sign of life.
func (d *delegate) NotifyPingComplete(other *memberlist.Node, _ time.Duration, _ []byte) {
	d.m.table.contact(other.Name)
}
