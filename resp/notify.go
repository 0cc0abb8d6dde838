package resp

import (
	"context"

	"github.com/dynakv/dynakv/crdt"
	"sync"
	"sync/atomic"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/pubsub"
)

// notify emits the keyspace notification of one event on key, as Redis's
// notifyKeyspaceEvent(type, event, key, dbid): class is the event's type
// flag in notify-keyspace-events ('g' generic, '$' string, 'l' list, 's'
// set, 'h' hash, 'z' sorted set, 'x' expired, 'e' evicted, 't' stream,
// 'm' key miss, 'n' new key) and event its name ("set", "del", "expire",
// "hset"…; Redis's names). Handlers call it after a write succeeded, on
// the node that coordinated it, so each event is emitted once
// cluster-wide (see Server.Notify).
func (c *Conn) notify(class byte, event string, key []byte) {
	c.srv.Notify(class, event, c.notifyDB(), key)
}

// notifyDB is the database of the connection's events and MONITOR lines:
// the one it SELECTed.
func (c *Conn) notifyDB() int { return c.db }

// notifyNew emits the "new" event ('n') of a write that created key, before
// the command's own event, as Redis's dbAdd does.
func (c *Conn) notifyNew(key []byte, prev, next crdt.Object) {
	if pubsub.Events(c.srv.pub.events.Load())&pubsub.EventNew == 0 {
		return
	}
	if now := c.now(); !crdt.Live(prev, now) && crdt.Live(next, now) {
		c.notify('n', "new", key)
	}
}

// notifyGone emits "del" ('g') when a write emptied a collection, so the
// key is gone (HDEL, SREM, SPOP, SMOVE's source), as Redis does after the
// command's own event.
func (c *Conn) notifyGone(key []byte, next crdt.Object) {
	if !crdt.Live(next, c.now()) {
		c.notify('g', "del", key)
	}
}

// mutateReplyNext is mutateReply for a write whose events depend on the
// key's object after it (a collection it may empty): write gets the
// yielded value and that object.
func mutateReplyNext[T any](c *Conn, key []byte, op func(cur crdt.Object, st crdt.Stamp) (crdt.Object, T, error), write func(T, crdt.Object)) {
	var out T
	next, err := c.mutate(key, true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, v, err := op(cur, st)
		out = v
		return d, err
	})
	if err != nil {
		c.WriteErr(err)
		return
	}
	write(out, next)
}

// Notify publishes a keyspace event if notify-keyspace-events enables its
// class: to this node's subscribers at once, and to every other live
// node's through an ordered background queue (DKV.PUBLISH batches), so a
// write never waits for the fan-out. Node code calls it for events that
// happen outside a command: the sweeper's "expired" ('x'), on the key's
// coordinator only. key is kept: the caller must not change it.
func (s *Server) Notify(class byte, event string, db int, key []byte) {
	e := pubsub.Events(s.pub.events.Load())
	msgs := e.Notification(pubsub.Class(class), event, db, key)
	if msgs == nil {
		return
	}
	for _, m := range msgs {
		s.pub.reg.Publish(m[0], m[1], false)
	}
	if s.cfg.Cluster != nil && s.cfg.ClusterSecret != "" {
		s.pub.fan.add(msgs)
	}
}

// maxFanoutQueue bounds the keyspace events waiting to be sent to the
// other nodes; beyond it events are dropped (and counted) rather than
// held in memory while a node is slow.
const maxFanoutQueue = 1 << 16

// fanoutBatch is the most messages one DKV.PUBLISH carries.
const fanoutBatch = 512

// fanout sends keyspace events to the other nodes in the order they were
// emitted: one goroutine, started when events arrive and gone when the
// queue is empty, sends each batch to every live node (concurrently) and
// waits for all before the next.
type fanout struct {
	s       *Server
	mu      sync.Mutex
	q       [][2][]byte
	running bool
	dropped atomic.Int64
}

func (f *fanout) add(msgs [][2][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.q)+len(msgs) > maxFanoutQueue {
		f.dropped.Add(int64(len(msgs)))
		return
	}
	f.q = append(f.q, msgs...)
	if !f.running {
		f.running = true
		go f.run()
	}
}

func (f *fanout) run() {
	for {
		f.mu.Lock()
		batch := f.q
		if len(batch) > fanoutBatch {
			batch = batch[:fanoutBatch:fanoutBatch]
			f.q = f.q[fanoutBatch:]
		} else {
			f.q = nil
		}
		if len(batch) == 0 || f.s.ctx.Err() != nil {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		args := make([][]byte, 0, 2+2*len(batch))
		args = append(args, []byte(peer.CmdPublish), []byte("C"))
		for _, m := range batch {
			args = append(args, m[0], m[1])
		}
		var wg sync.WaitGroup
		for _, id := range f.s.livePeers() {
			wg.Go(func() {
				ctx, cancel := context.WithTimeout(f.s.ctx, fanoutTimeout)
				defer cancel()
				if _, err := f.s.cfg.Cluster.Forward(ctx, id, 2, args); err != nil {
					f.s.log.Debug("resp: keyspace event fan-out failed", "node", id, "events", len(batch), "error", err)
				}
			})
		}
		wg.Wait()
	}
}
