package resp

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dynakv/dynakv/acl"
	"github.com/dynakv/dynakv/peer"
	"github.com/dynakv/dynakv/pubsub"
)

// This file wires package acl into the server: the catalog of the
// command table, the ACL command, authentication (AUTH and HELLO AUTH
// call authenticate) and the permission check of the dispatcher
// (aclCheck). ACL users are per node (see the package documentation).

// aclState is the server's ACL state.
type aclState struct {
	users  *acl.Table
	log    *acl.Log
	logMax atomic.Int64 // acllog-max-len
	cat    cmdCatalog
	fileMu sync.Mutex // serializes ACL LOAD and ACL SAVE

	peerMu    sync.Mutex
	peerUsers map[string]*acl.User // DKV.ACL's users, by name and rules (peerUser)
}

// initACL creates the users (the default one from RequirePass, then the
// ACL file's, if any) and registers the ACL command; New calls it.
func (s *Server) initACL() {
	a := &s.acl
	a.cat.s = s
	a.users = acl.NewTable(&a.cat, s.cfg.RequirePass)
	a.logMax.Store(128)
	a.log = acl.NewLog(128)
	s.addParam(Param{Name: "acllog-max-len", Get: func() string { return strconv.FormatInt(a.logMax.Load(), 10) }, Set: func(v string) error {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return errNotParsed
		}
		if n < 0 || n > 1<<31-1 {
			return fmt.Errorf("argument must be between 0 and %d inclusive", 1<<31-1)
		}
		a.logMax.Store(n)
		a.log.SetMax(int(n))
		return nil
	}})
	s.addParam(Param{Name: "aclfile", Get: func() string { return s.cfg.ACLFile }})
	// requirepass is the default user's password, as in Redis: setting it
	// resets that user's passwords to it (or to nopass for ""); open
	// connections stay logged in.
	var requirePass atomic.Pointer[string]
	requirePass.Store(&s.cfg.RequirePass)
	s.addParam(Param{Name: "requirepass", Get: func() string { return *requirePass.Load() }, Set: func(v string) error {
		ops := []string{"nopass"}
		if v != "" {
			ops = []string{"resetpass", ">" + v}
		}
		if err := a.users.SetUser(acl.DefaultUser, ops...); err != nil {
			return err
		}
		requirePass.Store(&v)
		return nil
	}})
	admin := FlagAdmin | FlagNoScript | FlagLoading | FlagStale
	if err := s.Register(Command{Name: "acl", Arity: -2, Subcommands: []Command{
		{Name: "cat", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLCat},
		{Name: "deluser", Arity: -3, Flags: admin, Handler: cmdACLDelUser},
		{Name: "dryrun", Arity: -4, Flags: admin, Handler: cmdACLDryRun},
		{Name: "genpass", Arity: -2, Flags: FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLGenPass},
		{Name: "getuser", Arity: 3, Flags: admin, Handler: cmdACLGetUser},
		{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdACLHelp},
		{Name: "list", Arity: 2, Flags: admin, Handler: cmdACLList},
		{Name: "load", Arity: 2, Flags: admin, Handler: cmdACLLoad},
		{Name: "log", Arity: -2, Flags: admin, Handler: cmdACLLog},
		{Name: "save", Arity: 2, Flags: admin, Handler: cmdACLSave},
		{Name: "setuser", Arity: -3, Flags: admin, Handler: cmdACLSetUser},
		{Name: "users", Arity: 2, Flags: admin, Handler: cmdACLUsers},
		{Name: "whoami", Arity: 2, Flags: FlagNoScript | FlagLoading | FlagStale, Handler: cmdACLWhoAmI},
	}}, false); err != nil {
		panic(err) // a bug in the table
	}
}

// loadACLFile reads Config.ACLFile at start (the first Serve); an
// error, a missing file included, fails Serve, as it stops Redis.
func (s *Server) loadACLFile() error {
	if s.cfg.ACLFile == "" {
		return nil
	}
	_, err := s.loadACL() // no connection to close yet
	return err
}

