package node

import (
	"errors"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

func validConfig(t *testing.T) Config {
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir = "n1", t.TempDir()
	cfg.EnsureDefaults()
	return cfg
}

// TestDefaultConfig: the defaults, with ID and DataDir, are valid; N is
// the one default of ring.DefaultReplicas and the coordinator agrees; the
// parts' per-call timeouts take the request timeout.
func TestDefaultConfig(t *testing.T) {
	cfg := validConfig(t)
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	if cfg.Ring.Replicas != ring.DefaultReplicas || cfg.Coordinator.N != ring.DefaultReplicas {
		t.Errorf("N: ring %d, coordinator %d, want %d", cfg.Ring.Replicas, cfg.Coordinator.N, ring.DefaultReplicas)
	}
	cfg = DefaultConfig()
	cfg.Coordinator.Timeout = 7 * time.Second
	cfg.EnsureDefaults()
	if cfg.Hints.Timeout != 7*time.Second || cfg.Transfer.Timeout != 7*time.Second || cfg.Reaper.Timeout != 7*time.Second {
		t.Errorf("per-call timeouts %v %v %v, want the request timeout 7s", cfg.Hints.Timeout, cfg.Transfer.Timeout, cfg.Reaper.Timeout)
	}
	var z Config
	z.EnsureDefaults()
	if z.Transfer.Batch != transfer.DefaultConfig().Batch || z.Transfer.Rate != 0 || z.Listen == "" {
		t.Errorf("zero config after EnsureDefaults: %+v", z.Transfer)
	}
}

// TestConfigValidateRejects: every negative timeout, rate and size of the
// tree is refused with ErrConfig and the part's own sentinel (a negative
// --timeout and a negative --transfer-rate used to be accepted).
func TestConfigValidateRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		part error
	}{
		{"timeout", func(c *Config) { c.Coordinator.Timeout = -time.Second }, coordinator.ErrConfig},
		{"read quorum", func(c *Config) { c.Coordinator.R = 2 }, coordinator.ErrConfig},
		{"transfer rate", func(c *Config) { c.Transfer.Rate = -1 }, transfer.ErrConfig},
		{"transfer batch", func(c *Config) { c.Transfer.Batch = transfer.MaxBatch + 1 }, transfer.ErrConfig},
		{"hint interval", func(c *Config) { c.Hints.Interval = -time.Second }, hints.ErrConfig},
		{"hint max bytes", func(c *Config) { c.Hints.MaxBytes = -1 }, hints.ErrConfig},
		{"ae rate", func(c *Config) { c.AE.Rate = -1 }, antientropy.ErrSchedulerConfig},
		{"tombstone grace", func(c *Config) { c.Reaper.Grace = -time.Second }, antientropy.ErrReaperConfig},
		{"idle timeout", func(c *Config) { c.RESP.IdleTimeout = -time.Second }, resp.ErrConfig},
		{"maxclients", func(c *Config) { c.RESP.MaxClients = -1 }, resp.ErrConfig},
		{"store clock", func(c *Config) { c.Store.MaxClockAhead = -time.Second }, replica.ErrConfig},
		{"partitions", func(c *Config) { c.Ring.Partitions = 100 }, ring.ErrInvalidPartitions},
		{"weight", func(c *Config) { c.Cluster.Weight = ring.MaxWeight + 1 }, nil},
		{"join timeout", func(c *Config) { c.JoinTimeout = -time.Second }, nil},
		{"no secret", func(c *Config) { c.Ring.Replicas = 3 }, nil},
		{"no id", func(c *Config) { c.ID = "" }, nil},
	} {
		cfg := validConfig(t)
		tc.mod(&cfg)
		err := cfg.Validate()
		if !errors.Is(err, ErrConfig) || (tc.part != nil && !errors.Is(err, tc.part)) {
			t.Errorf("%s: Validate = %v, want ErrConfig and %v", tc.name, err, tc.part)
		}
	}
	cfg := validConfig(t)
	cfg.AE.Interval = -1 // anti-entropy off: not an error
	if err := cfg.Validate(); err != nil {
		t.Errorf("AE off: %v", err)
	}
}

// TestClusterListenDefault: --cluster-listen's default is the client port
// + 10000 when that stays below 32768 (Linux's ephemeral ports), else a
// port the system picks; "off" is none; an explicit address is kept; the
// advertised address takes the advertised RESP host.
func TestClusterListenDefault(t *testing.T) {
	for _, c := range []struct{ listen, cluster, want string }{
		{"127.0.0.1:6379", "", "127.0.0.1:16379"},
		{"0.0.0.0:22767", "", "0.0.0.0:32767"},
		{"0.0.0.0:22768", "", "0.0.0.0:0"},
		{"127.0.0.1:40000", "", "127.0.0.1:0"},
		{"127.0.0.1:0", "", "127.0.0.1:0"},
		{"127.0.0.1:6379", ClusterListenOff, ""},
		{"127.0.0.1:6379", "10.0.0.1:7000", "10.0.0.1:7000"},
	} {
		cfg := DefaultConfig()
		cfg.Listen, cfg.ClusterListen = c.listen, c.cluster
		if got, err := cfg.clusterListenAddr(); err != nil || got != c.want {
			t.Errorf("Listen %s, ClusterListen %q: %q, %v; want %q", c.listen, c.cluster, got, err, c.want)
		}
	}
	ln := &net.TCPAddr{IP: net.IPv4zero, Port: 16379}
	if got := advertisedClusterAddr("10.1.2.3:6379", ln); got != "10.1.2.3:16379" {
		t.Errorf("advertised cluster-client address = %q, want 10.1.2.3:16379", got)
	}
}

// TestWithoutSelf: a --join entry naming this node's own gossip address
// (its IP, or a name resolving to it) is dropped, so a StatefulSet's
// first pod, given its own name, starts the ring; others are kept, and an
// unspecified advertise address keeps everything.
func TestWithoutSelf(t *testing.T) {
	for _, tc := range []struct {
		join []string
		adv  string
		want []string
	}{
		{[]string{"10.0.0.1:7946", "10.0.0.2:7946"}, "10.0.0.1:7946", []string{"10.0.0.2:7946"}},
		{[]string{"10.0.0.1:7946"}, "10.0.0.1:7946", nil},
		{[]string{"10.0.0.1:7947"}, "10.0.0.1:7946", []string{"10.0.0.1:7947"}},
		{[]string{"localhost:7946", "10.0.0.2:7946"}, "127.0.0.1:7946", []string{"10.0.0.2:7946"}},
		{[]string{"10.0.0.1:7946"}, "0.0.0.0:7946", []string{"10.0.0.1:7946"}},
		{[]string{"no-such-host.invalid:7946"}, "10.0.0.1:7946", []string{"no-such-host.invalid:7946"}},
	} {
		if got := withoutSelf(tc.join, tc.adv); !slices.Equal(got, tc.want) {
			t.Errorf("withoutSelf(%q, %q) = %q, want %q", tc.join, tc.adv, got, tc.want)
		}
	}
}
