package monitor

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Record is one log record kept by Recent.
type Record struct {
	Time  time.Time
	Level slog.Level
	// Text is the message followed by its attributes, key=value.
	Text string
}

// Recent keeps the last warnings and errors logged through a handler it
// wraps (Handler), for the status page. The zero value is not usable;
// build one with NewRecent.
type Recent struct {
	mu   sync.Mutex
	buf  []Record // ring buffer of cap size
	next int
	full bool
}

// NewRecent returns a Recent that keeps the last size records (at least 1).
func NewRecent(size int) *Recent { return &Recent{buf: make([]Record, max(size, 1))} }

// Records returns the records kept, oldest first.
func (r *Recent) Records() []Record {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.full {
		return append([]Record(nil), r.buf[:r.next]...)
	}
	return append(append([]Record(nil), r.buf[r.next:]...), r.buf[:r.next]...)
}

func (r *Recent) add(rec Record) {
	r.mu.Lock()
	r.buf[r.next] = rec
	r.next++
	if r.next == len(r.buf) {
		r.next, r.full = 0, true
	}
	r.mu.Unlock()
}

// Handler returns a slog.Handler that passes every record to h and keeps
// those at slog.LevelWarn or above in r.
func (r *Recent) Handler(h slog.Handler) slog.Handler { return &recentHandler{h: h, r: r} }

type recentHandler struct {
	h      slog.Handler
	r      *Recent
	prefix string // the attributes of WithAttrs, rendered
	group  string
}

func (h *recentHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.h.Enabled(ctx, l)
}

func (h *recentHandler) Handle(ctx context.Context, rec slog.Record) error {
	if rec.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(rec.Message)
		b.WriteString(h.prefix)
		rec.Attrs(func(a slog.Attr) bool {
			writeAttr(&b, h.group, a)
			return true
		})
		h.r.add(Record{Time: rec.Time, Level: rec.Level, Text: b.String()})
	}
	if !h.h.Enabled(ctx, rec.Level) {
		return nil
	}
	return h.h.Handle(ctx, rec)
}

func (h *recentHandler) WithAttrs(as []slog.Attr) slog.Handler {
	var b strings.Builder
	b.WriteString(h.prefix)
	for _, a := range as {
		writeAttr(&b, h.group, a)
	}
	return &recentHandler{h: h.h.WithAttrs(as), r: h.r, prefix: b.String(), group: h.group}
}

func (h *recentHandler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return &recentHandler{h: h.h.WithGroup(name), r: h.r, prefix: h.prefix, group: h.group + name + "."}
}

func writeAttr(b *strings.Builder, group string, a slog.Attr) {
	a.Value = a.Value.Resolve()
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			writeAttr(b, group+a.Key+".", g)
		}
		return
	}
	b.WriteString(" " + group + a.Key + "=" + a.Value.String())
}
