package tests

// The client libraries people use, as Debian packages them, against issue
// 14's data types: sorted sets, lists with their blocking pops,
// HyperLogLog, bitmaps and SORT, through redis-py (python3-redis),
// php-redis, ruby-redis and node-redis. Each library runs one script of
// testdata/clients that calls the types through the library's own API,
// compares every reply, as the library decodes it, with what redis-server
// 7.0 answers, and prints what it found as JSON; the test fails on any
// difference. TestClientLibrariesAgainstRedis runs the same scripts
// against a real redis-server (DYNAKV_VALIDATE_REDIS=1): a script that
// passes there asserts Redis's behaviour.

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// clientLib is one client library and how to run its script.
type clientLib struct {
	name   string   // as the test names it
	script string   // under testdata/clients
	argv   []string // the interpreter and its flags, before the script
	env    []string // added to the environment
	probe  []string // a command that exits 0 when the library is usable
	apt    string   // the Debian packages it needs
	checks int      // at least this many checks: a script that stopped early fails
}

// debianNodePath is where Debian's node-redis installs its modules; the
// nodejs of Debian searches it, the NodeSource build of nodejs does not,
// so the test adds it to NODE_PATH.
const debianNodePath = "/usr/share/nodejs"

// nodeEnv returns NODE_PATH with debianNodePath added.
func nodeEnv() []string {
	p := debianNodePath
	if old := os.Getenv("NODE_PATH"); old != "" {
		p = old + string(os.PathListSeparator) + p
	}
	return []string{"NODE_PATH=" + p}
}

// clientLibs are the libraries, each with its skip probe.
var clientLibs = []clientLib{
	{name: "redis-py", script: "newtypes.py", argv: []string{systemPython},
		probe: []string{systemPython, "-c", "import redis"}, apt: "python3-redis", checks: 104},
	{name: "php-redis", script: "newtypes.php", argv: []string{"php"},
		probe: []string{"php", "-r", `exit(class_exists("Redis") ? 0 : 1);`}, apt: "php-cli php-redis", checks: 59},
	{name: "ruby-redis", script: "newtypes.rb", argv: []string{"ruby"},
		probe: []string{"ruby", "-e", `require "redis"`}, apt: "ruby ruby-redis", checks: 37},
	{name: "node-redis", script: "newtypes.js", argv: []string{"node"}, env: nodeEnv(),
		probe: []string{"node", "-e", `require("redis").createClient`}, apt: "nodejs node-redis", checks: 37},
}

// clientResult is what a script prints.
type clientResult struct {
	Version  string
	Checks   int
	Failures []string
	Skipped  []string
}

// runClientLib runs lib's script against addr, with the pushes that wake
// blocked pops sent through pushAddr, and fails t on any reply that
// differs from Redis's. It skips t, naming the Debian packages, when the
// library is not installed.
func runClientLib(t *testing.T, lib clientLib, addr, pushAddr string) {
	t.Helper()
	if _, err := exec.LookPath(lib.probe[0]); err != nil {
		t.Skipf("%s: %s is not installed (apt-get install %s)", lib.name, lib.probe[0], lib.apt)
	}
	probe := exec.Command(lib.probe[0], lib.probe[1:]...)
	probe.Env = append(os.Environ(), lib.env...)
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("%s is not usable by %s (apt-get install %s): %v %s", lib.name, lib.probe[0], lib.apt, err, out)
	}
	script, err := filepath.Abs(filepath.Join("testdata", "clients", lib.script))
	if err != nil {
		t.Fatal(err)
	}
	// NB: the scripts block at most 20 s (a pop woken by a push) and take a
	// few seconds otherwise.
	ctx, cancel := context.WithTimeout(context.Background(), 2*stepTimeout)
	defer cancel()
	args := append(slices.Clone(lib.argv[1:]), script, addr, pushAddr)
	cmd := exec.CommandContext(ctx, lib.argv[0], args...)
	cmd.Env = append(os.Environ(), lib.env...)
	var stderr syncBuffer
	cmd.Stderr = &stderr
	start := time.Now()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s\n%s", lib.name, lib.script, err, out, strings.TrimSpace(stderr.String()))
	}
	var res clientResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s output %q: %v\n%s", lib.name, out, err, stderr.String())
	}
	t.Logf("%s %s via %s (pushes via %s): %d checks in %v", lib.name, res.Version, addr, pushAddr, res.Checks, time.Since(start).Round(time.Millisecond))
	for _, s := range res.Skipped {
		t.Logf("%s: not checked: %s", lib.name, s)
	}
	for _, f := range res.Failures {
		t.Errorf("%s %s: %s", lib.name, res.Version, f)
	}
	if res.Checks < lib.checks {
		t.Errorf("%s: %d checks ran, want at least %d", lib.name, res.Checks, lib.checks)
	}
}

// TestClientLibrariesNewTypes (heavy tier) runs each client library's
// script (sorted sets, lists with BLPOP/BZPOPMIN woken by a push from
// another connection, HyperLogLog, bitmaps, SORT with BY/GET/STORE,
// MULTI and pipelines mixing them) against a lone node, and against one
// node of a 3-node cluster with the waking pushes sent through another
// node. A library that is not installed skips, naming its Debian package.
func TestClientLibrariesNewTypes(t *testing.T) {
	heavy(t)
	t.Run("lone", func(t *testing.T) {
		p := StartServer(t, "n1")
		for _, lib := range clientLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, p.Addr, p.Addr) })
		}
	})
	t.Run("cluster", func(t *testing.T) {
		procs := StartCluster(t, 3)
		for _, lib := range clientLibs {
			t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, procs[1].Addr, procs[2].Addr) })
		}
	})
}

// TestClientLibrariesAgainstRedis runs the client scripts against a real
// redis-server (standalone, on a port in 16500-16599), proving their
// expectations are Redis's. Skipped unless DYNAKV_VALIDATE_REDIS=1.
func TestClientLibrariesAgainstRedis(t *testing.T) {
	if os.Getenv(validateVar) != "1" {
		t.Skipf("validates the client scripts against redis-server: set %s=1 to run it", validateVar)
	}
	addr := startRedis(t, false)
	for _, lib := range clientLibs {
		t.Run(lib.name, func(t *testing.T) { runClientLib(t, lib, addr, addr) })
	}
}
