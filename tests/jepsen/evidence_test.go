package jepsen

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/replica/dvv"
)

// errEvidence reports that the evidence of a failing run could not be
// written in full.
var errEvidence = errors.New("jepsen: evidence not written in full")

// evidenceNodes is what writeEvidence reads from a cluster: each node's
// name (n1…), its client, its full log (every incarnation's; nil when
// the harness has none) and a key's replicas' names (nil when unknown).
type evidenceNodes struct {
	names    []string
	clients  []*redis.Client
	logs     func(i int) ([]byte, error)
	replicas func(key string) []string
}

// evidenceDir makes and returns the directory for the evidence of the
// failing run of seed: $DYNAKV_ARTIFACTS/jepsen-<seed> when that is set
// (env reads the environment), else jepsen-<seed> in artifactDir's
// directory when artifactDir is not nil (go test's -artifacts flag, as
// .ci/run gives it: testArtifactDir), else next to $DYNAKV_JEPSEN_OUT
// when that is set, else a fresh directory under the system's temporary
// one, which stays after the test.
func evidenceDir(seed uint64, env func(string) string, artifactDir func() string) (string, error) {
	name := fmt.Sprintf("jepsen-%d", seed)
	var dir string
	switch {
	case env("DYNAKV_ARTIFACTS") != "":
		dir = filepath.Join(env("DYNAKV_ARTIFACTS"), name)
	case artifactDir != nil:
		dir = filepath.Join(artifactDir(), name)
	case env("DYNAKV_JEPSEN_OUT") != "":
		dir = filepath.Join(filepath.Dir(env("DYNAKV_JEPSEN_OUT")), name)
	default:
		return os.MkdirTemp("", "dynakv-"+name+"-")
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// testArtifactDir returns t.ArtifactDir when go test runs with
// -artifacts (whose directory outlives the test), else nil.
func testArtifactDir(t *testing.T) func() string {
	if f := flag.Lookup("test.artifacts"); f != nil && f.Value.String() == "true" {
		return t.ArtifactDir
	}
	return nil
}

// writeEvidence writes into dir what a person needs to diagnose sum's
// anomalies, while the cluster still runs:
//
//   - summary.txt: sum's text;
//   - keys.txt: for each anomalous key (every workload's Anomalies and
//     the keys whose replicas differ), the workload's history of it
//     (historian), its quorum read (VGET key) and every node's local copy
//     (VGET key LOCAL: the live siblings and the causal context, decoded);
//   - n1.log…: each node's log, when nodes.logs is set.
//
// It writes what it can and returns the errors of the rest, wrapping
// errEvidence.
func writeEvidence(ctx context.Context, dir string, sum *Summary, wls []Workload, nodes evidenceNodes) error {
	var errs []error
	write := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			errs = append(errs, err)
		}
	}
	write("summary.txt", []byte(sum.String()))

	var b strings.Builder
	fmt.Fprintf(&b, "dynakv fault suite (%s), seed %d: the anomalous keys on every node\n", sum.Harness, sum.Seed)
	b.WriteString("VGET key replies [token, [values…]]; the token is decoded as context {actor:counter…} and via (the replica that answered first).\n")
	b.WriteString("VGET LOCAL shows a node's own copy: its live siblings and context (not its tombstones).\n")
	byName := map[string]Workload{}
	for _, w := range wls {
		byName[w.Name()] = w
	}
	sum.mu.Lock()
	var results []Result
	for _, n := range sum.order {
		results = append(results, *sum.Results[n])
	}
	replicaKeys := slices.Clone(sum.ReplicaKeys)
	sum.mu.Unlock()
	var anomalies []KeyAnomaly
	var owners []Workload
	for _, r := range results {
		for _, a := range r.Anomalies {
			anomalies, owners = append(anomalies, a), append(owners, byName[r.Workload])
		}
		if r.MoreAnomalies > 0 {
			fmt.Fprintf(&b, "(%s: %d more anomalies not named)\n", r.Workload, r.MoreAnomalies)
		}
	}
	for _, k := range replicaKeys {
		anomalies, owners = append(anomalies, KeyAnomaly{Kind: "replicas differ", Key: k}), append(owners, nil)
	}
	read := map[string]bool{}
	for i, a := range anomalies {
		fmt.Fprintf(&b, "\n== %s\n", a)
		if h, ok := owners[i].(historian); ok {
			for _, l := range strings.Split(h.History(a), "\n") {
				b.WriteString("history: " + l + "\n")
			}
		}
		if read[a.Key] {
			fmt.Fprintf(&b, "(%s's replies above)\n", a.Key)
			continue
		}
		read[a.Key] = true
		if nodes.replicas != nil {
			fmt.Fprintf(&b, "replicas of %s: %s\n", a.Key, strings.Join(nodes.replicas(a.Key), " "))
		}
		for j, c := range nodes.clients {
			fmt.Fprintf(&b, "VGET %s on %s: %s\n", a.Key, nodes.names[j], vgetRaw(ctx, c, a.Key, false))
		}
		for j, c := range nodes.clients {
			fmt.Fprintf(&b, "VGET %s LOCAL on %s: %s\n", a.Key, nodes.names[j], vgetRaw(ctx, c, a.Key, true))
		}
	}
	if len(anomalies) == 0 {
		b.WriteString("\nno key named: the failure is not a workload's (see summary.txt)\n")
	}
	write("keys.txt", []byte(b.String()))

	if nodes.logs != nil {
		for i, n := range nodes.names {
			l, err := nodes.logs(i)
			if err != nil {
				errs = append(errs, fmt.Errorf("log of %s: %w", n, err))
				l = append(l, fmt.Sprintf("\n(log incomplete: %v)\n", err)...)
			}
			write(n+".log", l)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errEvidence, err)
	}
	return nil
}

