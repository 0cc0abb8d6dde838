package resp

import (
	"errors"
	"strings"
	"time"
)

// Repairer is a Cluster that runs anti-entropy on demand (CLUSTER REPAIR).
type Repairer interface {
	// Repair queues exchanges of partition (every partition this node
	// replicates if partition is negative) with each of its other live
	// replicas, ahead of the schedule, and returns how many it queued. It
	// returns an error wrapping ErrNoRepair if anti-entropy is off, and
	// one wrapping ErrBadPartition for a partition out of range.
	Repair(partition int) (int, error)
}

// RepairWaiter is a Repairer that can tell how many queued exchanges have
// not ended (CLUSTER REPAIR WAIT).
type RepairWaiter interface {
	Repairer
	// RepairPending returns the exchanges queued by Repair that have not
	// ended, the one running included.
	RepairPending() int
}

var (
	// ErrNoRepair reports CLUSTER REPAIR on a node without anti-entropy.
	ErrNoRepair = errors.New("anti-entropy is off on this node")
	// ErrBadPartition reports a partition number out of range.
	ErrBadPartition = errors.New("invalid partition")
)

// cmdClusterRepair is CLUSTER REPAIR [partition]: queue anti-entropy
// exchanges now and reply how many were queued (they run in the
// background; INFO antientropy's repair_pending counts them down and
// repair_drained_s_ago says when the queue last drained); and CLUSTER
// REPAIR WAIT [timeout-ms]: block until the queue drained or timeout ms
// passed (0 or none: no limit) and reply how many queued exchanges are
// still pending (0: all ended).
func cmdClusterRepair(c *Conn, args [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	if len(args) >= 3 && strings.EqualFold(string(args[2]), "wait") {
		clusterRepairWait(c, cl, args[3:])
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

// clusterRepairWait is CLUSTER REPAIR WAIT [timeout-ms], polling as WAIT
// does (waitPoll doubling up to waitPollMax).
func clusterRepairWait(c *Conn, cl Cluster, args [][]byte) {
	if len(args) > 1 {
		c.WriteError(msgSyntax)
		return
	}
	var ms int64
	if len(args) == 1 {
		var ok bool
		if ms, ok = c.timeoutMs(args[0]); !ok {
			return
		}
	}
	r, ok := cl.(RepairWaiter)
	if !ok {
		c.WriteError("ERR " + ErrNoRepair.Error())
		return
	}
	deadline := time.Now().Add(time.Duration(ms) * time.Millisecond)
	pause := waitPoll
	for {
		n := r.RepairPending()
		left := time.Until(deadline)
		if n == 0 || ms > 0 && left <= 0 {
			c.WriteInt(int64(n))
			return
		}
		if ms > 0 {
			pause = min(pause, left)
		}
		t := time.NewTimer(pause)
		select {
		case <-c.srv.ctx.Done():
			t.Stop()
			c.WriteInt(int64(n))
			return
		case <-c.adm.killed.done():
			t.Stop()
			c.WriteInt(int64(n))
			return
		case <-t.C:
		}
		pause = min(2*pause, waitPollMax)
	}
}
