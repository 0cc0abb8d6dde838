package resp

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// builtinCommands is the command table a new Server starts with.
func (s *Server) builtinCommands() []Command {
	return append([]Command{
		// Connection and server.
		{Name: "ping", Arity: -1, Flags: FlagFast, Handler: cmdPing},
		{Name: "echo", Arity: 2, Flags: FlagFast, Handler: cmdEcho},
		{Name: "hello", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagLoading | FlagStale, Handler: cmdHello},
		{Name: "auth", Arity: -2, Flags: FlagNoAuth | FlagFast | FlagLoading | FlagStale, Handler: cmdAuth},
		{Name: "quit", Arity: -1, Flags: FlagNoAuth | FlagFast | FlagLoading | FlagStale, Handler: cmdQuit},
		{Name: "select", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdSelect},
		{Name: "info", Arity: -1, Flags: FlagLoading | FlagStale, Handler: cmdInfo},
		{Name: "client", Arity: -2, Subcommands: []Command{
			{Name: "id", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdClientID},
			{Name: "getname", Arity: 2, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdClientGetName},
			{Name: "setname", Arity: 3, Flags: FlagLoading | FlagStale | FlagFast, Handler: cmdClientSetName},
			{Name: "setinfo", Arity: 4, Flags: FlagLoading | FlagStale | FlagFast, Group: "connection", Since: "7.2.0", Summary: "Set client or connection specific info", Handler: cmdClientSetInfo},
			{Name: "info", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdClientInfo},
			{Name: "list", Arity: -2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientList},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdClientHelp},
			{Name: "kill", Arity: -3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientKill},
			{Name: "no-evict", Arity: 3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientNoEvict},
			{Name: "no-touch", Arity: 3, Flags: FlagLoading | FlagStale | FlagFast, Group: "connection", Since: "7.2.0", Summary: "Controls whether commands sent by the client will alter the LRU/LFU of the keys they access", Handler: cmdClientNoTouch},
			{Name: "pause", Arity: -3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientPause},
			{Name: "unpause", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientUnpause},
			{Name: "reply", Arity: 3, Flags: FlagLoading | FlagStale, Handler: cmdClientReply},
			{Name: "tracking", Arity: -3, Flags: FlagLoading | FlagStale, Handler: cmdClientTracking},
			{Name: "getredir", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdClientGetRedir},
			{Name: "unblock", Arity: -3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdClientUnblock},
		}},
		configCommand(),
		{Name: "command", Arity: -1, Flags: FlagLoading | FlagStale, Handler: cmdCommand, Subcommands: []Command{
			{Name: "count", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdCommandCount},
			{Name: "info", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandInfo},
			{Name: "docs", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandDocs},
			{Name: "list", Arity: -2, Flags: FlagLoading | FlagStale, Handler: cmdCommandList},
			{Name: "getkeys", Arity: -4, Flags: FlagLoading | FlagStale, Handler: cmdCommandGetKeys},
			{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdCommandHelp},
		}},
	}, append(append(append(append(append(dataCommands(), keyspaceCommands()...), dbCommands()...), clusterCommands()...), txCommands()...), pubsubCommands()...)...)
}

func cmdPing(c *Conn, args [][]byte) {
	if c.subscribedRESP2() && len(args) <= 2 { // Redis's subscribed-mode PING: ["pong", arg or ""]
		c.WriteArray(2)
		c.WriteBulkString("pong")
		if len(args) == 2 {
			c.WriteBulk(args[1])
		} else {
			c.WriteBulkString("")
		}
		return
	}
	switch len(args) {
	case 1:
		c.WriteSimple("PONG")
	case 2:
		c.WriteBulk(args[1])
	default:
		c.WriteError("ERR wrong number of arguments for 'ping' command")
	}
}

func cmdEcho(c *Conn, args [][]byte) { c.WriteBulk(args[1]) }

func cmdQuit(c *Conn, _ [][]byte) {
	c.WriteOK()
	c.quit = true
}

