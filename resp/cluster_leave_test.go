package resp

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// leaverCluster is a staticCluster that can leave.
type leaverCluster struct {
	*staticCluster
	err    error
	called int
}

func (l *leaverCluster) Leave(context.Context) error {
	l.called++
	return l.err
}

func TestClusterLeave(t *testing.T) {
	lc := &leaverCluster{staticCluster: threeNodes()}
	ts := startServer(t, Config{Cluster: lc, ClusterSecret: testSecret})
	raw := dialRaw(t, ts.addr)
	if got := raw.do("CLUSTER", "LEAVE"); got != "+OK\r\n" || lc.called != 1 {
		t.Errorf("CLUSTER LEAVE: %q (called %d)", got, lc.called)
	}
	if got := raw.do("CLUSTER", "LEAVE", "now"); !strings.HasPrefix(got, "-ERR wrong number of arguments") {
		t.Errorf("CLUSTER LEAVE now: %q", got)
	}
	lc.err = errors.New("node: cannot leave: ring: no joined members")
	if got := raw.do("CLUSTER", "LEAVE"); got != "-ERR node: cannot leave: ring: no joined members\r\n" {
		t.Errorf("CLUSTER LEAVE refused: %q", got)
	}
	// A Cluster that cannot leave, and no cluster at all.
	ts = startServer(t, Config{Cluster: threeNodes(), ClusterSecret: testSecret})
	if got := dialRaw(t, ts.addr).do("CLUSTER", "LEAVE"); got != "-ERR CLUSTER LEAVE is not supported by this node\r\n" {
		t.Errorf("CLUSTER LEAVE without Leaver: %q", got)
	}
	ts = startServer(t, Config{})
	if got := dialRaw(t, ts.addr).do("CLUSTER", "LEAVE"); got != "-"+msgNoCluster+"\r\n" {
		t.Errorf("CLUSTER LEAVE without cluster: %q", got)
	}
}
