package node

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/monitor"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

// recentRecords is how many warnings and errors the status page lists.
const recentRecords = 50

// startHTTP opens the operational HTTP listener (Config.HTTP: /metrics,
// the status page, /healthz, /readyz) before the node joins, so an
// orchestrator's liveness probe is answered while it waits to be admitted
// (and /readyz says it is not ready yet).
func (n *Node) startHTTP() error {
	if n.cfg.HTTP == "" {
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.HTTP)
	if err != nil {
		return fmt.Errorf("node: http listen (--http): %w", err)
	}
	n.hln = ln
	n.hsrv = &http.Server{Handler: monitor.Handler(n.snapshot), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := n.hsrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			n.log.Error("HTTP listener stopped", "err", err)
		}
	}()
	return nil
}

// stopHTTP closes the HTTP listener and its connections.
func (n *Node) stopHTTP() {
	if n.hsrv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		if err := n.hsrv.Shutdown(ctx); err != nil {
			n.hsrv.Close()
		}
		n.hsrv = nil
	}
}

// HTTPAddr returns the address of the operational HTTP listener, "" when
// it is off.
func (n *Node) HTTPAddr() string {
	if n.hln == nil {
		return ""
	}
	return n.hln.Addr().String()
}

// snapshot is monitor's Source: the node's state from the parts' own
// counters (the ones INFO renders).
func (n *Node) snapshot() *monitor.Snapshot {
	s := &monitor.Snapshot{NodeID: n.cfg.ID, Time: time.Now(), Recent: n.recent.Records()}
	if !n.up.Load() {
		s.ReadyReason = "not serving: starting (waiting to be admitted to a ring) or stopping"
		return s
	}
	s.Started = true
	st := n.cluster.Current()
	cc := n.coord.Config()
	s.Ring = monitor.Ring{Version: st.Version(), Partitions: st.Partitions(), N: st.Replicas(), R: cc.R, W: cc.W}
	first := map[ring.NodeID]int{}
	for _, id := range st.Owners() {
		first[id]++
	}
	replicated := map[ring.NodeID]int{}
	for p := range st.Partitions() {
		for _, id := range st.PreferenceList(p, st.Replicas()) {
			replicated[id]++
		}
	}
	self := false
	for _, m := range st.Members() {
		id := string(m.ID)
		status := string(m.Status)
		if status == "" {
			status = string(ring.StatusJoined)
		}
		alive := m.ID == ring.NodeID(n.cfg.ID) || n.coord.Healthy(id)
		s.Ring.Nodes = append(s.Ring.Nodes, monitor.Node{ID: id, Addr: m.Addr, Gossip: m.GossipAddr, Weight: m.Weight,
			Status: status, Alive: alive, Partitions: first[m.ID], Replicated: replicated[m.ID], Self: id == n.cfg.ID})
		if id == n.cfg.ID {
			self = status == string(ring.StatusJoined)
		}
	}
	s.Commands = n.srv.CommandStats(monitor.LatencyBounds)
	s.Errors = n.srv.ErrorStats()
	s.Server = n.srv.Stats()
	s.PubSub.Channels, s.PubSub.Patterns, s.PubSub.ShardChannels = n.srv.PubSubStats()
	cs := n.coord.Stats()
	s.Quorum = monitor.Quorum{
		ReadsOK: cs.ReadsOK.Load(), ReadsLost: cs.ReadsLost.Load(), ReadTimeouts: cs.ReadTimeouts.Load(),
		WritesOK: cs.WritesOK.Load(), WritesLost: cs.WritesLost.Load(), WriteTimeouts: cs.WriteTimeouts.Load(),
		ReadRepairs: cs.ReadRepairs.Load(), Suspicions: cs.Suspicions.Load(),
	}
	s.Hints = n.hintsSnapshot()
	s.Transfer = n.transfer.Status()
	prog := n.transfer.Progress()
	for _, p := range st.MovingPartitions() {
		old, _ := st.Moving(p)
		mv := monitor.Move{Partition: p, From: ids(old), To: ids(st.Incoming(p)), Sent: map[string]transfer.Progress{}}
		key := transfer.MoveKey(st, p)
		for tk, pg := range prog {
			if tk.Partition == p && pg.Move == key {
				mv.Sent[string(tk.To)] = pg
			}
		}
		s.Moves = append(s.Moves, mv)
	}
	if n.ae != nil {
		s.AE = aeSnapshot(n.ae.Status())
	}
	ss := n.store.Stats()
	s.Store = monitor.Store{Writes: ss.Writes.Load(), Expired: ss.Expired.Load(), Reaped: ss.Reaped.Load(), Purged: ss.Purged.Load()}
	if m, err := n.store.Metrics(); err == nil {
		s.Store.Pebble = m
	}
	switch {
	case !self:
		s.ReadyReason = "not a joined member of the ring (leaving or left)"
	case s.Transfer.Leave != "no":
		s.ReadyReason = "leaving: " + s.Transfer.Leave
	default:
		s.Ready = true
	}
	return s
}

