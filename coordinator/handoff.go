package coordinator

import (
	"context"
	"sync"

	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/replica/dvv"
)

// HintQueue is the local store's side of hinted handoff (replica.Store).
type HintQueue interface {
	HintTargets() (map[string]int, error)
	Hints(target string, limit int) ([]peer.Hint, error)
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
		if !gone && !c.Healthy(target) {
			continue
		}
		hints, err := q.Hints(target, batch)
		if err != nil {
			return st, err
		}
		rep := c.replica(target)
		var live []peer.Hint
		for _, h := range hints {
			if gone || maxAgeMs > 0 && now-h.CreatedMs > maxAgeMs {
				if err := q.DeleteHint(target, h.Key, h.Object, true); err != nil {
					return st, err
				}
				st.Dropped++
				continue
			}
			live = append(live, h)
		}
		if rep == nil {
			st.Failed += len(live)
			continue
		}
		delivered, failed, err := c.deliver(ctx, q, rep, target, live)
		st.Delivered += delivered
		st.Failed += failed
		if err != nil {
			return st, err
		}
	}
	return st, nil
}

// handoffParallel is how many hints to one target are in flight at once.
const handoffParallel = 16

// deliver merges hints into rep, handoffParallel at a time, deleting each
// one the target acknowledged. After a failure it starts no more (the
// target is not taking them now; the next pass retries).
func (c *Coordinator) deliver(ctx context.Context, q HintQueue, rep peer.Store, target string, hints []peer.Hint) (delivered, failed int, err error) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, handoffParallel)
	stop := false
	for _, h := range hints {
		mu.Lock()
		halt := stop || err != nil
		mu.Unlock()
		if halt {
			break
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
			merr := rep.Merge(cctx, h.Key, h.Object)
			cancel()
			var derr error
			if merr == nil {
				derr = q.DeleteHint(target, h.Key, h.Object, false)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case merr != nil:
				failed++
				stop = true
			case derr != nil:
				err = derr
			default:
				delivered++
			}
		}()
	}
	wg.Wait()
	return delivered, failed, err
}
