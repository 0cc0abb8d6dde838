// Package testseed gives dynakv's randomized tests one replayable seed:
// `-seed N` on the go test command line, or else a fresh one, which Seed
// logs with the command that replays the test.
//
// Import it only from tests. Concurrency: Seed may be called from parallel
// tests; the flag is read-only once tests run.
package testseed
