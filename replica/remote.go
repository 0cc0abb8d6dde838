package replica

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/dynakv/dynakv/replica/dvv"
	"github.com/redis/go-redis/v9"
)

// Internal commands: node-to-node replica calls travel over the RESP port
// as these commands, refused unless the connection first presented the
// cluster secret with CmdAuth.
const (
	CmdAuth  = "DKV.AUTH"  // DKV.AUTH secret → +OK
	CmdGet   = "DKV.GET"   // DKV.GET key → bulk: encoded dvv.Object
	CmdMerge = "DKV.MERGE" // DKV.MERGE key encoded-object → +OK
)

// ErrRemote reports a failed call to a remote replica.
var ErrRemote = errors.New("replica: remote call failed")

// RemoteConfig configures a Remote.
type RemoteConfig struct {
	ID     string // the remote node's ID
	Addr   string // its RESP address
	Secret string // the cluster secret
	// Timeout bounds dialing and each call; 0 means 1s.
	Timeout time.Duration
	// PoolSize is the number of pooled connections; 0 means 16.
	PoolSize int
}

// Remote is the network implementation of Replica: a pooled RESP client of
// another node. Safe for concurrent use.
type Remote struct {
	id string
	c  *redis.Client
}

// NewRemote returns a Remote; connections are made on first use.
func NewRemote(cfg RemoteConfig) *Remote {
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 16
	}
	c := redis.NewClient(&redis.Options{
		Addr:            cfg.Addr,
		Protocol:        2,
		DisableIdentity: true,
		DialTimeout:     cfg.Timeout,
		ReadTimeout:     cfg.Timeout,
		WriteTimeout:    cfg.Timeout,
		PoolSize:        cfg.PoolSize,
		MaxRetries:      -1,
		OnConnect: func(ctx context.Context, cn *redis.Conn) error {
			return cn.Do(ctx, CmdAuth, cfg.Secret).Err()
		},
	})
	return &Remote{id: cfg.ID, c: c}
}

// ID returns the remote node's ID.
func (r *Remote) ID() string { return r.id }

// Get fetches the key's object from the remote replica.
func (r *Remote) Get(ctx context.Context, key []byte) (dvv.Object, error) {
	s, err := r.c.Do(ctx, CmdGet, key).Text()
	b := []byte(s)
	if err != nil {
		return dvv.Object{}, fmt.Errorf("%w: %s get: %w", ErrRemote, r.id, err)
	}
	if len(b) == 0 {
		return dvv.Object{}, nil
	}
	o, err := dvv.Decode(b)
	if err != nil {
		return dvv.Object{}, fmt.Errorf("%w: %s get: %w", ErrRemote, r.id, err)
	}
	return o, nil
}

// Merge sends obj to be merged into the remote replica's copy of key.
func (r *Remote) Merge(ctx context.Context, key []byte, obj dvv.Object) error {
	if err := r.c.Do(ctx, CmdMerge, key, obj.Encode()).Err(); err != nil {
		return fmt.Errorf("%w: %s merge: %w", ErrRemote, r.id, err)
	}
	return nil
}

// Do sends an arbitrary command to the remote node on an authenticated
// connection (used to forward client commands to a replica of their key).
func (r *Remote) Do(ctx context.Context, args ...any) *redis.Cmd { return r.c.Do(ctx, args...) }

// Close closes the connection pool.
func (r *Remote) Close() error { return r.c.Close() }
