package resp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"github.com/dynakv/dynakv/peer"
	"io"
	"net"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp/resptest"
	"github.com/dynakv/dynakv/ring"
	"github.com/redis/go-redis/v9"
)

// staticCluster is a fixed cluster view, for the CLUSTER commands' formats.
// Every key is local.
type staticCluster struct {
	me      string
	version uint64
	nodes   []ClusterNode
	shards  []Shard

	mu     sync.Mutex
	forgot []string
}

func (s *staticCluster) MyID() string                        { return s.me }
func (s *staticCluster) Version() uint64                     { return s.version }
func (s *staticCluster) Shards() []Shard                     { return s.shards }
func (s *staticCluster) Nodes() []ClusterNode                { return s.nodes }
func (s *staticCluster) Route(key []byte) (string, bool)     { return "", true }
func (s *staticCluster) RoutePeer(key []byte) (string, bool) { return "", true }
func (s *staticCluster) RouteVia(key []byte, _ string) (string, bool) {
	return "", true
}
func (s *staticCluster) Forward(context.Context, string, int, [][]byte) ([]byte, error) {
	return nil, errors.New("static cluster: no forwarding")
}

func (s *staticCluster) Forget(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id == "gone" {
		return fmt.Errorf("%w: %q", ring.ErrUnknownMember, id)
	}
	s.forgot = append(s.forgot, id)
	return nil
}

// threeNodes: n1 (this node) and n2 alive, n3 dead; n1 is master of
// 0-8191 (given in two pieces, to be merged) and 10000, n2 of the rest;
// n3 masters nothing, as the first healthy replica always comes first.
func threeNodes() *staticCluster {
	n1 := ClusterNode{ID: "n1", Host: "127.0.0.1", Port: 7001, Alive: true}
	n2 := ClusterNode{ID: "n2", Host: "127.0.0.1", Port: 7002, BusPort: 7946, Alive: true} // its gossip port as the bus port
	n3 := ClusterNode{ID: "n3", Host: "127.0.0.1", Port: 7003}
	return &staticCluster{
		me:      "n1",
		version: 42,
		nodes:   []ClusterNode{n1, n2, n3},
		shards: []Shard{
			{Start: 8192, End: 9999, Replicas: []ClusterNode{n2, n1}},
			{Start: 0, End: 4095, Replicas: []ClusterNode{n1, n2, n3}},
			{Start: 4096, End: 8191, Replicas: []ClusterNode{n1, n2, n3}},
			{Start: 10000, End: 10000, Replicas: []ClusterNode{n1, n3, n2}},
			{Start: 10001, End: 16383, Replicas: []ClusterNode{n2, n1}},
		},
	}
}

func startClusterServer(t *testing.T, cl Cluster) *testServer {
	t.Helper()
	return startServer(t, Config{Cluster: cl, ClusterSecret: testSecret})
}

// TestClusterReplicasMatchesNodes: CLUSTER REPLICAS id lists exactly the
// CLUSTER NODES lines whose master field is id (Redis 7.0's
// clusterCommand lists n->slaves): a node CLUSTER NODES shows as a master
// is never listed, though CLUSTER SLOTS lists it among the replicas of
// id's ranges; a slot-less master gets an empty array, not an error; a
// slave gets "not a master", an unknown ID "Unknown node".
func TestClusterReplicasMatchesNodes(t *testing.T) {
	cl := threeNodes()
	// n4 replicates nothing and masters nothing: "master -" in CLUSTER
	// NODES.
	cl.nodes = append(cl.nodes, ClusterNode{ID: "n4", Host: "127.0.0.1", Port: 7004, Alive: true})
	raw := dialRaw(t, startClusterServer(t, cl).addr)

	nodes := raw.do("CLUSTER", "NODES")
	body := nodes[strings.Index(nodes, "\r\n")+2 : len(nodes)-2]
	lines := strings.Split(strings.TrimSuffix(body, "\n"), "\n")
	if len(lines) != 4 {
		t.Fatalf("CLUSTER NODES = %q", nodes)
	}
	for _, id := range []string{"n1", "n2", "n3", "n4"} {
		var want string
		if id == "n3" {
			want = "-ERR The specified node is not a master\r\n"
		} else {
			var reps []string
			for _, l := range lines {
				if strings.Fields(l)[3] == id {
					reps = append(reps, l)
				}
			}
			want = fmt.Sprintf("*%d\r\n", len(reps))
			for _, l := range reps {
				want += fmt.Sprintf("$%d\r\n%s\r\n", len(l), l)
			}
		}
		for _, sub := range []string{"REPLICAS", "SLAVES"} {
			if got := raw.do("CLUSTER", sub, id); got != want {
				t.Errorf("CLUSTER %s %s = %q, want %q (CLUSTER NODES:\n%s)", sub, id, got, want, body)
			}
		}
	}
	for id, want := range map[string]string{
		"n1": "*1\r\n$57\r\nn3 127.0.0.1:7003@17003 slave,fail n1 0 0 42 disconnected\r\n",
		"n2": "*0\r\n", // n1 replicates n2's ranges but is a master
		"n4": "*0\r\n",
		"n5": "-ERR Unknown node n5\r\n",
	} {
		if got := raw.do("CLUSTER", "REPLICAS", id); got != want {
			t.Errorf("CLUSTER REPLICAS %s = %q, want %q", id, got, want)
		}
	}
}

