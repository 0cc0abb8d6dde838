package replica

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/crdt"
)

// queued returns how many writes wait in key's queue (a leader's own
// write included until it takes its batch).
func (s *Store) queued(key []byte) int {
	qs := &s.queues[xxhashStripe(key)]
	qs.mu.Lock()
	defer qs.mu.Unlock()
	if q := qs.m[string(key)]; q != nil {
		return len(q.ops)
	}
	return 0
}

// countObserver counts Observe calls per key and checks that each call's
// old is the previous call's new (the observer mirrors the store).
type countObserver struct {
	mu    sync.Mutex
	calls map[string]int
	last  map[string][]byte
	bad   []string
}

func newCountObserver() *countObserver {
	return &countObserver{calls: map[string]int{}, last: map[string][]byte{}}
}

func (o *countObserver) Observe(_ Cursor, key, old, new []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	k := string(key)
	if !bytes.Equal(old, o.last[k]) {
		o.bad = append(o.bad, fmt.Sprintf("%s: call %d's old is not the previous new", k, o.calls[k]+1))
	}
	o.calls[k]++
	o.last[k] = bytes.Clone(new)
}

// spin waits until cond holds, yielding; it fails after a bound far
// beyond any scheduling delay (a deadlock guard, not a timing assertion).
func spin(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting: %s", what)
		}
		runtime.Gosched()
	}
}

// hotResult is one caller's Update result.
type hotResult struct {
	prev, next, delta crdt.Object
	err               error
	panicked          any
	reply             int64
}

var errBoom = errors.New("boom")

// pushFn is caller i's LPUSH of "e<i>", recording the order mutators run
// in; the callers fail says fail with errBoom, panic those panic says.
func pushFn(i int, order *[]int, replies []hotResult, fail, panics func(int) bool) crdt.Mutator {
	return func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
		*order = append(*order, i) // NB: mutators of a key run one at a time
		switch {
		case fail != nil && fail(i):
			return crdt.Object{}, errBoom
		case panics != nil && panics(i):
			panic("mutator panic")
		}
		d, n, err := crdt.ListPush(o, st, [][]byte{fmt.Appendf(nil, "e%03d", i)}, true, false)
		replies[i].reply = n
		return d, err
	}
}

// hotUpdates runs n concurrent Updates of key (caller i's mutator fn(i))
// with the key's lock held until all of them are queued, so they are
// combined deterministically (in batches of at most maxBatchOps).
func hotUpdates(t *testing.T, s *Store, key []byte, n int, fn func(i int) crdt.Mutator) []hotResult {
	t.Helper()
	res := make([]hotResult, n)
	mu := s.lock(key)
	mu.Lock()
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { res[i].panicked = recover() }()
			res[i].prev, res[i].next, res[i].delta, res[i].err = s.Update(context.Background(), key, fn(i))
		}()
	}
	spin(t, "all writers queued", func() bool { return s.queued(key) == n })
	mu.Unlock()
	wg.Wait()
	return res
}

