package coordinator

import (
	"context"
	"errors"
	"runtime"
	"testing"
)

// tryLock starts a lock of key in the given mode and returns a channel
// that yields its error once it is taken (or given up).
func tryLock(ctx context.Context, t *lockTable, key string, shared bool) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- t.lock(ctx, key, shared) }()
	return ch
}

// waitRefs waits until key's lock has n holders and waiters.
func waitRefs(tb testing.TB, t *lockTable, key string, n int) {
	tb.Helper()
	for t.waiters(key) != n {
		select {
		case <-tb.Context().Done():
			tb.Fatalf("lock refs %d, want %d", t.waiters(key), n)
		default:
			runtime.Gosched()
		}
	}
}

func held(ch <-chan error) bool {
	select {
	case err := <-ch:
		return err == nil
	default:
		return false
	}
}

// TestLockTableModes: writes share a key's lock; a unit waits for them,
// and the writes that arrive after the unit wait for it (arrival order);
// a unit that gives up lets the writes behind it go.
func TestLockTableModes(t *testing.T) {
	var lt lockTable
	ctx := context.Background()
	if err := lt.lock(ctx, "k", true); err != nil {
		t.Fatal(err)
	}
	if err := lt.lock(ctx, "k", true); err != nil { // NB: would block if exclusive
		t.Fatal(err)
	}
	unit := tryLock(ctx, &lt, "k", false)
	waitRefs(t, &lt, "k", 3)
	late := tryLock(ctx, &lt, "k", true)
	waitRefs(t, &lt, "k", 4)
	if held(unit) || held(late) {
		t.Fatal("a unit took a key two writes hold, or a write overtook the unit waiting before it")
	}
	lt.unlock("k", true)
	if held(unit) {
		t.Fatal("the unit took the key while a write still holds it")
	}
	lt.unlock("k", true)
	if err := <-unit; err != nil {
		t.Fatal(err)
	}
	if held(late) {
		t.Fatal("a write took the key a unit holds")
	}
	lt.unlock("k", false)
	if err := <-late; err != nil {
		t.Fatal(err)
	}

	// A unit that gives up waiting lets the write queued behind it go.
	uctx, cancel := context.WithCancel(ctx)
	unit = tryLock(uctx, &lt, "k", false)
	waitRefs(t, &lt, "k", 2)
	late = tryLock(ctx, &lt, "k", true)
	waitRefs(t, &lt, "k", 3)
	cancel()
	if err := <-unit; !errors.Is(err, ErrLockWait) {
		t.Fatalf("cancelled unit: %v, want ErrLockWait", err)
	}
	if err := <-late; err != nil {
		t.Fatal(err)
	}
	lt.unlock("k", true)
	lt.unlock("k", true)
	if n := lt.waiters("k"); n != 0 {
		t.Fatalf("%d refs left on a free key", n)
	}
}
