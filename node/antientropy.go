package node

import (
	"context"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
	"golang.org/x/time/rate"
)

// Anti-entropy (Dynamo §4.7) and tombstone reaping are antientropy's
// Scheduler and Reaper; this file adapts the cluster to their interfaces.

// aeRing is the ring view of the scheduler and the reaper.
type aeRing struct{ c *nodeCluster }

// Partitions implements antientropy.RingView.
func (r aeRing) Partitions() int {
	if st := r.c.current(); st != nil {
		return st.Partitions()
	}
	return 0
}

// Replicas implements antientropy.RingView: the top N of p's preference
// list.
func (r aeRing) Replicas(p int) []string {
	st := r.c.current()
	if st == nil {
		return nil
	}
	return ids(st.PreferenceList(p, st.Replicas()))
}

// Members implements antientropy.ReapRing.
func (r aeRing) Members() []string {
	st := r.c.current()
	if st == nil {
		return nil
	}
	var out []string
	for _, m := range st.Members() {
		out = append(out, string(m.ID))
	}
	return out
}

// KeyReplicas implements antientropy.ReapRing.
func (r aeRing) KeyReplicas(key []byte) []string {
	st := r.c.current()
	if st == nil {
		return nil
	}
	return ids(r.c.replicasOf(st, key))
}

// Moving implements antientropy.ReapRing.
func (r aeRing) Moving(key []byte) bool {
	st := r.c.current()
	if st == nil {
		return true
	}
	_, moving := st.Moving(st.KeyPartition(key))
	return moving
}

// Alive implements antientropy.Liveness.
func (r aeRing) Alive(id string) bool { return r.c.alive(id) }

func ids(l []ring.NodeID) []string {
	out := make([]string, len(l))
	for i, id := range l {
		out[i] = string(id)
	}
	return out
}

// newScheduler builds the anti-entropy scheduler over the cluster.
func (n *Node) newScheduler(trees *antientropy.Trees) (*antientropy.Scheduler, error) {
	cfg := n.cfg.AE
	cfg.EnsureDefaults()
	return antientropy.NewScheduler(cfg, antientropy.SchedulerDeps{
		Self: string(n.cluster.self), Clock: antientropy.ClockFunc(time.Now),
		Ring: aeRing{n.cluster}, Liveness: aeRing{n.cluster},
		Peers: func(id string) antientropy.Peer {
			if r := n.cluster.peer(id); r != nil {
				return r
			}
			return nil
		},
		Limiter: rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Rate, cfg.Page)),
		Trees:   trees, Local: n.store, Logger: n.log,
	})
}

// newReaper builds the tombstone-reap rule over the cluster; now is the
// store's clock.
func (n *Node) newReaper(now func() time.Time) (*antientropy.Reaper, error) {
	return antientropy.NewReaper(antientropy.ReaperConfig{Grace: n.cfg.TombstoneGrace, Timeout: n.cfg.Timeout},
		antientropy.ReaperDeps{
			Self: string(n.cluster.self), Clock: antientropy.ClockFunc(now),
			Ring: aeRing{n.cluster}, Liveness: aeRing{n.cluster},
			ReadAll: n.readAll,
			Horizon: func(ctx context.Context, id string) (int64, error) {
				if ring.NodeID(id) == n.cluster.self {
					return n.store.HintHorizon(ctx)
				}
				r := n.cluster.peer(id)
				if r == nil {
					return 0, fmt.Errorf("node: hint horizon: unknown node %s", id)
				}
				return r.HintHorizon(ctx)
			},
		})
}

// readAll is the coordinator's read of every replica (the reaper's R=N
// read). The store's sweeper may ask before Start has built the
// coordinator; then no tombstone is reaped yet.
func (n *Node) readAll(ctx context.Context, key []byte) (map[string]crdt.Object, error) {
	co := n.co.Load()
	if co == nil {
		return nil, fmt.Errorf("%w: node starting", coordinator.ErrReadAll)
	}
	return co.ReadAll(ctx, key)
}

// infoAE is INFO's antientropy section (not in the default INFO: it lists
// every partition).
func infoAE(s *antientropy.Scheduler) resp.InfoSection {
	return resp.InfoSection{Name: "antientropy", Fields: func() []resp.InfoField {
		fs := s.Status()
		out := make([]resp.InfoField, len(fs))
		for i, f := range fs {
			out[i] = resp.InfoField{Name: f.Name, Value: f.Value}
		}
		return out
	}}
}
