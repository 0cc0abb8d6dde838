// Package monitor serves a node's operational HTTP endpoints: /metrics
// (Prometheus text format, github.com/prometheus/client_golang), a status
// page (/, server-rendered html/template, refreshing itself every few
// seconds with a meta refresh, no JavaScript), /healthz and /readyz.
//
// Everything it shows comes from one Snapshot, built by the node on every
// request from the same counters INFO renders (resp's commandstats,
// errorstats and latency histograms, the coordinator's quorum and
// read-repair counters, the hint deliverer's and the store's hint
// counters, transfer's Status, anti-entropy's Status, pebble's Metrics):
// monitor keeps no counter of its own, so INFO and /metrics cannot
// disagree, and CONFIG RESETSTAT resets both (a Prometheus counter then
// starts again from zero, which rate() treats as a counter reset). The
// one state monitor keeps is Recent: the last warnings and errors logged,
// for the status page, filled by the slog handler Recent.Handler wraps.
//
// Invariants: a handler never blocks on the node beyond building one
// Snapshot; a Source that is not ready yet (the node is still joining)
// still gets /healthz answered 200 and /readyz 503 with the reason.
//
// Concurrency: Handler, the collector and Recent are safe for concurrent
// use; the Source is called once per request, from the HTTP server's
// goroutines.
package monitor
