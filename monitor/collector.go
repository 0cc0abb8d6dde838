package monitor

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LatencyBounds are the upper bounds of the per-command latency
// histograms' buckets (dynakv_command_duration_seconds).
var LatencyBounds = []time.Duration{
	10 * time.Microsecond, 25 * time.Microsecond, 50 * time.Microsecond,
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// collector is a prometheus.Collector that reads one Snapshot per scrape.
// It is "unchecked" (Describe sends nothing): the label sets vary with the
// commands called and the nodes known.
type collector struct{ src Source }

// NewCollector returns a prometheus.Collector of the metrics listed in
// docs/operations.md, all prefixed dynakv_, read from src on each scrape.
func NewCollector(src Source) prometheus.Collector { return collector{src} }

func (collector) Describe(chan<- *prometheus.Desc) {}

var (
	dUp           = desc("up", "1 once the node has started (it is in a ring and serves clients).")
	dReady        = desc("ready", "1 while /readyz answers 200.")
	dCalls        = desc("command_calls_total", "Commands run, per command (INFO commandstats calls).", "cmd")
	dRejected     = desc("command_rejected_calls_total", "Commands refused before running, per command (INFO commandstats rejected_calls).", "cmd")
	dFailed       = desc("command_failed_calls_total", "Commands that replied an error, per command (INFO commandstats failed_calls).", "cmd")
	dDuration     = desc("command_duration_seconds", "Latency of commands, per command (INFO latencystats' histogram).", "cmd")
	dErrors       = desc("error_replies_total", "Error replies by error code (INFO errorstats).", "code")
	dClients      = desc("connected_clients", "Client connections (peer connections excluded).")
	dPeerConns    = desc("peer_connections", "Other nodes' connections to this node.")
	dConnsTotal   = desc("connections_received_total", "Client connections accepted.")
	dConnsRej     = desc("connections_rejected_total", "Client connections refused for maxclients.")
	dNetIn        = desc("net_input_bytes_total", "Bytes read from clients.")
	dNetOut       = desc("net_output_bytes_total", "Bytes written to clients.")
	dKeyHits      = desc("keyspace_hits_total", "Key lookups that found a value.")
	dKeyMisses    = desc("keyspace_misses_total", "Key lookups that did not.")
	dPubSub       = desc("pubsub_subscriptions", "Pub/sub subscriptions by kind (channel, pattern, shard).", "kind")
	dQuorum       = desc("quorum_requests_total", "Quorum waits by operation (read, write) and outcome (ok, noquorum, timeout).", "op", "outcome")
	dReadRepairs  = desc("read_repairs_total", "Replicas written back by read repair.")
	dSuspicions   = desc("suspicions_total", "Nodes the coordinator started avoiding after a failed call.")
	dHintsPending = desc("hints_pending", "Hints kept here for a target node.", "target")
	dHintsDeliv   = desc("hints_delivered_total", "Hints delivered to a target node.", "target")
	dHintsDrop    = desc("hints_dropped_total", "Hints dropped for a target (too old, or it left the ring).", "target")
	dHintsFail    = desc("hints_delivery_failures_total", "Failed hint merges, per target.", "target")
	dHintsStored  = desc("hints_stored_total", "Hints written to this node.")
	dHintsFull    = desc("hints_dropped_full_total", "Hints refused because --hint-max-bytes was reached.")
	dNodeAlive    = desc("node_alive", "1 if this node sees the ring member as alive.", "node")
	dNodeParts    = desc("node_partitions", "Partitions a ring member comes first for.", "node")
	dNodeWeight   = desc("node_weight", "A ring member's weight.", "node")
	dRingVersion  = desc("ring_version", "Version of the ring state this node holds.")
	dMoving       = desc("transfer_partitions_moving", "Partitions moving in the ring.")
	dToSend       = desc("transfer_partitions_to_send", "This node's transfer tasks not done.")
	dPartsSent    = desc("transfer_partitions_sent_total", "Transfer tasks finished by this node.")
	dKeysSent     = desc("transfer_keys_sent_total", "Keys sent to new replicas.")
	dBytesSent    = desc("transfer_bytes_sent_total", "Bytes sent to new replicas.")
	dKeysDropped  = desc("transfer_keys_dropped_total", "Keys of partitions no longer held, deleted here.")
	dXferRate     = desc("transfer_rate_keys_per_second", "Transfer rate over the recent window.")
	dXferETA      = desc("transfer_eta_seconds", "Estimated seconds until this node's transfer tasks are sent (-1: unknown).")
	dAEExchanges  = desc("antientropy_exchanges_total", "Anti-entropy exchanges by result (ok, failed, skipped_down).", "result")
	dAEQueued     = desc("antientropy_exchanges_queued", "Exchanges queued by CLUSTER REPAIR, not started.")
	dAERunning    = desc("antientropy_exchange_running", "1 while an exchange runs.")
	dAEKeys       = desc("antientropy_keys_total", "Keys compared and repaired (pulled, pushed) by anti-entropy.", "kind")
	dAEBytes      = desc("antientropy_bytes_total", "Bytes exchanged by anti-entropy, by direction (in, out).", "direction")
	dAEInSync     = desc("antientropy_partitions_in_sync", "Partitions whose last exchanges with every replica found them in sync.")
	dAEOldest     = desc("antientropy_oldest_compared_seconds", "Seconds since the least recently compared partition was compared (-1: never).")
	dStoreWrites  = desc("store_writes_total", "Objects stored by the local replica.")
	dStoreExpired = desc("store_expired_total", "Objects whose expired content the sweeper collected.")
	dStoreReaped  = desc("store_reaped_total", "Tombstones removed.")
	dStorePurged  = desc("store_purged_total", "Keys of flushed databases deleted.")
	dDisk         = desc("store_disk_bytes", "Disk space used by the store (pebble DiskSpaceUsage).")
	dPebble       = desc("pebble_metric", "pebble's own metrics, by name (see docs/operations.md).", "name")
	dPebbleLevel  = desc("pebble_level_tables", "sstables per LSM level.", "level")
	dPebbleLSize  = desc("pebble_level_bytes", "Bytes of sstables per LSM level.", "level")
	dRecent       = desc("log_warnings_recent", "Warnings and errors in the status page's recent list.")
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("dynakv_"+name, help, labels, nil)
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	s := c.src()
	gauge := func(d *prometheus.Desc, v float64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, l...)
	}
	counter := func(d *prometheus.Desc, v int64, l ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), l...)
	}
	b2f := func(b bool) float64 {
		if b {
			return 1
		}
		return 0
	}
	gauge(dUp, b2f(s.Started))
	gauge(dReady, b2f(s.Ready))
	if !s.Started {
		return
	}
	bounds := make([]float64, len(LatencyBounds))
	for i, b := range LatencyBounds {
		bounds[i] = b.Seconds()
	}
	for _, cs := range s.Commands {
		counter(dCalls, cs.Calls, cs.Name)
		counter(dRejected, cs.Rejected, cs.Name)
		counter(dFailed, cs.Failed, cs.Name)
		bk := make(map[float64]uint64, len(bounds))
		for i, b := range bounds {
			if i < len(cs.Buckets) {
				bk[b] = cs.Buckets[i]
			}
		}
		ch <- prometheus.MustNewConstHistogram(dDuration, cs.Observed, float64(cs.Usec)/1e6, bk, cs.Name)
	}
	for code, n := range s.Errors {
		counter(dErrors, n, code)
	}
	st := s.Server
	gauge(dClients, float64(st.ConnectedClients))
	gauge(dPeerConns, float64(st.PeerConnections))
	counter(dConnsTotal, st.TotalConnectionsReceived)
	counter(dConnsRej, st.RejectedConnections)
	counter(dNetIn, st.NetInputBytes)
	counter(dNetOut, st.NetOutputBytes)
	counter(dKeyHits, st.KeyspaceHits)
	counter(dKeyMisses, st.KeyspaceMisses)
	gauge(dPubSub, float64(s.PubSub.Channels), "channel")
	gauge(dPubSub, float64(s.PubSub.Patterns), "pattern")
	gauge(dPubSub, float64(s.PubSub.ShardChannels), "shard")
	q := s.Quorum
	counter(dQuorum, q.ReadsOK, "read", "ok")
	counter(dQuorum, q.ReadsLost, "read", "noquorum")
	counter(dQuorum, q.ReadTimeouts, "read", "timeout")
	counter(dQuorum, q.WritesOK, "write", "ok")
	counter(dQuorum, q.WritesLost, "write", "noquorum")
	counter(dQuorum, q.WriteTimeouts, "write", "timeout")
	counter(dReadRepairs, q.ReadRepairs)
	counter(dSuspicions, q.Suspicions)
	for _, h := range s.Hints.Targets {
		gauge(dHintsPending, float64(h.Pending), h.Target)
		counter(dHintsDeliv, h.Delivered, h.Target)
		counter(dHintsDrop, h.Dropped, h.Target)
		counter(dHintsFail, h.DeliveryFailures, h.Target)
	}
	counter(dHintsStored, s.Hints.Stored)
	counter(dHintsFull, s.Hints.DroppedFull)
	gauge(dRingVersion, float64(s.Ring.Version))
	for _, n := range s.Ring.Nodes {
		gauge(dNodeAlive, b2f(n.Alive), n.ID)
		gauge(dNodeParts, float64(n.Partitions), n.ID)
		gauge(dNodeWeight, float64(n.Weight), n.ID)
	}
	t := s.Transfer
	gauge(dMoving, float64(t.Moving))
	gauge(dToSend, float64(t.ToSend))
	counter(dPartsSent, t.PartitionsSent)
	counter(dKeysSent, t.KeysSent)
	counter(dBytesSent, t.BytesSent)
	counter(dKeysDropped, t.KeysDropped)
	gauge(dXferRate, t.Rate)
	gauge(dXferETA, t.ETA)
	if ae := s.AE; ae.Enabled {
		counter(dAEExchanges, ae.Exchanges, "ok")
		counter(dAEExchanges, ae.Failed, "failed")
		counter(dAEExchanges, ae.Skipped, "skipped_down")
		gauge(dAEQueued, float64(ae.Queued))
		gauge(dAERunning, b2f(ae.Running))
		counter(dAEKeys, ae.KeysCompared, "compared")
		counter(dAEKeys, ae.KeysRepaired, "repaired")
		counter(dAEKeys, ae.KeysPulled, "pulled")
		counter(dAEKeys, ae.KeysPushed, "pushed")
		counter(dAEBytes, ae.BytesIn, "in")
		counter(dAEBytes, ae.BytesOut, "out")
		gauge(dAEInSync, float64(ae.PartitionsInSync))
		gauge(dAEOldest, ae.OldestComparedSeconds)
	}
	counter(dStoreWrites, s.Store.Writes)
	counter(dStoreExpired, s.Store.Expired)
	counter(dStoreReaped, s.Store.Reaped)
	counter(dStorePurged, s.Store.Purged)
	if m := s.Store.Pebble; m != nil {
		gauge(dDisk, float64(m.DiskSpaceUsage()))
		for name, v := range map[string]float64{
			"read_amp":                    float64(m.ReadAmp()),
			"compactions_total":           float64(m.Compact.Count),
			"compaction_debt_bytes":       float64(m.Compact.EstimatedDebt),
			"compactions_in_progress":     float64(m.Compact.NumInProgress),
			"flushes_total":               float64(m.Flush.Count),
			"memtable_bytes":              float64(m.MemTable.Size),
			"memtables":                   float64(m.MemTable.Count),
			"block_cache_bytes":           float64(m.BlockCache.Size),
			"block_cache_hits_total":      float64(m.BlockCache.Hits),
			"block_cache_misses_total":    float64(m.BlockCache.Misses),
			"wal_files":                   float64(m.WAL.Files),
			"wal_bytes":                   float64(m.WAL.Size),
			"wal_bytes_written_total":     float64(m.WAL.BytesWritten),
			"snapshots":                   float64(m.Snapshots.Count),
			"table_iterators":             float64(m.TableIters),
			"tombstones":                  float64(m.Keys.TombstoneCount),
			"l0_sublevels":                float64(m.Levels[0].Sublevels),
			"table_obsolete_bytes":        float64(m.Table.ObsoleteSize),
			"table_zombie_bytes":          float64(m.Table.ZombieSize),
			"compactions_failed_total":    float64(m.Compact.FailedCount),
			"compactions_cancelled_total": float64(m.Compact.CancelledCount),
		} {
			gauge(dPebble, v, name)
		}
		for i, l := range m.Levels {
			lv := string(rune('0' + i))
			gauge(dPebbleLevel, float64(l.TablesCount), lv)
			gauge(dPebbleLSize, float64(l.TablesSize), lv)
		}
	}
	gauge(dRecent, float64(len(s.Recent)))
}
