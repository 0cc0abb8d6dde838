package transfer

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynakv/dynakv/ring"
)

// The planner: every decision of ownership transfer as a pure function of
// the ring state, this node's ID, the saved progress, liveness and the
// time. Nothing here does I/O, reads a clock or holds a lock.

// Task is one moving partition to stream to one incoming replica.
type Task struct {
	Partition int         // the moving partition
	To        ring.NodeID // the incoming replica that receives it
}

// String renders t as "partition>receiver" (INFO's transfer_active).
func (t Task) String() string { return strconv.Itoa(t.Partition) + ">" + string(t.To) }

// Progress is how far one Task went for one move of its partition.
type Progress struct {
	// Move identifies the move the progress belongs to (MoveKey): a
	// partition that moves again with another old set starts over.
	Move string
	// Cursor is the position to resume the scan from (replica.Cursor);
	// 0 with Done false means from the start.
	Cursor uint64
	// Done reports that every key of the partition was acknowledged by
	// the receiver; DoneAt is when (Unix ms).
	Done   bool
	DoneAt int64
	// Keys and Bytes count what was sent for this task (keys; bytes of
	// key plus encoded object).
	Keys, Bytes int64
}

// MoveKey identifies the move of partition p in st by its old set (the
// replicas that held p before the change, in order); "" if p is not
// moving.
func MoveKey(st *ring.State, p int) string {
	old, ok := st.Moving(p)
	if !ok {
		return ""
	}
	var b strings.Builder
	for _, id := range old {
		b.WriteString(string(id))
		b.WriteByte(' ')
	}
	return b.String()
}

// Sender returns the node that streams moving partition p: the first node
// of its old set that alive reports up; "" if p is not moving or none is.
func Sender(st *ring.State, p int, alive func(ring.NodeID) bool) ring.NodeID {
	old, _ := st.Moving(p)
	for _, id := range old {
		if alive(id) {
			return id
		}
	}
	return ""
}

// Tasks returns what self must stream in st: for each moving partition
// whose Sender is self, one Task per incoming replica, by partition then
// in preference order.
func Tasks(st *ring.State, self ring.NodeID, alive func(ring.NodeID) bool) []Task {
	var ts []Task
	for _, p := range st.MovingPartitions() {
		if Sender(st, p, alive) != self {
			continue
		}
		for _, to := range st.Incoming(p) {
			ts = append(ts, Task{Partition: p, To: to})
		}
	}
	return ts
}

// IsDone reports whether t is finished for the current move of its
// partition in st (progress of an earlier move does not count).
func IsDone(st *ring.State, prog map[Task]Progress, t Task) bool {
	pg, ok := prog[t]
	return ok && pg.Done && pg.Move == MoveKey(st, t.Partition)
}

// Send returns the tasks of Tasks still to stream now: not done for the
// current move, and to a receiver alive reports up. A receiver that is
// down is skipped and retried on a later round.
func Send(st *ring.State, self ring.NodeID, alive func(ring.NodeID) bool, prog map[Task]Progress) []Task {
	var out []Task
	for _, t := range Tasks(st, self, alive) {
		if !IsDone(st, prog, t) && alive(t.To) {
			out = append(out, t)
		}
	}
	return out
}

// Still reports whether t is still self's to stream in st: its partition
// moves, self is its sender, and t.To is one of its incoming replicas. The
// driver checks it between batches, so a ring change stops a stream.
func Still(st *ring.State, self ring.NodeID, alive func(ring.NodeID) bool, t Task) bool {
	return st != nil && Sender(st, t.Partition, alive) == self && slices.Contains(st.Incoming(t.Partition), t.To)
}

