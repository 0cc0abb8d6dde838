package coordinator

import (
	"context"
	"fmt"

	"github.com/dynakv/dynakv/crdt"
)

// hintSources returns the nodes a degraded read of key asks for hints:
// the healthy nodes among the N nodes after the key's top N in its
// preference list. A write's coordinator picks, for each unhealthy
// replica, the next node beyond the top N that it finds healthy (Dynamo
// §4.6), so a write uses at most N-1 fallbacks; looking N deep also finds
// them when the writer skipped one node the reader sees as healthy. A
// fallback further down (the writer saw several nodes in between as down)
// is not asked; its hint reaches the replica by hinted handoff.
func (c *Coordinator) hintSources(key []byte) []string {
	prefs := c.place.Preference(key)
	rest := prefs[len(c.topN(prefs)):]
	rest = rest[:min(len(rest), c.cfg.N)]
	var out []string
	for _, id := range rest {
		if !c.Healthy(id) {
			continue
		}
		if c.replica(id) != nil {
			out = append(out, id)
		}
	}
	return out
}

// askHints reads the hints each node in ids holds for key, concurrently,
// each reply going to out (sized for them). Unlike fanOutTo it leaves the
// failure detector alone: a node that cannot list hints (one running an
// older version, say) is no less a healthy replica for writes.
func (c *Coordinator) askHints(ctx context.Context, out chan<- reply, ids []string, key []byte) {
	for _, id := range ids {
		hr := c.replica(id)
		if hr == nil {
			out <- reply{id: id, err: fmt.Errorf("coordinator: no route to %s", id)}
			continue
		}
		go func() {
			o, err := hr.HintsFor(ctx, key)
			out <- reply{id: id, obj: o, err: err}
		}()
	}
}

// collectHints merges the n hint replies due on hints, until ctx ends.
// Failed lookups are left out: the hints they would have found stay
// pending and reach the key's replicas by hinted handoff.
func collectHints(ctx context.Context, hints <-chan reply, n int) crdt.Object {
	var out crdt.Object
	for ; n > 0; n-- {
		select {
		case rp := <-hints:
			if rp.err == nil {
				out = crdt.Merge(out, rp.obj)
			}
		case <-ctx.Done():
			return out
		}
	}
	return out
}
