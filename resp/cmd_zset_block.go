package resp

import "github.com/dynakv/dynakv/crdt"

// The blocking sorted-set pops (Redis 7.0's BZPOPMIN, BZPOPMAX, BZMPOP):
// PopZ's non-blocking attempt run through block (blocking.go), so they
// wait on their keys' coordinator and are woken by any write it applies to
// one of the keys, exactly as BLPOP is. A timeout replies a null array;
// inside MULTI or a script the attempt runs once.

// bzpopCmd is BZPOPMIN and BZPOPMAX key… timeout: the reply is
// [key, member, score] from the first non-empty key.
func bzpopCmd(max bool) HandlerFunc {
	return func(c *Conn, args [][]byte) {
		keys, timeout, ok := keysThenTimeout(c, args)
		if !ok {
			return
		}
		c.block(keys, timeout, func() bool {
			for _, k := range keys {
				popped, err := c.PopZ(k, max, 1)
				if err != nil {
					c.WriteErr(err)
					return true
				}
				if len(popped) > 0 {
					c.WriteArray(3)
					c.WriteBulk(k)
					c.WriteBulk(popped[0].Member)
					c.WriteDouble(popped[0].Score)
					return true
				}
			}
			return false
		}, c.WriteNullArray)
	}
}

// cmdBZMPop is BZMPOP timeout numkeys key… MIN|MAX [COUNT count]: ZMPOP's
// reply from the first non-empty key.
func cmdBZMPop(c *Conn, args [][]byte) {
	timeout, ok := parseTimeout(c, args[1])
	if !ok {
		return
	}
	keys, max, count, msg := parseZMPop(args, 2)
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if !c.sameSlot(keys) {
		c.WriteError(msgCrossSlot)
		return
	}
	c.block(keys, timeout, func() bool {
		for _, k := range keys {
			var popped []crdt.ScoredMember
			popped, err := c.PopZ(k, max, count)
			if err != nil {
				c.WriteErr(err)
				return true
			}
			if len(popped) > 0 {
				c.writeZMPop(k, popped)
				return true
			}
		}
		return false
	}, c.WriteNullArray)
}
