package tests

import (
	"context"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestRedisCliTools: redis-cli's monitoring and key-analysis modes and
// its HELP run against a lone `dynakv server` without an error: --stat
// (INFO's memory, clients, stats and keyspace fields), --bigkeys and
// --memkeys (SCAN, TYPE, the size commands, MEMORY USAGE), and HELP
// (COMMAND DOCS with argument trees and groups).
func TestRedisCliTools(t *testing.T) {
	if _, err := exec.LookPath("redis-cli"); err != nil {
		t.Skip("redis-cli not installed (apt-get install redis-tools)")
	}
	p := StartServer(t, "n1")
	c := p.Client(t)
	ctx := ctxT(t)
	for i := range 20 {
		if err := c.Set(ctx, "str:"+strconv.Itoa(i), strings.Repeat("v", i+1), 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	c.HSet(ctx, "hash", "a", "1", "b", "2", "c", "3")
	c.SAdd(ctx, "set", "x", "y")
	_, port, _ := strings.Cut(p.Addr, ":")
	cli := func(timeout time.Duration, args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		name, argv := "redis-cli", append([]string{"-p", port}, args...)
		if sb, err := exec.LookPath("stdbuf"); err == nil { // line-buffered, so --stat's lines survive its end
			name, argv = sb, append([]string{"-oL", "redis-cli"}, argv...)
		}
		out, err := exec.CommandContext(ctx, name, argv...).CombinedOutput()
		return string(out), err
	}

	// --stat runs until stopped: 1.5 s at -i 0.1, then killed.
	out, _ := cli(1500*time.Millisecond, "--stat", "-i", "0.1")
	if !strings.Contains(out, "keys       mem      clients") || !regexp.MustCompile(`(?m)^22\s+\d+(\.\d+)?[KMG]?\s+\d+\s+0\s+\d+`).MatchString(out) {
		t.Errorf("redis-cli --stat:\n%s", out)
	}
	if strings.Contains(strings.ToLower(out), "err") {
		t.Errorf("redis-cli --stat reported an error:\n%s", out)
	}
	t.Logf("redis-cli --stat, first lines:\n%s", firstLines(out, 3))

	out, err := cli(20*time.Second, "--bigkeys")
	if err != nil || !strings.Contains(out, "Sampled 22 keys in the keyspace!") || !strings.Contains(out, `Biggest   hash found '"hash"' has 3 fields`) || !strings.Contains(out, `Biggest string found '"str:19"' has 20 bytes`) {
		t.Errorf("redis-cli --bigkeys: %v\n%s", err, out)
	}
	out, err = cli(20*time.Second, "--memkeys")
	if err != nil || !strings.Contains(out, "Sampled 22 keys in the keyspace!") || !regexp.MustCompile(`Biggest string found '"str:\d+"' has \d+ bytes`).MatchString(out) {
		t.Errorf("redis-cli --memkeys: %v\n%s", err, out)
	}
	t.Logf("redis-cli --memkeys, summary:\n%s", lastLines(out, 9))

	out, err = cli(10*time.Second, "HELP", "SET")
	if err != nil || !strings.Contains(out, "key value [NX|XX] [GET] [EX seconds|PX milliseconds") {
		t.Errorf("redis-cli HELP SET: %v\n%s", err, out)
	}
	for _, g := range []string{"@string", "@server", "@connection", "@cluster"} {
		if out, err := cli(10*time.Second, "HELP", g); err != nil || out == "" {
			t.Errorf("redis-cli HELP %s: %v\n%s", g, err, out)
		}
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], "\n")
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
