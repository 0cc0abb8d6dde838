package resp

import (
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/match"
)

// configParams returns the read-only configuration CONFIG GET reports:
// what tools such as redis-benchmark ask for, with dynakv's real values.
// Settings are command-line flags; CONFIG SET changes nothing.
func (s *Server) configParams() [][2]string {
	return [][2]string{
		{"appendonly", "no"}, // durability is pebble's WAL, fsynced per write
		{"databases", "1"},
		{"maxclients", strconv.Itoa(s.cfg.MaxClients)},
		{"proto-max-bulk-len", strconv.FormatInt(int64(s.cfg.MaxBulkLen), 10)},
		{"save", ""},
		{"timeout", strconv.Itoa(int(s.cfg.IdleTimeout.Seconds()))},
	}
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

// cmdConfigSet refuses: dynakv is configured by its command-line flags.
func cmdConfigSet(c *Conn, args [][]byte) {
	name := strings.ToLower(string(args[2]))
	for _, p := range c.srv.configParams() {
		if p[0] == name {
			c.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - dynakv is configured by command-line flags")
			return
		}
	}
	c.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'")
}
