package resp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dynakv/dynakv/ring"
	"github.com/dynakv/dynakv/script"
)

// Script replies, Redis's texts.
const (
	msgNoScript     = "NOSCRIPT No matching script. Please use EVAL."
	msgBusy         = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
	msgNotBusy      = "NOTBUSY No scripts in execution right now."
	msgUnkillable   = "UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."
	msgNegKeys      = "ERR Number of keys can't be negative"
	msgTooManyKeys  = "ERR Number of keys can't be greater than number of args"
	msgScriptUnkCmd = "-ERR Unknown Redis command called from script\r\n"
	msgScriptArgs   = "-ERR Wrong number of args calling Redis command from script\r\n"
	msgScriptDenied = "-ERR This Redis command is not allowed from script\r\n"
	msgScriptRO     = "-ERR Write commands are not allowed from read-only scripts.\r\n"
	msgScriptRemote = "-ERR Script attempted to access a non local key in a cluster node script\r\n"
)

// CONFIG SET's reasons for refusing a time limit, Redis's texts.
var (
	errNotInteger = errors.New("argument couldn't be parsed into an integer")
	errNotInRange = errors.New("argument must be between 0 and 9223372036854775807 inclusive")
)

// scriptPeerTimeout bounds each node-to-node call of SCRIPT LOAD, FLUSH
// and KILL (their copies to every other live node).
const scriptPeerTimeout = 5 * time.Second

// noScript are the commands a script may not call besides those flagged
// FlagNoScript (Redis 7's "noscript" commands): transactions, Pub/Sub,
// scripting itself, and the connection's state.
var noScript = map[string]bool{
	"multi": true, "exec": true, "discard": true, "watch": true, "unwatch": true,
	"subscribe": true, "unsubscribe": true, "psubscribe": true, "punsubscribe": true,
	"ssubscribe": true, "sunsubscribe": true, "monitor": true, "reset": true,
	"eval": true, "eval_ro": true, "evalsha": true, "evalsha_ro": true, "script": true,
	"fcall": true, "fcall_ro": true, "function": true, "hello": true, "auth": true,
	"quit": true, "wait": true, "sync": true, "psync": true, "replconf": true,
	"client": true, "debug": true, "shutdown": true, "config": true, "acl": true,
	"save": true, "bgsave": true, "bgrewriteaof": true, "replicaof": true, "slaveof": true,
	"failover": true, "latency": true,
}

// allowBusy are the commands other clients may still run while a script
// is busy (Redis 7's "allow_busy" commands).
var allowBusy = map[string]bool{
	"auth": true, "hello": true, "quit": true, "reset": true, "multi": true,
	"discard": true, "watch": true, "unwatch": true, "script|kill": true,
	"shutdown": true, "dkv.auth": true,
}

func scriptCommands() []Command {
	evalFlags := FlagWrite | FlagNoScript | FlagStale | FlagMovableKeys
	roFlags := FlagReadOnly | FlagNoScript | FlagStale | FlagMovableKeys
	return []Command{
		{Name: "eval", Arity: -3, Flags: evalFlags, Group: "scripting", Since: "2.6.0", Summary: "Execute a Lua script server side", Handler: cmdEval, movableKeys: numKeys(2), noSplit: true, forward: forwardEval, longForward: true},
		{Name: "evalsha", Arity: -3, Flags: evalFlags, Group: "scripting", Since: "2.6.0", Summary: "Execute a Lua script server side", Handler: cmdEval, movableKeys: numKeys(2), noSplit: true, forward: forwardEval, longForward: true},
		{Name: "eval_ro", Arity: -3, Flags: roFlags, Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Handler: cmdEval, movableKeys: numKeys(2)},
		{Name: "evalsha_ro", Arity: -3, Flags: roFlags, Group: "scripting", Since: "7.0.0", Summary: "Execute a read-only Lua script server side", Handler: cmdEval, movableKeys: numKeys(2)},
		{Name: "script", Arity: -2, Subcommands: []Command{
			{Name: "load", Arity: 3, Flags: FlagNoScript | FlagStale, Handler: cmdScriptLoad},
			{Name: "exists", Arity: -3, Flags: FlagNoScript, Handler: cmdScriptExists},
			{Name: "flush", Arity: -2, Flags: FlagNoScript, Handler: cmdScriptFlush},
			{Name: "kill", Arity: 2, Flags: FlagNoScript, Handler: cmdScriptKill},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdScriptHelp},
		}},
	}
}

