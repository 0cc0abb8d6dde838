package jepsen

import (
	"context"

	"github.com/redis/go-redis/v9"
)

// newHashWL is the add-wins hash workload: HSET and HDEL of unique
// fields, each with a value derived from its name, read with HGETALL (see
// memberWorkload).
func newHashWL() *memberWorkload {
	return newMemberWorkload(memberOps{
		name: "hash",
		add: func(ctx context.Context, c *redis.Client, key, f, v string) error {
			return c.HSet(ctx, key, f, v).Err()
		},
		rem: func(ctx context.Context, c *redis.Client, key, f string) (int64, error) {
			return c.HDel(ctx, key, f).Result()
		},
		read: func(ctx context.Context, c *redis.Client, key string) (map[string]string, error) {
			return c.HGetAll(ctx, key).Result()
		},
	})
}
