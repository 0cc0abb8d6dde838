// Package script runs Redis's Lua scripts (EVAL, EVALSHA, SCRIPT) on
// gopher-lua (Lua 5.1) in Redis 7's sandbox, and keeps the script cache.
// It does no network I/O and knows nothing of the command table: a script's
// redis.call and redis.pcall go to the Caller of its Call, which runs the
// command and returns its reply as RESP bytes.
//
// # Sandbox
//
// A script sees Redis's globals only: KEYS, ARGV, redis (call, pcall,
// error_reply, status_reply, sha1hex, log and LOG_*, setresp,
// REDIS_VERSION, set_repl/replicate_commands as no-ops), cjson, cmsgpack, bit,
// string, table, math, coroutine and the safe base functions. os, io,
// loadstring, load, dofile, loadfile, require, module, print, getfenv and
// setfenv do not exist. Reading an undeclared global fails with "Script
// attempted to access nonexistent global variable 'x'"; setting any global
// or a field of a library table fails with "Attempt to modify a readonly
// table" (Redis 7's texts).
//
// # Conversions
//
// Both ways as Redis: a Lua number becomes an integer (truncated), a table
// with err or ok an error or status reply, false a null, a table an array
// up to its first nil; replies become numbers, strings, {ok=…}, {err=…},
// false for nulls, and with redis.setresp(3) RESP3's map, set, double,
// boolean, big number and null. Script errors become Redis's error replies
// ("… script: <sha>, on @user_script:<line>.").
//
// # Concurrency and invariants
//
// An Engine is safe for concurrent use: scripts of different connections
// run at once, each on its own pooled Lua state (a state serves one script
// at a time and is dropped after a killed one). The cache maps the SHA1 of
// a body to its compiled form; it holds at most Config.MaxScripts bodies
// and Config.MaxBytes bytes of them, the least recently used leaving
// first (a client then gets NOSCRIPT and resends the body with EVAL). A script that has run longer than
// the time limit makes Busy true until it ends; Kill cancels the context
// of every such script that has not called a write command (gopher-lua
// stops at its next instruction), and refuses with ErrUnkillable when the
// busy scripts have all written. The time limit is a threshold, never a
// deadline: a script is only stopped by Kill.
package script
