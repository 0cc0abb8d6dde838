package node

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/dynakv/dynakv/ring/member"
	"github.com/dynakv/dynakv/ring/member/membertest"
)

// scrape fetches and parses /metrics with Prometheus's text-format parser.
func scrape(t *testing.T, addr string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Error(err)
		return nil
	}
	defer res.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Errorf("expfmt cannot parse /metrics: %v", err)
	}
	return fams
}

// TestMetricsUnderLoad: /metrics on --http, scraped and parsed while
// clients run SET and GET, shows non-zero per-command latency histograms
// whose counts are INFO commandstats' calls (the same counters), and
// /readyz answers 200 once the node started.
func TestMetricsUnderLoad(t *testing.T) {
	gossip := membertest.NewNetwork()
	cfg := DefaultConfig()
	cfg.ID, cfg.DataDir, cfg.Listen, cfg.HTTP, cfg.ClusterListen = "n1", t.TempDir(), "127.0.0.1:0", "127.0.0.1:0", "off"
	cfg.Store.NoSync = true
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.GossipTuning = func(mc *member.Config) { mc.Transport = gossip.MustListen(cfg.Gossip) }
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	res, err := http.Get("http://" + n.HTTPAddr() + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("/readyz: %v %v", res, err)
	}
	res.Body.Close()

	const clients, ops = 4, 500 // each client: ops SETs and ops GETs, pipelined
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", n.Addr())
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			w := bufio.NewWriter(c)
			for j := range ops {
				k := fmt.Sprintf("k%d:%d", i, j)
				fmt.Fprintf(w, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$1\r\nv\r\n*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(k), k, len(k), k)
			}
			w.Flush()
			r := bufio.NewReader(c)
			for range 3 * ops { // +OK, then $1 and v, for each pair
				if _, err := r.ReadString('\n'); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done, loaded := make(chan struct{}), loadDone(&wg)
	scrapes := 0
	go func() {
		defer close(done)
		for {
			select {
			case <-loaded:
				return
			default:
			}
			scrape(t, n.HTTPAddr())
			scrapes++
		}
	}()
	wg.Wait()
	<-done
	fams := scrape(t, n.HTTPAddr())
	calls := commandstats(t, n.Addr())
	for _, cmd := range []string{"set", "get"} {
		var count uint64
		var sum float64
		for _, m := range fams["dynakv_command_duration_seconds"].GetMetric() {
			for _, l := range m.Label {
				if l.GetName() == "cmd" && l.GetValue() == cmd {
					count, sum = m.GetHistogram().GetSampleCount(), m.GetHistogram().GetSampleSum()
				}
			}
		}
		if count != clients*ops || sum <= 0 {
			t.Errorf("%s's histogram: count %d, sum %g; want %d calls and a positive sum", cmd, count, sum, clients*ops)
		}
		if calls[cmd] != int64(count) {
			t.Errorf("INFO commandstats %s calls=%d, /metrics count %d: not the same counters", cmd, calls[cmd], count)
		}
	}
	t.Logf("%d scrapes during the load", scrapes)
}

// loadDone returns a channel closed once wg is done.
func loadDone(wg *sync.WaitGroup) <-chan struct{} {
	ch := make(chan struct{})
	go func() { wg.Wait(); close(ch) }()
	return ch
}

// commandstats returns INFO commandstats' calls per command.
func commandstats(t *testing.T, addr string) map[string]int64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "INFO commandstats\r\n")
	r := bufio.NewReader(c)
	head, _ := r.ReadString('\n')
	size, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, size+2)
	if _, err := io.ReadFull(r, body); err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, l := range strings.Split(string(body), "\r\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(l, "cmdstat_"), ":calls=")
		if !ok {
			continue
		}
		v, _ := strconv.ParseInt(rest[:strings.IndexByte(rest, ',')], 10, 64)
		out[name] = v
	}
	return out
}