// initScripts builds the server's script engine and registers the
// scripting commands and their CONFIG parameters: lua-time-limit and its
// Redis 7 name busy-reply-threshold (milliseconds). New calls it.
func (s *Server) initScripts() {
	for _, cmd := range scriptCommands() {
		if err := s.Register(cmd, false); err != nil {
			panic(err) // a bug in the scripting table
		}
	}
	s.scripts = script.New(script.Config{
		Log: func(level int, msg string) {
			lv := []slog.Level{slog.LevelDebug, slog.LevelDebug, slog.LevelInfo, slog.LevelWarn}[level]
			s.log.Log(context.Background(), lv, "script: "+msg)
		},
	})
	for _, name := range []string{"lua-time-limit", "busy-reply-threshold"} {
		s.addParam(Param{
			Name: name,
			Get:  func() string { return strconv.FormatInt(s.scripts.TimeLimit().Milliseconds(), 10) },
			Set: func(v string) error {
				n, ok := parseStrictInt([]byte(v))
				switch {
				case !ok:
					return errNotInteger
				case n < 0 || n > int64(time.Duration(1<<63-1)/time.Millisecond):
					return errNotInRange
				}
				s.scripts.SetTimeLimit(time.Duration(n) * time.Millisecond)
				return nil
			},
		})
	}
}

// scriptBusy answers BUSY for a command of another client while a script
// has run past the time limit, and reports whether it did. Node-to-node
// operations (FlagPeer) always run.
func (c *Conn) scriptBusy(cmd *Command) bool {
	if cmd.Flags&FlagPeer != 0 || allowBusy[cmd.fullName] || !c.srv.scripts.Busy() {
		return false
	}
	c.WriteError(msgBusy)
	return true
}

// cmdEval is EVAL, EVALSHA, EVAL_RO and EVALSHA_RO script|sha numkeys
// [key …] [arg …]. In a cluster every key must be in one slot; the write
// forms arrive here on that slot's coordinator (routeWrite), and a script
// without keys runs on the node it was sent to. The whole script runs as
// one unit under the keys' locks.
func cmdEval(c *Conn, args [][]byte) {
	name := strings.ToLower(string(args[0]))
	ro := strings.HasSuffix(name, "_ro")
	// NB: Redis 7.0 looks an EVALSHA's script up before it parses
	// numkeys: an unknown SHA1 is NOSCRIPT whatever numkeys says.
	body := args[1]
	if strings.HasPrefix(name, "evalsha") {
		var ok bool
		if body, ok = c.srv.scripts.Lookup(string(args[1])); !ok {
			c.WriteError(msgNoScript)
			return
		}
	}
	n, ok := parseStrictInt(args[2])
	switch {
	case !ok:
		c.WriteError(msgNotInt)
		return
	case n < 0:
		c.WriteError(msgNegKeys)
		return
	case n > int64(len(args)-3):
		c.WriteError(msgTooManyKeys)
		return
	}
	keys, argv := args[3:3+n], args[3+n:]
	slot := noSlot
	if c.multiNode() {
		slot = -1 // no keys: the node it was sent to
		if len(keys) > 0 {
			slot = int(ring.Slot(keys[0]))
		}
		for _, k := range keys {
			if int(ring.Slot(k)) != slot {
				c.WriteError(msgCrossSlot)
				return
			}
		}
	}
	// A SELECT inside the script changes its own database only, as in
	// Redis: the caller's is restored when it ends.
	defer c.setDB(c.db)
	c.runUnit(keys, func() {
		c.WriteRaw(c.srv.scripts.Run(c.srv.ctx, script.Call{
			Body:  body,
			Keys:  keys,
			Args:  argv,
			Proto: c.proto,
			Do:    c.scriptCaller(slot, ro),
		}))
	})
}

// noSlot is the script slot of a lone node: every key is local.
const noSlot = -2

// multiNode reports whether this node is in a cluster of several nodes,
// where a script's keys must share a slot. A lone node (a cluster of one)
// runs scripts over any keys, as a Redis without cluster mode does.
func (c *Conn) multiNode() bool {
	cl := c.srv.cfg.Cluster
	return cl != nil && len(cl.Nodes()) > 1
}

// scriptCaller returns how a script's redis.call runs a command: through
// the command table on this connection, without routing again. It refuses
// what Redis refuses from scripts, writes from read-only scripts, and in a
// cluster a key outside the script's slot (or, for a script without keys,
// a write this node does not coordinate).
func (c *Conn) scriptCaller(slot int, ro bool) script.Caller {
	return func(args [][]byte, proto int) ([]byte, bool) {
		cmd, rep, write, d := c.scriptCall(slot, ro, args, proto)
		if cmd != nil { // INFO commandstats and latencystats (callstats.go)
			c.observeScriptCall(cmd, rep, d)
		}
		return rep, write
	}
}

