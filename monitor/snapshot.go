package monitor

import (
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/transfer"
)

// Source returns the node's state now. It is called once per HTTP request
// and must be safe for concurrent use.
type Source func() *Snapshot

// Snapshot is a node's state at one moment, as the status page and
// /metrics show it. Counters are totals since the node (or, for the RESP
// server's, the last CONFIG RESETSTAT) started.
type Snapshot struct {
	NodeID string
	Time   time.Time
	// Started reports that the node finished starting (it is in a ring
	// and serves clients); until then only NodeID, Time, Ready and
	// ReadyReason are set.
	Started bool
	// Ready is /readyz's answer; ReadyReason says why not.
	Ready       bool
	ReadyReason string

	Ring     Ring
	Commands []resp.CommandStat // with the cumulative counts at LatencyBounds
	Errors   map[string]int64   // INFO errorstats: error code → replies
	Server   resp.Stats
	PubSub   PubSub
	Quorum   Quorum
	Hints    Hints
	Transfer transfer.Status
	Moves    []Move
	AE       AntiEntropy
	Store    Store
	Recent   []Record
}

// Ring is the ring as this node sees it.
type Ring struct {
	Version       uint64
	Partitions, N int
	R, W          int
	Nodes         []Node
}

// Node is one ring member as this node sees it.
type Node struct {
	ID, Addr, Gossip string
	Weight           int
	Status           string // "joined" or "leaving"
	Alive            bool   // the failure detector's verdict (gossip plus the coordinator's suspicion)
	Partitions       int    // partitions it comes first for
	Replicated       int    // partitions it holds a replica of (in the top N)
	Self             bool
}

// PubSub counts subscriptions (INFO stats' pubsub fields).
type PubSub struct{ Channels, Patterns, ShardChannels int }

// Quorum counts the coordinator's quorum waits by outcome
// (coordinator.Stats) and its read repairs.
type Quorum struct {
	ReadsOK, ReadsLost, ReadTimeouts    int64
	WritesOK, WritesLost, WriteTimeouts int64
	ReadRepairs, Suspicions             int64
}

// Hints are the hints this node keeps for others and their delivery.
type Hints struct {
	Stored      int64 // hints written here since start
	DroppedFull int64 // hints refused for the byte bound (--hint-max-bytes)
	Targets     []HintTarget
}

// HintTarget is one target node's hints.
type HintTarget struct {
	Target                               string
	Pending                              int
	Delivered, Dropped, DeliveryFailures int64
}

// Move is one moving partition: its old replica set, its incoming
// replicas, and what this node sent of it (when it is a sender).
type Move struct {
	Partition int
	From, To  []string
	// Sent is this node's tasks for the move: receiver → progress.
	Sent map[string]transfer.Progress
}

// AntiEntropy is the anti-entropy scheduler's state (Enabled false: off).
type AntiEntropy struct {
	Enabled                            bool
	Exchanges, Failed, Skipped, Queued int64
	Running                            bool
	KeysCompared, KeysRepaired         int64
	KeysPulled, KeysPushed             int64
	BytesIn, BytesOut                  int64
	PartitionsInSync                   int
	OldestComparedSeconds              float64 // -1: some partition never compared
	Parts                              []AEPartition
}

// AEPartition is one partition's anti-entropy freshness: seconds since
// its oldest comparison with another replica (-1: not yet compared with
// every replica), and whether every replica was in sync then.
type AEPartition struct {
	Partition           int
	LastComparedSeconds float64
	InSync              bool
}

// Store is the local replica's counters and pebble's metrics (nil when
// the store could not be read).
type Store struct {
	Writes, Expired, Reaped, Purged int64
	Pebble                          *pebble.Metrics
}
