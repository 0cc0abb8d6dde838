package resp

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// peerCommands are the internal node-to-node commands, registered when
// Config.ClusterSecret is set: the server side of replica.Remote. They
// carry no FlagWrite, so they are never routed or forwarded, and they are
// hidden from COMMAND.
func peerCommands() []Command {
	return []Command{
		// DKV.AUTH is the one internal command allowed on any connection
		// (even before AUTH): it turns the connection into a peer one.
		{Name: strings.ToLower(replica.CmdAuth), Arity: 2, Flags: FlagNoAuth | FlagFast | FlagLoading | FlagStale, Handler: cmdPeerAuth},
		{Name: strings.ToLower(replica.CmdGet), Arity: 2, Flags: FlagPeer | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: cmdPeerGet},
		{Name: strings.ToLower(replica.CmdMerge), Arity: 3, Flags: FlagPeer | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: cmdPeerMerge},
		{Name: strings.ToLower(replica.CmdScan), Arity: 5, Flags: FlagPeer, Handler: cmdPeerScan},
		{Name: strings.ToLower(replica.CmdHint), Arity: 4, Flags: FlagPeer | FlagDenyOOM, FirstKey: 2, LastKey: 2, KeyStep: 1, Handler: cmdPeerHint},
		{Name: strings.ToLower(replica.CmdHintHorizon), Arity: 1, Flags: FlagPeer | FlagFast, Handler: cmdPeerHintHorizon},
		{Name: strings.ToLower(replica.CmdRange), Arity: -4, Flags: FlagPeer, Handler: cmdPeerRange},
		{Name: strings.ToLower(replica.CmdMergeMany), Arity: -3, Flags: FlagPeer | FlagDenyOOM, Handler: cmdPeerMergeMany},
		{Name: strings.ToLower(antientropy.CmdTree), Arity: 6, Flags: FlagPeer, Handler: cmdPeerTree},
		{Name: strings.ToLower(replica.CmdHintGet), Arity: 2, Flags: FlagPeer | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Handler: cmdPeerHintGet},
	}
}

// HintStore is a replica that keeps hints for other nodes (replica.Store):
// DKV.HINT needs Config.Peer to be one.
type HintStore interface {
	PutHint(ctx context.Context, target string, key []byte, obj dvv.Object) error
}

// cmdPeerHint is DKV.HINT target key object: keep the encoded object as a
// hint for node target, to hand it off when target is back (sloppy
// quorum). Bytes that do not decode get "-ERR corrupt object".
func cmdPeerHint(c *Conn, args [][]byte) {
	obj, err := dvv.Decode(args[3])
	if err != nil {
		c.WriteError(msgCorruptObject)
		return
	}
	hs, ok := c.srv.cfg.Peer.(HintStore)
	if !ok {
		c.WriteError("ERR this node keeps no hints")
		return
	}
	if err := hs.PutHint(c.srv.ctx, string(args[1]), args[2], obj); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// HintHorizoner is a replica that reports its hint horizon
// (replica.Store.HintHorizon): DKV.HINTHORIZON needs Config.Peer to be one.
type HintHorizoner interface {
	HintHorizon(ctx context.Context) (int64, error)
}

// cmdPeerHintHorizon is DKV.HINTHORIZON: the creation time (Unix ms) of
// this node's oldest pending hint that holds a value, or its current time
// when it holds none (replica.Store.HintHorizon).
func cmdPeerHintHorizon(c *Conn, _ [][]byte) {
	hh, ok := c.srv.cfg.Peer.(HintHorizoner)
	if !ok {
		c.WriteError("ERR this node keeps no hints")
		return
	}
	h, err := hh.HintHorizon(c.srv.ctx)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(h)
}

// cmdPeerAuth is DKV.AUTH secret: with the cluster secret (compared in
// constant time) the connection becomes a peer connection, authenticated
// even when RequirePass is set; with anything else the client gets
// "-WRONGPASS invalid cluster secret" and the connection is closed, so a
// guesser gets one try per connection.
func cmdPeerAuth(c *Conn, args [][]byte) {
	// NB: comparing digests keeps the secret's length out of the timing.
	got, want := sha256.Sum256(args[1]), sha256.Sum256([]byte(c.srv.cfg.ClusterSecret))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		c.WriteError(msgBadSecret)
		c.quit = true
		return
	}
	c.peer, c.authed = true, true
	c.WriteOK()
}

