package resp

import "strings"

// Streams are not part of dynakv's data model (issue 14 leaves them out):
// every X* command, and every XGROUP and XINFO subcommand, exists with
// Redis 7.0's COMMAND metadata, so clients and COMMAND see them, and
// answers one error naming the missing type, after the dispatcher's usual
// checks (arity, authentication).

// msgNoStreams is the refusal's format: the command as the client names
// it, upper case ("XADD", "XGROUP CREATE").
const msgNoStreams = "ERR streams are not supported by dynakv (%s)"

// cmdNoStreams refuses a stream command.
func cmdNoStreams(c *Conn, args [][]byte) {
	name := strings.ToUpper(string(args[0]))
	if sub := strings.ToLower(name); (sub == "xgroup" || sub == "xinfo") && len(args) > 1 {
		name += " " + strings.ToUpper(string(args[1]))
	}
	c.WriteError(strings.Replace(msgNoStreams, "%s", name, 1))
}

// streamKeys is XREAD's and XREADGROUP's key positions: the first half of
// the arguments after STREAMS (none if the call is malformed).
func streamKeys(args [][]byte) []int {
	for i := 1; i < len(args); i++ {
		if !equalFold(args[i], "streams") {
			continue
		}
		rest := len(args) - i - 1
		if rest == 0 || rest%2 != 0 {
			return nil
		}
		pos := make([]int, rest/2)
		for k := range pos {
			pos[k] = i + 1 + k
		}
		return pos
	}
	return nil
}
