// Package osmem returns the Go heap's free memory to the operating system
// at the moments a big value's memory becomes garbage, instead of leaving
// it to the runtime's background scavenger, which gives a few hundred MiB
// back only over minutes (and only after the next collection, which an
// idle process runs once every 2 minutes).
//
// Concurrency: Return may be called from any goroutine; calls that find a
// return already running skip theirs (one forced collection frees what
// every caller's big value left behind). Return blocks its caller for a
// full collection (tens of milliseconds on a heap of a few hundred MiB):
// callers on a hot path run it in a goroutine.
package osmem
