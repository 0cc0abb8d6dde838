package jepsen

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Workload drives one kind of operation against the cluster and checks
// the cluster's final state against what was acknowledged. Op is called
// concurrently by the runner's clients; Flushed and Check are called with
// no Op running.
type Workload interface {
	// Name is the workload's name in the summary and its keys' prefix.
	Name() string
	// Op runs one operation through c and records its outcome; it
	// returns the client's error (nil: acknowledged), for the runner's
	// per-phase error rates.
	Op(ctx context.Context, rng *rand.Rand, c *redis.Client) error
	// Flushed tells the workload that FLUSHALL was acknowledged: every
	// key it wrote so far must stay absent; later operations use new keys.
	Flushed()
	// Keys returns every key the workload may have written, flushed ones
	// included, for the replica comparison.
	Keys() []string
	// Check reads the final state through c and returns the verdict.
	Check(ctx context.Context, c *redis.Client) Result
}

// allWorkloads returns a fresh instance of every workload. Adding a data
// type's workload is one file and one line here.
func allWorkloads() []Workload {
	return []Workload{newKV(), newGSet(), newCounter(), newSetWL(), newHashWL(), newZSetWL(), newListWL()}
}

// Result is a workload's verdict: operation counts and anomalies.
type Result struct {
	Workload string
	// Attempted operations; Acked of them acknowledged; the rest failed
	// with an unknown outcome.
	Attempted, Acked int
	// Lost counts acknowledged writes the final state lacks; Resurrected
	// removals (DEL, SREM, HDEL that replied 1, or FLUSHALL) undone;
	// Other any other anomaly (a counter above its bound, a value never
	// written).
	Lost, Resurrected, Other int
	// Notes describes the first anomalies.
	Notes []string
	// Anomalies names the first maxAnomalies anomalies' keys (and
	// members), in the order the checker found them; MoreAnomalies counts
	// the rest. The evidence writer reads these keys on every node.
	Anomalies     []KeyAnomaly
	MoreAnomalies int
}

// maxAnomalies bounds Result.Anomalies: a run that loses thousands of keys
// names the first 50.
const maxAnomalies = 50

// The kinds of a KeyAnomaly, as Result counts them.
const (
	kindLost        = "lost"
	kindResurrected = "resurrected"
	kindOther       = "other"
)

// KeyAnomaly is one anomaly a checker found: its kind (kindLost,
// kindResurrected or kindOther), the key, and the member, field or
// element of a container key ("" for a whole key).
type KeyAnomaly struct {
	Kind, Key, Member string
}

// String renders the anomaly as "kind key[ member]".
func (a KeyAnomaly) String() string {
	if a.Member == "" {
		return a.Kind + " " + a.Key
	}
	return a.Kind + " " + a.Key + " " + a.Member
}

// anomaly counts one anomaly of kind on key (member "" for the whole
// key) and names it in Anomalies while fewer than maxAnomalies are.
func (r *Result) anomaly(kind, key, member string) {
	switch kind {
	case kindLost:
		r.Lost++
	case kindResurrected:
		r.Resurrected++
	default:
		r.Other++
	}
	r.addAnomaly(KeyAnomaly{Kind: kind, Key: key, Member: member})
}

// addAnomaly names a in Anomalies, or counts it in MoreAnomalies once
// maxAnomalies are named.
func (r *Result) addAnomaly(a KeyAnomaly) {
	if len(r.Anomalies) < maxAnomalies {
		r.Anomalies = append(r.Anomalies, a)
	} else {
		r.MoreAnomalies++
	}
}

// AnomalousKeys returns the distinct keys of Anomalies, in order.
func (r Result) AnomalousKeys() []string {
	var out []string
	seen := map[string]bool{}
	for _, a := range r.Anomalies {
		if !seen[a.Key] {
			seen[a.Key] = true
			out = append(out, a.Key)
		}
	}
	return out
}

// OK reports whether the result has no anomaly.
func (r Result) OK() bool { return r.Lost == 0 && r.Resurrected == 0 && r.Other == 0 }

// note adds an anomaly's description, keeping the first few.
func (r *Result) note(format string, args ...any) {
	if len(r.Notes) < 8 {
		r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
	}
}

// String renders the verdict on one line.
func (r Result) String() string {
	verdict := "ok"
	if !r.OK() {
		verdict = "FAIL"
	}
	s := fmt.Sprintf("%-8s attempted %6d  acked %6d  lost %4d  resurrected %4d  other %3d  %s",
		r.Workload, r.Attempted, r.Acked, r.Lost, r.Resurrected, r.Other, verdict)
	for _, n := range r.Notes {
		s += "\n           " + n
	}
	if ks := r.AnomalousKeys(); len(ks) > 0 {
		s += "\n           keys: " + strings.Join(ks, " ")
		if r.MoreAnomalies > 0 {
			s += fmt.Sprintf(" (and %d more anomalies)", r.MoreAnomalies)
		}
	}
	return s
}

// outcome is an operation's state in a workload's model.
type outcome uint8

