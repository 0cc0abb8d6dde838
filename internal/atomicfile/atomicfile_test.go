package atomicfile

import (
	"errors"
	"os"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// A crash after Write keeps the new content; a crash before keeps the old:
// never a torn or missing file.
func TestWriteSurvivesCrash(t *testing.T) {
	fs := vfs.NewCrashableMem()
	if err := fs.MkdirAll("/d", 0o755); err != nil {
		t.Fatal(err)
	}
	root, err := fs.OpenDir("/")
	if err != nil {
		t.Fatal(err)
	}
	if err := root.Sync(); err != nil {
		t.Fatal(err)
	}
	root.Close()
	if err := Write(fs, "/d/ring.state", []byte("v1")); err != nil {
		t.Fatal(err)
	}
	after := fs.CrashClone(vfs.CrashCloneCfg{})
	got, err := Read(after, "/d/ring.state")
	if err != nil || string(got) != "v1" {
		t.Fatalf("after crash: %q, %v; want v1", got, err)
	}
	if err := Write(fs, "/d/ring.state", []byte("v2")); err != nil {
		t.Fatal(err)
	}
	after = fs.CrashClone(vfs.CrashCloneCfg{})
	if got, _ := Read(after, "/d/ring.state"); string(got) != "v2" {
		t.Fatalf("after second write and crash: %q, want v2", got)
	}
	ls, _ := after.List("/d")
	if len(ls) != 1 {
		t.Fatalf("directory holds %v, want only ring.state", ls)
	}
}

// Concurrent writers of one name never fail on each other's temporary file
// (the old code shared "name.tmp" and failed with "no such file").
func TestWriteConcurrent(t *testing.T) {
	fs := vfs.NewMem()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := Write(fs, "/ring.state", []byte{byte(i)}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if b, err := Read(fs, "/ring.state"); err != nil || len(b) != 1 {
		t.Fatalf("read %v, %v", b, err)
	}
}

func TestReadMissingAndRemove(t *testing.T) {
	fs := vfs.NewMem()
	if _, err := Read(fs, "/none"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read missing: %v, want ErrNotExist", err)
	}
	if err := Remove(fs, "/none"); err != nil {
		t.Fatalf("Remove missing: %v", err)
	}
	if err := Write(fs, "/x", []byte("1")); err != nil {
		t.Fatal(err)
	}
	if err := Remove(fs, "/x"); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(fs, "/x"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("after Remove: %v", err)
	}
}
