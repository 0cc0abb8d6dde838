package peerserver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
)

// TestPeerAntiEntropyCommands: DKV.MERGEMANY, DKV.RANGE and DKV.TREE
// round-trip through the client against a real store and its trees
// (peer.Local), and refuse bad input without changing anything.
func TestPeerAntiEntropyCommands(t *testing.T) {
	layout, err := antientropy.NewLayout(4, 16)
	if err != nil {
		t.Fatal(err)
	}
	trees := antientropy.NewTrees(layout)
	store, err := replica.Open(replica.Config{Dir: "/s", FS: vfs.NewMem(), NodeID: "n1", SweepInterval: -1, Observer: trees})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	addr := startServer(t, resp.Config{ClusterSecret: testSecret}, peer.Local{Store: store, Trees: trees})
	remote := newClient(t, addr, testSecret)
	var entries []peer.Entry
	for i := range 300 {
		k := fmt.Appendf(nil, "k%d", i)
		entries = append(entries, peer.Entry{Key: k, Object: crdt.FromDVV(dvv.Update(dvv.Object{}, nil,
			dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: uint64(i + 1)}, Value: k}))})
	}
	if err := remote.MergeMany(bg, entries); err != nil {
		t.Fatalf("MergeMany: %v", err)
	}
	got := 0
	for p := range 4 {
		lo, hi := layout.LeafRange(p, 0, layout.Leaves())
		for rs := []replica.Range{{From: lo, To: hi}}; len(rs) > 0; {
			next, es, err := remote.ScanRanges(bg, rs, 17)
			if err != nil {
				t.Fatalf("ScanRanges: %v", err)
			}
			for _, e := range es {
				if q, _ := layout.Locate(peer.CursorOf(e.Key)); q != p || string(asDVV(e.Object).Siblings[0].Value) != string(e.Key) {
					t.Fatalf("partition %d scan returned %q (partition %d) = %+v", p, e.Key, q, e.Object)
				}
			}
			got += len(es)
			if next == 0 {
				break
			}
			rs = replica.ResumeRanges(rs, next)
		}
		for depth := range 5 {
			want, _ := trees.Level(p, depth, 0, 1<<depth)
			have, err := remote.TreeLevel(bg, p, layout.Leaves(), depth, 0, 1<<depth)
			if err != nil || fmt.Sprint(have) != fmt.Sprint(want) {
				t.Fatalf("TreeLevel(%d, %d) = %v %v, want %v", p, depth, have, err, want)
			}
		}
	}
	if got != len(entries) {
		t.Fatalf("scanned %d keys of %d merged", got, len(entries))
	}
	raw := dialRaw(t, addr)
	raw.do("DKV.AUTH", testSecret)
	for _, tc := range [][2]string{
		{"DKV.MERGEMANY a", "-ERR wrong number of arguments for 'dkv.mergemany' command\r\n"},
		{"DKV.MERGEMANY a x b", "-ERR wrong number of arguments for 'dkv.mergemany' command\r\n"},
		{"DKV.MERGEMANY new1 garbage", "-ERR corrupt object\r\n"},
		{"DKV.RANGE x 0 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.RANGE 0 0 0", "-ERR syntax error\r\n"},
		{"DKV.RANGE 10 0", "-ERR wrong number of arguments for 'dkv.range' command\r\n"},
		{"DKV.RANGE 10 0 5 9", "-ERR syntax error\r\n"},
		{"DKV.RANGE 10 5 3", "-ERR ranges must be non-empty, sorted and disjoint\r\n"},
		{"DKV.RANGE 10 0 5 4 9", "-ERR ranges must be non-empty, sorted and disjoint\r\n"},
		{"DKV.RANGE 10 0 0 4 9", "-ERR ranges must be non-empty, sorted and disjoint\r\n"},
		{"DKV.RANGE 10 0 5 5 6", "*1\r\n$1\r\n0\r\n"},
		{"DKV.TREE 0 16 0 0 1 2", "-ERR wrong number of arguments for 'dkv.tree' command\r\n"},
		{"DKV.TREE 4 16 0 0 1", "-ERR tree shape mismatch: asked partition 4 with 16 leaves, this node has 4 partitions of 16 leaves\r\n"},
		{"DKV.TREE 0 32 0 0 1", "-ERR tree shape mismatch: asked partition 0 with 32 leaves, this node has 4 partitions of 16 leaves\r\n"},
		{"DKV.TREE 0 16 5 0 1", "-ERR antientropy: level range out of bounds: depth 5 nodes [0, 1) in a tree of depth 4\r\n"},
		{"DKV.TREE 0 16 1 1 0", "-ERR invalid tree node range\r\n"},
		{"DKV.TREE 0 16 x 0 1", "-ERR value is not an integer or out of range\r\n"},
	} {
		if got := raw.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s = %q, want %q", tc[0], got, tc[1])
		}
	}
	if o, _ := store.Get(bg, []byte("new1")); !o.IsZero() {
		t.Errorf("a refused DKV.MERGEMANY stored something: %+v", o)
	}
	if got := dialRaw(t, addr).do("DKV.TREE", "0", "16", "0", "0", "1"); got != "-NOPERM this command is reserved for cluster peers\r\n" {
		t.Errorf("DKV.TREE from a client: %q", got)
	}
	// A node without trees says anti-entropy is off.
	plain := startServer(t, resp.Config{ClusterSecret: testSecret}, peer.Local{Store: store})
	if _, err := newClient(t, plain, testSecret).TreeLevel(bg, 0, 16, 0, 0, 1); !errors.Is(err, peer.ErrRemote) ||
		!strings.Contains(err.Error(), "anti-entropy is off") {
		t.Errorf("TreeLevel on a node without trees: %v", err)
	}
}
