package resp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/ring"
)

// mapReplica is an in-memory replica.Replica: the Peer of a test server.
type mapReplica struct {
	id   string
	mu   sync.Mutex
	objs map[string]dvv.Object
	err  error
}

func newMapReplica(id string) *mapReplica {
	return &mapReplica{id: id, objs: map[string]dvv.Object{}}
}

func (r *mapReplica) ID() string { return r.id }

func (r *mapReplica) Get(_ context.Context, key []byte) (dvv.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.objs[string(key)], r.err
}

func (r *mapReplica) Merge(_ context.Context, key []byte, obj dvv.Object) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.objs[string(key)] = dvv.Merge(r.objs[string(key)], obj)
	return nil
}

// ScanRange pages through the keys of slots [from, to) in key order; the
// cursor is an index into them, plus one.
func (r *mapReplica) ScanRange(_ context.Context, from, to int, c peer.Cursor, count int) (peer.Cursor, []peer.Entry, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var keys []string
	for k := range r.objs {
		if s := int(ring.Slot([]byte(k))); from <= s && s < to {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	i := max(int(c)-1, 0)
	var out []peer.Entry
	for ; i < len(keys) && len(out) < count; i++ {
		out = append(out, peer.Entry{Key: []byte(keys[i]), Object: r.objs[keys[i]]})
	}
	if i >= len(keys) {
		return 0, out, nil
	}
	return peer.Cursor(i + 1), out, nil
}

func (r *mapReplica) object(key string) dvv.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.objs[key]
}

var _ replica.Replica = (*mapReplica)(nil)

const testSecret = "s3cret"

func newRemote(t *testing.T, addr, secret string) *replica.Remote {
	t.Helper()
	r := replica.NewRemote(replica.RemoteConfig{ID: "peer", Addr: addr, Secret: secret, Timeout: 5 * time.Second, PoolSize: 2})
	t.Cleanup(func() { r.Close() })
	return r
}

func TestPeerCommands(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		t.Run("requirepass="+pass, func(t *testing.T) {
			peer := newMapReplica("n1")
			ts := startServer(t, Config{ClusterSecret: testSecret, Peer: peer, RequirePass: pass})
			r := newRemote(t, ts.addr, testSecret)

			// The real network client round-trips objects.
			if o, err := r.Get(bg, []byte("absent")); err != nil || !o.IsZero() {
				t.Fatalf("Get absent = %+v, %v", o, err)
			}
			obj := dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n2", Counter: 1}, Timestamp: 7, Value: []byte("v\x00\r\n")})
			if err := r.Merge(bg, []byte("k"), obj); err != nil {
				t.Fatalf("Merge: %v", err)
			}
			if !dvv.Equal(peer.object("k"), obj) {
				t.Fatalf("merged object = %+v", peer.object("k"))
			}
			got, err := r.Get(bg, []byte("k"))
			if err != nil || !dvv.Equal(got, obj) {
				t.Fatalf("Get = %+v, %v", got, err)
			}
			peer.mu.Lock()
			peer.err = errors.New("disk on fire")
			peer.mu.Unlock()
			if _, err := r.Get(bg, []byte("k")); err == nil || !strings.Contains(err.Error(), "ERR disk on fire") {
				t.Errorf("Get with a failing replica: %v", err)
			}
			peer.mu.Lock()
			peer.err = nil
			peer.mu.Unlock()

			// A wrong secret is refused, and the connection closed.
			if _, err := newRemote(t, ts.addr, "guess").Get(bg, []byte("k")); err == nil || !strings.Contains(err.Error(), "WRONGPASS invalid cluster secret") {
				t.Errorf("Get with a wrong secret: %v", err)
			}
			raw := dialRaw(t, ts.addr)
			if got := raw.do("DKV.AUTH", "guess"); got != "-WRONGPASS invalid cluster secret\r\n" {
				t.Errorf("DKV.AUTH wrong: %q", got)
			}
			raw.expectEOF()

			// A client without the secret may not call internal commands.
			raw = dialRaw(t, ts.addr)
			if pass != "" {
				if got := raw.do("DKV.GET", "k"); got != "-"+msgNoAuth+"\r\n" {
					t.Errorf("DKV.GET before AUTH: %q", got)
				}
				raw.do("AUTH", pass)
			}
			for _, args := range [][]string{{"DKV.GET", "k"}, {"dkv.merge", "k", string(obj.Encode())}, {"DKV.MERGE", "x", "junk"}} {
				if got := raw.do(args...); got != "-NOPERM this command is reserved for cluster peers\r\n" {
					t.Errorf("%q from a client: %q", args[0], got)
				}
			}
			if got := raw.do("DKV.GET"); got != "-ERR wrong number of arguments for 'dkv.get' command\r\n" {
				t.Errorf("DKV.GET arity: %q", got)
			}
			if !peer.object("x").IsZero() {
				t.Error("a client's DKV.MERGE was applied")
			}

			// A peer: corrupt objects are refused; it counts as
			// authenticated for client commands too.
			raw = dialRaw(t, ts.addr)
			if got := raw.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
				t.Fatalf("DKV.AUTH: %q", got)
			}
			for _, junk := range []string{"", "junk", "\x01\x05", string(obj.Encode()) + "x"} {
				if got := raw.do("DKV.MERGE", "x", junk); got != "-ERR corrupt object\r\n" {
					t.Errorf("DKV.MERGE %q: %q", junk, got)
				}
			}
			if !peer.object("x").IsZero() {
				t.Error("a corrupt DKV.MERGE was applied")
			}
			if got := raw.do("SET", "a", "1"); got != "+OK\r\n" {
				t.Errorf("SET on a peer connection: %q", got)
			}
		})
	}
}

