package node

import (
	"context"
	"strconv"
	"time"

	"golang.org/x/time/rate"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/transfer"
)

// Ownership transfer (package transfer) wired to the node: the cluster is
// its ring holder and liveness, the store its source, the peers its
// receivers, and one rate.Limiter paces it.

// ErrLeave reports a CLUSTER LEAVE that cannot be done.
var ErrLeave = transfer.ErrLeave

// transferRing presents the cluster as transfer's ring holder.
type transferRing struct{ c *nodeCluster }

func (r transferRing) Current() *ring.State          { return r.c.current() }
func (r transferRing) Change(next *ring.State) error { return r.c.change(next) }

// lazyStore is the node's store as transfer's source. The transfer is
// built before the store opens (its leaving mark shapes the gossip meta);
// only Step uses the source, and Run starts after the store is open.
type lazyStore struct{ n *Node }

func (l lazyStore) store() *replica.Store { return l.n.store }

func (l lazyStore) ScanRange(ctx context.Context, from, to int, c replica.Cursor, count int) (replica.Cursor, []replica.Entry, error) {
	return l.store().ScanRange(ctx, from, to, c, count)
}
func (l lazyStore) HasSlots(from, to int) (bool, error) { return l.store().HasSlots(from, to) }
func (l lazyStore) DropSlots(from, to int) (int, error) { return l.store().DropSlots(from, to) }

// newTransfer builds the node's transfer driver from cfg.Transfer.
func newTransfer(n *Node) (*transfer.Transfer, error) {
	tc := n.cfg.Transfer
	tc.Timeout = n.cfg.Timeout // each batch call is bounded by --timeout
	tc.EnsureDefaults()
	// NB: the burst is one batch: the driver never waits for more at once.
	lim := rate.NewLimiter(rate.Inf, tc.Batch)
	if tc.Rate > 0 {
		lim = rate.NewLimiter(rate.Limit(tc.Rate), tc.Batch)
	}
	return transfer.New(tc, transfer.Deps{
		Self:  n.cluster.self,
		Ring:  transferRing{n.cluster},
		Local: lazyStore{n},
		Peer: func(id ring.NodeID) transfer.Peer {
			if r := n.cluster.peer(string(id)); r != nil {
				return r
			}
			return nil
		},
		Alive:   func(id ring.NodeID) bool { return n.cluster.alive(string(id)) },
		Limiter: lim,
		Store:   transfer.NewStore(nil, n.cfg.DataDir),
		Mark:    n.cluster.Cluster,
		Now:     time.Now,
		Logger:  n.log,
	})
}

// infoTransfer returns INFO's transfer section and its alias, the
// handoff section of earlier versions (same values, old field names; only
// shown when asked for by name or with INFO all).
func infoTransfer(t *transfer.Transfer) []resp.InfoSection {
	fields := func(prefix string) func() []resp.InfoField {
		return func() []resp.InfoField {
			s := t.Status()
			eta := "unknown"
			if s.ETA >= 0 {
				eta = strconv.FormatFloat(s.ETA, 'f', 1, 64)
			}
			return []resp.InfoField{
				{Name: prefix + "_partitions_moving", Value: strconv.Itoa(s.Moving)},
				{Name: prefix + "_partitions_to_send", Value: strconv.Itoa(s.ToSend)},
				{Name: prefix + "_active", Value: s.Active},
				{Name: prefix + "_partitions_sent", Value: strconv.FormatInt(s.PartitionsSent, 10)},
				{Name: prefix + "_keys_sent", Value: strconv.FormatInt(s.KeysSent, 10)},
				{Name: prefix + "_bytes_sent", Value: strconv.FormatInt(s.BytesSent, 10)},
				{Name: prefix + "_rate_keys_per_sec", Value: strconv.FormatFloat(s.Rate, 'f', 0, 64)},
				{Name: prefix + "_eta_seconds", Value: eta},
				{Name: prefix + "_keys_dropped", Value: strconv.FormatInt(s.KeysDropped, 10)},
				{Name: prefix + "_rate_limit", Value: strconv.Itoa(s.RateLimit)},
				{Name: "leave_status", Value: s.Leave},
			}
		}
	}
	return []resp.InfoSection{
		{Name: "transfer", Default: true, Fields: fields("transfer")},
		{Name: "handoff", Fields: fields("handoff")},
	}
}