func TestClusterFormats(t *testing.T) {
	cl := threeNodes()
	ts := startClusterServer(t, cl)
	raw := dialRaw(t, ts.addr)

	wantNodes := "n1 127.0.0.1:7001@17001 myself,master - 0 0 42 connected 0-8191 10000\n" +
		"n2 127.0.0.1:7002@7946 master - 0 0 42 connected 8192-9999 10001-16383\n" +
		"n3 127.0.0.1:7003@17003 slave,fail n1 0 0 42 disconnected\n"
	if got := raw.do("CLUSTER", "NODES"); got != fmt.Sprintf("$%d\r\n%s\r\n", len(wantNodes), wantNodes) {
		t.Errorf("CLUSTER NODES = %q", got)
	}
	wantInfo := "cluster_state:ok\r\ncluster_slots_assigned:16384\r\ncluster_slots_ok:16384\r\n" +
		"cluster_slots_pfail:0\r\ncluster_slots_fail:0\r\ncluster_known_nodes:3\r\ncluster_size:2\r\n" +
		"cluster_current_epoch:42\r\ncluster_my_epoch:42\r\ncluster_stats_messages_sent:0\r\n" +
		"cluster_stats_messages_received:0\r\ntotal_cluster_links_buffer_limit_exceeded:0\r\n"
	if got := raw.do("CLUSTER", "INFO"); got != fmt.Sprintf("$%d\r\n%s\r\n", len(wantInfo), wantInfo) {
		t.Errorf("CLUSTER INFO = %q", got)
	}
	node := func(port int, id string) string {
		return fmt.Sprintf("*4\r\n$9\r\n127.0.0.1\r\n:%d\r\n$2\r\n%s\r\n*0\r\n", port, id)
	}
	wantSlots := "*4\r\n" +
		"*4\r\n:0\r\n:8191\r\n" + node(7001, "n1") + node(7002, "n2") +
		"*4\r\n:8192\r\n:9999\r\n" + node(7002, "n2") + node(7001, "n1") +
		"*4\r\n:10000\r\n:10000\r\n" + node(7001, "n1") + node(7002, "n2") + // n3 is dead
		"*4\r\n:10001\r\n:16383\r\n" + node(7002, "n2") + node(7001, "n1")
	if got := raw.do("CLUSTER", "SLOTS"); got != wantSlots {
		t.Errorf("CLUSTER SLOTS =\n%q\nwant\n%q", got, wantSlots)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"CLUSTER", "MYID"}, "$2\r\nn1\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "foo"}, ":12182\r\n"},
		{[]string{"CLUSTER", "KEYSLOT", "{user1000}.following"}, ":3443\r\n"},
		{[]string{"CLUSTER", "KEYSLOT"}, "-ERR wrong number of arguments for 'cluster|keyslot' command\r\n"},
		{[]string{"CLUSTER", "REPLICAS", "n1"}, "*1\r\n$57\r\nn3 127.0.0.1:7003@17003 slave,fail n1 0 0 42 disconnected\r\n"},
		{[]string{"CLUSTER", "SLAVES", "n3"}, "-ERR The specified node is not a master\r\n"},
		{[]string{"CLUSTER", "REPLICAS", "x"}, "-ERR Unknown node x\r\n"},
		{[]string{"CLUSTER", "FORGET", "n1"}, "-ERR I tried hard but I can't forget myself...\r\n"},
		{[]string{"CLUSTER", "FORGET", "x"}, "-ERR Unknown node x\r\n"},
		{[]string{"CLUSTER", "FORGET", "n3"}, "+OK\r\n"},
		{[]string{"CLUSTER", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CLUSTER HELP.\r\n"},
		{[]string{"CLUSTER", "REPAIR"}, "-ERR anti-entropy is off on this node\r\n"}, // the fake cluster is no Repairer
		{[]string{"CLUSTER", "REPAIR", "x"}, "-ERR invalid partition\r\n"},
		{[]string{"CLUSTER", "REPAIR", "-1"}, "-ERR invalid partition\r\n"},
		{[]string{"CLUSTER", "REPAIR", "1", "2"}, "-ERR syntax error\r\n"},
		{[]string{"READONLY"}, "+OK\r\n"},
		{[]string{"READWRITE"}, "+OK\r\n"},
		{[]string{"HELLO", "3"}, ""},
		{[]string{"CLUSTER", "SLOTS"}, ""},
	} {
		got := raw.do(tc.args...)
		if tc.want != "" && got != tc.want {
			t.Errorf("%q = %q, want %q", tc.args, got, tc.want)
		}
		if tc.args[0] == "HELLO" && !strings.Contains(got, "$4\r\nmode\r\n$7\r\ncluster\r\n") {
			t.Errorf("HELLO in a cluster: %q", got)
		}
		if tc.args[0] == "CLUSTER" && tc.args[1] == "SLOTS" && !strings.Contains(got, "$2\r\nn1\r\n%0\r\n") {
			t.Errorf("CLUSTER SLOTS in RESP3: %q", got)
		}
	}
	if !slices.Equal(cl.forgot, []string{"n3"}) {
		t.Errorf("forgotten: %v", cl.forgot)
	}
	// Slots given with the nodes (in pieces, out of order) are used as
	// they are, merged.
	cl2 := threeNodes()
	cl2.nodes[0].Slots = [][2]int{{10000, 10000}, {4096, 8191}, {0, 4095}}
	cl2.nodes[1].Slots = [][2]int{{8192, 9999}, {10001, 16383}}
	cl2.nodes[1].Myself = true // honoured, as well as MyID
	want2 := strings.Replace(wantNodes, "n2 127.0.0.1:7002@7946 master", "n2 127.0.0.1:7002@7946 myself,master", 1)
	if got, _ := startClusterServer(t, cl2).client(t, 2, "").ClusterNodes(bg).Result(); got != want2 {
		t.Errorf("CLUSTER NODES from Nodes' Slots = %q", got)
	}
	if got := dialRaw(t, ts.addr).do("INFO", "cluster"); got != "$30\r\n# Cluster\r\ncluster_enabled:1\r\n\r\n" {
		t.Errorf("INFO cluster in a cluster = %q", got)
	}
	plain := startServer(t, Config{})
	if got := dialRaw(t, plain.addr).do("INFO"); !strings.Contains(got, "\r\n\r\n# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n") {
		t.Errorf("INFO of a lone node = %q", got)
	}

	// The same through go-redis's parsers, in both protocols.
	for _, proto := range []int{2, 3} {
		c := ts.client(t, proto, "")
		slots, err := c.ClusterSlots(bg).Result()
		if err != nil || len(slots) != 4 || slots[0].End != 8191 || slots[0].Nodes[0].ID != "n1" || slots[0].Nodes[1].Addr != "127.0.0.1:7002" {
			t.Errorf("resp%d ClusterSlots = %+v, %v", proto, slots, err)
		}
		nodes, err := c.ClusterNodes(bg).Result()
		if err != nil || nodes != wantNodes {
			t.Errorf("resp%d ClusterNodes = %q, %v", proto, nodes, err)
		}
		info, err := c.ClusterInfo(bg).Result()
		if err != nil || info != wantInfo {
			t.Errorf("resp%d ClusterInfo = %q, %v", proto, info, err)
		}
		shards, err := c.ClusterShards(bg).Result()
		if err != nil || len(shards) != 3 {
			t.Fatalf("resp%d ClusterShards = %+v, %v", proto, shards, err)
		}
		// n1,n2,n3 holds 0-8191; n2,n1 holds 8192-9999 and 10001-16383;
		// n1,n3,n2 holds 10000.
		if s := shards[1]; len(s.Slots) != 2 || s.Slots[0] != (redis.SlotRange{Start: 8192, End: 9999}) || s.Slots[1] != (redis.SlotRange{Start: 10001, End: 16383}) {
			t.Errorf("resp%d shard 1 = %+v", proto, s)
		}
		n := shards[0].Nodes
		if len(n) != 3 || n[0].ID != "n1" || n[0].Role != "master" || n[0].Health != "online" || n[0].Port != 7001 || n[0].IP != "127.0.0.1" ||
			n[0].Endpoint != "127.0.0.1" || n[1].Role != "replica" || n[2].ID != "n3" || n[2].Health != "failed" {
			t.Errorf("resp%d shard 0 nodes = %+v", proto, n)
		}
		if id, err := c.ClusterMyID(bg).Result(); id != "n1" || err != nil {
			t.Errorf("resp%d ClusterMyID = %q, %v", proto, id, err)
		}
		if slot, err := c.ClusterKeySlot(bg, "somekey").Result(); slot != int64(ring.Slot([]byte("somekey"))) || err != nil {
			t.Errorf("resp%d ClusterKeySlot = %d, %v", proto, slot, err)
		}
	}
}

func TestClusterStateFail(t *testing.T) {
	cl := threeNodes()
	cl.shards = []Shard{
		{Start: 0, End: 99, Replicas: []ClusterNode{cl.nodes[2]}}, // all replicas dead
		{Start: 100, End: 199, Replicas: []ClusterNode{cl.nodes[0]}},
		// 200-16383 unassigned
	}
	cl.nodes[0].Host = "node1.example" // a host name
	cl.shards[1].Replicas[0].Host = "node1.example"
	ts := startClusterServer(t, cl)
	raw := dialRaw(t, ts.addr)
	info := raw.do("CLUSTER", "INFO")
	for _, want := range []string{"cluster_state:fail\r\n", "cluster_slots_assigned:200\r\n", "cluster_slots_ok:100\r\n", "cluster_slots_fail:100\r\n", "cluster_size:2\r\n"} {
		if !strings.Contains(info, want) {
			t.Errorf("CLUSTER INFO lacks %q: %q", want, info)
		}
	}
	nodes := raw.do("CLUSTER", "NODES")
	for _, want := range []string{
		"n1 node1.example:7001@17001,node1.example myself,master - 0 0 42 connected 100-199\n",
		"n3 127.0.0.1:7003@17003 master,fail - 0 0 42 disconnected 0-99\n",
		"n2 127.0.0.1:7002@7946 master - 0 0 42 connected\n",
	} {
		if !strings.Contains(nodes, want) {
			t.Errorf("CLUSTER NODES lacks %q: %q", want, nodes)
		}
	}
	// A dead master stays in CLUSTER SLOTS: its range has no other node.
	if got := raw.do("CLUSTER", "SLOTS"); !strings.HasPrefix(got, "*2\r\n*3\r\n:0\r\n:99\r\n*4\r\n$9\r\n127.0.0.1\r\n:7003\r\n") {
		t.Errorf("CLUSTER SLOTS = %q", got)
	}
	c := ts.client(t, 3, "")
	shards, err := c.ClusterShards(bg).Result()
	if err != nil || len(shards) != 2 || shards[1].Nodes[0].Hostname != "node1.example" || shards[0].Nodes[0].Health != "failed" {
		t.Errorf("ClusterShards = %+v, %v", shards, err)
	}
}

// parityCluster is one node's view of a two-node fake cluster: even slots
// are ids[0]'s, odd ones ids[1]'s, each with the other as its replica.
// Forward goes through rawPeer, a raw peer connection.
type parityCluster struct {
	me      string
	ids     [2]string
	nodes   map[string]ClusterNode
	remotes map[string]rawPeer
	shards  []Shard

	forwards atomic.Int64 // calls of Forward
}

func (p *parityCluster) owner(key []byte) string { return p.ids[ring.StoredSlot(key)%2] }
func (p *parityCluster) MyID() string            { return p.me }
func (p *parityCluster) Version() uint64         { return 7 }
func (p *parityCluster) Shards() []Shard         { return p.shards }
func (p *parityCluster) Nodes() []ClusterNode {
	return []ClusterNode{p.nodes[p.ids[0]], p.nodes[p.ids[1]]}
}

func (p *parityCluster) Route(key []byte) (string, bool) {
	o := p.owner(key)
	return o, o == p.me
}

func (p *parityCluster) RoutePeer(key []byte) (string, bool) { return p.Route(key) }

func (p *parityCluster) RouteVia(key []byte, _ string) (string, bool) { return p.Route(key) }

func (p *parityCluster) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	p.forwards.Add(1)
	r, ok := p.remotes[to]
	if !ok {
		return nil, fmt.Errorf("no route to %s", to)
	}
	if proto == 3 {
		args = append([][]byte{[]byte(peer.CmdForward3)}, args...)
	}
	return r.do(ctx, args)
}

