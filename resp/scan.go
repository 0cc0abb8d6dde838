package resp

import (
	"math/rand/v2"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/ring"
)

// SCAN's cursors, and the key ranges a connection sees.
//
// The stores visit keys in peer.Cursor order: a key's 64-bit position is
// its slot in the top 14 bits, then the top 50 bits of its xxhash64.
// SCAN's client cursor is that position's top 32 bits (the slot and 18
// bits of hash): a bucket. Clients that keep the cursor as a double or an
// int64 keep it exactly, unlike a 64-bit position. A page visits whole
// buckets: past COUNT it goes on until the next key falls in a new
// bucket, and replies that bucket, so resuming from it neither skips nor
// repeats a key (every key of a bucket shares its first position's top
// bits). Cursor 0 is the start, and a reply of 0 the end; a cursor at or
// above 2³² (none this server returns) ends the scan at once.
//
// A connection that arrived on the cluster-client listener (Server.
// ServeClusterClients) sees only the slots this node is master of, as
// CLUSTER SLOTS shows them, in DBSIZE, KEYS, SCAN, RANDOMKEY and INFO
// keyspace, so cluster-aware clients that sum those answers over the
// masters count each key once; any other connection sees every key. A
// connection that asked CLUSTER NODES becomes cluster-aware too: that is
// how redis-cli --cluster reads the topology from its seed node before
// it sums DBSIZE over the masters, the seed's on the same connection.

// bucketShift is the distance between a key's 64-bit position and its
// 32-bit SCAN bucket.
const bucketShift = 32

// slotShift places a slot in the top 14 bits of a 64-bit position.
const slotShift = 64 - 14

// slotRange is an inclusive range of slots.
type slotRange struct{ from, to int }

// allSlots is every slot: what a plain connection sees.
var allSlots = []slotRange{{0, ring.Slots - 1}}

// bucketOf returns key's SCAN bucket (the top 32 bits of its position).
func bucketOf(key []byte) uint64 { return uint64(peer.CursorOf(key)) >> bucketShift }

// keyRanges returns the slot ranges the connection's keyspace commands
// cover: every slot, or for a cluster-aware connection (one that arrived
// on the cluster-client listener) the ranges this node is master of, in
// slot order (none if it is master of none).
func (c *Conn) keyRanges() []slotRange {
	cl := c.srv.cfg.Cluster
	if !c.clusterAware || cl == nil {
		return allSlots
	}
	me := cl.MyID()
	out := []slotRange{}
	for _, sh := range slotTable(cl.Shards()) {
		if sh.Replicas[0].ID != me {
			continue
		}
		if n := len(out); n > 0 && out[n-1].to+1 == sh.Start {
			out[n-1].to = sh.End
		} else {
			out = append(out, slotRange{sh.Start, sh.End})
		}
	}
	return out
}

// rangeFrom returns the first range of ranges that ends at or after slot,
// false if none does.
func rangeFrom(ranges []slotRange, slot int) (slotRange, bool) {
	for _, r := range ranges {
		if r.to >= slot {
			return r, true
		}
	}
	return slotRange{}, false
}

// scanBatch is how many objects scanRanges asks the backend for at a time.
const scanBatch = 1000

// scanRanges visits every stored object (tombstones and expired values
// included) whose key's slot is in ranges, in position order.
func (s *Server) scanRanges(ranges []slotRange, fn func(key []byte, o crdt.Object)) error {
	for _, r := range ranges {
		pos := uint64(r.from) << slotShift
		for {
			beyond := false
			next, err := s.b.Scan(s.ctx, pos, scanBatch, func(k []byte, o crdt.Object) bool {
				if int(peer.CursorOf(k)>>slotShift) > r.to {
					beyond = true
					return false
				}
				fn(k, o)
				return true
			})
			if err != nil {
				return err
			}
			if beyond || next == 0 || int(next>>slotShift) > r.to {
				break
			}
			if err := s.ctx.Err(); err != nil {
				return err
			}
			pos = next
		}
	}
	return nil
}

