package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/dynakv/dynakv/internal/atomicfile"
	"github.com/dynakv/dynakv/ring"
)

// Files in the data directory.
const (
	// ProgressFile holds the progress of every task (JSON), rewritten
	// crash-safely after each acknowledged batch.
	ProgressFile = "transfer.json"
	// LegacyProgressFile is the name the progress had before transfer was
	// its own package; it is read when ProgressFile is absent and removed
	// once ProgressFile is written.
	LegacyProgressFile = "handoff.json"
	// LeavingFile marks a CLUSTER LEAVE in progress; its presence is the
	// mark.
	LeavingFile = "leaving"
)

// progressEntry is one task's progress in ProgressFile. The JSON names are
// those of handoff.json, so either file reads the same way.
type progressEntry struct {
	P      int         `json:"p"`
	To     ring.NodeID `json:"to"`
	Old    string      `json:"old"`    // the move: MoveKey
	Cursor uint64      `json:"cursor"` // next position to send from
	Done   bool        `json:"done"`
	DoneAt int64       `json:"done_at,omitempty"` // Unix ms
	Keys   int64       `json:"keys"`
	Bytes  int64       `json:"bytes"`
}

// Store persists progress and the leaving mark in one directory of a
// vfs.FS, through internal/atomicfile: after a save returns, a crash
// leaves the old or the new file, never a torn one. Not safe for
// concurrent use: the driver serializes its calls.
type Store struct {
	fs     vfs.FS
	dir    string
	legacy bool // LegacyProgressFile exists and is removed on the next save
}

// NewStore returns the Store of directory dir on fs (nil: the real file
// system).
func NewStore(fs vfs.FS, dir string) *Store {
	if fs == nil {
		fs = vfs.Default
	}
	return &Store{fs: fs, dir: dir}
}

// Load reads the saved progress: an empty map if there is none. A file
// that does not parse is an error wrapping ErrProgress (the caller may
// start over).
func (s *Store) Load() (map[Task]Progress, error) {
	prog := map[Task]Progress{}
	b, err := atomicfile.Read(s.fs, filepath.Join(s.dir, ProgressFile))
	if errors.Is(err, os.ErrNotExist) {
		b, err = atomicfile.Read(s.fs, filepath.Join(s.dir, LegacyProgressFile))
		s.legacy = err == nil
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return prog, nil
	case err != nil:
		return prog, fmt.Errorf("%w: read: %w", ErrProgress, err)
	}
	var es []progressEntry
	if err := json.Unmarshal(b, &es); err != nil {
		return prog, fmt.Errorf("%w: parse: %w", ErrProgress, err)
	}
	for _, e := range es {
		prog[Task{e.P, e.To}] = Progress{Move: e.Old, Cursor: e.Cursor, Done: e.Done, DoneAt: e.DoneAt, Keys: e.Keys, Bytes: e.Bytes}
	}
	return prog, nil
}

// Save replaces the saved progress with prog, crash-safely.
func (s *Store) Save(prog map[Task]Progress) error {
	ts := make([]Task, 0, len(prog))
	for t := range prog {
		ts = append(ts, t)
	}
	sortTasks(ts)
	es := make([]progressEntry, 0, len(ts))
	for _, t := range ts {
		pg := prog[t]
		es = append(es, progressEntry{P: t.Partition, To: t.To, Old: pg.Move, Cursor: pg.Cursor, Done: pg.Done, DoneAt: pg.DoneAt, Keys: pg.Keys, Bytes: pg.Bytes})
	}
	b, err := json.Marshal(es)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrProgress, err)
	}
	if err := atomicfile.Write(s.fs, filepath.Join(s.dir, ProgressFile), b); err != nil {
		return fmt.Errorf("%w: %w", ErrProgress, err)
	}
	if s.legacy {
		if err := atomicfile.Remove(s.fs, filepath.Join(s.dir, LegacyProgressFile)); err == nil {
			s.legacy = false
		}
	}
	return nil
}

// clone copies a progress map.
func clone(prog map[Task]Progress) map[Task]Progress {
	out := make(map[Task]Progress, len(prog))
	for t, p := range prog {
		out[t] = p
	}
	return out
}
