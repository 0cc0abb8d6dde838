// Package jepsen is dynakv's fault suite in the manner of Jepsen: clients
// run workloads against a five-node cluster (N=3 R=2 W=2) while a nemesis
// isolates a node, splits the cluster 2|3, pauses, kills and restarts
// nodes and skews a node's clock; then the faults heal, the cluster
// converges on its own (hinted handoff, anti-entropy, no CLUSTER REPAIR),
// and a checker per workload compares what the cluster holds with every
// operation the clients saw acknowledged.
//
// The package holds only tests (its files are _test.go; this file is its
// documentation). Two harnesses run the same workloads and checkers:
//
//   - The simulation (sim_test.go): five in-process nodes, each a real
//     replica.Store on an in-memory file system, a coordinator.Coordinator
//     over the peer/peertest fault network, a resp.Server served over
//     in-memory pipes (so the workloads speak RESP through go-redis
//     exactly as against real processes), the hints.Deliverer, the
//     antientropy.Reaper and anti-entropy exchanges, all on one injected
//     clock (plus a per-node skew). Time moves only when the schedule
//     advances it: a fault schedule of minutes of cluster time runs in
//     milliseconds. Each schedule's faults and operations follow its
//     seed; the seed is printed and `-seed S -schedules 1` replays it.
//     Replays are exact up to the order in which concurrent replies of
//     one quorum arrive (peertest's caveat), which may change what a
//     quorum read returns, never the schedule.
//   - Docker (docker_test.go): five containers of deploy/Dockerfile's
//     FROM scratch image (built from a CGO_ENABLED=0 binary, nothing
//     pulled) on two private networks, "<tag>-cluster" for node-to-node
//     traffic (gossip, DKV.* calls) and "<tag>-client" for the test's
//     clients, so partitions (docker network disconnect) cut only
//     node-to-node traffic; pauses are `docker pause`, kills `docker kill`
//     (SIGKILL) followed by `docker start`, and the skew is the hidden
//     --clock-offset flag of `dynakv server`, set on a restart. A sixth
//     kind, handoff, overlaps two faults: a node is cut off, then another
//     is paused as it returns, so hints of keys written during the cut
//     outlive their deletes (what back-to-back phases of the simulation
//     do by themselves).
//
// Workloads (one file each, wl_*_test.go; a new data type is one more
// file and one line in allWorkloads):
//
//   - kv: SET of unique keys, DEL of acknowledged ones: no acknowledged
//     key lost, no key whose DEL replied 1 back.
//   - gset: Jepsen's Riak set test: VGET, union of the siblings, VSET
//     with the token: no acknowledged element lost.
//   - counter: INCRBY: the final value is at least the sum of
//     acknowledged increments and at most that plus the unacknowledged.
//   - set, hash: SADD/SREM and HSET/HDEL of unique members and fields:
//     add wins, so no acknowledged add is lost unless an acknowledged
//     remove observed it (replied 1); a remove that replied 1 stays.
//   - zset: ZADD of unique members, ZINCRBY of acknowledged ones, ZREM:
//     as set, and a member's score is its ZADD's plus every acknowledged
//     increment plus some of those of unknown outcome (integers: exact).
//   - list: RPUSH/LPUSH of unique elements, LREM of acknowledged ones: no
//     acknowledged push lost unless an LREM of it replied 1 or more, such
//     an LREM stays, no element twice; the replica comparison below
//     checks that every replica holds the same order.
//   - FLUSHALL once per run (the runner stops the clients around it):
//     every key written before it stays absent.
//   - After convergence every replica's local copy of every key (VGET key
//     LOCAL on each replica) is the same.
//
// Seeds: TestSimulation's base seed is fixed (1) unless -seed is given or
// DYNAKV_JEPSEN_EXPLORE is set, so CI is deterministic; schedules found
// failing and not yet fixed are listed in knownFailing and replayed by
// TestSimulationKnownFailures, which skips naming the bug until they pass;
// fixed ones move to regressionSeeds, which TestSimulationRegressions
// replays on every run. Each names the workloads it ran with: the schedule
// a seed makes depends on how many workloads there are. The first: schedule 8679050689893925424 brought an
// acknowledged DEL back. A node whose clock had run 17 s ahead (then back)
// held a hint of the key's SET, made before the DEL, for a paused replica;
// hint horizons were creation times on the holder's clock, which never
// went back, so the hint claimed to be 17 s younger than the delete, the
// reapers (which also kept every member's largest answer for good) let
// the tombstone go while the holder was cut off, and the hint, delivered
// after heal, restored the value. Horizons are now the hinted versions'
// own times on their writers' dot clocks (replica.Store.HintHorizon,
// crdt.EarliestDot), which the tombstone's time is read from too, and a
// reaper trusts an answer for Recheck only (antientropy.Reaper).
//
// Open (Docker only so far, not diagnosed): the 20-minute run of seed
// 2819240942521491023 (2026-12-01, every fault kind and workload) brought
// back three acknowledged DELs (kv:1:18889, 18893, 18898: keys written
// within moments of each other, in the run's last quarter, whose phases
// were a -15 s clock skew, isolations, pauses, kill -9 of one node then of
// two, and a 2|3 split). Not the horizon's clock: a tombstone's time is
// the newest event of its context (crdt.TombstoneTime), so it is never
// older than the SET it deleted, whoever's clock wrote either. 22,000
// simulated schedules (skews to 17 s) have not reproduced it. The next
// 20-minute run (seed 6570344841407222657, 2026-12-01, with the hot-key
// write path and the fix that keeps a cancelled peer call from making its
// node suspected) passed: 235,000 operations attempted, none lost or
// resurrected, replicas identical 15 s after the heal. So did the next
// (seed 13769692438341689067, 2026-12-01, with the coordinator's local
// fsync overlapping its sends): 163,225 operations attempted, 156,863
// acknowledged, none lost or resurrected, replicas identical 8.3 s after
// the heal. Two passes do not explain the earlier failure; its seed stays
// the one to rerun, and a failing Docker run now keeps its evidence (see
// below), which that one could not.
//
// The suite finds the fault it was built for when its fix is taken out:
// with the reaper's hint-horizon condition removed (a tombstone reaped
// while an older hint of the key's value is pending), the regression seed
// fails again, 5 of the first 68 simulated schedules of base seed 1 fail
// (kv: "DEL replied 1, key back"; list: an LREM undone), and a 3-minute
// Docker run (seed 966469210016576829) brought back one acknowledged DEL;
// the same schedules pass with the condition in place.
//
// Tiers: TestSimulation runs 16 simulated schedules in `go test ./...`
// (DYNAKV_JEPSEN_SCHEDULES or -schedules for more; they run on every
// core, about 650 per CPU-minute); with DYNAKV_E2E=1 it runs 300 and TestDockerShort runs the Docker suite for about
// three minutes; DYNAKV_JEPSEN_LONG=20m runs TestDockerLong for that
// long. Docker tests skip with a message where docker is missing, its
// engine unreachable or the test not root. Each run writes a summary
// (operations attempted, acknowledged, lost and resurrected per workload,
// the error rate of each fault phase, the time to converge) to the test
// log and to $DYNAKV_JEPSEN_OUT (a file) when set; each workload's result
// names its anomalous keys (Result.Anomalies: the first 50, and how many
// more).
//
// Evidence: when a Docker run fails (a failing verdict, or any other
// error of the test), it writes, before the containers are removed, a directory with
// summary.txt, keys.txt (each anomalous key and each key whose replicas
// differ: the workload's history of it, for kv its SET and DEL with
// their outcomes, the DEL's reply, the client and node that sent each
// and when each was sent and answered; then VGET key through every node
// and VGET key LOCAL on every node, tokens decoded to their causal
// contexts; LOCAL shows a replica's live siblings and context, not its
// tombstones) and n1.log…n5.log (each node's docker logs, stdout and
// stderr with the engine's time stamps, every container it ran in: a
// kill or a skew starts a new one). The nodes log at the default level,
// info: mostly anti-entropy repairs and hinted-handoff rounds, about 70
// KB per node in the three-minute run, so some 0.5 MB per node in 20
// minutes (held in memory for removed containers). The directory is
// $DYNAKV_ARTIFACTS/jepsen-<seed> when set, else jepsen-<seed> in the
// test's artifact directory under go test -artifacts (.ci/run: under
// .ci/artifacts/_artifacts), else jepsen-<seed> next to
// $DYNAKV_JEPSEN_OUT when set, else a fresh /tmp/dynakv-jepsen-<seed>-*
// that is kept; the summary and the test log name it.
//
// Concurrency: a workload's methods are safe for concurrent use by the
// runner's clients; the simulation runs its operations one at a time.
package jepsen