// hintsSnapshot joins the store's pending hints per target with the
// deliverer's per-target counters.
func (n *Node) hintsSnapshot() monitor.Hints {
	hs := n.store.HintStats()
	ds := n.hints.Stats()
	h := monitor.Hints{Stored: hs.Stored, DroppedFull: max(0, hs.Dropped-ds.DroppedAge-ds.DroppedGone)}
	by := map[string]*monitor.HintTarget{}
	get := func(id string) *monitor.HintTarget {
		if t := by[id]; t != nil {
			return t
		}
		t := &monitor.HintTarget{Target: id}
		by[id] = t
		return t
	}
	targets, _ := n.store.HintTargets()
	for id, c := range targets {
		get(id).Pending = c
	}
	n.hints.TargetStats(func(id string, ts *hints.TargetStats) {
		t := get(id)
		t.Delivered, t.Dropped, t.DeliveryFailures = ts.Delivered.Load(), ts.Dropped.Load(), ts.Failed.Load()
	})
	for _, t := range by {
		h.Targets = append(h.Targets, *t)
	}
	slices.SortFunc(h.Targets, func(a, b monitor.HintTarget) int { return strings.Compare(a.Target, b.Target) })
	return h
}

// aeSnapshot reads the anti-entropy scheduler's Status fields (INFO
// antientropy's, the one rendering of its counters).
func aeSnapshot(fs []antientropy.Field) monitor.AntiEntropy {
	ae := monitor.AntiEntropy{Enabled: true, OldestComparedSeconds: -1}
	num := func(v string) int64 { i, _ := strconv.ParseInt(v, 10, 64); return i }
	for _, f := range fs {
		switch f.Name {
		case "exchanges":
			ae.Exchanges = num(f.Value)
		case "exchanges_failed":
			ae.Failed = num(f.Value)
		case "exchanges_skipped_down":
			ae.Skipped = num(f.Value)
		case "exchanges_queued":
			ae.Queued = num(f.Value)
		case "exchange_running":
			ae.Running = f.Value == "true"
		case "keys_compared":
			ae.KeysCompared = num(f.Value)
		case "keys_repaired":
			ae.KeysRepaired = num(f.Value)
		case "keys_pulled":
			ae.KeysPulled = num(f.Value)
		case "keys_pushed":
			ae.KeysPushed = num(f.Value)
		case "bytes_received":
			ae.BytesIn = num(f.Value)
		case "bytes_sent":
			ae.BytesOut = num(f.Value)
		case "partitions_in_sync":
			ae.PartitionsInSync = int(num(f.Value))
		case "oldest_compared_s":
			if v, err := strconv.ParseFloat(f.Value, 64); err == nil {
				ae.OldestComparedSeconds = v
			}
		default:
			p, ok := strings.CutPrefix(f.Name, "partition_")
			if !ok {
				continue
			}
			part := monitor.AEPartition{LastComparedSeconds: -1}
			part.Partition, _ = strconv.Atoi(p)
			for _, kv := range strings.Split(f.Value, ",") {
				k, v, _ := strings.Cut(kv, "=")
				switch k {
				case "last_compared_s":
					if x, err := strconv.ParseFloat(v, 64); err == nil {
						part.LastComparedSeconds = x
					}
				case "in_sync":
					part.InSync = v == "true"
				}
			}
			ae.Parts = append(ae.Parts, part)
		}
	}
	return ae
}

func ids(l []ring.NodeID) []string {
	out := make([]string, len(l))
	for i, id := range l {
		out[i] = string(id)
	}
	return out
}
