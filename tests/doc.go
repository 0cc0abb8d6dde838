// Package tests holds dynakv's end-to-end tests: real dynakv processes
// built from ./cmd/dynakv, driven by real clients (go-redis, redis-cli,
// raw TCP), killed with SIGKILL and restarted.
//
// The harness (harness_test.go) builds the binary once per test run (TestMain),
// starts each process on a free 127.0.0.1 port with its own data directory
// under t.TempDir(), waits for it to answer PING, and stops it at cleanup.
// Tests that need redis-cli skip with a message when it is not installed.
//
// cluster_test.go starts clusters of real processes joined by gossip
// (StartCluster) and checks the Dynamo claims of the cluster: quorum reads
// and writes with a node killed, siblings across coordinators, replicas
// equal to the preference list, NOQUORUM instead of wrong answers, and
// cluster-aware clients (go-redis ClusterClient, redis-cli -c).
//
// The in-process tier (seeded, over the fault-injecting peer/peertest
// network) lives beside the packages it tests: coordinator/coordinator_test.go,
// peer/peertest.
package tests
