package resp

import (
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/internal/hll"
)

// HyperLogLog commands (Redis 7.0's hyperloglog.c semantics; the store and
// its convergence rule are crdt's, hll.go there): the values are Redis's
// own HLL strings, so GET, DUMP and SET of an HLL key carry the bytes
// redis-server would hold after the same commands.

// cmdPFAdd is PFADD key [element …]: 1 if the key was created or a
// register rose, else 0 (and nothing written).
func cmdPFAdd(c *Conn, args [][]byte) {
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, bool, error) {
		return crdt.PFAdd(cur, st, args[2:])
	}, func(changed bool) {
		if changed {
			c.WriteInt(1)
			c.notify('$', "pfadd", args[1])
			return
		}
		c.WriteInt(0)
	})
}

// cmdPFCount is PFCOUNT key [key …]. One key: its cached cardinality, or
// the estimate, which is then cached in the value as Redis does: a write
// of the key, which in a cluster runs where the key's writes are
// coordinated (the command is forwarded there, as writes are). Several
// keys (one slot): the estimate of their union, nothing written.
func cmdPFCount(c *Conn, args [][]byte) {
	if !c.sameSlot(args[1:]) {
		c.WriteError(msgCrossSlot)
		return
	}
	if len(args) > 2 {
		var regs hll.Regs
		for _, k := range args[1:] {
			if err := c.hllRegs(k, &regs, nil); err != nil {
				c.WriteErr(err)
				return
			}
		}
		c.WriteInt(int64(hll.CountRegs(&regs)))
		return
	}
	o, err := c.load(args[1])
	if err != nil {
		c.WriteErr(err)
		return
	}
	n, stale, err := crdt.HLLCount(o, c.now())
	if err != nil {
		c.WriteErr(err)
		return
	}
	switch {
	case !stale:
		c.WriteInt(int64(n))
		return
	case c.unitCtx == nil && !c.mayCoordinate(args[1]):
		// The cache is written where the key's writes are coordinated:
		// forward the command there, as a write (a peer connection does
		// not forward again: it replies the estimate, the cache stale).
		if cmd := lookup(c.srv.cmds, args[0]); cmd != nil && !c.peer {
			c.routeWrite(cmd, args)
			return
		}
		c.WriteInt(int64(n))
		return
	}
	mutateReply(c, args[1], func(cur crdt.Object, st crdt.Stamp) (crdt.Object, uint64, error) {
		return crdt.PFCount(cur, st)
	}, func(n uint64) { c.WriteInt(int64(n)) })
}

// hllRegs raises regs to the HLL at key (a missing key is an empty HLL);
// dense, if not nil, is set when that HLL is dense.
func (c *Conn) hllRegs(key []byte, regs *hll.Regs, dense *bool) error {
	o, err := c.load(key)
	if err != nil {
		return err
	}
	return hllInto(o, c.now(), regs, dense)
}

func hllInto(o crdt.Object, now int64, regs *hll.Regs, dense *bool) error {
	b, ok, err := crdt.HLLValue(o, now)
	if err != nil || !ok {
		return err
	}
	if dense != nil && hll.IsDense(b) {
		*dense = true
	}
	if hll.MaxInto(regs, b) != nil {
		return crdt.ErrHLLCorrupt
	}
	return nil
}

// mayCoordinate reports whether this node may run key's write itself:
// always on a lone node, in a cluster when Route (RoutePeer on a peer
// connection, which a forwarded command arrives on) says so.
func (c *Conn) mayCoordinate(key []byte) bool {
	cl := c.srv.cfg.Cluster
	if cl == nil {
		return true
	}
	route := cl.Route
	if c.peer {
		route = cl.RoutePeer
	}
	_, local := route(c.storedKey(key))
	return local
}

// cmdPFMerge is PFMERGE destkey [sourcekey …] (one slot): the destination
// gets the register-wise max of itself and the sources, dense if any of
// them is, as Redis's pfmergeCommand; run as a unit so that no write
// coordinated here falls between the reads and the write.
func cmdPFMerge(c *Conn, args [][]byte) {
	if !c.sameSlot(args[1:]) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.runUnit(args[1:], func() {
		var regs hll.Regs
		dense := false
		// Redis checks every key, the destination first, before writing.
		for _, k := range args[1:] {
			o, err := c.loadFresh(k)
			if err == nil {
				err = hllInto(o, c.now(), &regs, &dense)
			}
			if err != nil {
				c.WriteErr(err)
				return
			}
		}
		_, err := c.mutate(args[1], true, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			r := regs
			d := dense
			if err := hllInto(cur, st.Now, &r, &d); err != nil {
				return crdt.Object{}, err
			}
			return crdt.PFMerge(cur, st, &r, d)
		})
		if err != nil {
			c.WriteErr(err)
			return
		}
		c.WriteOK()
		c.notify('$', "pfadd", args[1])
	})
}
