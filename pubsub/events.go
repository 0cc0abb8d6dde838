package pubsub

import (
	"errors"
	"strconv"
)

// Events is the set of keyspace-notification classes enabled by Redis's
// notify-keyspace-events parameter.
type Events uint32

// The classes, with Redis's flag characters.
const (
	EventKeyspace Events = 1 << iota // K: __keyspace@<db>__:<key> channels
	EventKeyevent                    // E: __keyevent@<db>__:<event> channels
	EventGeneric                     // g: DEL, EXPIRE, RENAME…
	EventString                      // $
	EventList                        // l
	EventSet                         // s
	EventHash                        // h
	EventZSet                        // z
	EventExpired                     // x: a key expired
	EventEvicted                     // e: a key was evicted
	EventStream                      // t
	EventKeyMiss                     // m: a read found no key (not in A)
	EventModule                      // d
	EventNew                         // n: a key was created (not in A)

	// EventAll is 'A': every class but m and n ("g$lshzxetd").
	EventAll = EventGeneric | EventString | EventList | EventSet | EventHash | EventZSet | EventExpired | EventEvicted | EventStream | EventModule
)

// ErrEventClass is ParseEvents's error: a character that names no class.
// (resp replies Redis's CONFIG SET text for it.)
var ErrEventClass = errors.New("pubsub: invalid event class character")

var classOf = map[byte]Events{
	'A': EventAll, 'g': EventGeneric, '$': EventString, 'l': EventList,
	's': EventSet, 'h': EventHash, 'z': EventZSet, 'x': EventExpired,
	'e': EventEvicted, 'K': EventKeyspace, 'E': EventKeyevent, 't': EventStream,
	'm': EventKeyMiss, 'd': EventModule, 'n': EventNew,
}

// ParseEvents parses a notify-keyspace-events value as Redis does
// (keyspaceEventsStringToFlags): every character a class, case
// sensitive; "" is none.
func ParseEvents(s string) (Events, error) {
	var e Events
	for i := 0; i < len(s); i++ {
		f, ok := classOf[s[i]]
		if !ok {
			return 0, ErrEventClass
		}
		e |= f
	}
	return e, nil
}

// Class returns the class of one of Redis's type characters, as handlers
// name an event's type ('g', '$', 'h', 's', 'x', 'n', 'm'…); 0 for an
// unknown one.
func Class(c byte) Events {
	if c == 'A' || c == 'K' || c == 'E' {
		return 0
	}
	return classOf[c]
}

// String renders e canonically, as CONFIG GET shows it (Redis's
// keyspaceEventsFlagsToString): "A" for all of EventAll, else the classes
// in the order g$lshzxetdn, then K, E and m.
func (e Events) String() string {
	var b []byte
	if e&EventAll == EventAll {
		b = append(b, 'A')
	} else {
		for _, c := range []struct {
			f Events
			c byte
		}{{EventGeneric, 'g'}, {EventString, '$'}, {EventList, 'l'}, {EventSet, 's'}, {EventHash, 'h'}, {EventZSet, 'z'}, {EventExpired, 'x'}, {EventEvicted, 'e'}, {EventStream, 't'}, {EventModule, 'd'}, {EventNew, 'n'}} {
			if e&c.f != 0 {
				b = append(b, c.c)
			}
		}
	}
	if e&EventKeyspace != 0 {
		b = append(b, 'K')
	}
	if e&EventKeyevent != 0 {
		b = append(b, 'E')
	}
	if e&EventKeyMiss != 0 {
		b = append(b, 'm')
	}
	return string(b)
}

// Notification is one keyspace event as Redis publishes it: up to two
// messages, on __keyspace@<db>__:<key> (payload the event's name) with K
// and on __keyevent@<db>__:<event> (payload the key) with E. It returns
// nil when e does not enable the event's class or neither K nor E.
func (e Events) Notification(class Events, event string, db int, key []byte) [][2][]byte {
	if e&class == 0 || class == 0 {
		return nil
	}
	var out [][2][]byte
	if e&EventKeyspace != 0 {
		ch := append([]byte("__keyspace@"), strconv.Itoa(db)...)
		ch = append(append(ch, "__:"...), key...)
		out = append(out, [2][]byte{ch, []byte(event)})
	}
	if e&EventKeyevent != 0 {
		ch := append([]byte("__keyevent@"), strconv.Itoa(db)...)
		ch = append(append(ch, "__:"...), event...)
		out = append(out, [2][]byte{ch, key})
	}
	return out
}
