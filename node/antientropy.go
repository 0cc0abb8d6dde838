package node

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// Anti-entropy (Dynamo §4.7): the store keeps a Merkle tree per partition
// (antientropy.Trees, updated on every write as the store's Observer and
// rebuilt from the store when it opens); this driver compares each
// partition this node replicates with each of its other replicas, one
// exchange at a time, spread over AEInterval, and repairs what differs
// both ways. Exchanges with a replica that is not alive are skipped (and
// counted); CLUSTER REPAIR queues exchanges ahead of the schedule. Keys
// read in exchanges are throttled to AERate per second.

// Defaults of the anti-entropy knobs.
const (
	DefaultAEInterval = time.Minute
	DefaultAERate     = 20000
	aePage            = 256
	aeTimeout         = 10 * time.Minute
)

// aeJob is one exchange: a partition with one other replica.
type aeJob struct {
	p    int
	peer ring.NodeID
}

// aeStatus is what the last exchange of a job found.
type aeStatus struct {
	at     time.Time
	inSync bool // the trees were equal
}

type antiEntropy struct {
	n        *Node
	trees    *antientropy.Trees
	interval time.Duration
	limit    *limiter
	log      *slog.Logger

	mu       sync.Mutex
	urgent   []aeJob
	status   map[aeJob]aeStatus
	total    antientropy.Result
	done     int64 // exchanges finished
	failed   int64
	skipped  int64 // replica down
	lastKeys int   // keys repaired by the last exchange
	running  bool
	poke     chan struct{}
}

func newAntiEntropy(n *Node, trees *antientropy.Trees) *antiEntropy {
	rate := n.cfg.AERate
	if rate == 0 {
		rate = DefaultAERate
	}
	every := n.cfg.AEInterval
	if every == 0 {
		every = DefaultAEInterval
	}
	return &antiEntropy{
		n: n, trees: trees, interval: every, log: n.log,
		limit:  newLimiter(float64(rate), float64(rate), time.Now),
		status: map[aeJob]aeStatus{},
		poke:   make(chan struct{}, 1),
	}
}

// jobs returns the exchanges of one round: every partition this node is a
// replica of, with each other replica, in partition order (only p if p is
// not negative).
func (a *antiEntropy) jobs(p int) []aeJob {
	st := a.n.cluster.current()
	if st == nil {
		return nil
	}
	self := a.n.cluster.self
	var out []aeJob
	for q := range st.Partitions() {
		if p >= 0 && q != p {
			continue
		}
		prefs := st.PreferenceList(q, st.Replicas())
		if !slices.Contains(prefs, self) {
			continue
		}
		for _, id := range prefs {
			if id != self {
				out = append(out, aeJob{q, id})
			}
		}
	}
	return out
}

// Repair queues the exchanges of partition p (all if negative) ahead of the
// schedule (CLUSTER REPAIR).
func (a *antiEntropy) Repair(p int) (int, error) {
	if st := a.n.cluster.current(); st != nil && p >= st.Partitions() {
		return 0, fmt.Errorf("%w: %d of %d", resp.ErrBadPartition, p, st.Partitions())
	}
	jobs := a.jobs(p)
	a.mu.Lock()
	a.urgent = append(a.urgent, jobs...)
	a.mu.Unlock()
	select {
	case a.poke <- struct{}{}:
	default:
	}
	return len(jobs), nil
}

// loop runs exchanges until ctx ends: urgent ones first, else the next of
// the round, one every interval/len(round).
func (a *antiEntropy) loop(ctx context.Context) {
	var round []aeJob
	var gap time.Duration
	timer := time.NewTimer(time.Second)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-a.poke:
		case <-timer.C:
		}
		for {
			a.mu.Lock()
			var job aeJob
			urgent := len(a.urgent) > 0
			if urgent {
				job, a.urgent = a.urgent[0], a.urgent[1:]
			}
			a.mu.Unlock()
			if !urgent {
				break
			}
			a.exchange(ctx, job)
			if ctx.Err() != nil {
				return
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		if len(round) == 0 {
			round = a.jobs(-1)
			if len(round) == 0 {
				timer.Reset(a.interval)
				continue
			}
			// NB: the gap is fixed when the round starts; a job that
			// fires early because of a poke just runs sooner.
			gap = a.interval / time.Duration(len(round))
		}
		a.exchange(ctx, round[0])
		round = round[1:]
		timer.Reset(gap)
	}
}

// exchange runs one job and records its result.
func (a *antiEntropy) exchange(ctx context.Context, job aeJob) {
	st := a.n.cluster.current()
	if st == nil {
		return
	}
	if prefs := st.PreferenceList(job.p, st.Replicas()); !slices.Contains(prefs, job.peer) || !slices.Contains(prefs, a.n.cluster.self) {
		// The ring moved on: NB, a node that handed the partition off has
		// dropped its copy, and an exchange would pull it back.
		return
	}
	if !a.n.cluster.alive(string(job.peer)) {
		a.mu.Lock()
		a.skipped++
		a.mu.Unlock()
		return
	}
	remote := a.n.cluster.peer(string(job.peer))
	if remote == nil {
		return
	}
	a.mu.Lock()
	a.running = true
	a.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, aeTimeout)
	start := time.Now()
	res, err := antientropy.Exchange(ctx, a.trees, job.p, a.n.store, remote,
		antientropy.Options{Page: aePage, Throttle: a.limit.wait})
	cancel()
	now := time.Now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.running = false
	a.total.Add(res)
	if err != nil {
		a.failed++
		a.log.Debug("anti-entropy exchange failed", "partition", job.p, "peer", job.peer, "err", err)
		return
	}
	a.done++
	a.lastKeys = res.Repaired()
	a.status[job] = aeStatus{at: now, inSync: res.DifferingLeaves == 0}
	if res.Repaired() > 0 {
		a.log.Info("anti-entropy repaired keys", "partition", job.p, "peer", job.peer,
			"leaves", res.DifferingLeaves, "pulled", res.Pulled, "pushed", res.Pushed,
			"bytes_in", res.BytesIn, "bytes_out", res.BytesOut, "took", now.Sub(start).Round(time.Millisecond))
	}
}