// cmdPeerGet is DKV.GET key: the local replica's stored object of key,
// encoded (dvv.Object.Encode; the zero object when there is none).
func cmdPeerGet(c *Conn, args [][]byte) {
	obj, err := c.srv.cfg.Peer.Get(c.srv.ctx, args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulk(obj.Encode())
}

// cmdPeerMerge is DKV.MERGE key object: merges the encoded object into
// the local replica's copy of key. Bytes that do not decode get
// "-ERR corrupt object" and change nothing.
func cmdPeerMerge(c *Conn, args [][]byte) {
	obj, err := dvv.Decode(args[2])
	if err != nil {
		c.WriteError(msgCorruptObject)
		return
	}
	if err := c.srv.cfg.Peer.Merge(c.srv.ctx, args[1], obj); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// maxPeerScanCount bounds one DKV.SCAN page whatever its count says.
const maxPeerScanCount = 100000

// cmdPeerScan is DKV.SCAN from to cursor count: a page of the local
// replica's keys of slots [from, to) from cursor (replica.Cursor), as
// [next-cursor, key, object, key, object, …] with the objects encoded;
// next-cursor is 0 at the end of the range. It needs a Peer that serves
// range scans (coordinator.RangeScanner, as replica.Store does).
func cmdPeerScan(c *Conn, args [][]byte) {
	rs, ok := c.srv.cfg.Peer.(coordinator.RangeScanner)
	if !ok {
		c.WriteError("ERR this replica cannot scan slot ranges")
		return
	}
	from, ok1 := parseStrictInt(args[1])
	to, ok2 := parseStrictInt(args[2])
	cur, err := strconv.ParseUint(string(args[3]), 10, 64)
	count, ok3 := parseStrictInt(args[4])
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
	next, entries, err := rs.ScanRange(c.srv.ctx, int(from), int(to), replica.Cursor(cur), int(min(count, maxPeerScanCount)))
	if err != nil {
		c.WriteErr(err)
		return
	}
	writeEntries(c, next, entries)
}

// RangesScanner is a replica that pages through cursor ranges
// (replica.Store): DKV.RANGE needs Config.Peer to be one.
type RangesScanner interface {
	ScanRanges(ctx context.Context, ranges []replica.Range, count int) (replica.Cursor, []replica.Entry, error)
}

// cmdPeerRange is DKV.RANGE count from to [from to …]: a page of the local
// replica's keys at the cursor positions of the ranges (sorted, disjoint;
// to 0: to the end), as [next-cursor, key, object, key, object, …];
// next-cursor is 0 when every range is exhausted. Anti-entropy reads runs
// of differing Merkle leaves with it.
func cmdPeerRange(c *Conn, args [][]byte) {
	cs, ok := c.srv.cfg.Peer.(RangesScanner)
	if !ok {
		c.WriteError("ERR this replica cannot scan cursor ranges")
		return
	}
	count, ok := parseStrictInt(args[1])
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case count < 1 || len(args)%2 != 0 || (len(args)-2)/2 > replica.MaxRanges:
		c.WriteError(msgSyntax)
		return
	}
	ranges := make([]replica.Range, 0, (len(args)-2)/2)
	for i := 2; i < len(args); i += 2 {
		from, err1 := strconv.ParseUint(string(args[i]), 10, 64)
		to, err2 := strconv.ParseUint(string(args[i+1]), 10, 64)
		if err1 != nil || err2 != nil {
			c.WriteError(msgNotInt)
			return
		}
		r := replica.Range{From: replica.Cursor(from), To: replica.Cursor(to)}
		if (r.To != 0 && r.To <= r.From) || (len(ranges) > 0 && (ranges[len(ranges)-1].To == 0 || r.From < ranges[len(ranges)-1].To)) {
			c.WriteError("ERR ranges must be non-empty, sorted and disjoint")
			return
		}
		ranges = append(ranges, r)
	}
	next, entries, err := cs.ScanRanges(c.srv.ctx, ranges, int(min(count, maxPeerScanCount)))
	if err != nil {
		c.WriteErr(err)
		return
	}
	writeEntries(c, next, entries)
}

// writeEntries writes a page of entries as DKV.SCAN and DKV.RANGE reply:
// [next-cursor, key, object, key, object, …], objects encoded.
func writeEntries(c *Conn, next replica.Cursor, entries []replica.Entry) {
	c.WriteArray(1 + 2*len(entries))
	c.WriteBulkString(strconv.FormatUint(uint64(next), 10))
	for _, e := range entries {
		c.WriteBulk(e.Key)
		c.WriteBulk(e.Object.Encode())
	}
}

// BatchMerger is a replica that merges many objects sharing fsyncs
// (replica.Store): DKV.MERGEMANY needs Config.Peer to be one.
type BatchMerger interface {
	MergeMany(ctx context.Context, entries []replica.Entry) error
}

// cmdPeerMergeMany is DKV.MERGEMANY key object [key object …]: DKV.MERGE
// for many keys, acknowledged once all are durable. If any object does not
// decode, nothing is merged and the reply is "-ERR corrupt object".
func cmdPeerMergeMany(c *Conn, args [][]byte) {
	bm, ok := c.srv.cfg.Peer.(BatchMerger)
	if !ok {
		c.WriteError("ERR this replica cannot merge batches")
		return
	}
	if len(args)%2 != 1 {
		c.WriteError("ERR wrong number of arguments for 'dkv.mergemany' command")
		return
	}
	entries := make([]replica.Entry, 0, len(args)/2)
	for i := 1; i < len(args); i += 2 {
		obj, err := dvv.Decode(args[i+1])
		if err != nil {
			c.WriteError(msgCorruptObject)
			return
		}
		entries = append(entries, replica.Entry{Key: args[i], Object: obj})
	}
	if err := bm.MergeMany(c.srv.ctx, entries); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}

// TreeSource serves levels of the local Merkle trees
// (antientropy.Trees): DKV.TREE needs Config.Trees.
type TreeSource interface {
	Layout() antientropy.Layout
	Level(partition, depth, from, to int) ([]antientropy.Hash, error)
}

// cmdPeerTree is DKV.TREE partition leaves depth from to: the hashes of
// nodes [from, to) at depth of the local tree of partition, concatenated
// 16 bytes each (antientropy.Hash.AppendBinary). A peer whose trees have
// another number of leaves gets an error naming both shapes.
func cmdPeerTree(c *Conn, args [][]byte) {
	ts := c.srv.cfg.Trees
	if ts == nil {
		c.WriteError("ERR anti-entropy is off on this node")
		return
	}
	var n [5]int64
	for i := range n {
		v, ok := parseStrictInt(args[1+i])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		n[i] = v
	}
	l := ts.Layout()
	if n[0] < 0 || n[0] >= int64(l.Partitions()) || n[1] != int64(l.Leaves()) {
		c.WriteError(fmt.Sprintf("ERR tree shape mismatch: asked partition %d with %d leaves, this node has %d partitions of %d leaves",
			n[0], n[1], l.Partitions(), l.Leaves()))
		return
	}
	if n[3] < 0 || n[4] < n[3] || n[4]-n[3] > maxPeerScanCount {
		c.WriteError("ERR invalid tree node range")
		return
	}
	hs, err := ts.Level(int(n[0]), int(n[2]), int(n[3]), int(n[4]))
	if err != nil {
		c.WriteError("ERR " + err.Error())
		return
	}
	b := make([]byte, 0, 16*len(hs))
	for _, h := range hs {
		b = h.AppendBinary(b)
	}
	c.WriteBulk(b)
}

// HintReader is a replica that lists the hints it holds for a key
// (replica.Store): DKV.HINTGET needs Config.Peer to be one.
type HintReader interface {
	HintsFor(ctx context.Context, key []byte) (dvv.Object, error)
}

// cmdPeerHintGet is DKV.HINTGET key: the merge of the hints this node
// holds for key, for any target, encoded (the zero object when there is
// none). Degraded reads ask it of a key's fallbacks (Dynamo §4.6).
func cmdPeerHintGet(c *Conn, args [][]byte) {
	hr, ok := c.srv.cfg.Peer.(HintReader)
	if !ok {
		c.WriteError("ERR this node keeps no hints")
		return
	}
	obj, err := hr.HintsFor(c.srv.ctx, args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteBulk(obj.Encode())
}
