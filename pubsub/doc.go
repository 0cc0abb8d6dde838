// Package pubsub is one node's publish/subscribe core: the registry of
// its subscriptions (channels, glob patterns, shard channels), the
// matching of channels against patterns exactly as Redis's glob, the
// bounded outgoing buffer of each subscriber (Redis's
// client-output-buffer-limit pubsub), and the keyspace-notification
// classes of notify-keyspace-events with their channels. It does no I/O:
// package resp turns messages into RESP frames and writes them, and fans
// a PUBLISH out to the other nodes (each of which publishes only to its
// own Registry).
//
// # Invariants
//
//   - A subscriber is subscribed to a name of a kind at most once; the
//     Registry's two indexes (name → subscribers, subscriber → names)
//     always agree, and a name with no subscriber is not listed.
//   - Every confirmation a subscriber receives carries its subscription
//     count after that step (channels + patterns, or shard channels).
//   - A subscriber receives a message published after its subscription's
//     confirmation was pushed only after that confirmation (the
//     confirmation is pushed under the Registry's write lock; Publish
//     collects its receivers under the read lock).
//   - Publish delivers each message once per (subscriber, channel) and
//     once per (subscriber, matching pattern), as Redis counts receivers.
//   - An Outbox's pending bytes (queued plus being written) never stay
//     above its hard limit: the Append that crosses it closes the outbox
//     with ErrOverLimit and drops its content; so does an Append while
//     pending has stayed above the soft limit for longer than SoftFor.
//
// # Concurrency
//
// Registry and Outbox are safe for concurrent use. Publish never blocks
// on a subscriber: it snapshots the receivers under the read lock and
// pushes after releasing it; Subscriber.Push must not block and must not
// call back into the Registry (it is called under the write lock for
// confirmations). An Outbox has any number of appenders and one writer
// (Take, write, Done). Time enters only through the clock given to
// NewOutbox.
package pubsub
