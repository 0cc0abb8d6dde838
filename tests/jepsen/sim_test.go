package jepsen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/antientropy"
	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/hints"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/peer/peerserver"
	"github.com/dynakv/dynakv/peer/peertest"
	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/resp"
	"github.com/dynakv/dynakv/ring"
)

// The simulated cluster's shape and timing (cluster time).
const (
	simNodes      = 5
	simPartitions = 16
	simGrace      = 3 * time.Second // --tombstone-grace
	simTick       = time.Second     // hint passes and sweeps
	simAEEvery    = 5               // anti-entropy every this many ticks
	simEpochMs    = 1_800_000_000_000
)

var errNodeDown = errors.New("jepsen: node down")

// simCluster is five in-process nodes on one peertest network and one
// injected clock. Nothing runs in the background: the schedule advances
// the clock and runs hint passes, sweeps (reaping) and anti-entropy at
// each tick, so a schedule is a sequence of steps its seed decides.
type simCluster struct {
	net   *peertest.Network
	st    atomic.Pointer[ring.State]
	nodes []*simNode
	byID  map[string]*simNode
	ms    atomic.Int64 // the cluster's clock, Unix ms
	group map[string]int
	log   *slog.Logger
}

// simNode is one node: its file system survives kills.
type simNode struct {
	c      *simCluster
	id     string
	fs     vfs.FS
	skew   atomic.Int64 // ms added to the cluster clock
	killed bool
	paused bool

	store  *replica.Store
	trees  *antientropy.Trees
	coord  *coordinator.Coordinator
	srv    *resp.Server
	ln     *pipeListener
	client *redis.Client
	hints  *hints.Deliverer
	route  *simRoute
}

