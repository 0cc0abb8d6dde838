package peerserver_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// TestPeerCommands: DKV.GET, DKV.MERGE and DKV.HINT round-trip objects
// through the real client, a replica's error comes back as an error, a
// wrong secret is refused, a plain client may not call them, and corrupt
// objects change nothing.
func TestPeerCommands(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		t.Run("requirepass="+pass, func(t *testing.T) {
			local := newMapReplica("n1")
			addr := startServer(t, resp.Config{ClusterSecret: testSecret, RequirePass: pass}, peer.Local{Store: local})
			r := newClient(t, addr, testSecret)

			if o, err := r.Get(bg, []byte("absent")); err != nil || !o.IsZero() {
				t.Fatalf("Get absent = %+v, %v", o, err)
			}
			obj := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Timestamp: 7, Value: []byte("v\x00\r\n")}))
			if err := r.Merge(bg, []byte("k"), obj); err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if !crdt.Equal(local.object("k"), obj) {
				t.Fatalf("merged object = %+v", local.object("k"))
			}
			got, err := r.Get(bg, []byte("k"))
			if err != nil || !crdt.Equal(got, obj) {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			if err := r.PutHint(bg, "n3", []byte("h"), obj); err != nil || !crdt.Equal(local.hint("n3", "h"), obj) {
				t.Fatalf("PutHint: %v, stored %+v", err, local.hint("n3", "h"))
			}
			local.mu.Lock()
			local.err = errors.New("disk on fire")
			local.mu.Unlock()
			if _, err := r.Get(bg, []byte("k")); !errors.Is(err, peer.ErrRemote) || !strings.Contains(err.Error(), "ERR disk on fire") {
				t.Errorf("Get with a failing replica: %v", err)
			}
			local.mu.Lock()
			local.err = nil
			local.mu.Unlock()

			if _, err := newClient(t, addr, "guess").Get(bg, []byte("k")); !errors.Is(err, peer.ErrRemote) || !strings.Contains(err.Error(), "WRONGPASS invalid cluster secret") {
				t.Errorf("Get with a wrong secret: %v", err)
			}

			raw := dialRaw(t, addr)
			if pass != "" {
				raw.do("AUTH", pass)
			}
			for _, args := range [][]string{{"DKV.GET", "k"}, {"dkv.merge", "k", string(obj.Encode())}, {"DKV.MERGE", "x", "junk"}, {"DKV.HINT", "n3", "x", string(obj.Encode())}} {
				if got := raw.do(args...); got != "-NOPERM this command is reserved for cluster peers\r\n" {
					t.Errorf("%q from a client: %q", args[0], got)
				}
			}
			if !local.object("x").IsZero() || !local.hint("n3", "x").IsZero() {
				t.Error("a client's DKV.MERGE or DKV.HINT was applied")
			}

			raw = dialRaw(t, addr)
			if got := raw.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
				t.Fatalf("DKV.AUTH: %q", got)
			}
			if got := raw.do("DKV.GET"); got != "-ERR wrong number of arguments for 'dkv.get' command\r\n" {
				t.Errorf("DKV.GET arity: %q", got)
			}
			for _, junk := range []string{"", "junk", "\x01\x05", string(obj.Encode()) + "x"} {
				if got := raw.do("DKV.MERGE", "x", junk); got != "-ERR corrupt object\r\n" {
					t.Errorf("DKV.MERGE %q: %q", junk, got)
				}
				if got := raw.do("DKV.HINT", "n3", "x", junk); got != "-ERR corrupt object\r\n" {
					t.Errorf("DKV.HINT %q: %q", junk, got)
				}
			}
			if !local.object("x").IsZero() || !local.hint("n3", "x").IsZero() {
				t.Error("a corrupt DKV.MERGE or DKV.HINT was applied")
			}
		})
	}
}

// TestPeerScan: DKV.SCAN pages through a slot range through the client,
// and refuses bad arguments.
func TestPeerScan(t *testing.T) {
	local := newMapReplica("n1")
	want := map[string]bool{}
	for i := range 50 {
		k := fmt.Sprintf("k%d", i)
		local.objs[k] = crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 1}, Value: []byte(k)}))
		if ring.Slot([]byte(k)) < 8192 {
			want[k] = true
		}
	}
	addr := startServer(t, resp.Config{ClusterSecret: testSecret}, peer.Local{Store: local})
	r := newClient(t, addr, testSecret)
	got := map[string]bool{}
	var cur peer.Cursor
	for pages := 0; ; pages++ {
		next, entries, err := r.ScanRange(bg, 0, 8192, cur, 7)
		if err != nil || pages > 50 {
			t.Fatalf("ScanRange: %v after %d pages", err, pages)
		}
		for _, e := range entries {
			if string(asDVV(e.Object).Siblings[0].Value) != string(e.Key) {
				t.Errorf("entry %q: %+v", e.Key, e.Object)
			}
			got[string(e.Key)] = true
		}
		if next == 0 {
			break
		}
		cur = next
	}
	if len(got) != len(want) || len(want) == 0 {
		t.Errorf("scanned %d keys, want %d", len(got), len(want))
	}
	raw := dialRaw(t, addr)
	raw.do("DKV.AUTH", testSecret)
	for _, tc := range [][2]string{
		{"DKV.SCAN 0 16385 0 10", "-ERR invalid slot range\r\n"},
		{"DKV.SCAN 5 4 0 10", "-ERR invalid slot range\r\n"},
		{"DKV.SCAN x 4 0 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.SCAN 01 4 0 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.SCAN 0 4 -1 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.SCAN 0 4 0 0", "-ERR syntax error\r\n"},
		{"DKV.SCAN 0 0 0 10", "*1\r\n$1\r\n0\r\n"},
	} {
		if got := raw.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s = %q, want %q", tc[0], got, tc[1])
		}
	}
	if got := dialRaw(t, addr).do("DKV.SCAN", "0", "1", "0", "1"); got != "-NOPERM this command is reserved for cluster peers\r\n" {
		t.Errorf("DKV.SCAN from a client: %q", got)
	}
}

// TestPeerHintGet: DKV.HINTGET returns the merge of the hints a node holds
// for a key, for every target, through the client; nothing for a key
// without hints; and it is for peers only.
func TestPeerHintGet(t *testing.T) {
	local := newMapReplica("n1")
	a := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 3}, Timestamp: 7, Value: []byte("a")}))
	b := crdt.FromDVV(dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n4", Counter: 1}, Timestamp: 8, Value: []byte("b")}))
	local.hints["n3/k"], local.hints["n5/k"], local.hints["n3/other"] = a, b, b
	addr := startServer(t, resp.Config{ClusterSecret: testSecret}, peer.Local{Store: local})
	r := newClient(t, addr, testSecret)
	if got, err := r.HintsFor(bg, []byte("k")); err != nil || !crdt.Equal(got, crdt.Merge(a, b)) {
		t.Errorf("HintsFor(k) = %+v, %v", got, err)
	}
	if got, err := r.HintsFor(bg, []byte("none")); err != nil || !got.IsZero() {
		t.Errorf("HintsFor(none) = %+v, %v", got, err)
	}
	if got := dialRaw(t, addr).do("DKV.HINTGET", "k"); !strings.HasPrefix(got, "-NOPERM") {
		t.Errorf("DKV.HINTGET without the cluster secret = %q", got)
	}
}
