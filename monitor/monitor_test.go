package monitor_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dynakv/dynakv/monitor"
	"github.com/dynakv/dynakv/resp"
)

// fakeSnapshot is a 3-node ring seen from n1, with n3 down, a command
// with a histogram, hints for n3 and a moving partition.
func fakeSnapshot() *monitor.Snapshot {
	return &monitor.Snapshot{
		NodeID: "n1", Time: time.Unix(0, 0), Started: true, Ready: true,
		Ring: monitor.Ring{Version: 7, Partitions: 8, N: 3, R: 2, W: 2, Nodes: []monitor.Node{
			{ID: "n1", Addr: "10.0.0.1:6379", Weight: 1, Status: "joined", Alive: true, Partitions: 3, Replicated: 8, Self: true},
			{ID: "n2", Addr: "10.0.0.2:6379", Weight: 2, Status: "joined", Alive: true, Partitions: 3, Replicated: 8},
			{ID: "n3", Addr: "10.0.0.3:6379", Weight: 1, Status: "joined", Alive: false, Partitions: 2, Replicated: 8},
		}},
		Commands: []resp.CommandStat{{Name: "get", Calls: 10, Usec: 500, Observed: 10,
			Buckets: func() []uint64 {
				b := make([]uint64, len(monitor.LatencyBounds))
				for i := range b {
					b[i] = 10
				}
				return b
			}()}},
		Errors: map[string]int64{"NOQUORUM": 2},
		Quorum: monitor.Quorum{ReadsOK: 9, ReadsLost: 1, WriteTimeouts: 1, ReadRepairs: 4},
		Hints:  monitor.Hints{Stored: 5, Targets: []monitor.HintTarget{{Target: "n3", Pending: 5, Delivered: 1}}},
		Moves:  []monitor.Move{{Partition: 4, From: []string{"n1", "n2", "n3"}, To: []string{"n4"}}},
		AE:     monitor.AntiEntropy{Enabled: true, Exchanges: 3, OldestComparedSeconds: -1, Parts: []monitor.AEPartition{{Partition: 0, LastComparedSeconds: 2, InSync: true}, {Partition: 1, LastComparedSeconds: -1}}},
	}
}

func get(t *testing.T, h http.Handler, path string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

// TestMetricsParse: /metrics is Prometheus text format that expfmt's
// parser accepts, with the per-command histogram, quorum outcomes, hints
// per target and liveness per node taken from the snapshot.
func TestMetricsParse(t *testing.T) {
	h := monitor.Handler(func() *monitor.Snapshot { return fakeSnapshot() })
	code, body := get(t, h, "/metrics")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("expfmt cannot parse /metrics: %v\n%s", err, body)
	}
	hist := fams["dynakv_command_duration_seconds"]
	if hist == nil || hist.GetType() != dto.MetricType_HISTOGRAM || len(hist.Metric) != 1 {
		t.Fatalf("dynakv_command_duration_seconds = %v", hist)
	}
	if hm := hist.Metric[0].GetHistogram(); hm.GetSampleCount() != 10 || hm.GetSampleSum() != 0.0005 {
		t.Errorf("get's histogram: count %d sum %g, want 10 and 0.0005", hm.GetSampleCount(), hm.GetSampleSum())
	}
	want := map[string]float64{
		`dynakv_quorum_requests_total{op="read",outcome="ok"}`:       9,
		`dynakv_quorum_requests_total{op="read",outcome="noquorum"}`: 1,
		`dynakv_quorum_requests_total{op="write",outcome="timeout"}`: 1,
		`dynakv_hints_pending{target="n3"}`:                          5,
		`dynakv_node_alive{node="n3"}`:                               0,
		`dynakv_node_alive{node="n2"}`:                               1,
		`dynakv_node_weight{node="n2"}`:                              2,
		`dynakv_error_replies_total{code="NOQUORUM"}`:                2,
		`dynakv_read_repairs_total`:                                  4,
		`dynakv_antientropy_exchanges_total{result="ok"}`:            3,
	}
	for k, v := range want {
		if got, ok := sample(fams, k); !ok || got != v {
			t.Errorf("%s = %v (found %v), want %v", k, got, ok, v)
		}
	}
	if _, ok := fams["go_goroutines"]; !ok {
		t.Error("no go_* metrics")
	}
}

