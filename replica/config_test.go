package replica

import (
	"errors"
	"testing"
	"time"
)

// TestConfigValidate: the defaults with Dir and NodeID are valid; negative
// durations and sizes are rejected, a negative SweepInterval (no sweeper)
// is not.
func TestConfigValidate(t *testing.T) {
	ok := DefaultConfig()
	ok.Dir, ok.NodeID = "d", "n1"
	if err := ok.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	off := ok
	off.SweepInterval = -1
	if err := off.Validate(); err != nil {
		t.Errorf("negative SweepInterval: %v", err)
	}
	for name, mut := range map[string]func(*Config){
		"no dir":         func(c *Config) { c.Dir = "" },
		"no node":        func(c *Config) { c.NodeID = "" },
		"grace":          func(c *Config) { c.TombstoneGrace = -time.Second },
		"clock ahead":    func(c *Config) { c.MaxClockAhead = -time.Second },
		"max hint bytes": func(c *Config) { c.MaxHintBytes = -1 },
	} {
		c := ok
		mut(&c)
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Validate = %v, want ErrConfig", name, err)
		}
	}
}