// scanPage is one SCAN page from client cursor cur over the slots of
// ranges: it visits at least count stored objects (fewer at the end),
// then finishes the bucket of the last one, calling visit with each, and
// returns the client cursor to resume from (0: done). Objects of every
// kind count, tombstones too, so a page's work is bounded.
func (s *Server) scanPage(ranges []slotRange, cur uint64, count int, visit func(key []byte, o crdt.Object)) (uint64, error) {
	if cur >= 1<<32 {
		return 0, nil
	}
	pos := cur << bucketShift
	n := 0
	last := ^uint64(0) // the bucket of the last object visited
	for {
		r, ok := rangeFrom(ranges, int(pos>>slotShift))
		if !ok {
			return 0, nil
		}
		if start := uint64(r.from) << slotShift; pos < start {
			pos = start
		}
		// NB: when fn returns false the backend has consumed that key (its
		// returned cursor is past it); the page's cursor is computed here,
		// from the first key not visited, never from the backend's.
		stopped, full := false, false
		var stopAt uint64
		next, err := s.b.Scan(s.ctx, pos, max(count-n, 0)+2, func(k []byte, o crdt.Object) bool {
			p := uint64(peer.CursorOf(k))
			b := p >> bucketShift
			switch {
			case int(p>>slotShift) > r.to: // past the range: a new bucket too
				stopped, stopAt = true, b
				return false
			case n >= count && b != last:
				stopped, full, stopAt = true, true, b
				return false
			}
			n++
			last = b
			visit(k, o)
			return true
		})
		switch {
		case err != nil:
			return 0, err
		case full:
			return stopAt, nil
		case stopped:
			pos = stopAt << bucketShift
		case next == 0:
			return 0, nil
		default:
			pos = next
		}
		if err := s.ctx.Err(); err != nil {
			return 0, err
		}
	}
}

// randomKey returns a live key of ranges chosen at random (nil if there
// is none): the first live key at or after a random position, wrapping
// around once. Keys are not equally likely: the chance of each is the
// gap before it in position order, as Redis's pick (a random bucket,
// then a random key of it) is not uniform either.
//
// keep maps a stored key to the user key it shows (false: not one of the
// connection's database; see userKeyIn).
func (s *Server) randomKey(ranges []slotRange, rnd func() uint64, keep func(sk []byte) ([]byte, bool)) ([]byte, error) {
	now := s.b.NowMs()
	var found []byte
	visit := func(sk []byte, o crdt.Object) {
		if found != nil || !crdt.Live(o, now) {
			return
		}
		if k, ok := keep(sk); ok {
			found = k
		}
	}
	start := rnd() >> bucketShift
	// From start to the end, then from the beginning up to start.
	for pass, cur := range []uint64{start, 0} {
		if pass == 1 && start == 0 {
			break
		}
		for found == nil {
			next, err := s.scanPage(ranges, cur, 16, visit)
			if err != nil {
				return nil, err
			}
			if next == 0 || pass == 1 && next > start {
				break
			}
			cur = next
		}
		if found != nil {
			break
		}
	}
	return found, nil
}

// cmdRandomKey is RANDOMKEY: a random live key of the connection's
// keyspace, or a null.
func cmdRandomKey(c *Conn, _ [][]byte) {
	k, err := c.srv.randomKey(c.keyRanges(), rand.Uint64, func(sk []byte) ([]byte, bool) { return c.srv.userKeyIn(c.db, sk) })
	switch {
	case err != nil:
		c.WriteErr(err)
	case k == nil:
		c.WriteNull()
	default:
		c.WriteBulk(k)
	}
}

// slotKeys returns the live keys of slot (up to limit; limit < 0: all) in
// the connection's keyspace: none on a cluster-aware connection when this
// node is not the slot's master.
func (c *Conn) slotKeys(slot int, limit int64) ([][]byte, error) {
	r, ok := rangeFrom(c.keyRanges(), slot)
	if !ok || r.from > slot {
		return nil, nil
	}
	now := c.now()
	var keys [][]byte
	err := c.srv.scanRanges([]slotRange{{slot, slot}}, func(sk []byte, o crdt.Object) {
		k, ok := c.srv.userKeyIn(c.db, sk)
		if ok && (limit < 0 || int64(len(keys)) < limit) && crdt.Live(o, now) {
			keys = append(keys, k)
		}
	})
	return keys, err
}

// cmdClusterCountKeysInSlot is CLUSTER COUNTKEYSINSLOT slot: the live keys
// of the slot, found by scanning it (see slotKeys).
func cmdClusterCountKeysInSlot(c *Conn, args [][]byte) {
	slot, ok := parseStrictInt(args[2])
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case slot < 0 || slot >= ring.Slots:
		c.WriteError("ERR Invalid slot")
		return
	}
	keys, err := c.slotKeys(int(slot), -1)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteInt(int64(len(keys)))
}

// cmdClusterGetKeysInSlot is CLUSTER GETKEYSINSLOT slot count: up to
// count live keys of the slot, in the stores' order.
func cmdClusterGetKeysInSlot(c *Conn, args [][]byte) {
	slot, ok1 := parseStrictInt(args[2])
	n, ok2 := parseStrictInt(args[3])
	switch {
	case !ok1 || !ok2:
		c.WriteError(msgNotInt)
		return
	case n < 0 || slot < 0 || slot >= ring.Slots:
		c.WriteError("ERR Invalid slot or number of keys")
		return
	}
	keys, err := c.slotKeys(int(slot), n)
	if err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteArray(len(keys))
	for _, k := range keys {
		c.WriteBulk(k)
	}
}
