package jepsen

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dynakv/dynakv/internal/testseed"
	"github.com/dynakv/dynakv/ring"
)

// The Docker cluster's shape and timing. The tombstone grace and the
// anti-entropy interval are short so that reaping and repair happen
// within a run of minutes.
const (
	dockerNodes = 5
	dockerGrace = "5s"
	dockerAE    = "5s"
)

// dockerCluster is five containers of the FROM scratch image on two
// private networks: <tag>-cluster carries node-to-node traffic (what
// faults cut), <tag>-client the test's clients. Each node's data is a
// named volume, so a node can be killed and started again, or run again
// with other flags (the clock skew), and keep its data.
type dockerCluster struct {
	t          *testing.T
	tag        string
	net, cnet  string
	clusterIP  []string
	clientIP   []string
	clients    []*redis.Client
	mu         sync.Mutex
	logf       func(format string, args ...any)
	paused     map[int]bool
	splitRules [][]string
	started    bool // every node started once: restarts join the others
	// pastLogs holds each node's logs of its removed containers (a kill
	// or a skew runs the node anew), so that evidence has them all.
	pastLogs [dockerNodes][]byte
}

// run runs a command and returns its combined output.
func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return strings.TrimSpace(string(out)), nil
}

// needDocker skips t where the Docker tests cannot run.
func needDocker(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("docker"); err != nil {
		t.Skip("docker not installed: skipping the Docker fault suite")
	}
	if out, err := exec.Command("docker", "info").CombinedOutput(); err != nil {
		t.Skipf("docker engine not reachable: skipping the Docker fault suite (%v: %.200s)", err, out)
	}
	if os.Getuid() != 0 {
		t.Skip("not root: the host may not reach container networks, nor set iptables; skipping the Docker fault suite")
	}
}

// quietLog drops go-redis's own log lines (a dial refused by a killed
// node, once per attempt); the runner counts the errors itself.
type quietLog struct{}

func (quietLog) Printf(context.Context, string, ...any) {}

func startDockerCluster(t *testing.T) *dockerCluster {
	t.Helper()
	redis.SetLogger(quietLog{})
	d := &dockerCluster{t: t, tag: fmt.Sprintf("dkvj-%d", os.Getpid()), paused: map[int]bool{}, logf: t.Logf}
	t.Cleanup(d.cleanup)
	// The image: a static binary in deploy/Dockerfile's scratch image.
	ctx := t.TempDir()
	build := exec.Command("go", "build", "-o", filepath.Join(ctx, "dynakv"), "../../cmd/dynakv")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	df, err := os.ReadFile("../../deploy/Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), df, 0o644); err != nil {
		t.Fatal(err)
	}
	d.must("docker", "build", "-q", "-t", d.tag, ctx)
	// Two private networks on free subnets.
	d.net, d.cnet = d.tag+"-cluster", d.tag+"-client"
	base := 30 + os.Getpid()%150
	octet := -1
	for o := base; o < base+40; o++ {
		if _, err := run("docker", "network", "create", "--subnet", fmt.Sprintf("10.231.%d.0/24", o), d.net); err != nil {
			continue
		}
		if _, err := run("docker", "network", "create", "--subnet", fmt.Sprintf("10.232.%d.0/24", o), d.cnet); err != nil {
			run("docker", "network", "rm", d.net)
			continue
		}
		octet = o
		break
	}
	if octet < 0 {
		t.Fatal("no free subnet for the test networks")
	}
	for i := range dockerNodes {
		d.clusterIP = append(d.clusterIP, fmt.Sprintf("10.231.%d.%d", octet, 11+i))
		d.clientIP = append(d.clientIP, fmt.Sprintf("10.232.%d.%d", octet, 11+i))
		d.clients = append(d.clients, redis.NewClient(&redis.Options{Addr: d.clientIP[i] + ":6379", MaxRetries: -1,
			DialTimeout: time.Second, ReadTimeout: 4 * time.Second, WriteTimeout: 4 * time.Second, PoolSize: 4, DisableIdentity: true}))
	}
	for i := range dockerNodes {
		d.runNode(i, 0)
		if i == 0 {
			d.waitAlive(0, 1)
		}
	}
	for i := range dockerNodes {
		d.waitAlive(i, dockerNodes)
	}
	d.started = true
	return d
}

func (d *dockerCluster) must(name string, args ...string) string {
	d.t.Helper()
	out, err := run(name, args...)
	if err != nil {
		d.t.Fatal(err)
	}
	return out
}

func (d *dockerCluster) container(i int) string { return fmt.Sprintf("%s-n%d", d.tag, i+1) }

