package peerclient

import "sync"

// Clients holds one Client per node, each made from a template Config on
// first use with the address a lookup gives (the ring's member table). It
// is safe for concurrent use; Lookup is called without Clients' lock held.
type Clients struct {
	tmpl   Config
	lookup func(id string) (addr string, ok bool)

	mu sync.Mutex
	m  map[string]*Client
}

// NewClients returns an empty set of clients built from tmpl (its ID and
// Addr are set per node) with addresses from lookup.
func NewClients(tmpl Config, lookup func(id string) (addr string, ok bool)) *Clients {
	return &Clients{tmpl: tmpl, lookup: lookup, m: map[string]*Client{}}
}

// Get returns node id's client, made on first use; nil if lookup does not
// know id or the client cannot be made (the error says why).
func (cs *Clients) Get(id string) (*Client, error) {
	cs.mu.Lock()
	c := cs.m[id]
	cs.mu.Unlock()
	if c != nil {
		return c, nil
	}
	addr, ok := cs.lookup(id)
	if !ok {
		return nil, nil
	}
	cfg := cs.tmpl
	cfg.ID, cfg.Addr = id, addr
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if c = cs.m[id]; c != nil {
		return c, nil
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	cs.m[id] = c
	return c, nil
}

// Prune closes and forgets the clients of nodes lookup no longer knows or
// now gives another address; later Gets make new ones.
func (cs *Clients) Prune() {
	cs.mu.Lock()
	ids := make([]string, 0, len(cs.m))
	for id := range cs.m {
		ids = append(ids, id)
	}
	cs.mu.Unlock()
	for _, id := range ids {
		addr, ok := cs.lookup(id)
		cs.mu.Lock()
		if c := cs.m[id]; c != nil && (!ok || c.Addr() != addr) {
			c.Close()
			delete(cs.m, id)
		}
		cs.mu.Unlock()
	}
}

// Close closes every client; Clients stays usable (Get makes new ones).
func (cs *Clients) Close() {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for id, c := range cs.m {
		c.Close()
		delete(cs.m, id)
	}
}