// cmdCatalog is the command table as package acl sees it, built on first
// use (the table is fixed once Serve is called).
type cmdCatalog struct {
	s      *Server
	once   sync.Once
	byName map[string]acl.Command
	list   []acl.Command
}

func (k *cmdCatalog) build() {
	k.once.Do(func() {
		k.byName = map[string]acl.Command{}
		add := func(cmd *Command) {
			ac := aclCommandOf(cmd)
			k.byName[cmd.fullName] = ac
			k.list = append(k.list, ac)
		}
		for _, cmd := range k.s.cmds {
			add(cmd)
			for i := range cmd.Subcommands {
				add(&cmd.Subcommands[i])
			}
		}
		slices.SortFunc(k.list, func(a, b acl.Command) int { return strings.Compare(a.Name, b.Name) })
	})
}

// Lookup implements acl.Catalog.
func (k *cmdCatalog) Lookup(name string) (acl.Command, bool) {
	k.build()
	c, ok := k.byName[name]
	return c, ok
}

// Commands implements acl.Catalog.
func (k *cmdCatalog) Commands() []acl.Command {
	k.build()
	return k.list
}

// aclCommandOf returns what the ACL knows of cmd: Redis 7.0's categories
// and key access for a Redis command (redisACL), else derived ones.
func aclCommandOf(cmd *Command) acl.Command {
	ac := acl.Command{Name: cmd.fullName, Container: len(cmd.Subcommands) > 0, NoAuth: cmd.Flags&FlagNoAuth != 0}
	if r, ok := redisACL[cmd.fullName]; ok {
		ac.Categories = acl.ParseCategories(r.cats)
		ac.Access, _ = acl.ParseAccess(r.access)
		return ac
	}
	ac.Categories = derivedCategories(cmd)
	switch {
	case cmd.Flags&FlagWrite != 0:
		ac.Access = acl.AccessAll
	case cmd.Flags&FlagReadOnly != 0:
		ac.Access = acl.AccessRead
	}
	return ac
}

// derivedCategories gives a command Redis has not (VGET, VSET, CLUSTER
// extensions…) the categories Redis would derive from its flags and
// group: @write, @read, @admin and @dangerous, @pubsub, @fast or @slow,
// @blocking, and its group's (@string, @keyspace for generic…).
func derivedCategories(cmd *Command) acl.Categories {
	var c acl.Categories
	f := cmd.Flags
	if f&FlagWrite != 0 {
		c |= acl.Write
	}
	if f&FlagReadOnly != 0 {
		c |= acl.Read
	}
	if f&FlagAdmin != 0 {
		c |= acl.Admin | acl.Dangerous
	}
	if f&FlagPubSub != 0 {
		c |= acl.PubSub
	}
	if f&FlagFast != 0 {
		c |= acl.Fast
	} else {
		c |= acl.Slow
	}
	if f&FlagBlocking != 0 {
		c |= acl.Blocking
	}
	group := map[string]acl.Categories{
		"generic": acl.Keyspace, "string": acl.String, "hash": acl.Hash, "list": acl.List,
		"set": acl.Set, "sorted-set": acl.SortedSet, "hyperloglog": acl.HyperLogLog,
		"bitmap": acl.Bitmap, "geo": acl.Geo, "stream": acl.Stream, "pubsub": acl.PubSub,
		"connection": acl.Connection, "transactions": acl.Transaction, "scripting": acl.Scripting,
	}
	return c | group[cmd.Group]
}

// categoryNames returns COMMAND INFO's ACL categories of cmd: "@write",
// "@string"…, in Redis's order for a Redis command.
func categoryNames(cmd *Command) []string {
	var names []string
	if r, ok := redisACL[cmd.fullName]; ok {
		names = strings.Fields(r.cats)
	} else {
		names = derivedCategories(cmd).Names()
	}
	for i := range names {
		names[i] = "@" + names[i]
	}
	return names
}