// cmdAuth: AUTH [username] password — logs the connection in as an ACL
// user (acl.go); the one-argument form names the default user, and is
// refused while that user is nopass, as Redis refuses it.
func cmdAuth(c *Conn, args [][]byte) {
	s := c.srv
	user := []byte("default")
	switch len(args) {
	case 2:
		if s.acl.users.Default().Rules().NoPass {
			c.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")
			return
		}
	case 3:
		user = args[1]
	default:
		c.WriteError(msgSyntax)
		return
	}
	if !c.authenticate(user, args[len(args)-1]) {
		c.WriteError(msgWrongPass)
		return
	}
	c.WriteOK()
}

func validName(b []byte) bool {
	for _, ch := range b {
		if ch < '!' || ch > '~' {
			return false
		}
	}
	return true
}

func cmdHello(c *Conn, args [][]byte) {
	s := c.srv
	ver := int64(0)
	i := 1
	if len(args) >= 2 {
		v, ok := parseStrictInt(args[1])
		if !ok {
			c.WriteError("ERR Protocol version is not an integer or out of range")
			return
		}
		if v < 2 || v > 3 {
			c.WriteError("NOPROTO unsupported protocol version")
			return
		}
		ver = v
		i = 2
	}
	var user, pass, name []byte
	for ; i < len(args); i++ {
		more := len(args) - 1 - i
		switch opt := strings.ToLower(string(args[i])); {
		case opt == "auth" && more >= 2:
			user, pass = args[i+1], args[i+2]
			i += 2
		case opt == "setname" && more >= 1:
			name = args[i+1]
			if !validName(name) {
				c.WriteError(msgBadClientName)
				return
			}
			i++
		default:
			c.WriteError("ERR Syntax error in HELLO option '" + cstr(args[i], 1<<20) + "'")
			return
		}
	}
	if pass != nil && !c.authenticate(user, pass) {
		c.WriteError(msgWrongPass)
		return
	}
	if !c.authed {
		c.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time")
		return
	}
	c.mu.Lock()
	if name != nil {
		c.name = string(name)
	}
	if ver != 0 {
		c.proto = int(ver)
	}
	c.mu.Unlock()
	c.WriteMap(7)
	c.WriteBulkString("server")
	c.WriteBulkString("redis")
	c.WriteBulkString("version")
	c.WriteBulkString(s.cfg.Version)
	c.WriteBulkString("proto")
	c.WriteInt(int64(c.proto))
	c.WriteBulkString("id")
	c.WriteInt(c.id)
	c.WriteBulkString("mode")
	c.WriteBulkString(s.cfg.Mode)
	c.WriteBulkString("role")
	c.WriteBulkString("master")
	c.WriteBulkString("modules")
	c.WriteArray(0)
}

// CLIENT

func cmdClientID(c *Conn, _ [][]byte) { c.WriteInt(c.id) }

func cmdClientGetName(c *Conn, _ [][]byte) {
	if name := c.Name(); name != "" {
		c.WriteBulkString(name)
	} else {
		c.WriteNull()
	}
}

func cmdClientSetName(c *Conn, args [][]byte) {
	if !validName(args[2]) {
		c.WriteError(msgBadClientName)
		return
	}
	c.mu.Lock()
	c.name = string(args[2])
	c.mu.Unlock()
	c.WriteOK()
}

func cmdClientSetInfo(c *Conn, args [][]byte) {
	attr := strings.ToLower(string(args[2]))
	if attr != "lib-name" && attr != "lib-ver" {
		c.WriteError("ERR Unrecognized option '" + cstr(args[2], 128) + "'")
		return
	}
	if !validName(args[3]) {
		c.WriteError("ERR " + attr + " cannot contain spaces, newlines or special characters.")
		return
	}
	c.mu.Lock()
	if attr == "lib-name" {
		c.libName = string(args[3])
	} else {
		c.libVer = string(args[3])
	}
	c.mu.Unlock()
	c.WriteOK()
}

