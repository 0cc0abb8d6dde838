package resp

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// batchReplica is a mapReplica that merges batches.
type batchReplica struct{ *mapReplica }

func (r batchReplica) MergeBatch(ctx context.Context, entries []replica.Entry) error {
	for _, e := range entries {
		if err := r.Merge(ctx, e.Key, e.Object); err != nil {
			return err
		}
	}
	return nil
}

func TestPeerMergeBatch(t *testing.T) {
	peer := batchReplica{newMapReplica("n1")}
	ts := startServer(t, Config{ClusterSecret: testSecret, Peer: peer})
	r := newRemote(t, ts.addr, testSecret)
	a := dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Timestamp: 7, Value: []byte("a")})
	b := dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 2}, Timestamp: 8, Value: []byte("b\r\n")})
	if err := r.MergeBatch(bg, []replica.Entry{{Key: []byte("a"), Object: a}, {Key: []byte("b"), Object: b}}); err != nil {
		t.Fatalf("MergeBatch: %v", err)
	}
	if !dvv.Equal(peer.object("a"), a) || !dvv.Equal(peer.object("b"), b) {
		t.Fatalf("merged objects = %+v, %+v", peer.object("a"), peer.object("b"))
	}
	// Bad input changes nothing.
	for _, tc := range []struct {
		args []any
		want string
	}{
		{[]any{replica.CmdMergeBatch, "c", a.Encode(), "d"}, msgSyntax},
		{[]any{replica.CmdMergeBatch, "c", a.Encode(), "d", "junk"}, msgCorruptObject},
	} {
		if err := r.Do(bg, tc.args...).Err(); err == nil || err.Error() != tc.want {
			t.Errorf("%q: %v, want %s", tc.args, err, tc.want)
		}
	}
	if !peer.object("c").IsZero() || !peer.object("d").IsZero() {
		t.Error("a refused batch merged something")
	}
	// Only peers may call it, and only a replica that merges batches serves it.
	raw := dialRaw(t, ts.addr)
	if got := raw.do("DKV.MERGEN", "k", string(a.Encode())); got != "-NOPERM this command is reserved for cluster peers\r\n" {
		t.Errorf("DKV.MERGEN from a client: %q", got)
	}
	plain := startServer(t, Config{ClusterSecret: testSecret, Peer: newMapReplica("n1")})
	if err := newRemote(t, plain.addr, testSecret).MergeBatch(bg, []replica.Entry{{Key: []byte("a"), Object: a}}); err == nil || !strings.Contains(err.Error(), "cannot merge batches") {
		t.Errorf("MergeBatch on a replica without batches: %v", err)
	}
}

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
	ts := startServer(t, Config{Cluster: lc, ClusterSecret: testSecret, Peer: newMapReplica("n1")})
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
	ts = startServer(t, Config{Cluster: threeNodes(), ClusterSecret: testSecret, Peer: newMapReplica("n1")})
	if got := dialRaw(t, ts.addr).do("CLUSTER", "LEAVE"); got != "-ERR CLUSTER LEAVE is not supported by this node\r\n" {
		t.Errorf("CLUSTER LEAVE without Leaver: %q", got)
	}
	ts = startServer(t, Config{})
	if got := dialRaw(t, ts.addr).do("CLUSTER", "LEAVE"); got != "-"+msgNoCluster+"\r\n" {
		t.Errorf("CLUSTER LEAVE without cluster: %q", got)
	}
}
