package coordinator_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/dynakv/dynakv/coordinator"
	"github.com/dynakv/dynakv/crdt"
)

// waitFor polls cond, yielding the processor, and fails after a bound far
// beyond any scheduling delay (a deadlock guard, not a timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting: %s", what)
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func value(t *testing.T, co *coordinator.Coordinator, key string) string {
	t.Helper()
	o, err := co.Get(context.Background(), []byte(key), coordinator.ReadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _ := crdt.Get(o, co.NowMs())
	return string(v)
}

// TestUnitExcludesUpdateOfItsKeys: an Update of a key a unit holds waits
// until the unit ends; it then runs on what the unit wrote. The unit's
// own Updates of its keys do not wait.
func TestUnitExcludesUpdateOfItsKeys(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	co := c.coords["n1"]
	ctx := context.Background()
	key := []byte("k")
	done := make(chan string, 1)
	err := co.Unit(ctx, [][]byte{key, []byte("other")}, func(uctx context.Context) error {
		if _, _, err := co.Update(uctx, key, coordinator.WriteOptions{ReadFirst: true}, setFn("unit-1")); err != nil {
			return err
		}
		go func() {
			var saw string
			_, _, err := co.Update(ctx, key, coordinator.WriteOptions{ReadFirst: true}, func(cur crdt.Object, st crdt.Stamp) (crdt.Object, error) {
				v, _, _ := crdt.Get(cur, st.Now)
				saw = string(v)
				return setFn("outside")(cur, st)
			})
			if err != nil {
				saw = err.Error()
			}
			done <- saw
		}()
		// The outside write has registered on the lock and waits.
		waitFor(t, "the outside Update waiting for k's lock", func() bool { return co.LockRefs("k") == 2 })
		select {
		case saw := <-done:
			t.Errorf("the outside Update ran inside the unit (it saw %q)", saw)
		default:
		}
		_, _, err := co.Update(uctx, key, coordinator.WriteOptions{}, setFn("unit-2"))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if saw := <-done; saw != "unit-2" {
		t.Fatalf("the outside Update saw %q, want the unit's last write unit-2", saw)
	}
	if got := value(t, co, "k"); got != "outside" {
		t.Fatalf("k = %q, want outside", got)
	}
	waitFor(t, "k's lock dropped", func() bool { return co.LockRefs("k") == 0 })
}

// TestUnitOtherKeysDoNotWait: while a unit holds k1, Updates of other keys
// and other units over other keys run.
func TestUnitOtherKeysDoNotWait(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	co := c.coords["n1"]
	ctx := context.Background()
	err := co.Unit(ctx, [][]byte{[]byte("k1")}, func(context.Context) error {
		done := make(chan error, 2)
		go func() {
			_, _, err := co.Update(ctx, []byte("k2"), coordinator.WriteOptions{ReadFirst: true}, setFn("v2"))
			done <- err
		}()
		go func() {
			done <- co.Unit(ctx, [][]byte{[]byte("k3"), []byte("k4")}, func(uctx context.Context) error {
				_, _, err := co.Update(uctx, []byte("k3"), coordinator.WriteOptions{}, setFn("v3"))
				return err
			})
		}()
		for range 2 {
			select {
			case err := <-done:
				if err != nil {
					return err
				}
			case <-time.After(20 * time.Second): // deadlock guard
				return errors.New("a write of another key waited for k1's unit")
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := value(t, co, "k2"), value(t, co, "k3"); a != "v2" || b != "v3" {
		t.Fatalf("k2, k3 = %q, %q", a, b)
	}
}

// TestUnitsLockInOrder: units over the same keys named in opposite
// orders never wait for each other forever; each sees the other's whole
// unit or none of it.
func TestUnitsLockInOrder(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	co := c.coords["n1"]
	ctx := context.Background()
	a, b := []byte("a"), []byte("b")
	const rounds = 50
	errs := make(chan error, 2)
	for i, keys := range [][][]byte{{a, b}, {b, a}} {
		go func() {
			for range rounds {
				err := co.Unit(ctx, keys, func(uctx context.Context) error {
					// Both keys move together: a unit sees them equal.
					va, vb := value(t, co, "a"), value(t, co, "b")
					if va != vb {
						return errors.New("a unit saw half of another: a=" + va + " b=" + vb)
					}
					v := string(rune('x' + i))
					for _, k := range keys {
						if _, _, err := co.Update(uctx, k, coordinator.WriteOptions{}, setFn(v)); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnitLockWaitEndsWithContext: a write waiting for a unit's key gives
// up when its context ends, with ErrLockWait, and writes nothing.
func TestUnitLockWaitEndsWithContext(t *testing.T) {
	c := newCluster(t, seed(t), cfg323())
	co := c.coords["n1"]
	err := co.Unit(context.Background(), [][]byte{[]byte("k")}, func(context.Context) error {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, _, err := co.Update(ctx, []byte("k"), coordinator.WriteOptions{}, setFn("v"))
		if !errors.Is(err, coordinator.ErrLockWait) {
			t.Errorf("Update with a cancelled context: %v, want ErrLockWait", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := value(t, co, "k"); got != "" {
		t.Fatalf("k = %q, want nothing written", got)
	}
}
