package resp

import (
	"cmp"
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/ring"
)

// Cluster is the node's view of the cluster, what the RESP layer needs of
// it: the slot table and members for the CLUSTER commands, and the routing
// and forwarding of writes. It is nil (the default) for a lone node.
//
// Its methods are called from connection goroutines, concurrently, and
// must be safe for that. Successive calls may see different ring versions;
// the CLUSTER commands tolerate that.
type Cluster interface {
	// MyID returns this node's ID (CLUSTER MYID, "myself" in CLUSTER
	// NODES).
	MyID() string
	// Version is the ring state's version: CLUSTER INFO's
	// cluster_current_epoch and cluster_my_epoch, and every node's
	// config-epoch in CLUSTER NODES.
	Version() uint64
	// Shards returns the slot table: contiguous slot ranges [Start, End]
	// (inclusive, as Redis prints them) with their replicas in preference
	// order, the first healthy one first. Adjacent ranges with equal
	// replica lists may be merged by the implementation; the RESP layer
	// merges them anyway.
	Shards() []Shard
	// Nodes returns every ring member.
	Nodes() []ClusterNode
	// Route tells whether this node coordinates a plain client's write of
	// key (it is the key's coordinator: its first healthy replica, the
	// master in CLUSTER SLOTS); if not, to names the node to forward it
	// to. So conditional writes are serialized on one node while no node
	// fails.
	Route(key []byte) (to string, local bool)
	// RoutePeer is Route for a write that arrived on a peer connection
	// (forwarded by another node): local at any of the key's top-N
	// replicas, so two nodes that disagree on health never bounce a write
	// between them.
	RoutePeer(key []byte) (to string, local bool)
	// RouteVia routes a versioned write to via, the replica that answered
	// its token's read first, when via is a healthy replica of key
	// (Dynamo §6.4); otherwise as Route.
	RouteVia(key []byte, via string) (to string, local bool)
	// Forward sends a client command to node to on a peer connection (one
	// authenticated with the cluster secret) and returns its reply: one
	// complete raw RESP2 reply, which the client gets byte for byte (a
	// null converted for RESP3 clients). Error replies are replies too,
	// relayed verbatim, except those refusing the peer connection itself
	// (codes WRONGPASS, NOAUTH, NOPERM). A Go error means only that the
	// node could not be reached or did not answer; the client then gets
	// "-NOQUORUM cannot reach replica <to> of key: <error>" (the write may
	// have landed). An error wrapping peer.ErrNotSent means the command
	// never left this node, and resp routes it once more (Route should by
	// then avoid node to). Timeouts are Forward's own when ctx has no
	// deadline; a deadline in ctx replaces them (resp sets one, far off,
	// for scripts and EXEC blocks: see forwardContext). ctx is cancelled
	// when the server closes.
	// proto is the client's protocol (2 or 3): the reply comes back in it
	// (peer.CmdForward3 carries a RESP3 client's command).
	Forward(ctx context.Context, to string, proto int, args [][]byte) ([]byte, error)
	// Forget removes a node from the ring for good (CLUSTER FORGET).
	Forget(ctx context.Context, id string) error
}

// Shard is one slot range of the slot table and the nodes holding it.
type Shard struct {
	// Start and End are the first and last slot of the range, inclusive.
	Start, End int
	// Replicas are the range's nodes in preference order, the first
	// healthy one first: Redis clients see Replicas[0] as the range's
	// master and the others as its replicas.
	Replicas []ClusterNode
}

