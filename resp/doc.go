// Package resp is dynakv's client-facing server: the Redis protocol (RESP2
// and RESP3) on tidwall/redcon, in front of a Backend (the coordinator).
// It owns the framing guard and its limits, the command table, the
// handlers of the connection and server commands, of the data commands by
// Redis command group (cmd_string.go, cmd_hash.go, cmd_set.go,
// cmd_zset.go and cmd_zset_ops.go, cmd_list.go, cmd_keyspace.go; their table in
// commands_data.go), of the blocking commands (blocking.go), of the Dynamo
// extensions (VGET, VSET, VDEL) and of the CLUSTER commands, the
// node-to-node commands (DKV.*), the forwarding of writes to a node that
// may coordinate them, and the mapping of errors to RESP replies. A Redis
// client must not notice it is not talking to Redis 7: reply shapes and
// error texts are Redis's.
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
// Big commands, those with an argument of at least 1 MiB (bigArgLen),
// bypass redcon's reader, which would hold such a command two to four
// times over (a buffer grown by doubling, then a copy of the command).
// The framer builds their arguments itself, each in a buffer sized once
// from its announced length (as Redis does for big arguments), queues
// them and lets through in their place a placeholder command whose name
// is random per process (bigMarker); the handler swaps the queued
// arguments back in (bigCommand) before anything else sees the command.
// Replies of 1 MiB or more are written straight to the socket after what
// redcon buffered, not copied into redcon's writer; after a command or
// reply of 32 MiB or more the freed memory is returned to the operating
// system at once and again 10 s later (debug.FreeOSMemory; see
// bigmem.go).
//
// On a violation the commands before it are still executed and answered
// in order, then the client gets Redis's error reply ("-ERR Protocol error:
// invalid bulk length", …) and the connection is closed. MaxClients and
// IdleTimeout are enforced at accept and read time.
//
// # TLS
//
// ServeTLS and ServeClusterClientsTLS serve a listener over TLS (Redis's
// tls-port): each accepted connection is wrapped in a crypto/tls server
// before the guard, so the guard and redcon see plaintext. The handshake
// runs on the connection's own goroutine at its first read, within 10 s
// (handshakeTimeout), never on the accept loop; a plaintext client or a
// refused certificate fails it and the connection is closed and
// released like any other. A connection knows whether it is TLS (the
// CLUSTER commands show TLS clients the TLS ports, ClusterNode.TLSPort),
// and Config.PeerTLS makes DKV.AUTH demand a TLS connection with an
// accepted client certificate. CONFIG GET port and tls-port name the
// first plaintext and TLS listener that is not a cluster-client one (0:
// none).
//
// # Commands
//
// The command table maps case-insensitive names to a Command: arity,
// flags, key positions (for COMMAND INFO and COMMAND GETKEYS) and handler;
// container commands (CLIENT, COMMAND) hold subcommands. Register extends
// it before Serve. The dispatcher checks, in Redis's order, that the
// command exists, its arity, authentication (NOAUTH), for an
// internal command (FlagPeer) that the connection is a peer one, and the
// ACL permissions of the connection's user (see ACL users); it
// counts the command, then runs it, or routes it if it is a write in a
// cluster (see Cluster). A panic in a handler is recovered: the client gets "-ERR internal
// error" in place of the command's partial reply, the panic is logged with
// its stack, and the server goes on.
//
// # Data semantics
//
// A key's value is a crdt.Object of any type. Reads load it (Backend.Get)
// and render it through crdt's views at Backend.NowMs: crdt.Get (a plain
// read: the latest live sibling, or a counter's sum), HGetAll, Members,
// TypeOf, Expiry…; a key of another type answers "-WRONGTYPE …" where
// Redis does (MGET answers null). Every write is a crdt mutator run by
// Backend.Update with a fresh dot: SET and DEL supersede everything of
// every type they observed (so siblings collapse), INCR and HINCRBY add
// counter entries that sum across replicas, HSET and SADD give fields and
// members new dots (an add wins over a concurrent removal), EXPIRE and
// PERSIST write the key's expiry register (HEXPIRE and HPERSIST a
// field's); a zero delta writes nothing (NX not met, DEL of an absent
// key). The reply a mutator computes (INCR's value, HSETNX's flag) is the
// coordinator's view, serialized while one node coordinates the key.
// Writes whose outcome or reply depends on the current state set
// WriteOptions.ReadFirst; blind ones (SET, MSET, SETEX, the STORE forms'
// destination) do not. The crdt sentinels map to Redis's error texts
// (crdtReply). Multi-key commands run one backend call per key (MSET
// may stop half way on an error); MSETNX (check every key, then set each
// with NX) and SMOVE (remove, then add) run as one unit (see
// Transactions), so no write coordinated by the same node falls between
// their steps; in a cluster the set
// operations, their STORE forms, SMOVE, MSETNX and LCS need their keys in
// one slot ("-CROSSSLOT" otherwise, as Redis Cluster). Random picks
// (SPOP, SRANDMEMBER, HRANDFIELD) use math/rand/v2. DBSIZE, KEYS, SCAN,
// RANDOMKEY and INFO keyspace scan the whole backend, or on a
// cluster-aware connection (ServeClusterClients' listener, or one that
// asked CLUSTER NODES) only the slots this node is master of, so
// cluster clients' sums over the masters count each key once. SCAN's
// cursor is a 32-bit bucket (slot and 18 bits of key hash, scan.go): a
// page ends at a bucket boundary, so resuming neither skips nor repeats a
// key, and clients that keep it as a double keep it exactly. RENAME,
// RENAMENX and COPY (cmd_rename.go) copy the value and expiry as a new
// write of the destination, under runUnit; DUMP and RESTORE speak Redis
// 7.0's payloads (RDB version 10, CRC-64; internal/rdb) for strings,
// hashes, sets, sorted sets and lists (quicklist 2 of listpack nodes).
// HSCAN, SSCAN and ZSCAN return a
// collection of up to 128 elements whole (cursor 0), larger ones COUNT at
// a time by index into the sorted elements. HyperLogLogs (cmd_hll.go)
// are Redis's own HLL strings in crdt's HLL store (TYPE string, OBJECT
// ENCODING raw): GET and DUMP give Redis's bytes, PFCOUNT of one key
// caches as Redis does. Bitmaps and bitfields (cmd_bits.go) rewrite the
// string register like SETRANGE. SORT and SORT_RO (cmd_sort.go) take
// sets, and lists and sorted sets through one sortSources entry each; in
// a cluster their BY/GET patterns must imply the key's slot. Every
// stream command answers "-ERR streams are not supported by dynakv
// (XADD)" (cmd_streams.go). OBJECT ENCODING names what
// Redis 7.0 would use for the value (int, embstr, raw, listpack,
// hashtable, intset, skiplist, quicklist); dynakv stores every type one way. Scores
// reply as Redis 7.0's "%.17g" (inf, -inf), a RESP3 double in RESP3, and
// in ZSCAN as its listpack text (integral values within ±2⁶² as
// integers). INCRBYFLOAT and HINCRBYFLOAT compute in float64 (Redis: long
// double) and reply Redis's result rounded to float64 (see package crdt),
// so only results that need more digits than a float64 has, and values
// beyond its range, differ from Redis's.
//
// Lists (cmd_list.go) are crdt's sequence CRDT: concurrent pushes are
// all kept; an element popped concurrently through two coordinators
// (under a partition) is returned to both, at-least-once, as Redis
// Active-Active documents. LMOVE, RPOPLPUSH and LMPOP run as one unit on
// their slot's coordinator. The blocking commands (BLPOP, BRPOP, BLMOVE,
// BRPOPLPUSH, BLMPOP) block on their keys' coordinator: block
// (blocking.go) registers a waiter per stored key, which every write that
// coordinator applies (mutate) signals, and runs the command's
// non-blocking attempt again under the keys' unit lock; a blocked
// forward waits as long as the command (longForward), CLIENT UNBLOCK
// cancels it. Inside MULTI or a script the non-blocking form runs at
// once. Not done: a blocking command inside a MULTI block over several
// slots in a cluster (which runs command by command, forwarded) blocks
// on its coordinator instead of replying at once; waiters are woken all
// together, not in Redis's FIFO order.
//
// VGET key [R n] [LOCAL] replies [token, [values…]]: the opaque context
// token (dvv.EncodeToken of the object's context; empty for a key never
// written) and the live siblings' values in dot order (a counter is one
// value); for a hash, set, sorted-set or list key, one rendered value:
// the fields and values flattened, the members, members and scores, or
// the elements in order. VSET key token value [EX s|PX ms] [W
// n] and VDEL key token [W n] supersede exactly what the token covers (an
// empty token is a blind write) and reply the new token; EX/PX set the
// key's expiry register; on a key of another type they answer WRONGTYPE.
//
// # Transactions
//
// MULTI, EXEC, DISCARD, WATCH and UNWATCH (cmd_tx.go) follow Redis 7:
// after MULTI every command but EXEC, DISCARD, MULTI, WATCH, QUIT and
// RESET is queued (+QUEUED) and nothing runs before EXEC; a command
// refused while queuing (unknown, wrong arity, NOAUTH…) makes EXEC reply
// "-EXECABORT Transaction discarded because of previous errors."; an EXEC
// that is itself refused replies "-EXECABORT Transaction discarded
// because of: <cause>"; nested MULTI, WATCH inside MULTI, and EXEC or
// DISCARD without MULTI are errors that leave the transaction as it was.
// EXEC replies the array of the commands' replies, a command's error as
// its element. The dispatcher's hook is one call (queueTx) after resolve.
//
// WATCH reads each key at quorum merged with this node's replica
// (loadFresh) and remembers the state and its causal history
// (crdt.History: every write adds an event to it); later reads of a
// watched key on the connection merge that state in, so they never go
// back before it. As in Redis, a key is watched in the database selected
// at WATCH: EXEC reads it there (and a block's unit locks it there)
// whatever the connection selected since, so a write of the same name in
// another database does not abort EXEC. EXEC replies a null array (RESP3 null) exactly when a
// watched key's history differs from the one remembered, or the key held
// a value then and has expired since (Redis 7's rule); EXEC, DISCARD and
// RESET forget the watches.
//
// Units: runUnit(keys, fn) runs fn under the keys' write locks when the
// Backend is a Uniter (the coordinator's Unit; resptest's fake is not,
// and runs units without locks). Inside, Context is the unit's context,
// which load, mutate and every backend call use, so the unit's own writes
// do not wait for its locks, and writes are not routed again. EXEC runs a
// block as a unit when its keys and watched keys share one slot (on a
// lone node: always): the watches are checked under the locks, then the
// commands run, so no other write coordinated by that node interleaves.
// In a cluster such a block runs where its slot is coordinated: here if
// Route says so, else it is forwarded whole as DKV.EXEC (peer.CmdExec:
// the block's keys first, for routing, then the watched keys' histories,
// then the commands), routed, retried and relayed as a forwarded write,
// in the client's protocol (DKV.FWD3). A block over several slots runs
// here command by command, each routed as if sent alone, in order,
// without isolation between them (its watches are checked first, also
// without isolation); so does a block to forward that holds a command
// acting on the connection itself (keyless and not read-only: SELECT,
// CLIENT, HELLO, AUTH…), which must run on the client's own connection.
// Under a partition two nodes may each coordinate a slot; units isolate
// only what one coordinator runs (see package coordinator).
//
// # ACL users
//
// acl.go wires package acl in (its package documentation has the model):
// a Server holds an acl.Table, whose default user is "on nopass ~* &*
// +@all", or has RequirePass's SHA-256 as its password, and which
// Config.ACLFile fills at the first Serve (ACL LOAD and ACL SAVE read
// and write it). A connection holds the *acl.User it is logged in as
// (Conn.user: default at connect and RESET, AUTH or HELLO AUTH change
// it); it is logged in without AUTH while default is on and nopass.
// exec checks each resolved command against the user's current rules
// (aclCheck), before MULTI's queue, maxmemory and routing, with the keys
// the command table locates (keyPositions: every key of MSET, DEL, SORT …
// STORE, EVAL's declared keys) and, for PUBLISH, SPUBLISH, SUBSCRIBE,
// SSUBSCRIBE and PSUBSCRIBE, the channels. So a refused command is
// refused when queued (EXEC then aborts) and again inside EXEC's block
// (Redis's "ACLs rules changed…" text), and scriptCaller checks
// redis.call and redis.pcall likewise. Categories are Redis 7.0's
// (aclcategories.go, taken from redis-server's COMMAND; COMMAND INFO
// shows them), or derived from flags and group for dynakv's own
// commands. Commands flagged no_auth (AUTH, HELLO, RESET…) pass any
// command rules, as in Redis. Denials go to ACL LOG (context toplevel,
// multi or lua). A command is checked on the node its client is
// connected to, against that node's users, before it is forwarded; a
// peer connection has no user of its own, so it runs what it is sent
// unchecked, except that a command forwarded for a user with
// restrictions comes wrapped in DKV.ACL with the user's name and rules
// (forwardArgs), under which the receiving node checks what the command
// runs there: a script's redis.call, an EXEC block's commands at EXEC
// (their denials go to that node's ACL LOG). Users are per
// node, as in Redis Cluster: nothing propagates ACL SETUSER. ACL DELUSER
// and ACL LOAD close the connections of the users they remove (every
// user but default for ACL LOAD, as Redis), and ACL SETUSER (ACL LOAD
// for default) those subscribed to a channel the user's new rules no
// longer allow (dropSubscribers, as Redis 7.0); a user turned off keeps
// its open connections. Not done: selectors, and Redis's own rendering
// of command rules in ACL LIST (see package acl).
//
// # Node-to-node commands
//
// With Config.ClusterSecret set, DKV.AUTH secret makes the connection a
// peer connection (authenticated, even with RequirePass) or, with a wrong
// secret, replies "-WRONGPASS invalid cluster secret" and closes it. Peer
// connections carry the node-to-node protocol: the internal commands of
// the replica operations (DKV.GET, DKV.MERGE, DKV.MERGEMANY, DKV.HINT,
// DKV.SCAN, DKV.RANGE, DKV.TREE; package peer names them, peerserver
// serves them and the node registers them with Register, peerclient calls
// them), forwarded client commands and forwarded EXEC blocks (DKV.EXEC). Commands flagged FlagPeer reply
// "-NOPERM this command is reserved for cluster peers" on any other
// connection and do nothing; COMMAND does not list them; without a secret
// DKV.AUTH does not exist, so no connection can call them.
//
// A peer connection is not a client (Server.markPeer): CLIENT LIST and
// CLIENT KILL do not see it (CLIENT KILL ID of a peer replies 0, the old
// form "-ERR No such client", as for an unknown connection),
// connected_clients, maxclients, total_connections_received,
// total_commands_processed, instantaneous_*, total_net_*_bytes (after
// its DKV.AUTH), commandstats and the slow log do not count it. INFO shows its traffic apart: dynakv_peer_connections
// (clients section), dynakv_peer_commands_processed and
// dynakv_peer_net_{input,output}_bytes (stats section).
//
// # Cluster
//
// Config.Cluster (nil for a lone node) is the node's view of the ring.
// The CLUSTER commands publish it in Redis 7's formats, so cluster-aware
// clients (go-redis ClusterClient, redis-cli -c and --cluster check)
// route each key to one of its replicas: CLUSTER SLOTS and SHARDS show
// each slot range's first healthy replica as its master and the others as
// replicas; CLUSTER NODES shows every node that is first in some range as
// a master and any other as a slave of the master of the first range it
// replicates, and CLUSTER REPLICAS id lists the nodes NODES shows as
// slaves of id; INFO, MYID, FORGET, HELP and KEYSLOT; LEAVE
// (if the Cluster is a Leaver) replies +OK once this node has started to
// hand its partitions off and leave the ring; READONLY
// and READWRITE reply +OK. Node IDs are the ring's IDs as they are ("n1"):
// ring IDs hold no space or control character, and neither go-redis nor
// redis-cli needs Redis's 40 hex digits. Without a Cluster the CLUSTER
// commands, READONLY and READWRITE reply Redis's "-ERR This instance has
// cluster support disabled", except CLUSTER KEYSLOT, which always works
// (the slot is ring.Slot, Redis Cluster's own function). INFO has Redis's
// cluster section (cluster_enabled:0 or 1) unless Config.InfoSections
// brings its own.
//
// A write (FlagWrite) for a key this node may not coordinate
// (Cluster.Route) is forwarded to the node Route names, on a peer
// connection (Cluster.Forward), and its raw RESP2 reply relayed byte for
// byte (a null as RESP3's null to a RESP3 client); reads are never forwarded (the coordinator reads from any
// node). A multi-key write made only of key groups (DEL, UNLINK, MSET)
// whose keys go different ways is split into one command per key group
// (DEL k, MSET k v), run here or forwarded in order, stopping at the first
// error; the reply is that error, or the sum of the integer replies, or
// +OK. Any other multi-key write whose keys go different ways (MSETNX and
// the set STORE forms too, which must run whole) gets "-CROSSSLOT". A node that cannot be reached yields "-NOQUORUM cannot
// reach replica <id> of key: <error>" (the write may have landed). A
// write arriving on a peer connection is never forwarded again, and is
// routed without its token's via node: it runs here if Route says so,
// else gets "-TRYAGAIN forwarding loop: …" (code TRYAGAIN); the client's
// node then routes it again, up to five times over about a second (two
// rings disagree only while a change spreads), before relaying the error.
//
// # Scripts
//
// EVAL, EVALSHA, EVAL_RO and EVALSHA_RO run Lua on package script's
// engine (cmd_script.go); the server has one engine, its cache and its
// time limit (CONFIG lua-time-limit, alias busy-reply-threshold). In a
// cluster of several nodes a script's KEYS must share a slot (CROSSSLOT
// otherwise); EVAL and EVALSHA are writes, so routeWrite runs them on
// that slot's coordinator, and a script without keys runs where it was
// sent. A lone node (no Cluster, or a cluster of one) takes keys of any
// slots, as Redis without cluster mode. The whole script runs inside
// runUnit(KEYS). redis.call runs a command through the command table on
// the script's own connection (its reply captured, in the protocol of
// redis.setresp), never routed again: it refuses unknown and "noscript"
// commands, writes from the _RO forms, keys of another slot than the
// script's, and, for a script without keys, writes this node does not
// coordinate ("Script attempted to access a non local key in a cluster
// node script"). While a script has run past the time limit every other
// command but the allow-busy ones (AUTH, HELLO, MULTI, DISCARD, WATCH,
// UNWATCH, RESET, QUIT, SCRIPT KILL, SHUTDOWN) gets BUSY; node-to-node
// operations (FlagPeer) never do. A forwarded EVALSHA goes as EVAL with
// its body when this node has it, a forwarded EVAL's body is cached here
// too, and SCRIPT LOAD copies the body to every other live node (best
// effort), so a script loaded through one node runs through any node;
// SCRIPT FLUSH is copied the same way (best effort, waiting for the
// other nodes' replies), and SCRIPT KILL asks every live node (OK if any
// killed a script, else UNKILLABLE if any runs only busy scripts that
// wrote, else NOTBUSY); a peer connection's SCRIPT command is never sent
// on. EVAL, EVALSHA and a forwarded EXEC block (Command.longForward) are
// forwarded with a deadline years away (forwardContext), which replaces
// Cluster.Forward's request timeout: the client waits for the script's
// own reply however long it runs on the coordinator, until the server
// closes, the client closes its connection (seen at once by
// awaitClientGone, or by clientGone every clientCheckEvery when the client
// pipelined more commands) or the peer connection breaks; ordinary forwards keep
// the request timeout. redis.error_reply gives its message a code as Redis
// 7.0 does ("-CODE msg" keeps CODE, a message without a space gets ERR),
// and EVALSHA looks its script up before it parses numkeys (NOSCRIPT
// first, as Redis 7.0).
// Each write a script makes is coordinated and replicated as it is made
// (Redis 7's effects replication): a script is isolated from the other
// writes its coordinator runs, but not atomic under failure (writes made
// before its node died stay), and under a partition two coordinators of
// one key may each run a script on it, as for any conditional write.
//
// # Pub/Sub, keyspace notifications, MONITOR
//
// SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, their UNSUBSCRIBEs, PUBLISH,
// SPUBLISH and PUBSUB reply as Redis 7.0 (cmd_pubsub.go); the node's
// subscriptions live in a pubsub.Registry. A message published on any
// node goes to this node's subscribers and, in a cluster (with a
// ClusterSecret), once to every other member Cluster.Nodes reports alive,
// as DKV.PUBLISH C|S channel message (FlagPeer), which publishes only to
// the receiving node's subscribers; PUBLISH waits for those nodes (at most
// two seconds) and replies the receivers counted by every node that
// answered. So each subscriber of each node gets each message once while
// the nodes agree on who is alive; a node that is unreachable, or seen
// dead, misses it. Shard channels are a namespace of their own and fan
// out the same way (a client may SSUBSCRIBE on any node); SSUBSCRIBE's
// channels must share a slot (CROSSSLOT). In RESP2 a connection with any
// subscription may run only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING (which
// replies ["pong", arg]), QUIT and RESET, with Redis's error otherwise; in
// RESP3 any command runs, and confirmations and messages are push frames.
// Patterns match with Redis's own glob (pubsub.Match). Each subscriber's
// pending output is bounded by client-output-buffer-limit's pubsub class
// (CONFIG GET/SET; Redis's default "32mb 8mb 60"): past the hard limit, or
// over the soft one for longer than its seconds, the connection is
// closed. The normal and replica classes are shown as Redis's defaults
// and not enforced (WriteTimeout bounds normal clients). As in Redis,
// IdleTimeout spares subscribed and MONITOR connections.
//
// Keyspace notifications: notify-keyspace-events (CONFIG GET/SET, every
// Redis flag, Redis's validation and canonical rendering) selects the
// classes. A client's CONFIG SET of it is also sent to every other live
// node (DKV.NOTIFYCFG, best effort), so one CONFIG SET configures the
// cluster as it would a single Redis; a node that was down or restarts
// has its own value (none after a restart) until the next one. Handlers call c.notify after a successful write with Redis's
// event names, and since writes run on the key's coordinator, each event
// is emitted by one node: published there at once, and sent to the other
// nodes through one ordered background queue (DKV.PUBLISH batches; a
// write never waits for it; beyond 65,536 queued events they are
// dropped). "expired" comes from the store's sweeper on every replica,
// and only the key's coordinator (Cluster.Route local) emits it
// (Server.Notify, wired by package node). Events name the database the
// client SELECTed (the swept key's own for "expired"). "new" ('n') is emitted by
// mutate when a write creates the key; key-miss ('m') events are not
// emitted.
//
// MONITOR: every command this node runs (after the dispatcher's checks,
// before it runs; forwarded writes on the node that runs them, from the
// forwarding peer's address), in Redis's format "+<unix>.<micro> [<db>
// <addr>] "arg" …", except administrative (FlagAdmin) and internal
// commands, AUTH and HELLO.
//
// # Databases
//
// SELECT 0..15 (CONFIG GET databases: 16) sets the connection's
// database. The database and its flush epoch are part of the stored key
// (ring.StoredKey), never of its slot: handlers name user keys, and
// cmd_db.go translates them in one place (storedKey for load, mutate,
// VGET/VSET and routing; userKeyIn for DBSIZE, KEYS, SCAN and INFO
// keyspace, which show only the connection's database at its current
// epoch). A forwarded write of a connection in database n travels as
// DKV.DB n <command…>. MOVE runs as one unit (runUnit) on the key's
// coordinator, which coordinates both databases' copies (same slot).
// SWAPDB is refused: no replica can swap two databases atomically
// cluster-wide. FLUSHDB and FLUSHALL [ASYNC|SYNC] move the database(s)
// to the next flush epoch through Config.Databases (in a node the ring,
// cluster.Cluster.Flush): a cluster-wide causal cut, whose guarantees and
// window are stated in package cluster.
//
// # Errors
//
// Only this package turns errors into RESP: crdt's sentinels → Redis's
// texts (crdt.ErrWrongType → "-WRONGTYPE Operation against a key holding
// the wrong kind of value", ErrNotInteger, ErrOverflow → "-ERR increment
// or decrement would overflow", ErrHashNotFloat → "-ERR hash value is not
// a float", …); coordinator.ErrNoQuorum →
// "-NOQUORUM <text>"; coordinator.ErrQuorumRange → "-ERR R and W must be
// between 1 and N"; dvv.ErrBadToken and replica.ErrBadContext → "-ERR
// invalid context token"; coordinator.ErrNotReplica (the ring changed
// between routing a write here and running it; nothing was written) →
// "-TRYAGAIN <text>", which routeWrite retries like a forwarding loop;
// anything else → "-ERR <text>". An error reply of a forwarded command is relayed as it
// is. Newlines in error texts become spaces.
//
// # Server and admin commands
//
// CONFIG GET/SET (several pairs at once, all or nothing: a refused value
// puts back those already set)/RESETSTAT/REWRITE (refused: no config
// file)/HELP over a table of Params (cmd_config.go; this package's own:
// maxclients, timeout, maxmemory, maxmemory-policy, slowlog-*,
// latency-monitor-threshold, latency-tracking*, in cmd_admin.go).
// maxmemory bounds the Go heap, not the data set (which lives in pebble
// on disk): a command flagged denyoom whose arguments, with the copies the
// write makes on its way to the store, would push the heap beyond it gets
// Redis's "-OOM command not allowed when used memory > 'maxmemory'." (in
// MULTI it is refused when queued and EXEC aborts, as in Redis). dynakv
// evicts nothing (only maxmemory-policy noeviction is accepted). Read-only: hz (10, Redis's
// default: dynakv has no server cron), port and bind (the first
// listener's address, "*" for a wildcard), databases, appendonly (no:
// CONFIG SET appendonly is refused), proto-max-bulk-len. save is
// accepted (checked as Redis checks it: "" or pairs of integers) and
// reported by CONFIG GET, and does nothing: every write is in pebble's
// WAL, fsynced, before it is acknowledged, so snapshots have no meaning
// (test setups send CONFIG SET save ""). CONFIG SET checks every name
// for unknown and duplicate parameters before any read-only one, so
// CONFIG SET hz 10 hz 20 gets Redis's "duplicate parameter".
//
// cmd_compat.go answers what tools and client libraries probe: ROLE is
// ["master", 0, []] in RESP2 and RESP3 (a node's replicas are Dynamo
// peers, not Redis replicas with an offset); LASTSAVE is the node's
// start, as INFO's rdb_last_save_time (nothing is ever snapshotted);
// FUNCTION, FCALL, FCALL_RO and DEBUG are refused with
// "-ERR <NAME> is not supported by dynakv: <why>". MEMORY DOCTOR's text
// ends with a newline, as Redis's.
//
// Every command a client connection runs passes through Conn.observe,
// which exec defers (callstats.go): INFO commandstats (calls, usec,
// rejected_calls for the dispatcher's refusals, failed_calls for error
// replies), errorstats (by error code, 128 codes at most, as Redis),
// latencystats (a lock-free log-linear histogram per command, 1/16 of a
// power of two wide), the slow log, the latency monitor, OBJECT
// IDLETIME's access log (the latest 10,000 keys) and CLIENT REPLY
// OFF|SKIP, which drops the reply after the fact. Peer connections are
// not observed. The commands a script runs (redis.call, redis.pcall) count
// in commandstats and latencystats on the node running the script
// (observeScriptCall), refusals as rejected_calls, as in Redis 7.0; they
// are not in errorstats, the slow log or total_commands_processed. CLIENT PAUSE holds a command in exec, after its checks
// (CLIENT UNPAUSE and peer connections are never held). WAIT counts the
// replicas (besides one, Redis's master) whose copy of each key of the
// connection's last write descends the causal context that write left
// (Conn.mutate records it), read with the backend's ReadAll; a write
// forwarded to another node is compared with the merge of the replicas'
// contexts. Its arguments, errors and edge cases are Redis 7.0's: a
// numreplicas of at most the count replies at once, a timeout too long
// for a deadline waits without limit, and inside MULTI it replies the
// count at once. COMMAND DOCS fills in what the table leaves out (arguments,
// complexity, history) from Redis 7.0's own docs, commanddocs.json.
//
// # Concurrency
//
// A Server is safe for concurrent use. Each connection is served by one
// goroutine (redcon's), which runs its commands in order and owns its
// Conn, except that a run of pipelined plain single-key data commands
// (pipeline.go) runs concurrently, one pooled goroutine per key on a
// worker Conn carrying the session, each key's commands in order and the
// replies written in order; anything with connection state is a barrier.
// Command handlers of different connections run concurrently, so the Backend (and Config.Cluster, and registered handlers) must
// be safe for concurrent use. A forwarded command holds its connection's
// goroutine until the other node answers, as a backend call does. The
// command table is fixed once Serve is called. Close cancels the context
// passed to backend calls, closes listeners and connections, and waits for
// every connection's goroutine to finish. Counters for INFO are atomics.
//
// A connection that subscribes or runs MONITOR enters push mode for the
// rest of its life (Conn.enterPush): the replies redcon still buffers are
// flushed at once, on the connection's goroutine, and from then on every
// byte the client is sent goes through the connection's pubsub.Outbox, in
// order, and one writer goroutine per such connection takes what is
// queued and writes it to the guarded socket. Publishers on any goroutine
// append messages (and MONITOR lines) to the outbox; the connection's
// goroutine holds it while it runs a command and releases it with the
// command's reply (handle), so what was published meanwhile follows the
// reply. (Un)subscription confirmations are written into the reply itself
// (the Registry pushes them on the connection's goroutine, from the
// handler), so no message on a channel precedes its confirmation, and a
// capturing caller (EXEC, a split write) captures them like any reply. Publishers never block on
// a subscriber: an append past the limits closes the socket, redcon's read
// then fails and the connection ends (closedConn drops its subscriptions
// and stops its writer). QUIT waits, at most a second, for the outbox to
// drain before closing. Connections that never subscribe keep redcon's
// path untouched.
//
// Command arguments are slices of a buffer redcon allocates per command and
// never reuses, so a Backend may keep the key and value slices it is given.
package resp
