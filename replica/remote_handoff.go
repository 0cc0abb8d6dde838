package replica

import (
	"context"
	"fmt"
)

// CmdMergeBatch merges many keys in one call (ownership handoff):
// DKV.MERGEN key object [key object …] → +OK once all are durable.
const CmdMergeBatch = "DKV.MERGEN"

// BatchMerger is a replica that merges many keys at once (Store, Remote).
type BatchMerger interface {
	MergeBatch(ctx context.Context, entries []Entry) error
}

// MergeBatch sends entries to be merged into the remote replica in one
// call (see Store.MergeBatch).
func (r *Remote) MergeBatch(ctx context.Context, entries []Entry) error {
	if len(entries) == 0 {
		return nil
	}
	args := make([]any, 0, 1+2*len(entries))
	args = append(args, CmdMergeBatch)
	for _, e := range entries {
		args = append(args, e.Key, e.Object.Encode())
	}
	if err := r.c.Do(ctx, args...).Err(); err != nil {
		return fmt.Errorf("%w: %s merge batch: %w", ErrRemote, r.id, err)
	}
	return nil
}