// containerLog returns node i's current container's log (stdout and
// stderr, each line prefixed with the engine's time stamp).
func (d *dockerCluster) containerLog(i int) ([]byte, error) {
	out, err := exec.Command("docker", "logs", "--timestamps", d.container(i)).CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("docker logs %s: %v", d.container(i), err)
	}
	return out, nil
}

// remove removes node i's container (kill -9; the volume stays), keeping
// its log in pastLogs.
func (d *dockerCluster) remove(i int) {
	d.t.Helper()
	l, err := d.containerLog(i)
	d.mu.Lock()
	d.pastLogs[i] = fmt.Appendf(d.pastLogs[i], "=== %s: container removed at %s (kill -9 or a restart with another clock)\n",
		d.container(i), time.Now().UTC().Format(time.RFC3339Nano))
	d.pastLogs[i] = append(d.pastLogs[i], l...)
	if err != nil {
		d.pastLogs[i] = fmt.Appendf(d.pastLogs[i], "(%v)\n", err)
	}
	d.mu.Unlock()
	d.must("docker", "rm", "-f", d.container(i))
}

// nodeLog returns node i's whole log: its removed containers' logs, then
// its current one's.
func (d *dockerCluster) nodeLog(i int) ([]byte, error) {
	d.mu.Lock()
	out := slices.Clone(d.pastLogs[i])
	d.mu.Unlock()
	l, err := d.containerLog(i)
	out = fmt.Appendf(out, "=== %s: current container\n", d.container(i))
	return append(out, l...), err
}

// evidenceNodes returns the cluster's nodes for writeEvidence; replicas
// is replicaMap's function, or nil.
func (d *dockerCluster) evidenceNodes(replicas func(key string) ([]string, []*redis.Client)) evidenceNodes {
	var names []string
	for i := range dockerNodes {
		names = append(names, fmt.Sprintf("n%d", i+1))
	}
	e := evidenceNodes{names: names, clients: d.clients, logs: d.nodeLog}
	if replicas != nil {
		e.replicas = func(key string) []string {
			names, _ := replicas(key)
			return names
		}
	}
	return e
}

// runNode creates and starts node i's container (its data in a named
// volume), its clock skewed by skew, on both networks.
func (d *dockerCluster) runNode(i int, skew time.Duration) {
	d.t.Helper()
	ip := d.clusterIP[i]
	args := []string{"run", "-d", "--name", d.container(i), "--network", d.net, "--ip", ip,
		"-v", d.container(i) + ":/data", d.tag,
		"server", "--id", fmt.Sprintf("n%d", i+1), "--listen", "0.0.0.0:6379", "--advertise", ip + ":6379",
		"--gossip", "0.0.0.0:7946", "--gossip-advertise", ip + ":7946", "--data", "/data",
		"--cluster-secret", "jepsen", "--replicas", "3", "--read-quorum", "2", "--write-quorum", "2",
		"--partitions", "64", "--timeout", "1s", "--hint-interval", "200ms",
		"--tombstone-grace", dockerGrace, "--ae-interval", dockerAE, "--clock-offset=" + skew.String()}
	if i > 0 || d.started {
		// Every node but the first's first start joins through the
		// others (a node that knows a ring rejoins it through any).
		var seeds []string
		for j, ip := range d.clusterIP {
			if j != i {
				seeds = append(seeds, ip+":7946")
			}
		}
		args = append(args, "--join", strings.Join(seeds, ","))
	}
	d.must("docker", args...)
	d.must("docker", "network", "connect", "--ip", d.clientIP[i], d.cnet, d.container(i))
}

