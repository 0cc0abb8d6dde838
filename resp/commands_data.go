package resp

// dataCommands is the table of the data commands, by Redis command group:
// name, arity, flags, key positions (first, last, step: what COMMAND INFO
// reports and cluster clients route by) and COMMAND DOCS's group, version
// and summary, all as Redis 7 reports them (7.4 for the hash-field expiry
// commands); handlers in cmd_string.go, cmd_hash.go, cmd_set.go,
// cmd_keyspace.go, cmd_bits.go, cmd_hll.go, cmd_sort.go, cmd_streams.go
// and cmd_dynamo.go.
func dataCommands() []Command {
	return []Command{
		// Strings.
		{Name: "get", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Get the value of a key", Handler: cmdGet},
		{Name: "set", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Set the string value of a key", Handler: cmdSet},
		{Name: "setnx", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Set the value of a key, only if the key does not exist", Handler: cmdSetNX},
		{Name: "setex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.0.0", Summary: "Set the value and expiration of a key", Handler: cmdSetEX},
		{Name: "psetex", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.6.0", Summary: "Set the value and expiration in milliseconds of a key", Handler: cmdPSetEX},
		{Name: "getset", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Set the string value of a key and return its old value", Handler: cmdGetSet},
		{Name: "getdel", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "6.2.0", Summary: "Get the value of a key and delete the key", Handler: cmdGetDel},
		{Name: "getex", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "6.2.0", Summary: "Get the value of a key and optionally set its expiration", Handler: cmdGetEx},
		{Name: "mget", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Get the values of all the given keys", Handler: cmdMGet},
		{Name: "mset", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 2, Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values", Handler: cmdMSet},
		{Name: "msetnx", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 2, Group: "string", Since: "1.0.1", Summary: "Set multiple keys to multiple values, only if none of the keys exist", noSplit: true, Handler: cmdMSetNX},
		{Name: "incr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by one", Handler: cmdIncr},
		{Name: "incrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Increment the integer value of a key by the given amount", Handler: cmdIncrBy},
		{Name: "decr", Arity: 2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by one", Handler: cmdDecr},
		{Name: "decrby", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Decrement the integer value of a key by the given number", Handler: cmdDecrBy},
		{Name: "incrbyfloat", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.6.0", Summary: "Increment the float value of a key by the given amount", Handler: cmdIncrByFloat},
		{Name: "append", Arity: 3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.0.0", Summary: "Append a value to a key", Handler: cmdAppend},
		{Name: "strlen", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.2.0", Summary: "Get the length of the value stored in a key", Handler: cmdStrLen},
		{Name: "getrange", Arity: 4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.4.0", Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange},
		{Name: "setrange", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "2.2.0", Summary: "Overwrite part of a string at key starting at the specified offset", Handler: cmdSetRange},
		{Name: "substr", Arity: 4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "string", Since: "1.0.0", Summary: "Get a substring of the string stored at a key", Handler: cmdGetRange},
		// Bitmaps (cmd_bits.go).
		{Name: "setbit", Arity: 4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "2.2.0", Summary: "Sets or clears the bit at offset in the string value stored at key", Handler: cmdSetBit},
		{Name: "getbit", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "2.2.0", Summary: "Returns the bit value at offset in the string value stored at key", Handler: cmdGetBit},
		{Name: "bitcount", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "2.6.0", Summary: "Count set bits in a string", Handler: cmdBitCount},
		{Name: "bitpos", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "2.8.7", Summary: "Find first bit set or clear in a string", Handler: cmdBitPos},
		{Name: "bitop", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: -1, KeyStep: 1, Group: "bitmap", Since: "2.6.0", Summary: "Perform bitwise operations between strings", Handler: cmdBitOp, noSplit: true},
		{Name: "bitfield", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "3.2.0", Summary: "Perform arbitrary bitfield integer operations on strings", Handler: cmdBitfield},
		{Name: "bitfield_ro", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "bitmap", Since: "6.0.0", Summary: "Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD", Handler: cmdBitfieldRO},

		// SORT (cmd_sort.go).
		{Name: "sort", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagMovableKeys, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Sort the elements in a list, set or sorted set", Handler: cmdSort, movableKeys: sortKeys, noSplit: true},
		{Name: "sort_ro", Arity: -2, Flags: FlagReadOnly | FlagMovableKeys, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "7.0.0", Summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.", Handler: cmdSortRO},

		// HyperLogLog (cmd_hll.go).
		{Name: "pfadd", Arity: -2, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hyperloglog", Since: "2.8.9", Summary: "Adds the specified elements to the specified HyperLogLog.", Handler: cmdPFAdd},
		{Name: "pfcount", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "hyperloglog", Since: "2.8.9", Summary: "Return the approximated cardinality of the set(s) observed by the HyperLogLog at key(s).", Handler: cmdPFCount},
		{Name: "pfmerge", Arity: -2, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "hyperloglog", Since: "2.8.9", Summary: "Merge N different HyperLogLogs into a single one.", Handler: cmdPFMerge, noSplit: true},
		{Name: "lcs", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 2, KeyStep: 1, Group: "string", Since: "7.0.0", Summary: "Find longest common substring", Handler: cmdLCS},

		// Keys (generic).
		{Name: "del", Arity: -2, Flags: FlagWrite, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Delete a key", Handler: cmdDel},
		{Name: "unlink", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "generic", Since: "4.0.0", Summary: "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.", Handler: cmdDel},
		{Name: "exists", Arity: -2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Determine if a key exists", Handler: cmdExists},
		{Name: "expire", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Set a key's time to live in seconds", Handler: expireCmd(1000, false)},
		{Name: "pexpire", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.6.0", Summary: "Set a key's time to live in milliseconds", Handler: expireCmd(1, false)},
		{Name: "expireat", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.2.0", Summary: "Set the expiration for a key as a UNIX timestamp", Handler: expireCmd(1000, true)},
		{Name: "pexpireat", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.6.0", Summary: "Set the expiration for a key as a UNIX timestamp specified in milliseconds", Handler: expireCmd(1, true)},
		{Name: "ttl", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Get the time to live for a key in seconds", Handler: ttlCmd(ttlSeconds)},
		{Name: "pttl", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.6.0", Summary: "Get the time to live for a key in milliseconds", Handler: ttlCmd(ttlMillis)},
		{Name: "expiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key", Handler: ttlCmd(expireTimeSeconds)},
		{Name: "pexpiretime", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "7.0.0", Summary: "Get the expiration Unix timestamp for a key in milliseconds", Handler: ttlCmd(expireTimeMillis)},
		{Name: "persist", Arity: 2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "2.2.0", Summary: "Remove the expiration from a key", Handler: cmdPersist},
		{Name: "type", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "generic", Since: "1.0.0", Summary: "Determine the type stored at key", Handler: cmdType},
		{Name: "scan", Arity: -2, Flags: FlagReadOnly, Group: "generic", Since: "2.8.0", Summary: "Incrementally iterate the keys space", Handler: cmdScan},
		{Name: "keys", Arity: 2, Flags: FlagReadOnly, Group: "generic", Since: "1.0.0", Summary: "Find all keys matching the given pattern", Handler: cmdKeys},
		{Name: "dbsize", Arity: 1, Flags: FlagReadOnly | FlagFast, Group: "server", Since: "1.0.0", Summary: "Return the number of keys in the selected database", Handler: cmdDBSize},
		{Name: "object", Arity: -2, Group: "generic", Since: "2.2.3", Summary: "A container for object introspection commands", Subcommands: []Command{
			{Name: "encoding", Arity: 3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "generic", Since: "2.2.3", Summary: "Inspect the internal encoding of a Redis object", Handler: cmdObjectEncoding},
			{Name: "freq", Arity: 3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "generic", Since: "4.0.0", Summary: "Get the logarithmic access frequency counter of a Redis object", Handler: cmdObjectFreq},
			{Name: "idletime", Arity: 3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "generic", Since: "2.2.3", Summary: "Get the time since a Redis object was last accessed", Handler: cmdObjectIdletime},
			{Name: "refcount", Arity: 3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "generic", Since: "2.2.3", Summary: "Get the number of references to the value of the key", Handler: cmdObjectRefcount},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "generic", Since: "6.2.0", Summary: "Show helpful text about the different subcommands", Handler: cmdObjectHelp},
		}},

		// Hashes.
		{Name: "hset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Set the string value of a hash field", Handler: cmdHSet},
		{Name: "hsetnx", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Set the value of a hash field, only if the field does not exist", Handler: cmdHSetNX},
		{Name: "hmset", Arity: -4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Set multiple hash fields to multiple values", Handler: cmdHMSet},
		{Name: "hget", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get the value of a hash field", Handler: cmdHGet},
		{Name: "hmget", Arity: -3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get the values of all the given hash fields", Handler: cmdHMGet},
		{Name: "hgetall", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get all the fields and values in a hash", Handler: hashAll(true, true)},
		{Name: "hdel", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Delete one or more hash fields", Handler: cmdHDel},
		{Name: "hexists", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Determine if a hash field exists", Handler: cmdHExists},
		{Name: "hlen", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get the number of fields in a hash", Handler: cmdHLen},
		{Name: "hkeys", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get all the fields in a hash", Handler: hashAll(true, false)},
		{Name: "hvals", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Get all the values in a hash", Handler: hashAll(false, true)},
		{Name: "hstrlen", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "3.2.0", Summary: "Get the length of the value of a hash field", Handler: cmdHStrLen},
		{Name: "hincrby", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.0.0", Summary: "Increment the integer value of a hash field by the given number", Handler: cmdHIncrBy},
		{Name: "hincrbyfloat", Arity: 4, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.6.0", Summary: "Increment the float value of a hash field by the given amount", Handler: cmdHIncrByFloat},
		{Name: "hrandfield", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "6.2.0", Summary: "Get one or multiple random fields from a hash", Handler: cmdHRandField},
		{Name: "hscan", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "2.8.0", Summary: "Incrementally iterate hash fields and associated values", Handler: cmdHScan},
		{Name: "hexpire", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Set expiry for hash field using relative time to expire (seconds)", Handler: hexpireCmd(1000, false)},
		{Name: "hpexpire", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Set expiry for hash field using relative time to expire (milliseconds)", Handler: hexpireCmd(1, false)},
		{Name: "hexpireat", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Set expiry for hash field using an absolute Unix timestamp (seconds)", Handler: hexpireCmd(1000, true)},
		{Name: "hpexpireat", Arity: -6, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Set expiry for hash field using an absolute Unix timestamp (milliseconds)", Handler: hexpireCmd(1, true)},
		{Name: "httl", Arity: -5, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Returns the TTL in seconds of a hash field.", Handler: httlCmd(ttlSeconds)},
		{Name: "hpttl", Arity: -5, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Returns the TTL in milliseconds of a hash field.", Handler: httlCmd(ttlMillis)},
		{Name: "hexpiretime", Arity: -5, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Returns the expiration time of a hash field as a Unix timestamp, in seconds.", Handler: httlCmd(expireTimeSeconds)},
		{Name: "hpexpiretime", Arity: -5, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Returns the expiration time of a hash field as a Unix timestamp, in msec.", Handler: httlCmd(expireTimeMillis)},
		{Name: "hpersist", Arity: -5, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "hash", Since: "7.4.0", Summary: "Removes the expiration time for each specified field", Handler: cmdHPersist},

		// Sets.
		{Name: "sadd", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Add one or more members to a set", Handler: cmdSAdd},
		{Name: "srem", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Remove one or more members from a set", Handler: cmdSRem},
		{Name: "smembers", Arity: 2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Get all the members in a set", Handler: cmdSMembers},
		{Name: "sismember", Arity: 3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Determine if a given value is a member of a set", Handler: cmdSIsMember},
		{Name: "smismember", Arity: -3, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "6.2.0", Summary: "Returns the membership associated with the given elements for a set", Handler: cmdSMIsMember},
		{Name: "scard", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Get the number of members in a set", Handler: cmdSCard},
		{Name: "spop", Arity: -2, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Remove and return one or multiple random members from a set", Handler: cmdSPop},
		{Name: "srandmember", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Get one or multiple random members from a set", Handler: cmdSRandMember},
		{Name: "smove", Arity: 4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 2, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Move a member from one set to another", Handler: cmdSMove},
		{Name: "sscan", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "set", Since: "2.8.0", Summary: "Incrementally iterate Set elements", Handler: cmdSScan},
		{Name: "sinter", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Intersect multiple sets", Handler: setOpCmd(opInter)},
		{Name: "sintercard", Arity: -3, Flags: FlagReadOnly | FlagMovableKeys, Group: "set", Since: "7.0.0", Summary: "Intersect multiple sets and return the cardinality of the result", Handler: cmdSInterCard, movableKeys: numKeys(1)},
		{Name: "sunion", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Add multiple sets", Handler: setOpCmd(opUnion)},
		{Name: "sdiff", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Subtract multiple sets", Handler: setOpCmd(opDiff)},
		{Name: "sinterstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Intersect multiple sets and store the resulting set in a key", noSplit: true, Handler: setStoreCmd(opInter)},
		{Name: "sunionstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Add multiple sets and store the resulting set in a key", noSplit: true, Handler: setStoreCmd(opUnion)},
		{Name: "sdiffstore", Arity: -3, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: -1, KeyStep: 1, Group: "set", Since: "1.0.0", Summary: "Subtract multiple sets and store the resulting set in a key", noSplit: true, Handler: setStoreCmd(opDiff)},

		// Streams: not supported, every command refused (cmd_streams.go).
		{Name: "xack", Arity: -4, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Marks a pending message as correctly processed, effectively removing it from the pending entries list of the consumer group. Return value of the command is the number of messages successfully acknowledged, that is, the IDs we were actually able to resolve in the PEL.", Handler: cmdNoStreams},
		{Name: "xadd", Arity: -5, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Appends a new entry to a stream", Handler: cmdNoStreams},
		{Name: "xautoclaim", Arity: -6, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "6.2.0", Summary: "Changes (or acquires) ownership of messages in a consumer group, as if the messages were delivered to the specified consumer.", Handler: cmdNoStreams},
		{Name: "xclaim", Arity: -6, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Changes (or acquires) ownership of a message in a consumer group, as if the message was delivered to the specified consumer.", Handler: cmdNoStreams},
		{Name: "xdel", Arity: -3, Flags: FlagWrite | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Removes the specified entries from the stream. Returns the number of items actually deleted, that may be different from the number of IDs passed in case certain IDs do not exist.", Handler: cmdNoStreams},
		{Name: "xgroup", Arity: -2, Group: "stream", Since: "5.0.0", Summary: "A container for consumer groups commands", Subcommands: []Command{
			{Name: "create", Arity: -5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Create a consumer group.", Handler: cmdNoStreams},
			{Name: "createconsumer", Arity: 5, Flags: FlagWrite | FlagDenyOOM, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "6.2.0", Summary: "Create a consumer in a consumer group.", Handler: cmdNoStreams},
			{Name: "delconsumer", Arity: 5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Delete a consumer from a consumer group.", Handler: cmdNoStreams},
			{Name: "destroy", Arity: 4, Flags: FlagWrite, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Destroy a consumer group.", Handler: cmdNoStreams},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "stream", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdNoStreams},
			{Name: "setid", Arity: -5, Flags: FlagWrite, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Set a consumer group to an arbitrary last delivered ID value.", Handler: cmdNoStreams},
		}},
		{Name: "xinfo", Arity: -2, Group: "stream", Since: "5.0.0", Summary: "A container for stream introspection commands", Subcommands: []Command{
			{Name: "consumers", Arity: 4, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "List the consumers in a consumer group", Handler: cmdNoStreams},
			{Name: "groups", Arity: 3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "List the consumer groups of a stream", Handler: cmdNoStreams},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Group: "stream", Since: "5.0.0", Summary: "Show helpful text about the different subcommands", Handler: cmdNoStreams},
			{Name: "stream", Arity: -3, Flags: FlagReadOnly, FirstKey: 2, LastKey: 2, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Get information about a stream", Handler: cmdNoStreams},
		}},
		{Name: "xlen", Arity: 2, Flags: FlagReadOnly | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Return the number of entries in a stream", Handler: cmdNoStreams},
		{Name: "xpending", Arity: -3, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Return information and entries from a stream consumer group pending entries list, that are messages fetched but never acknowledged.", Handler: cmdNoStreams},
		{Name: "xrange", Arity: -4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval", Handler: cmdNoStreams},
		{Name: "xread", Arity: -4, Flags: FlagReadOnly | FlagBlocking | FlagMovableKeys, Group: "stream", Since: "5.0.0", Summary: "Return never seen elements in multiple streams, with IDs greater than the ones reported by the caller for each stream. Can block.", Handler: cmdNoStreams, movableKeys: streamKeys},
		{Name: "xreadgroup", Arity: -7, Flags: FlagWrite | FlagBlocking | FlagMovableKeys, Group: "stream", Since: "5.0.0", Summary: "Return new entries from a stream using a consumer group, or access the history of the pending entries for a given consumer. Can block.", Handler: cmdNoStreams, movableKeys: streamKeys},
		{Name: "xrevrange", Arity: -4, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Return a range of elements in a stream, with IDs matching the specified IDs interval, in reverse order (from greater to smaller IDs) compared to XRANGE", Handler: cmdNoStreams},
		{Name: "xsetid", Arity: -3, Flags: FlagWrite | FlagDenyOOM | FlagFast, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "An internal command for replicating stream values", Handler: cmdNoStreams},
		{Name: "xtrim", Arity: -4, Flags: FlagWrite, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "stream", Since: "5.0.0", Summary: "Trims the stream to (approximately if '~' is passed) a certain size", Handler: cmdNoStreams},

		// Dynamo extensions: versions and contexts.
		{Name: "vget", Arity: -2, Flags: FlagReadOnly, FirstKey: 1, LastKey: 1, KeyStep: 1, Group: "dynamo", Since: "0.1.0", Summary: "Get a key's context token and all its live versions", Handler: cmdVGet},
		{Name: "vset", Arity: -4, Flags: FlagWrite | FlagDenyOOM, FirstKey: 1, LastKey: 1, KeyStep: 1, TokenArg: 2, Group: "dynamo", Since: "0.1.0", Summary: "Write a version superseding what a context token covers", Handler: cmdVSet},
		{Name: "vdel", Arity: -3, Flags: FlagWrite, FirstKey: 1, LastKey: 1, KeyStep: 1, TokenArg: 2, Group: "dynamo", Since: "0.1.0", Summary: "Delete the versions a context token covers", Handler: cmdVDel},
	}
}