// authenticate logs c in as user with pass (AUTH, HELLO AUTH), or logs
// the failure in ACL LOG and returns false.
func (c *Conn) authenticate(user, pass []byte) bool {
	u, err := c.srv.acl.users.Authenticate(string(user), pass)
	if err != nil {
		c.aclLog(acl.Denial{Reason: acl.ReasonAuth, Object: "AUTH"}, string(user), "toplevel")
		return false
	}
	c.user.Store(u)
	c.authed = true
	return true
}

// defaultAuthed reports whether a new (or RESET) connection is logged in
// as the default user without AUTH: it is on and nopass.
func (s *Server) defaultAuthed() bool {
	r := s.acl.users.Default().Rules()
	return r.On && r.NoPass
}

// userName is the name of c's user, as ACL WHOAMI and CLIENT LIST say it.
func (c *Conn) userName() string {
	if c.asUser != nil {
		return c.asUser.Name()
	}
	if u := c.user.Load(); u != nil {
		return u.Name()
	}
	return acl.DefaultUser
}

// aclCheck is the dispatcher's permission check of a resolved command:
// "" if c's user may run it with args, else the NOPERM reply, the denial
// logged. Peer connections are not checked: a command forwarded by
// another node was checked there, against its client's user.
func (c *Conn) aclCheck(cmd *Command, args [][]byte) string {
	d, ok := c.aclAllowed(cmd, args)
	if ok {
		return ""
	}
	if c.noBlock { // inside EXEC's block (runBlock): the rules changed since it was queued
		c.aclLog(d, c.userName(), "multi")
		return d.Exec()
	}
	c.aclLog(d, c.userName(), "toplevel")
	return d.Reply()
}

// aclAllowed checks cmd and args against c's user without logging.
func (c *Conn) aclAllowed(cmd *Command, args [][]byte) (acl.Denial, bool) {
	u := c.user.Load()
	if c.peer {
		u = c.asUser // a forwarded command's user (DKV.ACL), or none
	}
	if u == nil || cmd.Flags&FlagPeer != 0 { // DKV.DB, DKV.NOBLOCK… wrap a command checked on its own
		return acl.Denial{}, true
	}
	r := u.Rules()
	if r.Unrestricted() {
		return acl.Denial{}, true
	}
	return r.Check(c.srv.aclRequest(cmd, args))
}

// aclRequest describes a call of cmd for the check: its keys (from the
// command table's key positions, every key of a multi-key command) or,
// for the pub/sub commands, its channels (shard channels are channels,
// not keys, as in Redis).
func (s *Server) aclRequest(cmd *Command, args [][]byte) acl.Request {
	ac, _ := s.acl.cat.Lookup(cmd.fullName)
	r := acl.Request{Command: ac}
	if len(args) > 1 && cmd.fullName == cmd.Name {
		r.FirstArg = args[1]
	}
	switch cmd.fullName {
	case "publish", "spublish":
		r.Channels = args[1:2]
	case "subscribe", "ssubscribe":
		r.Channels = args[1:]
	case "psubscribe":
		r.Channels, r.ChannelPatterns = args[1:], true
	default:
		for _, p := range keyPositions(cmd, args) {
			r.Keys = append(r.Keys, args[p])
		}
	}
	return r
}

// aclLog records a denial in ACL LOG.
func (c *Conn) aclLog(d acl.Denial, user, ctx string) {
	now := time.Now()
	c.srv.acl.log.Add(acl.LogEntry{Reason: d.Reason, Context: ctx, Object: d.Object, Username: user, Time: now, ClientInfo: c.infoLine(now)})
}

// dropUsers closes the client connections authenticated as one of gone
// (deleted users), as Redis does; c itself after its reply.
func (c *Conn) dropUsers(gone []*acl.User) {
	if len(gone) == 0 {
		return
	}
	for _, cc := range c.srv.clientConns(c) {
		if u := cc.user.Load(); u != nil && slices.Contains(gone, u) {
			c.kill(cc)
		}
	}
}

