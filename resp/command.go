package resp

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Flag describes a command, for COMMAND INFO and for the dispatcher.
type Flag uint32

// Command flags, named as Redis's COMMAND INFO names them.
const (
	FlagWrite    Flag = 1 << iota // "write": may modify data
	FlagReadOnly                  // "readonly": only reads data
	FlagDenyOOM                   // "denyoom": may grow memory
	FlagAdmin                     // "admin": administrative
	FlagPubSub                    // "pubsub"
	FlagNoScript                  // "noscript"
	FlagBlocking                  // "blocking"
	FlagLoading                   // "loading": allowed while loading
	FlagStale                     // "stale": allowed on a stale replica
	FlagFast                      // "fast": O(1) or O(log N)
	FlagNoAuth                    // "no_auth": allowed before AUTH
	// FlagPeer marks an internal node-to-node command: on a connection
	// that has not presented the cluster secret (DKV.AUTH) the dispatcher
	// refuses it with "-NOPERM this command is reserved for cluster peers",
	// and COMMAND (COUNT, LIST, INFO, DOCS, GETKEYS) does not show it.
	FlagPeer
	// FlagMovableKeys ("movablekeys"): the key positions depend on the
	// arguments (SINTERCARD's numkeys), so FirstKey, LastKey and KeyStep
	// are 0, as Redis reports them.
	FlagMovableKeys
)

var flagNames = []string{"write", "readonly", "denyoom", "admin", "pubsub", "noscript", "blocking", "loading", "stale", "fast", "no_auth", "peer", "movablekeys"}