// Completed returns the confirmations self can make in st (the argument
// of ring.State.Complete): each moving partition whose sender is self and
// whose every incoming replica has it for the current move.
func Completed(st *ring.State, self ring.NodeID, alive func(ring.NodeID) bool, prog map[Task]Progress) []ring.Handoff {
	var done []ring.Handoff
	for _, p := range st.MovingPartitions() {
		if Sender(st, p, alive) != self {
			continue
		}
		in := st.Incoming(p)
		all := true
		for _, to := range in {
			if !IsDone(st, prog, Task{p, to}) {
				all = false
				break
			}
		}
		if all {
			done = append(done, ring.Handoff{Partition: p, To: in})
		}
	}
	return done
}

// Prune returns the tasks whose progress is stale in st at now, to forget:
// the partition moves with another old set or without that receiver, or
// it no longer moves and the task was unfinished or finished more than
// keepDone ago. A finished task is kept keepDone past its move because a
// confirmation can lose to a concurrent ring change and be made again; it
// must not stream the partition again. Sorted by partition, then receiver.
func Prune(st *ring.State, prog map[Task]Progress, now time.Time, keepDone time.Duration) []Task {
	var out []Task
	for t, pg := range prog {
		_, moving := st.Moving(t.Partition)
		var stale bool
		if moving {
			stale = pg.Move != MoveKey(st, t.Partition) || !slices.Contains(st.Incoming(t.Partition), t.To)
		} else {
			stale = !pg.Done || now.UnixMilli()-pg.DoneAt > keepDone.Milliseconds()
		}
		if stale {
			out = append(out, t)
		}
	}
	sortTasks(out)
	return out
}

// Drops returns the partitions self does not hold in st (ring.State.Holds):
// those whose copy it may delete. The driver drops those it has keys of.
func Drops(st *ring.State, self ring.NodeID) []int {
	var out []int
	for p := range st.Partitions() {
		if !st.Holds(self, p) {
			out = append(out, p)
		}
	}
	return out
}

// DropDue reports whether the drop pass runs: on every new ring version,
// and every dropEvery on an unchanged one (a late transfer batch may have
// brought back keys of a dropped partition). last is the ring version of
// the last pass and at its time (zero: never).
func DropDue(st *ring.State, last uint64, at, now time.Time, dropEvery time.Duration) bool {
	return at.IsZero() || st.Version() != last || now.Sub(at) >= dropEvery
}

// LeaveStep is the next step of a leave.
type LeaveStep int

// The steps of a leave.
const (
	// LeaveNone: nothing to do (not leaving, or waiting for the moves of
	// this node's partitions to be confirmed).
	LeaveNone LeaveStep = iota
	// LeaveMark: mark self leaving in the ring (ring.State.Leave): its
	// partitions move to the others.
	LeaveMark
	// LeaveRemove: self is leaving and in no moving partition's old set:
	// remove it from the ring (ring.State.Remove).
	LeaveRemove
	// LeaveLeft: self is no longer a member; the process can stop.
	LeaveLeft
)

// NextLeave returns the next step of a leave that self asked for
// (leaving) in st.
func NextLeave(st *ring.State, self ring.NodeID, leaving bool) LeaveStep {
	if !leaving {
		return LeaveNone
	}
	m, ok := st.Member(self)
	switch {
	case !ok:
		return LeaveLeft
	case m.Status == ring.StatusJoined:
		return LeaveMark
	case !st.Involved(self):
		return LeaveRemove
	}
	return LeaveNone
}

// LeaveStatus is INFO's leave_status: "no", "requested" (asked, not yet in
// the ring), "leaving" (marked leaving in st) or "left".
func LeaveStatus(st *ring.State, self ring.NodeID, leaving bool) string {
	m, ok := st.Member(self)
	switch {
	case !ok && leaving:
		return "left"
	case ok && m.Status == ring.StatusLeaving:
		return "leaving"
	case leaving:
		return "requested"
	}
	return "no"
}

func sortTasks(ts []Task) {
	slices.SortFunc(ts, func(a, b Task) int {
		if a.Partition != b.Partition {
			return a.Partition - b.Partition
		}
		return strings.Compare(string(a.To), string(b.To))
	})
}
