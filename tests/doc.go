// Package tests holds dynakv's end-to-end tests: real dynakv processes
// built from ./cmd/dynakv, driven by real clients (go-redis, redis-cli,
// raw TCP), killed with SIGKILL and restarted.
//
// The harness (harness.go) builds the binary once per test run (TestMain),
// starts each process on a free 127.0.0.1 port with its own data directory
// under t.TempDir(), waits for it to answer PING, and stops it at cleanup.
// Tests that need redis-cli skip with a message when it is not installed.
package tests
