package resp

import "context"

// Leaver is a Cluster that can hand this node's partitions off and leave
// the ring (CLUSTER LEAVE).
type Leaver interface {
	// Leave starts the leave and returns once it is under way (persisted);
	// the handoff and the removal from the ring continue in the
	// background.
	Leave(ctx context.Context) error
}

// cmdClusterLeave is CLUSTER LEAVE: +OK once this node has started to
// hand its partitions off; it then removes itself from the ring (INFO
// handoff's leave_status says "left") and the process can be stopped.
func cmdClusterLeave(c *Conn, _ [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	lv, ok := cl.(Leaver)
	if !ok {
		c.WriteError("ERR CLUSTER LEAVE is not supported by this node")
		return
	}
	if err := lv.Leave(c.srv.ctx); err != nil {
		c.WriteErr(err)
		return
	}
	c.WriteOK()
}