func TestPeerCommandsHidden(t *testing.T) {
	plain := startServer(t, Config{})
	ts := startServer(t, Config{ClusterSecret: testSecret, Peer: newMapReplica("n1")})
	if len(ts.Commands()) != len(plain.Commands()) {
		t.Errorf("Commands: %d with the secret, %d without", len(ts.Commands()), len(plain.Commands()))
	}
	raw := dialRaw(t, ts.addr)
	if got, want := raw.do("COMMAND", "COUNT"), dialRaw(t, plain.addr).do("COMMAND", "COUNT"); got != want {
		t.Errorf("COMMAND COUNT = %q, want %q", got, want)
	}
	if got := raw.do("COMMAND", "INFO", "dkv.get", "dkv.auth"); got != "*2\r\n$-1\r\n$-1\r\n" {
		t.Errorf("COMMAND INFO dkv.get = %q", got)
	}
	if got := raw.do("COMMAND", "GETKEYS", "dkv.get", "k"); got != "-ERR Invalid command specified\r\n" {
		t.Errorf("COMMAND GETKEYS dkv.get = %q", got)
	}
	if got := raw.do("COMMAND", "LIST"); strings.Contains(got, "dkv") {
		t.Errorf("COMMAND LIST shows internal commands: %q", got)
	}
	// Without a secret they do not exist.
	raw = dialRaw(t, plain.addr)
	if got := raw.do("DKV.AUTH", "x"); !strings.HasPrefix(got, "-ERR unknown command 'DKV.AUTH'") {
		t.Errorf("DKV.AUTH without a secret: %q", got)
	}
	if got := raw.do("DKV.GET", "k"); !strings.HasPrefix(got, "-ERR unknown command") {
		t.Errorf("DKV.GET without a secret: %q", got)
	}
}

func TestClusterConfigValidate(t *testing.T) {
	for i, cfg := range []Config{
		{ClusterSecret: "x"}, // no Peer
		{ClusterSecret: "x", Cluster: &staticCluster{me: "n1"}},
	} {
		s := New(cfg, nil, nil)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Serve(ln); !errors.Is(err, ErrConfig) {
			t.Errorf("config %d: Serve = %v, want ErrConfig", i, err)
		}
	}
}

// A one-node ring needs no secret: its writes are all local, and without
// DKV.AUTH nothing can forward to it.
func TestClusterWithoutSecret(t *testing.T) {
	ts := startServer(t, Config{Cluster: threeNodes()})
	raw := dialRaw(t, ts.addr)
	for _, tc := range [][2]string{
		{"SET k v", "+OK\r\n"},
		{"DEL k x", ":1\r\n"},
		{"CLUSTER MYID", "$2\r\nn1\r\n"},
		{"DKV.AUTH x", "-ERR unknown command 'DKV.AUTH', with args beginning with: 'x' \r\n"},
	} {
		if got := raw.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s = %q, want %q", tc[0], got, tc[1])
		}
	}
}

func TestPeerScan(t *testing.T) {
	peer := newMapReplica("n1")
	want := map[string]bool{}
	for i := range 50 {
		k := fmt.Sprintf("k%d", i)
		obj := dvv.Update(dvv.Object{}, nil, dvv.Sibling{Dot: dvv.Dot{Actor: "n1", Counter: 1}, Value: []byte(k)})
		peer.objs[k] = obj
		if ring.Slot([]byte(k)) < 8192 {
			want[k] = true
		}
	}
	ts := startServer(t, Config{ClusterSecret: testSecret, Peer: peer})
	r := newRemote(t, ts.addr, testSecret)
	got := map[string]bool{}
	var cur peer.Cursor
	for pages := 0; ; pages++ {
		next, entries, err := r.ScanRange(bg, 0, 8192, cur, 7)
		if err != nil || pages > 50 {
			t.Fatalf("ScanRange: %v after %d pages", err, pages)
		}
		for _, e := range entries {
			if string(e.Object.Siblings[0].Value) != string(e.Key) {
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
	raw := dialRaw(t, ts.addr)
	raw.do("DKV.AUTH", testSecret)
	for _, tc := range [][2]string{
		{"DKV.SCAN 0 16385 0 10", "-ERR invalid slot range\r\n"},
		{"DKV.SCAN 5 4 0 10", "-ERR invalid slot range\r\n"},
		{"DKV.SCAN x 4 0 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.SCAN 0 4 -1 10", "-ERR value is not an integer or out of range\r\n"},
		{"DKV.SCAN 0 4 0 0", "-ERR syntax error\r\n"},
		{"DKV.SCAN 0 0 0 10", "*1\r\n$1\r\n0\r\n"},
	} {
		if got := raw.do(strings.Fields(tc[0])...); got != tc[1] {
			t.Errorf("%s = %q, want %q", tc[0], got, tc[1])
		}
	}
	if got := dialRaw(t, ts.addr).do("DKV.SCAN", "0", "1", "0", "1"); got != "-NOPERM this command is reserved for cluster peers\r\n" {
		t.Errorf("DKV.SCAN from a client: %q", got)
	}
	// A Peer that cannot scan ranges says so.
	plain := startServer(t, Config{ClusterSecret: testSecret, Peer: struct{ replica.Replica }{peer}})
	if _, _, err := newRemote(t, plain.addr, testSecret).ScanRange(bg, 0, 1, 0, 1); err == nil || !strings.Contains(err.Error(), "ERR this replica cannot scan slot ranges") {
		t.Errorf("ScanRange on a Peer without it: %v", err)
	}
}
