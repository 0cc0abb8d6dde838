package resp

import "errors"

// Repairer is a Cluster that runs anti-entropy on demand (CLUSTER REPAIR).
type Repairer interface {
	// Repair queues exchanges of partition (every partition this node
	// replicates if partition is negative) with each of its other live
	// replicas, ahead of the schedule, and returns how many it queued. It
	// returns an error wrapping ErrNoRepair if anti-entropy is off, and
	// one wrapping ErrBadPartition for a partition out of range.
	Repair(partition int) (int, error)
}

var (
	// ErrNoRepair reports CLUSTER REPAIR on a node without anti-entropy.
	ErrNoRepair = errors.New("anti-entropy is off on this node")
	// ErrBadPartition reports a partition number out of range.
	ErrBadPartition = errors.New("invalid partition")
)

// cmdClusterRepair is CLUSTER REPAIR [partition]: queue anti-entropy
// exchanges now and reply how many were queued; their progress and
// results are in INFO antientropy.
func cmdClusterRepair(c *Conn, args [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	if len(args) > 3 {
		c.WriteError(msgSyntax)
		return
	}
	p := int64(-1)
	if len(args) == 3 {
		v, ok := parseStrictInt(args[2])
		if !ok || v < 0 {
			c.WriteError("ERR invalid partition")
			return
		}
		p = v
	}
	r, ok := cl.(Repairer)
	if !ok {
		c.WriteError("ERR " + ErrNoRepair.Error())
		return
	}
	n, err := r.Repair(int(min(p, 1<<30)))
	switch {
	case errors.Is(err, ErrBadPartition):
		c.WriteError("ERR invalid partition")
	case errors.Is(err, ErrNoRepair):
		c.WriteError("ERR " + ErrNoRepair.Error())
	case err != nil:
		c.WriteErr(err)
	default:
		c.WriteInt(int64(n))
	}
}
