// Package resp is dynakv's client-facing server: the Redis protocol (RESP2
// and RESP3) on tidwall/redcon, in front of a Backend (the coordinator).
// It owns the framing guard and its limits, the command table, the
// handlers of the connection, server and string commands and of the
// Dynamo extensions (VGET, VSET, VDEL), and the mapping of errors to RESP
// replies. A Redis client must not notice it is not talking to Redis 7:
// reply shapes and error texts are Redis's.
//
// # Framing guard
//
// redcon's reader trusts its input (a 24-byte request makes it panic, and
// lengths are allocated as announced), so redcon never reads a socket
// directly. Every accepted connection is wrapped in a guard whose Read runs
// a streaming state machine (framer) over the client's bytes and lets
// through only complete commands within the Config limits (MaxBulkLen,
// MaxArgs, MaxInlineLen, MaxQueryBuffer), in canonical form: multibulk
// commands verbatim, inline commands rewritten as multibulk, empty
// commands ("*0", "*-1", blank lines) dropped. Hence redcon only ever
// parses well-formed, complete multibulk commands, once each.
//
// On a violation the commands before it are still executed and answered
// in order, then the client gets Redis's error reply ("-ERR Protocol error:
// invalid bulk length", …) and the connection is closed. MaxClients and
// IdleTimeout are enforced at accept and read time.
//
// # Commands
//
// The command table maps case-insensitive names to a Command: arity,
// flags, key positions (for COMMAND INFO and COMMAND GETKEYS) and handler;
// container commands (CLIENT, COMMAND) hold subcommands. Register extends
// it before Serve. The dispatcher checks, in Redis's order, that the
// command exists, its arity, and authentication (RequirePass), and counts
// it. A panic in a handler is recovered: the client gets "-ERR internal
// error" in place of the command's partial reply, the panic is logged with
// its stack, and the server goes on.
//
// # Data semantics
//
// Plain reads return dvv.Winner, the deterministic pick among live
// siblings; a key without a live sibling is absent. Plain writes (SET,
// DEL, EXPIRE, …) are overwrites: their UpdateFunc supersedes the key's
// whole local context (cur.Join()), so siblings collapse. Writes whose
// outcome depends on the current value (NX, XX, GET, KEEPTTL, DEL's count,
// the EXPIRE family, PERSIST, GETEX) set WriteOptions.ReadFirst. DEL writes
// a tombstone, and nothing if the key is absent. Expiry is absolute Unix
// ms in Sibling.Expiry, computed from Backend.NowMs; EXPIRE, PERSIST and
// KEEPTTL rewrite the winner's value as a new version; an expiry already
// past writes a tombstone. Multi-key commands (DEL, EXISTS, MGET, MSET)
// run one backend call per key and are not atomic: MSET may stop half
// way on an error. DBSIZE, KEYS and INFO keyspace scan the whole backend.
//
// VGET key [R n] [LOCAL] replies [token, [values…]]: the opaque context
// token (dvv.EncodeToken of the object's context; empty for a key never
// written) and the live siblings' values in dot order. VSET key token value
// [EX s|PX ms] [W n] and VDEL key token [W n] supersede exactly what the
// token covers (an empty token is a blind write) and reply the new token.
//
// # Errors
//
// Only this package turns errors into RESP: coordinator.ErrNoQuorum →
// "-NOQUORUM <text>"; coordinator.ErrQuorumRange → "-ERR R and W must be
// between 1 and N"; dvv.ErrBadToken and replica.ErrBadContext → "-ERR
// invalid context token"; coordinator.ErrNotReplica and anything else →
// "-ERR <text>". Newlines in error texts become spaces.
//
// # Concurrency
//
// A Server is safe for concurrent use. Each connection is served by one
// goroutine (redcon's), which runs its commands one at a time, in order,
// and owns its Conn; command handlers of different connections run
// concurrently, so the Backend must be safe for concurrent use. The
// command table is fixed once Serve is called. Close cancels the context
// passed to backend calls, closes listeners and connections, and waits for
// every connection's goroutine to finish. Counters for INFO are atomics.
//
// Command arguments are slices of a buffer redcon allocates per command and
// never reuses, so a Backend may keep the key and value slices it is given.
package resp