// rawPeer forwards a command to a node on a new peer connection and
// returns its raw reply, as Cluster.Forward must.
type rawPeer struct{ addr, secret string }

func (r rawPeer) do(ctx context.Context, args [][]byte) ([]byte, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	// A long forward (a blocked pop, a script) waits as long as its
	// context, and its end drops the connection, as peerclient's do.
	deadline := time.Now().Add(5 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	br := bufio.NewReader(conn)
	if _, err := io.WriteString(conn, multibulk("DKV.AUTH", r.secret)); err != nil {
		return nil, err
	}
	if rep, err := readReply(br); err != nil || rep != "+OK\r\n" {
		return nil, fmt.Errorf("peer connection refused: %q %v", rep, err)
	}
	strs := make([]string, len(args))
	for i, a := range args {
		strs[i] = string(a)
	}
	if _, err := io.WriteString(conn, multibulk(strs...)); err != nil {
		return nil, err
	}
	rep, err := readReply(br)
	return []byte(rep), err
}

func (p *parityCluster) Forget(context.Context, string) error { return errors.New("not here") }

// startPair serves two fake nodes, n1 and n2, of a parity cluster.
func startPair(t *testing.T) (n1, n2 *testServer, cls [2]*parityCluster) {
	t.Helper()
	return startPairWith(t, func(p *parityCluster) Cluster { return p })
}

// startPairWith is startPair with each node's Cluster made by wrap from
// its parityCluster.
func startPairWith(t *testing.T, wrap func(*parityCluster) Cluster) (n1, n2 *testServer, cls [2]*parityCluster) {
	t.Helper()
	var lns [2]net.Listener
	nodes := map[string]ClusterNode{}
	ids := [2]string{"n1", "n2"}
	for i := range lns {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[i] = ln
		a := ln.Addr().(*net.TCPAddr)
		nodes[ids[i]] = ClusterNode{ID: ids[i], Host: a.IP.String(), Port: a.Port, Alive: true}
	}
	shards := make([]Shard, ring.Slots)
	for s := range shards {
		o := s % 2
		shards[s] = Shard{Start: s, End: s, Replicas: []ClusterNode{nodes[ids[o]], nodes[ids[1-o]]}}
	}
	var ts [2]*testServer
	for i := range lns {
		other := ids[1-i]
		cls[i] = &parityCluster{me: ids[i], ids: ids, nodes: nodes, shards: shards, remotes: map[string]rawPeer{
			other: {lns[1-i].Addr().String(), testSecret},
		}}
		clock := resptest.NewClock(startMs)
		b := resptest.NewBackend(ids[i], clock.NowMs)
		s := New(Config{Cluster: wrap(cls[i]), ClusterSecret: testSecret}, b, nil)
		done := make(chan error, 1)
		go func(ln net.Listener) { done <- s.Serve(ln) }(lns[i])
		t.Cleanup(func() {
			s.Close()
			if err := <-done; !errors.Is(err, ErrServerClosed) {
				t.Errorf("Serve returned %v", err)
			}
		})
		ts[i] = &testServer{Server: s, b: b, clock: clock, addr: lns[i].Addr().String()}
	}
	return ts[0], ts[1], cls
}

// keysOf returns n keys owned by each of the parity cluster's nodes.
func keysOf(n int) (even, odd []string) {
	for i := 0; len(even) < n || len(odd) < n; i++ {
		k := "key:" + strconv.Itoa(i)
		if ring.Slot([]byte(k))%2 == 0 {
			if len(even) < n {
				even = append(even, k)
			}
		} else if len(odd) < n {
			odd = append(odd, k)
		}
	}
	return even, odd
}

// value returns the value key holds in ts's backend ("" if none).
func (ts *testServer) value(key string) string {
	v, _, _ := crdt.Get(ts.b.Object(key), ts.b.NowMs())
	return string(v)
}

func TestForwardWrites(t *testing.T) {
	n1, n2, _ := startPair(t)
	mine, theirs := keysOf(20) // as n1 sees them
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := n1.client(t, proto, "")
			for i := range mine {
				for _, k := range []string{mine[i], theirs[i]} {
					v := fmt.Sprintf("%s=%d", k, proto)
					if got, err := c.Set(bg, k, v, 0).Result(); got != "OK" || err != nil {
						t.Fatalf("SET %s = %q, %v", k, got, err)
					}
				}
				if n1.value(mine[i]) == "" || n2.value(mine[i]) != "" {
					t.Errorf("%s (n1's) landed on n1 %q, n2 %q", mine[i], n1.value(mine[i]), n2.value(mine[i]))
				}
				if n2.value(theirs[i]) == "" || n1.value(theirs[i]) != "" {
					t.Errorf("%s (n2's) landed on n1 %q, n2 %q", theirs[i], n1.value(theirs[i]), n2.value(theirs[i]))
				}
			}
			k := theirs[0]
			if got, err := c.SetArgs(bg, k, "OK", redis.SetArgs{Get: true}).Result(); got != k+"="+strconv.Itoa(proto) || err != nil {
				t.Errorf("forwarded SET GET = %q, %v", got, err)
			}
			if got, err := c.SetArgs(bg, k, "x", redis.SetArgs{Get: true}).Result(); got != "OK" || err != nil {
				t.Errorf("forwarded SET GET of the value OK = %q, %v", got, err)
			}
			if err := c.SetArgs(bg, k, "y", redis.SetArgs{Mode: "NX"}).Err(); err != redis.Nil {
				t.Errorf("forwarded SET NX on an existing key: %v", err)
			}
			if n, err := c.Expire(bg, k, time.Hour).Result(); !n || err != nil {
				t.Errorf("forwarded EXPIRE = %v, %v", n, err)
			}
			if err := c.Do(bg, "set", k, "v", "ex", "0").Err(); errText(err) != "ERR invalid expire time in 'set' command" {
				t.Errorf("forwarded error: %v", err)
			}
			if got, err := c.GetDel(bg, k).Result(); got != "x" || err != nil {
				t.Errorf("forwarded GETDEL = %q, %v", got, err)
			}
			if tok, err := c.Do(bg, "vset", k, "", "v1").Text(); tok == "" || err != nil {
				t.Errorf("forwarded VSET = %q, %v", tok, err)
			} else if n2.value(k) != "v1" {
				t.Errorf("VSET landed as %q", n2.value(k))
			}

			// Multi-key writes are split.
			args := []any{}
			for i := range 5 {
				args = append(args, mine[i], "m", theirs[i], "t")
			}
			if got, err := c.MSet(bg, args...).Result(); got != "OK" || err != nil {
				t.Errorf("split MSET = %q, %v", got, err)
			}
			if n1.value(mine[4]) != "m" || n2.value(theirs[4]) != "t" || n1.value(theirs[4]) != "" {
				t.Errorf("split MSET landed wrong")
			}
			if err := c.Do(bg, "mset", mine[0], "1", theirs[0]).Err(); errText(err) != "ERR wrong number of arguments for 'mset' command" {
				t.Errorf("MSET with a missing value: %v", err)
			}
			if n, err := c.Del(bg, mine[0], theirs[0], "nokey", theirs[1], mine[1]).Result(); n != 4 || err != nil {
				t.Errorf("split DEL = %d, %v", n, err)
			}
			if n1.value(mine[0]) != "" || n2.value(theirs[1]) != "" {
				t.Errorf("split DEL left values")
			}
			if n, err := c.Unlink(bg, mine[2], theirs[2], theirs[2]).Result(); n != 2 || err != nil {
				t.Errorf("split UNLINK = %d, %v", n, err)
			}
			// Reads are never forwarded: n1 does not have n2's keys.
			if err := c.Get(bg, theirs[3]).Err(); err != redis.Nil {
				t.Errorf("GET of n2's key on n1: %v", err)
			}
		})
	}
}

