package jepsen

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// phaseStat counts the operations run under one kind of fault.
type phaseStat struct {
	phases, attempted, failed int
}

// Summary is one run's report: per workload, per fault kind, convergence.
type Summary struct {
	mu        sync.Mutex
	Harness   string // "simulation" or "docker"
	Seed      uint64
	Schedules int
	Results   map[string]*Result
	order     []string
	Phases    map[string]*phaseStat
	// Converge holds each schedule's time from heal to converged replicas
	// (cluster time in the simulation, wall time in Docker).
	Converge []time.Duration
	// Replica counts keys whose replicas' local copies differ after
	// convergence; ReplicaNotes describes the first.
	Replica      int
	ReplicaNotes []string
	// ReplicaKeys names the first maxAnomalies of those keys.
	ReplicaKeys []string
	// Failed lists the seeds of failing schedules.
	Failed []uint64
	// Evidence is the directory a failing Docker run's evidence was
	// written to ("" when none was).
	Evidence string
}

func newSummary(harness string, seed uint64) *Summary {
	return &Summary{Harness: harness, Seed: seed, Results: map[string]*Result{}, Phases: map[string]*phaseStat{}}
}

// op records one operation's outcome under fault kind phase.
func (s *Summary) op(phase string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.phase(phase)
	p.attempted++
	if err != nil {
		p.failed++
	}
}

// startPhase counts one more phase of kind phase.
func (s *Summary) startPhase(phase string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.phase(phase).phases++
}

func (s *Summary) phase(name string) *phaseStat {
	p := s.Phases[name]
	if p == nil {
		p = &phaseStat{}
		s.Phases[name] = p
	}
	return p
}

// add folds a schedule's workload results in, and reports whether all
// passed.
func (s *Summary) add(rs []Result) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	ok := true
	for _, r := range rs {
		t := s.Results[r.Workload]
		if t == nil {
			t = &Result{Workload: r.Workload}
			s.Results[r.Workload] = t
			s.order = append(s.order, r.Workload)
		}
		t.Attempted += r.Attempted
		t.Acked += r.Acked
		t.Lost += r.Lost
		t.Resurrected += r.Resurrected
		t.Other += r.Other
		for _, n := range r.Notes {
			t.note("%s", n)
		}
		for _, a := range r.Anomalies {
			t.addAnomaly(a)
		}
		t.MoreAnomalies += r.MoreAnomalies
		ok = ok && r.OK()
	}
	return ok
}

// OK reports whether no workload and no replica comparison failed.
func (s *Summary) OK() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range s.Results {
		if !r.OK() {
			return false
		}
	}
	return s.Replica == 0 && len(s.Failed) == 0
}

// String renders the summary for a person.
func (s *Summary) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	fmt.Fprintf(&b, "dynakv fault suite (%s): seed %d, %d schedule(s)\n", s.Harness, s.Seed, s.Schedules)
	b.WriteString("workloads:\n")
	for _, name := range s.order {
		fmt.Fprintf(&b, "  %s\n", s.Results[name])
	}
	b.WriteString("error rate per fault phase:\n")
	names := make([]string, 0, len(s.Phases))
	for n := range s.Phases {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		p := s.Phases[n]
		rate := 0.0
		if p.attempted > 0 {
			rate = 100 * float64(p.failed) / float64(p.attempted)
		}
		fmt.Fprintf(&b, "  %-10s phases %5d  ops %7d  failed %6d  (%.1f%%)\n", n, p.phases, p.attempted, p.failed, rate)
	}
	if len(s.Converge) > 0 {
		c := slices.Clone(s.Converge)
		slices.Sort(c)
		fmt.Fprintf(&b, "converged after heal: median %v, max %v (%d runs)\n", c[len(c)/2], c[len(c)-1], len(c))
	}
	fmt.Fprintf(&b, "replicas differing after convergence: %d keys\n", s.Replica)
	for _, n := range s.ReplicaNotes {
		fmt.Fprintf(&b, "  %s\n", n)
	}
	if len(s.Failed) > 0 {
		fmt.Fprintf(&b, "failing schedule seeds: %v\n", s.Failed[:min(len(s.Failed), 10)])
	}
	if s.Evidence != "" {
		fmt.Fprintf(&b, "evidence (each anomalous key on every node, every node's log): %s\n", s.Evidence)
	}
	verdict := "PASS: every acknowledged operation accounted for"
	if s.Replica > 0 || len(s.Failed) > 0 || !s.okLocked() {
		verdict = "FAIL"
	}
	b.WriteString("verdict: " + verdict + "\n")
	return b.String()
}

func (s *Summary) okLocked() bool {
	for _, r := range s.Results {
		if !r.OK() {
			return false
		}
	}
	return true
}

// report logs the summary and writes it to $DYNAKV_JEPSEN_OUT when set.
func (s *Summary) report(t *testing.T) {
	text := s.String()
	t.Log("\n" + text)
	if out := os.Getenv("DYNAKV_JEPSEN_OUT"); out != "" {
		if err := os.WriteFile(out, []byte(text), 0o644); err != nil {
			t.Errorf("write summary: %v", err)
		}
	}
}

// replicaCopy is a replica's local copy of a key as VGET key LOCAL shows
// it: its live values (the token's via differs per replica, and a reaped
// tombstone and an unreaped one mean the same).
func replicaCopy(ctx context.Context, c *redis.Client, key string) (string, error) {
	_, vals, err := vget(ctx, c, key, true)
	if err != nil {
		return "", err
	}
	return strings.Join(vals, "\x00"), nil
}

// diffReplicas compares VGET key LOCAL on each of key's replicas
// (replicas returns their names and clients) and returns a description
// of the difference, "" when they agree.
func diffReplicas(ctx context.Context, key string, names []string, clients []*redis.Client) string {
	var first string
	for i, c := range clients {
		v, err := replicaCopy(ctx, c, key)
		if err != nil {
			return fmt.Sprintf("%s: VGET LOCAL on %s: %v", key, names[i], err)
		}
		if i == 0 {
			first = v
		} else if v != first {
			return fmt.Sprintf("%s: %s holds %q, %s holds %q", key, names[0], first, names[i], v)
		}
	}
	return ""
}

// checkReplicas compares every key of the workloads on its replicas and
// records differences in s.
func (s *Summary) checkReplicas(ctx context.Context, wls []Workload, replicas func(key string) ([]string, []*redis.Client)) int {
	bad := 0
	for _, w := range wls {
		for _, k := range w.Keys() {
			names, cs := replicas(k)
			if d := diffReplicas(ctx, k, names, cs); d != "" {
				bad++
				s.mu.Lock()
				if len(s.ReplicaNotes) < 8 {
					s.ReplicaNotes = append(s.ReplicaNotes, d)
				}
				if len(s.ReplicaKeys) < maxAnomalies {
					s.ReplicaKeys = append(s.ReplicaKeys, k)
				}
				s.mu.Unlock()
			}
		}
	}
	s.mu.Lock()
	s.Replica += bad
	s.mu.Unlock()
	return bad
}
