package resp

import (
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/dynakv/dynakv/ring"
	"github.com/tidwall/match"
)

// Param is one CONFIG parameter: Redis's name (lower case), how to read
// its value as CONFIG GET shows it, and how to change it at run time
// (CONFIG SET); Set is nil for a parameter that only the command line
// sets, and returns an error whose text ends CONFIG SET's reply.
type Param struct {
	Name string
	Get  func() string
	Set  func(v string) error
}

// addParam adds p to the CONFIG table (New calls it; a parameter of the
// same name replaces the earlier one).
func (s *Server) addParam(p Param) {
	if s.params == nil {
		s.params = make(map[string]Param)
	}
	s.params[p.Name] = p
}

// registerParams adds the built-in parameters: what tools such as
// redis-benchmark ask for, with dynakv's real values.
func (s *Server) registerParams() {
	for _, p := range [][2]string{
		{"appendonly", "no"}, // durability is pebble's WAL, fsynced per write
		{"databases", strconv.Itoa(ring.Databases)},
		{"maxclients", strconv.Itoa(s.cfg.MaxClients)},
		{"proto-max-bulk-len", strconv.FormatInt(int64(s.cfg.MaxBulkLen), 10)},
		{"timeout", strconv.Itoa(int(s.cfg.IdleTimeout.Seconds()))},
		// dynakv has no server cron: Redis's default hz, reported as is
		// (it matches the replica sweeper's default 100 ms period).
		{"hz", "10"},
	} {
		v := p[1]
		s.addParam(Param{Name: p[0], Get: func() string { return v }})
	}
	// port and tls-port: the first plaintext and TLS listener's port
	// that is not the cluster-client one, 0 for none (Redis's port 0:
	// plaintext off); bind: the first listener's address (Redis's "*"
	// for a wildcard one); empty before Serve.
	s.addParam(Param{Name: "port", Get: func() string { return s.portString(false) }})
	s.addParam(Param{Name: "tls-port", Get: func() string { return s.portString(true) }})
	s.addParam(Param{Name: "bind", Get: func() string {
		if a, ok := s.Addr().(*net.TCPAddr); ok {
			if a.IP == nil || a.IP.IsUnspecified() {
				return "*"
			}
			return a.IP.String()
		}
		return ""
	}})
	// save is accepted and reported, and does nothing: dynakv has no
	// snapshots (every write is in pebble's WAL, fsynced, before it is
	// acknowledged), but test setups send CONFIG SET save "". Its value
	// is checked as Redis checks it: "" or pairs of seconds and changes.
	var save atomic.Pointer[string]
	save.Store(new(string))
	s.addParam(Param{Name: "save", Get: func() string { return *save.Load() }, Set: func(v string) error {
		f := strings.Fields(v)
		if len(f)%2 != 0 {
			return errBadSave
		}
		for _, x := range f {
			if n, err := strconv.ParseInt(x, 10, 64); err != nil || n < 0 {
				return errBadSave
			}
		}
		save.Store(&v)
		return nil
	}})
}

// errBadSave is CONFIG SET save's refusal of a malformed value.
var errBadSave = errors.New("Invalid save parameters")

// configParams returns every parameter's name and current value.
func (s *Server) configParams() [][2]string {
	out := make([][2]string, 0, len(s.params))
	for _, p := range s.params {
		out = append(out, [2]string{p.Name, p.Get()})
	}
	return out
}

func configCommand() Command {
	return Command{Name: "config", Arity: -2, Subcommands: []Command{
		{Name: "get", Arity: -3, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdConfigGet},
		{Name: "set", Arity: -4, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdConfigSet},
		{Name: "resetstat", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdConfigResetStat},
		{Name: "rewrite", Arity: 2, Flags: FlagAdmin | FlagLoading | FlagStale, Handler: cmdConfigRewrite},
		{Name: "help", Arity: 2, Flags: FlagLoading | FlagStale, Handler: cmdConfigHelp},
	}}
}

// cmdConfigGet: CONFIG GET pattern [pattern …] → map of matching
// parameters (Redis 7 takes several patterns).
func cmdConfigGet(c *Conn, args [][]byte) {
	var out [][2]string
	for _, p := range c.srv.configParams() {
		for _, pat := range args[2:] {
			if match.Match(p[0], strings.ToLower(string(pat))) {
				out = append(out, p)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b [2]string) int { return strings.Compare(a[0], b[0]) })
	c.WriteMap(len(out))
	for _, p := range out {
		c.WriteBulkString(p[0])
		c.WriteBulkString(p[1])
	}
}

// cmdConfigSet: CONFIG SET parameter value [parameter value …] — as
// Redis 7, all or nothing: every name must be known, settable and given
// once; the values are set in order and, if one is refused, those already
// set get their old values back.
func cmdConfigSet(c *Conn, args [][]byte) {
	if len(args)%2 != 0 {
		c.WriteError(msgSyntax)
		return
	}
	type change struct {
		p   Param
		old string
		v   string
	}
	var changes []change
	seen := map[string]bool{}
	// Unknown and duplicate names first, over every pair: a read-only
	// parameter given twice (hz) gets Redis's duplicate-parameter error,
	// as Redis, where it is settable, replies.
	for i := 2; i < len(args); i += 2 {
		name := strings.ToLower(string(args[i]))
		p, ok := c.srv.params[name]
		switch {
		case !ok:
			c.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + cstr(args[i], 128) + "'")
			return
		case seen[name]:
			c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - duplicate parameter")
			return
		}
		seen[name] = true
		changes = append(changes, change{p, p.Get(), string(args[i+1])})
	}
	for _, ch := range changes {
		if ch.p.Set == nil {
			c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + ch.p.Name + "') - dynakv is configured by command-line flags")
			return
		}
	}
	for i, ch := range changes {
		if err := ch.p.Set(ch.v); err != nil {
			for j := i - 1; j >= 0; j-- {
				_ = changes[j].p.Set(changes[j].old) // its own earlier value
			}
			c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + ch.p.Name + "') - " + err.Error())
			return
		}
	}
	c.WriteOK()
}

func cmdConfigResetStat(c *Conn, _ [][]byte) {
	c.srv.resetStats()
	c.WriteOK()
}

// cmdConfigRewrite: dynakv has no configuration file (its configuration
// is its command line), so there is nothing to rewrite; Redis replies the
// same when started without one.
func cmdConfigRewrite(c *Conn, _ [][]byte) {
	c.WriteError("ERR The server is running without a config file")
}

func cmdConfigHelp(c *Conn, _ [][]byte) {
	writeHelp(c, []string{
		"CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
		"GET <pattern>",
		"    Return parameters matching the glob-like <pattern> and their values.",
		"SET <directive> <value>",
		"    Set the configuration <directive> to <value>.",
		"RESETSTAT",
		"    Reset statistics reported by the INFO command.",
		"REWRITE",
		"    Rewrite the configuration file.",
		"HELP",
		"    Prints this help.",
	})
}
