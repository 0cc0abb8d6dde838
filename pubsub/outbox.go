package pubsub

import (
	"errors"
	"sync"
	"time"
)

// ErrOverLimit is the error of an Outbox whose subscriber fell too far
// behind: its pending output passed the hard limit, or stayed over the
// soft limit for longer than allowed (Redis's client-output-buffer-limit
// pubsub). The subscriber is then disconnected, as Redis disconnects it.
var ErrOverLimit = errors.New("pubsub: client output buffer over its limit")

// ErrClosed is the error of an Outbox closed by its owner (the connection
// ended).
var ErrClosed = errors.New("pubsub: outbox closed")

// Limits are Redis's client-output-buffer-limit for one class of client:
// a subscriber whose pending output exceeds Hard bytes, or exceeds Soft
// bytes continuously for SoftFor, is disconnected. A zero limit is no
// limit.
type Limits struct {
	Hard, Soft int64
	SoftFor    time.Duration
}

// DefaultLimits are Redis's defaults for pubsub clients: "pubsub 32mb 8mb
// 60".
var DefaultLimits = Limits{Hard: 32 << 20, Soft: 8 << 20, SoftFor: 60 * time.Second}

// Outbox is a subscriber's outgoing buffer: what publishers (and the
// connection's own replies) append and one writer takes to write to the
// client; its owner may hold it while it prepares a reply that must
// precede what others append (Hold, Release). Append never blocks; it fails, and the outbox closes, once the
// pending bytes pass the limits. Bytes taken by the writer count as
// pending until Done, so a writer blocked on a full socket still counts
// against the limit. It is safe for concurrent use.
type Outbox struct {
	limits func() Limits
	now    func() time.Time
	ready  chan struct{} // one token while there is something to take or the outbox closed

	mu        sync.Mutex
	buf       []byte
	held      bool      // between Hold and Release: Append goes to side
	side      []byte    // appended while held, queued after Release's front
	inflight  int64     // taken, not yet Done
	softSince time.Time // when pending went over Soft; zero while under
	err       error     // ErrOverLimit or ErrClosed once closed
	drained   *sync.Cond
}

// NewOutbox returns an empty outbox whose limits are read at each Append
// (so CONFIG SET applies to existing subscribers) and whose soft-limit
// clock is now.
func NewOutbox(limits func() Limits, now func() time.Time) *Outbox {
	o := &Outbox{limits: limits, now: now, ready: make(chan struct{}, 1)}
	o.drained = sync.NewCond(&o.mu)
	return o
}

func (o *Outbox) signal() {
	select {
	case o.ready <- struct{}{}:
	default:
	}
}

// Append queues b (copied); while the outbox is held, after what Release
// will put in front. It returns ErrOverLimit if this append put the
// outbox over its limits (the outbox is then closed and its content
// dropped), or the error it was closed with before.
func (o *Outbox) Append(b []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	if o.held {
		o.side = append(o.side, b...)
	} else {
		o.buf = append(o.buf, b...)
	}
	return o.checkLocked()
}

// Hold makes later Appends wait, unsent, until Release: the owner holds
// the outbox while it runs a command, so that messages published
// meanwhile follow the command's reply.
func (o *Outbox) Hold() {
	o.mu.Lock()
	o.held = true
	o.mu.Unlock()
}

// Release queues front (copied), then what was appended while held, and
// ends the hold. Its error is Append's.
func (o *Outbox) Release(front []byte) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.held = false
	if o.err != nil {
		return o.err
	}
	o.buf = append(o.buf, front...)
	o.buf = append(o.buf, o.side...)
	o.side = nil
	return o.checkLocked()
}

// checkLocked applies the limits to what is pending and, unless over
// them, wakes the writer (o.mu held).
func (o *Outbox) checkLocked() error {
	pending := int64(len(o.buf)+len(o.side)) + o.inflight
	l := o.limits()
	over := l.Hard > 0 && pending > l.Hard
	if l.Soft > 0 && pending > l.Soft {
		now := o.now()
		if o.softSince.IsZero() {
			o.softSince = now
		} else if now.Sub(o.softSince) > l.SoftFor {
			over = true
		}
	} else {
		o.softSince = time.Time{}
	}
	if over {
		o.closeLocked(ErrOverLimit)
		return ErrOverLimit
	}
	if len(o.buf) > 0 {
		o.signal()
	}
	return nil
}

// Ready returns a channel that has a value whenever Take may have
// something, or the outbox has closed.
func (o *Outbox) Ready() <-chan struct{} { return o.ready }

// Take hands the queued bytes to the writer (nil if none), who calls Done
// once they are written; err is set once the outbox is closed. The
// returned slice is the writer's until its next Take.
func (o *Outbox) Take() (b []byte, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return nil, o.err
	}
	b, o.buf = o.buf, nil
	o.inflight = int64(len(b))
	return b, nil
}

// Done records that the bytes of the last Take have been written.
func (o *Outbox) Done() {
	o.mu.Lock()
	o.inflight = 0
	if len(o.buf) == 0 {
		o.drained.Broadcast()
	}
	pending := int64(len(o.buf) + len(o.side))
	if l := o.limits(); l.Soft == 0 || pending <= l.Soft {
		o.softSince = time.Time{}
	}
	o.mu.Unlock()
}

// Pending returns the bytes queued (held ones too) or being written.
func (o *Outbox) Pending() int64 {
	o.mu.Lock()
	defer o.mu.Unlock()
	return int64(len(o.buf)+len(o.side)) + o.inflight
}

// Wait blocks until everything appended has been written (Done) or the
// outbox closed, and returns the outbox's error then.
func (o *Outbox) Wait() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	for o.err == nil && (len(o.buf) > 0 || o.inflight > 0) {
		o.drained.Wait()
	}
	return o.err
}

// Close closes the outbox with ErrClosed (unless already closed) and
// drops what it holds; later Appends fail.
func (o *Outbox) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err == nil {
		o.closeLocked(ErrClosed)
	}
}

// Err returns the error the outbox was closed with, nil while open.
func (o *Outbox) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.err
}

func (o *Outbox) closeLocked(err error) {
	o.err = err
	o.buf, o.side = nil, nil
	o.drained.Broadcast()
	o.signal()
}