// TestForwardRaw checks forwarded replies byte for byte in both protocols.
func TestForwardRaw(t *testing.T) {
	n1, _, _ := startPair(t)
	_, all := keysOf(6)
	for i, proto := range []string{"2", "3"} {
		theirs := all[3*i:]
		k := theirs[0]
		raw := dialRaw(t, n1.addr)
		raw.do("HELLO", proto)
		null := "$-1\r\n"
		if proto == "3" {
			null = "_\r\n"
		}
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"SET", k, "OK"}, "+OK\r\n"},
			{[]string{"SET", k, "v", "GET"}, "$2\r\nOK\r\n"},
			{[]string{"SET", k, "w", "NX"}, null},
			{[]string{"SET", theirs[1], "w", "nx", "get"}, null},
			{[]string{"SETNX", k, "w"}, ":0\r\n"},
			{[]string{"GETDEL", theirs[1]}, "$1\r\nw\r\n"},
			{[]string{"GETDEL", theirs[1]}, null},
			{[]string{"DEL", k, theirs[2]}, ":1\r\n"},
			{[]string{"MSET", k, "1", theirs[2], "2"}, "+OK\r\n"},
			{[]string{"set", k, "v", "bogus"}, "-ERR syntax error\r\n"},
			{[]string{"vdel", k, "@@@"}, "-ERR invalid context token\r\n"},
		} {
			if got := raw.do(tc.args...); got != tc.want {
				t.Errorf("resp%s %q = %q, want %q", proto, tc.args, got, tc.want)
			}
		}
	}
}

