// Package tests holds dynakv's end-to-end tests and the tests of the
// Dynamo paper's claims.
//
// Tiers. `go test ./...` runs, from this package, the paper tests and a
// short slice of the multi-process tier; the rest is the heavy tier, run
// only with DYNAKV_E2E=1 (each of its tests calls heavy(t), which skips
// otherwise, naming the variable). .ci/run runs both.
//
//   - dynamo_paper_test.go (always): one in-process test per claim of the
//     Dynamo paper (§4.2–§4.8, §6.4), each quoting the claim and citing its
//     section, as etcd raft's raft_paper_test.go does. They use rings,
//     in-memory pebble stores, the peer/peertest network, the
//     anti-entropy harness and, for §6.4's routing, node.Start with gossip
//     on membertest's in-memory network.
//   - The short slice (always): TestEveryCommandAgainstRealProcess (one
//     process, every command), TestDataTypesSmokeLoneProcess (INCR from
//     four clients, SET NX races and a hash cart on one process),
//     TestClusterWriteW2ReadR2AnyNodeDown (a 3-node cluster of processes,
//     each node killed in turn), and the transactions (tx_test.go):
//     TestTxCluster (one 3-node cluster: the WATCH/EXEC check-and-set
//     loop of 3 clients on 3 nodes up to 300 increments, go-redis
//     TxPipelined and Watch, redis-py pipeline() and transaction()) and
//     TestTxLoneProcess (the same clients on one process), and
//     TestScriptPHPSessionCart (20 php-cli requests with php-redis's
//     locked sessions on one process; skipped without php-redis).
//   - The heavy tier (DYNAKV_E2E=1): every other test here, the Docker
//     test included (it also skips without a Docker engine or root).
//
// The process harness (harness_test.go) builds ./cmd/dynakv once per run,
// when a test first starts a process (with go's default settings, so it
// reuses the build cache; the Docker test builds a static one); starts each process on a free
// 127.0.0.1 port with its own data directory under t.TempDir(), waits for
// it to answer, and kills it at cleanup. Tests that need redis-cli skip
// with a message when it is not installed.
//
// Waiting: processes converge in the background, so tests poll a condition
// with eventually(t, what, timeout, cond), the one polling loop here,
// never a fixed sleep (the two sleeps left are a time under test and a
// measurement's baseline, each marked NB). Request contexts come from
// ctxT, one per step of a test, made after the waits that precede the
// step: a context made once per test can expire during a slow setup.
//
// cluster_test.go starts clusters of real processes joined by gossip
// (StartCluster) and checks the Dynamo claims end to end: quorum reads
// and writes with a node killed, siblings across coordinators, replicas
// equal to the preference list, NOQUORUM instead of wrong answers, and
// cluster-aware clients (go-redis ClusterClient, redis-cli -c).
//
// pubsub_test.go (heavy tier) subscribes through redis-py's pubsub() and
// go-redis on one node of a 3-node cluster and publishes on another (each
// message arrives once), and checks that a keyspace-notification
// subscriber on n1 gets exactly one "expired" event for keys set with
// EX 1 through n2, whichever node coordinates them.
//
// clients_test.go (heavy tier) runs the client libraries as Debian
// packages them (redis-py, php-redis, ruby-redis, node-redis), and go-redis
// in RESP2 and RESP3, against the sorted sets, lists and their blocking
// pops, HyperLogLog, bitmaps and SORT, on a lone node and on a 3-node
// cluster (a blocked pop on one node woken by a push through another): one
// script per library under testdata/clients compares every decoded reply
// with redis-server's, and TestClientLibrariesAgainstRedis
// (DYNAKV_VALIDATE_REDIS=1) runs the same scripts against a real
// redis-server; on the cluster, redis-py's and php-redis's RedisCluster
// also spread keys over the slots. A library that is missing skips, naming
// its Debian package.
//
// The in-process tier of each mechanism lives beside it (for example the
// coordinator's, over peer/peertest: coordinator/coordinator_test.go).
//
// The fault suite, Jepsen-style workloads and checkers under a nemesis,
// is the subpackage tests/jepsen: a seeded simulation over peer/peertest
// (always, more schedules with DYNAKV_E2E=1) and a five-container Docker
// cluster (DYNAKV_E2E=1; DYNAKV_JEPSEN_LONG for the long run).
package tests
