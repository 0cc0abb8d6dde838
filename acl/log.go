package acl

import (
	"sync"
	"time"
)

// LogGroupWindow is how long after an entry's latest occurrence the same
// denial (reason, context, object and user) is counted into it rather
// than logged anew (Redis's ACL_LOG_GROUPING_MAX_TIME_DELTA).
const LogGroupWindow = 60 * time.Second

// LogEntry is one line of ACL LOG.
type LogEntry struct {
	Count    int
	Reason   Reason
	Context  string // "toplevel", "multi" or "lua"
	Object   string // the command, key or channel refused ("AUTH" for auth)
	Username string
	// Time is the latest occurrence; ACL LOG's age-seconds is measured
	// from it.
	Time time.Time
	// ClientInfo is the CLIENT INFO line of the latest occurrence's client.
	ClientInfo string
}

// Log is ACL LOG: the latest denials, newest first, at most Max entries.
// The zero value is not usable; use NewLog.
type Log struct {
	mu      sync.Mutex
	max     int
	entries []LogEntry
}

// NewLog returns an empty log of at most max entries (Redis's
// acllog-max-len, 128 by default).
func NewLog(max int) *Log { return &Log{max: max} }

// SetMax changes the bound, dropping the oldest entries beyond it.
func (l *Log) SetMax(max int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.max = max
	l.trim()
}

func (l *Log) trim() {
	if len(l.entries) > l.max {
		l.entries = l.entries[:l.max]
	}
}

// Add records e (Count is ignored) at its Time: it is counted into the
// entry of the same denial seen within LogGroupWindow, which moves to
// the front, or else becomes a new entry with count 1.
func (l *Log) Add(e LogEntry) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, old := range l.entries {
		if old.Reason == e.Reason && old.Context == e.Context && old.Object == e.Object &&
			old.Username == e.Username && e.Time.Sub(old.Time) < LogGroupWindow {
			e.Count = old.Count + 1
			copy(l.entries[1:i+1], l.entries[:i])
			l.entries[0] = e
			return
		}
	}
	e.Count = 1
	l.entries = append([]LogEntry{e}, l.entries...)
	l.trim()
}

// Entries returns the newest n entries (all for n < 0), newest first.
func (l *Log) Entries(n int) []LogEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	return append([]LogEntry(nil), l.entries[:n]...)
}

// Reset empties the log.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}
