// Package syncbuf is a bytes.Buffer that goroutines may write to at once:
// a log sink (a process's stderr, a slog handler's writer) that a test
// reads while the writers still run.
//
// Concurrency: every method takes the buffer's mutex; the zero Buffer is
// empty and ready to use, and must not be copied after first use.
package syncbuf
