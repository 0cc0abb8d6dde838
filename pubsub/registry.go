package pubsub

import (
	"bytes"
	"slices"
	"sort"
	"sync"
)

// Kind is a kind of subscription.
type Kind uint8

// The kinds of subscription, each its own namespace: a message published
// to channel "a" reaches Channel subscribers of "a" and Pattern
// subscribers whose pattern matches "a"; a shard message (SPUBLISH)
// reaches only Shard subscribers of its channel.
const (
	Channel Kind = iota // SUBSCRIBE
	Pattern             // PSUBSCRIBE
	Shard               // SSUBSCRIBE
	numKinds
)

// Message kinds: the first element of the array (RESP2) or push (RESP3)
// frame a subscriber receives, Redis's own words.
var (
	subscribeKind   = [numKinds]string{"subscribe", "psubscribe", "ssubscribe"}
	unsubscribeKind = [numKinds]string{"unsubscribe", "punsubscribe", "sunsubscribe"}
)

// Message is what a subscriber receives: a confirmation of (un)subscribing
// or a published message. Its slices are shared by every subscriber that
// receives it and must not be changed.
type Message struct {
	// Kind is the frame's first element: "message", "pmessage",
	// "smessage", "subscribe", "unsubscribe", "psubscribe",
	// "punsubscribe", "ssubscribe" or "sunsubscribe".
	Kind string
	// Pattern is the matching pattern of a "pmessage"; nil otherwise.
	Pattern []byte
	// Channel is the channel (or pattern, for "psubscribe" and
	// "punsubscribe"); nil in an unsubscribe confirmation sent when the
	// subscriber had no subscription of that kind (Redis's null).
	Channel []byte
	// Payload is a published message's payload.
	Payload []byte
	// Count is a confirmation's count of the subscriber's subscriptions
	// after it: channels and patterns together, or shard channels for
	// "ssubscribe" and "sunsubscribe" (as Redis counts them).
	Count int
}

// IsConfirmation reports whether m confirms a (un)subscription rather
// than carrying a published message.
func (m Message) IsConfirmation() bool {
	return m.Kind != "message" && m.Kind != "pmessage" && m.Kind != "smessage"
}

// Subscriber receives messages. Push must not block: it queues the message
// (an Outbox bounds the queue) and returns. The Registry calls Push for a
// confirmation while holding its own lock, so that every message published
// after a subscription took effect is pushed after its confirmation; Push
// must therefore never call back into the Registry. Subscribers are
// compared as map keys: use pointers.
type Subscriber interface {
	Push(m Message)
}

// Registry is one node's subscriptions: who listens to which channel,
// pattern and shard channel. It is safe for concurrent use. Publish never
// blocks on a subscriber (Push does not block).
type Registry struct {
	mu    sync.RWMutex
	names [numKinds]map[string]map[Subscriber]struct{}
	subs  map[Subscriber]*[numKinds]map[string]uint64 // name → subscription order
	seq   uint64
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	r := &Registry{subs: make(map[Subscriber]*[numKinds]map[string]uint64)}
	for k := range r.names {
		r.names[k] = make(map[string]map[Subscriber]struct{})
	}
	return r
}

// count is s's subscription count for a confirmation of kind k (r.mu held).
func (r *Registry) count(s Subscriber, k Kind) int {
	st := r.subs[s]
	if st == nil {
		return 0
	}
	if k == Shard {
		return len(st[Shard])
	}
	return len(st[Channel]) + len(st[Pattern])
}

// Subscribe subscribes s to each name (channel, pattern or shard channel,
// by k), in order, and pushes one confirmation per name, as Redis does,
// also for a name s was already subscribed to.
func (r *Registry) Subscribe(s Subscriber, k Kind, names ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range names {
		st := r.subs[s]
		if st == nil {
			st = new([numKinds]map[string]uint64)
			r.subs[s] = st
		}
		if st[k] == nil {
			st[k] = make(map[string]uint64)
		}
		key := string(n)
		if _, ok := st[k][key]; !ok {
			r.seq++
			st[k][key] = r.seq
			set := r.names[k][key]
			if set == nil {
				set = make(map[Subscriber]struct{})
				r.names[k][key] = set
			}
			set[s] = struct{}{}
		}
		s.Push(Message{Kind: subscribeKind[k], Channel: n, Count: r.count(s, k)})
	}
}

// Unsubscribe unsubscribes s from each name of kind k and pushes one
// confirmation per name (also for a name s was not subscribed to). With
// no names it unsubscribes s from every name of that kind, in the order
// it subscribed to them (Redis's order for patterns; for channels Redis
// follows its hash table), or, if it had none, pushes one confirmation
// with a nil name.
func (r *Registry) Unsubscribe(s Subscriber, k Kind, names ...[]byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(names) == 0 {
		var order []uint64
		if st := r.subs[s]; st != nil {
			for n, seq := range st[k] {
				names = append(names, []byte(n))
				order = append(order, seq)
			}
		}
		if len(names) == 0 {
			s.Push(Message{Kind: unsubscribeKind[k], Count: r.count(s, k)})
			return
		}
		sort.Sort(bySeq{names, order})
	}
	for _, n := range names {
		r.remove(s, k, string(n))
		s.Push(Message{Kind: unsubscribeKind[k], Channel: n, Count: r.count(s, k)})
	}
}