// scriptCall runs one redis.call or redis.pcall for scriptCaller: it
// returns the command resolved (nil if unknown), its raw reply (or the
// refusal's error), whether it is a write and how long it ran (-1: it
// was refused and did not run).
func (c *Conn) scriptCall(slot int, ro bool, args [][]byte, proto int) (cmd *Command, rep []byte, write bool, d time.Duration) {
	cmd = lookup(c.srv.cmds, args[0])
	if cmd == nil || cmd.Flags&FlagPeer != 0 {
		return nil, []byte(msgScriptUnkCmd), false, -1
	}
	if noScript[cmd.Name] || cmd.Flags&FlagNoScript != 0 {
		if cmd.subs != nil && len(args) > 1 { // counted as the subcommand, as Redis
			if sub := lookup(cmd.subs, args[1]); sub != nil {
				cmd = sub
			}
		}
		return cmd, []byte(msgScriptDenied), false, -1
	}
	if cmd.subs != nil && len(args) > 1 {
		sub := lookup(cmd.subs, args[1])
		if sub == nil {
			return nil, appendError(nil, fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", cstr(args[1], 128), strings.ToUpper(cmd.Name))), false, -1
		}
		cmd = sub
	}
	if n := len(args); cmd.Arity > 0 && n != cmd.Arity || n < -cmd.Arity || cmd.Handler == nil {
		return cmd, []byte(msgScriptArgs), false, -1
	}
	if cmd.Flags&FlagNoScript != 0 {
		return cmd, []byte(msgScriptDenied), false, -1
	}
	if d, ok := c.aclAllowed(cmd, args); !ok { // ACL (acl.go)
		c.aclLog(d, c.userName(), "lua")
		return cmd, appendError(nil, d.Script()), false, -1
	}
	write = cmd.Flags&FlagWrite != 0
	if ro && write {
		return cmd, []byte(msgScriptRO), false, -1
	}
	if cl := c.srv.cfg.Cluster; cl != nil && slot != noSlot {
		route := cl.Route
		if c.peer {
			route = cl.RoutePeer
		}
		for _, p := range keyPositions(cmd, args) {
			if slot >= 0 && int(ring.Slot(args[p])) != slot {
				return cmd, []byte(msgScriptRemote), false, -1
			}
			if _, local := route(args[p]); slot < 0 && write && !local {
				return cmd, []byte(msgScriptRemote), false, -1
			}
		}
	}
	old := c.proto
	c.setProto(proto)
	defer c.setProto(old)
	start := time.Now()
	r := c.capture(func() { c.scriptHandle(cmd, args) })
	return cmd, r.raw, write, time.Since(start)
}

// scriptHandle runs a script's command, turning a panic of its handler
// into "-ERR internal error" (logged, as serve does) so that the script
// and the connection go on.
func (c *Conn) scriptHandle(cmd *Command, args [][]byte) {
	mark := len(c.out)
	defer func() {
		if r := recover(); r != nil {
			c.srv.log.Error("resp: panic in command handler called from a script", "command", cstr(args[0], 64), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			c.out = appendError(c.out[:mark], msgInternal)
		}
	}()
	cmd.Handler(c, args)
}

// setProto changes the connection's protocol (under mu, for CLIENT LIST).
func (c *Conn) setProto(p int) {
	c.mu.Lock()
	c.proto = p
	c.mu.Unlock()
}

// forwardEval prepares EVAL and EVALSHA for forwarding to the keys'
// coordinator: an EVALSHA whose body this node has goes as EVAL with the
// body (so a script loaded through any node runs), and an EVAL's body is
// cached here too.
func forwardEval(c *Conn, args [][]byte) [][]byte {
	name := strings.ToLower(string(args[0]))
	if !strings.HasPrefix(name, "evalsha") {
		_, _ = c.srv.scripts.Load(args[1]) // a body that does not compile fails there too
		return args
	}
	body, ok := c.srv.scripts.Lookup(string(args[1]))
	if !ok {
		return args
	}
	out := make([][]byte, len(args))
	copy(out, args)
	out[0] = []byte("EVAL" + strings.ToUpper(name[len("evalsha"):]))
	out[1] = body
	return out
}

// cmdScriptLoad: SCRIPT LOAD script → its SHA1; the body is also sent to
// every other live node, best effort, so EVALSHA works through any node.
func cmdScriptLoad(c *Conn, args [][]byte) {
	sha, err := c.srv.scripts.Load(args[2])
	var ce *script.CompileError
	if errors.As(err, &ce) {
		c.WriteError("ERR Error compiling script (new function): " + ce.Msg)
		return
	}
	c.WriteBulkString(sha)
	if !c.peer {
		go c.srv.toOtherNodes([][]byte{[]byte("SCRIPT"), []byte("LOAD"), bytes.Clone(args[2])})
	}
}

// toOtherNodes sends args (a SCRIPT subcommand) to every other live node
// of the cluster at once, each call bounded by scriptPeerTimeout, and
// returns their raw replies, nil for a node that could not be reached
// (logged). The other nodes run it on a peer connection, so they do not
// send it on.
func (s *Server) toOtherNodes(args [][]byte) [][]byte {
	cl := s.cfg.Cluster
	if cl == nil {
		return nil
	}
	me := cl.MyID()
	var ids []string
	for _, n := range cl.Nodes() {
		if n.ID != me && !n.Myself && n.Alive {
			ids = append(ids, n.ID)
		}
	}
	reps := make([][]byte, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(s.ctx, scriptPeerTimeout)
			defer cancel()
			rep, err := cl.Forward(ctx, id, 2, args)
			if err != nil {
				s.log.Debug("resp: script command not sent to another node", "command", cstr(args[1], 16), "node", id, "error", err)
				return
			}
			reps[i] = rep
		})
	}
	wg.Wait()
	return reps
}