// dropSubscribers closes the connections of u subscribed to a channel,
// pattern or shard channel its rules no longer allow, as Redis 7.0 does
// when a user's rules change (c itself after its reply).
func (c *Conn) dropSubscribers(u *acl.User) {
	r := u.Rules()
	if r.AllChannels() {
		return
	}
	reg := c.srv.pub.reg
	for _, cc := range c.srv.clientConns(c) {
		p := cc.push.Load()
		if p == nil || cc.user.Load() != u {
			continue
		}
	kinds:
		for _, k := range []pubsub.Kind{pubsub.Channel, pubsub.Pattern, pubsub.Shard} {
			for _, n := range reg.Names(p, k) {
				if !r.ChannelAllowed(n, k == pubsub.Pattern) {
					c.kill(cc)
					break kinds
				}
			}
		}
	}
}

func cmdACLSetUser(c *Conn, args [][]byte) {
	ops := make([]string, len(args)-3)
	for i, a := range args[3:] {
		ops[i] = string(a)
	}
	if err := c.srv.acl.users.SetUser(string(args[2]), ops...); err != nil {
		if errors.Is(err, acl.ErrBadUsername) {
			c.WriteError(err.Error())
			return
		}
		c.WriteError("ERR " + err.Error())
		return
	}
	c.dropSubscribers(c.srv.acl.users.User(string(args[2])))
	c.WriteOK()
}

func cmdACLDelUser(c *Conn, args [][]byte) {
	names := make([]string, len(args)-2)
	for i, a := range args[2:] {
		names[i] = string(a)
	}
	gone, err := c.srv.acl.users.DelUser(names...)
	if err != nil {
		c.WriteError(err.Error())
		return
	}
	c.dropUsers(gone)
	c.WriteInt(int64(len(gone)))
}

func cmdACLGetUser(c *Conn, args [][]byte) {
	u := c.srv.acl.users.User(string(args[2]))
	if u == nil {
		c.WriteNull()
		return
	}
	r := u.Rules()
	c.WriteMap(6)
	c.WriteBulkString("flags")
	flags := r.Flags()
	c.WriteArray(len(flags))
	for _, f := range flags {
		c.WriteBulkString(f)
	}
	c.WriteBulkString("passwords")
	pw := r.Passwords()
	c.WriteArray(len(pw))
	for _, p := range pw {
		c.WriteBulkString(p)
	}
	c.WriteBulkString("commands")
	c.WriteBulkString(r.CommandRules())
	c.WriteBulkString("keys")
	c.WriteBulkString(r.KeyRules())
	c.WriteBulkString("channels")
	c.WriteBulkString(r.ChannelRules())
	c.WriteBulkString("selectors")
	c.WriteArray(0)
}

func cmdACLUsers(c *Conn, _ [][]byte) {
	names := c.srv.acl.users.Names()
	c.WriteArray(len(names))
	for _, n := range names {
		c.WriteBulkString(n)
	}
}

// cmdACLList: ACL LIST — each user as an ACL file line.
func cmdACLList(c *Conn, _ [][]byte) {
	users := c.srv.acl.users.Users()
	c.WriteArray(len(users))
	for _, u := range users {
		c.WriteBulkString("user " + u.Name() + " " + u.Rules().Describe())
	}
}

func cmdACLWhoAmI(c *Conn, _ [][]byte) { c.WriteBulkString(c.userName()) }

// cmdACLCat: ACL CAT — the categories; ACL CAT category — the commands
// (and subcommands, as "config|get") in it, sorted.
func cmdACLCat(c *Conn, args [][]byte) {
	if len(args) == 2 {
		names := acl.CategoryNames()
		c.WriteArray(len(names))
		for _, n := range names {
			c.WriteBulkString(n)
		}
		return
	}
	if len(args) > 3 {
		c.WriteError(aclArgsError(args[1]))
		return
	}
	cat, ok := acl.ParseCategory(string(args[2]))
	if !ok {
		c.WriteError("ERR Unknown category '" + cstr(args[2], 1<<20) + "'")
		return
	}
	var names []string
	for _, ac := range c.srv.acl.cat.Commands() {
		if ac.Categories&cat != 0 && !c.srv.hiddenCommand(ac.Name) {
			names = append(names, ac.Name)
		}
	}
	c.WriteArray(len(names))
	for _, n := range names {
		c.WriteBulkString(n)
	}
}

