package transfer

import (
	"fmt"
	"time"
)

// MaxBatch is the largest Config.Batch: keys per MergeMany call.
const MaxBatch = 100000

// Config tunes ownership transfer. The zero value of every field but Rate
// means its default (EnsureDefaults); Rate 0 means unthrottled.
type Config struct {
	// Rate is the most keys per second this node streams to new replicas,
	// over every partition and receiver (0: unthrottled). The node's
	// Limiter enforces it; Status reports it.
	Rate int
	// Batch is the number of keys per MergeMany call, and so the
	// granularity of the saved progress: a crash resends at most one batch
	// per task. 1..MaxBatch.
	Batch int
	// Tick is the period of a round (plan, drop, stream, confirm) when
	// nothing pokes the driver.
	Tick time.Duration
	// CompleteEvery is how often a sender busy with many partitions
	// confirms those it has finished (each confirmation is a ring version).
	CompleteEvery time.Duration
	// DropEvery is how often the drop pass looks again at an unchanged
	// ring (a late batch may bring back keys of a dropped partition).
	DropEvery time.Duration
	// KeepDone is how long a finished task's progress outlives its move: a
	// confirmation that loses to a concurrent ring change is made again
	// without streaming the partition again.
	KeepDone time.Duration
	// RateWindow is the span of the driver's samples that Status's rate
	// is measured over.
	RateWindow time.Duration
	// Timeout bounds one MergeMany call, plus one millisecond per key of
	// the batch (node sets it from --timeout).
	Timeout time.Duration
}

// DefaultConfig returns the defaults of ownership transfer.
func DefaultConfig() Config {
	return Config{
		Rate:          20000,                  // keys/s: a 1M-key node hands a third of its keys off in ~17 s
		Batch:         256,                    // keys per MergeMany; progress saved (two fsyncs) after each
		Tick:          200 * time.Millisecond, // a new ring version pokes the driver at once anyway
		CompleteEvery: time.Second,            // at most one confirming ring version per second while busy
		DropEvery:     30 * time.Second,       // re-check for keys of dropped partitions twice a minute
		KeepDone:      time.Minute,            // longer than a ring change takes to spread by gossip
		RateWindow:    10 * time.Second,       // INFO's transfer_rate_keys_per_sec is a 10 s average
		Timeout:       2 * time.Second,        // the coordinator's default request timeout
	}
}

// EnsureDefaults sets every zero field but Rate to its default and
// returns c.
func (c *Config) EnsureDefaults() *Config {
	d := DefaultConfig()
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.Tick == 0 {
		c.Tick = d.Tick
	}
	if c.CompleteEvery == 0 {
		c.CompleteEvery = d.CompleteEvery
	}
	if c.DropEvery == 0 {
		c.DropEvery = d.DropEvery
	}
	if c.KeepDone == 0 {
		c.KeepDone = d.KeepDone
	}
	if c.RateWindow == 0 {
		c.RateWindow = d.RateWindow
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
	return c
}

// Validate returns an error wrapping ErrConfig if a rate, size or period
// is negative, or Batch is above MaxBatch. Zero fields are valid (see
// EnsureDefaults).
func (c Config) Validate() error {
	switch {
	case c.Rate < 0:
		return fmt.Errorf("%w: rate %d keys/s is negative", ErrConfig, c.Rate)
	case c.Batch < 0 || c.Batch > MaxBatch:
		return fmt.Errorf("%w: batch %d not in 1..%d keys", ErrConfig, c.Batch, MaxBatch)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"tick", c.Tick}, {"complete-every", c.CompleteEvery}, {"drop-every", c.DropEvery},
		{"keep-done", c.KeepDone}, {"rate-window", c.RateWindow}, {"timeout", c.Timeout}} {
		if d.v < 0 {
			return fmt.Errorf("%w: %s %v is negative", ErrConfig, d.name, d.v)
		}
	}
	return nil
}
