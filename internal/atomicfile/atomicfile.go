package atomicfile

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// ErrWrite wraps every failure of Write.
var ErrWrite = errors.New("atomicfile: write")

var seq atomic.Uint64

// Write replaces name with data: it writes a unique temporary file in the
// same directory, syncs it, renames it over name and syncs the directory.
// fs nil means vfs.Default. Errors wrap ErrWrite and the file system's error.
func Write(fs vfs.FS, name string, data []byte) error {
	if fs == nil {
		fs = vfs.Default
	}
	dir := filepath.Dir(name)
	tmp := fmt.Sprintf("%s.tmp.%d.%d", name, os.Getpid(), seq.Add(1))
	if err := writeSynced(fs, tmp, data); err != nil {
		_ = fs.Remove(tmp)
		return fmt.Errorf("%w %s: %w", ErrWrite, name, err)
	}
	if err := fs.Rename(tmp, name); err != nil {
		_ = fs.Remove(tmp)
		return fmt.Errorf("%w %s: %w", ErrWrite, name, err)
	}
	d, err := fs.OpenDir(dir)
	if err != nil {
		return fmt.Errorf("%w %s: open dir: %w", ErrWrite, name, err)
	}
	err = d.Sync()
	if e := d.Close(); err == nil {
		err = e
	}
	if err != nil {
		return fmt.Errorf("%w %s: sync dir: %w", ErrWrite, name, err)
	}
	return nil
}

func writeSynced(fs vfs.FS, name string, data []byte) error {
	f, err := fs.Create(name, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if e := f.Close(); err == nil {
		err = e
	}
	return err
}

// Read returns name's content, or an error that satisfies
// errors.Is(err, os.ErrNotExist) when there is none. fs nil means
// vfs.Default.
func Read(fs vfs.FS, name string) ([]byte, error) {
	if fs == nil {
		fs = vfs.Default
	}
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}

// Remove deletes name and syncs its directory; a missing file is not an
// error. fs nil means vfs.Default.
func Remove(fs vfs.FS, name string) error {
	if fs == nil {
		fs = vfs.Default
	}
	if err := fs.Remove(name); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%w %s: remove: %w", ErrWrite, name, err)
	}
	d, err := fs.OpenDir(filepath.Dir(name))
	if err != nil {
		return fmt.Errorf("%w %s: open dir: %w", ErrWrite, name, err)
	}
	err = d.Sync()
	if e := d.Close(); err == nil {
		err = e
	}
	return err
}
