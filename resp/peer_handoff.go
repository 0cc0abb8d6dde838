package resp

import (
	"strings"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// handoffPeerCommands are the internal commands of ownership handoff,
// registered with peerCommands.
func handoffPeerCommands() []Command {
	return []Command{
		{Name: strings.ToLower(replica.CmdMergeBatch), Arity: -3, Flags: FlagPeer | FlagDenyOOM, Handler: cmdPeerMergeBatch},
	}
}

// cmdPeerMergeBatch is DKV.MERGEN key object [key object …]: merges every
// encoded object into the local replica's copy of its key, replying +OK
// once all are durable. An odd argument count is a syntax error and bytes
// that do not decode get "-ERR corrupt object"; either way nothing is
// merged.
func cmdPeerMergeBatch(c *Conn, args [][]byte) {
	if len(args)%2 != 1 {
		c.WriteError(msgSyntax)
		return
	}
	bm, ok := c.srv.cfg.Peer.(replica.BatchMerger)
	if !ok {
		c.WriteError("ERR this replica cannot merge batches")
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
	if err := bm.MergeBatch(c.srv.ctx, entries); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}