// infoLine is the connection's line of CLIENT LIST / CLIENT INFO (with
// the fields Redis 7 shows; those about memory and buffers are zero).
func (c *Conn) infoLine(now time.Time) string {
	c.mu.Lock()
	name, libName, libVer, proto, db := c.name, c.libName, c.libVer, c.proto, c.db
	c.mu.Unlock()
	flags := c.clientFlags()
	cmd := "NULL"
	if lc := c.lastCmd.Load(); lc != nil {
		cmd = lc.fullName
	}
	idle := now.Sub(time.Unix(0, c.lastActive.Load()))
	sub, psub, ssub := c.pubsubCounts()
	return fmt.Sprintf("id=%d addr=%s laddr=%s fd=-1 name=%s age=%d idle=%d flags=%s db=%d sub=%d psub=%d ssub=%d multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=%s user=%s redir=-1 resp=%d lib-name=%s lib-ver=%s",
		c.id, c.addr, c.laddr, name, int64(now.Sub(c.created)/time.Second), int64(idle/time.Second), flags, db, sub, psub, ssub, cmd, c.userName(), proto, libName, libVer)
}

func cmdClientInfo(c *Conn, _ [][]byte) { c.WriteVerbatim(c.infoLine(time.Now()) + "\n") }

func cmdClientList(c *Conn, args [][]byte) {
	var ids map[int64]bool
	for i := 2; i < len(args); i++ {
		switch strings.ToLower(string(args[i])) {
		case "type":
			if i+1 >= len(args) {
				c.WriteError(msgSyntax)
				return
			}
			t := strings.ToLower(string(args[i+1]))
			if t != "normal" && t != "master" && t != "replica" && t != "slave" && t != "pubsub" {
				c.WriteError("ERR Unknown client type '" + cstr(args[i+1], 128) + "'")
				return
			}
			if t != "normal" {
				ids = map[int64]bool{} // no such clients here
			}
			i++
		case "id":
			if i+1 >= len(args) {
				c.WriteError(msgSyntax)
				return
			}
			if ids == nil {
				ids = map[int64]bool{}
			}
			for i++; i < len(args); i++ {
				id, ok := parseStrictInt(args[i])
				if !ok || id <= 0 {
					c.WriteError("ERR Invalid client ID")
					return
				}
				ids[id] = true
			}
		default:
			c.WriteError(msgSyntax)
			return
		}
	}
	now := time.Now()
	var b strings.Builder
	for _, cc := range c.srv.clientConns(c) { // peer connections are not clients
		if ids != nil && !ids[cc.id] {
			continue
		}
		b.WriteString(cc.infoLine(now))
		b.WriteByte('\n')
	}
	c.WriteVerbatim(b.String())
}

func writeHelp(c *Conn, lines []string) {
	c.WriteArray(len(lines))
	for _, l := range lines {
		c.WriteSimple(l)
	}
}

func cmdClientHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GETNAME",
		"    Return the name of the current connection.",
		"ID",
		"    Return the ID of the current connection.",
		"INFO",
		"    Return information about the current client connection.",
		"LIST [options ...]",
		"    Return information about client connections. Options:",
		"    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
		"      Return clients of specified type.",
		"    * ID <client-id> [<client-id> ...]",
		"      Return clients of specified IDs only.",
		"SETNAME <name>",
		"    Assign the name <name> to the current connection.",
		"SETINFO <option> <value>",
		"    Set client meta attr. Options are:",
		"    * LIB-NAME: the client lib name.",
		"    * LIB-VER: the client lib version.",
		"HELP",
		"    Print this help.",
	})
}

// COMMAND