func newSimCluster(seed uint64) (*simCluster, error) {
	c := &simCluster{net: peertest.New(seed), byID: map[string]*simNode{}, group: map[string]int{},
		log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	c.ms.Store(simEpochMs)
	var members []ring.Member
	for i := 1; i <= simNodes; i++ {
		id := fmt.Sprintf("n%d", i)
		members = append(members, ring.Member{ID: ring.NodeID(id), Addr: id + ":6379", GossipAddr: id + ":7946", Weight: 1})
	}
	st, err := ring.New(ring.Config{Partitions: simPartitions, Replicas: 3}, members)
	if err != nil {
		return nil, err
	}
	c.st.Store(st)
	for _, m := range members {
		n := &simNode{c: c, id: string(m.ID), fs: vfs.NewMem()}
		c.nodes = append(c.nodes, n)
		c.byID[n.id] = n
		if err := n.start(); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// healthySim starts a simulated cluster without faults (seed 1), closed
// when t ends, and returns it with a client of its first node: the
// checker tests make their histories on it.
func healthySim(t *testing.T) (*simCluster, *redis.Client) {
	t.Helper()
	c, err := newSimCluster(1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c, c.nodes[0].client
}

// now is node id's clock: the cluster's plus its skew.
func (n *simNode) now() time.Time { return time.UnixMilli(n.c.ms.Load() + n.skew.Load()) }

// running reports whether the node's process is up (not killed, not
// paused): it serves clients and peers.
func (n *simNode) running() bool { return !n.killed && !n.paused }

// reachable reports whether from can talk to to: both running, same side
// of any partition.
func (c *simCluster) reachable(from, to string) bool {
	a, b := c.byID[from], c.byID[to]
	return a != nil && b != nil && a.running() && b.running() && c.group[from] == c.group[to]
}

// replicas returns stored key's N replicas.
func (c *simCluster) replicas(key []byte) []string {
	st := c.st.Load()
	var out []string
	for _, id := range st.PreferenceList(st.KeyPartition(key), st.Replicas()) {
		out = append(out, string(id))
	}
	return out
}

// simRing is a node's view of the ring and liveness, for its reaper.
type simRing struct {
	c    *simCluster
	self string
}

func (r simRing) Members() []string {
	var out []string
	for _, m := range r.c.st.Load().Members() {
		out = append(out, string(m.ID))
	}
	return out
}
func (r simRing) KeyReplicas(key []byte) []string { return r.c.replicas(key) }
func (r simRing) Moving([]byte) bool              { return false }
func (r simRing) Alive(id string) bool            { return r.c.reachable(r.self, id) }

// simDatabases is the ring's flush epochs, shared by every node as if
// gossip spread them at once.
type simDatabases struct{ c *simCluster }

func (d simDatabases) Epoch(db int) uint64 { return d.c.st.Load().FlushEpoch(db) }

func (d simDatabases) Flush(_ context.Context, dbs []int) error {
	st := d.c.st.Load()
	e := st.FlushEpochs()
	for _, db := range dbs {
		e[db]++
	}
	next, err := st.WithFlushEpochs(e)
	if err != nil {
		return err
	}
	d.c.st.Store(next)
	for _, n := range d.c.nodes {
		if !n.killed {
			if _, err := n.store.Purge(); err != nil {
				return err
			}
		}
	}
	return nil
}

// start opens the node's store on its file system and builds its parts.
func (n *simNode) start() error {
	c := n.c
	peers := c.net.Peers(n.id)
	layout, err := antientropy.NewLayout(simPartitions, 0)
	if err != nil {
		return err
	}
	n.trees = antientropy.NewTrees(layout)
	var reaper *antientropy.Reaper
	n.store, err = replica.Open(replica.Config{Dir: "/" + n.id, FS: n.fs, NodeID: n.id, SweepInterval: -1, NoSync: true,
		Now: n.now, TombstoneGrace: simGrace, Observer: n.trees, Logger: c.log,
		Flushed: func(key []byte) bool { return c.st.Load().Flushed(key) },
		CanReap: func(key []byte, o crdt.Object) bool { return reaper.CanReap(key, o) }})
	if err != nil {
		return err
	}
	if c.st.Load().FlushEpochs() != ([ring.Databases]uint64{}) {
		if _, err := n.store.Purge(); err != nil {
			return err
		}
	}
	self := n.id
	n.coord, err = coordinator.New(coordinator.Config{N: 3, R: 2, W: 2, Timeout: 2 * time.Second,
		Healthy: func(id string) bool { return c.reachable(self, id) }},
		n.store, coordinator.RingPlacement(c.st.Load), peers)
	if err != nil {
		return err
	}
	reaper, err = antientropy.NewReaper(antientropy.ReaperConfig{Grace: simGrace}, antientropy.ReaperDeps{
		Self: self, Clock: antientropy.ClockFunc(n.now), Ring: simRing{c, self}, Liveness: simRing{c, self},
		ReadAll: n.coord.ReadAll,
		Horizon: func(ctx context.Context, id string) (int64, error) {
			if id == self {
				return n.store.HintHorizon(ctx)
			}
			return peers(id).HintHorizon(ctx)
		},
	})
	if err != nil {
		return err
	}
	n.hints, err = hints.New(hints.Config{}, hints.Deps{Queue: n.store, Healthy: n.coord.Healthy, Logger: c.log,
		Peers: func(id string) hints.Target {
			if p := peers(id); p != nil {
				return p
			}
			return nil
		}})
	if err != nil {
		return err
	}
	c.net.Add(peer.Local{Store: n.store, Trees: n.trees})
	if n.route, err = newSimRoute(n); err != nil {
		return err
	}
	n.srv = resp.New(resp.Config{Databases: simDatabases{c}, Cluster: n.route, ClusterSecret: simSecret}, n.coord, c.log)
	local := peer.Local{Store: n.store, Trees: n.trees}
	if err := peerserver.Register(n.srv, local); err != nil {
		return err
	}
	n.ln = newPipeListener()
	go n.srv.Serve(n.ln)
	n.client = redis.NewClient(&redis.Options{Dialer: n.ln.dial, MaxRetries: -1, Protocol: 2, DisableIdentity: true,
		PoolSize: 2, ReadTimeout: -1, WriteTimeout: -1})
	n.killed = false
	c.net.SetDown(n.id, !n.running())
	return nil
}

// stop closes what start built, as kill -9 ends a process (the store is
// on a file system that keeps what was written, as a synced disk does).
func (n *simNode) stop() {
	n.client.Close()
	n.route.close()
	n.srv.Close()
	n.coord.Wait()
	n.store.Close()
}

func (c *simCluster) close() {
	for _, n := range c.nodes {
		if !n.killed && n.store != nil {
			n.stop()
		}
	}
}

// settle waits for every coordinator's background sends.
func (c *simCluster) settle() {
	for _, n := range c.nodes {
		if !n.killed {
			n.coord.Wait()
		}
	}
}

// advance moves the cluster clock by d, running a tick (hint passes,
// sweeps, and every simAEEvery ticks anti-entropy) at each simTick
// boundary crossed.
func (c *simCluster) advance(d time.Duration, ticks *int) error {
	before := c.ms.Load()
	after := c.ms.Add(d.Milliseconds())
	for k := before/simTick.Milliseconds() + 1; k <= after/simTick.Milliseconds(); k++ {
		*ticks++
		if err := c.tick(*ticks%simAEEvery == 0); err != nil {
			return err
		}
	}
	return nil
}

// tick runs each running node's hint pass and sweep, and anti-entropy if
// ae: each running node exchanges each partition it replicates with each
// other replica it can reach.
func (c *simCluster) tick(ae bool) error {
	ctx := context.Background()
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		if _, err := n.hints.Pass(ctx); err != nil {
			return fmt.Errorf("%s hint pass: %w", n.id, err)
		}
	}
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		if _, err := n.store.Sweep(100_000); err != nil {
			return fmt.Errorf("%s sweep: %w", n.id, err)
		}
	}
	c.settle()
	if ae {
		return c.antiEntropy()
	}
	return nil
}

func (c *simCluster) antiEntropy() error {
	ctx := context.Background()
	st := c.st.Load()
	for _, n := range c.nodes {
		if !n.running() {
			continue
		}
		for _, p := range st.PartitionsOf(ring.NodeID(n.id)) {
			for _, id := range st.PreferenceList(p, st.Replicas()) {
				other := string(id)
				if other == n.id || !c.reachable(n.id, other) {
					continue
				}
				if _, err := antientropy.Exchange(ctx, n.trees, p, n.store, c.net.Peer(n.id, other), antientropy.Options{}); err != nil {
					return fmt.Errorf("%s exchange of %d with %s: %w", n.id, p, other, err)
				}
			}
		}
	}
	return nil
}

// converged reports whether no hint is pending and each partition's
// replicas have equal Merkle roots.
func (c *simCluster) converged() (bool, error) {
	for _, n := range c.nodes {
		ts, err := n.store.HintTargets()
		if err != nil {
			return false, err
		}
		for _, k := range ts {
			if k > 0 {
				return false, nil
			}
		}
	}
	st := c.st.Load()
	for p := range simPartitions {
		ids := st.PreferenceList(p, st.Replicas())
		root := c.byID[string(ids[0])].trees.Root(p)
		for _, id := range ids[1:] {
			if c.byID[string(id)].trees.Root(p) != root {
				return false, nil
			}
		}
	}
	return true, nil
}

// The nemesis's fault kinds.
var simFaults = []string{"none", "isolate", "split", "pause", "kill", "skew"}

// fault applies a fault of kind (choosing its nodes with rng) and returns
// a description.
func (c *simCluster) fault(kind string, rng *rand.Rand) (string, error) {
	ids := make([]string, 0, simNodes)
	for _, n := range c.nodes {
		ids = append(ids, n.id)
	}
	rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	switch kind {
	case "isolate":
		c.partition([]string{ids[0]}, ids[1:])
		return "isolate " + ids[0], nil
	case "split":
		c.partition(ids[:2], ids[2:])
		return fmt.Sprintf("split %v|%v", ids[:2], ids[2:]), nil
	case "pause":
		k := 1 + rng.IntN(2)
		for _, id := range ids[:k] {
			c.byID[id].paused = true
			c.net.SetDown(id, true)
		}
		return fmt.Sprintf("pause %v", ids[:k]), nil
	case "kill":
		k := 1 + rng.IntN(2)
		for _, id := range ids[:k] {
			n := c.byID[id]
			c.net.SetDown(id, true)
			n.stop()
			n.killed = true
		}
		return fmt.Sprintf("kill %v", ids[:k]), nil
	case "skew":
		off := time.Duration(rng.IntN(40_000)-20_000) * time.Millisecond
		c.byID[ids[0]].skew.Store(off.Milliseconds())
		return fmt.Sprintf("skew %s by %v", ids[0], off), nil
	}
	return "none", nil
}

func (c *simCluster) partition(groups ...[]string) {
	c.net.Partition(groups...)
	for g, ids := range groups {
		for _, id := range ids {
			c.group[id] = g
		}
	}
}

// heal ends every fault: partitions healed, paused nodes resumed, killed
// ones restarted, clocks back in step.
func (c *simCluster) heal() error {
	c.net.Heal()
	clear(c.group)
	for _, n := range c.nodes {
		n.skew.Store(0)
		if n.paused {
			n.paused = false
			c.net.SetDown(n.id, false)
			if c.st.Load().FlushEpochs() != ([ring.Databases]uint64{}) {
				if _, err := n.store.Purge(); err != nil {
					return err
				}
			}
		}
		if n.killed {
			if err := n.start(); err != nil {
				return fmt.Errorf("restart %s: %w", n.id, err)
			}
		}
	}
	return nil
}

// schedule is one seeded fault schedule's outcome.
type schedule struct {
	seed     uint64
	phases   []string // the faults applied, in order
	results  []Result
	converge time.Duration
	replica  int
	err      error
}

func (s *schedule) ok() bool {
	if s.err != nil || s.replica > 0 {
		return false
	}
	for _, r := range s.results {
		if !r.OK() {
			return false
		}
	}
	return true
}

// runSchedule runs the fault schedule of seed: 3–7 phases, each a fault
// and 20–80 operations of randomly chosen workloads through randomly
// chosen running nodes, the clock advancing 20–200 ms per operation (so
// tombstones pass their grace within a phase), FLUSHALL at the start of
// one phase; then heal, convergence (at most 120 s of cluster time) and
// the checks. It records per-phase operation counts in sum.
func runSchedule(seed uint64, sum *Summary) *schedule {
	return runScheduleOf(seed, sum, allWorkloads())
}

// runScheduleOf is runSchedule with the workloads wls: a schedule's
// operations, and so the schedule a seed makes, depend on how many
// workloads there are (regressionSeeds replay with the set they failed
// with).
func runScheduleOf(seed uint64, sum *Summary, wls []Workload) *schedule {
	s := &schedule{seed: seed}
	rng := rand.New(rand.NewPCG(seed, 0x6a657073656e))
	c, err := newSimCluster(seed)
	if err != nil {
		s.err = err
		return s
	}
	defer c.close()
	ctx := context.Background()
	ticks := 0
	phases := 3 + rng.IntN(5)
	flushAt := rng.IntN(phases)
	for p := range phases {
		kind := simFaults[rng.IntN(len(simFaults))]
		desc, err := c.fault(kind, rng)
		if err != nil {
			s.err = err
			return s
		}
		s.phases = append(s.phases, desc)
		sum.startPhase(kind)
		if p == flushAt {
			if n := c.anyRunning(rng); n != nil {
				if err := n.client.FlushAll(ctx).Err(); err == nil {
					for _, w := range wls {
						w.Flushed()
					}
					s.phases = append(s.phases, "FLUSHALL via "+n.id)
				}
				c.settle()
			}
		}
		for range 20 + rng.IntN(61) {
			if err := c.advance(time.Duration(20+rng.IntN(181))*time.Millisecond, &ticks); err != nil {
				s.err = err
				return s
			}
			n := c.anyRunning(rng)
			if n == nil {
				sum.op(kind, errNodeDown)
				continue
			}
			w := wls[rng.IntN(len(wls))]
			sum.op(kind, w.Op(ctx, rng, n.client))
			c.settle()
		}
		if err := c.heal(); err != nil {
			s.err = err
			return s
		}
	}
	healed := c.ms.Load()
	for {
		if err := c.advance(simTick, &ticks); err != nil {
			s.err = err
			return s
		}
		if err := c.antiEntropy(); err != nil {
			s.err = err
			return s
		}
		ok, err := c.converged()
		if err != nil {
			s.err = err
			return s
		}
		if ok {
			break
		}
		if time.Duration(c.ms.Load()-healed)*time.Millisecond > 120*time.Second {
			s.err = errors.New("replicas did not converge within 120 s of cluster time after heal")
			break
		}
	}
	s.converge = time.Duration(c.ms.Load()-healed) * time.Millisecond
	read := c.nodes[rng.IntN(simNodes)].client
	for _, w := range wls {
		s.results = append(s.results, w.Check(ctx, read))
	}
	c.settle()
	s.replica = sum.checkReplicas(ctx, wls, func(key string) ([]string, []*redis.Client) {
		ids := c.replicas([]byte(key)) // db 0 at epoch 0 is the bare key; the slot is the user key's either way
		var cs []*redis.Client
		for _, id := range ids {
			cs = append(cs, c.byID[id].client)
		}
		return ids, cs
	})
	return s
}

// anyRunning returns a random running node, nil if none is.
func (c *simCluster) anyRunning(rng *rand.Rand) *simNode {
	var up []*simNode
	for _, n := range c.nodes {
		if n.running() {
			up = append(up, n)
		}
	}
	if len(up) == 0 {
		return nil
	}
	return up[rng.IntN(len(up))]
}
