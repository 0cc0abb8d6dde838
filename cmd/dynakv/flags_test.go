package main

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/node"
)

func parseServer(t *testing.T, args ...string) (node.Config, error) {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	cfg := node.DefaultConfig()
	nodeFlags(fs, &cfg, true)
	return cfg, parse(fs, args, io.Discard)
}

// TestFlagDefaultsAreNodeDefaults: with no flags and no environment the
// parsed Config is exactly node.DefaultConfig (cmd writes no default of
// its own).
func TestFlagDefaultsAreNodeDefaults(t *testing.T) {
	cfg, err := parseServer(t)
	if err != nil {
		t.Fatal(err)
	}
	if d := node.DefaultConfig(); !reflect.DeepEqual(cfg, d) {
		t.Errorf("parsed defaults\n%+v\nwant node.DefaultConfig\n%+v", cfg, d)
	}
}

// TestFlagsEnvAndCommandLine: each flag reads its DYNAKV_* variable; the
// command line wins over it.
func TestFlagsEnvAndCommandLine(t *testing.T) {
	t.Setenv("DYNAKV_READ_QUORUM", "2")
	t.Setenv("DYNAKV_TIMEOUT", "5s")
	t.Setenv("DYNAKV_JOIN", "a:1,b:2")
	cfg, err := parseServer(t, "--timeout", "3s")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Coordinator.R != 2 || cfg.Coordinator.Timeout.String() != "3s" || strings.Join(cfg.Join, " ") != "a:1 b:2" {
		t.Errorf("R %d, timeout %v, join %q; want 2, 3s (command line), a:1 b:2", cfg.Coordinator.R, cfg.Coordinator.Timeout, cfg.Join)
	}
	t.Setenv("DYNAKV_READ_QUORUM", "x")
	if _, err := parseServer(t); err == nil || !strings.Contains(err.Error(), "DYNAKV_READ_QUORUM") {
		t.Errorf("bad env value: %v, want an error naming DYNAKV_READ_QUORUM", err)
	}
}

// TestAliasFlags: --handoff-rate/--handoff-batch and --transfer-* are one
// setting: the name given on the command line wins over the other name's
// environment variable (before, the alias's variable overrode the command
// line), and of two variables the flag's own wins.
func TestAliasFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		rate int
	}{
		{"flag on command line, alias env", map[string]string{"DYNAKV_HANDOFF_RATE": "9"}, []string{"--transfer-rate", "5"}, 5},
		{"alias on command line, flag env", map[string]string{"DYNAKV_TRANSFER_RATE": "9"}, []string{"--handoff-rate", "7"}, 7},
		{"alias env only", map[string]string{"DYNAKV_HANDOFF_RATE": "9"}, nil, 9},
		{"both env", map[string]string{"DYNAKV_HANDOFF_RATE": "9", "DYNAKV_TRANSFER_RATE": "4"}, nil, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			cfg, err := parseServer(t, tc.args...)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Transfer.Rate != tc.rate {
				t.Errorf("transfer rate %d, want %d", cfg.Transfer.Rate, tc.rate)
			}
		})
	}
}

// TestHelpDocumentsEveryFlag: --help lists each flag of server and dev
// with its environment variable.
func TestHelpDocumentsEveryFlag(t *testing.T) {
	for _, sub := range []string{"server", "dev"} {
		var out bytes.Buffer
		if code := run([]string{sub, "--help"}, io.Discard, &out); code != 0 {
			t.Fatalf("%s --help: exit %d", sub, code)
		}
		fs := flag.NewFlagSet(sub, flag.ContinueOnError)
		cfg := node.DefaultConfig()
		nodeFlags(fs, &cfg, sub == "server")
		fs.VisitAll(func(f *flag.Flag) {
			if !strings.Contains(out.String(), "-"+f.Name) || !strings.Contains(out.String(), envName(f.Name)) {
				t.Errorf("%s --help lacks -%s or %s", sub, f.Name, envName(f.Name))
			}
		})
	}
	if _, err := parseServer(t, "--help"); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v", err)
	}
}

// TestTLSFlags: the tls-* flags take Redis's values (tls-cluster yes|no,
// from the command line or DYNAKV_TLS_*), and another value is a usage
// error.
func TestTLSFlags(t *testing.T) {
	t.Setenv("DYNAKV_TLS_AUTH_CLIENTS", "optional")
	cfg, err := parseServer(t, "--tls-port", "6380", "--tls-cert-file", "n.crt", "--tls-key-file", "n.key", "--tls-ca-cert-file", "ca.crt", "--tls-cluster", "yes", "--listen", "off")
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.TLS; c.Port != "6380" || c.CertFile != "n.crt" || c.KeyFile != "n.key" || c.CACertFile != "ca.crt" || !c.Cluster || c.AuthClients != "optional" || cfg.Listen != node.ListenOff {
		t.Errorf("TLS config %+v, listen %q", c, cfg.Listen)
	}
	if _, err := parseServer(t, "--tls-cluster", "maybe"); !errors.Is(err, errUsage) {
		t.Errorf("--tls-cluster maybe: %v, want a usage error", err)
	}
	t.Setenv("DYNAKV_TLS_CLUSTER", "no")
	if cfg, err := parseServer(t); err != nil || cfg.TLS.Cluster {
		t.Errorf("DYNAKV_TLS_CLUSTER=no: cluster %v, %v", cfg.TLS.Cluster, err)
	}
}