func TestForwardLoopGuard(t *testing.T) {
	n1, _, _ := startPair(t)
	mine, theirs := keysOf(2)
	raw := dialRaw(t, n1.addr)
	if got := raw.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
		t.Fatalf("DKV.AUTH: %q", got)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"SET", theirs[0], "v"}, "-" + msgForwardLoop + "\r\n"},
		{[]string{"SET", mine[0], "v"}, "+OK\r\n"},
		{[]string{"DEL", mine[0], theirs[0], mine[1]}, "-" + msgForwardLoop + "\r\n"},
		{[]string{"MSET", mine[1], "v", mine[0], "w"}, "+OK\r\n"},
	} {
		if got := raw.do(tc.args...); got != tc.want {
			t.Errorf("%q on a peer connection = %q, want %q", tc.args, got, tc.want)
		}
	}
	if n1.value(mine[0]) != "w" || n1.value(theirs[0]) != "" {
		t.Errorf("values after the loop guard: %q %q", n1.value(mine[0]), n1.value(theirs[0]))
	}
}

// viaParity is a parityCluster whose RouteVia sends every versioned write
// to its token's via node, as a node does that believes via is a healthy
// replica of the key.
type viaParity struct{ *parityCluster }

func (v viaParity) RouteVia(_ []byte, via string) (string, bool) { return via, via == v.me }