// vgetRaw runs VGET key [LOCAL] through c and renders the raw reply, its
// token decoded.
func vgetRaw(ctx context.Context, c *redis.Client, key string, local bool) string {
	args := []any{"VGET", key}
	if local {
		args = append(args, "LOCAL")
	}
	v, err := c.Do(ctx, args...).Result()
	if err != nil {
		return "error: " + err.Error()
	}
	s := renderReply(v)
	if xs, ok := v.([]any); ok && len(xs) == 2 {
		if tok, ok := xs[0].(string); ok {
			vv, via, err := dvv.DecodeTokenVia(tok)
			if err != nil {
				return s + "  (token: " + err.Error() + ")"
			}
			s += "  context " + renderVV(vv)
			if via != "" {
				s += " via " + via
			}
		}
	}
	return s
}

// renderReply renders a RESP reply as go-redis decodes it: strings
// quoted, arrays in brackets, nil as (nil).
func renderReply(v any) string {
	switch x := v.(type) {
	case nil:
		return "(nil)"
	case string:
		return fmt.Sprintf("%q", x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = renderReply(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	default:
		return fmt.Sprint(x)
	}
}

// renderVV renders a version vector as {actor:counter …}, sorted.
func renderVV(v dvv.VV) string {
	actors := make([]string, 0, len(v))
	for a := range v {
		actors = append(actors, a)
	}
	slices.Sort(actors)
	parts := make([]string, len(actors))
	for i, a := range actors {
		parts[i] = fmt.Sprintf("%s:%d", a, v[a])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// TestEvidenceWritten: a kv history with a resurrected and a lost key
// (written behind the workload's back on a healthy simulated cluster, as
// TestCheckersCatchAnomalies does) and a key whose replicas differ make
// writeEvidence write the summary, each key's history and its VGET and
// VGET LOCAL replies from every node, and every node's log.
func TestEvidenceWritten(t *testing.T) {
	ctx := context.Background()
	c, cl := healthySim(t)
	rng := rand.New(rand.NewPCG(1, 3))
	kv := newKV()
	for i := range 60 {
		if err := kv.Op(withSender(ctx, i%4, i%len(c.nodes)), rng, cl); err != nil {
			t.Fatalf("kv on a healthy cluster: %v", err)
		}
		c.settle()
	}
	var live, gone *kvKey
	for _, k := range kv.keys {
		switch {
		case k.del == notTried && live == nil:
			live = k
		case k.del == acked && k.delReply == 1 && gone == nil:
			gone = k
		}
	}
	if live == nil || gone == nil {
		t.Fatal("kv: the history has no live key or no deleted key")
	}
	cl.Del(ctx, live.name)
	cl.Set(ctx, gone.name, gone.name, 0)
	c.settle()
	sum := newSummary("simulation", 7)
	if sum.add([]Result{kv.Check(ctx, cl)}) {
		t.Fatal("kv: the tampered history passes")
	}
	sum.Replica, sum.ReplicaKeys = 1, []string{"other:0:0"}

	nodes := evidenceNodes{
		logs:     func(i int) ([]byte, error) { return fmt.Appendf(nil, "log of node %d\n", i+1), nil },
		replicas: func(key string) []string { return c.replicas([]byte(key)) },
	}
	for _, n := range c.nodes {
		nodes.names = append(nodes.names, n.id)
		nodes.clients = append(nodes.clients, n.client)
	}
	dir := t.TempDir()
	if err := writeEvidence(ctx, dir, sum, []Workload{kv}, nodes); err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if s := read("summary.txt"); !strings.Contains(s, "verdict: FAIL") || !strings.Contains(s, "keys: ") {
		t.Errorf("summary.txt has no failing verdict or no keys:\n%s", s)
	}
	keys := read("keys.txt")
	want := []string{
		"== resurrected " + gone.name + "\n",
		"history: SET " + gone.name + ": acknowledged, client ",
		"history: DEL " + gone.name + ": acknowledged (replied 1), client ",
		"== lost " + live.name + "\n",
		"history: DEL: never sent",
		"== replicas differ other:0:0\n",
		fmt.Sprintf("replicas of %s: %s\n", gone.name, strings.Join(c.replicas([]byte(gone.name)), " ")),
		fmt.Sprintf("VGET %s on %s: [", gone.name, nodes.names[0]),
	}
	for _, n := range nodes.names {
		// Every node's own copy, the resurrected value among its
		// siblings on the replicas, and its context decoded.
		want = append(want, fmt.Sprintf("VGET %s LOCAL on %s: [", gone.name, n))
	}
	for _, w := range want {
		if !strings.Contains(keys, w) {
			t.Errorf("keys.txt lacks %q", w)
		}
	}
	if n := strings.Count(keys, fmt.Sprintf("[%q]", gone.name)); n < 3 {
		t.Errorf("keys.txt shows %s's value %d times, want its quorum reads and at least its replicas' copies (3+)", gone.name, n)
	}
	if !strings.Contains(keys, "context {") {
		t.Errorf("keys.txt decodes no context")
	}
	for i, n := range nodes.names {
		if l := read(n + ".log"); l != fmt.Sprintf("log of node %d\n", i+1) {
			t.Errorf("%s.log = %q", n, l)
		}
	}
	if t.Failed() || testing.Verbose() {
		t.Logf("keys.txt:\n%s", keys)
	}
}

// TestEvidenceDir: the evidence goes under $DYNAKV_ARTIFACTS, else the
// test's artifact directory, else next to $DYNAKV_JEPSEN_OUT, else a
// fresh temporary directory, and each is made.
func TestEvidenceDir(t *testing.T) {
	base := t.TempDir()
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	art := func() string { return filepath.Join(base, "art") }
	for _, c := range []struct {
		env  map[string]string
		art  func() string
		want string
	}{
		{map[string]string{"DYNAKV_ARTIFACTS": filepath.Join(base, "a"), "DYNAKV_JEPSEN_OUT": filepath.Join(base, "o", "sum.txt")}, art, filepath.Join(base, "a", "jepsen-7")},
		{map[string]string{"DYNAKV_JEPSEN_OUT": filepath.Join(base, "o", "sum.txt")}, art, filepath.Join(base, "art", "jepsen-7")},
		{map[string]string{"DYNAKV_JEPSEN_OUT": filepath.Join(base, "o", "sum.txt")}, nil, filepath.Join(base, "o", "jepsen-7")},
	} {
		got, err := evidenceDir(7, env(c.env), c.art)
		if err != nil || got != c.want {
			t.Errorf("evidenceDir(%v) = %q, %v; want %q", c.env, got, err, c.want)
		}
		if st, err := os.Stat(got); err != nil || !st.IsDir() {
			t.Errorf("%s not made: %v", got, err)
		}
	}
	got, err := evidenceDir(7, env(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(got)
	if !strings.HasPrefix(got, filepath.Join(os.TempDir(), "dynakv-jepsen-7-")) {
		t.Errorf("evidenceDir with nothing set = %q, want a fresh directory under %s", got, os.TempDir())
	}
}
