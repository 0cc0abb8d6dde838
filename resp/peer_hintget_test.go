package resp

import (
	"context"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/replica/dvv"
)

// hintReplica is a mapReplica that also holds hints by key.
type hintReplica struct {
	*mapReplica
	hints map[string]dvv.Object
}

func (r hintReplica) HintsFor(_ context.Context, key []byte) (dvv.Object, error) {
	return r.hints[string(key)], nil
}

// TestPeerHintGet: DKV.HINTGET returns the hints a node holds for a key
// through replica.Remote.HintsFor, nothing for a key without hints, and an
// error from a node that keeps no hints.
func TestPeerHintGet(t *testing.T) {
	obj := dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 3}, Timestamp: 7, Value: []byte("v")})
	peer := hintReplica{newMapReplica("n1"), map[string]dvv.Object{"k": obj}}
	ts := startServer(t, Config{ClusterSecret: testSecret, Peer: peer})
	r := newRemote(t, ts.addr, testSecret)
	if got, err := r.HintsFor(bg, []byte("k")); err != nil || !dvv.Equal(got, obj) {
		t.Errorf("HintsFor(k) = %+v, %v", got, err)
	}
	if got, err := r.HintsFor(bg, []byte("none")); err != nil || !got.IsZero() {
		t.Errorf("HintsFor(none) = %+v, %v", got, err)
	}
	plain := startServer(t, Config{ClusterSecret: testSecret, Peer: newMapReplica("n1")})
	if _, err := newRemote(t, plain.addr, testSecret).HintsFor(bg, []byte("k")); err == nil || !strings.Contains(err.Error(), "keeps no hints") {
		t.Errorf("HintsFor on a node without hints: %v", err)
	}
	raw := dialRaw(t, ts.addr)
	if got := raw.do("DKV.HINTGET", "k"); !strings.HasPrefix(got, "-NOPERM") {
		t.Errorf("DKV.HINTGET without the cluster secret = %q", got)
	}
}