func writeCommandInfo(c *Conn, cmd *Command) {
	c.WriteArray(10)
	c.WriteBulkString(cmd.fullName)
	c.WriteInt(int64(cmd.Arity))
	flags := cmd.Flags.Names()
	c.WriteSet(len(flags))
	for _, f := range flags {
		c.WriteSimple(f)
	}
	c.WriteInt(int64(cmd.FirstKey))
	c.WriteInt(int64(cmd.LastKey))
	c.WriteInt(int64(cmd.KeyStep))
	cats := categoryNames(cmd)
	c.WriteSet(len(cats))
	for _, cat := range cats {
		c.WriteSimple(cat)
	}
	c.WriteArray(0) // tips
	c.WriteArray(0) // key specifications
	subs := make([]*Command, 0, len(cmd.Subcommands))
	for i := range cmd.Subcommands {
		if !cmd.Subcommands[i].hidden {
			subs = append(subs, &cmd.Subcommands[i])
		}
	}
	c.WriteArray(len(subs))
	for _, sc := range subs {
		writeCommandInfo(c, sc)
	}
}

func cmdCommand(c *Conn, _ [][]byte) {
	cmds := c.srv.Commands()
	c.WriteArray(len(cmds))
	for _, cmd := range cmds {
		writeCommandInfo(c, cmd)
	}
}

func cmdCommandCount(c *Conn, _ [][]byte) { c.WriteInt(int64(len(c.srv.Commands()))) }

func cmdCommandInfo(c *Conn, args [][]byte) {
	if len(args) == 2 {
		cmdCommand(c, args)
		return
	}
	c.WriteArray(len(args) - 2)
	for _, name := range args[2:] {
		if cmd := c.srv.lookupFull(name); cmd != nil {
			writeCommandInfo(c, cmd)
		} else {
			c.WriteNull()
		}
	}
}

// lookupFull finds a client command or, by "container|sub", a
// subcommand; internal (hidden) commands are not found.
func (s *Server) lookupFull(name []byte) *Command {
	parent, sub, ok := strings.Cut(string(name), "|")
	cmd := lookup(s.cmds, []byte(parent))
	if cmd == nil || cmd.hidden {
		return nil
	}
	if ok {
		cmd = lookup(cmd.subs, []byte(sub))
	}
	if cmd != nil && cmd.hidden {
		return nil
	}
	return cmd
}

// cmdCommandDocs is COMMAND DOCS [name …]: per command (all of them
// without names; unknown names are left out, as Redis does) a map of its
// summary, since, group and, for a container, its subcommands' docs.
func cmdCommandDocs(c *Conn, args [][]byte) {
	var cmds []*Command
	if len(args) == 2 {
		cmds = c.srv.Commands()
	} else {
		for _, name := range args[2:] {
			if cmd := c.srv.lookupFull(name); cmd != nil {
				cmds = append(cmds, cmd)
			}
		}
	}
	c.WriteMap(len(cmds))
	for _, cmd := range cmds {
		c.WriteBulkString(cmd.fullName)
		writeCommandDocs(c, cmd, "")
	}
}

// writeCommandDocs writes cmd's docs; a subcommand without a group of
// its own takes its container's (redis-cli's HELP @group needs one).
func writeCommandDocs(c *Conn, cmd *Command, parentGroup string) {
	type kv struct{ k, v string }
	// What the table leaves empty comes from Redis's own docs
	// (commanddocs.go), with the arguments redis-cli's HELP shows.
	doc := redisDocs()[cmd.fullName]
	var fields []kv
	for _, f := range []kv{{"summary", cmp.Or(cmd.Summary, doc.Summary)}, {"since", cmp.Or(cmd.Since, doc.Since)}, {"group", cmp.Or(cmd.Group, doc.Group, parentGroup, "generic")}, {"complexity", doc.Complexity}} {
		if f.v != "" {
			fields = append(fields, f)
		}
	}
	subs := make([]*Command, 0, len(cmd.Subcommands))
	for i := range cmd.Subcommands {
		if !cmd.Subcommands[i].hidden {
			subs = append(subs, &cmd.Subcommands[i])
		}
	}
	n := len(fields) + docExtras(doc)
	if len(doc.Arguments) > 0 {
		n++
	}
	if len(subs) > 0 {
		n++
	}
	c.WriteMap(n)
	for _, f := range fields {
		c.WriteBulkString(f.k)
		c.WriteBulkString(f.v)
	}
	writeDocExtras(c, doc)
	if len(doc.Arguments) > 0 {
		c.WriteBulkString("arguments")
		writeArgDocs(c, doc.Arguments)
	}
	if len(subs) > 0 {
		c.WriteBulkString("subcommands")
		c.WriteMap(len(subs))
		for _, sc := range subs {
			c.WriteBulkString(sc.fullName)
			writeCommandDocs(c, sc, cmp.Or(cmd.Group, doc.Group))
		}
	}
}

