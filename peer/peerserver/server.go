package peerserver

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// Error replies of the internal commands (besides those of resp).
const (
	msgCorruptObject = "ERR corrupt object"
	msgNotInt        = "ERR value is not an integer or out of range"
	msgSyntax        = "ERR syntax error"
)

// Register adds the internal commands serving localReplica (Commands) to
// srv; it must be called before srv serves. srv needs a ClusterSecret for
// any connection to reach them.
func Register(srv *resp.Server, localReplica peer.Replica) error {
	for _, cmd := range Commands(localReplica) {
		if err := srv.Register(cmd, false); err != nil {
			return fmt.Errorf("peerserver: %w", err)
		}
	}
	return nil
}

// Commands returns the internal commands of every replica operation, each
// served by localReplica: this node's store and trees (peer.Local).
func Commands(localReplica peer.Replica) []resp.Command {
	h := handlers{r: localReplica}
	name := strings.ToLower
	return []resp.Command{
		{Name: name(peer.CmdGet), Arity: 2, Flags: resp.FlagPeer | resp.FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: h.get},
		{Name: name(peer.CmdMerge), Arity: 3, Flags: resp.FlagPeer | resp.FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: h.merge},
		{Name: name(peer.CmdMergeMany), Arity: -3, Flags: resp.FlagPeer | resp.FlagDenyOOM, Handler: h.mergeMany},
		{Name: name(peer.CmdHint), Arity: 4, Flags: resp.FlagPeer | resp.FlagDenyOOM, FirstKey: 2, LastKey: 2, KeyStep: 1, Handler: h.hint},
		{Name: name(peer.CmdHintGet), Arity: 2, Flags: resp.FlagPeer | resp.FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: h.hintGet},
		{Name: name(peer.CmdHintHorizon), Arity: 1, Flags: resp.FlagPeer | resp.FlagFast, Handler: h.hintHorizon},
		{Name: name(peer.CmdScan), Arity: 5, Flags: resp.FlagPeer, Handler: h.scan},
		{Name: name(peer.CmdRange), Arity: -4, Flags: resp.FlagPeer, Handler: h.ranges},
		{Name: name(peer.CmdTree), Arity: 6, Flags: resp.FlagPeer, Handler: h.tree},
	}
}

type handlers struct{ r peer.Replica }