// sample finds a sample written as name{l="v",…} in fams.
func sample(fams map[string]*dto.MetricFamily, key string) (float64, bool) {
	name, labels, _ := strings.Cut(key, "{")
	labels = strings.TrimSuffix(labels, "}")
	f := fams[name]
	if f == nil {
		return 0, false
	}
	for _, m := range f.Metric {
		var parts []string
		for _, l := range m.Label {
			parts = append(parts, l.GetName()+`="`+l.GetValue()+`"`)
		}
		if strings.Join(parts, ",") != labels {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue(), true
		case m.Gauge != nil:
			return m.Gauge.GetValue(), true
		}
	}
	return 0, false
}

// TestStatusPage: the page lists the ring with each node's liveness, the
// moving partition, the hints and the anti-entropy grid, refreshes itself
// and needs no script.
func TestStatusPage(t *testing.T) {
	h := monitor.Handler(func() *monitor.Snapshot {
		s := fakeSnapshot()
		s.Recent = []monitor.Record{{Time: time.Unix(0, 0), Level: slog.LevelWarn, Text: "peer n3 unreachable <script>"}}
		return s
	})
	code, body := get(t, h, "/")
	if code != 200 {
		t.Fatalf("/: %d", code)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="5">`,
		`Ring (3 nodes, <span class="bad">1 down</span>)`,
		`<tr id="node-n3"><td><b>n3</b></td>` + "\n" + `<td><span class="down">DOWN</span></td>`,
		`<tr id="node-n2"><td><b>n2</b></td>` + "\n" + `<td><span class="up">UP</span></td>`,
		`<td class="num">4</td><td>n1, n2, n3</td><td>n4</td>`,
		`<td>n3</td><td class="num">5</td>`,
		`class="sync" title="partition 0`,
		`peer n3 unreachable &lt;script&gt;`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Error("status page has a script")
	}
}

// TestHealth: /healthz is always 200; /readyz is 200 when ready and 503
// with the reason when not (a node still joining).
func TestHealth(t *testing.T) {
	ready := monitor.Handler(func() *monitor.Snapshot { return fakeSnapshot() })
	joining := monitor.Handler(func() *monitor.Snapshot {
		return &monitor.Snapshot{NodeID: "n1", ReadyReason: "joining"}
	})
	for _, tc := range []struct {
		h          http.Handler
		path       string
		code       int
		bodyPrefix string
	}{
		{ready, "/healthz", 200, "ok"},
		{ready, "/readyz", 200, "ready"},
		{joining, "/healthz", 200, "ok"},
		{joining, "/readyz", 503, "not ready: joining"},
	} {
		code, body := get(t, tc.h, tc.path)
		if code != tc.code || !strings.HasPrefix(body, tc.bodyPrefix) {
			t.Errorf("%s = %d %q, want %d %q…", tc.path, code, body, tc.code, tc.bodyPrefix)
		}
	}
	// A node not started yet still renders a page and metrics (up 0).
	if code, body := get(t, joining, "/metrics"); code != 200 || !strings.Contains(body, "dynakv_up 0") {
		t.Errorf("/metrics of a joining node: %d %q", code, body)
	}
	if code, _ := get(t, joining, "/"); code != 200 {
		t.Errorf("/ of a joining node: %d", code)
	}
}

// TestRecent: the handler passes records through and keeps the last
// warnings and errors, with their attributes, oldest first.
func TestRecent(t *testing.T) {
	r := monitor.NewRecent(2)
	var out strings.Builder
	log := slog.New(r.Handler(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelError}))).With("node", "n1")
	log.Warn("one", "k", 1)
	log.Info("skipped")
	log.Error("two")
	log.WithGroup("g").Warn("three", "x", "y")
	got := r.Records()
	if len(got) != 2 || got[0].Text != "two node=n1" || got[1].Text != "three node=n1 g.x=y" {
		t.Errorf("records = %+v", got)
	}
	if s := out.String(); strings.Contains(s, "one") || !strings.Contains(s, "two") {
		t.Errorf("the wrapped handler's level was not respected: %q", s)
	}
}