const (
	notTried outcome = iota
	pending          // sent, no reply yet
	acked            // acknowledged
	unknown          // failed: may or may not have happened
)

// String names the outcome.
func (o outcome) String() string {
	switch o {
	case notTried:
		return "not sent"
	case pending:
		return "sent, no reply"
	case acked:
		return "acknowledged"
	case unknown:
		return "failed (outcome unknown)"
	}
	return fmt.Sprintf("outcome(%d)", o)
}

// historian is a workload that can render what it did to an anomaly's
// key (and member): the evidence writer prints it next to the key's
// replicas.
type historian interface {
	History(a KeyAnomaly) string
}

// sender names the runner's client that sent an operation: its worker
// number and the node it talks to (0-based; -1 each when unknown, as in
// the simulation).
type sender struct{ worker, node int16 }

// String renders the sender as "client W via nN".
func (s sender) String() string {
	if s.worker < 0 {
		return "client unknown"
	}
	return fmt.Sprintf("client %d via n%d", s.worker, s.node+1)
}

type senderKey struct{}

// withSender returns ctx naming the client that runs operations under it.
func withSender(ctx context.Context, worker, node int) context.Context {
	return context.WithValue(ctx, senderKey{}, sender{int16(worker), int16(node)})
}

// senderOf returns the client withSender put in ctx, or the unknown one.
func senderOf(ctx context.Context) sender {
	if s, ok := ctx.Value(senderKey{}).(sender); ok {
		return s
	}
	return sender{-1, -1}
}

// span renders an operation's wall-clock send and answer times (Unix ns;
// 0: not answered) in UTC, as "sent 15:04:05.000000, answered
// 15:04:05.003200 (3.2ms)".
func span(sent, done int64) string {
	if sent == 0 {
		return "not sent"
	}
	const layout = "15:04:05.000000"
	s := "sent " + time.Unix(0, sent).UTC().Format(layout)
	if done == 0 {
		return s + ", no answer"
	}
	return s + ", answered " + time.Unix(0, done).UTC().Format(layout) + " (" + time.Duration(done-sent).String() + ")"
}

// flushedHistory is History's answer for a key of an earlier flush
// generation, whose model the workload no longer keeps.
func flushedHistory(f *flushSet, key string) (string, bool) {
	for _, k := range f.names {
		if k == key {
			if f.unsure[key] {
				return key + ": written before FLUSHALL, a write of unknown outcome among them", true
			}
			return key + ": written before FLUSHALL, every write acknowledged", true
		}
	}
	return "", false
}

// counts is the attempted/acknowledged bookkeeping shared by workloads.
type counts struct {
	mu                sync.Mutex
	attempted, nacked int
}

// done records one operation's end under c.mu (the caller holds it).
func (c *counts) done(err error) outcome {
	c.attempted++
	if err != nil {
		return unknown
	}
	c.nacked++
	return acked
}

// result starts a Result with the counts.
func (c *counts) result(name string) Result {
	return Result{Workload: name, Attempted: c.attempted, Acked: c.nacked}
}

// keyName is workload name's key i of flush generation gen.
func keyName(name string, gen, i int) string { return fmt.Sprintf("%s:%d:%d", name, gen, i) }

// replyErr is the error of a reply: nil for a null reply (redis.Nil).
func replyErr(err error) error {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	return err
}

// flushSet holds a workload's keys written before FLUSHALL.
type flushSet struct {
	names []string
	// unsure marks keys with an operation of unknown outcome: a write
	// a client gave up on may still land later (a paused node runs it when
	// resumed, a cut link delivers it when mended), after the flush too.
	unsure map[string]bool
}

// add records a flushed key.
func (f *flushSet) add(name string, unsure bool) {
	f.names = append(f.names, name)
	if unsure {
		if f.unsure == nil {
			f.unsure = map[string]bool{}
		}
		f.unsure[name] = true
	}
}

// absent checks through c that no flushed key exists (FLUSHALL's
// promise) and counts those that do as resurrected, except keys with a
// write of unknown outcome, which are only noted.
func absent(ctx context.Context, c *redis.Client, f *flushSet, r *Result) {
	var late []string
	for _, k := range f.names {
		n, err := c.Exists(ctx, k).Result()
		switch {
		case err != nil:
			r.anomaly(kindOther, k, "")
			r.note("EXISTS %s after the flush: %v", k, err)
		case n != 0 && f.unsure[k]:
			late = append(late, k)
		case n != 0:
			r.anomaly(kindResurrected, k, "")
			r.note("%s, written before FLUSHALL (every write acknowledged), exists again", k)
		}
	}
	if len(late) > 0 {
		r.note("not an anomaly: %s, written before FLUSHALL by a write of unknown outcome, landed after it", short(late))
	}
}

// short renders a list of anomalies' keys briefly.
func short(xs []string) string {
	if len(xs) > 6 {
		return strings.Join(xs[:6], ",") + fmt.Sprintf(",… (%d)", len(xs))
	}
	return strings.Join(xs, ",")
}
