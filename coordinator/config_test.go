package coordinator

import (
	"errors"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
)

// TestConfigValidate: the defaults are valid and take N from the ring's
// one default; EnsureDefaults fills zero fields; Validate rejects a
// negative timeout (once silently accepted) and quorums outside 1..N.
func TestConfigValidate(t *testing.T) {
	d := DefaultConfig()
	if err := d.Validate(); err != nil || d.N != ring.DefaultReplicas {
		t.Fatalf("DefaultConfig %+v: N %d, Validate %v", d, d.N, err)
	}
	var z Config
	z.EnsureDefaults()
	if z.N != d.N || z.R != d.R || z.W != d.W || z.Timeout != d.Timeout {
		t.Errorf("EnsureDefaults on zero: %+v, want %+v", z, d)
	}
	for _, c := range []Config{
		{N: 1, R: 1, W: 1, Timeout: -time.Second},
		{N: 3, R: 4, W: 2, Timeout: time.Second},
		{N: 3, R: 2, W: 0, Timeout: time.Second},
	} {
		if err := c.Validate(); !errors.Is(err, ErrConfig) {
			t.Errorf("Validate(%+v) = %v, want ErrConfig", c, err)
		}
	}
}
