package node

import (
	"context"
	"sync"
	"time"
)

// limiter is the throttle of anti-entropy and ownership handoff: a token
// bucket of rate tokens per second holding at most burst, whose wait may
// take more than it has and then sleeps off the debt, so the long-run rate
// is rate whatever the sizes asked for. A rate of 0 or less means no limit.
// Safe for concurrent use.
type limiter struct {
	rate, burst float64
	now         func() time.Time

	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newLimiter(rate, burst float64, now func() time.Time) *limiter {
	return &limiter{rate: rate, burst: burst, now: now, tokens: burst, last: now()}
}

// wait takes n tokens, sleeping while the bucket is in debt, or until ctx
// ends.
func (l *limiter) wait(ctx context.Context, n int) error {
	d := l.reserve(n)
	if d <= 0 {
		return nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-tm.C:
		return nil
	}
}

// reserve takes n tokens and returns how long the caller must wait for the
// bucket to be out of debt.
func (l *limiter) reserve(n int) time.Duration {
	if l.rate <= 0 || n <= 0 {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	t := l.now()
	l.tokens = min(l.burst, l.tokens+t.Sub(l.last).Seconds()*l.rate)
	l.last = t
	l.tokens -= float64(n)
	if l.tokens >= 0 {
		return 0
	}
	return time.Duration(-l.tokens / l.rate * float64(time.Second))
}