// get is DKV.GET key: the local replica's stored object of key, encoded
// (crdt.Object.Encode; the zero object when there is none).
func (h handlers) get(c *resp.Conn, args [][]byte) {
	obj, err := h.r.Get(c.Context(), args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulk(obj.Encode())
}

// merge is DKV.MERGE key object: merges the encoded object into the local
// replica's copy of key. Bytes that do not decode get "-ERR corrupt
// object" and change nothing.
func (h handlers) merge(c *resp.Conn, args [][]byte) {
	obj, err := crdt.Decode(args[2])
	if err != nil {
		c.WriteError(msgCorruptObject)
		return
	}
	if err := h.r.Merge(c.Context(), args[1], obj); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// mergeMany is DKV.MERGEMANY key object [key object …]: DKV.MERGE for many
// keys, acknowledged once all are durable. If any object does not decode,
// nothing is merged and the reply is "-ERR corrupt object".
func (h handlers) mergeMany(c *resp.Conn, args [][]byte) {
	if len(args)%2 != 1 {
		c.WriteError("ERR wrong number of arguments for 'dkv.mergemany' command")
		return
	}
	entries := make([]peer.Entry, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		obj, err := crdt.Decode(args[i+1])
		if err != nil {
			c.WriteError(msgCorruptObject)
			return
		}
		entries = append(entries, peer.Entry{Key: args[i], Object: obj})
	}
	if err := h.r.MergeMany(c.Context(), entries); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// hint is DKV.HINT target key object: keep the encoded object as a hint
// for node target, to hand it off when target is back (Dynamo §4.6).
// Bytes that do not decode get "-ERR corrupt object".
func (h handlers) hint(c *resp.Conn, args [][]byte) {
	obj, err := crdt.Decode(args[3])
	if err != nil {
		c.WriteError(msgCorruptObject)
		return
	}
	if err := h.r.PutHint(c.Context(), string(args[1]), args[2], obj); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// hintGet is DKV.HINTGET key: the merge of the hints this node holds for
// key, for any target, encoded (the zero object when there is none).
// Degraded reads ask it of a key's fallbacks (Dynamo §4.6).
func (h handlers) hintGet(c *resp.Conn, args [][]byte) {
	obj, err := h.r.HintsFor(c.Context(), args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulk(obj.Encode())
}

// hintHorizon is DKV.HINTHORIZON: the creation time (Unix ms) of this
// node's oldest pending hint that holds a value, or its current time when
// it holds none.
func (h handlers) hintHorizon(c *resp.Conn, _ [][]byte) {
	v, err := h.r.HintHorizon(c.Context())
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(v)
}

// scan is DKV.SCAN from to cursor count: a page of the local replica's
// keys of slots [from, to) from cursor (peer.Cursor), as [next-cursor,
// key, object, key, object, …] with the objects encoded; next-cursor is 0
// at the end of the range.
func (h handlers) scan(c *resp.Conn, args [][]byte) {
	from, ok1 := parseInt(args[1])
	to, ok2 := parseInt(args[2])
	cur, err := strconv.ParseUint(string(args[3]), 10, 64)
	count, ok3 := parseInt(args[4])
	switch {
	case !ok1 || !ok2 || !ok3 || err != nil:
		c.WriteError(msgNotInt)
		return
	case from < 0 || to < from || to > ring.Slots:
		c.WriteError("ERR invalid slot range")
		return
	case count < 1:
		c.WriteError(msgSyntax)
		return
	}
	next, entries, err := h.r.ScanRange(c.Context(), int(from), int(to), peer.Cursor(cur), int(min(count, peer.MaxScanCount)))
	if err != nil {
		c.WriteErr(err)
		return
	}
	writeEntries(c, next, entries)
}

// ranges is DKV.RANGE count from to [from to …]: a page of the local
// replica's keys at the cursor positions of the ranges (sorted, disjoint;
// to 0: to the end; at most peer.MaxRanges), as [next-cursor, key, object,
// …]; next-cursor is 0 when every range is exhausted. Anti-entropy reads
// runs of differing Merkle leaves with it.
func (h handlers) ranges(c *resp.Conn, args [][]byte) {
	count, ok := parseInt(args[1])
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case count < 1 || len(args)%2 != 0 || (len(args)-2)/2 > peer.MaxRanges:
		c.WriteError(msgSyntax)
		return
	}
	ranges := make([]peer.Range, 0, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		from, err1 := strconv.ParseUint(string(args[i]), 10, 64)
		to, err2 := strconv.ParseUint(string(args[i+1]), 10, 64)
		if err1 != nil || err2 != nil {
			c.WriteError(msgNotInt)
			return
		}
		r := peer.Range{From: peer.Cursor(from), To: peer.Cursor(to)}
		if (r.To != 0 && r.To <= r.From) || (len(ranges) > 0 && (ranges[len(ranges)-1].To == 0 || r.From < ranges[len(ranges)-1].To)) {
			c.WriteError("ERR ranges must be non-empty, sorted and disjoint")
			return
		}
		ranges = append(ranges, r)
	}
	next, entries, err := h.r.ScanRanges(c.Context(), ranges, int(min(count, peer.MaxScanCount)))
	if err != nil {
		c.WriteErr(err)
		return
	}
	writeEntries(c, next, entries)
}

// writeEntries writes a page of entries as DKV.SCAN and DKV.RANGE reply:
// [next-cursor, key, object, key, object, …], objects encoded.
func writeEntries(c *resp.Conn, next peer.Cursor, entries []peer.Entry) {
	c.WriteArray(1 + 2*len(entries))
	c.WriteBulkString(strconv.FormatUint(uint64(next), 10))
	for _, e := range entries {
		c.WriteBulk(e.Key)
		c.WriteBulk(e.Object.Encode())
	}
}

// tree is DKV.TREE partition leaves depth from to: the hashes of nodes
// [from, to) at depth of the local tree of partition, concatenated 16
// bytes each (peer.Hash.AppendBinary). A peer whose trees have another
// shape gets "-ERR tree shape mismatch: …" naming both shapes; a node
// without trees "-ERR anti-entropy is off on this node".
func (h handlers) tree(c *resp.Conn, args [][]byte) {
	var n [5]int64
	for i := range n {
		v, ok := parseInt(args[1+i])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		n[i] = v
	}
	if n[3] < 0 || n[4] < n[3] || n[4]-n[3] > peer.MaxScanCount {
		c.WriteError("ERR invalid tree node range")
		return
	}
	hs, err := h.r.TreeLevel(c.Context(), int(n[0]), int(n[1]), int(n[2]), int(n[3]), int(n[4]))
	switch {
	case errors.Is(err, peer.ErrNoTrees):
		c.WriteError("ERR anti-entropy is off on this node")
		return
	case errors.Is(err, peer.ErrShape):
		c.WriteError("ERR tree shape mismatch: " + strings.TrimPrefix(err.Error(), peer.ErrShape.Error()+": "))
		return
	case err != nil:
		c.WriteError("ERR " + err.Error())
		return
	}
	b := make([]byte, 0, 16*len(hs))
	for _, h := range hs {
		b = h.AppendBinary(b)
	}
	c.WriteBulk(b)
}

// parseInt parses a decimal int64 as Redis does: no sign but '-', no
// leading zeros, no spaces.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 || len(b) > 20 || (len(b) > 1 && b[0] == '0') || (len(b) > 1 && b[0] == '-' && b[1] == '0') || b[0] == '+' {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b), 10, 64)
	return v, err == nil
}
