package coordinator

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/dynakv/dynakv/replica"
	"github.com/dynakv/dynakv/replica/dvv"
)

// Partitioned is implemented by placements that know the ring's partitions;
// the coordinator then scans the whole cluster, not just its own store.
type Partitioned interface {
	// PartitionAt returns the slot range [from, to) of the partition that
	// holds slot, and that partition's preference list.
	PartitionAt(slot int) (from, to int, prefs []string)
}

// RangeScanner is a replica that serves paged scans of a slot range (the
// local Store and the network Remote do).
type RangeScanner interface {
	ScanRange(ctx context.Context, from, to int, c replica.Cursor, count int) (replica.Cursor, []replica.Entry, error)
}

const (
	slotShift = 50 // replica.Cursor keeps the slot in its top 14 bits
	numSlots  = 1 << 14
)

// Scan visits the keys of the whole store from cursor (a replica.Cursor),
// calling fn with each key and the merge of its replicas' objects, until
// about count keys were visited; it returns the cursor to resume from, 0 at
// the end. In a cluster it pages through each partition on every reachable
// replica of it and visits the union of their keys, so a key that reached
// any live replica is seen; a partition none of whose replicas answers
// fails the scan with ErrNoQuorum.
func (c *Coordinator) Scan(ctx context.Context, cursor uint64, count int, fn func(key []byte, o dvv.Object) bool) (uint64, error) {
	part, ok := c.place.(Partitioned)
	if !ok {
		next, err := c.local.Scan(replica.Cursor(cursor), count, fn)
		return uint64(next), err
	}
	count = max(count, 1)
	seen := 0
	for {
		slot := int(cursor >> slotShift)
		from, to, prefs := part.PartitionAt(slot)
		ids := c.topN(prefs)
		next, entries, err := c.scanPartition(ctx, ids, from, to, replica.Cursor(cursor), count-seen)
		if err != nil {
			return 0, err
		}
		for _, e := range entries {
			seen++
			if !fn(e.Key, e.Object) {
				return uint64(next), nil
			}
		}
		if next == 0 { // partition done
			if to >= numSlots {
				return 0, nil
			}
			next = replica.Cursor(uint64(to) << slotShift)
		}
		cursor = uint64(next)
		if seen >= count {
			return cursor, nil
		}
	}
}

// scanPartition reads one page of a partition from every replica in ids
// and returns the union of their keys up to the smallest cursor any of them
// stopped at (so the page is complete), and that cursor (0: partition done).
func (c *Coordinator) scanPartition(ctx context.Context, ids []string, from, to int, cur replica.Cursor, count int) (replica.Cursor, []replica.Entry, error) {
	ctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	type page struct {
		next    replica.Cursor
		entries []replica.Entry
		err     error
	}
	pages := make([]page, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		rs, ok := c.replica(id).(RangeScanner)
		if !ok {
			pages[i].err = fmt.Errorf("coordinator: %s cannot scan", id)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &pages[i]
			p.next, p.entries, p.err = rs.ScanRange(ctx, from, to, cur, count)
		}()
	}
	wg.Wait()
	var limit replica.Cursor // 0: no replica stopped early
	ok := 0
	var lastErr error
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
		return 0, nil, noQuorum("scan", 0, 1, len(ids), lastErr)
	}
	// Each key's cursor position is computed once (it hashes the key).
	type item struct {
		pos replica.Cursor
		obj dvv.Object
	}
	merged := map[string]item{}
	for _, p := range pages {
		for _, e := range p.entries {
			pos := replica.CursorOf(e.Key)
			if limit != 0 && pos >= limit {
				continue
			}
			it := merged[string(e.Key)]
			merged[string(e.Key)] = item{pos: pos, obj: dvv.Merge(it.obj, e.Object)}
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
	out := make([]replica.Entry, len(keys))
	for i, k := range keys {
		out[i] = replica.Entry{Key: []byte(k), Object: merged[k].obj}
	}
	return limit, out, nil
}