// hiddenCommand reports whether the full name is an internal command's.
func (s *Server) hiddenCommand(name string) bool {
	base, sub, ok := strings.Cut(name, "|")
	cmd := s.cmds[base]
	if cmd == nil {
		return true
	}
	if ok && cmd.subs[sub] != nil {
		return cmd.hidden || cmd.subs[sub].hidden
	}
	return cmd.hidden
}

// cmdACLDryRun: ACL DRYRUN user command [arg…] — +OK, or the reason the
// user may not run it, as a bulk string.
func cmdACLDryRun(c *Conn, args [][]byte) {
	u := c.srv.acl.users.User(string(args[2]))
	if u == nil {
		c.WriteError("ERR User '" + cstr(args[2], 1<<20) + "' not found")
		return
	}
	call := args[3:]
	cmd := lookup(c.srv.cmds, call[0])
	if cmd != nil && cmd.subs != nil && len(call) > 1 {
		cmd = lookup(cmd.subs, call[1])
	}
	if cmd == nil || cmd.hidden {
		c.WriteError("ERR Command '" + cstr(call[0], 1<<20) + "' not found")
		return
	}
	if n := len(call); cmd.Arity > 0 && n != cmd.Arity || n < -cmd.Arity || cmd.Handler == nil {
		c.WriteError("ERR wrong number of arguments for '" + cmd.fullName + "' command")
		return
	}
	if d, ok := u.Rules().Check(c.srv.aclRequest(cmd, call)); !ok {
		c.WriteBulkString(d.DryRun())
		return
	}
	c.WriteOK()
}

func cmdACLGenPass(c *Conn, args [][]byte) {
	bits := int64(256)
	if len(args) > 3 {
		c.WriteError(aclArgsError(args[1]))
		return
	}
	if len(args) == 3 {
		n, ok := parseStrictInt(args[2])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		bits = n
	}
	if bits <= 0 || bits > 4096 {
		c.WriteError("ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096")
		return
	}
	c.WriteBulkString(acl.GenPass(int(bits)))
}

// cmdACLLog: ACL LOG [count | RESET].
func cmdACLLog(c *Conn, args [][]byte) {
	n := int64(10)
	if len(args) > 3 {
		c.WriteError(aclArgsError(args[1]))
		return
	}
	if len(args) == 3 {
		if strings.EqualFold(string(args[2]), "reset") {
			c.srv.acl.log.Reset()
			c.WriteOK()
			return
		}
		v, ok := parseStrictInt(args[2])
		if !ok {
			c.WriteError(msgNotInt)
			return
		}
		n = max(v, 0)
	}
	if n > 1<<31 {
		n = 1 << 31
	}
	entries := c.srv.acl.log.Entries(int(n))
	now := time.Now()
	c.WriteArray(len(entries))
	for _, e := range entries {
		c.WriteMap(7)
		c.WriteBulkString("count")
		c.WriteInt(int64(e.Count))
		c.WriteBulkString("reason")
		c.WriteBulkString(string(e.Reason))
		c.WriteBulkString("context")
		c.WriteBulkString(e.Context)
		c.WriteBulkString("object")
		c.WriteBulkString(e.Object)
		c.WriteBulkString("username")
		c.WriteBulkString(e.Username)
		c.WriteBulkString("age-seconds")
		c.WriteDouble(float64(now.Sub(e.Time).Milliseconds()) / 1000)
		c.WriteBulkString("client-info")
		c.WriteBulkString(e.ClientInfo)
	}
}

