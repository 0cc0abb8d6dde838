// Package atomicfile writes small control files (the ring state, transfer
// progress, the leaving mark) crash-safely through a pebble vfs.FS, the same
// seam the store uses, so crash tests can cover them with
// vfs.NewCrashableMem.
//
// Invariant: after Write returns nil, a crash leaves either the old or the
// new content at name, never a mix or nothing (the temporary file is synced
// before the rename and the directory is synced after it). Each call uses a
// unique temporary name, so concurrent writers of one name never remove each
// other's temporary file; the last rename wins.
//
// Concurrency: Write is safe for concurrent use; callers that need an order
// between writers of one name serialize them themselves.
package atomicfile