// TestPeerWriteRunsOnReplica is fault 5 of issue 10: node A forwards a
// VSET to replica B because A judges the token's via node X unhealthy,
// while B still routes it to X. B received it on a peer connection, where
// it may not forward, and refused it with a forwarding loop although it
// replicates the key. B must coordinate it itself; a key B does not
// replicate still gets the forwarding-loop reply.
func TestPeerWriteRunsOnReplica(t *testing.T) {
	n1, _, _ := startPairWith(t, func(p *parityCluster) Cluster { return viaParity{p} })
	mine, theirs := keysOf(1)
	tok := dvv.EncodeTokenVia(dvv.VV{"x": 1}, "x") // read first answered by node x
	raw := dialRaw(t, n1.addr)
	if got := raw.do("DKV.AUTH", testSecret); got != "+OK\r\n" {
		t.Fatalf("DKV.AUTH: %q", got)
	}
	if got := raw.do("VSET", mine[0], tok, "v"); !strings.HasPrefix(got, "$") {
		t.Errorf("VSET of a key this replica holds, via x, on a peer connection = %q, want a token", got)
	}
	if n1.value(mine[0]) != "v" {
		t.Errorf("VSET did not land on the replica: %q", n1.value(mine[0]))
	}
	if got := raw.do("VSET", theirs[0], tok, "v"); got != "-"+msgForwardLoop+"\r\n" {
		t.Errorf("VSET of a key this node does not replicate, on a peer connection = %q, want the forwarding loop", got)
	}
}

