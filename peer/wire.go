package peer

// Internal commands: node-to-node calls travel over the RESP port as these
// commands, refused (-NOPERM) unless the connection first presented the
// cluster secret with CmdAuth. Replies are RESP2; objects travel as
// crdt.Object.Encode bytes and cursors as decimal unsigned integers.
const (
	// CmdAuth turns a connection into a peer connection:
	// DKV.AUTH secret → +OK (anything else: -WRONGPASS and the connection
	// closes).
	CmdAuth = "DKV.AUTH"
	// CmdForward3 runs a forwarded client command as if sent on a RESP3
	// connection, so a RESP3 client gets its reply's RESP3 types (sets,
	// maps, doubles) from the node that coordinates it: DKV.FWD3 command
	// [arg ...] → the command's reply in RESP3. A command forwarded for a
	// RESP2 client is sent as it is.
	CmdForward3 = "DKV.FWD3"
	// CmdExec runs a client's MULTI/EXEC block whose keys share a slot as
	// one unit on the node that coordinates the slot, checking the
	// WATCHed keys' histories there under the keys' locks: DKV.EXEC nkeys
	// key… nwatch [key db history live]… [argc arg…]… → EXEC's reply (an
	// array of the commands' replies, or a null array when a watched key
	// changed). Sent wrapped in CmdForward3 for a RESP3 client.
	CmdExec = "DKV.EXEC"
	// CmdPublish is a Pub/Sub fan-out: DKV.PUBLISH C|S channel message
	// [channel message …] publishes each message to the receiving node's
	// own subscribers only (shard channels with S) → integer: the
	// receivers there.
	CmdPublish = "DKV.PUBLISH"
	// CmdNotifyConfig spreads CONFIG SET notify-keyspace-events: DKV.NOTIFYCFG
	// flags sets the receiving node's classes (already validated) → +OK.
	CmdNotifyConfig = "DKV.NOTIFYCFG"
	// CmdDB runs a forwarded client command in the database its client
	// had selected: DKV.DB db command [arg ...] (database 0 is sent
	// bare).
	CmdDB = "DKV.DB"
	// CmdNoBlock runs a forwarded client command from an EXEC block with
	// blocking off: DKV.NOBLOCK command [arg ...] (BLPOP and the like try
	// once and reply their null, as inside MULTI).
	CmdNoBlock = "DKV.NOBLOCK"
	// CmdACL runs a forwarded client command as its client's ACL user:
	// DKV.ACL username rules command [arg ...], rules being the user's
	// ACL LIST line after "user <name> " (sent only for a user with
	// restrictions), so what a script or an EXEC block runs on the
	// receiving node is checked as on the client's node.
	CmdACL = "DKV.ACL"
	// CmdGet reads the local replica: DKV.GET key → bulk: the encoded
	// crdt.Object (empty for an absent key).
	CmdGet = "DKV.GET"
	// CmdMerge merges an object: DKV.MERGE key object → +OK.
	CmdMerge = "DKV.MERGE"
	// CmdMergeMany merges several objects, sharing fsyncs:
	// DKV.MERGEMANY key object [key object …] → +OK.
	CmdMergeMany = "DKV.MERGEMANY"
	// CmdHint stores a hint for another node (Dynamo §4.6):
	// DKV.HINT target key object → +OK.
	CmdHint = "DKV.HINT"
	// CmdHintGet reads the hints a node holds for a key, for every target:
	// DKV.HINTGET key → bulk: the encoded merge of them (the zero object
	// when there is none).
	CmdHintGet = "DKV.HINTGET"
	// CmdHintHorizon asks a node for its hint horizon:
	// DKV.HINTHORIZON → integer, Unix ms (replica.Store.HintHorizon).
	CmdHintHorizon = "DKV.HINTHORIZON"
	// CmdScan pages through a slot range:
	// DKV.SCAN from to cursor count → [next-cursor, key, object, …].
	CmdScan = "DKV.SCAN"
	// CmdRange pages through cursor ranges:
	// DKV.RANGE count from to [from to …] → [next-cursor, key, object, …].
	CmdRange = "DKV.RANGE"
	// CmdTree serves Merkle tree levels (Dynamo §4.7):
	// DKV.TREE partition leaves depth from to → one bulk string of the
	// nodes' hashes, 16 bytes each (Hash.AppendBinary).
	CmdTree = "DKV.TREE"
)

// Forwarding has no command of its own: a node forwards a client command
// (SET, VSET, …) to the node that should coordinate it verbatim, on an
// authenticated peer connection (peerclient.Client.Forward), and relays the
// reply's raw bytes. The receiving server knows the command came from a
// peer and does not forward it again.

const (
	// MaxRanges bounds the ranges of one DKV.RANGE call.
	MaxRanges = 4096
	// MaxScanCount bounds the entries of one DKV.SCAN or DKV.RANGE page and
	// the nodes of one DKV.TREE reply, whatever the count asked.
	MaxScanCount = 100000
	// MaxBulkLen is the largest value the protocol carries by default, in
	// bytes: Redis's proto-max-bulk-len (512 MiB), so any value a client
	// may write can reach every replica.
	MaxBulkLen = 512 << 20
)
