package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/ring/member"
)

// TestFlushWaitsForAliveMembers: Flush raises the epoch in a new,
// persisted ring version, gossips it in this node's Meta, and returns only
// once every alive member's Meta shows it; a dead member is not waited
// for (it learns the epoch with the ring state when it comes back). A
// flush that no alive member adopts ends with the context, wrapping
// ErrFlush, and its epoch stays in the ring.
func TestFlushWaitsForAliveMembers(t *testing.T) {
	fs := crashableDir(t)
	f := &fakeMembership{}
	polls := 0
	after := func(time.Duration) <-chan time.Time {
		polls++
		if polls == 3 { // b adopts the flush after a few polls
			f.set("b", member.Alive, Meta{Addr: "b:6379", Weight: 1, Flush: []uint64{0, 1}})
		}
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}
	c := newTest(t, fs, "/data", func(cfg *Config) { cfg.After = after })
	for _, id := range []string{"b", "c"} {
		if _, err := c.Update(join(mem(id))); err != nil {
			t.Fatal(err)
		}
	}
	f.set("a", member.Alive, Meta{Addr: "10.0.0.1:6379", Weight: 1})
	f.set("b", member.Alive, Meta{Addr: "b:6379", Weight: 1})
	f.set("c", member.Dead, Meta{Addr: "c:6379", Weight: 1})
	c.Attach(f)
	v := c.Current().Version()

	epochs, err := c.Flush(context.Background(), []int{1})
	if err != nil {
		t.Fatalf("Flush: %v", err)
	}
	if polls < 3 {
		t.Errorf("Flush returned after %d polls, before b adopted the epoch", polls)
	}
	st := c.Current()
	if epochs[1] != 1 || st.FlushEpoch(1) != 1 || st.FlushEpoch(0) != 0 || st.Version() != v+1 {
		t.Fatalf("after FLUSHDB on db 1: epochs %v, version %d (was %d)", st.FlushEpochs(), st.Version(), v)
	}
	var meta Meta
	if err := json.Unmarshal(c.Meta(), &meta); err != nil || len(meta.Flush) != 2 || meta.Flush[1] != 1 {
		t.Errorf("Meta() = %s, want the flush epochs [0,1]", c.Meta())
	}
	if info := c.Info(); info[len(info)-1] != (Field{"flush_epochs", "db1=1"}) {
		t.Errorf("INFO cluster's last field: %v, want flush_epochs:db1=1", info[len(info)-1])
	}
	c2 := newTest(t, fs, "/data", nil)
	if c2.Current().FlushEpoch(1) != 1 {
		t.Errorf("the flush epoch was not persisted")
	}

	// A second flush that b never adopts: the context ends it.
	ctx, cancel := context.WithCancel(context.Background())
	c.cfg.After = func(time.Duration) <-chan time.Time { cancel(); return make(chan time.Time) }
	_, err = c.Flush(ctx, []int{0, 1})
	if !errors.Is(err, ErrFlush) || !errors.Is(err, context.Canceled) {
		t.Fatalf("unadopted flush: %v, want ErrFlush and context.Canceled", err)
	}
	if e := c.Current().FlushEpochs(); e[0] != 1 || e[1] != 2 {
		t.Errorf("the unadopted flush is not in the ring: %v", e)
	}
	if _, err := c.Flush(context.Background(), []int{ring.Databases}); !errors.Is(err, ErrFlush) {
		t.Errorf("flush of db %d: %v, want ErrFlush", ring.Databases, err)
	}
}