func TestForwardUnreachable(t *testing.T) {
	n1, _, cls := startPair(t)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := dead.Addr().String()
	dead.Close()
	cls[0].remotes["n2"] = rawPeer{addr, testSecret}
	mine, theirs := keysOf(1)
	c := n1.client(t, 2, "")
	if err := c.Set(bg, theirs[0], "v", 0).Err(); !strings.HasPrefix(errText(err), "NOQUORUM cannot reach replica n2 of key: ") {
		t.Errorf("SET to an unreachable node: %v", err)
	}
	if err := c.MSet(bg, mine[0], "v", theirs[0], "w").Err(); !strings.HasPrefix(errText(err), "NOQUORUM cannot reach replica n2 of key: ") {
		t.Errorf("MSET to an unreachable node: %v", err)
	}
	if n1.value(mine[0]) != "v" {
		t.Errorf("local part of MSET: %q", n1.value(mine[0]))
	}
	// A node that refuses our secret is unreachable too.
	cls[0].remotes["n2"] = rawPeer{cls[0].nodes["n2"].Host + ":" + strconv.Itoa(cls[0].nodes["n2"].Port), "wrong"}
	if err := c.Set(bg, theirs[0], "v", 0).Err(); !strings.HasPrefix(errText(err), "NOQUORUM cannot reach replica n2 of key: ") ||
		!strings.Contains(errText(err), "WRONGPASS invalid cluster secret") {
		t.Errorf("SET through a wrong secret: %v", err)
	}
}

// TestClusterClient runs go-redis's ClusterClient against the fake
// cluster: it reads CLUSTER SLOTS and sends each key to its master.
func TestClusterClient(t *testing.T) {
	n1, n2, cls := startPair(t)
	for _, proto := range []int{2, 3} {
		cc := redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:        []string{n1.addr},
			Protocol:     proto,
			DialTimeout:  5 * time.Second,
			ReadTimeout:  5 * time.Second,
			WriteTimeout: 5 * time.Second,
		})
		t.Cleanup(func() { cc.Close() })
		for i := range 200 {
			k := fmt.Sprintf("cc%d:%d", proto, i)
			if err := cc.Set(bg, k, i, 0).Err(); err != nil {
				t.Fatalf("resp%d SET %s: %v", proto, k, err)
			}
		}
		for i := range 200 {
			k := fmt.Sprintf("cc%d:%d", proto, i)
			if got, err := cc.Get(bg, k).Int(); got != i || err != nil {
				t.Fatalf("resp%d GET %s = %d, %v", proto, k, got, err)
			}
			owner, other := n1, n2
			if ring.Slot([]byte(k))%2 == 1 {
				owner, other = n2, n1
			}
			if owner.value(k) != strconv.Itoa(i) || other.value(k) != "" {
				t.Fatalf("resp%d %s not on its master only", proto, k)
			}
		}
		if err := cc.ForEachShard(bg, func(ctx context.Context, c *redis.Client) error { return c.Ping(ctx).Err() }); err != nil {
			t.Errorf("resp%d ForEachShard: %v", proto, err)
		}
	}
	// Both nodes were written to directly: nothing was forwarded.
	if f := cls[0].forwards.Load() + cls[1].forwards.Load(); f != 0 || n1.b.Writes() < 150 || n2.b.Writes() < 150 {
		t.Errorf("writes: n1 %d, n2 %d, %d forwarded", n1.b.Writes(), n2.b.Writes(), f)
	}
}

