package node

import (
	"slices"
	"strconv"
	"strings"

	"github.com/dynakv/dynakv/resp"
)

// infoSections composes INFO's node sections from the parts' own
// renderings: replication (the coordinator and hints), cluster
// (cluster.Cluster.Info), transfer and its alias handoff
// (transfer.Status.Fields), and antientropy (Scheduler.Status) when it
// runs. Each Fields func is called from client goroutines.
func (n *Node) infoSections() []resp.InfoSection {
	secs := []resp.InfoSection{
		{Name: "replication", Default: true, Fields: n.infoReplication},
		{Name: "cluster", Default: true, Fields: func() []resp.InfoField { return fields(n.cluster.Info()) }},
		{Name: "transfer", Default: true, Fields: func() []resp.InfoField { return fields(n.transfer.Status().Fields("transfer")) }},
		// The section's name in earlier versions, with its old field names;
		// only shown when asked for by name or with INFO all.
		{Name: "handoff", Fields: func() []resp.InfoField { return fields(n.transfer.Status().Fields("handoff")) }},
	}
	if n.ae != nil {
		// Not in the default INFO: it lists every partition.
		secs = append(secs, resp.InfoSection{Name: "antientropy", Fields: func() []resp.InfoField { return fields(n.ae.Status()) }})
	}
	return secs
}

// fields converts a part's name/value pairs to INFO fields.
func fields[F ~struct{ Name, Value string }](fs []F) []resp.InfoField {
	out := make([]resp.InfoField, len(fs))
	for i, f := range fs {
		out[i] = resp.InfoField(f)
	}
	return out
}

// infoReplication is INFO's replication section: N, R, W, read repairs and
// the hints held for other nodes.
func (n *Node) infoReplication() []resp.InfoField {
	cc := n.coord.Config()
	hs := n.store.HintStats()
	targets, _ := n.store.HintTargets()
	pending := 0
	var per []string
	for id, c := range targets {
		pending += c
		per = append(per, id+"="+strconv.Itoa(c))
	}
	slices.Sort(per)
	return []resp.InfoField{
		{Name: "role", Value: "master"},
		{Name: "replicas_n", Value: strconv.Itoa(cc.N)},
		{Name: "read_quorum", Value: strconv.Itoa(cc.R)},
		{Name: "write_quorum", Value: strconv.Itoa(cc.W)},
		{Name: "read_repairs", Value: strconv.FormatInt(n.coord.Stats().ReadRepairs.Load(), 10)},
		{Name: "hints_pending", Value: strconv.Itoa(pending)},
		{Name: "hints_pending_by_target", Value: strings.Join(per, ",")},
		{Name: "hints_stored", Value: strconv.FormatInt(hs.Stored, 10)},
		{Name: "hints_delivered", Value: strconv.FormatInt(hs.Delivered, 10)},
		{Name: "hints_dropped", Value: strconv.FormatInt(hs.Dropped, 10)},
		{Name: "hints_delivery_failures", Value: strconv.FormatInt(n.hints.Stats().Failed, 10)},
	}
}