type bySeq struct {
	names [][]byte
	seq   []uint64
}

func (b bySeq) Len() int           { return len(b.names) }
func (b bySeq) Less(i, j int) bool { return b.seq[i] < b.seq[j] }
func (b bySeq) Swap(i, j int) {
	b.names[i], b.names[j] = b.names[j], b.names[i]
	b.seq[i], b.seq[j] = b.seq[j], b.seq[i]
}

// remove takes s off name (r.mu held).
func (r *Registry) remove(s Subscriber, k Kind, name string) {
	st := r.subs[s]
	if st == nil {
		return
	}
	if _, ok := st[k][name]; !ok {
		return
	}
	delete(st[k], name)
	if set := r.names[k][name]; set != nil {
		delete(set, s)
		if len(set) == 0 {
			delete(r.names[k], name)
		}
	}
	if len(st[Channel])+len(st[Pattern])+len(st[Shard]) == 0 {
		delete(r.subs, s)
	}
}

// Drop removes every subscription of s without confirmations: its
// connection is gone.
func (r *Registry) Drop(s Subscriber) {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.subs[s]
	if st == nil {
		return
	}
	for k := range st {
		for n := range st[k] {
			r.remove(s, Kind(k), n)
		}
	}
	delete(r.subs, s)
}

// Counts returns how many channels, patterns and shard channels s is
// subscribed to (CLIENT LIST's sub, psub and ssub).
func (r *Registry) Counts(s Subscriber) (channels, patterns, shard int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if st := r.subs[s]; st != nil {
		return len(st[Channel]), len(st[Pattern]), len(st[Shard])
	}
	return 0, 0, 0
}

// Names returns the channels (or patterns, or shard channels, by k) s is
// subscribed to, in no particular order (the ACL checks them when a
// user's rules change).
func (r *Registry) Names(s Subscriber, k Kind) [][]byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	st := r.subs[s]
	if st == nil {
		return nil
	}
	out := make([][]byte, 0, len(st[k]))
	for n := range st[k] {
		out = append(out, []byte(n))
	}
	return out
}

// Sizes returns how many channels, patterns and shard channels have
// subscribers on this node (INFO's pubsub_channels, pubsub_patterns and
// pubsubshard_channels).
func (r *Registry) Sizes() (channels, patterns, shard int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.names[Channel]), len(r.names[Pattern]), len(r.names[Shard])
}

// Subscribed reports how many subscriptions s holds: channels and
// patterns, and shard channels.
func (r *Registry) Subscribed(s Subscriber) (plain, shard int) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.count(s, Channel), r.count(s, Shard)
}

// delivery is one push of a Publish, made after the lock is released.
type delivery struct {
	s Subscriber
	m Message
}

// Publish delivers payload on channel to this node's subscribers and
// returns how many deliveries it made, as Redis's PUBLISH counts them:
// one per subscriber of the channel plus one per (subscriber, matching
// pattern). shard publishes to shard subscribers only (SPUBLISH), whose
// patterns do not exist. Publish pushes outside the registry's lock, so
// subscribers that (un)subscribe meanwhile may or may not get it, and a
// full subscriber never holds up the others.
func (r *Registry) Publish(channel, payload []byte, shard bool) int {
	var out []delivery
	r.mu.RLock()
	if shard {
		for s := range r.names[Shard][string(channel)] {
			out = append(out, delivery{s, Message{Kind: "smessage", Channel: channel, Payload: payload}})
		}
	} else {
		for s := range r.names[Channel][string(channel)] {
			out = append(out, delivery{s, Message{Kind: "message", Channel: channel, Payload: payload}})
		}
		for pat, set := range r.names[Pattern] {
			if len(set) == 0 || !Match([]byte(pat), channel) {
				continue
			}
			p := []byte(pat)
			for s := range set {
				out = append(out, delivery{s, Message{Kind: "pmessage", Pattern: p, Channel: channel, Payload: payload}})
			}
		}
	}
	r.mu.RUnlock()
	for _, d := range out {
		d.s.Push(d.m)
	}
	return len(out)
}

// Channels returns the active channels (shard channels with shard) that
// match pattern (every one for a nil pattern), in byte order: PUBSUB
// CHANNELS and SHARDCHANNELS.
func (r *Registry) Channels(pattern []byte, shard bool) [][]byte {
	k := Channel
	if shard {
		k = Shard
	}
	r.mu.RLock()
	var out [][]byte
	for n := range r.names[k] {
		if pattern == nil || Match(pattern, []byte(n)) {
			out = append(out, []byte(n))
		}
	}
	r.mu.RUnlock()
	slices.SortFunc(out, bytes.Compare)
	return out
}

// NumSub returns the number of subscribers of channel (of the shard
// channel with shard), patterns not counted: PUBSUB NUMSUB and
// SHARDNUMSUB.
func (r *Registry) NumSub(channel []byte, shard bool) int {
	k := Channel
	if shard {
		k = Shard
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.names[k][string(channel)])
}

// NumPat returns the number of distinct patterns subscribed to: PUBSUB
// NUMPAT.
func (r *Registry) NumPat() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.names[Pattern])
}