// Names returns the flags' names, in Redis's spelling.
func (f Flag) Names() []string {
	var out []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// HandlerFunc executes one command. args[0] is the command name as the
// client sent it (args[1] the subcommand for a container's subcommand);
// the dispatcher has checked the arity and authentication. It must write
// exactly one reply to c. The argument slices are never reused by the
// server, so they may be kept (by the backend, say).
type HandlerFunc func(c *Conn, args [][]byte)

// Command is an entry of the command table.
type Command struct {
	// Name is the command's name, lower case ("get"); subcommands are named
	// alone ("setname"), and their full name is "client|setname".
	Name string
	// Arity is Redis's: n > 0 takes exactly n arguments (the name
	// included), n < 0 at least -n.
	Arity int
	// Flags describe the command.
	Flags Flag
	// FirstKey, LastKey and KeyStep locate the key arguments, as in COMMAND
	// INFO: positions of the first and last key (-1 is the last argument),
	// and the step between keys; all 0 for no keys.
	FirstKey, LastKey, KeyStep int
	// TokenArg is the position of a causal context token whose named
	// replica should coordinate the write (VSET, VDEL; Dynamo §6.4); 0 for
	// none.
	TokenArg int
	// Group, Since and Summary are COMMAND DOCS's "group" (Redis's command
	// group: "string", "hash", "set", "generic"…), "since" (the Redis
	// version that introduced it) and "summary"; empty for none.
	Group, Since, Summary string
	// Handler runs the command. A container (Subcommands set) calls it only
	// when invoked without a subcommand, and may leave it nil.
	Handler HandlerFunc
	// Subcommands make a container command (CLIENT, COMMAND): the second
	// argument names the subcommand to run.
	Subcommands []Command

	fullName string
	subs     map[string]*Command
	hidden   bool // not a client command: left out of COMMAND's replies
	// noSplit: a write over several keys (FirstKey 1, LastKey -1) that must
	// run as one command (MSETNX, SINTERSTORE…): CROSSSLOT when its keys go
	// different ways, never split per key as DEL and MSET are.
	noSplit bool
	// movableKeys returns the key positions of a call of a FlagMovableKeys
	// command (SINTERCARD numkeys key…), for COMMAND GETKEYS and routing.
	movableKeys func(args [][]byte) []int
	// forward, if set, rewrites a write before routeWrite forwards it to
	// another node (EVALSHA goes as EVAL with the body).
	forward func(c *Conn, args [][]byte) [][]byte
	// longForward: a forward of this write waits for its reply as long as
	// it runs on the other node (a script, an EXEC block), not the
	// request timeout of an ordinary forward (see forwardContext).
	longForward bool
	// concurrent: a plain single-key data command, which may run
	// concurrently with its connection's pipelined commands of other keys
	// (isConcurrent, pipeline.go); set when registered.
	concurrent bool
}

// FullName returns the name Redis reports in errors and COMMAND INFO:
// "get", or "client|setname" for a subcommand.
func (c *Command) FullName() string { return c.fullName }

func (c *Command) prepare(parent string) error {
	if c.Name == "" || c.Name != strings.ToLower(c.Name) || strings.ContainsAny(c.Name, " |\r\n") {
		return fmt.Errorf("%w: bad name %q", ErrCommand, c.Name)
	}
	c.fullName = c.Name
	c.hidden = c.hidden || c.Flags&FlagPeer != 0
	if parent != "" {
		c.fullName = parent + "|" + c.Name
	}
	if c.Arity == 0 {
		return fmt.Errorf("%w: %s has arity 0", ErrCommand, c.fullName)
	}
	if len(c.Subcommands) == 0 {
		if c.Handler == nil {
			return fmt.Errorf("%w: %s has no handler", ErrCommand, c.fullName)
		}
		return nil
	}
	if parent != "" {
		return fmt.Errorf("%w: %s: subcommands of subcommands", ErrCommand, c.fullName)
	}
	c.Subcommands = slices.Clone(c.Subcommands)
	c.subs = make(map[string]*Command, len(c.Subcommands))
	for i := range c.Subcommands {
		sc := &c.Subcommands[i]
		if err := sc.prepare(c.Name); err != nil {
			return err
		}
		if c.subs[sc.Name] != nil {
			return fmt.Errorf("%w: duplicate %s", ErrCommand, sc.fullName)
		}
		c.subs[sc.Name] = sc
	}
	return nil
}

// Register adds a command to the table (or replaces the built-in one of
// that name when replace is true). It must be called before Serve.
func (s *Server) Register(cmd Command, replace bool) error {
	return s.register(cmd, replace, false)
}

// register is Register, with hidden for internal commands that COMMAND
// does not show.
func (s *Server) register(cmd Command, replace, hidden bool) error {
	if s.serving.Load() {
		return ErrServing
	}
	cmd.hidden = hidden
	if err := cmd.prepare(""); err != nil {
		return err
	}
	if _, ok := s.cmds[cmd.Name]; ok && !replace {
		return fmt.Errorf("%w: %s already registered", ErrCommand, cmd.Name)
	}
	cmd.concurrent = isConcurrent(&cmd)
	s.cmds[cmd.Name] = &cmd
	return nil
}

// Commands returns the client commands of the table, sorted by name:
// internal commands (FlagPeer, DKV.AUTH) are left out, as COMMAND leaves
// them out.
func (s *Server) Commands() []*Command {
	out := make([]*Command, 0, len(s.cmds))
	for _, c := range s.cmds {
		if !c.hidden {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *Command) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// lookup finds a command by its case-insensitive name.
func lookup(m map[string]*Command, name []byte) *Command {
	var buf [32]byte
	if len(name) > len(buf) {
		return m[strings.ToLower(string(name))]
	}
	low := buf[:len(name)]
	for i, ch := range name {
		if 'A' <= ch && ch <= 'Z' {
			ch += 'a' - 'A'
		}
		low[i] = ch
	}
	return m[string(low)]
}

// exec dispatches one command: lookup, arity, authentication, peer
// permission (resolve), MULTI's queue (queueTx), then the handler, or, for
// a write in a cluster outside a unit, the routing that runs it here or
// forwards it (routeWrite). It does not recover panics (serve does), so
// fuzzing sees them.
func (c *Conn) exec(args [][]byte) {
	defer c.observe(c.begin(), args) // INFO commandstats, SLOWLOG, CLIENT REPLY… (callstats.go)
	s := c.srv
	cmd, msg := c.resolve(args)
	if msg == "" {
		msg = c.aclCheck(cmd, args) // ACL permissions (acl.go)
	}
	// observe counts a refused command's rejected_calls against it.
	c.adm.resolved = cmd
	if msg == "" && c.overMaxMemory(cmd, args) { // maxmemory (maxmemory.go)
		msg = msgOOM
	}
	if c.queueTx(cmd, msg, args) { // MULTI's queue (cmd_tx.go)
		return
	}
	if msg != "" {
		c.WriteError(msg)
		return
	}
	if c.scriptBusy(cmd) {
		return
	}
	if c.push.Load() != nil && !c.allowedSubscribed(cmd) {
		return
	}
	c.lastCmd.Store(cmd)
	c.adm.dispatched = cmd
	s.waitPause(c, cmd) // CLIENT PAUSE
	c.lastActive.Store(time.Now().UnixNano())
	if c.peer {
		s.stats.peerCommands.Add(1) // not a client's: INFO's dynakv_peer_commands_processed
	} else {
		s.stats.commands.Add(1)
	}
	if s.pub.nmon.Load() > 0 {
		c.feedMonitors(cmd, args)
	}
	if s.cfg.Cluster != nil && cmd.Flags&FlagWrite != 0 && c.unitCtx == nil {
		c.routeWrite(cmd, args)
		return
	}
	cmd.Handler(c, args)
}

// resolve finds the command args call and checks, in Redis's order, that
// it exists, its arity, authentication and peer permission: it returns
// the command (nil if unknown, or an unknown subcommand) and the error
// reply ("" if it may run).
func (c *Conn) resolve(args [][]byte) (*Command, string) {
	cmd := lookup(c.srv.cmds, args[0])
	if cmd == nil {
		return nil, unknownCommand(args)
	}
	if cmd.subs != nil && len(args) > 1 {
		sub := lookup(cmd.subs, args[1])
		if sub == nil {
			return nil, fmt.Sprintf("ERR unknown subcommand '%s'. Try %s HELP.", cstr(args[1], 128), strings.ToUpper(cmd.Name))
		}
		cmd = sub
	}
	if n := len(args); cmd.Arity > 0 && n != cmd.Arity || n < -cmd.Arity || cmd.Handler == nil {
		return cmd, "ERR wrong number of arguments for '" + cmd.fullName + "' command"
	}
	if !c.authed && cmd.Flags&FlagNoAuth == 0 {
		return cmd, msgNoAuth
	}
	if !c.peer && cmd.Flags&FlagPeer != 0 {
		return cmd, msgNoPerm
	}
	return cmd, ""
}

// unknownCommand is Redis's reply to an unknown command: the name and the
// first arguments, quoted, 128 bytes at most each part.
func unknownCommand(args [][]byte) string {
	var b strings.Builder
	b.WriteString("ERR unknown command '")
	b.WriteString(cstr(args[0], 128))
	b.WriteString("', with args beginning with: ")
	n := 0
	for _, a := range args[1:] {
		if n >= 128 {
			break
		}
		s := cstr(a, 128-n)
		b.WriteString("'" + s + "' ")
		n += len(s) + 3
	}
	return b.String()
}

// cstr renders b as C's "%.Ns" would: cut at a NUL byte and at n bytes.
func cstr(b []byte, n int) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	if len(b) > n {
		b = b[:n]
	}
	return string(b)
}
