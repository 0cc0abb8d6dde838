package acl

import (
	"fmt"

	"github.com/dynakv/dynakv/pubsub"
)

// Reason is why a command was denied, as ACL LOG's "reason" names it.
type Reason string

// The reasons of a denial.
const (
	ReasonCommand Reason = "command"
	ReasonKey     Reason = "key"
	ReasonChannel Reason = "channel"
	ReasonAuth    Reason = "auth"
)

// Request is one call to check: the command, its first argument (for
// first-argument rules), its keys and its pub/sub channels.
type Request struct {
	Command  Command
	FirstArg []byte
	Keys     [][]byte
	Channels [][]byte
	// ChannelPatterns: Channels are PSUBSCRIBE's patterns, which must be
	// allowed literally (or by &*), not by glob.
	ChannelPatterns bool
}

// Denial is a refused request: the reason and the object refused (the
// command's full name, the key or the channel).
type Denial struct {
	Reason Reason
	Object string
}

// Reply returns Redis 7.0's error reply for the denial of a client's
// command: "NOPERM this user has no permissions to run the 'flushall'
// command", "… to access one of the keys used as arguments", "… to
// access one of the channels used as arguments".
func (d Denial) Reply() string {
	switch d.Reason {
	case ReasonKey:
		return "NOPERM this user has no permissions to access one of the keys used as arguments"
	case ReasonChannel:
		return "NOPERM this user has no permissions to access one of the channels used as arguments"
	}
	return fmt.Sprintf("NOPERM this user has no permissions to run the '%s' command", d.Object)
}

// DryRun returns ACL DRYRUN's text for the denial: "This user has no
// permissions to run the 'publish' command", "… to access the 'foo'
// key", "… to access the 'news' channel".
func (d Denial) DryRun() string {
	switch d.Reason {
	case ReasonKey:
		return fmt.Sprintf("This user has no permissions to access the '%s' key", d.Object)
	case ReasonChannel:
		return fmt.Sprintf("This user has no permissions to access the '%s' channel", d.Object)
	}
	return fmt.Sprintf("This user has no permissions to run the '%s' command", d.Object)
}

// Script returns the error a script's redis.call or redis.pcall gets for
// the denial, as Redis 7.0 words it.
func (d Denial) Script() string {
	switch d.Reason {
	case ReasonKey:
		return "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments"
	case ReasonChannel:
		return "ERR The user executing the script can't publish to the channel mentioned in the command"
	}
	return "ERR The user executing the script can't run this command or subcommand"
}

// Exec returns the error of a queued command that EXEC refuses because
// the user's rules changed since it was queued, as Redis 7.0 words it.
func (d Denial) Exec() string {
	const prefix = "NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: "
	switch d.Reason {
	case ReasonKey:
		return prefix + "no permission to touch the specified keys"
	case ReasonChannel:
		return prefix + "no permission to access one of the channels used as arguments"
	}
	return prefix + "no permission to execute the command or subcommand"
}

// Check decides req under r, in Redis's order: the command, then each
// key, then each channel. It returns the denial and false, or true.
func (r *Rules) Check(req Request) (Denial, bool) {
	if !r.commandAllowed(&req.Command, req.FirstArg) {
		return Denial{ReasonCommand, req.Command.Name}, false
	}
	if !r.AllKeys() {
		for _, k := range req.Keys {
			if !r.keyAllowed(k, req.Command.Access) {
				return Denial{ReasonKey, string(k)}, false
			}
		}
	}
	if !r.AllChannels() {
		for _, ch := range req.Channels {
			if !r.ChannelAllowed(ch, req.ChannelPatterns) {
				return Denial{ReasonChannel, string(ch)}, false
			}
		}
	}
	return Denial{}, true
}

// commandAllowed applies the last command rule covering cmd, else the
// base: from the table Apply made, unless a first-argument rule may
// apply.
func (r *Rules) commandAllowed(cmd *Command, firstArg []byte) bool {
	if cmd.NoAuth {
		return true
	}
	if a, ok := r.allowed[cmd.Name]; ok && (a || !r.firstArg) {
		return a
	}
	return r.scan(cmd, firstArg)
}

// scan is commandAllowed without the table.
func (r *Rules) scan(cmd *Command, firstArg []byte) bool {
	for i := len(r.cmds) - 1; i >= 0; i-- {
		if r.cmds[i].covers(cmd, firstArg) {
			return r.cmds[i].allow
		}
	}
	return r.allCommands
}

// keyAllowed reports whether a pattern granting need (at least) matches key.
func (r *Rules) keyAllowed(key []byte, need Access) bool {
	for _, p := range r.keys {
		if p.access&need == need && pubsub.Match([]byte(p.glob), key) {
			return true
		}
	}
	return false
}

// ChannelAllowed reports whether r allows the channel ch (a PSUBSCRIBE
// pattern, compared literally, when literal).
func (r *Rules) ChannelAllowed(ch []byte, literal bool) bool {
	for _, p := range r.channels {
		if p == "*" || literal && p == string(ch) || !literal && pubsub.Match([]byte(p), ch) {
			return true
		}
	}
	return false
}
