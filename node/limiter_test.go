package node

import (
	"testing"
	"time"
)

// TestLimiter: a burst passes at once; beyond it each caller waits for its
// share of the debt; idle time refills the bucket up to the burst only; a
// zero rate never waits. The clock is injected: nothing sleeps.
func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newLimiter(100, 10, func() time.Time { return now })
	steps := []struct {
		advance time.Duration
		n       int
		want    time.Duration
	}{
		{0, 10, 0},                              // the burst
		{0, 50, 500 * time.Millisecond},         // 50 keys of debt at 100/s
		{500 * time.Millisecond, 0, 0},          // nothing asked: no wait
		{0, 1, 10 * time.Millisecond},           // the debt is paid, the bucket empty
		{time.Hour, 30, 200 * time.Millisecond}, // an hour idle refills only the burst of 10
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		if got := l.reserve(s.n); got != s.want {
			t.Fatalf("step %d: reserve(%d) = %v, want %v", i, s.n, got, s.want)
		}
	}
	if d := newLimiter(0, 0, time.Now).reserve(1 << 30); d != 0 {
		t.Fatalf("unlimited reserve waits %v", d)
	}
}