// waitAlive polls node i until INFO cluster says n nodes are alive.
func (d *dockerCluster) waitAlive(i, n int) {
	d.t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		info, err := d.clients[i].Info(ctx, "cluster").Result()
		cancel()
		if err == nil && strings.Contains(info, fmt.Sprintf("nodes_alive:%d\r\n", n)) {
			return
		}
		if time.Now().After(deadline) {
			logs, _ := run("docker", "logs", "--tail", "30", d.container(i))
			d.t.Fatalf("node %d does not see %d nodes alive after 90s: %q %v\n%s", i+1, n, info, err, logs)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// cleanup removes everything the cluster made; it runs even when the
// test failed half way.
func (d *dockerCluster) cleanup() {
	d.unsplit()
	for _, c := range d.clients {
		c.Close()
	}
	for i := range dockerNodes {
		run("docker", "rm", "-f", "-v", d.container(i))
		run("docker", "volume", "rm", "-f", d.container(i))
	}
	if d.net != "" {
		run("docker", "network", "rm", d.net, d.cnet)
	}
	run("docker", "rmi", "-f", d.tag)
}

// iptablesCmds are the iptables front ends whose DOCKER-USER chain may
// see bridged traffic (the engine uses one of them).
func iptablesCmds() []string {
	var out []string
	for _, c := range []string{"iptables", "iptables-legacy"} {
		if _, err := exec.LookPath(c); err == nil {
			if _, err := run(c, "-L", "DOCKER-USER", "-n"); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// split cuts the cluster network between groups a and b (DROP rules in
// DOCKER-USER both ways): a 2|3 split that leaves the client network
// alone.
func (d *dockerCluster) split(a, b []int) error {
	cmds := iptablesCmds()
	if len(cmds) == 0 {
		return fmt.Errorf("no iptables with a DOCKER-USER chain")
	}
	for _, x := range a {
		for _, y := range b {
			for _, pair := range [][2]string{{d.clusterIP[x], d.clusterIP[y]}, {d.clusterIP[y], d.clusterIP[x]}} {
				for _, c := range cmds {
					rule := []string{"DOCKER-USER", "-s", pair[0], "-d", pair[1], "-j", "DROP"}
					if _, err := run(c, append([]string{"-I"}, rule...)...); err != nil {
						return err
					}
					d.mu.Lock()
					d.splitRules = append(d.splitRules, append([]string{c}, rule...))
					d.mu.Unlock()
				}
			}
		}
	}
	return nil
}

// unsplit removes the split's rules.
func (d *dockerCluster) unsplit() {
	d.mu.Lock()
	rules := d.splitRules
	d.splitRules = nil
	d.mu.Unlock()
	for _, r := range rules {
		run(r[0], append([]string{"-D"}, r[1:]...)...)
	}
}

// dockerRun is one run of the Docker suite.
type dockerRun struct {
	d     *dockerCluster
	rng   *rand.Rand
	sum   *Summary
	wls   []Workload
	gate  sync.RWMutex // workers hold it shared per operation; FLUSHALL exclusively
	phase atomic.Value // the current fault kind
	stop  atomic.Bool
	// replicas is replicaMap's function once the run has read CLUSTER
	// SLOTS (after the heal).
	replicas func(key string) ([]string, []*redis.Client)
}

// workers runs per node two clients that loop over random workloads
// until stop.
func (r *dockerRun) workers(seed uint64, wg *sync.WaitGroup) {
	for i := range 2 * dockerNodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			c := r.d.clients[i%dockerNodes]
			for !r.stop.Load() {
				w := r.wls[rng.IntN(len(r.wls))]
				r.gate.RLock()
				ctx, cancel := context.WithTimeout(withSender(context.Background(), i, i%dockerNodes), 5*time.Second)
				phase := r.phase.Load().(string)
				err := w.Op(ctx, rng, c)
				cancel()
				r.gate.RUnlock()
				r.sum.op(phase, err)
				if err != nil {
					time.Sleep(50 * time.Millisecond) // a client's back-off: no busy loop on a dead node
				}
			}
		}()
	}
}

// flush runs FLUSHALL with the workers held, through a node, retrying
// until it is acknowledged (at most 30 s), and tells the workloads.
func (r *dockerRun) flush() {
	r.gate.Lock()
	defer r.gate.Unlock()
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		err := r.d.clients[i%dockerNodes].FlushAll(ctx).Err()
		cancel()
		if err == nil {
			for _, w := range r.wls {
				w.Flushed()
			}
			r.d.logf("FLUSHALL acknowledged by n%d", i%dockerNodes+1)
			return
		}
		r.d.logf("FLUSHALL through n%d: %v", i%dockerNodes+1, err)
		time.Sleep(time.Second)
	}
	r.d.t.Error("FLUSHALL was not acknowledged within 30 s")
}

// dockerFaults are the nemesis's fault kinds, each run once per round.
// "handoff" overlaps two faults so that hints outlive a delete: node x
// is cut off (writes of its keys become hints on fallbacks), then, as x
// returns, another node y is paused for a whole fault period (its hints
// for x wait while x's keys are deleted and their tombstones pass the
// grace).
var dockerFaults = []string{"isolate", "split", "pause", "kill", "skew", "handoff"}

// fault applies kind and returns the function that heals it; the
// faults that change half way (handoff) do so inside, sleeping hold.
func (r *dockerRun) fault(kind string, hold time.Duration) (desc string, heal func(), err error) {
	d := r.d
	ids := r.rng.Perm(dockerNodes)
	name := func(is []int) string {
		var s []string
		for _, i := range is {
			s = append(s, fmt.Sprintf("n%d", i+1))
		}
		return strings.Join(s, ",")
	}
	switch kind {
	case "isolate":
		x := ids[0]
		if _, err := run("docker", "network", "disconnect", d.net, d.container(x)); err != nil {
			return "", nil, err
		}
		return "isolate " + name(ids[:1]), func() { d.must("docker", "network", "connect", "--ip", d.clusterIP[x], d.net, d.container(x)) }, nil
	case "handoff":
		x, y := ids[0], ids[1]
		if _, err := run("docker", "network", "disconnect", d.net, d.container(x)); err != nil {
			return "", nil, err
		}
		time.Sleep(hold) // NB: the cut's duration is what is under test
		d.must("docker", "pause", d.container(y))
		d.must("docker", "network", "connect", "--ip", d.clusterIP[x], d.net, d.container(x))
		return fmt.Sprintf("handoff: isolate %s, then pause %s as it returns", name(ids[:1]), name(ids[1:2])),
			func() { d.must("docker", "unpause", d.container(y)) }, nil
	case "split":
		if err := d.split(ids[:2], ids[2:]); err != nil {
			return "", nil, err
		}
		return fmt.Sprintf("split %s|%s", name(ids[:2]), name(ids[2:])), d.unsplit, nil
	case "pause":
		k := 1 + r.rng.IntN(2)
		for _, x := range ids[:k] {
			d.must("docker", "pause", d.container(x))
		}
		return "pause " + name(ids[:k]), func() {
			for _, x := range ids[:k] {
				d.must("docker", "unpause", d.container(x))
			}
		}, nil
	case "kill":
		k := 1 + r.rng.IntN(2)
		for _, x := range ids[:k] {
			d.must("docker", "kill", "-s", "KILL", d.container(x))
		}
		return "kill -9 " + name(ids[:k]), func() {
			for _, x := range ids[:k] {
				d.remove(x)
				d.runNode(x, 0)
			}
		}, nil
	case "skew":
		x := ids[0]
		off := time.Duration(r.rng.IntN(40)-20) * time.Second
		if off == 0 {
			off = 7 * time.Second
		}
		d.remove(x)
		d.runNode(x, off)
		return fmt.Sprintf("skew %s by %v", name(ids[:1]), off), func() {
			d.remove(x)
			d.runNode(x, 0)
		}, nil
	}
	return "none", func() {}, nil
}

// runDocker runs the suite for about total: rounds of every fault kind
// in a seeded order, each held for faultFor and followed by quiet (a
// "none" phase), FLUSHALL once after the first fault (early, so that
// most of the run's keys are checked for loss and resurrection, not only
// for staying flushed); then heal, convergence (no CLUSTER REPAIR) and
// the checks.
func runDocker(t *testing.T, total, faultFor, quiet time.Duration) {
	needDocker(t)
	seed := testseed.Seed(t)
	d := startDockerCluster(t)
	r := &dockerRun{d: d, rng: rand.New(rand.NewPCG(seed, 1)), sum: newSummary("docker", seed), wls: allWorkloads()}
	r.sum.Schedules = 1
	r.phase.Store("none")
	// A run that fails before its verdict (a node that does not come
	// back, a Fatal) still leaves the nodes' logs; this runs after the
	// workers stop, before the cluster is removed.
	t.Cleanup(func() {
		if t.Failed() && r.sum.Evidence == "" {
			r.evidence(t, seed)
		}
	})
	var wg sync.WaitGroup
	r.workers(seed, &wg)
	stopped := false
	stopWorkers := func() {
		if !stopped {
			stopped = true
			r.stop.Store(true)
			wg.Wait()
		}
	}
	t.Cleanup(stopWorkers)
	end := time.Now().Add(total)
	flushed := false
	for n := 0; time.Now().Add(faultFor + quiet).Before(end); n++ {
		if n%len(dockerFaults) == 0 {
			r.rng.Shuffle(len(dockerFaults), func(i, j int) { dockerFaults[i], dockerFaults[j] = dockerFaults[j], dockerFaults[i] })
		}
		kind := dockerFaults[n%len(dockerFaults)]
		r.phase.Store(kind) // before applying it: handoff's first half is under it
		desc, heal, err := r.fault(kind, faultFor/2)
		if err != nil {
			r.phase.Store("none")
			t.Logf("fault %s not applied: %v", kind, err)
			continue
		}
		r.sum.startPhase(kind)
		t.Logf("%s: %s", time.Now().Format("15:04:05"), desc)
		time.Sleep(faultFor) // NB: the fault's duration is what is under test
		r.phase.Store("none")
		heal()
		r.sum.startPhase("none")
		t.Logf("%s: healed", time.Now().Format("15:04:05"))
		if !flushed && n == 0 {
			r.flush()
			flushed = true
		}
		time.Sleep(quiet) // NB: a quiet phase between faults
	}
	if !flushed {
		r.flush()
	}
	stopWorkers()
	healed := time.Now()
	for i := range dockerNodes {
		d.waitAlive(i, dockerNodes)
	}
	// Convergence: every key's replicas agree, with nothing but the
	// cluster's own hinted handoff and anti-entropy.
	replicas := d.replicaMap(t)
	r.replicas = replicas
	var pending []string // keys whose replicas differed at the last look
	for _, w := range r.wls {
		pending = append(pending, w.Keys()...)
	}
	for len(pending) > 0 && time.Since(healed) < 3*time.Minute {
		var still []string
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		for _, k := range pending {
			names, cs := replicas(k)
			if diffReplicas(ctx, k, names, cs) != "" {
				still = append(still, k)
			}
		}
		cancel()
		pending = still
		if len(pending) > 0 {
			time.Sleep(time.Second)
		}
	}
	converged := len(pending) == 0
	r.sum.Converge = append(r.sum.Converge, time.Since(healed).Round(100*time.Millisecond))
	if !converged {
		t.Errorf("replicas still differ 3 minutes after heal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a long run checks tens of thousands of keys
	defer cancel()
	var rs []Result
	for _, w := range r.wls {
		rs = append(rs, w.Check(ctx, d.clients[0]))
	}
	r.sum.add(rs)
	r.sum.checkReplicas(ctx, r.wls, replicas)
	if !r.sum.OK() {
		r.evidence(t, seed)
	}
	r.sum.report(t)
	if !r.sum.OK() {
		t.Errorf("the fault suite found anomalies (seed %d)", seed)
	}
}

// evidence writes the run's evidence (writeEvidence) to evidenceDir and
// names the directory in the summary.
func (r *dockerRun) evidence(t *testing.T, seed uint64) {
	dir, err := evidenceDir(seed, os.Getenv, testArtifactDir(t))
	if err != nil {
		t.Errorf("evidence directory: %v", err)
		return
	}
	r.sum.mu.Lock()
	r.sum.Evidence = dir
	r.sum.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := writeEvidence(ctx, dir, r.sum, r.wls, r.d.evidenceNodes(r.replicas)); err != nil {
		t.Errorf("evidence in %s: %v", dir, err)
	}
	t.Logf("evidence of the failure (each anomalous key on every node, every node's log): %s", dir)
}

// replicaMap reads CLUSTER SLOTS from node 1 and returns, for a key, its
// replicas' names and clients.
func (d *dockerCluster) replicaMap(t *testing.T) func(key string) ([]string, []*redis.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	slots, err := d.clients[0].ClusterSlots(ctx).Result()
	if err != nil {
		t.Fatalf("CLUSTER SLOTS: %v", err)
	}
	byID := map[string]int{}
	for i := range dockerNodes {
		byID[fmt.Sprintf("n%d", i+1)] = i
	}
	return func(key string) ([]string, []*redis.Client) {
		slot := int(ring.Slot([]byte(key)))
		for _, s := range slots {
			if slot < int(s.Start) || slot > int(s.End) {
				continue
			}
			var names []string
			var cs []*redis.Client
			for _, n := range s.Nodes {
				if i, ok := byID[n.ID]; ok {
					names = append(names, n.ID)
					cs = append(cs, d.clients[i])
				}
			}
			return names, cs
		}
		return nil, nil
	}
}

// TestDockerShort is the heavy tier's Docker run: about three minutes of
// faults (DYNAKV_E2E=1; .ci/run).
func TestDockerShort(t *testing.T) {
	if os.Getenv(e2eVar) != "1" {
		t.Skipf("heavy tier: set %s=1 to run the Docker fault suite (.ci/run does)", e2eVar)
	}
	runDocker(t, 150*time.Second, 12*time.Second, 5*time.Second)
}

// TestDockerLong runs the Docker suite for DYNAKV_JEPSEN_LONG (a
// duration, e.g. 20m): every fault kind many times.
func TestDockerLong(t *testing.T) {
	v := os.Getenv(longVar)
	if v == "" {
		t.Skipf("long run: set %s to a duration (e.g. 20m) to run it", longVar)
	}
	total, err := time.ParseDuration(v)
	if err != nil || total <= 0 {
		t.Fatalf("%s=%q: want a positive duration such as 20m", longVar, v)
	}
	runDocker(t, total, 20*time.Second, 10*time.Second)
}