// ClusterNode is a node as the CLUSTER commands show it.
type ClusterNode struct {
	// ID is the node's ring ID ("n1"), shown as is: ring IDs contain no
	// space or control character, and the clients dynakv is tested with
	// (go-redis, redis-cli) need no 40-hex-digit Redis IDs.
	ID string
	// Host and Port are the node's RESP (client) address. Host should be
	// an IP address; a host name is shown as both. Port is 0 when the
	// node has no plaintext listener (Redis's port 0).
	Host string
	Port int
	// TLSPort is the node's TLS RESP port on Host, 0 for none (Redis's
	// tls-port). As Redis (shouldReturnTlsInfo), CLUSTER SLOTS, NODES and
	// REPLICAS show a TLS connection the TLS port and a plaintext one the
	// plaintext port (the other when the node has only one); CLUSTER
	// SHARDS shows both, as "port" and "tls-port".
	TLSPort int
	// BusPort is the port CLUSTER NODES shows as the cluster bus port
	// ("ip:port@cport"): dynakv's gossip port; 0 shows Port + 10000, as
	// Redis's default.
	BusPort int
	// Alive is the failure detector's verdict: a dead node is flagged
	// "fail" in CLUSTER NODES and "failed" in CLUSTER SHARDS, and is left
	// out of CLUSTER SLOTS unless it comes first (no healthy replica).
	Alive bool
	// Myself marks this node (CLUSTER NODES' "myself" flag); the node
	// whose ID is Cluster.MyID is marked anyway.
	Myself bool
	// Slots are the inclusive slot ranges the node is master (first
	// replica) for, as CLUSTER NODES lists them: a node with slots is a
	// "master", any other a "slave" of the master of the first range it
	// replicates. Implementations may leave Slots nil on every node: the
	// ranges are then derived from Shards (the ranges a node comes first
	// in). Only Nodes' Slots are read, not those in Shard.Replicas.
	Slots [][2]int
}

// sameNode reports whether a and b show the same in CLUSTER SLOTS and
// SHARDS (Myself and Slots aside).
func sameNode(a, b ClusterNode) bool {
	return a.ID == b.ID && a.Host == b.Host && a.Port == b.Port && a.TLSPort == b.TLSPort && a.Alive == b.Alive
}

// clientPort is the port of n a client on a TLS connection (tlsConn) or a
// plaintext one is shown, Redis's clusterNodeClientPort: the port of its
// own kind, else the other.
func (n ClusterNode) clientPort(tlsConn bool) int {
	if tlsConn && n.TLSPort != 0 || n.Port == 0 {
		return n.TLSPort
	}
	return n.Port
}

// clusterBusOffset is the distance from a node's port to its cluster bus
// port, as Redis prints it in CLUSTER NODES ("ip:port@cport").
const clusterBusOffset = 10000

// clusterCommands are CLUSTER, READONLY and READWRITE.
func clusterCommands() []Command {
	return []Command{
		{Name: "cluster", Arity: -2, Subcommands: []Command{
			{Name: "info", Arity: 2, Flags: FlagStale, Handler: cmdClusterInfo},
			{Name: "myid", Arity: 2, Flags: FlagStale, Handler: cmdClusterMyID},
			{Name: "keyslot", Arity: 3, Flags: FlagStale, Handler: cmdClusterKeySlot},
			{Name: "countkeysinslot", Arity: 3, Flags: FlagStale, Handler: cmdClusterCountKeysInSlot},
			{Name: "getkeysinslot", Arity: 4, Flags: FlagStale, Handler: cmdClusterGetKeysInSlot},
			{Name: "slots", Arity: 2, Flags: FlagStale, Handler: cmdClusterSlots},
			{Name: "shards", Arity: 2, Flags: FlagStale, Handler: cmdClusterShards},
			{Name: "nodes", Arity: 2, Flags: FlagStale, Handler: cmdClusterNodes},
			{Name: "replicas", Arity: 3, Flags: FlagAdmin | FlagStale, Handler: cmdClusterReplicas},
			{Name: "slaves", Arity: 3, Flags: FlagAdmin | FlagStale, Handler: cmdClusterReplicas},
			{Name: "forget", Arity: 3, Flags: FlagAdmin | FlagStale, Handler: cmdClusterForget},
			{Name: "leave", Arity: 2, Flags: FlagAdmin | FlagStale, Handler: cmdClusterLeave},
			{Name: "repair", Arity: -2, Flags: FlagAdmin | FlagStale, Handler: cmdClusterRepair},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdClusterHelp},
		}},
		{Name: "readonly", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdReadOnly},
		{Name: "readwrite", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdReadOnly},
	}
}

