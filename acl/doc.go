// Package acl is dynakv's Redis ACL: users, the rule language of ACL
// SETUSER, and the permission check the client server runs before every
// command (Redis ACL docs, https://redis.io/docs/management/security/acl/,
// and the ACL command pages, Redis 7.0).
//
// It is pure: it does no I/O, reads no clock (the log is given the time)
// and knows commands only through a Catalog, which the resp package builds
// from its command table. The resp package wires it in: AUTH, HELLO AUTH,
// the ACL command and the check in the dispatcher.
//
// # Model
//
// A Table maps names to Users; it always holds "default". A User's Rules
// are immutable values: ACL SETUSER applies its rules, left to right, to a
// copy of the current Rules and installs the copy only if every rule was
// valid (so a bad rule changes nothing, as in Redis 7.0), with one atomic
// store. Connections hold their *User and read its Rules once per
// command, so a change applies from the next command of every connection
// authenticated as that user, without locks on the command path.
//
// Commands are allowed by an ordered list of command rules over a base
// (+@all or -@all): a command is allowed if the last rule that covers it
// allows it, or, when none does, if the base does. A rule covers a
// command by name (+config covers config and every config|sub), by full
// subcommand name (+config|get), by category (+@read covers the commands
// whose Redis 7.0 categories include read), or by first argument
// (+select|0, Redis's deprecated first-arg form, for a command without
// subcommands). This is what Redis's per-command bitmap computes; the
// rules are kept instead of the bitmap so the check needs no command ids;
// Apply tabulates each catalog command's permission once, so the check
// is a map lookup (a rule scan only for a first-argument rule). Apply
// then drops the rules that change no permission (overridden by later
// ones, or allowing what is already allowed), so ACL LIST stays short;
// the rendering may differ from Redis's (which re-derives a description
// from its bitmap, choosing categories by its own order) while meaning
// the same permissions (TestSimplifyKeepsPermissions). Commands that
// Redis flags no_auth (AUTH, HELLO…) are allowed whatever the rules, as
// in Redis.
//
// Key patterns carry read and write permissions (~p is both, %R~p read,
// %W~p write). A command's keys need the access its Redis 7.0 key
// specifications declare (Command.Access: read for "access", write for
// "insert", "update" or "delete"; the union over its key specifications,
// applied to every key): each key must match a pattern granting all of
// it. Channels (&p) are matched as globs against PUBLISH's and
// SUBSCRIBE's channels, and literally against PSUBSCRIBE's patterns, as
// Redis does. Patterns are matched with Redis's stringmatchlen
// semantics (pubsub.Match).
//
// Selectors (Redis 7.0's "(...)" rules) are not supported: they are a
// syntax error.
//
// # Concurrency
//
// Table and Log are safe for concurrent use. Rules values are immutable
// once installed; User.Rules is an atomic load.
package acl