func cmdCommandList(c *Conn, args [][]byte) {
	if len(args) > 2 {
		c.WriteError(msgSyntax)
		return
	}
	cmds := c.srv.Commands()
	c.WriteArray(len(cmds))
	for _, cmd := range cmds {
		c.WriteBulkString(cmd.Name)
	}
}

func cmdCommandGetKeys(c *Conn, args [][]byte) {
	argv := args[2:]
	cmd := lookup(c.srv.cmds, argv[0])
	if cmd != nil && cmd.hidden {
		cmd = nil
	}
	if cmd != nil && cmd.subs != nil && len(argv) > 1 {
		cmd = lookup(cmd.subs, argv[1])
	}
	switch n := len(argv); {
	case cmd == nil || cmd.hidden:
		c.WriteError("ERR Invalid command specified")
		return
	case cmd.Arity > 0 && n != cmd.Arity || n < -cmd.Arity:
		c.WriteError("ERR Invalid number of arguments specified for command")
		return
	}
	keys := commandKeys(cmd, argv)
	if len(keys) == 0 {
		c.WriteError("ERR The command has no key arguments")
		return
	}
	c.WriteArray(len(keys))
	for _, k := range keys {
		c.WriteBulk(k)
	}
}

// commandKeys returns the key arguments of argv, a call of cmd.
func commandKeys(cmd *Command, argv [][]byte) [][]byte {
	var keys [][]byte
	for _, i := range keyPositions(cmd, argv) {
		keys = append(keys, argv[i])
	}
	return keys
}

func cmdCommandHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"(no subcommand)",
		"    Return details about all commands.",
		"COUNT",
		"    Return the total number of commands in this server.",
		"LIST",
		"    Return a list of all commands in this server.",
		"INFO [<command-name> ...]",
		"    Return details about multiple commands.",
		"    If no command names are given, documentation details for all",
		"    commands are returned.",
		"DOCS [<command-name> ...]",
		"    Return documentation details about multiple commands.",
		"GETKEYS <full-command>",
		"    Return the keys from a full command.",
		"HELP",
		"    Print this help.",
	})
}

// INFO

func cmdInfo(c *Conn, args [][]byte) {
	want := map[string]bool{}
	all, dflt := false, len(args) == 1
	for _, a := range args[1:] {
		switch n := strings.ToLower(string(a)); n {
		case "all", "everything":
			all = true
		case "default":
			dflt = true
		default:
			want[n] = true
		}
	}
	c.WriteVerbatim(c.srv.infoString(func(name string, isDefault bool) bool {
		return all || dflt && isDefault || want[name]
	}, c.keyRanges()))
}

