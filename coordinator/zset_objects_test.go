package coordinator_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/replica/dvv"
)

func zincrFn(member string, by float64) crdt.Mutator {
	return func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.ZIncrBy(cur, st, []byte(member), by)
		return d, err
	}
}

// zsetView renders a sorted set as "member=score …" in Redis's order.
func zsetView(o crdt.Object, now int64) string {
	ms, err := crdt.ZMembers(o, now)
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, m := range ms {
		parts = append(parts, string(m.Member)+"="+strconv.FormatFloat(m.Score, 'g', -1, 64))
	}
	return strings.Join(parts, " ")
}

// TestConcurrentZIncrBySumsExactly: after a ZADD seen by every replica,
// clients ZINCRBY one member (and each its own) through all three
// coordinators at once, with seeded drops of calls and replies and,
// midway, a partition of n3; once the partition heals and hints and read
// repair have run, every replica holds the ZADD's score plus every
// increment whose coordinator stored it, exactly once (increments are
// multiples of 0.5, so float sums are exact). Replay with -seed.
func TestConcurrentZIncrBySumsExactly(t *testing.T) {
	s := seed(t)
	c := newCluster(t, s, cfg323())
	ctx := context.Background()
	key := []byte("board")
	if _, _, err := c.coords["n1"].Update(ctx, key, coordinator.WriteOptions{W: 3}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		d, _, err := crdt.ZAdd(cur, st, crdt.ZAddOptions{}, []crdt.ScoredMember{{Member: []byte("shared"), Score: 1000}})
		return d, err
	}); err != nil {
		t.Fatal(err)
	}
	c.net.SetDropRate(0.15)
	c.net.SetReplyDropRate(0.1)
	var acked, unknown atomic.Int64
	var mu sync.Mutex
	sums := map[string]float64{"shared": 1000}
	var wg sync.WaitGroup
	var partitioned sync.Once
	const per = 50
	for i, id := range []string{"n1", "n2", "n3"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(s, uint64(i)+20))
			for j := range per {
				if i == 0 && j == per/3 {
					partitioned.Do(func() { c.net.Partition([]string{"n3"}) })
				}
				member := "shared"
				if j%3 == 0 {
					member = "own-" + id
				}
				by := float64(rng.IntN(200)-60) / 2
				_, _, err := c.coords[id].Update(ctx, key, coordinator.WriteOptions{}, zincrFn(member, by))
				switch {
				case err == nil:
					acked.Add(1)
				case errors.Is(err, coordinator.ErrNoQuorum):
					unknown.Add(1)
				default:
					t.Errorf("ZINCRBY via %s: %v", id, err)
					return
				}
				mu.Lock()
				sums[member] += by // stored by its coordinator either way
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	t.Logf("seed %d: %d acknowledged, %d unknown outcome, sums %v", s, acked.Load(), unknown.Load(), sums)
	if unknown.Load() == 0 {
		t.Fatal("the faults did not make any write's outcome unknown")
	}
	c.net.Heal()
	c.net.SetDropRate(0)
	c.net.SetReplyDropRate(0)
	c.settle(t, key)
	var ms []crdt.ScoredMember
	for m, sc := range sums {
		ms = append(ms, crdt.ScoredMember{Member: []byte(m), Score: sc})
	}
	wantView := zsetView(sortedZ(ms), 0)
	allEqual(t, "sorted set after heal", c.storeValues(t, key, zsetView), wantView)
	o, err := c.coords["n2"].Get(ctx, key, coordinator.ReadOptions{})
	if got := zsetView(o, c.coords["n2"].NowMs()); err != nil || got != wantView {
		t.Fatalf("quorum read: %s %v, want %s", got, err, wantView)
	}
}

// sortedZ builds the sorted set of ms in one ZADD (for its view).
func sortedZ(ms []crdt.ScoredMember) crdt.Object {
	d, _, err := crdt.ZAdd(crdt.Object{}, crdt.Stamp{Dot: dvv.Dot{Actor: "model", Counter: 1}, Now: 1}, crdt.ZAddOptions{}, ms)
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return crdt.Merge(crdt.Object{}, d)
}