// cmdScriptExists: SCRIPT EXISTS sha [sha …] → 1 or 0 for each.
func cmdScriptExists(c *Conn, args [][]byte) {
	c.WriteArray(len(args) - 2)
	for _, sha := range args[2:] {
		if c.srv.scripts.Exists(string(sha)) {
			c.WriteInt(1)
		} else {
			c.WriteInt(0)
		}
	}
}

// cmdScriptFlush: SCRIPT FLUSH [ASYNC|SYNC] empties this node's cache
// and, as SCRIPT LOAD fills every node's, every other live node's (best
// effort: a node not reached keeps its cache). It replies once the other
// nodes have answered, so a SCRIPT LOAD sent after it is not undone by
// it.
func cmdScriptFlush(c *Conn, args [][]byte) {
	if len(args) > 3 || len(args) == 3 && !strings.EqualFold(string(args[2]), "sync") && !strings.EqualFold(string(args[2]), "async") {
		c.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option")
		return
	}
	c.srv.scripts.Flush()
	if !c.peer {
		c.srv.toOtherNodes(args)
	}
	c.WriteOK()
}

// cmdScriptKill: SCRIPT KILL stops the busy scripts that have not
// written, on this node and (from a client) on every other live node,
// since a script runs on its keys' coordinator or, without keys, where it
// was sent: OK if some node killed a script, else UNKILLABLE if some
// node runs only busy scripts that have written, else NOTBUSY.
func cmdScriptKill(c *Conn, args [][]byte) {
	killed, unkillable := false, false
	switch err := c.srv.scripts.Kill(); {
	case err == nil:
		killed = true
	case errors.Is(err, script.ErrUnkillable):
		unkillable = true
	}
	if !c.peer {
		for _, rep := range c.srv.toOtherNodes(args) {
			killed = killed || bytes.Equal(rep, []byte("+OK\r\n"))
			unkillable = unkillable || errorCode(rep) == "UNKILLABLE"
		}
	}
	switch {
	case killed:
		c.WriteOK()
	case unkillable:
		c.WriteError(msgUnkillable)
	default:
		c.WriteError(msgNotBusy)
	}
}

var scriptHelp = []string{
	"SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"EXISTS <sha1> [<sha1> ...]",
	"    Return information about the existence of the scripts in the script cache.",
	"FLUSH [ASYNC|SYNC]",
	"    Flush the Lua scripts cache. Very dangerous on replicas.",
	"    When called without the optional mode argument, the behavior is determined by the",
	"    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
	"    * ASYNC: Asynchronously flush the scripts cache.",
	"    * SYNC: Synchronously flush the scripts cache.",
	"KILL",
	"    Kill the currently executing Lua script.",
	"LOAD <script>",
	"    Load a script into the scripts cache without executing it.",
	"HELP",
	"    Prints this help.",
}

func cmdScriptHelp(c *Conn, _ [][]byte) {
	c.WriteArray(len(scriptHelp))
	for _, l := range scriptHelp {
		c.WriteSimple(l)
	}
}
