package coordinator

// Outcome is the state of a quorum wait, as Tally.Result decides it (the
// shape of etcd raft's quorum.VoteResult, for Dynamo's R and W).
type Outcome int

const (
	// Pending: the quorum is not met yet, but the requests still in flight
	// can meet it; keep waiting for replies.
	Pending Outcome = iota
	// Won: Need replicas acknowledged (Dynamo §4.5: W stored the write, or
	// R answered the read); the request succeeds.
	Won
	// NeedReserve: the requests in flight can no longer meet the quorum,
	// but replicas held in reserve (ones this coordinator suspects and so
	// did not ask at first, §4.6) may: ask them now, then tally again.
	NeedReserve
	// Lost: even with every reserve asked the quorum cannot be met; the
	// request fails with ErrNoQuorum.
	Lost
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Pending:
		return "pending"
	case Won:
		return "won"
	case NeedReserve:
		return "need-reserve"
	case Lost:
		return "lost"
	}
	return "unknown"
}

// Tally counts one quorum request (a read waiting for R replies or a write
// waiting for W acknowledgements, Dynamo §4.5, with §4.6's sloppy quorum
// putting suspected replicas in reserve). It is a pure value: the wait
// loops of Get and Update fill it in and act on Result.
//
// All counts are of replicas (or fallbacks standing in for them); a
// coordinator that stores a write itself counts that as one Sent and one
// Acked.
type Tally struct {
	// Need is the quorum: R for a read, W for a write (≥ 1).
	Need int
	// Sent is the number of requests made so far.
	Sent int
	// Acked is the number of requests that succeeded.
	Acked int
	// Failed is the number of requests that failed (an error, or no
	// answer in time).
	Failed int
	// Reserve is the number of replicas not asked yet that could be.
	Reserve int
}

// Result decides the tally: Won once Acked reaches Need; Pending while the
// requests not yet answered (Sent - Acked - Failed) could still bring
// Acked to Need; otherwise NeedReserve if there is a reserve to ask, else
// Lost.
func (t Tally) Result() Outcome {
	switch {
	case t.Acked >= t.Need:
		return Won
	case t.Sent-t.Failed >= t.Need:
		return Pending
	case t.Reserve > 0:
		return NeedReserve
	default:
		return Lost
	}
}
