package pubsub

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestMatch checks Match against cases whose answers Redis 7.0's
// stringmatchlen gives (PSUBSCRIBE and KEYS agree on them).
func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pat, s string
		want   bool
	}{
		{"*", "", false}, {"*", "anything", true}, {"", "", true}, {"", "a", false},
		{"h?llo", "hello", true}, {"h?llo", "hllo", false},
		{"h*llo", "hllo", true}, {"h*llo", "heeeello", true},
		{"h[ae]llo", "hello", true}, {"h[ae]llo", "hallo", true}, {"h[ae]llo", "hillo", false},
		{"h[^e]llo", "hallo", true}, {"h[^e]llo", "hello", false},
		{"h[a-b]llo", "hbllo", true}, {"h[b-a]llo", "hallo", true}, {"h[a-b]llo", "hcllo", false},
		{`h\*llo`, "h*llo", true}, {`h\*llo`, "hello", false},
		{`[\]]`, "]", true}, {"[abc", "a", true}, {"[abc", "d", false}, {"[", "a", false},
		{"news.*", "news.art", true}, {"news.*", "news", false},
		{"a*b*c", "axxbyyc", true}, {"a*b*c", "axxbyy", false},
		{"**", "x", true}, {"*a", "bbba", true}, {"?", "é", false}, // bytes, not runes
		{"__keyevent@*__:expired", "__keyevent@0__:expired", true},
	} {
		if got := Match([]byte(c.pat), []byte(c.s)); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.pat, c.s, got, c.want)
		}
	}
	// Many stars against a long non-matching string end (skipLongerMatches).
	if Match([]byte(strings.Repeat("*a", 50)+"b"), []byte(strings.Repeat("a", 200))) {
		t.Error("star pattern matched")
	}
}

// recorder is a Subscriber that keeps what it is pushed.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Push(m Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := m.Kind
	if m.Pattern != nil {
		s += " " + string(m.Pattern)
	}
	if m.Channel == nil {
		s += " <nil>"
	} else {
		s += " " + string(m.Channel)
	}
	if m.IsConfirmation() {
		s += fmt.Sprintf(" %d", m.Count)
	} else {
		s += " " + string(m.Payload)
	}
	r.msgs = append(r.msgs, s)
}

func (r *recorder) take() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs
	r.msgs = nil
	return out
}

func bs(ss ...string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}

// TestRegistryConfirmations: one confirmation per name with the count
// after it (channels and patterns together, shard channels apart), and
// unsubscribing from all in subscription order, or one null confirmation.
func TestRegistryConfirmations(t *testing.T) {
	r := NewRegistry()
	a := &recorder{}
	r.Subscribe(a, Channel, bs("foo", "bar", "foo")...)
	r.Subscribe(a, Pattern, bs("f*", "b?r")...)
	r.Subscribe(a, Shard, bs("s1")...)
	r.Unsubscribe(a, Channel, bs("nope")...)
	r.Unsubscribe(a, Pattern)
	r.Unsubscribe(a, Pattern)
	r.Unsubscribe(a, Channel)
	r.Unsubscribe(a, Shard)
	want := []string{
		"subscribe foo 1", "subscribe bar 2", "subscribe foo 2",
		"psubscribe f* 3", "psubscribe b?r 4",
		"ssubscribe s1 1",
		"unsubscribe nope 4",
		"punsubscribe f* 3", "punsubscribe b?r 2",
		"punsubscribe <nil> 2",
		"unsubscribe foo 1", "unsubscribe bar 0",
		"sunsubscribe s1 0",
	}
	if got := a.take(); !slices.Equal(got, want) {
		t.Errorf("confirmations:\n got %q\nwant %q", got, want)
	}
	if p, s := r.Subscribed(a); p != 0 || s != 0 {
		t.Errorf("Subscribed = %d, %d after unsubscribing all", p, s)
	}
	if len(r.subs) != 0 || len(r.names[Channel])+len(r.names[Pattern])+len(r.names[Shard]) != 0 {
		t.Errorf("registry not empty: %v %v", r.subs, r.names)
	}
}

