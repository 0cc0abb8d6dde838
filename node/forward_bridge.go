package node

import (
	"context"
	"errors"
	"strconv"

	"github.com/redis/go-redis/v9"
	"github.com/tidwall/redcon"
)

// Forward sends a client command to node to (resp.Cluster) and returns
// its reply decoded as go-redis decodes RESP2, which resp.Cluster.Forward
// still expects: string, int64, []any, the error redis.Nil for a null
// reply, and an error reply as an error implementing redis.Error.
//
// Bridge: once resp.Cluster.Forward takes the raw reply, this file goes
// and forward becomes Forward.
func (r respCluster) Forward(ctx context.Context, to string, args [][]byte) (any, error) {
	raw, err := r.forward(ctx, to, args)
	if err != nil {
		return nil, err
	}
	n, v := redcon.ReadNextRESP(raw)
	if n != len(raw) {
		return nil, errors.New("node: malformed forwarded reply")
	}
	if isNull(v) {
		return nil, redis.Nil
	}
	if v.Type == redcon.Error {
		return nil, replyError(v.Data)
	}
	return decodeValue(v), nil
}

// replyError is an error reply, as go-redis reports one.
type replyError string

func (e replyError) Error() string { return string(e) }

// RedisError marks replyError as a redis.Error.
func (replyError) RedisError() {}

func isNull(v redcon.RESP) bool {
	return (v.Type == redcon.Bulk || v.Type == redcon.Array) && len(v.Raw) > 1 && v.Raw[1] == '-'
}

func decodeValue(v redcon.RESP) any {
	switch {
	case isNull(v):
		return nil
	case v.Type == redcon.Integer:
		n, _ := strconv.ParseInt(string(v.Data), 10, 64)
		return n
	case v.Type == redcon.Error:
		return replyError(v.Data)
	case v.Type == redcon.Array:
		out := make([]any, 0, v.Count)
		v.ForEach(func(e redcon.RESP) bool {
			out = append(out, decodeValue(e))
			return true
		})
		return out
	}
	return string(v.Data)
}
