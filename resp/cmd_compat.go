package resp

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// This file has the commands tools and client libraries probe on
// connecting or in their test setups, answered as a Redis master with a
// single user would answer them, and the clear refusals of those dynakv
// has no counterpart for (FUNCTION, FCALL, DEBUG, ACL's user management).

// compatCommands are the commands of this file (initAdmin registers them).
func compatCommands() []Command {
	refuse := func(name string, arity int, why string) Command {
		msg := "ERR " + strings.ToUpper(name) + " is not supported by dynakv: " + why
		return Command{Name: name, Arity: arity, Flags: FlagLoading | FlagStale, Handler: func(c *Conn, _ [][]byte) { c.WriteError(msg) }}
	}
	const noFunctions = "it has no Redis functions (Lua scripts run with EVAL and EVALSHA)"
	const oneUser = "it has one user, default, whose password is --requirepass"
	aclRefuse := func(name string, arity int) Command {
		msg := "ERR ACL " + strings.ToUpper(name) + " is not supported by dynakv: " + oneUser
		return Command{Name: name, Arity: arity, Flags: FlagLoading | FlagStale, Handler: func(c *Conn, _ [][]byte) { c.WriteError(msg) }}
	}
	return []Command{
		{Name: "role", Arity: 1, Flags: FlagNoScript | FlagLoading | FlagStale | FlagFast, Handler: cmdRole},
		{Name: "lastsave", Arity: 1, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdLastSave},
		{Name: "acl", Arity: -2, Subcommands: []Command{
			{Name: "whoami", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLWhoAmI},
			{Name: "users", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLUsers},
			{Name: "list", Arity: 2, Flags: FlagAdmin | FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLList},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdACLHelp},
			aclRefuse("cat", -2),
			aclRefuse("setuser", -3),
			aclRefuse("deluser", -3),
			aclRefuse("getuser", 3),
			aclRefuse("genpass", -2),
			aclRefuse("log", -2),
			aclRefuse("load", 2),
			aclRefuse("save", 2),
			aclRefuse("dryrun", -4),
		}},
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

// cmdACLWhoAmI: ACL WHOAMI — the one user, default.
func cmdACLWhoAmI(c *Conn, _ [][]byte) { c.WriteBulkString("default") }

// cmdACLUsers: ACL USERS — the one user, default.
func cmdACLUsers(c *Conn, _ [][]byte) {
	c.WriteArray(1)
	c.WriteBulkString("default")
}

// cmdACLList: ACL LIST — the default user's line as Redis 7.0 renders
// it: every key, channel and command, with nopass or the SHA-256 of
// requirepass.
func cmdACLList(c *Conn, _ [][]byte) {
	pass := "nopass"
	if p := c.srv.cfg.RequirePass; p != "" {
		sum := sha256.Sum256([]byte(p))
		pass = "#" + hex.EncodeToString(sum[:])
	}
	c.WriteArray(1)
	c.WriteBulkString("user default on " + pass + " ~* &* +@all")
}

func cmdACLHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"LIST",
		"    Show users details in config file format.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
		"HELP",
		"    Prints this help.",
		"dynakv has one user, default (password: --requirepass); the other ACL subcommands are refused.",
	})
}
