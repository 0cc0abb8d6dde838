package cluster

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// Liveness returns node id's gossip liveness: member.Alive for Self,
// member.Unknown before Attach.
func (c *Cluster) Liveness(id string) member.Liveness {
	if ring.NodeID(id) == c.cfg.Self {
		return member.Alive
	}
	ml := c.membership()
	if ml == nil {
		return member.Unknown
	}
	return ml.Liveness(id)
}

// Alive reports whether node id is believed up by gossip (Self always is).
func (c *Cluster) Alive(id string) bool { return c.Liveness(id) == member.Alive }

// IsMember reports whether id is in the current ring; true before this
// node has a ring (nothing is known to be gone).
func (c *Cluster) IsMember(id string) bool {
	st := c.Current()
	if st == nil {
		return true
	}
	_, ok := st.Member(ring.NodeID(id))
	return ok
}

// Serving returns the top N of partition p's serving list: its replicas
// (its old replicas while p is handed off).
func Serving(st *ring.State, p int) []ring.NodeID {
	l := st.ServingList(p)
	return l[:min(len(l), st.Replicas())]
}

// ReplicasOf returns key's replicas in st (Serving of its partition).
func ReplicasOf(st *ring.State, key []byte) []ring.NodeID {
	return Serving(st, st.KeyPartition(key))
}

// The ring views of anti-entropy (antientropy.RingView, ReapRing and
// Liveness): each reads the current state once, nil-safe before a ring.

// Partitions returns Q of the current ring (0 before one).
func (c *Cluster) Partitions() int {
	if st := c.Current(); st != nil {
		return st.Partitions()
	}
	return 0
}

// Replicas returns the top N of partition p's preference list.
func (c *Cluster) Replicas(p int) []string {
	if st := c.Current(); st != nil {
		return ids(st.PreferenceList(p, st.Replicas()))
	}
	return nil
}

// Members returns the IDs of the current ring's members.
func (c *Cluster) Members() []string {
	st := c.Current()
	if st == nil {
		return nil
	}
	out := make([]string, 0, len(st.Members()))
	for _, m := range st.Members() {
		out = append(out, string(m.ID))
	}
	return out
}

// KeyReplicas returns key's replicas (ReplicasOf the current state).
func (c *Cluster) KeyReplicas(key []byte) []string {
	if st := c.Current(); st != nil {
		return ids(ReplicasOf(st, key))
	}
	return nil
}

// Moving reports whether key's partition is being handed off (true before
// a ring: nothing is settled).
func (c *Cluster) Moving(key []byte) bool {
	st := c.Current()
	if st == nil {
		return true
	}
	_, moving := st.Moving(st.KeyPartition(key))
	return moving
}

func ids(l []ring.NodeID) []string {
	out := make([]string, len(l))
	for i, id := range l {
		out[i] = string(id)
	}
	return out
}

// Field is one name:value line of INFO.
type Field struct{ Name, Value string }

// Info returns INFO cluster's fields: the ring and each member's gossip
// liveness.
func (c *Cluster) Info() []Field {
	f := []Field{{"cluster_enabled", "1"}}
	st := c.Current()
	if st == nil {
		return f
	}
	counts := map[string]int{}
	var states []string
	for _, m := range st.Members() {
		l := c.Liveness(string(m.ID)).String()
		counts[l]++
		states = append(states, string(m.ID)+"="+l)
	}
	return append(f,
		Field{"ring_version", strconv.FormatUint(st.Version(), 10)},
		Field{"ring_partitions", strconv.Itoa(st.Partitions())},
		Field{"ring_members", strconv.Itoa(len(st.Members()))},
		Field{"nodes_alive", strconv.Itoa(counts["alive"])},
		Field{"nodes_suspect", strconv.Itoa(counts["suspect"])},
		Field{"nodes_dead", strconv.Itoa(counts["dead"] + counts["left"] + counts["unknown"])},
		Field{"nodes", strings.Join(states, ",")},
		Field{"flush_epochs", flushEpochs(st)},
	)
}

// ClientAddrs returns the cluster-client address (Config.ClientAddr) of
// every member whose gossip Meta carries one, this node's included, by
// node ID.
func (c *Cluster) ClientAddrs() map[string]string {
	return c.metaAddrs(c.cfg.ClientAddr, func(md Meta) string { return md.Client })
}

// TLSClientAddrs is ClientAddrs for the TLS client addresses
// (Config.TLSClientAddr).
func (c *Cluster) TLSClientAddrs() map[string]string {
	return c.metaAddrs(c.cfg.TLSClientAddr, func(md Meta) string { return md.TLSClient })
}

// metaAddrs returns, by node ID, the address field of every member's
// gossip Meta that carries one, own for this node's.
func (c *Cluster) metaAddrs(own string, field func(Meta) string) map[string]string {
	out := map[string]string{}
	if own != "" {
		out[string(c.cfg.Self)] = own
	}
	ml := c.membership()
	if ml == nil {
		return out
	}
	for _, gm := range ml.Members() {
		var md Meta
		if err := json.Unmarshal(gm.Meta, &md); err == nil && field(md) != "" && gm.ID != string(c.cfg.Self) {
			out[gm.ID] = field(md)
		}
	}
	return out
}

// flushEpochs renders the databases' flush epochs for INFO:
// "db0=1,db3=2", only those ever flushed ("" if none).
func flushEpochs(st *ring.State) string {
	var out []string
	for db, e := range st.FlushEpochs() {
		if e > 0 {
			out = append(out, "db"+strconv.Itoa(db)+"="+strconv.FormatUint(e, 10))
		}
	}
	return strings.Join(out, ",")
}
