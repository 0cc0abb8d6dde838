package replica

import (
	"context"
	"errors"
	"fmt"
	"strconv"
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
	// CmdScan pages through a slot range:
	// DKV.SCAN from to cursor count → [next-cursor, key, object, key, object, …]
	CmdScan = "DKV.SCAN"
	// CmdHint stores a hint for another node: DKV.HINT target key object → +OK
	CmdHint = "DKV.HINT"
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
	// PoolSize is the number of pooled connections; 0 means 64.
	PoolSize int
}

// Remote is the network implementation of Replica: a pooled RESP client of
// another node. Safe for concurrent use.
type Remote struct {
	id   string
	addr string
	c    *redis.Client
}

// NewRemote returns a Remote; connections are made on first use.
func NewRemote(cfg RemoteConfig) *Remote {
	if cfg.Timeout == 0 {
		cfg.Timeout = time.Second
	}
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 64
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
	return &Remote{id: cfg.ID, addr: cfg.Addr, c: c}
}

// ID returns the remote node's ID.
func (r *Remote) ID() string { return r.id }

// Addr returns the remote node's RESP address.
func (r *Remote) Addr() string { return r.addr }

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

// PutHint asks the remote node to keep obj as a hint for node target.
func (r *Remote) PutHint(ctx context.Context, target string, key []byte, obj dvv.Object) error {
	if err := r.c.Do(ctx, CmdHint, target, key, obj.Encode()).Err(); err != nil {
		return fmt.Errorf("%w: %s hint: %w", ErrRemote, r.id, err)
	}
	return nil
}

// ScanRange pages through the remote replica's keys of slots [from, to)
// (see Store.ScanRange).
func (r *Remote) ScanRange(ctx context.Context, from, to int, c Cursor, count int) (Cursor, []Entry, error) {
	res, err := r.c.Do(ctx, CmdScan, from, to, uint64(c), count).Slice()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s scan: %w", ErrRemote, r.id, err)
	}
	return r.entries("scan", res)
}

// Do sends an arbitrary command to the remote node on an authenticated
// connection (used to forward client commands to a replica of their key).
func (r *Remote) Do(ctx context.Context, args ...any) *redis.Cmd { return r.c.Do(ctx, args...) }

// Close closes the connection pool.
func (r *Remote) Close() error { return r.c.Close() }

// CmdRange pages through cursor ranges (replica.Store.ScanRanges):
// DKV.RANGE count from to [from to …] → [next-cursor, key, object, …]
const CmdRange = "DKV.RANGE"

// MaxRanges bounds the ranges of one DKV.RANGE call.
const MaxRanges = 4096

// ScanRanges pages through the remote replica's keys at the positions of
// ranges (at most MaxRanges; see Store.ScanRanges).
func (r *Remote) ScanRanges(ctx context.Context, ranges []Range, count int) (Cursor, []Entry, error) {
	args := make([]any, 0, 2+2*len(ranges))
	args = append(args, CmdRange, count)
	for _, rg := range ranges {
		args = append(args, uint64(rg.From), uint64(rg.To))
	}
	res, err := r.c.Do(ctx, args...).Slice()
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s range: %w", ErrRemote, r.id, err)
	}
	return r.entries("range", res)
}

// entries parses a [next-cursor, key, object, …] reply.
func (r *Remote) entries(op string, res []any) (Cursor, []Entry, error) {
	if len(res)%2 != 1 {
		return 0, nil, fmt.Errorf("%w: %s %s: reply of %d elements", ErrRemote, r.id, op, len(res))
	}
	next, err := strconv.ParseUint(fmt.Sprint(res[0]), 10, 64)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %s %s: cursor: %w", ErrRemote, r.id, op, err)
	}
	out := make([]Entry, 0, len(res)/2)
	for i := 1; i < len(res); i += 2 {
		k, _ := res[i].(string)
		ob, _ := res[i+1].(string)
		o, err := dvv.Decode([]byte(ob))
		if err != nil {
			return 0, nil, fmt.Errorf("%w: %s %s: %w", ErrRemote, r.id, op, err)
		}
		out = append(out, Entry{Key: []byte(k), Object: o})
	}
	return Cursor(next), out, nil
}

// CmdMergeMany merges several objects, sharing fsyncs:
// DKV.MERGEMANY key object [key object …] → +OK
const CmdMergeMany = "DKV.MERGEMANY"

// MergeMany merges each entry into the remote replica's copy of its key in
// one call (Store.MergeMany).
func (r *Remote) MergeMany(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(entries))
	args = append(args, CmdMergeMany)
	for _, e := range entries {
		enc := e.Encoded
		if enc == nil {
			enc = e.Object.Encode()
		}
		args = append(args, e.Key, enc)
	}
	if err := r.c.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("%w: %s merge: %w", ErrRemote, r.id, err)
	}
	return nil
}

// CmdHintGet reads the hints a node holds for a key, for every target:
// DKV.HINTGET key → bulk: the encoded merge of them (dvv.Object.Encode;
// the zero object when there is none).
const CmdHintGet = "DKV.HINTGET"

// HintsFor returns the merge of the hints the remote node holds for key
// (Store.HintsFor).
func (r *Remote) HintsFor(ctx context.Context, key []byte) (dvv.Object, error) {
	s, err := r.c.Do(ctx, CmdHintGet, key).Text()
	if err != nil {
		return dvv.Object{}, fmt.Errorf("%w: %s hintget: %w", ErrRemote, r.id, err)
	}
	if len(s) == 0 {
		return dvv.Object{}, nil
	}
	o, err := dvv.Decode([]byte(s))
	if err != nil {
		return dvv.Object{}, fmt.Errorf("%w: %s hintget: %w", ErrRemote, r.id, err)
	}
	return o, nil
}

// CmdHintHorizon asks a node for its hint horizon (Store.HintHorizon):
// DKV.HINTHORIZON → integer, Unix ms on that node's clock.
const CmdHintHorizon = "DKV.HINTHORIZON"

// HintHorizon returns the remote node's hint horizon (Store.HintHorizon).
func (r *Remote) HintHorizon(ctx context.Context) (int64, error) {
	h, err := r.c.Do(ctx, CmdHintHorizon).Int64()
	if err != nil {
		return 0, fmt.Errorf("%w: %s hint horizon: %w", ErrRemote, r.id, err)
	}
	return h, nil
}
