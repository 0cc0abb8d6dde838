package jepsen

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// newSetWL is the add-wins set workload: SADD and SREM of unique members,
// read with SMEMBERS (see memberWorkload).
func newSetWL() *memberWorkload {
	return newMemberWorkload(memberOps{
		name: "set",
		add: func(ctx context.Context, c *redis.Client, key, m, _ string) error {
			return c.SAdd(ctx, key, m).Err()
		},
		rem: func(ctx context.Context, c *redis.Client, key, m string) (int64, error) {
			return c.SRem(ctx, key, m).Result()
		},
		read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
			ms, err := c.SMembers(ctx, key).Result()
			out := map[string]string{}
			for _, m := range ms {
				out[m] = value(m)
			}
			return out, err
		},
	})
}