// info is INFO's antientropy section (not in the default INFO: it lists
// every partition).
func (a *antiEntropy) info() resp.InfoSection {
	return resp.InfoSection{Name: "antientropy", Fields: func() []resp.InfoField {
		jobs := a.jobs(-1)
		now := time.Now()
		a.mu.Lock()
		defer a.mu.Unlock()
		type pstat struct {
			peers, compared, inSync int
			oldest                  time.Time
		}
		parts := map[int]*pstat{}
		var order []int
		for _, j := range jobs {
			ps := parts[j.p]
			if ps == nil {
				ps = &pstat{}
				parts[j.p] = ps
				order = append(order, j.p)
			}
			ps.peers++
			if s, ok := a.status[j]; ok {
				ps.compared++
				if s.inSync {
					ps.inSync++
				}
				if ps.oldest.IsZero() || s.at.Before(ps.oldest) {
					ps.oldest = s.at
				}
			}
		}
		inSync, oldest := 0, 0.0
		var lines []resp.InfoField
		for _, p := range order {
			ps := parts[p]
			age, synced := "never", ps.compared == ps.peers && ps.inSync == ps.peers
			if ps.compared == ps.peers {
				d := now.Sub(ps.oldest).Seconds()
				age = strconv.FormatFloat(d, 'f', 1, 64)
				oldest = max(oldest, d)
			} else {
				oldest = math.Inf(1)
			}
			if synced {
				inSync++
			}
			lines = append(lines, resp.InfoField{Name: "partition_" + strconv.Itoa(p),
				Value: "last_compared_s=" + age + ",in_sync=" + strconv.FormatBool(synced)})
		}
		oldestS := strconv.FormatFloat(oldest, 'f', 1, 64)
		if math.IsInf(oldest, 1) {
			oldestS = "never"
		}
		return append([]resp.InfoField{
			{Name: "antientropy_enabled", Value: "1"},
			{Name: "interval_s", Value: strconv.FormatFloat(a.interval.Seconds(), 'f', -1, 64)},
			{Name: "rate_keys_per_s", Value: strconv.FormatFloat(a.limit.rate, 'f', -1, 64)},
			{Name: "leaves_per_tree", Value: strconv.Itoa(a.trees.Layout().Leaves())},
			{Name: "exchanges", Value: strconv.FormatInt(a.done, 10)},
			{Name: "exchanges_failed", Value: strconv.FormatInt(a.failed, 10)},
			{Name: "exchanges_skipped_down", Value: strconv.FormatInt(a.skipped, 10)},
			{Name: "exchanges_queued", Value: strconv.Itoa(len(a.urgent))},
			{Name: "exchange_running", Value: strconv.FormatBool(a.running)},
			{Name: "keys_compared", Value: strconv.Itoa(a.total.Keys)},
			{Name: "keys_repaired", Value: strconv.Itoa(a.total.Repaired())},
			{Name: "keys_pulled", Value: strconv.Itoa(a.total.Pulled)},
			{Name: "keys_pushed", Value: strconv.Itoa(a.total.Pushed)},
			{Name: "last_exchange_keys_repaired", Value: strconv.Itoa(a.lastKeys)},
			{Name: "hashes_fetched", Value: strconv.Itoa(a.total.Hashes)},
			{Name: "bytes_received", Value: strconv.FormatInt(a.total.BytesIn, 10)},
			{Name: "bytes_sent", Value: strconv.FormatInt(a.total.BytesOut, 10)},
			{Name: "partitions", Value: strconv.Itoa(len(order))},
			{Name: "partitions_in_sync", Value: strconv.Itoa(inSync)},
			{Name: "oldest_compared_s", Value: oldestS},
		}, lines...)
	}}
}

// canReap is the store's CanReap with N > 1: a tombstone-only object may go
// once every other replica of its key holds it too (or holds nothing, which
// cannot bring a value back) — so no replica keeps a value the tombstone
// deleted that anti-entropy would spread again. A replica that is down or
// does not answer keeps the tombstone.
func (n *Node) canReap(key []byte, o dvv.Object) bool {
	st := n.cluster.current()
	if st == nil {
		return false
	}
	if _, moving := st.Moving(st.KeyPartition(key)); moving {
		// NB: the key has old and new replicas while its partition is
		// handed off; keep the tombstone until the move is over.
		return false
	}
	now := time.Now().UnixMilli()
	for _, id := range n.cluster.replicasOf(st, key) {
		if id == n.cluster.self {
			continue
		}
		if !n.cluster.alive(string(id)) {
			return false
		}
		peer := n.cluster.peer(string(id))
		if peer == nil {
			return false
		}
		ctx, cancel := context.WithTimeout(context.Background(), n.cfg.Timeout)
		theirs, err := peer.Get(ctx, key)
		cancel()
		if err != nil {
			return false
		}
		if len(dvv.Live(theirs, now)) > 0 || !dvv.Equal(dvv.Merge(o, theirs), o) {
			return false // a value, or something the tombstone does not cover
		}
	}
	return true
}
