package peerclient

import (
	"errors"
	"sync"
	"testing"
)

// TestClients: Get makes one client per node from the template and the
// lookup's address (no dial: clients connect on first call), nil for an
// unknown node; Prune closes the clients of nodes gone or moved, and the
// next Get makes one at the new address; Close closes all.
func TestClients(t *testing.T) {
	var mu sync.Mutex
	addrs := map[string]string{"n1": "h1:1", "n2": "h2:1"}
	cs := NewClients(Config{Secret: "s"}, func(id string) (string, bool) {
		mu.Lock()
		defer mu.Unlock()
		a, ok := addrs[id]
		return a, ok
	})
	c1, err := cs.Get("n1")
	if err != nil || c1 == nil || c1.Addr() != "h1:1" || c1.ID() != "n1" || c1.cfg.Secret != "s" {
		t.Fatalf("Get n1 = %+v, %v", c1, err)
	}
	if again, _ := cs.Get("n1"); again != c1 {
		t.Error("second Get made a new client")
	}
	if c, err := cs.Get("n9"); c != nil || err != nil {
		t.Errorf("Get unknown = %v, %v; want nil, nil", c, err)
	}
	c2, _ := cs.Get("n2")
	mu.Lock()
	addrs["n1"] = "h1:2"
	delete(addrs, "n2")
	mu.Unlock()
	cs.Prune()
	if _, err := c1.Get(t.Context(), []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("moved node's old client: %v, want ErrClosed", err)
	}
	if _, err := c2.Get(t.Context(), []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("gone node's client: %v, want ErrClosed", err)
	}
	if c, _ := cs.Get("n1"); c == nil || c == c1 || c.Addr() != "h1:2" {
		t.Errorf("after move Get n1 = %+v", c)
	}
	c3, _ := cs.Get("n1")
	cs.Close()
	if _, err := c3.Get(t.Context(), []byte("k")); !errors.Is(err, ErrClosed) {
		t.Errorf("after Close: %v, want ErrClosed", err)
	}
}