// infoString renders the INFO sections include selects, in Redis's format
// and order; INFO keyspace counts the keys of the slots of ranges.
func (s *Server) infoString(include func(name string, isDefault bool) bool, ranges []slotRange) string {
	var b strings.Builder
	section := func(title string, fields []InfoField) {
		if b.Len() > 0 {
			b.WriteString("\r\n")
		}
		b.WriteString("# " + title + "\r\n")
		for _, f := range fields {
			b.WriteString(f.Name + ":" + f.Value + "\r\n")
		}
	}
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	if include("server", true) {
		now := time.Now()
		up := int64(now.Sub(s.started) / time.Second)
		port := s.portString(false) // Redis's port: 0 with plaintext off
		section("Server", []InfoField{
			{"redis_version", s.cfg.Version},
			{"redis_git_sha1", "00000000"},
			{"redis_git_dirty", "0"},
			{"redis_mode", s.cfg.Mode},
			{"os", runtime.GOOS + " " + runtime.GOARCH},
			{"arch_bits", strconv.Itoa(strconv.IntSize)},
			{"multiplexing_api", "go"},
			{"go_version", runtime.Version()},
			{"process_id", strconv.Itoa(pid)},
			{"run_id", s.runID},
			{"tcp_port", port},
			{"server_time_usec", itoa(now.UnixMicro())},
			{"uptime_in_seconds", itoa(up)},
			{"uptime_in_days", itoa(up / 86400)},
		})
	}
	st := s.Stats()
	if include("clients", true) {
		section("Clients", []InfoField{
			{"connected_clients", strconv.Itoa(st.ConnectedClients)},
			{"maxclients", itoa(s.adm.maxClients.Load())},
			{"blocked_clients", strconv.Itoa(s.blockedClients())},
			{"dynakv_peer_connections", strconv.Itoa(st.PeerConnections)}, // other nodes', not in connected_clients
		})
	}
	if include("memory", true) {
		section("Memory", s.memoryFields())
	}
	if include("persistence", true) {
		section("Persistence", s.persistenceFields())
	}
	if include("stats", true) {
		section("Stats", append(append(append([]InfoField{
			{"total_connections_received", itoa(st.TotalConnectionsReceived)},
			{"total_commands_processed", itoa(st.TotalCommandsProcessed)},
		}, s.rateFields(st)...), []InfoField{
			{"total_net_input_bytes", itoa(st.NetInputBytes)},
			{"total_net_output_bytes", itoa(st.NetOutputBytes)},
			{"rejected_connections", itoa(st.RejectedConnections)},
			{"keyspace_hits", itoa(st.KeyspaceHits)},
			{"keyspace_misses", itoa(st.KeyspaceMisses)},
			{"expired_keys", "0"},
			{"evicted_keys", "0"},
			{"total_error_replies", itoa(s.adm.stats.Load().errTot.Load())},
			// Other nodes' peer connections, kept out of the fields above.
			{"dynakv_peer_commands_processed", itoa(st.PeerCommandsProcessed)},
			{"dynakv_peer_net_input_bytes", itoa(st.PeerNetInputBytes)},
			{"dynakv_peer_net_output_bytes", itoa(st.PeerNetOutputBytes)},
		}...), pubsubFields(s)...))
	}
	// Redis's cpu, commandstats, errorstats and latencystats follow its
	// replication section (or stats, without one).
	statSections := func() {
		for _, sec := range []struct {
			name, title string
			dflt        bool
			fields      func() []InfoField
		}{
			{"cpu", "CPU", true, s.cpuFields},
			{"commandstats", "Commandstats", false, s.commandStatsFields},
			{"errorstats", "Errorstats", true, s.errorStatsFields},
			{"latencystats", "Latencystats", false, s.latencyStatsFields},
		} {
			if include(sec.name, sec.dflt) {
				section(sec.title, sec.fields())
			}
		}
	}
	if !slices.ContainsFunc(s.cfg.InfoSections, func(sec InfoSection) bool { return sec.Name == "replication" }) {
		statSections()
	}
	for _, sec := range s.cfg.InfoSections {
		if include(sec.Name, sec.Default) {
			section(strings.ToUpper(sec.Name[:1])+sec.Name[1:], sec.Fields())
		}
		if sec.Name == "replication" {
			statSections()
		}
	}
	// Redis's cluster section, unless InfoSections has its own: tools
	// (redis-cli --cluster) read cluster_enabled to tell a cluster node.
	if !slices.ContainsFunc(s.cfg.InfoSections, func(sec InfoSection) bool { return sec.Name == "cluster" }) && include("cluster", true) {
		enabled := "0"
		if s.cfg.Cluster != nil {
			enabled = "1"
		}
		section("Cluster", []InfoField{{"cluster_enabled", enabled}})
	}
	if include("keyspace", true) {
		fields, err := s.keyspaceInfo(ranges)
		if err != nil {
			s.log.Warn("resp: INFO keyspace", "error", err)
		}
		section("Keyspace", fields)
	}
	return b.String()
}