// TestCombinedUpdatesMatchSerial: concurrent LPUSHes of one key, combined
// into batches, leave exactly the state that running them one by one in
// the same order leaves (byte for byte, dots included); every element is
// there, every caller got its own dot and a result consistent with it, and
// the observer saw one change per batch.
func TestCombinedUpdatesMatchSerial(t *testing.T) {
	for _, n := range []int{50, maxBatchOps + 44} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			clock := newFakeClock()
			obs := newCountObserver()
			s := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.Observer = obs })
			defer s.Close()
			key := []byte("hot")
			var order []int
			replies := make([]hotResult, n)
			res := hotUpdates(t, s, key, n, func(i int) crdt.Mutator { return pushFn(i, &order, replies, nil, nil) })
			dots := map[uint64]int{}
			lens := map[int64]int{}
			for i, r := range res {
				if r.err != nil || r.panicked != nil {
					t.Fatalf("caller %d: %v %v", i, r.err, r.panicked)
				}
				top := crdt.Top(r.delta, "n1")
				if j, dup := dots[top]; dup {
					t.Fatalf("callers %d and %d got the same dot %d", j, i, top)
				}
				dots[top] = i
				if crdt.Top(r.prev, "n1") >= top {
					t.Fatalf("caller %d: dot %d not above its prev's %d", i, top, crdt.Top(r.prev, "n1"))
				}
				if !crdt.Equal(r.next, crdt.Merge(r.prev, r.delta)) {
					t.Fatalf("caller %d: next is not prev merged with its delta", i)
				}
				l, _ := crdt.ListLen(r.next, s.NowMs())
				pl, _ := crdt.ListLen(r.prev, s.NowMs())
				if l != replies[i].reply || pl != l-1 {
					t.Fatalf("caller %d: reply %d, prev len %d, next len %d", i, replies[i].reply, pl, l)
				}
				lens[l]++
			}
			if len(lens) != n {
				t.Fatalf("replies are not 1..%d: %v", n, lens)
			}
			got := get(t, s, "hot")
			elems, _ := crdt.ListRange(got, s.NowMs(), 0, -1)
			if len(elems) != n {
				t.Fatalf("list holds %d elements, want %d", len(elems), n)
			}
			wantBatches := (n + maxBatchOps - 1) / maxBatchOps
			if c := obs.calls["hot"]; c != wantBatches || len(obs.bad) != 0 {
				t.Fatalf("observer: %d calls, want %d (one per batch); %q", c, wantBatches, obs.bad)
			}
			if w := s.Stats().Writes.Load(); w != int64(wantBatches) {
				t.Fatalf("%d writes stored, want %d", w, wantBatches)
			}
			// The same mutators, one at a time, in the order they ran.
			serial := openMem(t, vfs.NewMem(), clock, nil)
			defer serial.Close()
			var order2 []int
			for _, i := range order {
				if _, _, _, err := serial.Update(context.Background(), key, pushFn(i, &order2, make([]hotResult, n), nil, nil)); err != nil {
					t.Fatal(err)
				}
			}
			if !bytes.Equal(get(t, serial, "hot").Encode(), got.Encode()) {
				t.Fatal("combined writes left another state than the same writes made one by one")
			}
		})
	}
}

// TestCombinedUpdateErrorIsItsCallersOnly: in a batch, a mutator that
// fails (or panics) fails its own caller only, with nothing of it stored;
// the others' writes are stored and their results are consistent.
func TestCombinedUpdateErrorIsItsCallersOnly(t *testing.T) {
	clock := newFakeClock()
	s := openMem(t, vfs.NewMem(), clock, nil)
	defer s.Close()
	key := []byte("hot")
	const n = 40
	fail := func(i int) bool { return i%5 == 3 }
	panics := func(i int) bool { return i == 11 || i == 0 }
	var order []int
	replies := make([]hotResult, n)
	res := hotUpdates(t, s, key, n, func(i int) crdt.Mutator { return pushFn(i, &order, replies, fail, panics) })
	var want []string
	for i, r := range res {
		switch {
		case fail(i):
			if !errors.Is(r.err, errBoom) || !crdt.Equal(r.prev, r.next) || !r.delta.IsZero() {
				t.Fatalf("failing caller %d: err %v, delta zero %v", i, r.err, r.delta.IsZero())
			}
		case panics(i):
			if r.panicked == nil {
				t.Fatalf("caller %d: its mutator's panic was not re-raised", i)
			}
		default:
			if r.err != nil || r.panicked != nil {
				t.Fatalf("caller %d failed with another's error: %v %v", i, r.err, r.panicked)
			}
			if l, _ := crdt.ListLen(r.next, s.NowMs()); l != replies[i].reply {
				t.Fatalf("caller %d: reply %d, next len %d", i, replies[i].reply, l)
			}
			want = append(want, fmt.Sprintf("e%03d", i))
		}
	}
	elems, _ := crdt.ListRange(get(t, s, "hot"), s.NowMs(), 0, -1)
	var got []string
	for _, e := range elems {
		got = append(got, string(e))
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("list holds %q, want %q", got, want)
	}
}

