package resp

// notify emits the keyspace notification of one event on key, as Redis's
// notifyKeyspaceEvent(type, event, key, dbid): class is the event's type
// flag in notify-keyspace-events ('g' generic, '$' string, 'l' list, 's'
// set, 'h' hash, 'z' sorted set, 'x' expired, 'e' evicted, 't' stream,
// 'm' key miss, 'n' new key) and event its name ("set", "del", "expire",
// "hset"…; Redis's names). Handlers call it after a write succeeded, on
// the node that coordinated it, so each event is emitted once
// cluster-wide.
//
// STUB: emits nothing; the Pub/Sub work (issue 12) publishes the events.
func (c *Conn) notify(class byte, event string, key []byte) {
	_, _, _ = class, event, key
}
