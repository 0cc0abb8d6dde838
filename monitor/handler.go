package monitor

import (
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

//go:embed status.html
var files embed.FS

var page = template.Must(template.New("status.html").Funcs(template.FuncMap{
	"join": func(s []string) string { return strings.Join(s, ", ") },
	"secs": func(f float64) string {
		if f < 0 {
			return "never"
		}
		return (time.Duration(f * float64(time.Second))).Round(100 * time.Millisecond).String()
	},
	"eta": func(f float64) string {
		if f < 0 {
			return "unknown"
		}
		return (time.Duration(f * float64(time.Second))).Round(time.Second).String()
	},
	"ms": func(usec int64, calls int64) string {
		if calls == 0 {
			return "-"
		}
		return strconv.FormatFloat(float64(usec)/float64(calls)/1000, 'f', 3, 64)
	},
	"clock": func(t time.Time) string { return t.UTC().Format("15:04:05") },
}).ParseFS(files, "status.html"))

// RefreshSeconds is how often the status page reloads itself.
const RefreshSeconds = 5

// Handler returns the node's HTTP handler: / (the status page), /metrics,
// /healthz and /readyz. /metrics also carries the Go runtime's and the
// process's collectors (go_*, process_*).
func Handler(src Source) http.Handler {
	reg := prometheus.NewRegistry()
	reg.MustRegister(NewCollector(src), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		s := src()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if !s.Ready {
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintln(w, "not ready:", s.ReadyReason)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		s := src()
		v := view{Snapshot: s, Refresh: RefreshSeconds}
		v.build()
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if err := page.Execute(w, v); err != nil {
			fmt.Fprintf(w, "<p>template error: %s</p>", template.HTMLEscapeString(err.Error()))
		}
	})
	return mux
}

// view is what status.html renders: the snapshot and a few figures worked
// out from it.
type view struct {
	*Snapshot
	Refresh      int
	Down         int
	TopCommands  []commandRow
	HintsPending int
	AEParts      []aeCell
	RecentNewest []Record
}

type commandRow struct {
	Name                string
	Calls, Usec, Failed int64
}

type aeCell struct {
	Partition int
	Title     string
	Class     string // "sync", "diff", "stale" or "never"
}

func (v *view) build() {
	for _, n := range v.Ring.Nodes {
		if !n.Alive {
			v.Down++
		}
	}
	for _, c := range v.Commands {
		v.TopCommands = append(v.TopCommands, commandRow{c.Name, c.Calls, c.Usec, c.Failed})
	}
	slices.SortStableFunc(v.TopCommands, func(a, b commandRow) int { return int(b.Calls - a.Calls) })
	v.TopCommands = v.TopCommands[:min(len(v.TopCommands), 15)]
	for _, h := range v.Hints.Targets {
		v.HintsPending += h.Pending
	}
	for _, p := range v.AE.Parts {
		c := aeCell{Partition: p.Partition}
		switch {
		case p.LastComparedSeconds < 0:
			c.Class, c.Title = "never", "never compared with every replica"
		case !p.InSync:
			c.Class = "diff"
		default:
			c.Class = "sync"
		}
		if p.LastComparedSeconds >= 0 {
			c.Title = fmt.Sprintf("compared %.0fs ago, in sync: %v", p.LastComparedSeconds, p.InSync)
		}
		v.AEParts = append(v.AEParts, c)
	}
	for i := len(v.Recent) - 1; i >= 0; i-- {
		v.RecentNewest = append(v.RecentNewest, v.Recent[i])
	}
}
