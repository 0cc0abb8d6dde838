package coordinator

import "sync"

// Request-failure detection: a node whose calls fail is avoided (treated as
// unhealthy, so writes go to a fallback or leave a hint, and reads ask the
// next healthy node) for a backoff that doubles on each consecutive
// failure, from suspectBaseMs up to suspectMaxMs. When it runs out, calls
// reach the node again: the next one is the probe; a success clears the
// suspicion, a failure avoids the node for twice as long. This catches a
// dead or partitioned node before gossip declares it dead. A call the
// caller cancelled (a read's calls left once R replicas answered) is not a
// failure, whatever error the transport made of it (ObserveCall,
// fanOutTo): a spurious suspicion makes this node route a key's writes to
// another coordinator than the other nodes do, and then two SET NX can
// both win.
const (
	suspectBaseMs = 500
	suspectMaxMs  = 10_000
)

type suspects struct {
	mu      sync.Mutex
	until   map[string]int64 // avoid until this time (Unix ms)
	backoff map[string]int64 // current backoff
}

func newSuspects() *suspects {
	return &suspects{until: map[string]int64{}, backoff: map[string]int64{}}
}

// failed records a failed call to id at nowMs.
func (s *suspects) failed(id string, nowMs int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if nowMs < s.until[id] {
		return // already avoided: a late failure of an earlier call
	}
	b := min(max(2*s.backoff[id], suspectBaseMs), suspectMaxMs)
	s.backoff[id] = b
	s.until[id] = nowMs + b
}

// ok records a successful call to id.
func (s *suspects) ok(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.until, id)
	delete(s.backoff, id)
}

// avoided reports whether id is being avoided at nowMs.
func (s *suspects) avoided(id string, nowMs int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return nowMs < s.until[id]
}
