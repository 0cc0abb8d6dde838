package coordinator

import (
	"context"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// HintQueue is the local store's side of hinted handoff (replica.Store).
type HintQueue interface {
	HintTargets() (map[string]int, error)
	Hints(target string, limit int) ([]replica.Hint, error)
	DeleteHint(target string, key []byte, delivered dvv.Object, dropped bool) error
}

// HandoffStats is what one handoff pass did.
type HandoffStats struct {
	Delivered, Dropped, Failed int
}

// Handoff runs one pass of hinted handoff: for every node this node holds
// hints for that is healthy again, it merges each hint into that node's
// replica and deletes the hint once the node acknowledged it (a hint that
// grew meanwhile stays for the next pass). Hints older than maxAgeMs are
// dropped (0: kept forever), as are hints for nodes no longer in the ring
// when isMember says so. batch bounds the hints per target per pass.
func (c *Coordinator) Handoff(ctx context.Context, batch int, maxAgeMs int64, isMember func(id string) bool) (HandoffStats, error) {
	var st HandoffStats
	q, ok := c.local.(HintQueue)
	if !ok {
		return st, nil
	}
	targets, err := q.HintTargets()
	if err != nil {
		return st, err
	}
	now := c.local.NowMs()
	for target := range targets {
		gone := isMember != nil && !isMember(target)
		if !gone && !c.healthy(target) {
			continue
		}
		hints, err := q.Hints(target, batch)
		if err != nil {
			return st, err
		}
		rep := c.replica(target)
		for _, h := range hints {
			if gone || maxAgeMs > 0 && now-h.CreatedMs > maxAgeMs {
				if err := q.DeleteHint(target, h.Key, h.Object, true); err != nil {
					return st, err
				}
				st.Dropped++
				continue
			}
			if rep == nil {
				st.Failed++
				continue
			}
			cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			err := rep.Merge(cctx, h.Key, h.Object)
			cancel()
			if err != nil {
				st.Failed++
				break // the target is not taking them now; next pass
			}
			if err := q.DeleteHint(target, h.Key, h.Object, false); err != nil {
				return st, err
			}
			st.Delivered++
		}
	}
	return st, nil
}