// TestPublish: one delivery per channel subscriber and per matching
// (subscriber, pattern), counted as Redis's PUBLISH counts receivers;
// shard messages reach shard subscribers only; Drop removes everything.
func TestPublish(t *testing.T) {
	r := NewRegistry()
	a, b := &recorder{}, &recorder{}
	r.Subscribe(a, Channel, bs("news.art")...)
	r.Subscribe(a, Pattern, bs("news.*", "*")...)
	r.Subscribe(b, Pattern, bs("news.*")...)
	r.Subscribe(b, Shard, bs("news.art")...)
	a.take()
	b.take()
	if n := r.Publish([]byte("news.art"), []byte("hi"), false); n != 4 {
		t.Errorf("Publish = %d receivers, want 4", n)
	}
	if n := r.Publish([]byte("news.art"), []byte("sh"), true); n != 1 {
		t.Errorf("shard Publish = %d receivers, want 1", n)
	}
	gotA := a.take()
	slices.Sort(gotA)
	if want := []string{"message news.art hi", "pmessage * news.art hi", "pmessage news.* news.art hi"}; !slices.Equal(gotA, want) {
		t.Errorf("a got %q, want %q", gotA, want)
	}
	if got, want := b.take(), []string{"pmessage news.* news.art hi", "smessage news.art sh"}; !slices.Equal(got, want) {
		t.Errorf("b got %q, want %q", got, want)
	}
	if got := r.Channels(nil, false); len(got) != 1 || string(got[0]) != "news.art" {
		t.Errorf("Channels = %q", got)
	}
	if got := r.Channels([]byte("x*"), false); len(got) != 0 {
		t.Errorf("Channels(x*) = %q", got)
	}
	if got := r.Channels(nil, true); len(got) != 1 {
		t.Errorf("shard Channels = %q", got)
	}
	if n, p := r.NumSub([]byte("news.art"), false), r.NumPat(); n != 1 || p != 2 {
		t.Errorf("NumSub = %d, NumPat = %d; want 1, 2", n, p)
	}
	r.Drop(a)
	r.Drop(b)
	if n := r.Publish([]byte("news.art"), []byte("x"), false); n != 0 || r.NumPat() != 0 || len(a.take())+len(b.take()) != 0 {
		t.Errorf("after Drop: %d receivers, %d patterns", n, r.NumPat())
	}
}

// TestConfirmationBeforeMessage: a message published concurrently with a
// subscription reaches the subscriber, if at all, after its confirmation.
func TestConfirmationBeforeMessage(t *testing.T) {
	for i := range 200 {
		r := NewRegistry()
		a := &recorder{}
		var wg sync.WaitGroup
		wg.Go(func() { r.Subscribe(a, Channel, bs("c")...) })
		wg.Go(func() { r.Publish([]byte("c"), []byte("m"), false) })
		wg.Wait()
		got := a.take()
		if got[0] != "subscribe c 1" {
			t.Fatalf("round %d: %q", i, got)
		}
	}
}

func TestEvents(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"", ""}, {"KEA", "AKE"}, {"gx$KE", "g$xKE"}, {"mnK", "nKm"},
		{"Ag$lshzxetd", "A"}, {"AnmKE", "AKEm"}, {"lsh", "lsh"}, {"ExE", "xE"},
	} {
		e, err := ParseEvents(c.in)
		if err != nil || e.String() != c.out {
			t.Errorf("ParseEvents(%q) = %q, %v; want %q", c.in, e, err, c.out)
		}
	}
	if _, err := ParseEvents("KEQ"); !errors.Is(err, ErrEventClass) {
		t.Errorf("ParseEvents(KEQ) error %v", err)
	}
	e, _ := ParseEvents("Ex")
	if got := e.Notification(EventExpired, "expired", 0, []byte("k")); len(got) != 1 || string(got[0][0]) != "__keyevent@0__:expired" || string(got[0][1]) != "k" {
		t.Errorf("Ex notification = %q", got)
	}
	if got := e.Notification(EventGeneric, "del", 0, []byte("k")); got != nil {
		t.Errorf("del with Ex = %q", got)
	}
	e, _ = ParseEvents("K$")
	if got := e.Notification(Class('$'), "set", 3, []byte("k")); len(got) != 1 || string(got[0][0]) != "__keyspace@3__:k" || string(got[0][1]) != "set" {
		t.Errorf("K$ notification = %q", got)
	}
}

