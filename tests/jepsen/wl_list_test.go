package jepsen

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// newListWL is the list workload: RPUSH or LPUSH (by the element's number)
// of unique elements and LREM (count 0) of acknowledged ones, read with
// LRANGE 0 -1 (see memberWorkload: no acknowledged push lost unless an
// LREM of it replied 1, such an LREM stays; crdt's sequence keeps
// concurrent pushes). An element read twice is an anomaly. That every
// replica holds the same order after the heal is the suite's replica
// comparison (VGET key LOCAL renders a list's elements in order).
func newListWL() *memberWorkload {
	return newMemberWorkload(memberOps{
		name: "list",
		add: func(ctx context.Context, c *redis.Client, key, e, _ string) error {
			if strings.ContainsAny(e[len(e)-1:], "02468") {
				return c.RPush(ctx, key, e).Err()
			}
			return c.LPush(ctx, key, e).Err()
		},
		rem: func(ctx context.Context, c *redis.Client, key, e string) (int64, error) {
			return c.LRem(ctx, key, 0, e).Result()
		},
		read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
			es, err := c.LRange(ctx, key, 0, -1).Result()
			out := map[string]string{}
			for _, e := range es {
				if _, dup := out[e]; dup {
					return nil, fmt.Errorf("%s holds %s twice, pushed once", key, e)
				}
				out[e] = value(e)
			}
			return out, err
		},
	})
}
