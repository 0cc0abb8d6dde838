package node

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/ring/member/membertest"
)

// TestStartFailureReturnsError: a node that cannot start (its address is
// taken) returns the error and releases what it acquired; it does not
// panic in its own cleanup.
func TestStartFailureReturnsError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen = "n1", t.TempDir(), ln.Addr().String()
	n, err := Start(cfg)
	if err == nil || n != nil {
		t.Fatalf("Start on a taken address = %v, %v; want an error", n, err)
	}
}

// TestStartLoneNodeDefaults: a node from DefaultConfig with only an ID and
// a data directory starts (N = 1 out of the box, no cluster secret) and
// its INFO shows the composed sections: redis_mode cluster (its RESP
// server has the cluster view, which EnsureDefaults must not pre-empt with
// "standalone"), N = R = W = 1, the transfer section and its alias.
func TestStartLoneNodeDefaults(t *testing.T) {
	gossip := membertest.NewNetwork()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen = "n1", t.TempDir(), "127.0.0.1:0"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.GossipTuning = func(mc *member.Config) { mc.Transport = gossip.MustListen(cfg.Gossip) }
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	c, err := net.Dial("tcp", n.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	info := func(section string) string {
		fmt.Fprintf(c, "INFO %s\r\n", section)
		r := bufio.NewReader(c)
		head, err := r.ReadString('\n')
		if err != nil || !strings.HasPrefix(head, "$") {
			t.Fatalf("INFO %s: %q, %v", section, head, err)
		}
		size, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
		body := make([]byte, size+2)
		if _, err := io.ReadFull(r, body); err != nil {
			t.Fatal(err)
		}
		return string(body)
	}
	for section, want := range map[string][]string{
		"server":      {"redis_mode:cluster\r\n"},
		"replication": {"replicas_n:1\r\n", "read_quorum:1\r\n", "write_quorum:1\r\n"},
		"cluster":     {"ring_members:1\r\n", "nodes_alive:1\r\n"},
		"transfer":    {"transfer_partitions_moving:0\r\n", "leave_status:no\r\n"},
		"handoff":     {"handoff_partitions_moving:0\r\n"},
	} {
		got := info(section)
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("INFO %s lacks %q:\n%s", section, w, got)
			}
		}
	}
}

// TestStartContextStopsWhileJoining: a node waiting to be admitted to a
// ring (its --join address answers nothing, --join-timeout a minute)
// stops when its start's context is cancelled: StartContext returns an
// error wrapping context.Canceled, and no node.
func TestStartContextStopsWhileJoining(t *testing.T) {
	gossip := membertest.NewNetwork()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen = "n2", t.TempDir(), "127.0.0.1:0"
	cfg.ClusterSecret = "0123456789abcdef0123456789abcdef"
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Join, cfg.JoinTimeout = []string{"127.0.0.1:1"}, time.Minute
	cfg.GossipTuning = func(mc *member.Config) { mc.Transport = gossip.MustListen(cfg.Gossip) }
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		n   *Node
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, err := StartContext(ctx, cfg)
		done <- result{n, err}
	}()
	cancel()
	select {
	case r := <-done:
		if r.n != nil || !errors.Is(r.err, context.Canceled) {
			t.Fatalf("StartContext cancelled while joining = %v, %v; want no node and context.Canceled", r.n, r.err)
		}
	case <-time.After(cfg.JoinTimeout / 2):
		t.Fatal("StartContext went on waiting for the join after its context was cancelled")
	}
}
