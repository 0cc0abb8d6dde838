package coordinator

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dynakv/dynakv/crdt"
	"github.com/dynakv/dynakv/peer"
)

// Partitioned is implemented by placements that know the ring's partitions;
// the coordinator then scans the whole cluster, not just its own store.
type Partitioned interface {
	// PartitionAt returns the slot range [from, to) of the partition that
	// holds slot, and that partition's preference list.
	PartitionAt(slot int) (from, to int, prefs []string)
}

const (
	slotShift = 50 // peer.Cursor keeps the slot in its top 14 bits
	numSlots  = 1 << 14
)

// Scan visits the keys of the whole store from cursor (a peer.Cursor),
// calling fn with each key and the merge of its replicas' objects, until
// about count keys were visited or fn returns false; it returns the cursor
// to resume from, 0 at the end (after fn returned false: the position of
// the first key after the one fn refused). In a cluster it pages through each partition on every healthy
// replica of it (see scanPartition: a replica under suspicion is asked but
// not waited for) and visits the union of their keys, so a key that
// reached any live replica is seen; a partition none of whose replicas
// answers within the timeout fails the scan with ErrNoQuorum.
func (c *Coordinator) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte, o crdt.Object) bool) (uint64, error) {
	part, ok := c.place.(Partitioned)
	if !ok {
		next, err := c.local.Scan(peer.Cursor(cursor), count, fn)
		return uint64(next), err
	}
	count = max(count, 1)
	seen := 0
	for {
		slot := int(cursor >> slotShift)
		from, to, prefs := part.PartitionAt(slot)
		ids := c.topN(prefs)
		next, entries, err := c.scanPartition(ctx, ids, from, to, peer.Cursor(cursor), count-seen)
		if err != nil {
			return 0, err
		}
		stop := false
		for i, e := range entries {
			seen++
			if !fn(e.Key, e.Object) {
				// Resume after the refused key: at the page's next
				// entry, or where the page ends.
				if i+1 < len(entries) {
					return uint64(peer.CursorOf(entries[i+1].Key)), nil
				}
				stop = true
				break
			}
		}
		if next == 0 { // partition done
			if to >= numSlots {
				return 0, nil
			}
			next = peer.Cursor(uint64(to) << slotShift)
		}
		cursor = uint64(next)
		if stop || seen >= count {
			return cursor, nil
		}
	}
}

// scanPartition reads one page of a partition from the replicas in ids
// and returns the union of their keys up to the smallest cursor any of them
// stopped at (so the page is complete), and that cursor (0: partition done).
//
// It never waits past c.cfg.Timeout, even on a replica that ignores its
// context: it asks the healthy replicas (all of ids if none is), waits for
// those not under suspicion, and takes the page of a suspected one (still
// asked, as a probe) only if it has come by then. A replica that has not
// answered by the deadline is suspected at once, so the next partitions of
// the same DBSIZE, KEYS or INFO keyspace do not wait on it again (issue
// 10, fault 4). At least one page is needed, or ErrNoQuorum.
func (c *Coordinator) scanPartition(ctx context.Context, ids []string, from, to int, cur peer.Cursor, count int) (peer.Cursor, []peer.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type page struct {
		i       int
		next    peer.Cursor
		entries []peer.Entry
		err     error
	}
	var asked []string
	for _, id := range ids {
		if c.Healthy(id) {
			asked = append(asked, id)
		}
	}
	if len(asked) == 0 {
		asked = ids
	}
	done := make(chan page, len(asked)) // buffered: late answers never block
	wait := make([]bool, len(asked))    // whether the page is waited for
	must, extra := 0, 0
	var lastErr error
	for i, id := range asked {
		rs := c.replica(id)
		if rs == nil {
			lastErr = fmt.Errorf("coordinator: no route to %s", id)
			continue
		}
		if wait[i] = !c.scanSuspected(id); wait[i] {
			must++
		} else {
			extra++
		}
		go func() {
			p := page{i: i}
			p.next, p.entries, p.err = rs.ScanRange(ctx, from, to, cur, count)
			switch {
			case p.err == nil:
				c.susp.ok(id)
			case !errors.Is(ctx.Err(), context.Canceled): // not our early return
				c.susp.failed(id, c.local.NowMs())
			}
			done <- p
		}()
	}
	var pages []page
	good := 0 // pages without error
	answered := make([]bool, len(asked))
	// Wait for every replica not under suspicion; with none of those, for
	// the first answer of any.
	for must > 0 || (good == 0 && extra > 0) {
		select {
		case p := <-done:
			pages = append(pages, p)
			if p.err == nil {
				good++
			}
			answered[p.i] = true
			if wait[p.i] {
				must--
			} else {
				extra--
			}
			continue
		case <-ctx.Done():
		}
		for i, id := range asked {
			if wait[i] && !answered[i] && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				c.susp.failed(id, c.local.NowMs())
			}
		}
		break
	}
drain: // suspected replicas that answered meanwhile count too
	for {
		select {
		case p := <-done:
			pages = append(pages, p)
		default:
			break drain
		}
	}
	var limit peer.Cursor // 0: no replica stopped early
	ok := 0
	for _, p := range pages {
		if p.err != nil {
			lastErr = p.err
			continue
		}
		ok++
		if p.next != 0 && (limit == 0 || p.next < limit) {
			limit = p.next
		}
	}
	if ok == 0 {
		if lastErr == nil {
			lastErr = ctx.Err()
		}
		return 0, nil, noQuorum("scan", 0, 1, len(ids), lastErr)
	}
	// Each key's cursor position is computed once (it hashes the key).
	type item struct {
		pos peer.Cursor
		obj crdt.Object
	}
	merged := map[string]item{}
	for _, p := range pages {
		if p.err != nil {
			continue
		}
		for _, e := range p.entries {
			pos := peer.CursorOf(e.Key)
			if limit != 0 && pos >= limit {
				continue
			}
			it := merged[string(e.Key)]
			merged[string(e.Key)] = item{pos: pos, obj: crdt.Merge(it.obj, e.Object)}
		}
	}
	keys := make([]string, 0, len(merged))
	for k := range merged {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if c := cmp.Compare(merged[a].pos, merged[b].pos); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	out := make([]peer.Entry, len(keys))
	for i, k := range keys {
		out[i] = peer.Entry{Key: []byte(k), Object: merged[k].obj}
	}
	return limit, out, nil
}

// scanSuspected reports whether calls to id have failed since its last
// success (the coordinator's request-failure detector, suspect.go): a scan
// then asks it without waiting for it.
func (c *Coordinator) scanSuspected(id string) bool {
	c.susp.mu.Lock()
	defer c.susp.mu.Unlock()
	return c.susp.backoff[id] > 0
}
