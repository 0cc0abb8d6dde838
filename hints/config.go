package hints

import (
	"errors"
	"fmt"
	"time"
)

// ErrConfig reports an invalid Config.
var ErrConfig = errors.New("hints: invalid config")

// Config configures hinted handoff. Zero fields take their default from
// EnsureDefaults.
type Config struct {
	// Interval is the period of delivery passes (flag --hint-interval).
	Interval time.Duration
	// MaxAge drops hints older than this, measured from their creation on
	// the holder's clock (flag --hint-max-age).
	MaxAge time.Duration
	// MaxBytes bounds the encoded bytes of hints a node keeps for others;
	// a hint beyond it is refused and counted as dropped (flag
	// --hint-max-bytes; enforced by replica.Store, Config.MaxHintBytes).
	MaxBytes int64
	// Batch is how many hints per target one pass reads at a time.
	Batch int
	// Parallel is how many merges to one target are in flight at once.
	Parallel int
	// Timeout bounds each merge call to a target.
	Timeout time.Duration
}

// DefaultConfig returns the defaults, each explained where it is set.
func DefaultConfig() Config {
	return Config{
		Interval: time.Second,     // a target that is back gets its hints within about a second
		MaxAge:   24 * time.Hour,  // a node down longer than a day is repaired by anti-entropy instead
		MaxBytes: 1 << 30,         // 1 GiB of hints per node, then new hints are refused (counted)
		Batch:    1000,            // hints read per target per step; a pass repeats while it makes progress
		Parallel: 16,              // merges in flight per target: hides one round trip per hint
		Timeout:  2 * time.Second, // per merge, as the coordinator's default request timeout
	}
}

// EnsureDefaults sets every zero field to its DefaultConfig value.
func (c *Config) EnsureDefaults() {
	d := DefaultConfig()
	if c.Interval == 0 {
		c.Interval = d.Interval
	}
	if c.MaxAge == 0 {
		c.MaxAge = d.MaxAge
	}
	if c.MaxBytes == 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.Batch == 0 {
		c.Batch = d.Batch
	}
	if c.Parallel == 0 {
		c.Parallel = d.Parallel
	}
	if c.Timeout == 0 {
		c.Timeout = d.Timeout
	}
}

// Validate rejects negative periods, ages, sizes and counts; call it after
// EnsureDefaults.
func (c *Config) Validate() error {
	switch {
	case c.Interval < 0:
		return fmt.Errorf("%w: interval %v is negative", ErrConfig, c.Interval)
	case c.MaxAge < 0:
		return fmt.Errorf("%w: max age %v is negative", ErrConfig, c.MaxAge)
	case c.MaxBytes < 0:
		return fmt.Errorf("%w: max bytes %d is negative", ErrConfig, c.MaxBytes)
	case c.Batch < 0:
		return fmt.Errorf("%w: batch %d is negative", ErrConfig, c.Batch)
	case c.Parallel < 0:
		return fmt.Errorf("%w: parallel %d is negative", ErrConfig, c.Parallel)
	case c.Timeout < 0:
		return fmt.Errorf("%w: timeout %v is negative", ErrConfig, c.Timeout)
	}
	return nil
}
