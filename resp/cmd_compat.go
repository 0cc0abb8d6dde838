package resp

import "strings"

// This file has the commands tools and client libraries probe on
// connecting or in their test setups, answered as a Redis master would
// answer them, and the clear refusals of those dynakv
// has no counterpart for (FUNCTION, FCALL, DEBUG).

// compatCommands are the commands of this file (initAdmin registers them).
func compatCommands() []Command {
	refuse := func(name string, arity int, why string) Command {
		msg := "ERR " + strings.ToUpper(name) + " is not supported by dynakv: " + why
		return Command{Name: name, Arity: arity, Flags: FlagLoading | FlagStale, Handler: func(c *Conn, _ [][]byte) { c.WriteError(msg) }}
	}
	const noFunctions = "it has no Redis functions (Lua scripts run with EVAL and EVALSHA)"
	return []Command{
		{Name: "role", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Handler: cmdRole},
		{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdLastSave},
		refuse("function", -2, noFunctions),
		refuse("fcall", -3, noFunctions),
		refuse("fcall_ro", -3, noFunctions),
		refuse("debug", -2, "its internals are not Redis's (MEMORY USAGE, OBJECT and INFO report what it can)"),
	}
}

// cmdRole: ROLE — ["master", 0, []], as a Redis master with no replicas
// (in RESP3 too, as Redis replies). Every dynakv node coordinates writes
// itself and its replicas are peers under Dynamo's quorums, not Redis
// replicas that follow a replication offset: none is listed, and the
// offset is 0 (INFO replication and CLUSTER SHARDS say the same).
func cmdRole(c *Conn, _ [][]byte) {
	c.WriteArray(3)
	c.WriteBulkString("master")
	c.WriteInt(0)
	c.WriteArray(0)
}

// cmdLastSave: LASTSAVE — the node's start, in Unix seconds, as INFO
// persistence's rdb_last_save_time. dynakv takes no snapshots: every
// write is in pebble's write-ahead log before it is acknowledged, so
// there is no later "save" to report.
func cmdLastSave(c *Conn, _ [][]byte) { c.WriteInt(c.srv.started.Unix()) }