// clock is an injected clock for the soft limit.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// TestOutboxLimits: the append that passes the hard limit closes the
// outbox; over the soft limit for longer than SoftFor closes it too; bytes
// being written count until Done.
func TestOutboxLimits(t *testing.T) {
	clk := &clock{t: time.Unix(1_700_000_000, 0)}
	lim := Limits{Hard: 100, Soft: 50, SoftFor: 10 * time.Second}
	o := NewOutbox(func() Limits { return lim }, clk.now)
	if err := o.Append(make([]byte, 40)); err != nil {
		t.Fatal(err)
	}
	b, err := o.Take()
	if len(b) != 40 || err != nil {
		t.Fatalf("Take = %d bytes, %v", len(b), err)
	}
	if err := o.Append(make([]byte, 40)); err != nil { // 80 pending: over soft since now
		t.Fatal(err)
	}
	if o.Pending() != 80 {
		t.Errorf("Pending = %d, want 80 (40 in flight)", o.Pending())
	}
	o.Done() // 40 pending: under soft again
	clk.t = clk.t.Add(time.Minute)
	if err := o.Append(make([]byte, 20)); err != nil { // 60: over soft, clock restarts
		t.Fatalf("soft limit not reset: %v", err)
	}
	clk.t = clk.t.Add(10 * time.Second)
	if err := o.Append(nil); err != nil { // exactly SoftFor: still allowed
		t.Fatal(err)
	}
	clk.t = clk.t.Add(time.Second)
	if err := o.Append(nil); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("over soft for 11s: %v", err)
	}
	if _, err := o.Take(); !errors.Is(err, ErrOverLimit) {
		t.Errorf("Take after close: %v", err)
	}

	o = NewOutbox(func() Limits { return Limits{Hard: 100} }, clk.now)
	if err := o.Append(make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	if err := o.Append([]byte{1}); !errors.Is(err, ErrOverLimit) {
		t.Fatalf("101 bytes with hard 100: %v", err)
	}
	if o.Pending() != 0 || !errors.Is(o.Wait(), ErrOverLimit) {
		t.Errorf("closed outbox keeps %d bytes", o.Pending())
	}

	o = NewOutbox(func() Limits { return Limits{} }, clk.now)
	if err := o.Append(make([]byte, 1<<20)); err != nil {
		t.Fatalf("no limits: %v", err)
	}
	o.Close()
	if err := o.Append(nil); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v", err)
	}
}

// TestOutboxWait: Wait returns once the writer has written everything.
func TestOutboxWait(t *testing.T) {
	o := NewOutbox(func() Limits { return DefaultLimits }, time.Now)
	_ = o.Append([]byte("abc"))
	var got []byte
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range o.Ready() {
			b, err := o.Take()
			if err != nil {
				return
			}
			got = append(got, b...)
			o.Done()
			if len(got) == 6 {
				return
			}
		}
	}()
	_ = o.Append([]byte("def"))
	<-done
	if err := o.Wait(); err != nil || string(got) != "abcdef" {
		t.Errorf("Wait = %v, written %q", err, got)
	}
}

// TestOutboxHold: what is appended while the outbox is held follows the
// front given to Release, and counts against the limits meanwhile.
func TestOutboxHold(t *testing.T) {
	o := NewOutbox(func() Limits { return Limits{Hard: 10} }, time.Now)
	o.Hold()
	if err := o.Append([]byte("msg")); err != nil {
		t.Fatal(err)
	}
	if b, _ := o.Take(); len(b) != 0 {
		t.Errorf("Take while held = %q", b)
	}
	o.Done()
	if err := o.Release([]byte("reply")); err != nil {
		t.Fatal(err)
	}
	if b, _ := o.Take(); string(b) != "replymsg" {
		t.Errorf("Take after Release = %q, want replymsg", b)
	}
	o.Done()
	o.Hold()
	_ = o.Append([]byte("123456"))
	if err := o.Append([]byte("12345")); !errors.Is(err, ErrOverLimit) {
		t.Errorf("11 held bytes with hard 10: %v", err)
	}
}
