package peerserver_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerclient"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/resp/resptest"
	"github.com/dynakv/dynakv/ring"
)

var bg = context.Background()

const testSecret = "s3cret"

// startServer serves local's internal commands (and a resptest backend's
// client commands) on a loopback port and returns its address.
func startServer(t *testing.T, cfg resp.Config, local peer.Replica) string {
	t.Helper()
	clock := resptest.NewClock(1_700_000_000_000)
	s := resp.New(cfg, resptest.NewBackend("n1", clock.NowMs), nil)
	if err := peerserver.Register(s, local); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ln) }()
	t.Cleanup(func() {
		_ = s.Close()
		if err := <-done; !errors.Is(err, resp.ErrServerClosed) {
			t.Errorf("Serve returned %v", err)
		}
	})
	return ln.Addr().String()
}

// newClient returns a peer client of the server at addr.
func newClient(t *testing.T, addr, secret string) *peerclient.Client {
	t.Helper()
	c, err := peerclient.New(peerclient.Config{ID: "peer", Addr: addr, Secret: secret, Timeout: 5 * time.Second, PoolSize: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawClient speaks RESP by hand.
type rawClient struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawClient{t: t, conn: conn, br: bufio.NewReader(conn)}
}

// do sends a command as a multibulk and returns the raw reply.
func (r *rawClient) do(args ...string) string {
	r.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_ = r.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := r.conn.Write([]byte(b.String())); err != nil {
		r.t.Fatalf("write: %v", err)
	}
	raw, err := peerclient.ReadReply(r.br, nil, peer.MaxBulkLen)
	if err != nil {
		r.t.Fatalf("read reply: %v", err)
	}
	return string(raw)
}

// mapReplica is an in-memory peer.Store: the local replica of a test
// server. Its ScanRanges is not supported.
type mapReplica struct {
	id    string
	mu    sync.Mutex
	objs  map[string]crdt.Object
	hints map[string]crdt.Object // target + "/" + key
	err   error
}

var _ peer.Store = (*mapReplica)(nil)

func newMapReplica(id string) *mapReplica {
	return &mapReplica{id: id, objs: map[string]crdt.Object{}, hints: map[string]crdt.Object{}}
}

func (r *mapReplica) ID() string { return r.id }

func (r *mapReplica) Get(_ context.Context, key []byte) (crdt.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.objs[string(key)], r.err
}

func (r *mapReplica) Merge(_ context.Context, key []byte, obj crdt.Object) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.objs[string(key)] = crdt.Merge(r.objs[string(key)], obj)
	return nil
}

func (r *mapReplica) MergeMany(ctx context.Context, entries []peer.Entry) error {
	for _, e := range entries {
		if err := r.Merge(ctx, e.Key, e.Object); err != nil {
			return err
		}
	}
	return nil
}

func (r *mapReplica) PutHint(_ context.Context, target string, key []byte, obj crdt.Object) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.hints[target+"/"+string(key)] = crdt.Merge(r.hints[target+"/"+string(key)], obj)
	return r.err
}

// HintsFor merges the hints held for key, for any target.
func (r *mapReplica) HintsFor(_ context.Context, key []byte) (crdt.Object, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out crdt.Object
	for k, o := range r.hints {
		if _, rest, _ := strings.Cut(k, "/"); rest == string(key) {
			out = crdt.Merge(out, o)
		}
	}
	return out, r.err
}

// HintHorizon is a fixed time, or the replica's error.
func (r *mapReplica) HintHorizon(context.Context) (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return 1_700_000_000_000, r.err
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

func (r *mapReplica) ScanRanges(context.Context, []peer.Range, int) (peer.Cursor, []peer.Entry, error) {
	return 0, nil, errors.New("not supported")
}

func (r *mapReplica) object(key string) crdt.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.objs[key]
}

func (r *mapReplica) hint(target, key string) crdt.Object {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.hints[target+"/"+key]
}
