package resp

import (
	"slices"
	"strconv"
	"strings"

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
		{"save", ""},
		{"timeout", strconv.Itoa(int(s.cfg.IdleTimeout.Seconds()))},
	} {
		v := p[1]
		s.addParam(Param{Name: p[0], Get: func() string { return v }})
	}
}

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

// cmdConfigSet: CONFIG SET parameter value — a run-time parameter
// changes; one only the command line sets is refused.
func cmdConfigSet(c *Conn, args [][]byte) {
	name := strings.ToLower(string(args[2]))
	p, ok := c.srv.params[name]
	switch {
	case !ok:
		c.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
	case p.Set == nil:
		c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - dynakv is configured by command-line flags")
	default:
		if err := p.Set(string(args[3])); err != nil {
			c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + err.Error())
			return
		}
		c.WriteOK()
	}
}