// TestCombinedWritesSurviveCrash: every combined write acknowledged is
// present after a crash that keeps only synced data; without Sync the
// same crash loses them (the test bites).
func TestCombinedWritesSurviveCrash(t *testing.T) {
	for _, noSync := range []bool{false, true} {
		t.Run(fmt.Sprintf("nosync=%v", noSync), func(t *testing.T) {
			clock := newFakeClock()
			fs := vfs.NewCrashableMem()
			s := openMem(t, fs, clock, func(c *Config) { c.NoSync = noSync })
			const n = 64
			var order []int
			replies := make([]hotResult, n)
			for _, r := range hotUpdates(t, s, []byte("hot"), n, func(i int) crdt.Mutator { return pushFn(i, &order, replies, nil, nil) }) {
				if r.err != nil {
					t.Fatal(r.err)
				}
			}
			crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 0})
			_ = s.Close()
			s2 := openMem(t, crashed, clock, nil)
			defer s2.Close()
			l, _ := crdt.ListLen(get(t, s2, "hot"), s2.NowMs())
			if !noSync && l != n {
				t.Fatalf("%d of %d acknowledged writes survived a crash", l, n)
			}
			if noSync && l == n {
				t.Fatal("NoSync lost nothing in a crash: the crash simulation is not biting")
			}
		})
	}
}

// TestCombinedMerges: concurrent merges of one key, and a MergeMany
// holding several deltas of one key, are joined and stored once, and
// leave the join of everything merged.
func TestCombinedMerges(t *testing.T) {
	clock := newFakeClock()
	src := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.NodeID = "n2" })
	defer src.Close()
	const n = 30
	deltas := make([]crdt.Object, n)
	for i := range deltas {
		_, _, d, err := src.Update(context.Background(), []byte("k"), func(o crdt.Object, st crdt.Stamp) (crdt.Object, error) {
			d, _, err := crdt.SAdd(o, st, [][]byte{fmt.Appendf(nil, "m%d", i)})
			return d, err
		})
		if err != nil {
			t.Fatal(err)
		}
		deltas[i] = d
	}
	want := get(t, src, "k").Encode()

	obs := newCountObserver()
	s := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.Observer = obs })
	defer s.Close()
	key := []byte("k")
	mu := s.lock(key)
	mu.Lock()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i, d := range deltas {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = s.Merge(context.Background(), key, d) }()
	}
	spin(t, "all merges queued", func() bool { return s.queued(key) == n })
	mu.Unlock()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(get(t, s, "k").Encode(), want) || obs.calls["k"] != 1 || len(obs.bad) != 0 {
		t.Fatalf("concurrent merges: state equal %v, %d observer calls (want 1) %q",
			bytes.Equal(get(t, s, "k").Encode(), want), obs.calls["k"], obs.bad)
	}

	obs2 := newCountObserver()
	s2 := openMem(t, vfs.NewMem(), clock, func(c *Config) { c.Observer = obs2 })
	defer s2.Close()
	var entries []Entry
	for i, d := range deltas {
		entries = append(entries, Entry{Key: key, Object: d})
		if i%10 == 0 {
			entries = append(entries, Entry{Key: fmt.Appendf(nil, "other%d", i), Object: d})
		}
	}
	if err := s2.MergeMany(context.Background(), entries); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(get(t, s2, "k").Encode(), want) || obs2.calls["k"] != 1 || len(obs2.calls) != 4 {
		t.Fatalf("MergeMany: %d writes of k (want 1), %d keys written (want 4)", obs2.calls["k"], len(obs2.calls))
	}
}
