// Package resp is dynakv's client-facing server: the Redis protocol (RESP2
// and RESP3) on tidwall/redcon, in front of a Backend (the coordinator).
// It owns the framing guard and its limits, the command table, the
// handlers of the connection and server commands, of the data commands by
// Redis command group (cmd_string.go, cmd_hash.go, cmd_set.go,
// cmd_keyspace.go; their table in commands_data.go), of the Dynamo
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
// command exists, its arity, authentication (RequirePass) and, for an
// internal command (FlagPeer), that the connection is a peer one; it
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
// (crdtReply). Multi-key commands run one backend call per key and are
// not atomic (MSET may stop half way on an error; MSETNX checks every key,
// then sets each with NX; SMOVE removes, then adds); in a cluster the set
// operations, their STORE forms, SMOVE, MSETNX and LCS need their keys in
// one slot ("-CROSSSLOT" otherwise, as Redis Cluster). Random picks
// (SPOP, SRANDMEMBER, HRANDFIELD) use math/rand/v2. DBSIZE, KEYS, SCAN
// and INFO keyspace scan the whole backend; HSCAN and SSCAN return a
// collection of up to 128 elements whole (cursor 0), larger ones COUNT at
// a time by index into the sorted elements. OBJECT ENCODING names what
// Redis 7.0 would use for the value (int, embstr, raw, listpack,
// hashtable, intset); dynakv stores every type one way. INCRBYFLOAT and
// HINCRBYFLOAT compute in float64 (Redis: long double), so long fractions
// and values beyond float64's range differ from Redis's.
//
// VGET key [R n] [LOCAL] replies [token, [values…]]: the opaque context
// token (dvv.EncodeToken of the object's context; empty for a key never
// written) and the live siblings' values in dot order (a counter is one
// value); for a hash or set key, one rendered value: the fields and
// values flattened, or the members. VSET key token value [EX s|PX ms] [W
// n] and VDEL key token [W n] supersede exactly what the token covers (an
// empty token is a blind write) and reply the new token; EX/PX set the
// key's expiry register; on a hash or set key they answer WRONGTYPE.
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
// them) and forwarded client commands. Commands flagged FlagPeer reply
// "-NOPERM this command is reserved for cluster peers" on any other
// connection and do nothing; COMMAND does not list them; without a secret
// DKV.AUTH does not exist, so no connection can call them.
//
// # Cluster
//
// Config.Cluster (nil for a lone node) is the node's view of the ring.
// The CLUSTER commands publish it in Redis 7's formats, so cluster-aware
// clients (go-redis ClusterClient, redis-cli -c and --cluster check)
// route each key to one of its replicas: CLUSTER SLOTS, SHARDS, NODES and
// REPLICAS show each slot range's first healthy replica as its master and
// the others as replicas; INFO, MYID, FORGET, HELP and KEYSLOT; LEAVE
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
// invalid context token"; coordinator.ErrNotReplica and anything else →
// "-ERR <text>". An error reply of a forwarded command is relayed as it
// is. Newlines in error texts become spaces.
//
// # Concurrency
//
// A Server is safe for concurrent use. Each connection is served by one
// goroutine (redcon's), which runs its commands one at a time, in order,
// and owns its Conn; command handlers of different connections run
// concurrently, so the Backend (and Config.Cluster, and registered handlers) must
// be safe for concurrent use. A forwarded command holds its connection's
// goroutine until the other node answers, as a backend call does. The
// command table is fixed once Serve is called. Close cancels the context
// passed to backend calls, closes listeners and connections, and waits for
// every connection's goroutine to finish. Counters for INFO are atomics.
//
// Command arguments are slices of a buffer redcon allocates per command and
// never reuses, so a Backend may keep the key and value slices it is given.
package resp