// cluster returns the configured Cluster, or replies Redis's error for a
// server without cluster support and returns nil.
func (c *Conn) cluster() Cluster {
	cl := c.srv.cfg.Cluster
	if cl == nil {
		c.WriteError(msgNoCluster)
	}
	return cl
}

// cmdReadOnly is READONLY and READWRITE: +OK in a cluster. Any node serves
// reads (the coordinator reads from the key's replicas), so there is no
// mode to switch.
func cmdReadOnly(c *Conn, _ [][]byte) {
	if c.cluster() != nil {
		c.WriteOK()
	}
}

// cmdClusterKeySlot is CLUSTER KEYSLOT key, with or without a Cluster
// (unlike Redis, which refuses it outside cluster mode): the slot is a
// pure function of the key.
func cmdClusterKeySlot(c *Conn, args [][]byte) { c.WriteInt(int64(ring.Slot(args[2]))) }

func cmdClusterMyID(c *Conn, _ [][]byte) {
	if cl := c.cluster(); cl != nil {
		c.WriteBulkString(cl.MyID())
	}
}

// slotTable returns the shards sorted by slot, clipped to the slot space,
// without overlaps (an earlier range wins), without ranges that have no
// replica, and with adjacent ranges of equal replica lists merged.
func slotTable(shards []Shard) []Shard {
	in := slices.Clone(shards)
	slices.SortStableFunc(in, func(a, b Shard) int { return cmp.Compare(a.Start, b.Start) })
	out := make([]Shard, 0, len(in))
	next := 0 // the first slot not yet covered
	for _, sh := range in {
		sh.Start, sh.End = max(sh.Start, next), min(sh.End, ring.Slots-1)
		if sh.Start > sh.End || len(sh.Replicas) == 0 {
			continue
		}
		if n := len(out); n > 0 && out[n-1].End+1 == sh.Start && slices.EqualFunc(out[n-1].Replicas, sh.Replicas, sameNode) {
			out[n-1].End = sh.End
		} else {
			out = append(out, sh)
		}
		next = sh.End + 1
	}
	return out
}

// slotsNodes are the nodes CLUSTER SLOTS lists for a range: the master,
// then the live replicas (Redis leaves failed replicas out).
func slotsNodes(sh Shard) []ClusterNode {
	nodes := []ClusterNode{sh.Replicas[0]}
	for _, n := range sh.Replicas[1:] {
		if n.Alive {
			nodes = append(nodes, n)
		}
	}
	return nodes
}