// aclArgsError is Redis's reply to an ACL subcommand (as the client
// spelled it) given too many arguments.
func aclArgsError(sub []byte) string {
	return "ERR unknown subcommand or wrong number of arguments for '" + cstr(sub, 128) + "'. Try ACL HELP."
}

func cmdACLHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"CAT [<category>]",
		"    List all commands that belong to <category>, or all command categories",
		"    when no category is specified.",
		"DELUSER <username> [<username> ...]",
		"    Delete a list of users.",
		"DRYRUN <username> <command> [<arg> ...]",
		"    Returns whether the user can execute the given command without executing the command.",
		"GETUSER <username>",
		"    Get the user's details.",
		"GENPASS [<bits>]",
		"    Generate a secure 256-bit user password. The optional `bits` argument can",
		"    be used to specify a different size.",
		"LIST",
		"    Show users details in config file format.",
		"LOAD",
		"    Reload users from the ACL file.",
		"LOG [<count> | RESET]",
		"    Show the ACL log entries.",
		"SAVE",
		"    Save the current config to the ACL file.",
		"SETUSER <username> <attribute> [<attribute> ...]",
		"    Create or modify a user with the specified attributes.",
		"USERS",
		"    List all the registered usernames.",
		"WHOAMI",
		"    Return the current connection username.",
	})
}

// aclIdentity returns the DKV.ACL prefix of a command c forwards to
// another node: nil for a peer connection or a user without
// restrictions (the other node then runs it unchecked), else DKV.ACL,
// the user's name and its rules, so that node checks what the command
// runs there (a script's redis.call, an EXEC block's commands) as this
// node would.
func (c *Conn) aclIdentity() [][]byte {
	u := c.user.Load()
	if c.peer || u == nil {
		return nil
	}
	r := u.Rules()
	if r.Unrestricted() {
		return nil
	}
	return [][]byte{[]byte(peer.CmdACL), []byte(u.Name()), []byte(r.Describe())}
}

// cmdPeerACL is DKV.ACL username rules command [arg ...]: the command,
// forwarded by another node, run as a user with those rules (checked at
// exec, in scripts and in EXEC blocks), without a user of this node's.
func cmdPeerACL(c *Conn, args [][]byte) {
	u, err := c.srv.acl.peerUser(string(args[1]), string(args[2]))
	if err != nil {
		c.WriteError("ERR " + err.Error())
		return
	}
	saved := c.asUser
	c.asUser = u
	defer func() { c.asUser = saved }()
	c.exec(args[3:])
}

// peerUsersMax bounds the cache of the users of DKV.ACL.
const peerUsersMax = 256

// peerUser returns a user named name with the given rules, parsed once
// and cached (at most peerUsersMax, then the cache starts over): the
// identity of the commands other nodes forward for a client.
func (a *aclState) peerUser(name, rules string) (*acl.User, error) {
	key := name + "\x00" + rules
	a.peerMu.Lock()
	defer a.peerMu.Unlock()
	if u := a.peerUsers[key]; u != nil {
		return u, nil
	}
	u, err := acl.NewUser(&a.cat, name, strings.Fields(rules)...)
	if err != nil {
		return nil, err
	}
	if len(a.peerUsers) >= peerUsersMax || a.peerUsers == nil {
		a.peerUsers = map[string]*acl.User{}
	}
	a.peerUsers[key] = u
	return u, nil
}

// redactSecrets replaces, in args as the slow log keeps them, the
// arguments that may carry passwords with "(redacted)", as Redis 7.0
// does: every argument of ACL SETUSER after the subcommand, and
// requirepass's value in CONFIG SET.
func redactSecrets(cmd *Command, args []string) {
	switch cmd.fullName {
	case "acl|setuser":
		for i := 2; i < len(args); i++ {
			args[i] = "(redacted)"
		}
	case "config|set":
		for i := 2; i+1 < len(args); i += 2 {
			if strings.EqualFold(args[i], "requirepass") {
				args[i+1] = "(redacted)"
			}
		}
	}
}