// TestRedisCLICluster runs redis-cli -c against the fake cluster.
func TestRedisCLICluster(t *testing.T) {
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		t.Skip("redis-cli not installed")
	}
	n1, n2, cls := startPair(t)
	mine, theirs := keysOf(1)
	run := func(ts *testServer, args ...string) string {
		t.Helper()
		_, port, _ := net.SplitHostPort(ts.addr)
		ctx, cancel := context.WithTimeout(bg, 10*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-c", "-h", "127.0.0.1", "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %q: %v: %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(n1, "SET", mine[0], "a"); got != "OK" {
		t.Errorf("redis-cli SET (local) = %q", got)
	}
	if got := run(n1, "GET", mine[0]); got != "a" {
		t.Errorf("redis-cli GET (local) = %q", got)
	}
	if got := run(n1, "SET", theirs[0], "b"); got != "OK" || cls[0].forwards.Load() != 1 {
		t.Errorf("redis-cli SET (forwarded) = %q, %d forwards", got, cls[0].forwards.Load())
	}
	if got := run(n2, "GET", theirs[0]); got != "b" {
		t.Errorf("redis-cli GET from the owner = %q", got)
	}
	if got := run(n1, "CLUSTER", "KEYSLOT", theirs[0]); got != strconv.Itoa(int(ring.Slot([]byte(theirs[0])))) {
		t.Errorf("redis-cli CLUSTER KEYSLOT = %q", got)
	}
	if got := run(n1, "CLUSTER", "INFO"); !strings.Contains(got, "cluster_state:ok") {
		t.Errorf("redis-cli CLUSTER INFO = %q", got)
	}
	// redis-cli's cluster manager reads INFO, CLUSTER NODES and the slots.
	ctx, cancel := context.WithTimeout(bg, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, "--cluster", "check", n1.addr).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "[OK] All nodes agree about slots configuration.") || !strings.Contains(string(out), "[OK] All 16384 slots covered.") {
		t.Errorf("redis-cli --cluster check: %v\n%.2000s", err, out)
	}
}

// failoverParity is a parityCluster on which a forward to n2 never leaves
// (peer.ErrNotSent: n2 died before gossip noticed), and the failed call
// makes n2 suspected, so Route then makes this node the coordinator.
type failoverParity struct {
	*parityCluster
	suspected *atomic.Bool
}

func (f failoverParity) Route(key []byte) (string, bool) {
	if f.suspected.Load() {
		return "", true
	}
	return f.parityCluster.Route(key)
}

func (f failoverParity) Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error) {
	if to == "n2" {
		f.suspected.Store(true)
		return nil, fmt.Errorf("%w: dial refused", peer.ErrNotSent)
	}
	return f.parityCluster.Forward(ctx, to, proto, args)
}

// TestForwardNotSentRoutesAgain: a write whose coordinator could not be
// reached at all (the command never left) is routed once more and runs
// here once this node coordinates the key; it is not an error.
func TestForwardNotSentRoutesAgain(t *testing.T) {
	var suspected atomic.Bool
	n1, _, _ := startPairWith(t, func(p *parityCluster) Cluster { return failoverParity{p, &suspected} })
	_, theirs := keysOf(1)
	c := n1.client(t, 2, "")
	if err := c.Set(bg, theirs[0], "v", 0).Err(); err != nil {
		t.Fatalf("SET whose coordinator is unreachable: %v, want it coordinated here", err)
	}
	if n1.value(theirs[0]) != "v" {
		t.Errorf("the rerouted write is not on this node: %q", n1.value(theirs[0]))
	}
}

// TestForwardKeepsRESP3: a write forwarded for a RESP3 client is run on
// the coordinator as on a RESP3 connection (DKV.FWD3), so the client gets
// RESP3 types: SPOP with a count replies a set (~), as Redis 7 does.
func TestForwardKeepsRESP3(t *testing.T) {
	n1, _, _ := startPair(t)
	_, theirs := keysOf(1)
	raw := dialRaw(t, n1.addr)
	if got := raw.do("HELLO", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("HELLO 3: %q", got)
	}
	if got := raw.do("SADD", theirs[0], "a"); got != ":1\r\n" {
		t.Fatalf("SADD: %q", got)
	}
	if got := raw.do("SPOP", theirs[0], "5"); got != "~1\r\n$1\r\na\r\n" {
		t.Errorf("forwarded SPOP for a RESP3 client = %q, want a RESP3 set", got)
	}
}