// cmdClusterSlots is CLUSTER SLOTS, in Redis 7's format: for each range,
// [start, end, master, replica…], each node as [host, port, id, {}].
func cmdClusterSlots(c *Conn, _ [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	shards := slotTable(cl.Shards())
	c.WriteArray(len(shards))
	for _, sh := range shards {
		nodes := slotsNodes(sh)
		c.WriteArray(2 + len(nodes))
		c.WriteInt(int64(sh.Start))
		c.WriteInt(int64(sh.End))
		for _, n := range nodes {
			c.WriteArray(4)
			c.WriteBulkString(n.Host)
			c.WriteInt(int64(n.clientPort(c.tls)))
			c.WriteBulkString(n.ID)
			c.WriteMap(0) // networking metadata: none
		}
	}
}

// replicaKey identifies a replica list, for grouping ranges into shards.
func replicaKey(nodes []ClusterNode) string {
	ids := make([]string, len(nodes))
	for i, n := range nodes {
		ids[i] = n.ID
	}
	return strings.Join(ids, " ")
}

// isHostname reports whether host is a host name rather than an IP
// address (or nothing, as Redis shows a node whose IP it does not know).
func isHostname(host string) bool { return host != "" && net.ParseIP(host) == nil }

// cmdClusterShards is CLUSTER SHARDS, in Redis 7's format. A Redis shard
// is a master and its replicas; here it is a replica list: the ranges
// that share one are one shard, with their slots as a flat [start, end,
// start, end…] list.
func cmdClusterShards(c *Conn, _ [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	type group struct {
		slots []int
		nodes []ClusterNode
	}
	var groups []*group
	byKey := map[string]*group{}
	for _, sh := range slotTable(cl.Shards()) {
		k := replicaKey(sh.Replicas)
		g := byKey[k]
		if g == nil {
			g = &group{nodes: sh.Replicas}
			byKey[k] = g
			groups = append(groups, g)
		}
		g.slots = append(g.slots, sh.Start, sh.End)
	}
	c.WriteArray(len(groups))
	for _, g := range groups {
		c.WriteMap(2)
		c.WriteBulkString("slots")
		c.WriteArray(len(g.slots))
		for _, s := range g.slots {
			c.WriteInt(int64(s))
		}
		c.WriteBulkString("nodes")
		c.WriteArray(len(g.nodes))
		for i, n := range g.nodes {
			hostname := isHostname(n.Host)
			fields := 6
			for _, on := range []bool{hostname, n.Port != 0, n.TLSPort != 0} {
				if on {
					fields++
				}
			}
			c.WriteMap(fields)
			c.WriteBulkString("id")
			c.WriteBulkString(n.ID)
			if n.Port != 0 {
				c.WriteBulkString("port")
				c.WriteInt(int64(n.Port))
			}
			if n.TLSPort != 0 {
				c.WriteBulkString("tls-port")
				c.WriteInt(int64(n.TLSPort))
			}
			c.WriteBulkString("ip")
			c.WriteBulkString(n.Host)
			c.WriteBulkString("endpoint")
			c.WriteBulkString(n.Host)
			if hostname {
				c.WriteBulkString("hostname")
				c.WriteBulkString(n.Host)
			}
			c.WriteBulkString("role")
			if i == 0 {
				c.WriteBulkString("master")
			} else {
				c.WriteBulkString("replica")
			}
			c.WriteBulkString("replication-offset")
			c.WriteInt(0)
			c.WriteBulkString("health")
			if n.Alive {
				c.WriteBulkString("online")
			} else {
				c.WriteBulkString("failed")
			}
		}
	}
}

// topology is the cluster as CLUSTER NODES presents it: who is master of
// which slots, and whose replica each other node is.
type topology struct {
	myID     string
	version  uint64
	nodes    []ClusterNode
	shards   []Shard
	slots    map[string][][2]int // master ID → its merged slot ranges
	masterOf map[string]string   // slot-less node ID → the master it is listed as replica of
}

func newTopology(cl Cluster) *topology {
	t := &topology{
		myID:     cl.MyID(),
		version:  cl.Version(),
		nodes:    cl.Nodes(),
		shards:   slotTable(cl.Shards()),
		slots:    map[string][][2]int{},
		masterOf: map[string]string{},
	}
	for _, n := range t.nodes {
		if len(n.Slots) > 0 {
			t.slots[n.ID] = append(t.slots[n.ID], n.Slots...)
		}
	}
	if len(t.slots) == 0 { // derive them: a range's master comes first
		for _, sh := range t.shards {
			id := sh.Replicas[0].ID
			t.slots[id] = append(t.slots[id], [2]int{sh.Start, sh.End})
		}
	}
	for id, r := range t.slots {
		t.slots[id] = mergeRanges(r)
	}
	for _, sh := range t.shards {
		for _, n := range sh.Replicas[1:] {
			if _, master := t.slots[n.ID]; !master && t.masterOf[n.ID] == "" {
				t.masterOf[n.ID] = sh.Replicas[0].ID
			}
		}
	}
	return t
}

// mergeRanges sorts inclusive slot ranges and merges those that touch or
// overlap, as Redis prints a node's slots.
func mergeRanges(r [][2]int) [][2]int {
	r = slices.Clone(r)
	slices.SortFunc(r, func(a, b [2]int) int { return cmp.Compare(a[0], b[0]) })
	out := r[:0]
	for _, x := range r {
		if x[0] > x[1] {
			continue
		}
		if n := len(out); n > 0 && x[0] <= out[n-1][1]+1 {
			out[n-1][1] = max(out[n-1][1], x[1])
		} else {
			out = append(out, x)
		}
	}
	return out
}

// line is node n's line of CLUSTER NODES, without the newline:
// <id> <ip:port@cport[,hostname]> <flags> <master> <ping-sent> <pong-recv>
// <config-epoch> <link-state> <slot>…
func (t *topology) line(n ClusterNode, tlsConn bool) string {
	var b strings.Builder
	b.WriteString(n.ID)
	b.WriteByte(' ')
	port := n.clientPort(tlsConn)
	bus := n.BusPort
	if bus == 0 {
		bus = port + clusterBusOffset
	}
	b.WriteString(n.Host + ":" + strconv.Itoa(port) + "@" + strconv.Itoa(bus))
	if isHostname(n.Host) {
		b.WriteString("," + n.Host)
	}
	b.WriteByte(' ')
	if n.Myself || n.ID == t.myID {
		b.WriteString("myself,")
	}
	master := t.masterOf[n.ID]
	if master == "" {
		b.WriteString("master")
	} else {
		b.WriteString("slave")
	}
	if !n.Alive {
		b.WriteString(",fail")
	}
	if master == "" {
		master = "-"
	}
	link := "connected"
	if !n.Alive {
		link = "disconnected"
	}
	// ping-sent and pong-recv are 0: memberlist, not a cluster bus, pings.
	b.WriteString(" " + master + " 0 0 " + strconv.FormatUint(t.version, 10) + " " + link)
	for _, r := range t.slots[n.ID] {
		b.WriteByte(' ')
		b.WriteString(strconv.Itoa(r[0]))
		if r[1] != r[0] {
			b.WriteString("-" + strconv.Itoa(r[1]))
		}
	}
	return b.String()
}

// cmdClusterNodes is CLUSTER NODES: one line per ring member, in Redis's
// format. A node that comes first for some ranges is a "master" of those
// slots; any other is a "slave" of the master of the first range it
// replicates (or a slot-less master if it replicates none). Dead nodes
// are flagged "fail" and "disconnected"; the cluster bus port shown is
// the node's gossip port (ClusterNode.BusPort; the port + 10000, Redis's
// default, when unknown); every config epoch is the ring
// version. The connection becomes cluster-aware (see scan.go): redis-cli
// --cluster asks its seed node for CLUSTER NODES, then sums DBSIZE over
// the masters, the seed's on that same connection.
func cmdClusterNodes(c *Conn, _ [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	c.clusterAware = true
	t := newTopology(cl)
	var b strings.Builder
	for _, n := range t.nodes {
		b.WriteString(t.line(n, c.tls))
		b.WriteByte('\n')
	}
	c.WriteVerbatim(b.String())
}

// cmdClusterReplicas is CLUSTER REPLICAS (and the deprecated SLAVES) id,
// as Redis 7.0's clusterCommand: the CLUSTER NODES lines (same format,
// no newline) of the nodes CLUSTER NODES shows as "slave" of id, in
// CLUSTER NODES' order. The mapping is CLUSTER NODES' own (topology):
// every node that comes first in some range is a master, and only a node
// that masters no range is a slave, of the master of the first range it
// replicates. The other replicas of id's ranges that master ranges of
// their own (which CLUSTER SLOTS and SHARDS list as replicas of those
// ranges) are masters here, so they are not listed: no node is both a
// master and a replica in CLUSTER NODES. An ID that is no ring member
// gets "ERR Unknown node <id>", a node shown as slave "ERR The specified
// node is not a master", and a master without slaves (slots or not) an
// empty array.
func cmdClusterReplicas(c *Conn, args [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	id := string(args[2])
	t := newTopology(cl)
	if !slices.ContainsFunc(t.nodes, func(n ClusterNode) bool { return n.ID == id }) {
		c.WriteError("ERR Unknown node " + cstr(args[2], 1<<10))
		return
	}
	if t.masterOf[id] != "" {
		c.WriteError("ERR The specified node is not a master")
		return
	}
	var reps []ClusterNode
	for _, n := range t.nodes {
		if n.ID != id && t.masterOf[n.ID] == id {
			reps = append(reps, n)
		}
	}
	c.WriteArray(len(reps))
	for _, n := range reps {
		c.WriteBulkString(t.line(n, c.tls))
	}
}

// cmdClusterInfo is CLUSTER INFO, in Redis 7's format and order; the
// message counters are 0 (the cluster bus is memberlist's gossip).
func cmdClusterInfo(c *Conn, _ [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	t := newTopology(cl)
	var assigned, ok, fail int
	for _, sh := range t.shards {
		n := sh.End - sh.Start + 1
		assigned += n
		if sh.Replicas[0].Alive {
			ok += n
		} else {
			fail += n
		}
	}
	state := "ok"
	if assigned < ring.Slots || fail > 0 {
		state = "fail"
	}
	epoch := strconv.FormatUint(t.version, 10)
	fields := []InfoField{
		{"cluster_state", state},
		{"cluster_slots_assigned", strconv.Itoa(assigned)},
		{"cluster_slots_ok", strconv.Itoa(ok)},
		{"cluster_slots_pfail", "0"},
		{"cluster_slots_fail", strconv.Itoa(fail)},
		{"cluster_known_nodes", strconv.Itoa(len(t.nodes))},
		{"cluster_size", strconv.Itoa(len(t.slots))},
		{"cluster_current_epoch", epoch},
		{"cluster_my_epoch", epoch},
		{"cluster_stats_messages_sent", "0"},
		{"cluster_stats_messages_received", "0"},
		{"total_cluster_links_buffer_limit_exceeded", "0"},
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f.Name + ":" + f.Value + "\r\n")
	}
	c.WriteVerbatim(b.String())
}

// cmdClusterForget is CLUSTER FORGET id: the node leaves the ring for
// good (Cluster.Forget), with Redis's errors for this node and unknown
// ones.
func cmdClusterForget(c *Conn, args [][]byte) {
	cl := c.cluster()
	if cl == nil {
		return
	}
	id := string(args[2])
	unknown := "ERR Unknown node " + cstr(args[2], 1<<10)
	switch {
	case id == cl.MyID():
		c.WriteError(msgForgetMyself)
		return
	case !slices.ContainsFunc(cl.Nodes(), func(n ClusterNode) bool { return n.ID == id }):
		c.WriteError(unknown)
		return
	}
	switch err := cl.Forget(c.srv.ctx, id); {
	case errors.Is(err, ring.ErrUnknownMember):
		c.WriteError(unknown)
	case err != nil:
		c.WriteErr(err)
	default:
		c.WriteOK()
	}
}

func cmdClusterHelp(c *Conn, _ [][]byte) {
	if c.cluster() == nil {
		return
	}
	writeHelp(c, []string{
		"CLUSTER <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"FORGET <node-id>",
		"    Remove a node from the cluster.",
		"INFO",
		"    Return information about the cluster.",
		"LEAVE",
		"    Hand this node's partitions off, then remove it from the cluster.",
		"COUNTKEYSINSLOT <slot>",
		"    Return the number of keys in <slot>.",
		"GETKEYSINSLOT <slot> <count>",
		"    Return key names stored by current node in a slot.",
		"KEYSLOT <key>",
		"    Return the hash slot for <key>.",
		"MYID",
		"    Return the node id.",
		"NODES",
		"    Return cluster configuration seen by node. Output format:",
		"    <id> <ip:port> <flags> <master> <pings> <pongs> <epoch> <link> <slot> ...",
		"REPAIR [<partition>]",
		"    Run anti-entropy exchanges of every partition of this node (or one) now.",
		"REPLICAS <node-id>",
		"    Return <node-id> replicas.",
		"SLOTS",
		"    Return information about slots range mappings. Each range is made of:",
		"    start, end, master and replicas IP addresses, ports and ids",
		"SHARDS",
		"    Return information about slot range mappings and the nodes associated with them.",
		"HELP",
		"    Prints this help.",
	})
}
