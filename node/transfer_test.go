package node

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

// TestTransferConfigValidated: a negative --transfer-rate or
// --transfer-batch is refused (it used to mean "unlimited" for some
// values); zero values get the defaults.
func TestTransferConfigValidated(t *testing.T) {
	for _, mod := range []func(*Config){
		func(c *Config) { c.Transfer.Rate = -1 },
		func(c *Config) { c.Transfer.Batch = -1 },
		func(c *Config) { c.Transfer.Batch = transfer.MaxBatch + 1 },
	} {
		cfg := DefaultConfig()
		cfg.ID, cfg.DataDir = "n1", t.TempDir()
		mod(&cfg)
		if err := cfg.validate(); !errors.Is(err, ErrConfig) || !errors.Is(err, transfer.ErrConfig) {
			t.Errorf("validate(%+v) = %v, want ErrConfig", cfg.Transfer, err)
		}
	}
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Transfer = "n1", t.TempDir(), transfer.Config{}
	if err := cfg.validate(); err != nil || cfg.Transfer.Batch != transfer.DefaultConfig().Batch || cfg.Transfer.Rate != 0 {
		t.Fatalf("zero transfer config: %v, %+v", err, cfg.Transfer)
	}
}

type fixedRing struct{ st *ring.State }

func (r fixedRing) Current() *ring.State     { return r.st }
func (r fixedRing) Change(*ring.State) error { return nil }

// TestInfoTransferAliases: INFO transfer shows transfer_* fields; INFO
// handoff, its alias kept for earlier clients and scripts, shows the same
// values under the old handoff_* names, and only when asked for.
func TestInfoTransferAliases(t *testing.T) {
	st, err := ring.New(ring.Config{Partitions: 16, Replicas: 1}, []ring.Member{{ID: "n1", Addr: "a:1", GossipAddr: "a:2", Weight: 1}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = transfer.New(transfer.DefaultConfig(), transfer.Deps{
		Self: "n1", Ring: fixedRing{st}, Local: lazyStore{}, Peer: func(ring.NodeID) transfer.Peer { return nil },
		Alive: func(ring.NodeID) bool { return true }, Store: transfer.NewStore(vfs.NewMem(), "/"), Now: nil,
	})
	if !errors.Is(err, transfer.ErrConfig) {
		t.Fatal("New without a clock: want an error")
	}
	tr, err := transfer.New(transfer.DefaultConfig(), transfer.Deps{
		Self: "n1", Ring: fixedRing{st}, Local: lazyStore{}, Peer: func(ring.NodeID) transfer.Peer { return nil },
		Alive: func(ring.NodeID) bool { return true }, Store: transfer.NewStore(vfs.NewMem(), "/"), Now: time.Now,
	})
	if err != nil {
		t.Fatal(err)
	}
	secs := infoTransfer(tr)
	if len(secs) != 2 || secs[0].Name != "transfer" || !secs[0].Default || secs[1].Name != "handoff" || secs[1].Default {
		t.Fatalf("sections %+v", secs)
	}
	now, old := secs[0].Fields(), secs[1].Fields()
	if len(now) != len(old) {
		t.Fatalf("%d transfer fields, %d handoff fields", len(now), len(old))
	}
	for i := range now {
		want := now[i].Name
		if rest, ok := strings.CutPrefix(want, "transfer_"); ok {
			want = "handoff_" + rest
		}
		if old[i].Name != want || old[i].Value != now[i].Value {
			t.Errorf("alias field %s:%s, want %s:%s", old[i].Name, old[i].Value, want, now[i].Value)
		}
	}
	got := map[string]string{}
	for _, f := range old {
		got[f.Name] = f.Value
	}
	for name, want := range map[string]string{"handoff_partitions_moving": "0", "handoff_keys_sent": "0",
		"handoff_rate_limit": "20000", "handoff_eta_seconds": "0.0", "leave_status": "no"} {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
}
