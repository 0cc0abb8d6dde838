package transfer

import "strconv"

// Status is this node's part in ownership transfer, for INFO: Moving is
// ring-wide; the counters are this node's, as a sender, since it started.
type Status struct {
	Moving         int     // partitions moving in the ring
	ToSend         int     // tasks of this node not done for their current move
	Active         string  // the task streaming now ("partition>receiver"), or ""
	PartitionsSent int64   // tasks finished
	KeysSent       int64   // keys sent (resent batches count again)
	BytesSent      int64   // bytes sent: keys plus encoded objects
	KeysDropped    int64   // keys of partitions no longer held, deleted here
	Rate           float64 // keys/s over the driver's samples of the last Config.RateWindow
	ETA            float64 // seconds until this node's tasks are sent; -1: unknown
	RateLimit      int     // Config.Rate, keys/s (0: unthrottled)
	Leave          string  // "no", "requested", "leaving" or "left" (LeaveStatus)
}

// Status returns the current status. It only reads: the rate comes from
// samples the driver took (after each batch and each round) on its clock,
// so how often Status is called changes nothing.
func (t *Transfer) Status() Status {
	s := Status{Leave: "no", ETA: -1, RateLimit: t.cfg.Rate}
	st := t.d.Ring.Current()
	var tasks []Task
	if st != nil {
		s.Moving = len(st.MovingPartitions())
		tasks = Tasks(st, t.d.Self, t.d.Alive)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	var sentLeft int64 // keys already sent of the tasks not done
	for _, tk := range tasks {
		if !IsDone(st, t.prog, tk) {
			s.ToSend++
			if pg, ok := t.prog[tk]; ok && pg.Move == MoveKey(st, tk.Partition) {
				sentLeft += pg.Keys
			}
		}
	}
	s.KeysSent, s.BytesSent, s.PartitionsSent, s.KeysDropped = t.sent, t.bytes, t.done, t.dropped
	if t.active != nil {
		s.Active = t.active.String()
	}
	if w := t.window; len(w) > 1 {
		if d := w[len(w)-1].at.Sub(w[0].at).Seconds(); d > 0 {
			s.Rate = float64(w[len(w)-1].keys-w[0].keys) / d
		}
	}
	// Estimate: the tasks left are as big as the ones done so far.
	switch {
	case s.ToSend == 0:
		s.ETA = 0
	case s.PartitionsSent > 0 && s.Rate > 0:
		s.ETA = max(0, float64(s.KeysSent/s.PartitionsSent*int64(s.ToSend)-sentLeft)/s.Rate)
	}
	if st != nil {
		s.Leave = LeaveStatus(st, t.d.Self, t.leaving)
	}
	return s
}

// Field is one name:value line of INFO.
type Field struct{ Name, Value string }

// Fields renders s as INFO fields named prefix_… (prefix "transfer"; the
// alias section "handoff" of earlier versions passes its old name), then
// leave_status.
func (s Status) Fields(prefix string) []Field {
	eta := "unknown"
	if s.ETA >= 0 {
		eta = strconv.FormatFloat(s.ETA, 'f', 1, 64)
	}
	return []Field{
		{prefix + "_partitions_moving", strconv.Itoa(s.Moving)},
		{prefix + "_partitions_to_send", strconv.Itoa(s.ToSend)},
		{prefix + "_active", s.Active},
		{prefix + "_partitions_sent", strconv.FormatInt(s.PartitionsSent, 10)},
		{prefix + "_keys_sent", strconv.FormatInt(s.KeysSent, 10)},
		{prefix + "_bytes_sent", strconv.FormatInt(s.BytesSent, 10)},
		{prefix + "_rate_keys_per_sec", strconv.FormatFloat(s.Rate, 'f', 0, 64)},
		{prefix + "_eta_seconds", eta},
		{prefix + "_keys_dropped", strconv.FormatInt(s.KeysDropped, 10)},
		{prefix + "_rate_limit", strconv.Itoa(s.RateLimit)},
		{"leave_status", s.Leave},
	}
}

// Progress returns a copy of this node's progress per task (as a sender),
// for the status page: with the ring's MovingPartitions and MoveKey it
// tells which moves are under way and how far each got.
func (t *Transfer) Progress() map[Task]Progress {
	t.mu.Lock()
	defer t.mu.Unlock()
	return clone(t.prog)
}
